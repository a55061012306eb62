"""A conversation's state between two turns. It round-trips through JSON."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

JSONValue = Any

# How many earlier questions "back" can return to.
HISTORY_LIMIT = 12


@dataclass(frozen=True)
class Frame:
    """A position: a node in a flow. `node == ""` means "the end of this flow"."""

    flow: str
    node: str


def _frame(frame: Frame) -> dict[str, str]:
    return {"flow": frame.flow, "node": frame.node}


@dataclass
class SessionState:
    """Everything the engine remembers about one parent's conversation.

    `stack[-1]` is the current position; the frames below it are where called
    subflows return to. `waiting` is true when the current node awaits an answer.
    """

    language: str | None = None
    region: str | None = None
    consented: bool = False
    opted_out: bool = False
    stack: list[Frame] = field(default_factory=list)
    waiting: bool = False
    question: int = 0
    page_part: int = 0
    misses: int = 0
    answers: dict[str, JSONValue] = field(default_factory=dict)
    history: list[list[Frame]] = field(default_factory=list)

    def to_json(self) -> dict[str, JSONValue]:
        """Return a JSON-ready dict (written out by hand: `asdict` is slow on the hot path)."""
        return {
            "language": self.language,
            "region": self.region,
            "consented": self.consented,
            "opted_out": self.opted_out,
            "stack": [_frame(f) for f in self.stack],
            "waiting": self.waiting,
            "question": self.question,
            "page_part": self.page_part,
            "misses": self.misses,
            "answers": copy.deepcopy(self.answers),
            "history": [[_frame(f) for f in entry] for entry in self.history],
        }

    @classmethod
    def from_json(cls, data: dict[str, JSONValue]) -> SessionState:
        """Rebuild a state saved with `to_json`."""
        values = dict(data)
        values["stack"] = [Frame(**f) for f in data.get("stack", [])]
        values["history"] = [[Frame(**f) for f in entry] for entry in data.get("history", [])]
        values["answers"] = dict(data.get("answers", {}))
        return cls(**values)

    def copy(self) -> SessionState:
        """A deep copy, so a turn never changes the state it was given."""
        return SessionState.from_json(self.to_json())

    def variables(self) -> dict[str, JSONValue]:
        """The values conditions and text placeholders can use."""
        return {**self.answers, "language": self.language, "region": self.region,
                "consented": self.consented}
