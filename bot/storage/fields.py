"""Column helpers shared by the table modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field

from bot.storage.types import UTCDateTime


def time_field(*, nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware UTC time column."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def reference_field(table: str, ondelete: str, *, nullable: bool = True,
                    index: bool = True) -> Any:
    """A foreign key to `table.id` with the given ON DELETE rule."""
    return Field(default=None, sa_column=Column(
        Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=index))
