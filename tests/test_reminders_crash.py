"""A worker killed with SIGKILL in the middle of a fan-out of one meeting's reminders to
1,000 parents, then restarted: `wegwijs worker` runs in its own process against fake
providers on 127.0.0.1, and the count is taken at the provider. On SQLite and PostgreSQL.

- WhatsApp: killed mid-send (sends held, never accepted), then killed again between
  "Twilio accepted" and "marked sent": each parent gets exactly one reminder (the
  restarted sender asks Twilio about sends in doubt before sending again).
- Telegram: killed mid-send. Telegram cannot be asked about a send in doubt, so those
  reminders are not sent again but recorded as unconfirmed, with the reason: no parent
  gets two, and none is lost without a trace.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.channels.telegram import CANNOT_TELL
from bot.reminders.planning import plan_meeting
from bot.storage.database import Database
from bot.storage.school_tables import Reminder
from bot.storage.tables import OutboxMessage

from .fakes.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CHAT_ID,
    PUBLIC_URL,
    SENDER,
    TOKEN,
    forbidden_in,
)
from .fakes.server import eventually, served
from .fakes.telegram_api import FakeTelegram
from .fakes.twilio_api import FakeTwilio
from .fakes.workers import start_worker, stop
from .reminders_support import add_meeting, add_parents, add_school, invite

PARENTS = 1000


def fan_out(db: Database, channel: str, first: int) -> None:
    """A meeting in two days whose reminder is due now, for PARENTS parents."""
    now = datetime.now(UTC)
    with db.session() as session, session.begin():
        school = add_school(session, now, offsets=(60 * 1440,), quiet=("00:00", "00:00"))
        meeting = add_meeting(session, school, now + timedelta(days=2), followup=False)
        parents = add_parents(session, PARENTS, now, channel=channel, first=first,
                              last_inbound_at=now - timedelta(hours=1))
        invite(session, meeting, parents, now)
        assert plan_meeting(session, meeting, now) == PARENTS


def outbox_states(db: Database) -> Counter[str]:
    with db.session() as session:
        return Counter(session.exec(select(OutboxMessage.status)))


def reminder_states(db: Database) -> Counter[str]:
    with db.session() as session:
        return Counter(session.exec(select(Reminder.status)))


def check_log(log: Path) -> None:
    output = log.read_text(encoding="utf-8", errors="replace")
    assert "worker started" in output
    assert "reminders: sent=" in output
    assert forbidden_in(output) == [], output
    assert "Reminder from" not in output


async def kill_while_held(worker: subprocess.Popen[bytes], fake: FakeTelegram | FakeTwilio,
                          accepted: int) -> None:
    """SIGKILL the worker once `accepted` sends went through and later ones are held."""
    try:
        await eventually(lambda: fake.holding >= 1 and accepted_count(fake) >= accepted,
                         timeout=120, what="the worker to be mid fan-out")
    finally:
        stop(worker, kill=True)
    await asyncio.sleep(0.5)  # the dropped connections are seen
    fake.release()
    await eventually(lambda: fake.holding == 0, what="the held requests")


def accepted_count(fake: FakeTelegram | FakeTwilio) -> int:
    return len(fake.messages) if isinstance(fake, FakeTwilio) else len(fake.sent)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with served(FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)) as fake:
        yield fake


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with served(FakeTelegram(TOKEN)) as fake:
        yield fake


async def test_whatsapp_each_parent_gets_exactly_one_reminder_through_two_kills(
        db: Database, database_url: str, twilio: FakeTwilio, tmp_path: Path) -> None:
    fan_out(db, "whatsapp", first=123000)
    provider = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_WHATSAPP_FROM": SENDER, "TWILIO_API_BASE_URL": twilio.url,
                "PUBLIC_BASE_URL": PUBLIC_URL, "TWILIO_RATE_PER_SECOND": "100"}
    log = tmp_path / "worker.log"

    twilio.hold_after(300)  # mid fan-out: later sends hang, never accepted
    await kill_while_held(start_worker(database_url, tmp_path, log, **provider), twilio, 300)
    assert len(twilio.messages) == 300
    assert reminder_states(db) == Counter(sent=PARENTS)  # all were handed to the outbox

    twilio.hold_after(600, accept=True)  # Twilio accepts, its answers are held back
    await kill_while_held(start_worker(database_url, tmp_path, log, **provider), twilio, 600)
    in_doubt = len(twilio.messages) - 600
    assert in_doubt >= 1

    worker = start_worker(database_url, tmp_path, log, **provider)
    try:
        await eventually(lambda: outbox_states(db) == Counter(sent=PARENTS), timeout=120,
                         what="the restarted worker to finish the fan-out")
    finally:
        stop(worker)
    per_parent = Counter(message["To"] for message in twilio.messages)
    assert len(per_parent) == PARENTS
    assert set(per_parent.values()) == {1}  # each parent exactly once
    assert all(message["Body"].startswith("Reminder from") for message in twilio.messages)
    check_log(log)


async def test_telegram_no_parent_gets_two_and_none_is_lost_without_a_trace(
        db: Database, database_url: str, telegram: FakeTelegram, tmp_path: Path) -> None:
    fan_out(db, "telegram", first=CHAT_ID)
    provider = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": telegram.url}
    log = tmp_path / "worker.log"
    telegram.hold_after(300)
    await kill_while_held(start_worker(database_url, tmp_path, log, **provider), telegram, 300)
    assert len(telegram.sent) == 300

    worker = start_worker(database_url, tmp_path, log, **provider)
    try:
        await eventually(lambda: sum(outbox_states(db).values()) == PARENTS and
                         set(outbox_states(db)) <= {"sent", "unconfirmed"}, timeout=120,
                         what="the restarted worker to finish the fan-out")
    finally:
        stop(worker)
    per_parent = Counter(str(message["chat_id"]) for message in telegram.sent)
    assert set(per_parent.values()) == {1}  # never twice
    with db.session() as session:
        rows = session.exec(select(OutboxMessage)).all()
    sent = {row.address for row in rows if row.status == "sent"}
    unconfirmed = [row for row in rows if row.status == "unconfirmed"]
    assert len(sent) + len(unconfirmed) == PARENTS
    assert sent <= set(per_parent)  # every row marked sent did arrive
    # The sends in flight at the kill may or may not have arrived (the provider may take
    # a request whose sender is gone): recorded as unconfirmed, with the reason.
    assert {row.error for row in unconfirmed} <= {CANNOT_TELL}
    assert set(per_parent) - sent <= {row.address for row in unconfirmed}
    check_log(log)
