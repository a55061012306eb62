"""What can go wrong when a school asks for something. The API maps these to 404, 422
and 409; the CLI prints them."""

from __future__ import annotations


class SchoolError(Exception):
    """A request a school made that cannot be done; the message says why."""


class NotFound(SchoolError):
    """No such thing for this school. Another school's ids end here too, on purpose:
    they must look exactly like ids that do not exist."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class Invalid(SchoolError):
    """The request breaks a rule; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Conflict(SchoolError):
    """The request clashes with the current state (e.g. the meeting was cancelled)."""
