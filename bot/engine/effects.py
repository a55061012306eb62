"""Effects: what the engine asks the host program to do. Plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.messages import OutboundMessage


@dataclass(frozen=True)
class Send:
    """Send this message to the parent."""

    message: OutboundMessage


@dataclass(frozen=True)
class ContactChanged:
    """The parent's language or region changed; store it on the contact."""

    language: str | None
    region: str | None


@dataclass(frozen=True)
class ConsentGiven:
    """The parent agreed to what the bot does and stores; record the time."""


@dataclass(frozen=True)
class OptOut:
    """Stop sending this parent anything until they opt in again."""


@dataclass(frozen=True)
class OptIn:
    """The parent wants messages again."""


@dataclass(frozen=True)
class EraseContact:
    """Erase the contact and everything linked to it."""


@dataclass(frozen=True)
class HandoffRequested:
    """A person should take over: open a ticket about `topic` with this context."""

    topic: str
    flow: str
    context: dict[str, Any] = field(default_factory=dict)


Effect = Send | ContactChanged | ConsentGiven | OptOut | OptIn | EraseContact | HandoffRequested
