"""Guessing the language of a parent's message (lingua, offline, deterministic)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# Below this the guess is too weak to act on; we only ever *offer* a switch anyway.
MIN_CONFIDENCE = 0.8
# Very short messages ("ok", "2") say nothing about their language.
MIN_LETTERS = 8
# Letters only Pashto uses among our languages. lingua has no Pashto and would call
# such text Persian, offering a Pashto parent the wrong language.
PASHTO_LETTERS = frozenset("ټډړښږځڅګڼېۍ")


class LanguageGuesser:
    """Guesses which of our shipped languages a text is in; None when unsure.

    Only languages lingua knows are considered (Pashto, for one, is not among them).
    The detector is built on first use, so start-up stays fast.
    """

    def __init__(self, codes: Iterable[str]) -> None:
        codes = list(codes)
        self._pashto = "ps" if "ps" in codes else None
        self._languages = {
            language: code for code in codes
            if (language := _lingua_language(code)) is not None
        }

    @cached_property
    def _detector(self) -> LanguageDetector:
        return LanguageDetectorBuilder.from_languages(*self._languages).build()

    def __call__(self, text: str) -> str | None:
        """The language code of `text`, or None if short, unknown or unsure."""
        if len(self._languages) < 2 or sum(ch.isalpha() for ch in text) < MIN_LETTERS:
            return None
        if PASHTO_LETTERS.intersection(text):
            return self._pashto
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value < MIN_CONFIDENCE:
            return None
        return self._languages.get(values[0].language)


def _lingua_language(code: str) -> Language | None:
    iso = getattr(IsoCode639_1, code.upper(), None)
    if iso is None:
        return None
    try:
        return Language.from_iso_code_639_1(iso)
    except ValueError:
        return None
