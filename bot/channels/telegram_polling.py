"""Polling mode: getUpdates in a loop, for when Telegram cannot reach us (no public URL).

Updates are stored before the next getUpdates call confirms them to Telegram (the
offset), so a crash between the two makes Telegram deliver them again, and the repeat
is recognised by its update id. Only one process may poll a bot (Telegram answers a
second one with 409 Conflict): `wegwijs serve` polls, `wegwijs worker` does not.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram.error import Conflict, RetryAfter, TimedOut

from bot.channels.telegram import ALLOWED_UPDATES
from bot.channels.telegram_inbound import Stored, TelegramInbox

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25
MAX_BACKOFF_SECONDS = 60.0


class TelegramPoller:
    """Fetches updates and hands them to the inbox until cancelled."""

    def __init__(self, inbox: TelegramInbox, *, long_poll: int = LONG_POLL_SECONDS) -> None:
        self.inbox = inbox
        self.long_poll = long_poll
        self.offset: int | None = None

    async def run(self) -> None:
        """Poll forever; cancel the task to stop."""
        log.info("telegram: polling for updates")
        failures = 0
        while True:
            try:
                await self.poll_once()
                failures = 0
            except RetryAfter as exc:
                wait = exc.retry_after
                await asyncio.sleep(wait.total_seconds() if isinstance(wait, timedelta)
                                    else float(wait))
            except TimedOut:
                continue  # a long poll that the network cut short: just ask again
            except Exception as exc:  # a hiccup (network, database) must not stop polling
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, 2.0 ** failures)
                hint = " (another process polls, or a webhook is set)" if isinstance(
                    exc, Conflict) else ""
                log.warning("telegram: getUpdates failed (%s)%s; retrying in %.0f s",
                            type(exc).__name__, hint, delay)
                await asyncio.sleep(delay)

    async def poll_once(self) -> int:
        """One getUpdates call: store each update in order, then finish them together.

        Returns how many updates arrived. A storage error propagates before the offset
        moves on, so Telegram keeps the update for the next call; one that fails while
        finishing is already stored, and the recover job handles it.
        """
        bot = self.inbox.channel.bot
        updates = await bot.get_updates(offset=self.offset, timeout=self.long_poll,
                                        read_timeout=self.long_poll + 10,
                                        allowed_updates=ALLOWED_UPDATES)
        work: list[Stored] = []
        for update in updates:  # in order: one parent's messages must be stored in order
            stored = await self.inbox.store(update)
            if stored is not None:
                work.append(stored)
            self.offset = update.update_id + 1
        await asyncio.gather(*(self.inbox.finish(item) for item in work))
        return len(updates)
