"""Everything a turn needs to read: flows, texts per language, and content pages.

The loaders in `bot.flows`, `bot.i18n` and `bot.content` build a `Library` from
files; the engine only reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.engine.danger import DangerWords
from bot.engine.model import Flow
from bot.messages import Direction

SOURCE_LANGUAGE = "en"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


@dataclass(frozen=True)
class Language:
    """A shipped language: its code, its name in itself, and its writing direction."""

    code: str
    name: str
    direction: Direction = "ltr"
    aliases: tuple[str, ...] = ()  # other names a parent may type ("دری" for fa)


@dataclass(frozen=True)
class Page:
    """A content page in one language, cut into phone-sized messages (the first one
    starts with the title)."""

    id: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Scoring:
    """A scoring table: which area each answer counts for, and the points per option."""

    id: str
    areas: tuple[str, ...]
    points: Mapping[str, int]
    items: Mapping[str, str]


@dataclass(frozen=True)
class GlossaryEntry:
    """A school word of a region, other ways to write it, and the key of its explanation."""

    term: str
    aliases: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Helpline:
    """A phone line for people in danger or distress. The number is data and never
    translated; `text` is the key of what the line is for, with a {number} placeholder."""

    number: str
    text: str


@dataclass(frozen=True)
class RegionHelplines:
    """Where to call in a region: the emergency number, and help lines in the order shown
    under the region's heading (a text key)."""

    heading: str
    emergency: str
    lines: tuple[Helpline, ...]


@dataclass(frozen=True)
class Library:
    """Read-only data for the engine."""

    flows: Mapping[str, Flow]
    texts: Mapping[str, Mapping[str, str]]
    languages: Mapping[str, Language]
    pages: Mapping[str, Mapping[str, Page]] = field(default_factory=dict)
    scorings: Mapping[str, Scoring] = field(default_factory=dict)
    glossary: Mapping[str, tuple[GlossaryEntry, ...]] = field(default_factory=dict)
    # Emergency numbers per region, in the order regions are shown when unknown.
    helplines: Mapping[str, RegionHelplines] = field(default_factory=dict)
    # Read by the host's safeguarding interceptor, before a turn, not by the engine.
    danger_words: DangerWords = field(default_factory=DangerWords)
    # Guesses a text's language code (or None). Injected by the host: it must be
    # deterministic and do no I/O, like everything the engine calls.
    detect_language: Callable[[str], str | None] | None = None

    def language(self, code: str | None) -> Language:
        """The language with this code, or the source language."""
        return self.languages.get(code or SOURCE_LANGUAGE) or self.languages[SOURCE_LANGUAGE]

    def raw_text(self, language: str | None, key: str) -> str:
        """The text for `key` in `language`, falling back to the source language."""
        text = self.texts.get(language or SOURCE_LANGUAGE, {}).get(key)
        if text is None:
            text = self.texts[SOURCE_LANGUAGE][key]
        return text

    def text(self, language: str | None, key: str, variables: Mapping[str, Any]) -> str:
        """The text for `key` with `{placeholders}` filled from `variables`."""

        def fill(match: re.Match[str]) -> str:
            value = variables.get(match.group(1))
            return match.group(0) if value is None else str(value)

        return _PLACEHOLDER.sub(fill, self.raw_text(language, key))

    @property
    def regions(self) -> list[str]:
        """The regions that have content, e.g. flanders and finland."""
        return sorted({page_id.split("/")[0] for page_id in self.pages})

    def page(self, page_id: str, language: str | None) -> Page:
        """A content page in `language`, falling back to the source language."""
        versions = self.pages[page_id]
        return versions.get(language or SOURCE_LANGUAGE) or versions[SOURCE_LANGUAGE]
