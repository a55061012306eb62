"""What every provider channel offers the sender, and how it reports a failed send."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.channels.limits import RateLimiter
from bot.messages import OutboundMessage

# Delivered by their own code as soon as the dispatcher writes them (see
# `bot.services.local_chat`); the sender never touches their rows.
LOCAL_CHANNELS = frozenset({"web", "console"})


class SendError(Exception):
    """A send that did not go through, and what the sender should do about it.

    - `retryable`: try again later (network trouble, 5xx, rate limits);
    - `retry_after`: the provider said how long to wait (seconds); pause the channel;
    - `opted_out`: the parent blocked the bot or unsubscribed: stop writing to them;
    - otherwise the failure is permanent and recorded with `reason`.

    `reason` goes into the outbox row and the log: it never holds an address or text.
    """

    def __init__(self, reason: str, *, retryable: bool = False, opted_out: bool = False,
                 retry_after: float | None = None, attempted: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable or retry_after is not None
        self.opted_out = opted_out
        self.retry_after = retry_after
        # False when the provider was never called (e.g. outside WhatsApp's window).
        self.attempted = attempted

    @property
    def permanent(self) -> bool:
        """Whether trying again cannot help."""
        return not self.retryable


class CannotTell(Exception):
    """The provider cannot say whether an interrupted send reached it; `reason` says why
    (for the outbox row and the log: never an address or text)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Channel(Protocol):
    """A provider channel as the sender sees it."""

    @property
    def name(self) -> str:
        """The channel's name in contacts and outbox rows (`telegram`, `whatsapp`)."""

    @property
    def limiter(self) -> RateLimiter:
        """The channel's sending limits."""

    async def send(self, message: OutboundMessage, address: str, *, kind: str,
                   last_inbound_at: datetime | None) -> str:
        """Send one outbox message; return the provider's id for it, unique in the channel.

        `kind` is the outbox kind (`reply`, `reminder`...) and `last_inbound_at` the
        parent's last message, for channels that limit what may be sent when.
        Raises SendError.
        """

    async def find_sent(self, message: OutboundMessage, address: str, *,
                        since: datetime) -> str | None:
        """After an interrupted send that began at `since`: the provider's id for the
        message if it reached the provider, None if it did not (send it again).

        Raises CannotTell when the provider cannot say, SendError when asking failed.
        """
