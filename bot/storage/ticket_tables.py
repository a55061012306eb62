"""The volunteers' tables: volunteers, their link codes, tickets, ticket messages and
the audit log.

Privacy by structure: a ticket points to its parent (contact) only through a foreign
key that is set to NULL when the parent erases their data, so the anonymous numbers
(times, language, satisfaction) stay for the statistics; the ticket's messages
cascade with the contact, so the words go with the parent. Volunteers are never
deleted, only marked removed, so the audit log keeps who did what.
Every change here needs an Alembic migration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from bot.storage.fields import reference_field, time_field


class Volunteer(SQLModel, table=True):
    """A peer volunteer. `display_name` is for operators and the audit log only: parents
    never see it. `contact_id` is the Telegram chat linked with a one-time code."""

    __tablename__ = "volunteers"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(max_length=100)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    regions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    school_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    interface_language: str = Field(default="en", max_length=10)
    contact_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True, unique=True))
    linked_at: datetime | None = time_field()
    removed_at: datetime | None = time_field()
    created_at: datetime = time_field(nullable=False)


class VolunteerLinkCode(SQLModel, table=True):
    """A one-time code that links a Telegram chat to a volunteer. Only its SHA-256 is
    kept: the code is shown once."""

    __tablename__ = "volunteer_link_codes"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = reference_field("volunteers", "CASCADE", nullable=False)
    code_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = time_field(nullable=False)
    used_at: datetime | None = time_field()
    created_at: datetime = time_field(nullable=False)


class Ticket(SQLModel, table=True):
    """A parent's question for a person. Volunteers know it only as "Parent <pseudonym>".

    status: open (waiting for a volunteer), claimed, closed (answered), withdrawn (by
    the parent, or because the parent erased their data). `prompt` is the question the
    bot put to the parent about this ticket ("withdraw" or "rating") and
    `prompt_question` its question number, so a button press can be recognised.
    """

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status", "status", "priority", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    pseudonym: int = Field(unique=True)
    contact_id: int | None = reference_field("contacts", "SET NULL")
    language: str = Field(max_length=10)
    region: str | None = Field(default=None, max_length=40)
    school_id: int | None = reference_field("schools", "SET NULL")
    topic: str = Field(max_length=60)
    flow: str | None = Field(default=None, max_length=60)
    stage: str | None = Field(default=None, max_length=40)
    priority: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    status: str = Field(default="open", max_length=12)
    claimed_by: int | None = reference_field("volunteers", "SET NULL")
    prompt: str | None = Field(default=None, max_length=12)
    prompt_question: int | None = None
    satisfaction: int | None = None
    created_at: datetime = time_field(nullable=False)
    notified_at: datetime | None = time_field()  # volunteers of the parent's language told
    widened_at: datetime | None = time_field()  # everyone else told, with machine translation
    claimed_at: datetime | None = time_field()
    first_answer_at: datetime | None = time_field()
    closed_at: datetime | None = time_field()
    rating_asked_at: datetime | None = time_field()  # sent after the volunteer's last words
    reminded_at: datetime | None = time_field()
    escalated_at: datetime | None = time_field()


class TicketMessage(SQLModel, table=True):
    """One message of a ticket, waiting to be relayed or relayed.

    direction: "to_volunteer" (the parent wrote) or "to_parent" (a volunteer wrote).
    The relay job fills `translation` when the reader needs another language, then
    writes the outbox rows and marks the message `sent`. The row goes with the parent
    (`contact_id` cascades) and with the retention period.
    """

    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_relay", "relay_status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = reference_field("tickets", "CASCADE", nullable=False)
    contact_id: int = reference_field("contacts", "CASCADE", nullable=False)
    direction: str = Field(max_length=12)
    volunteer_id: int | None = reference_field("volunteers", "SET NULL", index=False)
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(max_length=10)
    # The copy relayed to the reader, when it was machine translated (already marked).
    translation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    translation_language: str | None = Field(default=None, max_length=10)
    relay_status: str = Field(default="pending", max_length=10)  # pending, sent
    created_at: datetime = time_field(nullable=False, index=True)
    relayed_at: datetime | None = time_field()


class AuditEntry(SQLModel, table=True):
    """Who did what with which ticket: claimed, viewed, answered, released, closed,
    and the system's reminders and escalations (no volunteer). No message text."""

    __tablename__ = "ticket_audit"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int | None = reference_field("volunteers", "SET NULL")
    ticket_id: int | None = reference_field("tickets", "SET NULL")
    action: str = Field(max_length=20)
    detail: str | None = Field(default=None, max_length=200)
    at: datetime = time_field(nullable=False, index=True)
