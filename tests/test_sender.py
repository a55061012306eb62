"""The outbox sender: claims, order, priority, rate limits, retries, failures, several
senders at once, and a worker killed mid-send, before or after the provider accepted
(Twilio is asked, Telegram cannot be); real clients against fakes on 127.0.0.1, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot.channels.limits import RateLimiter
from bot.channels.telegram import CANNOT_TELL, TelegramChannel
from bot.channels.whatsapp import PARTLY_SENT, WhatsAppChannel
from bot.messages import OutboundMessage
from bot.services.sender import RetryPolicy, Sender
from bot.storage import contacts, outbox
from bot.storage.database import Database
from bot.storage.tables import Contact, MessageLog, OutboxMessage

from .fakes.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CHAT_ID,
    PUBLIC_URL,
    SENDER,
    TOKEN,
    forbidden_in,
    scan_logs,  # noqa: F401 (a fixture)
)
from .fakes.server import eventually, served
from .fakes.telegram_api import FakeTelegram
from .fakes.twilio_api import FakeTwilio
from .fakes.workers import start_worker, stop

pytestmark = pytest.mark.usefixtures("scan_logs")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FAST = RetryPolicy(base_seconds=0.2, max_seconds=1.0, max_attempts=5)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with served(FakeTelegram(TOKEN)) as telegram:
        yield telegram


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    telegram = TelegramChannel(TOKEN, fake.url)
    await telegram.start()
    yield telegram
    await telegram.close()


def enqueue(db: Database, chat_id: int | str, *texts: str, kind: str = "reply",
            now: datetime | None = None, channel: str = "telegram") -> int:
    """Outbox rows for one chat (a contact is created for it; its last message is now)."""
    now = now or datetime.now(UTC)
    with db.session() as session, session.begin():
        contact_id = contacts.contact_id_for(session, channel, str(chat_id), now)
        contacts.update_contact(session, contact_id, {"last_inbound_at": now})
        outbox.enqueue(session, contact_id=contact_id, channel=channel, address=str(chat_id),
                       messages=[OutboundMessage(text) for text in texts], now=now, kind=kind)
    return contact_id


def rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def count_sent(db: Database) -> int:
    with db.session() as session:
        return int(session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "sent")).one())


def sender(db: Database, channel: TelegramChannel, **options: object) -> Sender:
    return Sender(db, {"telegram": channel}, idle_seconds=0.05, retry=FAST,
                  **options)  # type: ignore[arg-type]


async def run_until(db: Database, worker: Sender, sent: int, timeout: float = 20) -> None:
    task = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: count_sent(db) >= sent, timeout=timeout, what="sending")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# -- delivery, order, limits --------------------------------------------------------------

async def test_rows_are_sent_once_with_the_provider_id_and_a_log_row(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    enqueue(db, CHAT_ID, "Hello")
    await sender(db, channel).drain()
    (row,) = rows(db)
    assert (row.status, row.attempts, row.claim_token) == ("sent", 1, None)
    assert row.provider_id is not None
    assert row.provider_id.startswith("1@")
    with db.session() as session:
        logged = session.exec(select(MessageLog).where(MessageLog.direction == "out")).one()
    assert (logged.provider_id, logged.text) == (row.provider_id, "Hello")
    assert [m["text"] for m in fake.to(CHAT_ID)] == ["Hello"]


async def test_a_chats_messages_go_in_order_one_per_second(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    enqueue(db, CHAT_ID, "first", "second", "third")
    await sender(db, channel).drain()
    sent = fake.to(CHAT_ID)
    assert [m["text"] for m in sent] == ["first", "second", "third"]
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(sent)]
    assert all(gap >= 0.9 for gap in gaps), gaps  # 1 s apart, give or take the network


async def test_at_most_thirty_messages_a_second_overall(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    for n in range(45):
        enqueue(db, CHAT_ID + n, f"message {n}")
    await sender(db, channel).drain()
    times = sorted(m["at"] for m in fake.sent)
    assert len(times) == 45
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 31, busiest  # 30 a second, one more for timing at the edges
    assert times[-1] - times[0] >= 1.3


async def test_live_replies_go_before_bulk_sends(db: Database) -> None:
    for n in range(5):
        enqueue(db, CHAT_ID + n, f"reminder {n}", kind="reminder", now=T0)
    enqueue(db, CHAT_ID + 9, "reply", now=T0 + timedelta(seconds=1))
    with db.session() as session, session.begin():
        claimed = outbox.claim_due(session, ["telegram"], T0 + timedelta(seconds=2),
                                   lease=timedelta(seconds=60), limit=1, token="t" * 32)
    assert [row.message.text for row in claimed] == ["reply"]


async def test_a_chat_has_one_row_in_flight_and_claims_expire(db: Database) -> None:
    enqueue(db, CHAT_ID, "first", "second", now=T0)
    lease = timedelta(seconds=60)

    def claim(at: datetime, token: str) -> list[outbox.Claimed]:
        with db.session() as session, session.begin():
            return outbox.claim_due(session, ["telegram", "whatsapp"], at, lease=lease,
                                    limit=10, token=token)

    (first,) = claim(T0, "a" * 32)  # the second waits behind the first
    assert first.message.text == "first"
    assert claim(T0 + timedelta(seconds=30), "b" * 32) == []  # still held
    (again,) = claim(T0 + timedelta(seconds=61), "c" * 32)  # its sender died: taken again
    assert again.id == first.id
    with db.session() as session, session.begin():
        assert not outbox.record_sent(session, first, "1@x", T0)  # the old claim is void
        assert outbox.record_sent(session, again, "1@x", T0)
    (second,) = claim(T0 + timedelta(seconds=62), "d" * 32)
    assert second.message.text == "second"


async def test_local_channels_are_left_to_their_own_code(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    enqueue(db, CHAT_ID, "to telegram")
    enqueue(db, CHAT_ID + 1, "to the simulator", channel="web")
    await Sender(db, {"telegram": channel, "web": channel}, idle_seconds=0.05).drain()
    statuses = {row.channel: row.status for row in rows(db)}
    assert statuses == {"telegram": "sent", "web": "pending"}
    assert [m["text"] for m in fake.sent] == ["to telegram"]


# -- failures -----------------------------------------------------------------------------

async def test_429_pauses_sending_then_it_resumes_with_nothing_lost_or_doubled(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    texts = [f"message {n}" for n in range(5)]
    for n, text in enumerate(texts):
        enqueue(db, CHAT_ID + n, text)
    await run_until(db, sender(db, channel), len(texts))
    calls = fake.called("sendMessage")
    limited = next(call for call in calls if call.status == 429)
    assert limited.answered_at is not None
    # The limited message goes again only after retry_after. (How many other sends were
    # already on their way when the 429 came back depends on the machine's load, so it
    # is not asserted here; the pause itself is the rate limiter's job and test.)
    again = [c for c in calls if c.params["chat_id"] == limited.params["chat_id"]
             and c.at > limited.at]
    assert again
    assert again[0].at - limited.answered_at >= 0.95, again
    assert sorted(m["text"] for m in fake.sent) == texts
    assert sorted(row.attempts for row in rows(db)) == [1, 1, 1, 1, 2]


async def test_server_errors_are_retried_with_growing_waits(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    fake.fail("sendMessage", 500, "Internal Server Error", times=2)
    enqueue(db, CHAT_ID, "Hello")
    await run_until(db, sender(db, channel), 1)
    calls = fake.called("sendMessage")
    assert [call.status for call in calls] == [500, 500, 200]
    first_wait, second_wait = calls[1].at - calls[0].at, calls[2].at - calls[1].at
    assert first_wait >= 0.19
    assert second_wait >= 0.39
    (row,) = rows(db)
    assert (row.status, row.attempts) == ("sent", 3)


async def test_a_permanent_failure_is_recorded_with_its_reason(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    fake.fail("sendMessage", 400, "Bad Request: chat not found")
    enqueue(db, CHAT_ID, "Hello")
    await sender(db, channel).drain()
    (row,) = rows(db)
    assert (row.status, row.error, row.attempts) == (
        "failed", "telegram: bad request: Chat not found", 1)
    assert len(fake.called("sendMessage")) == 1


async def test_retries_end_after_the_last_attempt(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    fake.fail("sendMessage", 502, "Bad Gateway", times=10)
    enqueue(db, CHAT_ID, "Hello")
    worker = Sender(db, {"telegram": channel}, idle_seconds=0.05,
                    retry=RetryPolicy(base_seconds=0.05, max_attempts=3))
    task = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: rows(db)[0].status == "failed", what="giving up")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    (row,) = rows(db)
    assert row.error is not None
    assert row.error.startswith("gave up after 3 attempts: telegram:")
    assert len(fake.called("sendMessage")) == 3


async def test_a_blocked_bot_opts_the_parent_out_and_cancels_the_rest(
        db: Database, fake: FakeTelegram, channel: TelegramChannel) -> None:
    fake.blocked.add(CHAT_ID)
    contact_id = enqueue(db, CHAT_ID, "Hello", "And more")
    await sender(db, channel).drain()
    first, second = rows(db)
    assert (first.status, first.error) == ("failed",
                                           "telegram: Forbidden: bot was blocked by the user")
    assert second.status == "cancelled"
    with db.session() as session:
        contact = session.get(Contact, contact_id)
    assert contact is not None
    assert contact.opted_out_at is not None


# -- several senders, and a sender killed mid-send -------------------------------------------

async def test_two_senders_at_once_send_each_row_once(
        db: Database, database_url: str, fake: FakeTelegram) -> None:
    texts = [f"message {n}" for n in range(60)]
    for n, text in enumerate(texts):
        enqueue(db, CHAT_ID + n, text)
    other_db = Database(database_url)
    channels = [TelegramChannel(TOKEN, fake.url), TelegramChannel(TOKEN, fake.url)]
    try:
        for one in channels:
            await one.start()
        await asyncio.gather(Sender(db, {"telegram": channels[0]}).drain(),
                             Sender(other_db, {"telegram": channels[1]}).drain())
    finally:
        for one in channels:
            await one.close()
        other_db.close()
    assert Counter(m["text"] for m in fake.sent) == Counter(texts)
    assert {row.status for row in rows(db)} == {"sent"}


def telegram_worker(database_url: str, fake: FakeTelegram, tmp_path: Path, log: Path
                    ) -> subprocess.Popen[bytes]:
    return start_worker(database_url, tmp_path, log, TELEGRAM_BOT_TOKEN=TOKEN,
                        TELEGRAM_API_BASE_URL=fake.url)


def check_worker_log(log: Path, texts: list[str]) -> None:
    """The workers ran, and logged no address, id, secret or message text."""
    output = log.read_text(encoding="utf-8", errors="replace")
    assert "worker started" in output
    assert forbidden_in(output) == [], output
    assert [text for text in texts if text in output] == []


async def test_a_worker_killed_mid_send_then_restarted_delivers_each_row_exactly_once(
        db: Database, database_url: str, fake: FakeTelegram, tmp_path: Path) -> None:
    texts = [f"message {n}" for n in range(30)]
    for n, text in enumerate(texts):
        enqueue(db, CHAT_ID + n, text)
    fake.hold_after(10)  # the 11th send and later hang at the provider, not accepted
    log = tmp_path / "worker.log"
    worker = telegram_worker(database_url, fake, tmp_path, log)
    try:
        await eventually(lambda: fake.holding >= 1 and count_sent(db) == 10, timeout=60,
                         what="the worker to be mid-send")
        stop(worker, kill=True)
        # The provider sees the dropped connections and never takes those messages.
        await asyncio.sleep(0.5)
        fake.release()
        await eventually(lambda: fake.holding == 0, what="the held requests")
        assert len(fake.sent) == 10
        statuses = {row.status for row in rows(db)}
        assert "sending" in statuses  # the dead worker's sends in flight
        worker = telegram_worker(database_url, fake, tmp_path, log)
        await eventually(lambda: count_sent(db) == len(texts), timeout=60,
                         what="the restarted worker to send the rest")
    finally:
        stop(worker)
    assert Counter(m["text"] for m in fake.sent) == Counter(texts)  # each exactly once
    with db.session() as session:
        logged = session.exec(select(func.count()).select_from(MessageLog).where(
            MessageLog.direction == "out")).one()
    assert logged == len(texts)
    check_worker_log(log, texts)


# -- killed between "the provider accepted" and "marked sent" ------------------------------

async def kill_after_acceptance(worker: subprocess.Popen[bytes], fake: FakeTelegram | FakeTwilio,
                                held: int) -> None:
    """Kill the worker once `held` messages were accepted with their answers held back;
    then let the fake answer (nobody listens any more)."""
    try:
        await eventually(lambda: fake.holding == held, timeout=60,
                         what="the worker to wait for the provider's answers")
    finally:
        stop(worker, kill=True)
    fake.release()
    await eventually(lambda: fake.holding == 0, what="the held requests")


def unsent(db: Database) -> list[OutboxMessage]:
    return [row for row in rows(db) if row.status in outbox.UNSENT]


async def test_telegram_killed_after_acceptance_bulk_is_unconfirmed_replies_go_again(
        db: Database, database_url: str, fake: FakeTelegram, tmp_path: Path) -> None:
    replies = [f"answer {n}" for n in range(2)]
    bulk = [f"reminder {n}" for n in range(3)]
    for n, text in enumerate(replies + bulk):
        enqueue(db, CHAT_ID + n, text, kind="reply" if text in replies else "bulk")
    fake.hold_after(0, accept=True)  # Telegram takes every message; its answers wait
    log = tmp_path / "worker.log"
    await kill_after_acceptance(telegram_worker(database_url, fake, tmp_path, log), fake, 5)
    assert Counter(m["text"] for m in fake.sent) == Counter(replies + bulk)
    assert {row.status for row in rows(db)} == {"sending"}  # in doubt once the lease ends

    worker = telegram_worker(database_url, fake, tmp_path, log)
    try:
        await eventually(lambda: not unsent(db), timeout=60, what="the restart to settle all")
    finally:
        stop(worker)
    # Telegram cannot be asked: bulk messages are not sent again but recorded, with the
    # reason; replies are sent again (a lost answer is worse than a double one).
    assert Counter(m["text"] for m in fake.sent) == Counter(replies * 2 + bulk)
    outcome = {row.payload["text"]: (row.status, row.error) for row in rows(db)}
    assert outcome == {**dict.fromkeys(replies, ("sent", None)),
                       **dict.fromkeys(bulk, ("unconfirmed", CANNOT_TELL))}
    check_worker_log(log, replies + bulk)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with served(FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)) as fake:
        yield fake


def phone(n: int) -> str:
    return f"whatsapp:+32470123{n:03d}"  # "470123": the log scan looks for it


async def test_twilio_killed_after_acceptance_each_message_goes_once_with_twilios_id(
        db: Database, database_url: str, twilio: FakeTwilio, tmp_path: Path) -> None:
    texts = {"reply": "answer 0", "bulk": "reminder 0", "reminder": "reminder 1"}
    for n, (kind, text) in enumerate(texts.items()):
        enqueue(db, phone(n), text, kind=kind, channel="whatsapp")
    twilio.hold_after(0, accept=True)  # Twilio takes every message; its answers wait
    log = tmp_path / "worker.log"
    provider = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_WHATSAPP_FROM": SENDER, "TWILIO_API_BASE_URL": twilio.url,
                "PUBLIC_BASE_URL": PUBLIC_URL}
    await kill_after_acceptance(start_worker(database_url, tmp_path, log, **provider),
                                twilio, len(texts))

    worker = start_worker(database_url, tmp_path, log, **provider)
    try:
        await eventually(lambda: count_sent(db) == len(texts), timeout=60,
                         what="the restart to find the messages at Twilio")
    finally:
        stop(worker)
    assert Counter(m["Body"] for m in twilio.messages) == Counter(texts.values())  # once
    sids = {m["Body"]: m["sid"] for m in twilio.messages}
    assert {row.payload["text"]: row.provider_id for row in rows(db)} == sids
    assert len(twilio.listed()) == len(texts)  # one look-up each
    check_worker_log(log, list(texts.values()))


# -- interrupted sends, in one process ------------------------------------------------------

LATER = timedelta(minutes=5)  # past every lease


@pytest.fixture
async def whatsapp(twilio: FakeTwilio) -> AsyncIterator[WhatsAppChannel]:
    channel = WhatsAppChannel(ACCOUNT_SID, AUTH_TOKEN, SENDER, api_base_url=twilio.url)
    await channel.start()
    yield channel
    await channel.close()


async def die_mid_send(db: Database, channel: WhatsAppChannel, fake: FakeTwilio, *,
                       accepted: int, accept: bool, held: int) -> None:
    """A sender that stops dead while `held` sends wait for Twilio's answer (after
    `accepted` messages went normally): nothing more gets recorded."""
    fake.hold_after(accepted, accept=accept)
    task = asyncio.create_task(Sender(db, {"whatsapp": channel}, stop_grace_seconds=0).run())
    try:
        await eventually(lambda: fake.holding == held, what="sends to be held")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.2)  # the cancelled requests' connections close
    fake.release()
    await eventually(lambda: fake.holding == 0, what="the held requests")


def restarted(db: Database, channel: WhatsAppChannel) -> Sender:
    """A sender whose clock is past the dead sender's leases."""
    return Sender(db, {"whatsapp": channel}, idle_seconds=0.05, retry=FAST,
                  clock=lambda: datetime.now(UTC) + LATER)


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted", "never-accepted"])
async def test_an_interrupted_whatsapp_send_is_looked_up_before_sending_again(
        db: Database, twilio: FakeTwilio, whatsapp: WhatsAppChannel, accepted: bool) -> None:
    enqueue(db, phone(0), "reminder 0", kind="bulk", channel="whatsapp")
    enqueue(db, phone(1), "answer 0", channel="whatsapp")
    await die_mid_send(db, whatsapp, twilio, accepted=0, accept=accepted, held=2)
    assert len(twilio.messages) == (2 if accepted else 0)
    await restarted(db, whatsapp).drain()
    assert sorted(m["Body"] for m in twilio.messages) == ["answer 0", "reminder 0"]
    sids = {m["Body"]: m["sid"] for m in twilio.messages}
    assert {row.payload["text"]: (row.status, row.provider_id) for row in rows(db)} == {
        text: ("sent", sid) for text, sid in sids.items()}
    assert len(twilio.listed()) == 2


