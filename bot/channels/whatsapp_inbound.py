"""Twilio's webhook forms in our terms: a parent's WhatsApp message, a delivery status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.channels.choices import parse_choice_payload
from bot.channels.whatsapp import CHANNEL
from bot.messages import InboundMessage


def from_form(form: Mapping[str, str], now: datetime) -> InboundMessage | None:
    """A parent's message, or None if the form is not a WhatsApp message.

    A quick-reply button sends ButtonPayload (and ButtonText): a payload in our
    `q<question>:<option>` form is a choice; any other is taken as the button's text,
    which the engine matches against the options' labels.
    """
    sid = form.get("MessageSid", "")
    sender = form.get("From", "")
    if not sid or not sender.startswith("whatsapp:"):
        return None
    parsed = parse_choice_payload(form.get("ButtonPayload"))
    if parsed is not None:
        question, choice = parsed
        return InboundMessage(channel=CHANNEL, address=sender, provider_id=sid,
                              received_at=now, choice=choice, question=question)
    text = form.get("ButtonText") or form.get("Body")
    return InboundMessage(channel=CHANNEL, address=sender, provider_id=sid, received_at=now,
                          text=text)


@dataclass(frozen=True)
class DeliveryStatus:
    """A status callback: which message, its status, and Twilio's error code if any."""

    provider_id: str
    status: str
    error_code: int | None

    @property
    def error(self) -> str | None:
        """The reason to record, for a failure."""
        return f"{self.status}: twilio {self.error_code}" if self.error_code else None


def status_from_form(form: Mapping[str, str]) -> DeliveryStatus | None:
    """The status callback's content, or None if it lacks the message or the status."""
    sid = form.get("MessageSid", "")
    status = form.get("MessageStatus", "").lower()
    if not sid or not status:
        return None
    code = form.get("ErrorCode", "")
    return DeliveryStatus(sid, status, int(code) if code.isdigit() else None)
