"""Guessing a message's language: only ever a guess the parent confirms."""

from __future__ import annotations

import pytest

from bot.i18n.detect import LanguageGuesser

GUESSER = LanguageGuesser(["en", "nl", "fi", "ar", "fa", "ps", "uk", "ru", "so", "tr"])


@pytest.mark.parametrize(("text", "expected"), [
    ("hallo, ik wil graag iets vragen over school", "nl"),
    ("hei, haluaisin kysyä koulusta", "fi"),
    ("مرحبا، أريد أن أسأل عن المدرسة", "ar"),
    ("سلام، می‌خواهم در مورد مکتب بپرسم", "fa"),
    ("سلام، زه غواړم د ښوونځي په اړه پوښتنه وکړم", "ps"),
    ("привіт, я хочу запитати про школу", "uk"),
    ("ok", None),
    ("2", None),
])
def test_guesses(text: str, expected: str | None) -> None:
    assert GUESSER(text) == expected


def test_no_guess_with_only_one_language() -> None:
    assert LanguageGuesser(["en"])("hallo, ik wil graag iets vragen over school") is None
