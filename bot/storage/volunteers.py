"""Volunteers: registering, linking a Telegram chat with a one-time code, removing."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.storage.tables import Contact
from bot.storage.ticket_tables import Volunteer, VolunteerLinkCode

# Link codes: lower-case letters and digits without look-alikes, easy to type.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_PREFIX = "v-"
CODE_LENGTH = 10
CODE_LIFETIME = timedelta(days=7)


def add_volunteer(session: Session, *, display_name: str, languages: Sequence[str],
                  regions: Sequence[str], school_ids: Sequence[int], interface_language: str,
                  now: datetime) -> Volunteer:
    """Register a volunteer; they link their Telegram chat with a code afterwards."""
    volunteer = Volunteer(display_name=display_name, languages=list(dict.fromkeys(languages)),
                          regions=list(dict.fromkeys(regions)),
                          school_ids=sorted(set(school_ids)),
                          interface_language=interface_language, created_at=now)
    session.add(volunteer)
    session.flush()
    return volunteer


def get_volunteer(session: Session, volunteer_id: int) -> Volunteer | None:
    """The volunteer with this id (removed ones too)."""
    return session.get(Volunteer, volunteer_id)


def list_volunteers(session: Session, *, school_id: int | None = None,
                    include_removed: bool = False) -> list[Volunteer]:
    """Volunteers by id; with `school_id`, only those serving that school."""
    query = select(Volunteer).order_by(col(Volunteer.id))
    if not include_removed:
        query = query.where(col(Volunteer.removed_at).is_(None))
    found = list(session.exec(query))
    if school_id is not None:
        found = [v for v in found if school_id in v.school_ids]
    return found


def active_linked(session: Session) -> list[tuple[Volunteer, Contact]]:
    """Volunteers who can work now (not removed, with a linked chat) and their chat."""
    rows = session.exec(select(Volunteer, Contact).join(
        Contact, col(Contact.id) == col(Volunteer.contact_id)).where(
        col(Volunteer.removed_at).is_(None)).order_by(col(Volunteer.id)))
    return [(volunteer, contact) for volunteer, contact in rows]


def chat_of(session: Session, volunteer_id: int) -> Contact | None:
    """The linked chat of a volunteer who is not removed."""
    return session.exec(select(Contact).join(
        Volunteer, col(Contact.id) == col(Volunteer.contact_id)).where(
        col(Volunteer.id) == volunteer_id, col(Volunteer.removed_at).is_(None))).first()


def for_contact(session: Session, contact_id: int) -> Volunteer | None:
    """The volunteer linked to this chat, removed or not."""
    return session.exec(select(Volunteer).where(Volunteer.contact_id == contact_id)).first()


def remove_volunteer(session: Session, volunteer_id: int, now: datetime) -> bool:
    """End a volunteer's access at once: mark them removed and void their codes. Their
    claimed tickets are released by the caller. False if already removed or unknown."""
    result = session.execute(update(Volunteer).where(
        col(Volunteer.id) == volunteer_id, col(Volunteer.removed_at).is_(None)).values(
        removed_at=now))
    session.execute(update(VolunteerLinkCode).where(
        col(VolunteerLinkCode.volunteer_id) == volunteer_id,
        col(VolunteerLinkCode.used_at).is_(None)).values(used_at=now))
    return bool(getattr(result, "rowcount", 0))


def set_schools(session: Session, volunteer_id: int, school_ids: Sequence[int]) -> None:
    """Change the schools a volunteer serves."""
    session.execute(update(Volunteer).where(col(Volunteer.id) == volunteer_id).values(
        school_ids=sorted(set(school_ids))))


def new_link_code(session: Session, volunteer_id: int, now: datetime) -> str:
    """A fresh one-time code for the volunteer (shown once; only its hash is kept).
    Earlier unused codes of the volunteer stop working."""
    session.execute(update(VolunteerLinkCode).where(
        col(VolunteerLinkCode.volunteer_id) == volunteer_id,
        col(VolunteerLinkCode.used_at).is_(None)).values(used_at=now))
    code = CODE_PREFIX + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))
    session.add(VolunteerLinkCode(volunteer_id=volunteer_id, code_hash=_hash(code),
                                  expires_at=now + CODE_LIFETIME, created_at=now))
    session.flush()
    return code


@dataclass(frozen=True)
class Redeemed:
    """What a code did: linked this volunteer, or was known but no longer valid."""

    volunteer: Volunteer | None


def redeem_link_code(session: Session, code: str, contact_id: int,
                     now: datetime) -> Redeemed | None:
    """Link the chat to the code's volunteer. None if the code is not ours at all (it
    may be a school's join code); `Redeemed(None)` if it is ours but expired or used."""
    found = session.exec(select(VolunteerLinkCode).where(
        VolunteerLinkCode.code_hash == _hash(code))).first()
    if found is None:
        return None
    used = session.execute(update(VolunteerLinkCode).where(
        col(VolunteerLinkCode.id) == found.id, col(VolunteerLinkCode.used_at).is_(None),
        col(VolunteerLinkCode.expires_at) > now).values(used_at=now))
    volunteer = session.get(Volunteer, found.volunteer_id)
    if not getattr(used, "rowcount", 0) or volunteer is None or volunteer.removed_at:
        return Redeemed(None)
    # One chat per volunteer and one volunteer per chat: an earlier link moves here.
    session.execute(update(Volunteer).where(col(Volunteer.contact_id) == contact_id,
                                            col(Volunteer.id) != volunteer.id).values(
        contact_id=None))
    volunteer.contact_id, volunteer.linked_at = contact_id, now
    session.add(volunteer)
    session.flush()
    return Redeemed(volunteer)


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()
