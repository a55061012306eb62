"""The tables. Every change here needs an Alembic migration (`wegwijs db revision`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage.fields import time_field


class Contact(SQLModel, table=True):
    """A parent on one channel. `address` is the channel's id for them: never log it."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_contacts_channel_address"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    address: str = Field(max_length=200)
    language: str | None = Field(default=None, max_length=10)
    region: str | None = Field(default=None, max_length=40)
    consent_at: datetime | None = time_field()
    opted_out_at: datetime | None = time_field()
    last_inbound_at: datetime | None = time_field()
    created_at: datetime = time_field(nullable=False)


class ConversationSession(SQLModel, table=True):
    """The engine's state for one contact, saved between turns."""

    __tablename__ = "conversation_sessions"

    contact_id: int = Field(sa_column=Column(
        Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True))
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = time_field(nullable=False)


class MessageLog(SQLModel, table=True):
    """Every message in and out. Inbound rows are the durable inbox: stored first,
    handled after. The text is erased after the retention period."""

    __tablename__ = "message_log"
    __table_args__ = (
        UniqueConstraint("channel", "direction", "provider_id", name="uq_message_log_provider"),
        Index("ix_message_log_pending", "status", "contact_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True))
    channel: str = Field(max_length=20)
    direction: str = Field(max_length=3)  # "in" or "out"
    provider_id: str = Field(max_length=100)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    payload: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    status: str = Field(max_length=12)  # in: received, handled, failed; out: sent
    created_at: datetime = time_field(nullable=False, index=True)
    handled_at: datetime | None = time_field()


class OutboxMessage(SQLModel, table=True):
    """A message waiting to be sent. Written in the same transaction as the state
    change that caused it; a sender delivers it and records the outcome."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The sender's queue: a channel's pending rows in (priority, id) order.
        Index("ix_outbox_due", "channel", "status", "priority", "id"),
        # A chat's messages go out in order: the sender looks for earlier unsent rows.
        Index("ix_outbox_address", "channel", "address", "status"),
        # Status callbacks find their row by the provider's message id.
        Index("ix_outbox_provider", "channel", "provider_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True))
    channel: str = Field(max_length=20)
    address: str | None = Field(default=None, max_length=200)
    kind: str = Field(default="reply", max_length=20)
    priority: int = 0  # lower goes first: replies in a live conversation before bulk
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # pending; claimed (by a sender until available_at); sending (being handed to the
    # provider; in doubt once the lease is over); sent, failed, cancelled, unconfirmed
    # (an interrupted send the provider cannot confirm): see bot/storage/outbox.py
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    available_at: datetime = time_field(nullable=False)
    created_at: datetime = time_field(nullable=False)
    sent_at: datetime | None = time_field()  # accepted by the provider (`sending`: handed over)
    provider_id: str | None = Field(default=None, max_length=100)
    error: str | None = Field(default=None, max_length=300)
    claim_token: str | None = Field(default=None, max_length=32)  # the sender holding the row
    # What the provider reported after sending: queued, sent, delivered, read, failed...
    delivery: str | None = Field(default=None, max_length=12)


class TranslationCacheEntry(SQLModel, table=True):
    """A machine translation, kept so the same text is not translated twice.

    Keyed by language pair, model version and a hash of the source text; the source
    text itself is not stored. Entries expire with the message retention period,
    since they may hold a parent's words.
    """

    __tablename__ = "translation_cache"
    __table_args__ = (UniqueConstraint("source_language", "target_language", "model_version",
                                       "text_hash", name="uq_translation_cache_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_language: str = Field(max_length=10)
    target_language: str = Field(max_length=10)
    model_version: str = Field(max_length=60)
    text_hash: str = Field(max_length=64)
    translation: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = time_field(nullable=False, index=True)


# The same tables for Core statements (the hot path builds its statements once).
CONTACTS = SQLModel.metadata.tables["contacts"]
SESSIONS = SQLModel.metadata.tables["conversation_sessions"]
MESSAGE_LOG = SQLModel.metadata.tables["message_log"]
OUTBOX = SQLModel.metadata.tables["outbox"]
TRANSLATION_CACHE = SQLModel.metadata.tables["translation_cache"]

# The other tables register themselves on the same metadata when imported.
from bot.storage import school_tables, ticket_tables  # noqa: E402, F401
