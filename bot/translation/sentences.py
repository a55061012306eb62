"""Cutting text into sentences with a plain regular expression (no model, no download).

A sentence ends at . ! ? or ؟ followed by whitespace (so 3.5 and example.com stay
whole), or at a line break. The whitespace between sentences is kept as it was, so a
translation keeps the text's lines and paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# End punctuation, optionally followed by a closing quote or bracket, then whitespace;
# or any whitespace that holds a line break.
_BOUNDARY = re.compile(r"(?<=[.!?؟])\s+|(?<=[.!?؟][\"'”’»)\]])\s+|\s*\n\s*")


@dataclass(frozen=True)
class Piece:
    """A sentence to translate, or whitespace to keep as it is."""

    text: str
    is_sentence: bool


def split_sentences(text: str) -> list[Piece]:
    """The text as sentences and the whitespace around them; joining every piece's
    text gives the text back."""
    pieces: list[Piece] = []
    position = 0
    for boundary in [*_BOUNDARY.finditer(text), None]:
        end = boundary.start() if boundary else len(text)
        _add_sentence(pieces, text[position:end])
        if boundary:
            _add_space(pieces, boundary.group())
            position = boundary.end()
    return pieces


def _add_sentence(pieces: list[Piece], chunk: str) -> None:
    core = chunk.strip()
    if not core:
        _add_space(pieces, chunk)
        return
    start = chunk.index(core)
    _add_space(pieces, chunk[:start])
    pieces.append(Piece(core, True))
    _add_space(pieces, chunk[start + len(core):])


def _add_space(pieces: list[Piece], space: str) -> None:
    if space:
        pieces.append(Piece(space, False))
