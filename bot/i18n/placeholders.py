"""Placeholders such as {date} in texts: a translation must keep exactly the same ones."""

from __future__ import annotations

import re
from collections import Counter

_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_.]*\}")


def placeholders(text: str) -> Counter[str]:
    """The placeholders in a text, with how often each occurs."""
    return Counter(_PLACEHOLDER.findall(text))


def same_placeholders(source: str, translation: str) -> bool:
    """Whether the translation keeps exactly the source's placeholders."""
    return placeholders(source) == placeholders(translation)
