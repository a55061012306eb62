"""Shared fixtures: the real library, and real databases (SQLite and PostgreSQL).

Storage tests run on both databases. PostgreSQL comes from WEGWIJS_TEST_DATABASE_URL;
each test gets a schema of its own, dropped afterwards. Without that variable the
PostgreSQL cases are skipped locally, and fail in CI (CI=true), so they cannot be
skipped there by accident.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.engine import Library
from bot.library import ContentRoot, load_library
from bot.services.dispatcher import Dispatcher
from bot.storage.database import Database
from bot.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
PG_ENV = "WEGWIJS_TEST_DATABASE_URL"


class FrozenClock:
    """A clock for tests: stands still until moved."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def library() -> Library:
    """The real flows, texts and pages (of this repository, unless configured otherwise)."""
    return load_library(ContentRoot.at(Settings().content_root))


def _postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL tests")
        pytest.skip(f"{PG_ENV} is not set")
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith(
        "postgresql://") else url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base = _postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database."""
    database = Database(database_url)
    upgrade(database)
    yield database
    database.close()


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at a fixed moment."""
    return FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def dispatcher(db: Database, library: Library, clock: FrozenClock) -> Dispatcher:
    """A dispatcher on the test database with the frozen clock."""
    return Dispatcher(db, library, clock=clock)
