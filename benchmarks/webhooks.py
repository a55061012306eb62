"""Benchmark: webhooks over real HTTP on loopback into `wegwijs serve`, on SQLite.

    python -m benchmarks.webhooks [--rate 300] [--seconds 10] [--parents 200]

`wegwijs serve` runs as its own process, configured for Telegram (webhook mode, with
its secret) and WhatsApp (Twilio signatures over the public URL); fake Bot API and
Twilio servers on 127.0.0.1 take its replies, so the sender works as in production.
Simulated parents, half on each channel, send their conversations as Telegram updates
and signed Twilio posts, paced to `--rate` webhooks a second in all (an open loop, so
a slow answer cannot slow the arrivals down). Then the same parents go on as fast as
`--concurrency` connections allow, for the ceiling.

Reports webhooks answered per second, p50/p99/max answer latency (sent to 200 back),
how long the dispatcher took to handle everything stored after the last webhook,
and the server's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from tests.fakes.harness import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SECRET, SENDER, TOKEN
from tests.fakes.server import LocalServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ["hello", "1", "1", "1", "1", "menu", "1", "1", "more", "menu", "back",
          "what is a klassenraad?", "language", "2", "menu", "stop", "start"]


Request = tuple[str, bytes, dict[str, str]]  # path, body, headers


class Parents:
    """Each parent's next webhook: a Telegram update or a signed Twilio post."""

    def __init__(self, parents: int, twilio: FakeTwilio) -> None:
        self.parents = parents
        self.twilio = twilio
        self.sids = count(1)
        self.update_ids = count(1)

    def requests(self) -> Iterator[Request]:
        """Round-robin over the parents, each going through the script in order, forever."""
        for turn in count():
            text = SCRIPT[turn % len(SCRIPT)]
            for parent in range(self.parents):
                yield self._telegram(parent, text) if parent % 2 else \
                    self._whatsapp(parent, text)

    def _telegram(self, parent: int, text: str) -> Request:
        chat = 4_000_000 + parent
        update = {"update_id": next(self.update_ids), "message": {
            "message_id": 1, "date": int(time.time()), "text": text,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "P", "language_code": "en"}}}
        return "/webhooks/telegram", json.dumps(update).encode(), {
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}

    def _whatsapp(self, parent: int, text: str) -> Request:
        sender = f"whatsapp:+3249{parent:07d}"
        form = {"MessageSid": f"SM{next(self.sids):032x}", "AccountSid": ACCOUNT_SID,
                "From": sender, "To": SENDER, "Body": text, "NumMedia": "0"}
        signature = self.twilio.sign(f"{PUBLIC_URL}/webhooks/twilio", form)
        return "/webhooks/twilio", urlencode(form).encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature}


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


async def post(http: aiohttp.ClientSession, base: str, request: Request,
               latencies: list[float], errors: list[int]) -> None:
    path, body, headers = request
    started = time.perf_counter()
    try:
        async with http.post(base + path, data=body, headers=headers) as response:
            await response.read()
            status = response.status
    except aiohttp.ClientError:
        status = 0
    latencies.append(time.perf_counter() - started)
    if status != 200:
        errors.append(status)


async def paced(http: aiohttp.ClientSession, base: str, requests: Iterator[Request],
                rate: float, seconds: float) -> tuple[int, float, list[float], list[int]]:
    """Send at `rate` a second for `seconds`; return (sent, elapsed, latencies, errors)."""
    latencies: list[float] = []
    errors: list[int] = []
    tasks = []
    total = int(rate * seconds)
    started = time.perf_counter()
    for number in range(total):
        delay = started + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(http, base, next(requests), latencies, errors)))
    await asyncio.gather(*tasks)
    return total, time.perf_counter() - started, latencies, errors


async def flat_out(http: aiohttp.ClientSession, base: str, requests: Iterator[Request],
                   concurrency: int, seconds: float) -> tuple[int, float, list[float]]:
    """Send as fast as `concurrency` connections allow for `seconds`."""
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        while time.perf_counter() < deadline:
            await post(http, base, next(requests), latencies, errors)

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return len(latencies), time.perf_counter() - started, latencies


def unhandled(database: Path) -> int:
    """Stored inbound messages the dispatcher has not handled yet."""
    with sqlite3.connect(database, timeout=30) as connection:
        row = connection.execute("SELECT count(*) FROM message_log WHERE direction = 'in' "
                                 "AND status = 'received'").fetchone()
    return int(row[0])


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory in MB (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def run(args: argparse.Namespace, folder: Path) -> dict[str, object]:
    gc.freeze()  # the client's own full collections would show up as server latency
    telegram, twilio = FakeTelegram(TOKEN), FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    async with LocalServer(telegram.app) as telegram_api, LocalServer(twilio.app) as twilio_api:
        port = args.port
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("TELEGRAM_", "TWILIO_", "PUBLIC_", "DATABASE_"))}
        env.update(WEGWIJS_DATA_DIR=str(folder), PORT=str(port), WEGWIJS_LOG_LEVEL="WARNING",
                   TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=telegram_api.url,
                   TELEGRAM_WEBHOOK_SECRET=SECRET, PUBLIC_BASE_URL=PUBLIC_URL,
                   TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                   TWILIO_WHATSAPP_FROM=SENDER, TWILIO_API_BASE_URL=twilio_api.url)
        server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
                while True:
                    try:
                        async with http.get(base + "/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.2)
                    if server.poll() is not None:
                        raise SystemExit("wegwijs serve did not start")
                requests = Parents(args.parents, twilio).requests()
                sent, elapsed, latencies, errors = await paced(http, base, requests, args.rate,
                                                               args.seconds)
                finished = time.perf_counter()
                while unhandled(folder / "wegwijs.db"):
                    await asyncio.sleep(0.05)
                drain = time.perf_counter() - finished
                ceiling, ceiling_elapsed, ceiling_latencies = await flat_out(
                    http, base, requests, args.concurrency, args.seconds / 2)
            memory = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "database": "SQLite",
        "cpus": os.cpu_count(),
        "parents": args.parents,
        "target_rate": args.rate,
        "webhooks": sent,
        "errors": len(errors),
        "webhooks_per_second": round(sent / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "handled_all_within_s_after_last": round(drain, 2),
        "ceiling_webhooks_per_second": round(ceiling / ceiling_elapsed, 1),
        "ceiling_p99_ms": round(percentile(ceiling_latencies, 0.99), 2),
        "replies_sent_to_fakes": len(telegram.sent) + len(twilio.messages),
        "server_peak_rss_mb": round(memory, 1),
    }


def main() -> None:
    """Run the benchmark and print one JSON line of results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="webhooks a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--parents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32,
                        help="connections for the flat-out phase")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(asyncio.run(run(args, Path(folder)))))


if __name__ == "__main__":
    main()
