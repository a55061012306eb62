"""Running an API request's database work in one transaction, off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from fastapi import Request
from sqlmodel import Session

from bot.runtime import Runtime

T = TypeVar("T")


async def in_transaction(request: Request, work: Callable[[Session, datetime], T]) -> T:
    """Run `work(session, now)` in one transaction on the database thread. An exception
    rolls the whole transaction back before it reaches the caller."""
    runtime: Runtime = request.app.state.runtime

    def job() -> T:
        with runtime.db.session() as session, session.begin():
            return work(session, runtime.dispatcher.clock())

    return await runtime.db.run(job)
