"""Tickets and their messages: opening, claiming, relaying, closing, auditing.

State changes that volunteers race for (claim, release, close) are single conditional
UPDATEs: the row count says who won, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.storage.school_tables import Child, Membership
from bot.storage.ticket_tables import AuditEntry, Ticket, TicketMessage

ACTIVE = ("open", "claimed")
TO_VOLUNTEER, TO_PARENT = "to_volunteer", "to_parent"
RATING, WITHDRAW = "rating", "withdraw"  # what the bot asked the parent about a ticket

# Pseudonyms start with four digits ("Parent 4821"); when those run short, five.
_PSEUDONYM_TRIES = 20


def new_ticket(session: Session, **fields: Any) -> Ticket:
    """Insert a ticket with a fresh random pseudonym; return it (with its id)."""
    low, high = 1000, 10000
    for attempt in range(_PSEUDONYM_TRIES):
        if attempt and attempt % 5 == 0:
            low, high = high, high * 10
        pseudonym = low + secrets.randbelow(high - low)
        if session.exec(select(Ticket.id).where(Ticket.pseudonym == pseudonym)).first():
            continue
        ticket = Ticket(pseudonym=pseudonym, **fields)
        savepoint = session.begin_nested()
        try:
            session.add(ticket)
            session.flush()
        except IntegrityError:  # another parent's ticket took the number just now
            savepoint.rollback()
            continue
        savepoint.commit()
        return ticket
    raise RuntimeError("no free ticket pseudonym")


def school_of(session: Session, contact_id: int) -> int | None:
    """The school the parent joined most recently, if any."""
    return session.exec(select(Membership.school_id).where(
        Membership.contact_id == contact_id).order_by(
        col(Membership.joined_at).desc()).limit(1)).first()


def child_stage(session: Session, contact_id: int) -> str | None:
    """The stage of the parent's most recently registered child, if a school told us."""
    return session.exec(select(Child.stage).where(Child.contact_id == contact_id).order_by(
        col(Child.created_at).desc()).limit(1)).first()


def current_for_contact(session: Session, contact_id: int) -> Ticket | None:
    """The parent's ticket the bot is busy with: open, claimed, or closed and waiting for
    the parent's rating."""
    return session.exec(select(Ticket).where(
        Ticket.contact_id == contact_id,
        or_(col(Ticket.status).in_(ACTIVE), col(Ticket.prompt) == RATING),
    ).order_by(col(Ticket.id).desc()).limit(1)).first()


def by_pseudonym(session: Session, pseudonym: int) -> Ticket | None:
    """The ticket known to volunteers as "Parent <pseudonym>"."""
    return session.exec(select(Ticket).where(Ticket.pseudonym == pseudonym)).first()


def add_message(session: Session, ticket: Ticket, *, direction: str, text: str,
                language: str, now: datetime, volunteer_id: int | None = None) -> None:
    """Store a message of the ticket; the relay job delivers it."""
    assert ticket.id is not None
    assert ticket.contact_id is not None
    session.add(TicketMessage(ticket_id=ticket.id, contact_id=ticket.contact_id,
                              direction=direction, volunteer_id=volunteer_id, text=text,
                              language=language, created_at=now))
    session.flush()


def messages_of(session: Session, ticket_id: int, *, direction: str | None = None
                ) -> list[TicketMessage]:
    """A ticket's stored messages, oldest first."""
    query = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    if direction is not None:
        query = query.where(TicketMessage.direction == direction)
    return list(session.exec(query.order_by(col(TicketMessage.id))))


def set_fields(session: Session, ticket_id: int, **values: Any) -> None:
    """Change some of a ticket's fields."""
    session.execute(update(Ticket).where(col(Ticket.id) == ticket_id).values(**values))


def claim(session: Session, ticket_id: int, volunteer_id: int, now: datetime) -> bool:
    """Give an open ticket to a volunteer. Exactly one of several racing claims wins."""
    result = session.execute(update(Ticket).where(
        col(Ticket.id) == ticket_id, col(Ticket.status) == "open",
        col(Ticket.contact_id).is_not(None),
    ).values(status="claimed", claimed_by=volunteer_id,
             claimed_at=func.coalesce(col(Ticket.claimed_at), now)))
    return _changed(result)


def release(session: Session, ticket_id: int, volunteer_id: int) -> bool:
    """Hand a claimed ticket back to the queue; volunteers are told about it again."""
    result = session.execute(update(Ticket).where(
        col(Ticket.id) == ticket_id, col(Ticket.status) == "claimed",
        col(Ticket.claimed_by) == volunteer_id,
    ).values(status="open", claimed_by=None, notified_at=None, widened_at=None))
    return _changed(result)


def close(session: Session, ticket_id: int, volunteer_id: int, now: datetime,
          rating_question: int) -> bool:
    """Close a claimed ticket as answered; the parent is being asked for a rating."""
    result = session.execute(update(Ticket).where(
        col(Ticket.id) == ticket_id, col(Ticket.status) == "claimed",
        col(Ticket.claimed_by) == volunteer_id,
    ).values(status="closed", closed_at=now, prompt=RATING, prompt_question=rating_question))
    return _changed(result)


def withdraw(session: Session, ticket_id: int, now: datetime) -> bool:
    """The parent takes the question back (or left): the ticket ends unanswered."""
    result = session.execute(update(Ticket).where(
        col(Ticket.id) == ticket_id, col(Ticket.status).in_(ACTIVE),
    ).values(status="withdrawn", closed_at=now, prompt=None, prompt_question=None))
    return _changed(result)


def claimed_by(session: Session, volunteer_id: int) -> list[Ticket]:
    """The tickets a volunteer holds now, oldest first."""
    return list(session.exec(select(Ticket).where(
        Ticket.claimed_by == volunteer_id, Ticket.status == "claimed").order_by(
        col(Ticket.id))))


