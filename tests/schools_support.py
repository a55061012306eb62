"""Fixtures and helpers for the schools' tests: a runtime on each database with a
frozen clock, the web app through ASGI, and schools with tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.engine import Library
from bot.runtime import Runtime
from bot.schools.registry import NewSchool, create_school
from bot.services.dispatcher import Dispatcher
from bot.services.interceptors import build_interceptors
from bot.storage.database import Database
from bot.storage.school_tokens import create_token
from bot.translation import MachineTranslator, TranslationConfig
from bot.web.app import create_app

from .conftest import FrozenClock

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SchoolAccess:
    """A school made for a test, and its API token."""

    id: int
    token: str
    invite_code: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def runtime(db: Database, library: Library, tmp_path: Path) -> Iterator[Runtime]:
    """The real runtime on the test database (built as `build_runtime` does, with the
    session's library), its clock frozen at NOW."""
    settings = Settings(WEGWIJS_DATA_DIR=tmp_path)
    dispatcher = Dispatcher(db, library, clock=FrozenClock(NOW),
                            interceptors=build_interceptors(library))
    translator = MachineTranslator(TranslationConfig.from_settings(settings), db)
    yield Runtime(settings, db, library, dispatcher, translator)
    translator.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app (no scheduler: tests drive time themselves)."""
    app = create_app(runtime, with_scheduler=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        yield http


def make_school(runtime: Runtime, name: str = "Sint-Jan", region: str = "flanders",
                ) -> SchoolAccess:
    """A school with one API token."""
    with runtime.db.session() as session, session.begin():
        school = create_school(session, NewSchool(name=name, region=region), NOW)
        assert school.id is not None
        _token_id, token = create_token(session, school.id, "test", NOW)
    return SchoolAccess(school.id, token, school.invite_code)
