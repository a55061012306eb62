"""The conversation engine: flows in, effects out.

This package does no I/O: it reads no files, opens no sockets, reads no clock and
draws no random numbers. `advance` is a pure function of its arguments, so the same
input always gives the same output. Loading flows from disk lives in `bot.flows`;
`tests/test_engine_purity.py` checks the imports.
"""

from bot.engine.effects import (
    ConsentGiven,
    ContactChanged,
    Effect,
    EraseContact,
    HandoffRequested,
    OptIn,
    OptOut,
    Send,
)
from bot.engine.library import Language, Library, Page
from bot.engine.model import Flow
from bot.engine.runner import MAX_STEPS_PER_TURN, Turn, advance
from bot.engine.state import Frame, SessionState

__all__ = [
    "MAX_STEPS_PER_TURN",
    "ConsentGiven",
    "ContactChanged",
    "Effect",
    "EraseContact",
    "Flow",
    "Frame",
    "HandoffRequested",
    "Language",
    "Library",
    "OptIn",
    "OptOut",
    "Page",
    "Send",
    "SessionState",
    "Turn",
    "advance",
]
