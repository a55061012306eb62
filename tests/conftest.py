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
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

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


# Nothing in a test waits for PostgreSQL forever: a lock wait fails after a minute, and a
# connection left idle inside a transaction (a leak) is closed by the server.
_TEST_LIMITS = "-clock_timeout=60s -cidle_in_transaction_session_timeout=120s"
# The fixture's own statements (CREATE and DROP SCHEMA) give up sooner.
_ADMIN_LIMITS = "-clock_timeout=10s -cstatement_timeout=60s"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base = _postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, poolclass=NullPool,
                          connect_args={"options": _ADMIN_LIMITS, "connect_timeout": 10})
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    # The schema's name is also the connections' application_name, to find them again.
    url = make_url(base).update_query_dict({
        "options": f"-csearch_path={schema} {_TEST_LIMITS}", "application_name": schema})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _drop_schema(admin, schema)
        admin.dispose()


def _drop_schema(admin: Engine, schema: str) -> None:
    """Drop a test's schema. Its connections that are still open (a killed worker's, a
    pool never closed) would hold locks that DROP waits for: end them first, and again
    if a straggler got in between."""
    for attempt in range(3):
        with admin.begin() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :schema AND pid <> pg_backend_pid()"),
                {"schema": schema})
        try:
            with admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            return
        except OperationalError:  # lock_timeout: a connection came back in time
            if attempt == 2:
                raise


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
