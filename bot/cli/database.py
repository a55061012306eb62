"""`wegwijs db`: migrations and retention."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click

from bot.cli.settings import load_settings
from bot.config import Settings
from bot.storage import retention
from bot.storage.database import Database
from bot.storage.migrate import upgrade


@click.group()
def db() -> None:
    """Manage the database."""


@contextmanager
def migrated_database(settings: Settings) -> Iterator[Database]:
    """The configured database, migrated, closed when the block ends."""
    database = Database(settings.effective_database_url)
    try:
        upgrade(database)
        yield database
    finally:
        database.close()


@db.command("upgrade")
def upgrade_command() -> None:
    """Create or update the tables (done automatically by serve, worker and chat)."""
    with migrated_database(load_settings()):
        click.echo("database is up to date")


@db.command("forget-old-text")
def forget_old_text() -> None:
    """Erase message text older than WEGWIJS_MESSAGE_RETENTION_DAYS now (also hourly)."""
    settings = load_settings()
    with migrated_database(settings) as database, database.session() as session, \
            session.begin():
        count = retention.forget_old_text(session, datetime.now(UTC),
                                          settings.message_retention_days)
    click.echo(f"erased the text of {count} message(s)")
