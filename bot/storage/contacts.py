"""Contacts: finding, locking, changing and erasing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from bot.storage.tables import CONTACTS, Contact, ConversationSession, MessageLog, OutboxMessage
from bot.storage.upsert import InsertIgnoringConflicts

_TABLE = CONTACTS
_FIND = core_select(_TABLE.c.id).where(_TABLE.c.channel == bindparam("channel"),
                                       _TABLE.c.address == bindparam("address"))
_INSERT = InsertIgnoringConflicts(_TABLE, ["channel", "address"])


def find_contact(session: Session, channel: str, address: str) -> int | None:
    """The id of the contact with this address, if there is one."""
    found = session.execute(_FIND, {"channel": channel, "address": address}).scalar()
    return int(found) if found is not None else None


def contact_id_for(session: Session, channel: str, address: str, now: datetime) -> int:
    """The id of the contact with this address, created if new (safe under concurrency)."""
    found = find_contact(session, channel, address)
    if found is not None:
        return found
    _INSERT(session, {"channel": channel, "address": address, "created_at": now})
    created = find_contact(session, channel, address)
    assert created is not None
    return created


def preset_contact(session: Session, channel: str, address: str, now: datetime, *,
                   language: str | None, region: str | None) -> int:
    """Create or update a contact with a known language and region (local channels)."""
    contact_id = contact_id_for(session, channel, address, now)
    contact = session.get(Contact, contact_id)
    assert contact is not None
    contact.language = language or contact.language
    contact.region = region or contact.region
    session.add(contact)
    return contact_id


@dataclass
class LockedContact:
    """The contact fields a turn needs, read while holding the contact's lock."""

    id: int
    channel: str
    address: str
    language: str | None
    region: str | None
    opted_out: bool


_LOCK = core_select(_TABLE.c.id, _TABLE.c.channel, _TABLE.c.address, _TABLE.c.language,
                    _TABLE.c.region, _TABLE.c.opted_out_at).where(
    _TABLE.c.id == bindparam("owner")).with_for_update()


def lock_contact(session: Session, contact_id: int) -> LockedContact | None:
    """The contact, locked for this transaction so one parent's turns run one at a time."""
    row = session.execute(_LOCK, {"owner": contact_id}).first()
    if row is None:
        return None
    return LockedContact(row.id, row.channel, row.address, row.language, row.region,
                         row.opted_out_at is not None)


def update_contact(session: Session, contact_id: int, changes: dict[str, object]) -> None:
    """Change some of a contact's fields."""
    session.execute(update(_TABLE).where(_TABLE.c.id == contact_id).values(**changes))


def erase_contact(session: Session, contact_id: int) -> None:
    """Erase the contact and everything linked to it.

    Inbound log rows keep only their provider id (no text, no contact), so a late
    repeat delivery of an old message is still recognised and ignored.
    """
    session.execute(update(MessageLog).where(col(MessageLog.contact_id) == contact_id)
                    .values(contact_id=None, text=None, payload=None))
    session.execute(delete(MessageLog).where(col(MessageLog.contact_id).is_(None),
                                             col(MessageLog.direction) == "out"))
    session.execute(delete(OutboxMessage).where(col(OutboxMessage.contact_id) == contact_id))
    session.execute(delete(ConversationSession).where(
        col(ConversationSession.contact_id) == contact_id))
    session.execute(delete(Contact).where(col(Contact.id) == contact_id))


def opt_out(session: Session, contact_id: int, now: datetime) -> bool:
    """Mark a contact opted out because the provider says they cannot be reached (they
    blocked the bot, or unsubscribed); an earlier opt-out time is kept."""
    result = session.execute(update(_TABLE).where(
        _TABLE.c.id == contact_id, _TABLE.c.opted_out_at.is_(None)).values(opted_out_at=now))
    return bool(getattr(result, "rowcount", 0))
