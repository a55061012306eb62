"""Benchmark: one meeting's reminders fanned out to 10,000 parents.

    python -m benchmarks.reminders [--parents 10000] [--channel telegram|whatsapp]
                                   [--twilio-rate 100] [--database-url URL]

1. Planning and enqueueing: `plan_meeting` writes the meeting's reminder rows (three
   offsets a parent, one due now), then `claim_due_reminders` renders the due ones in
   each parent's language and writes them to the outbox: the work a worker does when
   the reminder falls due. Target: under 5 s on SQLite.
2. Delivery: `wegwijs worker` (its own process, as in production) sends the outbox
   through the real channel client to a fake provider on 127.0.0.1 that, like the real
   one, answers 429 to a send beyond the channel's rate in any one second (Telegram
   30/s; WhatsApp the configured TWILIO_RATE_PER_SECOND; one more is allowed for
   network jitter). Reports the achieved rate against the configured one (target: at
   least 90%) and the 429s (target: none).

Prints a small table and one JSON line of results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import func, select
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from benchmarks.dispatch import scratch_database
from bot.channels.telegram import OVERALL_PER_SECOND
from bot.config import Settings
from bot.reminders.claiming import claim_due_reminders
from bot.reminders.planning import plan_meeting
from bot.runtime import Runtime, build_runtime
from bot.storage.tables import OutboxMessage
from tests.fakes.harness import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SECRET, SENDER, TOKEN
from tests.fakes.server import LocalServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.reminders_support import add_meeting, add_parents, add_school, invite

LANGUAGES = ("nl", "fr", "ar", "tr", "uk", "ru", "pl", "ro", "bg", "fa", "ps", "so", "en", "fi")


class RatePolice:
    """In front of a fake provider: a send beyond `per_second` (plus one, for network
    jitter) within any one second gets the provider's 429. Counts sends and refusals."""

    def __init__(self, app: ASGIApp, per_second: float, is_send: Callable[[Scope], bool],
                 refusal: JSONResponse) -> None:
        self.app, self.is_send, self.refusal = app, is_send, refusal
        self.limit = int(per_second) + 1
        self.window: deque[float] = deque()
        self.accepted: list[float] = []
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.is_send(scope):
            now = time.monotonic()
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.limit:
                self.refused += 1
                await self.refusal(scope, receive, send)
                return
            self.window.append(now)
            self.accepted.append(now)
        await self.app(scope, receive, send)


def telegram_police(fake: FakeTelegram) -> RatePolice:
    return RatePolice(
        fake.app, OVERALL_PER_SECOND,
        lambda scope: scope["method"] == "POST" and scope["path"].endswith("/sendMessage"),
        JSONResponse({"ok": False, "error_code": 429, "parameters": {"retry_after": 1},
                      "description": "Too Many Requests: retry after 1"}, status_code=429))


def twilio_police(fake: FakeTwilio, rate: float) -> RatePolice:
    return RatePolice(
        fake.app, rate,
        lambda scope: scope["method"] == "POST" and scope["path"].endswith("/Messages.json"),
        JSONResponse({"code": 20429, "message": "Too Many Requests", "status": 429},
                     status_code=429))


def set_up(runtime: Runtime, parents: int, channel: str) -> int:
    """A school, a meeting in three days (the 7-day reminder is due now) and its parents,
    in all shipped languages; returns the meeting id."""
    now = datetime.now(UTC)
    with runtime.db.session() as session, session.begin():
        school = add_school(session, now, quiet=("00:00", "00:00"))
        meeting = add_meeting(session, school, now + timedelta(days=3), followup=False,
                              note="Breng het rapport mee.")
        contacts: list[int] = []
        share = -(-parents // len(LANGUAGES))
        for index, language in enumerate(LANGUAGES):
            count = min(share, parents - len(contacts))
            contacts += add_parents(session, count, now, channel=channel, language=language,
                                    first=10_000_000 + index * share,
                                    last_inbound_at=now - timedelta(hours=1))
        invite(session, meeting, contacts, now)
    return meeting


def plan(runtime: Runtime, meeting: int) -> int:
    with runtime.db.session() as session, session.begin():
        return plan_meeting(session, meeting, datetime.now(UTC))


def sent_count(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return int(session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "sent")).one())


