"""The schools' tables: schools, their staff tokens and groups, the parents who joined,
children (stage only), meetings, invitations and reminders.

Rows linked to a contact cascade when the contact is erased. Every change here needs
an Alembic migration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage.fields import reference_field, time_field


class School(SQLModel, table=True):
    """A school. `timezone` is an IANA name; reminders respect its quiet hours."""

    __tablename__ = "schools"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    region: str = Field(max_length=40)
    timezone: str = Field(max_length=60)
    language: str = Field(max_length=10)  # the school's own language (for notes)
    invite_code: str = Field(max_length=20, unique=True)
    # Minutes before a meeting; by default 7 days, 1 day and 2 hours.
    reminder_offsets: list[int] = Field(default_factory=lambda: [10080, 1440, 120],
                                        sa_column=Column(JSON, nullable=False))
    quiet_start: str = Field(default="21:00", max_length=5)  # HH:MM, school time
    quiet_end: str = Field(default="08:00", max_length=5)
    # How the school wants to hear about unanswered questions (an e-mail address or a
    # staff member's name); shown to operators, never to parents.
    escalation_contact: str | None = Field(default=None, max_length=200)
    created_at: datetime = time_field(nullable=False)


class SchoolToken(SQLModel, table=True):
    """A staff API token. Only its SHA-256 is kept: the token is shown once."""

    __tablename__ = "school_tokens"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = reference_field("schools", "CASCADE", nullable=False)
    token_hash: str = Field(max_length=64, unique=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = time_field(nullable=False)
    revoked_at: datetime | None = time_field()


class SchoolGroup(SQLModel, table=True):
    """A group (class) within a school."""

    __tablename__ = "school_groups"
    __table_args__ = (UniqueConstraint("school_id", "name", name="uq_school_groups_name"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = reference_field("schools", "CASCADE", nullable=False)
    name: str = Field(max_length=60)


class Membership(SQLModel, table=True):
    """A parent (contact) who belongs to a school, maybe in a group."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("school_id", "contact_id", name="uq_memberships"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = reference_field("schools", "CASCADE", nullable=False)
    contact_id: int = reference_field("contacts", "CASCADE", nullable=False)
    group_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("school_groups.id", ondelete="SET NULL"), nullable=True))
    source: str = Field(default="code", max_length=10)  # code (joined) or import
    consent_at: datetime | None = time_field()
    joined_at: datetime = time_field(nullable=False)


class Child(SQLModel, table=True):
    """A child, kept to a minimum: no name, only the school stage."""

    __tablename__ = "children"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = reference_field("contacts", "CASCADE", nullable=False)
    school_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("schools.id", ondelete="SET NULL"), nullable=True))
    stage: str = Field(max_length=40)
    created_at: datetime = time_field(nullable=False)


class Meeting(SQLModel, table=True):
    """A school meeting. `version` grows with every change parents are told about."""

    __tablename__ = "meetings"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = reference_field("schools", "CASCADE", nullable=False)
    # oudercontact, learning_discussion, study_choice_evening, joint_application_evening,
    # other
    kind: str = Field(max_length=40)
    title: str | None = Field(default=None, max_length=200)
    starts_at: datetime = time_field(nullable=False)
    ends_at: datetime = time_field(nullable=False)
    place: str | None = Field(default=None, max_length=300)
    online_url: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="scheduled", max_length=12)  # scheduled, cancelled
    version: int = 1
    followup: bool = True  # ask parents afterwards what was agreed
    created_at: datetime = time_field(nullable=False)
    updated_at: datetime = time_field(nullable=False)


class Invitation(SQLModel, table=True):
    """One parent invited to one meeting, maybe with a time slot of their own."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("meeting_id", "contact_id", name="uq_invitations"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = reference_field("meetings", "CASCADE", nullable=False)
    contact_id: int = reference_field("contacts", "CASCADE", nullable=False)
    slot_start: datetime | None = time_field()
    slot_end: datetime | None = time_field()
    # None (no answer yet), coming, not_coming, other_time, interpreter
    rsvp: str | None = Field(default=None, max_length=20)
    rsvp_at: datetime | None = time_field()
    # A random token for the calendar link (/ics/{token}); not guessable.
    calendar_token: str = Field(max_length=32, unique=True)
    created_at: datetime = time_field(nullable=False)


class Reminder(SQLModel, table=True):
    """A message due to an invited parent. These rows are the truth: a worker locks
    due rows and turns them into outbox rows in the same transaction, so a row is
    either still pending or done, never half-way.

    kind: reminder, changed, cancelled, followup. status: pending, sent, missed,
    unsendable, cancelled; `reason` says why. `claim_token` names the worker's batch.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        # One row per invitation, kind, offset and meeting version: planning twice is
        # harmless.
        UniqueConstraint("invitation_id", "kind", "offset_minutes", "meeting_version",
                         name="uq_reminders_plan"),
        Index("ix_reminders_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = reference_field("invitations", "CASCADE", nullable=False)
    kind: str = Field(max_length=12)
    offset_minutes: int = 0
    meeting_version: int = 1
    due_at: datetime = time_field(nullable=False)
    status: str = Field(default="pending", max_length=12)
    claim_token: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=300)
    channel: str | None = Field(default=None, max_length=20)  # where it went
    outbox_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("outbox.id", ondelete="SET NULL"), nullable=True))
    processed_at: datetime | None = time_field()
    created_at: datetime = time_field(nullable=False)


SCHOOLS = SQLModel.metadata.tables["schools"]
MEETINGS = SQLModel.metadata.tables["meetings"]
INVITATIONS = SQLModel.metadata.tables["invitations"]
REMINDERS = SQLModel.metadata.tables["reminders"]
