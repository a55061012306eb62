"""The sender: delivers outbox rows through their channels, within each channel's limits.

Errors are logged by type, never with their message: database and library errors can
quote addresses or message text.

Rows are claimed before they are sent: status `claimed`, a claim token, and a lease
(`available_at` = claim time + lease). Several senders can run at once: PostgreSQL
hands each row to one of them (`FOR UPDATE SKIP LOCKED`); SQLite serialises claims
with `BEGIN IMMEDIATE`. A chat's rows go out in order, one at a time; live replies go
before bulk sends.

Right before calling the provider the sender commits status `sending` (and `sent_at`,
when the attempt began). So when a sender dies (killed, machine lost), its rows tell
what happened once their lease ends:

- still `claimed`: never handed to the provider; due again, sent normally;
- still `sending`: in doubt, the provider may have taken the message. The sender that
  claims it next asks the channel (`find_sent`) before anything else:
  - Twilio keeps a list of sent messages: found there, the row is marked sent with
    Twilio's id; not found, it is sent again. Exactly once, for every kind of message.
  - Telegram cannot be asked. A bulk row (any kind but `reply`: reminders, school
    messages) is not sent again: it is recorded `unconfirmed`, with the reason, for
    the operator to see. A `reply` is sent again: in a conversation a lost answer is
    worse than a double one, so replies stay at least once.

Guarantee: every row ends sent, or failed, cancelled or unconfirmed with its reason;
none is dropped silently. A sender's death never sends a bulk row twice, nor a
WhatsApp reply; a Telegram reply it interrupted is sent again. Separately, a send that
times out or loses its connection may have reached the provider: it is retried, so
such a message can arrive twice (a repeat rather than a loss).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.base import LOCAL_CHANNELS, CannotTell, Channel, SendError
from bot.services.dispatcher import utc_now
from bot.storage import contacts, outbox
from bot.storage.database import Database
from bot.storage.outbox import REPLY, Claimed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for retryable failures, and when to give up."""

    base_seconds: float = 5.0
    max_seconds: float = 900.0
    max_attempts: int = 10

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))


