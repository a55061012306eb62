"""Keeping placeholders and glossary terms out of the model's hands.

Before translation, each protected span ({date}, URLs, e-mail addresses, the glossary
terms) is replaced by a token such as `ZX0Q`; after translation the tokens are put
back. The token is made of capital Latin letters and digits only: SentencePiece keeps
those, models copy such code-like words through, and it holds no underscore
(argostranslate's decoder turns underscores into spaces) and no brackets or braces
(models rewrite those). Restoring tolerates the changes models do make: spaces inside
the token, lower case, other scripts' digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.translation.errors import ProtectedTextLostError

_STAND_IN = "ZX{}Q"
# In model output: the token, allowing spaces inside, any case and any script's digits.
_TOKEN_IN_OUTPUT = re.compile(r"Z\s*X\s*(\d+)\s*Q", re.IGNORECASE)
_FIXED_PATTERNS = (
    r"(?i:Z\s*X\s*\d+\s*Q)",  # text that looks like a token must come back as itself
    r"\{[A-Za-z_][A-Za-z0-9_.]*\}",  # placeholders filled in after translation
    r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]]",  # URLs, without trailing punctuation
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # e-mail addresses
)
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class ProtectedText:
    """The text as the model sees it, and what each token stands for."""

    text: str
    originals: tuple[str, ...]


def protect(text: str, terms: Iterable[str]) -> ProtectedText:
    """Replace placeholders, URLs, e-mail addresses and `terms` by tokens.

    Terms match as whole words with any ending (so Finnish "lukiossa" and Dutch
    "oudercontacten" are kept whole), ignoring case, except terms in capitals (CLB, TUVA),
    which match only in capitals.
    """
    originals: list[str] = []

    def replace(match: re.Match[str]) -> str:
        originals.append(match.group())
        return _STAND_IN.format(len(originals) - 1)

    protected = _pattern(tuple(sorted(set(terms), key=lambda t: (-len(t), t)))).sub(
        replace, text)
    return ProtectedText(protected, tuple(originals))


def restore(translated: str, originals: Sequence[str]) -> str:
    """Put the protected spans back; ProtectedTextLostError if any did not survive."""
    seen: set[int] = set()

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(originals):
            raise ProtectedTextLostError("the model produced an unknown placeholder token")
        seen.add(index)
        return originals[index]

    restored = _TOKEN_IN_OUTPUT.sub(replace, translated)
    if len(seen) != len(originals):
        raise ProtectedTextLostError(f"{len(originals) - len(seen)} placeholder(s) or "
                                     "glossary term(s) were lost in translation")
    return restored


def has_words(text: str) -> bool:
    """Whether anything is left to translate once the tokens are set aside."""
    return _LETTER.search(_TOKEN_IN_OUTPUT.sub(" ", text)) is not None


@lru_cache(maxsize=16)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    words = [_term_pattern(term) for term in terms if term.strip()]
    return re.compile("|".join([*_FIXED_PATTERNS, *words]))


def _term_pattern(term: str) -> str:
    body = r"\s+".join(re.escape(word) for word in term.split())
    word = rf"(?<!\w){body}\w*"
    return word if term.isupper() else f"(?i:{word})"
