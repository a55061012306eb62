"""Saved conversation state, one row per contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from bot.storage.tables import SESSIONS

_TABLE = SESSIONS
_LOAD = select(_TABLE.c.state).where(_TABLE.c.contact_id == bindparam("contact_id"))
# Bound names differ from column names: SQLAlchemy reserves those in INSERT and UPDATE.
_SAVE = update(_TABLE).where(_TABLE.c.contact_id == bindparam("key")).values(
    state=bindparam("new_state"), updated_at=bindparam("at"))
_CREATE = insert(_TABLE).values(contact_id=bindparam("key"), state=bindparam("new_state"),
                                updated_at=bindparam("at"))


def load_state(session: Session, contact_id: int) -> dict[str, Any] | None:
    """The saved state as JSON data, or None for a new conversation."""
    state = session.execute(_LOAD, {"contact_id": contact_id}).scalar()
    return dict(state) if state is not None else None


def save_state(session: Session, contact_id: int, state: dict[str, Any], now: datetime) -> None:
    """Save the state (inserted or replaced). The caller holds the contact's lock."""
    values = {"key": contact_id, "new_state": state, "at": now}
    changed = session.execute(_SAVE, values)
    if not getattr(changed, "rowcount", 0):
        session.execute(_CREATE, values)
