"""Neutral messages: what channels turn their payloads into, and what they render.

Nothing outside a channel module knows a provider's format; everything else speaks
these types. This module does no I/O so the pure engine may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Direction = Literal["ltr", "rtl"]


@dataclass(frozen=True)
class Choice:
    """One answer option: its stable id and its label in the parent's language."""

    id: str
    label: str


@dataclass(frozen=True)
class OutboundMessage:
    """A message for one parent, already in their language.

    `question` identifies the question the options belong to, so a channel can tell
    a press on an old button from a current one.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    question: int | None = None
    language: str = "en"
    direction: Direction = "ltr"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the outbox stores this)."""
        return {
            "text": self.text,
            "choices": [{"id": c.id, "label": c.label} for c in self.choices],
            "question": self.question,
            "language": self.language,
            "direction": self.direction,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboundMessage:
        """Rebuild a message stored with `to_json`."""
        return cls(
            text=str(data["text"]),
            choices=tuple(Choice(str(c["id"]), str(c["label"])) for c in data.get("choices", [])),
            question=data.get("question"),
            language=str(data.get("language", "en")),
            direction="rtl" if data.get("direction") == "rtl" else "ltr",
        )

    def numbered_text(self) -> str:
        """Render text with options as a numbered list, for channels without buttons."""
        if not self.choices:
            return self.text
        lines = [f"{n}. {c.label}" for n, c in enumerate(self.choices, start=1)]
        return self.text + "\n\n" + "\n".join(lines)


@dataclass(frozen=True)
class InboundMessage:
    """One message from a parent, as every channel reports it.

    `provider_id` is the channel's unique id for this delivery (Telegram update id,
    Twilio MessageSid, ...): a repeated delivery carries the same id.
    A button press sets `choice` (the option id) and `question`; typed text sets `text`.
    """

    channel: str
    address: str
    provider_id: str
    received_at: datetime
    text: str | None = None
    choice: str | None = None
    question: int | None = None
    language_hint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
