"""Shared test set-up for the channel tests: credentials, the app on a real port, and a
scan of the logs for anything personal or secret."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.runtime import Runtime, build_runtime, configure_logging
from bot.web.app import create_app

from .server import LocalServer

TOKEN = "123456789:AAHfakeTOKENforTESTSonly_0123456789abc"
SECRET = "webhook-secret_0123456789"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210" * 2
SENDER = "whatsapp:+3225550100"
PUBLIC_URL = "https://wegwijs.example.org"
CHAT_ID = 9876543210  # chat ids in these tests start with 987654321
PHONE = "whatsapp:+32470123456"  # phone numbers in these tests contain 470123
PRIVATE_WORDS = "my daughter Amira has trouble with maths"

# Never in a log line at INFO or above: ids, secrets, and what parents and the bot wrote.
FORBIDDEN_IN_LOGS = ("987654321", "470123", TOKEN, TOKEN.split(":")[1], SECRET, AUTH_TOKEN,
                     "Amira", "Choose your language", "What would you like to do")


def forbidden_in(text: str) -> list[str]:
    """The forbidden strings that occur in `text`."""
    return [word for word in FORBIDDEN_IN_LOGS if word in text]


@pytest.fixture
def scan_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if anything logged at INFO or above names a parent, a chat, a secret
    or a message. Logging is set up as `wegwijs serve` sets it up."""
    configure_logging("INFO")
    caplog.set_level(logging.INFO)
    yield
    formatter = logging.Formatter()
    lines = []
    for record in caplog.records:
        if record.levelno >= logging.INFO:
            lines.append(record.getMessage())
            if record.exc_info:
                lines.append(formatter.formatException(record.exc_info))
    logged = "\n".join(lines)
    assert forbidden_in(logged) == [], logged


def settings(tmp_path: Path, database_url: str, **env: Any) -> Settings:
    """Settings for a test: its own database, plus the given variables."""
    return Settings(WEGWIJS_DATA_DIR=tmp_path, DATABASE_URL=database_url, **env)


@asynccontextmanager
async def app_server(config: Settings, *, background: bool = True,
                     ) -> AsyncIterator[tuple[str, Runtime]]:
    """The web app as `wegwijs serve` runs it (lifespan included), on a real port."""
    runtime = build_runtime(config)
    try:
        app = create_app(runtime, with_scheduler=background)
        async with LocalServer(app, lifespan="on") as server:
            yield server.url, runtime
    finally:
        runtime.close()