async def test_a_long_message_interrupted_between_its_parts_is_unconfirmed(
        db: Database, twilio: FakeTwilio, whatsapp: WhatsAppChannel) -> None:
    long_text = " ".join(f"Sentence {n}." for n in range(250))  # two parts
    enqueue(db, phone(0), long_text, kind="bulk", channel="whatsapp")
    await die_mid_send(db, whatsapp, twilio, accepted=1, accept=False, held=1)
    await restarted(db, whatsapp).drain()
    (row,) = rows(db)
    assert (row.status, row.error, row.attempts) == ("unconfirmed", PARTLY_SENT, 1)
    assert len(twilio.messages) == 1  # the first part, never repeated


async def test_a_failed_look_up_is_tried_again_and_the_row_stays_in_doubt(
        db: Database, twilio: FakeTwilio, whatsapp: WhatsAppChannel) -> None:
    enqueue(db, phone(0), "reminder 0", kind="bulk", channel="whatsapp")
    await die_mid_send(db, whatsapp, twilio, accepted=0, accept=True, held=1)
    twilio.fail(503, 20500)  # the first look-up
    await run_until(db, restarted(db, whatsapp), 1)
    (row,) = rows(db)
    assert (row.status, row.provider_id) == ("sent", twilio.messages[0]["sid"])
    assert row.error == "twilio: listing messages failed (HTTP 503)"
    assert len(twilio.listed()) == 2
    assert len(twilio.messages) == 1


