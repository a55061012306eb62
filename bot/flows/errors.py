"""Errors in authored files (flows, texts, pages), each with a precise location."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a file; line and column count from 1."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class FlowError:
    """One problem in an authored file: where, what, and how to fix it."""

    location: Location
    message: str
    flow: str | None = None
    node: str | None = None

    def __str__(self) -> str:
        where = []
        if self.flow:
            where.append(f"flow {self.flow!r}")
        if self.node:
            where.append(f"node {self.node!r}")
        suffix = f" [{', '.join(where)}]" if where else ""
        return f"{self.location}: {self.message}{suffix}"


class FlowErrors(Exception):
    """Every problem found while loading authored files."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.location.file, e.location.line,
                                                    e.location.column))
        super().__init__("\n".join(str(e) for e in self.errors))
