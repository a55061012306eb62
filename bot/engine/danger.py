"""Recognising words about danger to a child or an adult in what a parent typed.

Each shipped language has a list of phrases (`content/safeguarding/keywords/<lang>.yaml`,
loaded by `bot.content.safeguarding`). A phrase matches whole words, in order, after the
same normalisation as every other match in the engine (case, accents, Arabic-script
letter variants); punctuation counts as a space. A `*` at the start or the end of a word
lets it match longer words: `mishandel*` matches "mishandeld", `*geweld` matches
"partnergeweld", `*väkival*` matches "perheväkivaltaa".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.engine.matching import normalize

STEM = "*"
# Everything that is not a letter or a digit separates words.
_SEPARATORS = re.compile(r"[\W_]+")


def words_of(text: str) -> tuple[str, ...]:
    """The normalised words of `text`: what phrases are matched against."""
    return tuple(_SEPARATORS.sub(" ", normalize(text)).split())


def phrase_words(phrase: str) -> tuple[str, ...]:
    """The normalised words of a phrase as written in a keyword list; `*` marks are kept
    at the ends of words."""
    return tuple(_stem_mark(word) for word in phrase.split())


def _stem_mark(word: str) -> str:
    core = " ".join(words_of(word.strip(STEM)))
    return f"{STEM if word.startswith(STEM) else ''}{core}{STEM if word.endswith(STEM) else ''}"


@dataclass(frozen=True)
class DangerPhrase:
    """One phrase of a language's list, normalised (see `phrase_words`)."""

    language: str
    words: tuple[str, ...]


_MORE_LETTERS = r"\w*"


def _pattern(words: tuple[str, ...]) -> str:
    parts = []
    for word in words:
        before = _MORE_LETTERS if word.startswith(STEM) else ""
        after = _MORE_LETTERS if word.endswith(STEM) else ""
        parts.append(before + re.escape(word.strip(STEM)) + after)
    return " ".join(parts)


class DangerWords:
    """Every language's danger phrases, compiled once, one pattern per language."""

    def __init__(self, phrases: Iterable[DangerPhrase] = ()) -> None:
        by_language: dict[str, list[str]] = {}
        for phrase in phrases:
            by_language.setdefault(phrase.language, []).append(_pattern(phrase.words))
        # One pair of word boundaries around all of a language's phrases: checking them
        # per phrase made the regex engine repeat them for every phrase at every
        # position (about 18 times slower, on every parent's message).
        self._patterns = {language: re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)")
                          for language, patterns in by_language.items()}

    @property
    def languages(self) -> frozenset[str]:
        """The languages that have a list."""
        return frozenset(self._patterns)

    def find(self, text: str, prefer: str | None = None) -> str | None:
        """The language of a list with a phrase in `text` (`prefer`'s list is tried
        first), or None. Every language counts: parents mix languages."""
        said = " ".join(words_of(text))
        if not said:
            return None
        order = sorted(self._patterns, key=lambda language: language != prefer)
        return next((language for language in order if self._patterns[language].search(said)),
                    None)
