"""Alembic environment: migrations run on the connection `bot.storage.migrate` passes."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import bot.storage.tables  # noqa: F401  (registers the tables on the metadata)

config = context.config


def _render_item(kind: str, item: Any, _context: Any) -> str | Literal[False]:
    """Write SQLModel's string type as plain SQLAlchemy types in new migrations."""
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.Text()"
    return False


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=SQLModel.metadata,
                      render_as_batch=True, compare_type=True, render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as new_connection:
        _run(new_connection)
