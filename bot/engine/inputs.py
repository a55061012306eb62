"""Reading typed answers: numbers, yes/no, dates and several choices."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bot.engine.matching import as_number, keywords, normalize, pick
from bot.engine.model import InputSpec

_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_EU = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
_LIST_SEPARATORS = re.compile(r"[,;،]+")


class InvalidAnswer(Exception):
    """The answer does not fit the question."""


def parse_integer(text: str, spec: InputSpec) -> int:
    """A whole number within the spec's range."""
    value = as_number(text)
    if value is None:
        raise InvalidAnswer
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        raise InvalidAnswer
    return value


def parse_text(text: str, spec: InputSpec) -> str:
    """Free text, trimmed, within the spec's length range (default 1-1000 characters)."""
    value = text.strip()
    low = spec.min if spec.min is not None else 1
    high = spec.max if spec.max is not None else 1000
    if not low <= len(value) <= high:
        raise InvalidAnswer
    return value


def parse_yes_no(text: str, yes_words: str, no_words: str) -> bool:
    """True for a yes word, False for a no word (keyword texts such as "yes|y|ok")."""
    word = normalize(text)
    if word in keywords(yes_words) or word == "1":
        return True
    if word in keywords(no_words) or word == "2":
        return False
    raise InvalidAnswer


def parse_date(text: str) -> str:
    """A calendar date as ISO text; accepts 2026-03-01 and day-first 1/3/2026, 1.3.2026."""
    cleaned = normalize(text).replace(" ", "")
    iso = _DATE_ISO.match(cleaned)
    european = _DATE_EU.match(cleaned)
    try:
        if iso:
            year, month, day = (int(g) for g in iso.groups())
        elif european:
            day, month, year = (int(g) for g in european.groups())
        else:
            raise InvalidAnswer
        return date(year, month, day).isoformat()
    except ValueError as exc:
        raise InvalidAnswer from exc


def parse_choices(text: str, ids: Sequence[str], labels: Sequence[str],
                  spec: InputSpec) -> list[str]:
    """Several options at once: "1, 3", "1 3" or labels separated by commas."""
    picked: list[str] = []
    for part in _LIST_SEPARATORS.split(text):
        # A part is one label ("sport and games") or numbers split by spaces ("1 3").
        indexes = [pick(part, labels)] if pick(part, labels) is not None else [
            pick(word, labels) for word in part.split()
        ]
        for index in indexes:
            if index is None:
                raise InvalidAnswer
            if ids[index] not in picked:
                picked.append(ids[index])
    low = spec.min if spec.min is not None else 1
    high = spec.max if spec.max is not None else len(ids)
    if not low <= len(picked) <= high:
        raise InvalidAnswer
    return picked
