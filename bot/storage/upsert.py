"""INSERT ... ON CONFLICT DO NOTHING RETURNING id, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


class InsertIgnoringConflicts:
    """A prepared insert that skips rows clashing with a unique index.

    Built once per table (statement construction is a large part of a small
    transaction's cost); executed with a dict of values.
    """

    def __init__(self, table: Table, index: list[str]) -> None:
        self._statements: dict[str, Insert] = {
            name: dialect.insert(table).on_conflict_do_nothing(index_elements=index)
            .returning(table.c.id)
            for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
        }

    def __call__(self, session: Session, values: dict[str, Any]) -> Any:
        """Insert the row; return its new id, or None if it already existed."""
        statement = self._statements[session.get_bind().dialect.name]
        return session.execute(statement, values).scalar()
