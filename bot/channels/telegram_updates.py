"""Telegram updates in our terms: typed text, /start with its payload, button presses.

A button's callback_data is `q<question>:<option id>` (`bot.channels.choices`), at
most 64 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from telegram import Update
from telegram.constants import ChatType

from bot.channels.choices import choice_payload, parse_choice_payload
from bot.messages import InboundMessage

CHANNEL = "telegram"
CALLBACK_DATA_LIMIT = 64  # bytes, Bot API
_START = re.compile(r"^/start(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def callback_data(question: int, option_id: str) -> str | None:
    """The callback_data for an option, or None if it would not fit in 64 bytes."""
    return choice_payload(question, option_id, limit=CALLBACK_DATA_LIMIT)


@dataclass(frozen=True)
class Press:
    """A button press to acknowledge: answer it, and take the keyboard off its message."""

    query_id: str
    chat_id: int
    message_id: int | None


@dataclass(frozen=True)
class Received:
    """An update as a neutral message (None if there is nothing to handle) and the press
    to acknowledge, if it was one."""

    message: InboundMessage | None
    press: Press | None = None


def from_update(update: Update, now: datetime) -> Received | None:
    """Turn an update into a message; None for updates we do not handle (edits, groups,
    channel posts...). Only private chats count: the bot talks to one parent at a time."""
    provider_id = str(update.update_id)
    if update.callback_query is not None:
        query = update.callback_query
        origin = query.message
        if origin is None or origin.chat.type != ChatType.PRIVATE:
            return None
        press = Press(query.id, origin.chat.id,
                      origin.message_id if origin.is_accessible else None)
        parsed = parse_choice_payload(query.data)
        if parsed is None:
            return Received(None, press)
        question, choice = parsed
        return Received(InboundMessage(
            channel=CHANNEL, address=str(origin.chat.id), provider_id=provider_id,
            received_at=now, choice=choice, question=question,
            language_hint=query.from_user.language_code), press)
    message = update.message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return None
    text = message.text if message.text is not None else message.caption
    extra: dict[str, object] = {}
    start = _START.match(text or "")
    if start is not None:
        extra["start_payload"] = (start.group(1) or "").strip()
    user = message.from_user
    return Received(InboundMessage(
        channel=CHANNEL, address=str(message.chat.id), provider_id=provider_id,
        received_at=now, text=text, language_hint=user.language_code if user else None,
        extra=extra))
