"""Receiving Telegram updates, the same way for the webhook and for polling.

`store` is the durable step: the update is in the database under its update id before
Telegram is told it arrived (200 to the webhook, or the next getUpdates offset). A
repeat delivery of the same update stores nothing and is not handled again (only a
repeated button press is answered again). `finish` then
acknowledges a button press, runs the dispatcher and wakes the sender; if the process
dies first, the scheduler's recover job handles what was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import Update

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_updates import Press, from_update
from bot.services.dispatcher import Dispatcher


@dataclass(frozen=True)
class Stored:
    """What is left to do for a newly stored update (or an unknown button press)."""

    contact_id: int | None
    press: Press | None


class TelegramInbox:
    """Stores updates, then finishes them."""

    def __init__(self, channel: TelegramChannel, dispatcher: Dispatcher,
                 notify: Callable[[], None] = lambda: None) -> None:
        self.channel = channel
        self.dispatcher = dispatcher
        self.notify = notify

    async def store(self, update: Update) -> Stored | None:
        """Store the update's message; None when there is nothing more to do."""
        received = from_update(update, self.dispatcher.clock())
        if received is None:
            return None
        if received.message is None:  # a press on a button we do not know: answer it
            return Stored(None, received.press)
        handled = await self.dispatcher.db.run(self.dispatcher.store, received.message,
                                               urgent=True)
        if not handled.new:
            # Nothing to handle again; but Telegram repeats an update only when it got no
            # answer, so the press may never have been answered: answer it (again).
            return Stored(None, received.press) if received.press is not None else None
        return Stored(handled.contact_id, received.press)

    async def finish(self, stored: Stored) -> None:
        """Acknowledge the press, handle the contact's messages, wake the sender."""
        if stored.press is not None:
            await self.channel.acknowledge(stored.press)
        if stored.contact_id is not None:
            await self.dispatcher.db.run(self.dispatcher.process, stored.contact_id)
            self.notify()
