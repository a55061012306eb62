"""Recognising a school word in what a parent typed ("what is a klassenraad?")."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.engine.library import GlossaryEntry
from bot.engine.matching import normalize

# A question about a word is short; a longer message is about something else.
MAX_WORDS = 8
_PUNCTUATION = re.compile(r"[^\w\s-]")


def find_term(text: str, entries: Iterable[GlossaryEntry]) -> GlossaryEntry | None:
    """The entry whose term or alias appears as whole words in a short message."""
    said = " ".join(_PUNCTUATION.sub(" ", normalize(text)).split())
    if not said or len(said.split()) > MAX_WORDS:
        return None
    padded = f" {said} "
    for entry in entries:
        for name in (entry.term, *entry.aliases):
            if f" {normalize(name)} " in padded:
                return entry
    return None
