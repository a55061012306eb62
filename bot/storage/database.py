"""Connecting to SQLite (WAL, the default) or PostgreSQL, and running blocking work.

Database work is blocking, so async code hands it to `Database.run`, which uses a
single writer thread on SQLite (one writer at a time is what SQLite allows, and a
queue beats lock contention) and a small pool on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from bot.storage.executor import NORMAL, URGENT, PriorityExecutor

T = TypeVar("T")
log = logging.getLogger(__name__)


class Database:
    """One database: its SQLAlchemy engine, sessions and a worker pool.

    Engines use `hide_parameters`: a database error must never quote message text or
    addresses into a log.
    """

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url)
            workers = 1
        else:
            self.engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                                        pool_pre_ping=True, hide_parameters=True)
            workers = pool_size
        self._executor = PriorityExecutor(workers, "db")

    def session(self) -> Session:
        """A new session; use it as a context manager."""
        return Session(self.engine, expire_on_commit=False)

    async def run(self, work: Callable[..., T], *args: Any, urgent: bool = False) -> T:
        """Run blocking database work off the event loop. `urgent` work (storing an
        inbound message before acknowledging it) goes ahead of queued work."""
        future = self._executor.submit(URGENT if urgent else NORMAL, work, *args)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the worker threads (waiting a bounded time) and close every connection."""
        if not self._executor.shutdown():
            log.warning("database: closed with work still running")
        self.engine.dispose()


def _sqlite_engine(url: str) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if in_memory:
        engine = create_engine("sqlite://", poolclass=StaticPool, hide_parameters=True,
                               connect_args={"check_same_thread": False})
    else:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True,
                               connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _configure(connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start (see below).
        connection.isolation_level = None
        cursor = connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Take the write lock at the start: a transaction that reads, then writes, can
        # otherwise fail with "database is locked" when another process wrote between.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