async def test_only_a_send_that_began_leaves_its_row_in_doubt(db: Database) -> None:
    enqueue(db, CHAT_ID, "never sent", now=T0)
    enqueue(db, CHAT_ID + 1, "interrupted", now=T0)
    began, later = T0 + timedelta(seconds=1), T0 + timedelta(seconds=61)

    def claim(at: datetime, token: str) -> list[outbox.Claimed]:
        with db.session() as session, session.begin():
            return outbox.claim_due(session, ["telegram"], at, lease=timedelta(seconds=60),
                                    limit=10, token=token)

    _untried, interrupted = claim(T0, "a" * 32)
    with db.session() as session, session.begin():
        assert outbox.start_attempt(session, interrupted, began)
    assert claim(T0 + timedelta(seconds=30), "b" * 32) == []  # both still held
    # Both senders died: one never called Telegram, the other may have reached it.
    claimed = claim(later, "c" * 32)
    assert {row.message.text: row.in_doubt_since for row in claimed} == {
        "never sent": None, "interrupted": began}
    with db.session() as session, session.begin():  # given back untried (a rate limit)
        assert outbox.release(session, claimed[1], later)
    (again,) = claim(later, "d" * 32)
    assert (again.message.text, again.in_doubt_since) == ("interrupted", began)


def test_a_pause_holds_every_chat_of_the_channel() -> None:
    now = [100.0]
    limiter = RateLimiter(per_second=30, per_chat_seconds=1.0, clock=lambda: now[0])
    assert limiter.delay("a") == 0.0
    limiter.pause(2.0)
    assert limiter.delay("a") == limiter.delay("b") == 2.0
    limiter.pause(0.5)  # a shorter pause does not shorten the longer one
    now[0] += 1.5
    assert limiter.paused_for == 0.5
    assert limiter.delay("never seen") == 0.5
