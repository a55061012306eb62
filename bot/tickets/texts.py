"""Messages for parents and volunteers, built from translation keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.engine import Library, Send
from bot.engine.bidi import isolate_ltr
from bot.engine.matching import keywords
from bot.messages import Choice, OutboundMessage


def message(library: Library, language: str | None, key: str,
            variables: Mapping[str, Any] | None = None, *, choices: Sequence[Choice] = (),
            question: int | None = None) -> OutboundMessage:
    """The text of `key` in `language` (with placeholders filled), ready to send.
    `{menu}` is the parent's word for the menu command."""
    filled = {"menu": menu_word(library, language), **(variables or {})}
    return compose(library, language, library.text(language, key, filled),
                   choices=choices, question=question)


def menu_word(library: Library, language: str | None) -> str:
    """The first word of the menu command in `language` (what the parent can send)."""
    spec = library.raw_text(language, "command.menu")
    return spec.split("|")[0].strip() if keywords(spec) else "/menu"


def compose(library: Library, language: str | None, text: str, *,
            choices: Sequence[Choice] = (), question: int | None = None) -> OutboundMessage:
    """A message with this text; right-to-left languages get their left-to-right
    fragments isolated, as the engine does."""
    lang = library.language(language)
    if lang.direction == "rtl":
        text = isolate_ltr(text)
        choices = [Choice(c.id, isolate_ltr(c.label)) for c in choices]
    return OutboundMessage(text=text, choices=tuple(choices),
                           question=question if choices else None,
                           language=lang.code, direction=lang.direction)


def say(library: Library, language: str | None, key: str,
        variables: Mapping[str, Any] | None = None) -> Send:
    """A Send effect with the text of `key`, for the contact whose turn this is."""
    return Send(message(library, language, key, variables))
