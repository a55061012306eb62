"""Logs at INFO and above never carry an address, a chat id or message text."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.messages import InboundMessage
from bot.services.dispatcher import Dispatcher
from bot.services.local_chat import converse

ADDRESS = "+32470123456"
SECRET_WORDS = "my daughter Amira has trouble with maths"


def test_a_whole_conversation_logs_no_personal_data(
        dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    script = ["hello", "English", "1", "1", "2", SECRET_WORDS, SECRET_WORDS, "help", "stop",
              "start", "delete my data", "yes"]
    for number, text in enumerate(script):
        converse(dispatcher, InboundMessage(channel="web", address=ADDRESS,
                                            provider_id=f"m{number}",
                                            received_at=datetime.now(UTC), text=text))
    logged = "\n".join(record.getMessage() for record in caplog.records
                       if record.levelno >= logging.INFO)
    assert "handoff requested" in logged  # the log does say what happened...
    assert "contact erased" in logged
    assert ADDRESS not in logged  # ...but never to whom, or what was written
    assert "470123456" not in logged
    assert SECRET_WORDS not in logged
    assert "Amira" not in logged
