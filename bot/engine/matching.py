"""Loose matching of what a parent typed: case, accents and spacing do not matter."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from bot.messages import Choice

# Letters that NFKD does not split into a base letter and an accent, but that people
# without the right keyboard type as the plain letter ("sinif" for "sınıf"). In Arabic
# script, Persian and Arabic keyboards give different code points for the same letter
# (ی/ي, ک/ك), a final ى or ة is often typed as ي or ه, and the stretching tatweel (ـ)
# is decoration.
_PLAIN_LETTERS = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae",
                                "ی": "ي", "ى": "ي", "ک": "ك", "ة": "ه", "ـ": None})

_EDGE_PUNCTUATION = " \t\r\n.,;:!?¿¡'\"()[]«»“”‘’،؟。"


def normalize(text: str) -> str:
    """Fold case, drop diacritics and outer punctuation, and collapse spaces.

    "  Éen!" and "een" become equal, so WhatsApp users can simply type a label.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    # Mn: accents and other combining marks; Cf: invisible format characters such as
    # the direction isolates around Latin words in right-to-left text.
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Cf"))
    folded = stripped.casefold().translate(_PLAIN_LETTERS).strip(_EDGE_PUNCTUATION)
    return " ".join(folded.split())


def as_number(text: str) -> int | None:
    """The whole number in `text` ("2", " ٢ ", "2."), or None. Any script's digits count."""
    cleaned = normalize(text)
    if cleaned.startswith("-"):
        rest = cleaned[1:]
        return -int(rest) if rest.isdecimal() else None
    return int(cleaned) if cleaned.isdecimal() else None


@lru_cache(maxsize=4096)
def keywords(spec: str) -> frozenset[str]:
    """The normalized alternatives in a keyword text such as "menu|start over"."""
    return frozenset(normalize(word) for word in spec.split("|") if normalize(word))


def pick(text: str, labels: Iterable[str]) -> int | None:
    """Index of the label `text` chooses, by number (1-based) or by label; else None."""
    label_list = list(labels)
    number = as_number(text)
    if number is not None:
        return number - 1 if 1 <= number <= len(label_list) else None
    wanted = normalize(text)
    for index, label in enumerate(label_list):
        if normalize(label) == wanted:
            return index
    return None


_BRACKETED = re.compile(r"\s*[(\[].*?[)\]]")


def pick_by_other_names(text: str, choices: Sequence[Choice],
                        other_names: Sequence[tuple[str, ...]]) -> int | None:
    """Index of the choice `text` names another way: its label without the part in
    brackets ("Flanders" for "Flanders (Belgium)"), or one of its other names."""
    wanted = normalize(text)
    if not wanted:
        return None
    for index, choice in enumerate(choices):
        short = normalize(_BRACKETED.sub("", choice.label))
        if wanted == short or wanted in {normalize(name) for name in other_names[index]}:
            return index
    return None
