"""How a button carries its option: `q<question>:<option id>`.

Telegram's callback_data and WhatsApp quick replies' ButtonPayload use this form, so a
press maps back to the option and to the question it belonged to; the engine answers
a press on an old question politely instead of taking a wrong branch.
"""

from __future__ import annotations

import re

_PAYLOAD = re.compile(r"^q(\d{1,9}):(.+)$", re.DOTALL)


def choice_payload(question: int, option_id: str, *, limit: int) -> str | None:
    """The payload for an option, or None if it would be over `limit` bytes."""
    data = f"q{question}:{option_id}"
    return data if len(data.encode("utf-8")) <= limit else None


def parse_choice_payload(data: str | None) -> tuple[int, str] | None:
    """(question, option id) from a payload, or None if it is not in our form."""
    match = _PAYLOAD.match(data or "")
    return (int(match.group(1)), match.group(2)) if match else None
