"""A full relay through the real app: a parent on WhatsApp (the real twilio client and a
fake Twilio) and a volunteer on Telegram (the real python-telegram-bot and a fake Bot
API), on SQLite and PostgreSQL. Everything the volunteer receives is scanned for the
parent's phone number and chat ids; the logs are scanned too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.engine import SessionState
from bot.runtime import Runtime
from bot.storage import contacts, sessions, tickets
from bot.tickets.relay import relay
from bot.tickets.staff import NewVolunteer, register

from .fakes.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CHAT_ID,
    PHONE,
    PUBLIC_URL,
    SECRET,
    SENDER,
    TOKEN,
    app_server,
    scan_logs,  # noqa: F401 (a fixture)
    settings,
)
from .fakes.server import eventually, served
from .fakes.telegram_api import FakeTelegram
from .fakes.twilio_api import FakeTwilio
from .test_telegram import Webhook
from .test_whatsapp import Twilio, inbound

pytestmark = pytest.mark.usefixtures("scan_logs")
VOLUNTEER_CHAT = CHAT_ID
QUESTION = "My daughter Amira has trouble with maths: which school fits her?"


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with served(FakeTelegram(TOKEN)) as fake:
        yield fake


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with served(FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)) as fake:
        yield fake


def onboarded_parent(runtime: Runtime) -> None:
    """The WhatsApp parent has chosen English and Flanders before."""
    with runtime.db.session() as session, session.begin():
        now = runtime.dispatcher.clock()
        contact_id = contacts.preset_contact(session, "whatsapp", PHONE, now, language="en",
                                             region="flanders")
        state = SessionState(language="en", region="flanders", consented=True)
        sessions.save_state(session, contact_id, state.to_json(), now)


def registered_volunteer(runtime: Runtime) -> str:
    """Sara, who speaks English; returns her link code."""
    with runtime.db.session() as session, session.begin():
        _volunteer, code = register(session, runtime.library, NewVolunteer(
            "Sara", ["en"], "en"), runtime.dispatcher.clock())
    return code


def bodies(fake: FakeTwilio) -> list[str]:
    return [m.get("Body", "") for m in fake.to(PHONE)]


def texts(fake: FakeTelegram) -> list[str]:
    return [str(m["text"]) for m in fake.to(VOLUNTEER_CHAT)]


async def test_a_whatsapp_parent_and_a_telegram_volunteer(
        telegram: FakeTelegram, twilio: FakeTwilio, tmp_path: Path, database_url: str) -> None:
    config = settings(tmp_path, database_url, TELEGRAM_BOT_TOKEN=TOKEN,
                      TELEGRAM_API_BASE_URL=telegram.url, TELEGRAM_WEBHOOK_SECRET=SECRET,
                      TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                      TWILIO_WHATSAPP_FROM=SENDER, TWILIO_API_BASE_URL=twilio.url,
                      PUBLIC_BASE_URL=PUBLIC_URL)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        parent, volunteer = Twilio(http, twilio), Webhook(http)
        onboarded_parent(runtime)
        code = registered_volunteer(runtime)

        async def volunteer_says(text: str, expect: str | None = None) -> None:
            seen = len(texts(telegram))
            assert await volunteer.post(telegram.message_update(VOLUNTEER_CHAT, text)) == 200
            if expect is not None:
                await eventually(lambda: any(expect in t for t in texts(telegram)[seen:]),
                                 what=expect)

        async def parent_says(text: str, expect: str | None = None) -> None:
            seen = len(bodies(twilio))
            assert (await parent.post(inbound(text))).status_code == 200
            if expect is not None:
                await eventually(lambda: any(expect in b for b in bodies(twilio)[seen:]),
                                 what=expect)

        async def relayed(check: Any, what: str) -> None:
            await relay(runtime)
            await eventually(check, what=what)

        await volunteer_says(f"/start {code}", "Welcome, Sara!")
        await parent_says("help", "Write your question in one message")
        await parent_says(QUESTION, "A volunteer will read your question")
        await relayed(lambda: any(QUESTION in t for t in texts(telegram)), "the notice")
        pseudonym = runtime_pseudonym(runtime)
        await volunteer_says(f"/claim_{pseudonym}", f"Parent {pseudonym} is yours")
        await eventually(lambda: any("reading your question" in b for b in bodies(twilio)),
                         what="the parent told")
        await volunteer_says("Ask her maths teacher at the oudercontact.")
        await relayed(lambda: any("The volunteer writes:\n\nAsk her maths teacher" in b
                                  for b in bodies(twilio)), "the answer")
        await parent_says("Thank you!")
        await relayed(lambda: any("Thank you!" in t for t in texts(telegram)), "the thanks")
        await volunteer_says("/done", "is closed")
        await relayed(lambda: any("Did this help you?" in b for b in bodies(twilio)),
                      "the rating question")
        assert "\n5. ★★★★★" in bodies(twilio)[-1]  # a numbered list on WhatsApp
        await parent_says("5", "Thank you for your answer")
        await volunteer_says("/tickets", "No questions are waiting")

        # Masking: nothing the volunteer received names the parent or a chat.
        for text in texts(telegram):
            assert "470123" not in text
            assert "whatsapp:" not in text
            assert "+32" not in text
            assert str(VOLUNTEER_CHAT) not in text
            assert "987654321" not in text
            assert "Amira" not in text or QUESTION in text  # only the parent's own words
        assert any(f"Parent {pseudonym}" in text for text in texts(telegram))


def runtime_pseudonym(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return tickets.all_tickets(session)[-1].pseudonym
