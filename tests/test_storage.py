"""Storage on both databases: migrations, retention, WAL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, col, select

from bot.messages import InboundMessage
from bot.services.dispatcher import Dispatcher
from bot.services.local_chat import converse
from bot.storage import retention
from bot.storage.database import Database
from bot.storage.tables import MessageLog, OutboxMessage

from .conftest import FrozenClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_migrations_build_exactly_the_tables_in_the_code(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection),
                                       SQLModel.metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode(db: Database) -> None:
    if not db.is_sqlite:
        return
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_times_come_back_as_aware_utc(dispatcher: Dispatcher) -> None:
    dispatcher.handle(InboundMessage(channel="web", address="a", provider_id="1",
                                     received_at=T0, text="hi"))
    with dispatcher.db.session() as session:
        row = session.exec(select(MessageLog)).first()
    assert row is not None
    assert row.created_at == T0
    assert row.created_at.tzinfo is not None


def test_old_message_text_is_forgotten_but_duplicates_still_caught(
        dispatcher: Dispatcher, clock: FrozenClock) -> None:
    old = InboundMessage(channel="web", address="a", provider_id="old", received_at=T0,
                         text="hello")
    converse(dispatcher, old)
    later = T0 + timedelta(days=31)
    clock.now = later
    converse(dispatcher, InboundMessage(channel="web", address="a", provider_id="new",
                                        received_at=later, text="English"))
    with dispatcher.db.session() as session, session.begin():
        forgotten = retention.forget_old_text(session, later, keep_days=30)
    assert forgotten == 2  # the old inbound message and the reply sent to it
    with dispatcher.db.session() as session:
        texts = {row.provider_id: row.text for row in session.exec(select(MessageLog))}
        assert texts["old"] is None
        assert texts["new"] == "English"
        outbox_left = session.exec(select(OutboxMessage).where(
            col(OutboxMessage.created_at) < later)).all()
        assert outbox_left == []
    assert not dispatcher.handle(old).new
