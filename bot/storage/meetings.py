"""Queries for a school's meetings, their invitations and the parents' answers (RSVP).

Every query takes the school's id and filters by it: another school's meeting looks
exactly like one that does not exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.storage.school_tables import Invitation, Meeting, Membership, SchoolGroup
from bot.storage.tables import Contact


def add_meeting(session: Session, meeting: Meeting) -> Meeting:
    """Store a new meeting (its school_id set by the caller)."""
    session.add(meeting)
    session.flush()
    return meeting


def get_meeting(session: Session, school_id: int, meeting_id: int) -> Meeting | None:
    """One of the school's meetings."""
    return session.exec(select(Meeting).where(
        Meeting.id == meeting_id, Meeting.school_id == school_id)).first()


def list_meetings(session: Session, school_id: int, *, since: datetime | None = None,
                  include_cancelled: bool = True) -> list[Meeting]:
    """The school's meetings by start time; only those ending after `since` if given."""
    query = select(Meeting).where(Meeting.school_id == school_id)
    if since is not None:
        query = query.where(Meeting.ends_at > since)
    if not include_cancelled:
        query = query.where(Meeting.status != "cancelled")
    return list(session.exec(query.order_by(col(Meeting.starts_at), col(Meeting.id))))


def save_meeting(session: Session, meeting: Meeting) -> None:
    """Write a changed meeting."""
    session.add(meeting)
    session.flush()


# -- invitations ---------------------------------------------------------------------------


def invitations_by_contact(session: Session, meeting_id: int,
                           contact_ids: Collection[int]) -> dict[int, Invitation]:
    """The meeting's invitations of these contacts, by contact id. The caller has already
    checked that the meeting is the school's."""
    if not contact_ids:
        return {}
    rows = session.exec(select(Invitation).where(
        Invitation.meeting_id == meeting_id, col(Invitation.contact_id).in_(contact_ids)))
    return {row.contact_id: row for row in rows}


def add_invitation(session: Session, meeting_id: int, contact_id: int, *,
                   slot_start: datetime | None, slot_end: datetime | None,
                   now: datetime) -> Invitation:
    """Invite a contact, with a fresh unguessable calendar token."""
    invitation = Invitation(meeting_id=meeting_id, contact_id=contact_id, slot_start=slot_start,
                            slot_end=slot_end, calendar_token=secrets.token_urlsafe(16),
                            created_at=now)
    session.add(invitation)
    return invitation


def save_invitation(session: Session, invitation: Invitation) -> None:
    """Write a changed invitation (e.g. a new slot)."""
    session.add(invitation)


def slotted_invitations(session: Session, meeting_id: int) -> list[Invitation]:
    """The meeting's invitations that have a time slot of their own."""
    return list(session.exec(select(Invitation).where(
        Invitation.meeting_id == meeting_id, col(Invitation.slot_start).is_not(None))))


@dataclass(frozen=True)
class InvitationRow:
    """An invitation as the school sees it. `address` is for masking only."""

    id: int
    parent_id: int | None  # the membership; None if the parent left the school since
    channel: str
    address: str
    language: str | None
    group: str | None
    slot_start: datetime | None
    slot_end: datetime | None
    rsvp: str | None
    rsvp_at: datetime | None


_INVITATION_COLUMNS = (
    col(Invitation.id), col(Membership.id), col(Contact.channel), col(Contact.address),
    col(Contact.language), col(SchoolGroup.name), col(Invitation.slot_start),
    col(Invitation.slot_end), col(Invitation.rsvp), col(Invitation.rsvp_at))


def list_invitations(session: Session, school_id: int, meeting_id: int) -> list[InvitationRow]:
    """The meeting's invitations with the answers, by id. Empty for another school's
    meeting (callers check the meeting first, to answer "not found")."""
    query = (core_select(*_INVITATION_COLUMNS)
             .join(Meeting, col(Meeting.id) == col(Invitation.meeting_id))
             .join(Contact, col(Contact.id) == col(Invitation.contact_id))
             .join(Membership, (col(Membership.contact_id) == col(Invitation.contact_id))
                   & (col(Membership.school_id) == col(Meeting.school_id)), isouter=True)
             .join(SchoolGroup, col(SchoolGroup.id) == col(Membership.group_id), isouter=True)
             .where(col(Meeting.id) == meeting_id, col(Meeting.school_id) == school_id)
             .order_by(col(Invitation.id)))
    return [InvitationRow(*row) for row in session.execute(query)]


def rsvp_counts(session: Session, school_id: int, meeting_id: int) -> dict[str | None, int]:
    """How many invited parents gave each answer (None: no answer yet)."""
    rows = session.execute(
        core_select(col(Invitation.rsvp), func.count(col(Invitation.id)))
        .join(Meeting, col(Meeting.id) == col(Invitation.meeting_id))
        .where(col(Meeting.id) == meeting_id, col(Meeting.school_id) == school_id)
        .group_by(col(Invitation.rsvp)))
    return dict(rows.all())
