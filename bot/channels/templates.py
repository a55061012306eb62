"""WhatsApp Content API templates: which ContentSid to use for a message type and language.

Configured with TWILIO_CONTENT_TEMPLATES, a path to a JSON file or the JSON itself:

    {"reminder": {"en": "HX...", "nl": "HX..."},
     "choices:yes,no": {"en": "HX..."}}

A message type is the outbox kind (`reminder`, ...) or, for a question, `choices:`
followed by its option ids in order (a quick-reply template whose buttons are those
options). Every template gets one variable, `{{1}}`: the message text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


@dataclass(frozen=True)
class ContentTemplates:
    """(message type, language) -> ContentSid."""

    sids: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def find(self, message_type: str, language: str) -> str | None:
        """The ContentSid for this type and language, if one is configured."""
        return self.sids.get(message_type, {}).get(language)

    @classmethod
    def parse(cls, value: str | None) -> ContentTemplates:
        """Read the setting: inline JSON (starts with `{`) or a JSON file's path.

        Raises ValueError with a message fit for a start-up error.
        """
        if not value:
            return cls()
        text = value if value.lstrip().startswith("{") else _read(Path(value))
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON (line {exc.lineno}, column {exc.colno})") \
                from exc
        if not isinstance(data, dict):
            raise ValueError('must map message types to {"language": "HX..."} objects')
        sids: dict[str, dict[str, str]] = {}
        for message_type, languages in data.items():
            if not isinstance(languages, dict) or not all(
                    isinstance(sid, str) and CONTENT_SID.match(sid) for sid in languages.values()):
                raise ValueError(f"{message_type!r} must map language codes to ContentSids "
                                 "(HX followed by 32 hex digits)")
            sids[str(message_type)] = {str(lang): sid for lang, sid in languages.items()}
        return cls(sids)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the file {path}: {exc.strerror}") from exc