class Sender:
    """Claims due outbox rows and sends them; run `run()` as a task, cancel it to stop."""

    def __init__(self, db: Database, channels: Mapping[str, Channel], *,
                 clock: Callable[[], datetime] = utc_now,
                 lease: timedelta = timedelta(seconds=60), max_in_flight: int = 50,
                 idle_seconds: float = 0.5, claim_interval: float = 0.02,
                 max_wait_seconds: float = 5.0,
                 retry: RetryPolicy | None = None, stop_grace_seconds: float = 10.0) -> None:
        self.db = db
        self.channels = {name: channel for name, channel in channels.items()
                         if name not in LOCAL_CHANNELS}
        self.clock = clock
        self.lease = lease
        self.max_in_flight = max_in_flight
        self.idle_seconds = idle_seconds
        self.claim_interval = claim_interval
        # A row that would wait longer than this for its slot goes back to the table, so
        # no claim outlives its lease while waiting (e.g. during a long "retry after").
        self.max_wait_seconds = max_wait_seconds
        self.retry = retry or RetryPolicy()
        self.stop_grace_seconds = stop_grace_seconds
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """New rows may be due: look now instead of at the next idle tick."""
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled; on cancel, let sends in flight finish (for a while)."""
        log.info("sender started: channels=%s", ",".join(sorted(self.channels)) or "none")
        try:
            while True:
                self._wake.clear()
                try:
                    await self.claim_and_send()
                except Exception as exc:
                    log.error("sender: claiming rows failed (%s)", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
                # Every handled message and every finished send wakes the sender: gather
                # the wakes for a moment so that one claim serves many.
                await asyncio.sleep(self.claim_interval)
        finally:
            await self._finish_in_flight()

    async def drain(self) -> None:
        """Send everything due now, and what becomes due meanwhile; return when idle."""
        while True:
            started = await self.claim_and_send()
            if self._tasks:
                await asyncio.wait(self._tasks)
            elif not started:
                return

    async def claim_and_send(self) -> int:
        """Claim what is due (within free capacity) and start sending it."""
        free = self.max_in_flight - len(self._tasks)
        names = [name for name, channel in self.channels.items()
                 if channel.limiter.paused_for <= self.max_wait_seconds]
        if free <= 0 or not names:
            return 0
        token = uuid.uuid4().hex
        claimed = await self.db.run(self._claim, names, free, token)
        for row in claimed:
            task = asyncio.create_task(self._deliver_logged(row))
            self._tasks.add(task)
            task.add_done_callback(self._sent)
        return len(claimed)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()  # the chat's next row may be due now

    async def _finish_in_flight(self) -> None:
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=self.stop_grace_seconds)
        for task in pending:  # their rows are sent again when the lease ends
            task.cancel()

    # -- one row ---------------------------------------------------------------------

    async def _deliver_logged(self, row: Claimed) -> None:
        try:
            await self._deliver(row)
        except Exception as exc:  # e.g. the database is down: the lease brings it back
            log.error("sender: outbox row %d: %s", row.id, type(exc).__name__)

    async def _deliver(self, row: Claimed) -> None:
        channel = self.channels[row.channel]
        if row.in_doubt_since is not None and \
                await self._settled(channel, row, row.in_doubt_since):
            return
        wait = channel.limiter.delay(row.address)
        if wait > self.max_wait_seconds:
            await self.db.run(self._release, row, wait)
            return
        await channel.limiter.acquire(row.address)
        if not await self.db.run(self._start_attempt, row):
            log.warning("sender: outbox row %d: its claim ran out before sending", row.id)
            return
        try:
            provider_id = await channel.send(row.message, row.address, kind=row.kind,
                                             last_inbound_at=row.last_inbound_at)
        except SendError as error:
            await self._failed(channel, row, error)
            return
        except Exception as exc:
            # A bug, not the provider: keep the row and try again later.
            log.error("sender: unexpected error sending outbox row %d (%s)", row.id,
                      type(exc).__name__)
            await self._failed(channel, row, SendError(
                f"unexpected error ({type(exc).__name__})", retryable=True))
            return
        await self._record_sent(row, provider_id)

    async def _settled(self, channel: Channel, row: Claimed, since: datetime) -> bool:
        """A send of this row that began at `since` was interrupted: ask the provider
        whether the message arrived. Returns False if it should be sent (again)."""
        try:
            provider_id = await channel.find_sent(row.message, row.address, since=since)
        except CannotTell as unknown:
            reason = unknown.reason
        except SendError as error:
            if error.retryable and row.attempts + 1 < self.retry.max_attempts:
                await self._retry_later(channel, row, error, in_doubt=True)
                return True
            reason = f"the send was interrupted; asking the provider failed: {error.reason}"
        else:
            if provider_id is None:
                log.info("sender: outbox row %d had not reached the provider: sending it",
                         row.id)
                return False
            log.info("sender: outbox row %d had reached the provider: recorded as sent",
                     row.id)
            await self._record_sent(row, provider_id)
            return True
        if row.kind == REPLY:
            log.info("sender: outbox row %d is a reply: sending it again (%s)", row.id, reason)
            return False
        await self.db.run(self._unconfirmed, row, reason)
        log.warning("sender: outbox row %d is unconfirmed: %s", row.id, reason)
        return True

    async def _record_sent(self, row: Claimed, provider_id: str) -> None:
        # The message is out: not recording it leaves the row in doubt, so insist a bit.
        for attempt in range(3):
            try:
                if not await self.db.run(self._mark_sent, row, provider_id):
                    log.warning("sender: outbox row %d was sent after its claim ran out", row.id)
                return
            except Exception as exc:
                log.error("sender: recording outbox row %d as sent failed (%s)", row.id,
                          type(exc).__name__)
                await asyncio.sleep(0.5 * (attempt + 1))

    async def _failed(self, channel: Channel, row: Claimed, error: SendError) -> None:
        attempts = row.attempts + 1
        if error.opted_out:
            await self.db.run(self._opted_out, row, error.reason)
            log.info("sender: outbox row %d: the contact cannot be reached (%s); opted out",
                     row.id, error.reason)
        elif error.retryable and attempts < self.retry.max_attempts:
            await self._retry_later(channel, row, error, in_doubt=False)
        else:
            reason = error.reason if error.permanent else \
                f"gave up after {attempts} attempts: {error.reason}"
            await self.db.run(self._fail, row, reason, error.attempted)
            log.warning("sender: outbox row %d failed: %s", row.id, reason)

    async def _retry_later(self, channel: Channel, row: Claimed, error: SendError, *,
                           in_doubt: bool) -> None:
        if error.retry_after is not None:
            channel.limiter.pause(error.retry_after)
            delay = error.retry_after
        else:
            delay = self.retry.delay(row.attempts + 1)
        await self.db.run(self._retry, row, delay, error.reason, in_doubt)
        log.info("sender: outbox row %d will be tried again in %.1f s (%s)", row.id, delay,
                 error.reason)

    # -- database work (runs on a database thread) -------------------------------------

    def _claim(self, channels: list[str], limit: int, token: str) -> list[Claimed]:
        with self.db.session() as session, session.begin():
            return outbox.claim_due(session, channels, self.clock(), lease=self.lease,
                                    limit=limit, token=token)

    def _start_attempt(self, row: Claimed) -> bool:
        with self.db.session() as session, session.begin():
            return outbox.start_attempt(session, row, self.clock())

    def _mark_sent(self, row: Claimed, provider_id: str) -> bool:
        with self.db.session() as session, session.begin():
            return outbox.record_sent(session, row, provider_id, self.clock())

    def _release(self, row: Claimed, wait: float) -> None:
        with self.db.session() as session, session.begin():
            outbox.release(session, row, self.clock() + timedelta(seconds=wait))

    def _retry(self, row: Claimed, delay: float, reason: str, in_doubt: bool) -> None:
        with self.db.session() as session, session.begin():
            outbox.record_retry(session, row, self.clock() + timedelta(seconds=delay), reason,
                                in_doubt=in_doubt)

    def _fail(self, row: Claimed, reason: str, attempted: bool) -> None:
        with self.db.session() as session, session.begin():
            outbox.record_failed(session, row, reason, attempted=attempted)

    def _unconfirmed(self, row: Claimed, reason: str) -> None:
        with self.db.session() as session, session.begin():
            outbox.record_unconfirmed(session, row, reason)

    def _opted_out(self, row: Claimed, reason: str) -> None:
        with self.db.session() as session, session.begin():
            if outbox.record_failed(session, row, reason) and row.contact_id is not None:
                contacts.opt_out(session, row.contact_id, self.clock())
                outbox.cancel_pending(session, row.contact_id, reason)
