"""The durable inbox: inbound messages are stored first, under their provider id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.messages import InboundMessage
from bot.storage.contacts import contact_id_for, find_contact
from bot.storage.tables import CONTACTS, MESSAGE_LOG, MessageLog
from bot.storage.upsert import InsertIgnoringConflicts

# Statements of the hot path, built once.
_LOG = MESSAGE_LOG
_CONTACTS = CONTACTS
_INSERT = InsertIgnoringConflicts(_LOG, ["channel", "direction", "provider_id"])
# Bound names differ from column names: SQLAlchemy reserves those in UPDATE.
_SET_CONTACT = update(_LOG).where(_LOG.c.id == bindparam("row_id")).values(
    contact_id=bindparam("owner"))
_TOUCH_CONTACT = update(_CONTACTS).where(_CONTACTS.c.id == bindparam("owner")).values(
    last_inbound_at=bindparam("at"))
_PENDING = core_select(_LOG.c.id, _LOG.c.text, _LOG.c.payload).where(
    _LOG.c.contact_id == bindparam("contact_id"), _LOG.c.direction == "in",
    _LOG.c.status == "received").order_by(_LOG.c.id)
_HANDLED = update(_LOG).where(_LOG.c.id.in_(bindparam("ids", expanding=True))).values(
    status="handled", handled_at=bindparam("at"))


@dataclass(frozen=True)
class Stored:
    """Where an inbound message went: its contact, and whether it was new."""

    contact_id: int | None
    new: bool


def store_inbound(session: Session, message: InboundMessage) -> Stored:
    """Store one inbound message; a repeat delivery (same channel and provider id) is
    recognised and changes nothing, not even for a contact erased since."""
    contact_id = find_contact(session, message.channel, message.address)
    payload = {key: value for key, value in (
        ("choice", message.choice), ("question", message.question),
        ("language_hint", message.language_hint)) if value is not None} or None
    row_id = _INSERT(session, {
        "contact_id": contact_id,
        "channel": message.channel,
        "direction": "in",
        "provider_id": message.provider_id,
        "text": message.text,
        "payload": payload,
        "status": "received",
        "created_at": message.received_at,
    })
    if row_id is None:
        return Stored(None, new=False)
    if contact_id is None:  # a new parent: only now, so a repeat never creates one
        contact_id = contact_id_for(session, message.channel, message.address,
                                    message.received_at)
        session.execute(_SET_CONTACT, {"row_id": row_id, "owner": contact_id})
    session.execute(_TOUCH_CONTACT, {"owner": contact_id, "at": message.received_at})
    return Stored(contact_id, new=True)


@dataclass(frozen=True)
class Pending:
    """A stored message waiting to be handled."""

    id: int
    text: str | None
    payload: dict[str, Any] | None


def pending_inbound(session: Session, contact_id: int) -> list[Pending]:
    """The contact's stored messages not yet handled, oldest first."""
    rows = session.execute(_PENDING, {"contact_id": contact_id})
    return [Pending(row_id, text, payload) for row_id, text, payload in rows]


def mark_handled(session: Session, ids: list[int], now: datetime, *,
                 forget_text: bool = False) -> None:
    """Mark messages handled; `forget_text` also drops their text (after an erasure)."""
    if forget_text:
        session.execute(update(_LOG).where(_LOG.c.id.in_(ids)).values(
            status="handled", handled_at=now, text=None, payload=None, contact_id=None))
    else:
        session.execute(_HANDLED, {"ids": ids, "at": now})


def contacts_with_pending(session: Session, limit: int = 500) -> list[int]:
    """Contacts with unhandled messages, e.g. after a crash between store and handle."""
    rows = session.exec(select(MessageLog.contact_id).where(
        MessageLog.direction == "in", MessageLog.status == "received",
        col(MessageLog.contact_id).is_not(None)).distinct().limit(limit))
    return [row for row in rows if row is not None]