def waiting(session: Session) -> list[Ticket]:
    """Open tickets whose parent is still there: priority first, then oldest first."""
    return list(session.exec(select(Ticket).where(
        Ticket.status == "open", col(Ticket.contact_id).is_not(None)).order_by(
        col(Ticket.priority).desc(), col(Ticket.created_at), col(Ticket.id))))


def orphaned(session: Session) -> list[Ticket]:
    """Active tickets whose parent erased their data."""
    return list(session.exec(select(Ticket).where(
        col(Ticket.status).in_(ACTIVE), col(Ticket.contact_id).is_(None))))


def pending_relays(session: Session, limit: int = 200) -> list[tuple[TicketMessage, Ticket]]:
    """Messages to relay, with their ticket, oldest first. A parent's words for a ticket
    nobody holds wait (they go to whoever claims it), so they are left out."""
    rows = session.exec(select(TicketMessage, Ticket).join(
        Ticket, col(Ticket.id) == col(TicketMessage.ticket_id)).where(
        TicketMessage.relay_status == "pending",
        or_(col(TicketMessage.direction) == TO_PARENT, col(Ticket.status) != "open"),
    ).order_by(col(TicketMessage.id)).limit(limit))
    return [(message, ticket) for message, ticket in rows]


def mark_relayed(session: Session, message_id: int, now: datetime, *,
                 translation: str | None, translation_language: str | None,
                 status: str = "sent") -> bool:
    """Mark a message relayed (or dropped); False if another worker did it first."""
    result = session.execute(update(TicketMessage).where(
        col(TicketMessage.id) == message_id, col(TicketMessage.relay_status) == "pending",
    ).values(relay_status=status, relayed_at=now, translation=translation,
             translation_language=translation_language))
    return _changed(result)


def first_words(session: Session, ticket_id: int) -> TicketMessage | None:
    """The parent's first message of a ticket (what volunteers are told about)."""
    return session.exec(select(TicketMessage).where(
        TicketMessage.ticket_id == ticket_id, TicketMessage.direction == TO_VOLUNTEER).order_by(
        col(TicketMessage.id)).limit(1)).first()


def mark_notified(session: Session, ticket_id: int, now: datetime, *, widen: bool) -> bool:
    """Record that volunteers were told about an open ticket: those of its language
    (`widen` False) or everyone (`widen` True). False if this was done already."""
    done = col(Ticket.widened_at) if widen else col(Ticket.notified_at)
    values: dict[str, Any] = {"notified_at": func.coalesce(col(Ticket.notified_at), now)}
    if widen:
        values["widened_at"] = now
    result = session.execute(update(Ticket).where(
        col(Ticket.id) == ticket_id, col(Ticket.status) == "open", done.is_(None),
    ).values(**values))
    return _changed(result)


def mark_once(session: Session, ticket_id: int, column: str, now: datetime) -> bool:
    """Set an open ticket's `reminded_at` or `escalated_at`, once; False if it was set."""
    assert column in ("reminded_at", "escalated_at")
    result = session.execute(update(Ticket).where(
        col(Ticket.id) == ticket_id, col(Ticket.status) == "open",
        getattr(Ticket, column).is_(None)).values({column: now}))
    return _changed(result)


def ratings_due(session: Session) -> list[Ticket]:
    """Closed tickets whose parent is still to be asked for a rating, once every answer
    of the volunteer has been relayed (so the question comes after the answer)."""
    unsent = select(TicketMessage.id).where(
        col(TicketMessage.ticket_id) == col(Ticket.id),
        TicketMessage.direction == TO_PARENT, TicketMessage.relay_status == "pending")
    return list(session.exec(select(Ticket).where(
        Ticket.status == "closed", Ticket.prompt == RATING,
        col(Ticket.rating_asked_at).is_(None), col(Ticket.contact_id).is_not(None),
        ~unsent.exists())))


def mark_rating_asked(session: Session, ticket_id: int, now: datetime) -> bool:
    """Record that the parent was asked for a rating; False if that was done already."""
    result = session.execute(update(Ticket).where(
        col(Ticket.id) == ticket_id, col(Ticket.rating_asked_at).is_(None)).values(
        rating_asked_at=now))
    return _changed(result)


def all_tickets(session: Session, *, school_id: int | None = None,
                status: str | None = None) -> list[Ticket]:
    """Tickets, oldest first; optionally of one school or in one status."""
    query = select(Ticket).order_by(col(Ticket.id))
    if school_id is not None:
        query = query.where(Ticket.school_id == school_id)
    if status is not None:
        query = query.where(Ticket.status == status)
    return list(session.exec(query))


def audit_trail(session: Session, ticket_id: int) -> list[AuditEntry]:
    """What happened to a ticket, in order."""
    return list(session.exec(select(AuditEntry).where(AuditEntry.ticket_id == ticket_id)
                             .order_by(col(AuditEntry.id))))


def audit(session: Session, action: str, now: datetime, *, ticket_id: int | None,
          volunteer_id: int | None = None, detail: str | None = None) -> None:
    """Record who did what with which ticket (never message text)."""
    session.add(AuditEntry(volunteer_id=volunteer_id, ticket_id=ticket_id, action=action,
                           detail=detail, at=now))


def requeue_parent_words(session: Session, ticket_id: int) -> None:
    """Relay the parent's words of a ticket again (to the volunteer who claimed it)."""
    session.execute(update(TicketMessage).where(
        col(TicketMessage.ticket_id) == ticket_id,
        col(TicketMessage.direction) == TO_VOLUNTEER).values(relay_status="pending"))


def _changed(result: Any) -> bool:
    return bool(getattr(result, "rowcount", 0))
