"""Cutting a long text into messages a provider accepts, at sentence boundaries."""

from __future__ import annotations

import re

# Paragraphs first, then sentence ends (Latin, Arabic, CJK), then any space.
_PARAGRAPH = re.compile(r"(?<=\n\n)")
_SENTENCE = re.compile(r"(?<=[.!?؟]\s)|(?<=[。！？])|(?<=\n)")
_SPACE = re.compile(r"(?<=\s)")


def units(text: str) -> int:
    """Length as providers count it: UTF-16 code units (an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Cut `text` into parts of at most `limit` units, at paragraph or sentence ends
    where possible, at spaces otherwise, and mid-word only for a word over the limit."""
    if units(text) <= limit:
        return [text]
    parts: list[str] = []
    _pack(text, limit, [_PARAGRAPH, _SENTENCE, _SPACE], parts)
    return [part.strip() for part in parts if part.strip()]


def _pack(text: str, limit: int, separators: list[re.Pattern[str]], parts: list[str]) -> None:
    """Greedily join pieces split at the first separator; cut oversized pieces finer."""
    if units(text) <= limit:
        parts.append(text)
        return
    if not separators:
        parts.extend(_hard_cut(text, limit))
        return
    current = ""
    for piece in separators[0].split(text):
        if units(current + piece) <= limit:
            current += piece
            continue
        if current:
            parts.append(current)
            current = ""
        if units(piece) <= limit:
            current = piece
        else:
            _pack(piece, limit, separators[1:], parts)
    if current:
        parts.append(current)


def _hard_cut(text: str, limit: int) -> list[str]:
    cuts, current = [], ""
    for char in text:
        if units(current + char) > limit:
            cuts.append(current)
            current = ""
        current += char
    return [*cuts, current] if current else cuts
