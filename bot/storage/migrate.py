"""Running the Alembic migrations from code (`wegwijs db upgrade`, and at start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.storage.database import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(db: Database) -> Config:
    """An Alembic configuration for this database (used by the `db` commands too)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision`. Safe to call from several processes at once."""
    config = alembic_config(db)
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting together must not both create the tables.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7011832)")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
