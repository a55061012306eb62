"""Saying "a computer translated this" under a machine-translated message."""

from __future__ import annotations

MACHINE_TRANSLATED_KEY = "common.machine_translated"


def mark_machine_translated(text: str, marker: str) -> str:
    """The text with the marker as its last line, once.

    `marker` is the text of MACHINE_TRANSLATED_KEY in the parent's language; the caller
    looks it up. Mark each message after cutting a page into messages, so every
    message that reaches the parent carries it.
    """
    body = text.rstrip()
    if body.endswith(marker):
        return body
    return f"{body}\n\n{marker}" if body else marker
