"""Helpers for the reminder tests: a school, parents, a meeting and invitations, written
straight into the tables (the schools' API has its own tests)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session, select

from bot.storage.database import Database
from bot.storage.school_tables import INVITATIONS, Meeting, Reminder, School
from bot.storage.tables import CONTACTS, Contact


def add_school(session: Session, now: datetime, *, timezone: str = "Europe/Brussels",
               language: str = "nl", offsets: Sequence[int] = (10080, 1440, 120),
               quiet: tuple[str, str] = ("21:00", "08:00")) -> int:
    """A school with the given schedule; returns its id."""
    school = School(name="Test school", region="flanders", timezone=timezone,
                    language=language, invite_code=secrets.token_hex(4),
                    reminder_offsets=list(offsets), quiet_start=quiet[0], quiet_end=quiet[1],
                    created_at=now)
    session.add(school)
    session.flush()
    assert school.id is not None
    return school.id


def add_meeting(session: Session, school_id: int, starts_at: datetime, *,
                kind: str = "oudercontact", minutes: int = 60, note: str | None = None,
                place: str | None = "Room 12", online_url: str | None = None,
                followup: bool = True) -> int:
    """A meeting of `minutes` at `starts_at`; returns its id."""
    meeting = Meeting(school_id=school_id, kind=kind, starts_at=starts_at,
                      ends_at=starts_at + timedelta(minutes=minutes), place=place,
                      online_url=online_url, note=note, followup=followup,
                      created_at=starts_at - timedelta(days=30),
                      updated_at=starts_at - timedelta(days=30))
    session.add(meeting)
    session.flush()
    assert meeting.id is not None
    return meeting.id


def add_parents(session: Session, count: int, now: datetime, *, channel: str = "telegram",
                language: str | None = "en", first: int = 1000,
                last_inbound_at: datetime | None = None) -> list[int]:
    """`count` contacts on one channel with addresses first, first+1, ...; their ids."""
    session.execute(insert(CONTACTS), [{
        "channel": channel, "address": _address(channel, first + number),
        "language": language, "created_at": now, "last_inbound_at": last_inbound_at,
    } for number in range(count)])
    rows = session.execute(select(CONTACTS.c.id).where(
        CONTACTS.c.channel == channel,
        CONTACTS.c.address.in_([_address(channel, first + n) for n in range(count)])))
    return sorted(int(row[0]) for row in rows)


def add_parent(session: Session, channel: str, address: str, now: datetime, *,
               language: str | None = "en", last_inbound_at: datetime | None = None) -> int:
    """One contact with this address; its id."""
    contact = Contact(channel=channel, address=address, language=language, created_at=now,
                      last_inbound_at=last_inbound_at)
    session.add(contact)
    session.flush()
    assert contact.id is not None
    return contact.id


def invite(session: Session, meeting_id: int, contact_ids: Sequence[int], now: datetime, *,
           slot_start: datetime | None = None) -> None:
    """Invite the contacts (each with the same slot, if given)."""
    session.execute(insert(INVITATIONS), [{
        "meeting_id": meeting_id, "contact_id": contact_id, "slot_start": slot_start,
        "slot_end": slot_start + timedelta(minutes=15) if slot_start else None,
        "calendar_token": secrets.token_urlsafe(16), "created_at": now,
    } for contact_id in contact_ids])


def reminders(db: Database) -> list[Reminder]:
    """Every reminder row, in id order."""
    with db.session() as session:
        return list(session.exec(select(Reminder).order_by(Reminder.id)))  # type: ignore[arg-type]


def _address(channel: str, number: int) -> str:
    return f"whatsapp:+3247{number:07d}" if channel == "whatsapp" else str(number)
