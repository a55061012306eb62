"""WhatsApp through Twilio end to end: the real twilio client against a fake Messages
API on 127.0.0.1, signed webhooks into the web app on a real port, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlmodel import func, select

from bot.channels.setup import ChannelSet, describe
from bot.channels.templates import ContentTemplates
from bot.channels.whatsapp import NOT_SENT_OUTSIDE_WINDOW, WhatsAppChannel
from bot.channels.whatsapp_inbound import from_form
from bot.config import Settings
from bot.messages import Choice, OutboundMessage
from bot.runtime import Runtime
from bot.services.sender import Sender
from bot.storage import contacts, outbox
from bot.storage.database import Database
from bot.storage.tables import Contact, MessageLog, OutboxMessage

from .fakes.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PHONE,
    PUBLIC_URL,
    SENDER,
    app_server,
    scan_logs,  # noqa: F401 (a fixture)
    settings,
)
from .fakes.server import eventually, served
from .fakes.twilio_api import FakeTwilio

pytestmark = pytest.mark.usefixtures("scan_logs")
MENU = "What would you like to do?"
REMINDER_EN = "HX" + "1" * 32
YES_NO_EN = "HX" + "2" * 32
TEMPLATES = json.dumps({"reminder": {"en": REMINDER_EN}, "choices:yes,no": {"en": YES_NO_EN}})


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with served(FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)) as twilio:
        yield twilio


def whatsapp_settings(tmp_path: Path, database_url: str, fake: FakeTwilio) -> Settings:
    return settings(tmp_path, database_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                    TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_WHATSAPP_FROM=SENDER,
                    TWILIO_API_BASE_URL=fake.url, PUBLIC_BASE_URL=PUBLIC_URL,
                    TWILIO_CONTENT_TEMPLATES=TEMPLATES)


def inbound(text: str, *, sid: str | None = None, sender: str = PHONE,
            **extra: str) -> dict[str, str]:
    """A WhatsApp message as Twilio posts it."""
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID,
            "From": sender, "To": SENDER, "Body": text, "NumMedia": "0",
            "WaId": sender.removeprefix("whatsapp:+"), "ProfileName": "Parent", **extra}


class Twilio:
    """Posts webhooks signed as Twilio signs them: over the public URL."""

    def __init__(self, http: httpx.AsyncClient, fake: FakeTwilio) -> None:
        self.http, self.fake = http, fake

    async def post(self, params: dict[str, str], path: str = "/webhooks/twilio",
                   signature: str | None = None) -> httpx.Response:
        if signature is None:
            signature = self.fake.sign(f"{PUBLIC_URL}{path}", params)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return await self.http.post(path, data=params, headers=headers)


def inbound_rows(runtime: Runtime, provider_id: str | None = None) -> int:
    with runtime.db.session() as session:
        query = select(func.count()).select_from(MessageLog).where(MessageLog.direction == "in")
        if provider_id is not None:
            query = query.where(MessageLog.provider_id == provider_id)
        return int(session.exec(query).one())


# -- conversations and webhooks -------------------------------------------------------------

async def test_a_whole_conversation_with_numbers(fake: FakeTwilio, tmp_path: Path,
                                                 database_url: str) -> None:
    config = whatsapp_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, _runtime), httpx.AsyncClient(base_url=url) as http:
        twilio = Twilio(http, fake)
        response = await twilio.post(inbound("hello"))
        assert response.status_code == 200
        assert "<Response>" in response.text
        await eventually(lambda: [m for m in fake.to(PHONE) if "\n1. " in m.get("Body", "")],
                         what="the first question")
        for _step in range(8):  # answer each question with "1" until the menu
            last = fake.to(PHONE)[-1]
            if MENU in last.get("Body", ""):
                break
            assert "\n1. " in last["Body"]  # options as a numbered list
            seen = len(fake.to(PHONE))
            await twilio.post(inbound("1"))
            await eventually(lambda n=seen: len(fake.to(PHONE)) > n and "\n1. " in
                             fake.to(PHONE)[-1].get("Body", ""), what="the next question")
        assert MENU in fake.to(PHONE)[-1]["Body"]
        first = fake.to(PHONE)[0]
        assert first["From"] == SENDER
        assert first["StatusCallback"] == f"{PUBLIC_URL}/webhooks/twilio/status"


async def test_a_message_delivered_three_times_is_stored_and_answered_once(
        fake: FakeTwilio, tmp_path: Path, database_url: str) -> None:
    config = whatsapp_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        twilio = Twilio(http, fake)
        message = inbound("hello")
        responses = list(await asyncio.gather(twilio.post(message), twilio.post(message)))
        responses.append(await twilio.post(message))
        assert [r.status_code for r in responses] == [200, 200, 200]
        await eventually(lambda: fake.to(PHONE), what="the answer")
        await asyncio.sleep(1.0)  # a second answer would have come by now
        assert len(fake.to(PHONE)) == 1
        assert inbound_rows(runtime, message["MessageSid"]) == 1


async def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(
        fake: FakeTwilio, tmp_path: Path, database_url: str) -> None:
    config = whatsapp_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        twilio = Twilio(http, fake)
        message = inbound("my daughter Amira has trouble with maths")
        assert (await twilio.post(message, signature="bm90IGEgc2lnbmF0dXJl")).status_code == 403
        assert (await twilio.post(message, signature="")).status_code == 403
        # Signed for the URL this server saw, not the public one Twilio calls: refused.
        local = fake.sign(f"{url}/webhooks/twilio", message)
        assert (await twilio.post(message, signature=local)).status_code == 403
        # Signed correctly, but with a changed body: refused.
        signed = fake.sign(f"{PUBLIC_URL}/webhooks/twilio", message)
        changed = {**message, "Body": "something else"}
        assert (await twilio.post(changed, signature=signed)).status_code == 403
        status = {"MessageSid": "SM1", "MessageStatus": "read"}
        assert (await twilio.post(status, "/webhooks/twilio/status", "x")).status_code == 403
        assert inbound_rows(runtime) == 0
        with runtime.db.session() as session:
            assert session.exec(select(Contact)).all() == []
        assert fake.calls == []


async def test_status_callbacks_never_go_backwards(fake: FakeTwilio, tmp_path: Path,
                                                   database_url: str) -> None:
    config = whatsapp_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        twilio = Twilio(http, fake)
        await twilio.post(inbound("hello"))
        sent = await eventually(lambda: fake.to(PHONE), what="the answer")
        sid = sent[0]["sid"]

        def delivery() -> tuple[str | None, str | None]:
            with runtime.db.session() as session:
                row = session.exec(select(OutboxMessage).where(
                    OutboxMessage.provider_id == sid)).one()
                return row.delivery, row.error

        await eventually(lambda: _is_sent(runtime, sid), what="the row marked sent")
        for status, expected in [("sent", "sent"), ("queued", "sent"), ("delivered", "delivered"),
                                 ("sent", "delivered"), ("failed", "delivered"),
                                 ("undelivered", "delivered"), ("read", "read"),
                                 ("delivered", "read")]:
            form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
            if status in ("failed", "undelivered"):
                form["ErrorCode"] = "30008"
            response = await twilio.post(form, "/webhooks/twilio/status")
            assert response.status_code == 200
            assert delivery()[0] == expected, status
        assert delivery()[1] is None  # a failure after delivery is not recorded either


def _is_sent(runtime: Runtime, sid: str) -> bool:
    with runtime.db.session() as session:
        return session.exec(select(OutboxMessage).where(
            OutboxMessage.provider_id == sid)).first() is not None


def test_failures_are_terminal_and_keep_their_code(db: Database) -> None:
    now = datetime.now(UTC)
    with db.session() as session, session.begin():
        session.add(OutboxMessage(channel="whatsapp", address=PHONE, payload={"text": "t"},
                                  status="sent", provider_id="SMa", available_at=now,
                                  created_at=now))
    steps = [("sent", True), ("failed", True), ("delivered", False), ("read", False),
             ("queued", False), ("undelivered", False), ("bogus", False)]
    for status, changes in steps:
        with db.session() as session, session.begin():
            error = f"{status}: twilio 63016" if status == "failed" else None
            assert outbox.update_delivery(session, "whatsapp", "SMa", status, error) is changes
    with db.session() as session:
        row = session.exec(select(OutboxMessage)).one()
    assert (row.delivery, row.error) == ("failed", "failed: twilio 63016")


# -- sending: window, templates, errors ---------------------------------------------------

def add_row(db: Database, *, last_inbound: datetime | None, kind: str = "reply",
            message: OutboundMessage | None = None, address: str = PHONE) -> int:
    now = datetime.now(UTC)
    with db.session() as session, session.begin():
        contact_id = contacts.contact_id_for(session, "whatsapp", address, now)
        contacts.update_contact(session, contact_id, {"last_inbound_at": last_inbound})
        outbox.enqueue(session, contact_id=contact_id, channel="whatsapp", address=address,
                       messages=[message or OutboundMessage("Your meeting is on Monday.")],
                       now=now, kind=kind)
    return contact_id


@pytest.fixture
async def channel(fake: FakeTwilio) -> AsyncIterator[WhatsAppChannel]:
    whatsapp = WhatsAppChannel(ACCOUNT_SID, AUTH_TOKEN, SENDER, api_base_url=fake.url,
                               templates=ContentTemplates.parse(TEMPLATES),
                               status_callback_url=f"{PUBLIC_URL}/webhooks/twilio/status")
    await whatsapp.start()
    yield whatsapp
    await whatsapp.close()


def rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


async def test_outside_the_window_only_a_template_goes(
        db: Database, fake: FakeTwilio, channel: WhatsAppChannel) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=25)
    add_row(db, last_inbound=long_ago, kind="reminder")  # an English template exists
    add_row(db, last_inbound=long_ago, kind="reminder", address="whatsapp:+32470123457",
            message=OutboundMessage("Je afspraak is maandag.", language="nl"))  # none in Dutch
    add_row(db, last_inbound=long_ago, address="whatsapp:+32470123458")  # a reply: none
    await Sender(db, {"whatsapp": channel}).drain()
    templated, dutch, reply = rows(db)
    assert templated.status == "sent"
    assert [(m["ContentSid"], json.loads(m["ContentVariables"])) for m in fake.messages] == [
        (REMINDER_EN, {"1": "Your meeting is on Monday."})]
    assert "Body" not in fake.messages[0]
    for row in (dutch, reply):
        assert (row.status, row.error, row.attempts) == ("failed", NOT_SENT_OUTSIDE_WINDOW, 0)
    assert len(fake.calls) == 1  # never sent blindly


async def test_inside_the_window_text_goes_numbered_or_as_quick_replies(
        db: Database, fake: FakeTwilio, channel: WhatsAppChannel) -> None:
    just_now = datetime.now(UTC) - timedelta(minutes=5)
    question = OutboundMessage("Will you come?", (Choice("yes", "Yes"), Choice("no", "No")),
                               question=3)
    other = OutboundMessage("Which one?", (Choice("a", "First"), Choice("b", "Second")),
                            question=4)
    add_row(db, last_inbound=just_now, kind="reminder")
    add_row(db, last_inbound=just_now, message=question, address="whatsapp:+32470123457")
    add_row(db, last_inbound=just_now, message=other, address="whatsapp:+32470123458")
    long_text = " ".join(f"Sentence {n} is about school." for n in range(120))
    add_row(db, last_inbound=just_now, message=OutboundMessage(long_text),
            address="whatsapp:+32470123459")
    await Sender(db, {"whatsapp": channel}).drain()
    assert [row.status for row in rows(db)] == ["sent"] * 4
    assert fake.to(PHONE)[0]["Body"] == "Your meeting is on Monday."
    quick = fake.to("whatsapp:+32470123457")[0]
    assert (quick["ContentSid"], json.loads(quick["ContentVariables"])) == (
        YES_NO_EN, {"1": "Will you come?"})
    assert fake.to("whatsapp:+32470123458")[0]["Body"] == "Which one?\n\n1. First\n2. Second"
    parts = [m["Body"] for m in fake.to("whatsapp:+32470123459")]
    assert len(parts) == 3
    assert all(len(p) <= 1600 for p in parts)
    assert all(p.endswith("school.") for p in parts)


async def test_an_unsubscribed_recipient_is_opted_out(
        db: Database, fake: FakeTwilio, channel: WhatsAppChannel) -> None:
    fake.unsubscribed.add(PHONE)
    contact_id = add_row(db, last_inbound=datetime.now(UTC))
    with db.session() as session, session.begin():  # a reminder waiting behind the reply
        outbox.enqueue(session, contact_id=contact_id, channel="whatsapp", address=PHONE,
                       messages=[OutboundMessage("Reminder")], now=datetime.now(UTC),
                       kind="reminder")
    await Sender(db, {"whatsapp": channel}).drain()
    first, second = rows(db)
    assert (first.status, first.error) == ("failed", "twilio 21610: the recipient unsubscribed")
    assert second.status == "cancelled"
    with db.session() as session:
        contact = session.get(Contact, contact_id)
    assert contact is not None
    assert contact.opted_out_at is not None
    assert len(fake.calls) == 1


async def test_error_63016_is_recorded_and_not_retried(
        db: Database, fake: FakeTwilio, channel: WhatsAppChannel) -> None:
    fake.fail(400, 63016)
    add_row(db, last_inbound=datetime.now(UTC))
    await Sender(db, {"whatsapp": channel}).drain()
    (row,) = rows(db)
    assert (row.status, row.error, row.attempts) == (
        "failed", "twilio 63016: outside the 24-hour window", 1)
    assert len(fake.calls) == 1


# -- parsing and configuration ----------------------------------------------------------------

def test_quick_reply_buttons_and_text_become_neutral_messages() -> None:
    now = datetime.now(UTC)
    pressed = from_form(inbound("Yes", ButtonPayload="q3:yes", ButtonText="Yes"), now)
    assert pressed is not None
    assert (pressed.choice, pressed.question, pressed.text) == ("yes", 3, None)
    plain = from_form(inbound("Yes", ButtonPayload="yes", ButtonText="Yes"), now)
    assert plain is not None
    assert (plain.choice, plain.text) == (None, "Yes")
    typed = from_form(inbound("2"), now)
    assert typed is not None
    assert (typed.channel, typed.address, typed.text) == ("whatsapp", PHONE, "2")
    assert from_form(inbound("hi", sender="+32470123456"), now) is None  # SMS, not WhatsApp


@pytest.mark.parametrize(("variables", "complaint"), [
    ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID"),
    ({"TWILIO_WHATSAPP_FROM": "+32470123456"}, "whatsapp:+"),
    ({"TWILIO_AUTH_TOKEN": "x" * 32}, "32 hex digits"),
    ({"PUBLIC_BASE_URL": "http://wegwijs.example.org"}, "https://"),
    ({"PUBLIC_BASE_URL": None}, "WhatsApp needs PUBLIC_BASE_URL"),
    ({"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN"),
    ({"TWILIO_CONTENT_TEMPLATES": '{"reminder": {"en": "nope"}}'}, "ContentSid"),
    ({"TWILIO_CONTENT_TEMPLATES": "/no/such/file.json"}, "cannot read"),
    ({"TWILIO_RATE_PER_SECOND": "0"}, "greater than 0"),
])
def test_bad_whatsapp_settings_stop_start_up_with_a_clear_message(
        variables: dict[str, Any], complaint: str) -> None:
    values: dict[str, Any] = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                              "TWILIO_WHATSAPP_FROM": SENDER, "PUBLIC_BASE_URL": PUBLIC_URL}
    values.update(variables)
    with pytest.raises(ValidationError) as raised:
        Settings(**{k: v for k, v in values.items() if v is not None})
    text = "\n".join(f"{e['loc']}: {e['msg']}" for e in raised.value.errors())
    assert complaint in text
    assert AUTH_TOKEN not in text


def test_whatsapp_is_on_when_configured_and_uses_the_rate(tmp_path: Path) -> None:
    config = Settings(WEGWIJS_DATA_DIR=tmp_path, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                      TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_WHATSAPP_FROM=SENDER,
                      PUBLIC_BASE_URL=PUBLIC_URL + "/", TWILIO_RATE_PER_SECOND="4")
    assert config.public_base_url == PUBLIC_URL
    channels = ChannelSet.from_settings(config)
    assert channels.whatsapp is not None
    assert channels.telegram is None
    assert channels.whatsapp.limiter.per_second == 4
    assert "WhatsApp on (webhook https://wegwijs.example.org/webhooks/twilio)" in describe(config)
    assert "Telegram off" in describe(config)