def start_worker(database_url: str, folder: str, env: dict[str, str]
                 ) -> subprocess.Popen[bytes]:
    """`wegwijs worker` on the benchmark's database, with the fake provider's settings."""
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith(("TELEGRAM_", "TWILIO_", "PUBLIC_", "DATABASE_", "WEGWIJS_"))}
    clean.update(env, DATABASE_URL=database_url, PUBLIC_BASE_URL=PUBLIC_URL,
                 WEGWIJS_DATA_DIR=folder, WEGWIJS_LOG_LEVEL="WARNING")
    with open(os.path.join(folder, "worker.log"), "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=clean,
                                stdout=log, stderr=subprocess.STDOUT)


async def run(database_url: str, folder: str, parents: int, channel: str, twilio_rate: float
              ) -> dict[str, Any]:
    fake: FakeTelegram | FakeTwilio
    if channel == "telegram":
        fake = FakeTelegram(TOKEN)
        police, configured = telegram_police(fake), OVERALL_PER_SECOND
    else:
        fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
        police, configured = twilio_police(fake, twilio_rate), twilio_rate
    async with LocalServer(police) as server:
        fake.url = server.url
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": server.url,
               "TELEGRAM_WEBHOOK_SECRET": SECRET} if channel == "telegram" else {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": SENDER, "TWILIO_API_BASE_URL": server.url,
            "TWILIO_RATE_PER_SECOND": str(twilio_rate)}
        runtime = build_runtime(Settings(PUBLIC_BASE_URL=PUBLIC_URL, **env),
                                database_url=database_url)
        try:
            started = time.perf_counter()
            meeting = await runtime.db.run(set_up, runtime, parents, channel)
            setup = time.perf_counter() - started

            started = time.perf_counter()
            planned = await runtime.db.run(plan, runtime, meeting)
            planned_at = time.perf_counter()
            outcomes = await claim_due_reminders(runtime)
            enqueued_at = time.perf_counter()

            # Delivery as in production: `wegwijs worker` in its own process (so the
            # fake's clock is not disturbed by the sender sharing its event loop).
            delivery_started = time.perf_counter()
            worker = start_worker(database_url, folder, env)
            try:
                while await runtime.db.run(sent_count, runtime) < outcomes["sent"]:
                    if worker.poll() is not None:
                        raise RuntimeError(f"the worker stopped; see {folder}/worker.log")
                    await asyncio.sleep(0.5)
                delivery = time.perf_counter() - delivery_started
            finally:
                worker.terminate()
                worker.wait(timeout=30)
        finally:
            runtime.close()
    accepted = police.accepted
    achieved = (len(accepted) - 1) / (accepted[-1] - accepted[0]) if len(accepted) > 1 else 0.0
    return {
        "database": "PostgreSQL" if database_url.startswith("postgresql") else "SQLite",
        "channel": channel, "parents": parents, "rows_planned": planned,
        "enqueued": outcomes["sent"], "setup_s": round(setup, 2),
        "plan_s": round(planned_at - started, 2),
        "enqueue_s": round(enqueued_at - planned_at, 2),
        "plan_and_enqueue_s": round(enqueued_at - started, 2),
        "delivered": len(accepted), "delivery_s": round(delivery, 1),
        "configured_rate": configured, "achieved_rate": round(achieved, 2),
        "achieved_share": round(achieved / configured, 3), "http_429": police.refused,
    }


def table(results: dict[str, Any]) -> str:
    """The figures that have targets, as a small table."""
    rows = [
        ("plan + enqueue", f"{results['plan_and_enqueue_s']} s "
         f"(plan {results['plan_s']} s, enqueue {results['enqueue_s']} s)", "< 5 s on SQLite"),
        ("delivery rate", f"{results['achieved_rate']}/s of {results['configured_rate']}/s "
         f"({results['achieved_share']:.0%})", ">= 90%"),
        ("HTTP 429", str(results["http_429"]), "0"),
    ]
    width = max(len(name) for name, _value, _target in rows)
    lines = [f"{results['parents']} parents, {results['channel']}, {results['database']}"]
    lines += [f"  {name:<{width}}  {value:<48} target {target}" for name, value, target in rows]
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark; print the table and one JSON line of results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parents", type=int, default=10_000)
    parser.add_argument("--channel", choices=("telegram", "whatsapp"), default="telegram")
    parser.add_argument("--twilio-rate", type=float, default=100.0,
                        help="TWILIO_RATE_PER_SECOND for --channel whatsapp")
    parser.add_argument("--database-url", default=None,
                        help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, \
            scratch_database(args.database_url, folder) as url:
        results = asyncio.run(run(url, folder, args.parents, args.channel, args.twilio_rate))
    print(table(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
