"""Telegram end to end: the real python-telegram-bot client against a fake Bot API on
127.0.0.1, and the web app on a real port, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlmodel import col, func, select
from telegram import Update

from bot.channels.setup import describe
from bot.channels.split import split_text, units
from bot.channels.telegram import TEXT_LIMIT, TelegramChannel, TelegramStartError, keyboard_for
from bot.channels.telegram_updates import from_update
from bot.config import Settings
from bot.messages import Choice, OutboundMessage
from bot.runtime import Runtime
from bot.storage.tables import Contact, MessageLog, OutboxMessage

from .fakes.harness import (
    CHAT_ID,
    PUBLIC_URL,
    SECRET,
    TOKEN,
    app_server,
    scan_logs,  # noqa: F401 (a fixture)
    settings,
)
from .fakes.server import eventually, served
from .fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.usefixtures("scan_logs")
MENU = "What would you like to do?"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with served(FakeTelegram(TOKEN)) as telegram:
        yield telegram


def webhook_settings(tmp_path: Path, database_url: str, fake: FakeTelegram) -> Any:
    return settings(tmp_path, database_url, TELEGRAM_BOT_TOKEN=TOKEN,
                    TELEGRAM_API_BASE_URL=fake.url,
                    PUBLIC_BASE_URL=PUBLIC_URL, TELEGRAM_WEBHOOK_SECRET=SECRET)


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    return [button["text"] for row in markup["inline_keyboard"] for button in row]


def stored_rows(runtime: Runtime, provider_id: str | None = None) -> int:
    with runtime.db.session() as session:
        query = select(func.count()).select_from(MessageLog).where(MessageLog.direction == "in")
        if provider_id is not None:
            query = query.where(MessageLog.provider_id == provider_id)
        return int(session.exec(query).one())


class Webhook:
    """Posts updates as Telegram does."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.http.post("/webhooks/telegram", json=update, headers=headers)
        return response.status_code


# -- a whole conversation ------------------------------------------------------------------

async def test_a_whole_conversation_with_buttons_over_the_webhook(
        fake: FakeTelegram, tmp_path: Path, database_url: str) -> None:
    config = webhook_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, _runtime), httpx.AsyncClient(base_url=url) as http:
        webhook = Webhook(http)
        # Start-up: token checked, webhook set with its secret, commands per language.
        assert fake.called("getMe")
        set_webhook = fake.called("setWebhook")[-1].params
        assert set_webhook["url"] == f"{PUBLIC_URL}/webhooks/telegram"
        assert set_webhook["secret_token"] == SECRET
        menus = {call.params.get("language_code"): call.params["commands"]
                 for call in fake.called("setMyCommands")}
        assert {None, "nl", "fi"} <= set(menus)
        assert {"command": "delete", "description": "Mijn gegevens wissen"} in menus["nl"]
        assert {"command": "menu", "description": "Main menu"} in menus[None]

        assert await webhook.post(fake.message_update(CHAT_ID, "/start school-42")) == 200
        first = await eventually(lambda: [m for m in fake.to(CHAT_ID) if buttons(m)],
                                 what="the first question")
        question = first[-1]
        assert "1." not in question["text"]  # buttons, not a numbered list

        first_keyboard, first_label = question, buttons(question)[0]
        label = first_label
        for _step in range(8):  # answer each question with its first button until the menu
            seen = len(fake.to(CHAT_ID))
            press = fake.press_update(question, label)
            assert await webhook.post(press) == 200
            await eventually(lambda n=seen: len(fake.to(CHAT_ID)) > n and buttons(
                fake.to(CHAT_ID)[-1]), what="the next question")
            answered = [c.params["callback_query_id"] for c in fake.called("answerCallbackQuery")]
            assert press["callback_query"]["id"] in answered
            edits = [c.params for c in fake.called("editMessageReplyMarkup")]
            assert any(int(e["message_id"]) == question["message_id"] and
                       not e.get("reply_markup") for e in edits)  # the old keyboard is gone
            question = fake.to(CHAT_ID)[-1]
            if MENU in question["text"]:
                break
            label = buttons(question)[0]
        assert MENU in question["text"]

        # A press on a button of a question that has passed gets the polite note.
        seen = len(fake.to(CHAT_ID))
        await webhook.post(fake.press_update(first_keyboard, first_label))
        later = await eventually(lambda: fake.to(CHAT_ID)[seen:], what="the note")
        assert "That question has passed" in later[0]["text"]


async def test_polling_mode_without_a_public_url(fake: FakeTelegram, tmp_path: Path,
                                                 database_url: str) -> None:
    config = settings(tmp_path, database_url, TELEGRAM_BOT_TOKEN=TOKEN,
                      TELEGRAM_API_BASE_URL=fake.url)
    async with app_server(config) as (_url, runtime):
        assert fake.called("deleteWebhook")
        assert not fake.called("setWebhook")
        start = fake.message_update(CHAT_ID, "/start")
        fake.queue_update(start)
        first = await eventually(lambda: [m for m in fake.to(CHAT_ID) if buttons(m)],
                                 what="the first question")
        fake.queue_update(fake.press_update(first[-1], buttons(first[-1])[0]))
        await eventually(lambda: len(fake.to(CHAT_ID)) > len(first), what="the next question")
        # The next getUpdates confirms what was stored: Telegram forgets it.
        await eventually(lambda: any(int(c.params.get("offset", 0)) > start["update_id"]
                                     for c in fake.called("getUpdates")), what="confirmation")
        assert stored_rows(runtime) == 2


# -- exactly once, and refusals -------------------------------------------------------------

async def test_an_update_delivered_three_times_is_stored_and_answered_once(
        fake: FakeTelegram, tmp_path: Path, database_url: str) -> None:
    config = webhook_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        webhook = Webhook(http)
        update = fake.message_update(CHAT_ID, "/start")
        statuses = await asyncio.gather(webhook.post(update), webhook.post(update))
        statuses.append(await webhook.post(update))
        assert statuses == [200, 200, 200]
        await eventually(lambda: fake.to(CHAT_ID), what="the answer")
        await asyncio.sleep(1.0)  # a second answer would have come by now
        assert len(fake.to(CHAT_ID)) == 1
        assert stored_rows(runtime, str(update["update_id"])) == 1

        # The same for a button press; each delivery of the press is acknowledged.
        press = fake.press_update(fake.to(CHAT_ID)[0], buttons(fake.to(CHAT_ID)[0])[0])
        statuses = await asyncio.gather(webhook.post(press), webhook.post(press))
        statuses.append(await webhook.post(press))
        assert statuses == [200, 200, 200]
        await eventually(lambda: len(fake.to(CHAT_ID)) > 1, what="the answer to the press")
        await asyncio.sleep(1.5)
        replies = len(fake.to(CHAT_ID)) - 1
        assert stored_rows(runtime, str(press["update_id"])) == 1
        assert len(fake.called("answerCallbackQuery")) == 3
        # Handled once: as many replies as one press gets (re-sending the press as a
        # new update would get the "question has passed" note instead).
        assert all("That question has passed" not in m["text"] for m in fake.to(CHAT_ID))
        assert replies >= 1


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(
        fake: FakeTelegram, tmp_path: Path, database_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    config = webhook_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        webhook = Webhook(http)
        update = fake.message_update(CHAT_ID, "my daughter Amira has trouble with maths")
        assert await webhook.post(update, secret="wrong-secret") == 403
        assert await webhook.post(update, secret=None) == 403
        assert await webhook.post(update, secret=SECRET + "x") == 403
        assert stored_rows(runtime) == 0
        with runtime.db.session() as session:
            assert session.exec(select(Contact)).all() == []
        await asyncio.sleep(0.3)
        assert fake.to(CHAT_ID) == []
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 3
    assert all(r.levelno == logging.WARNING for r in refusals)


async def test_a_press_on_an_unknown_button_is_answered_and_not_stored(
        fake: FakeTelegram, tmp_path: Path, database_url: str) -> None:
    config = webhook_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        sent = {"chat_id": CHAT_ID, "message_id": 5, "text": "old",
                "reply_markup": {"inline_keyboard": [[{"text": "Old", "callback_data": "v1"}]]}}
        press = fake.press_update(sent, "Old")
        assert await Webhook(http).post(press) == 200
        await eventually(lambda: fake.called("answerCallbackQuery"), what="the answer")
        assert stored_rows(runtime) == 0


async def test_a_parent_who_blocked_the_bot_is_opted_out(
        fake: FakeTelegram, tmp_path: Path, database_url: str) -> None:
    fake.blocked.add(CHAT_ID)
    config = webhook_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        await Webhook(http).post(fake.message_update(CHAT_ID, "/start"))

        def outcome() -> tuple[Contact, OutboxMessage] | None:
            with runtime.db.session() as session:
                contact = session.exec(select(Contact)).first()
                row = session.exec(select(OutboxMessage).where(
                    col(OutboxMessage.status) == "failed")).first()
                return (contact, row) if contact and contact.opted_out_at and row else None

        contact, row = await eventually(outcome, what="the opt-out")
        assert row.error == "telegram: Forbidden: bot was blocked by the user"
        assert contact.opted_out_at is not None
        assert fake.to(CHAT_ID) == []


# -- the channel itself ---------------------------------------------------------------------

async def test_long_text_is_split_at_sentences_with_the_keyboard_on_the_last_part(
        fake: FakeTelegram) -> None:
    channel = TelegramChannel(TOKEN, fake.url)
    await channel.start()
    try:
        text = " ".join(f"This is sentence number {n} of a long page." for n in range(200))
        message = OutboundMessage(text, (Choice("more", "More"), Choice("menu", "Main menu")),
                                  question=4)
        provider_id = await channel.send(message, str(CHAT_ID), kind="reply",
                                         last_inbound_at=None)
    finally:
        await channel.close()
    parts = fake.to(CHAT_ID)
    assert len(parts) == 3
    assert all(units(part["text"]) <= TEXT_LIMIT for part in parts)
    assert all(part["text"].endswith("page.") for part in parts)
    assert " ".join(part["text"] for part in parts) == text
    assert [part["reply_markup"] is not None for part in parts] == [False, False, True]
    assert parts[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "q4:more"
    assert str(CHAT_ID) not in provider_id
    assert provider_id.startswith(f"{parts[-1]['message_id']}@")


def test_options_that_do_not_fit_in_callback_data_become_a_numbered_list() -> None:
    long_id = "x" * 70
    assert keyboard_for(OutboundMessage("Q?", (Choice(long_id, "A"),), question=1)) is None
    assert keyboard_for(OutboundMessage("Q?", (Choice("a", "A"),), question=None)) is None
    assert keyboard_for(OutboundMessage("Q?", (Choice("a", "A"),), question=1)) is not None


def test_updates_become_neutral_messages() -> None:
    fake = FakeTelegram(TOKEN)
    start = Update.de_json(fake.message_update(CHAT_ID, "/start school-42", language="nl"),
                           None)
    assert start is not None
    received = from_update(start, NOW)
    assert received is not None
    assert received.message is not None
    assert received.message.text == "/start school-42"
    assert received.message.extra == {"start_payload": "school-42"}
    assert received.message.language_hint == "nl"
    assert received.message.address == str(CHAT_ID)
    assert received.message.provider_id == str(start.update_id)

    sent = {"chat_id": CHAT_ID, "message_id": 3, "text": "Q",
            "reply_markup": {"inline_keyboard": [[{"text": "Yes", "callback_data": "q7:yes"}]]}}
    press = Update.de_json(fake.press_update(sent, "Yes", language="fi"), None)
    assert press is not None
    pressed = from_update(press, NOW)
    assert pressed is not None
    assert pressed.message is not None
    assert pressed.press is not None
    assert (pressed.message.choice, pressed.message.question) == ("yes", 7)
    assert pressed.message.language_hint == "fi"
    assert (pressed.press.chat_id, pressed.press.message_id) == (CHAT_ID, 3)

    group = fake.message_update(CHAT_ID, "hello")
    group["message"]["chat"]["type"] = "group"
    update = Update.de_json(group, None)
    assert update is not None
    assert from_update(update, NOW) is None


async def test_an_unreadable_update_is_refused(fake: FakeTelegram, tmp_path: Path,
                                               database_url: str) -> None:
    config = webhook_settings(tmp_path, database_url, fake)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for body in (b"not json", b"[1, 2]", b"{}"):
            response = await http.post("/webhooks/telegram", content=body, headers=headers)
            assert response.status_code == 400
        assert stored_rows(runtime) == 0


async def test_a_rejected_token_stops_start_up_without_showing_it(fake: FakeTelegram) -> None:
    channel = TelegramChannel("987654:" + "B" * 35, fake.url)
    with pytest.raises(TelegramStartError) as raised:
        await channel.start()
    await channel.close()
    assert str(raised.value) == "Telegram rejected TELEGRAM_BOT_TOKEN"


@pytest.mark.parametrize(("variables", "complaint"), [
    ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "@BotFather"),
    ({"TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "1 to 256 characters"),
    ({"TELEGRAM_WEBHOOK_SECRET": "s" * 257}, "1 to 256 characters"),
    ({"TELEGRAM_WEBHOOK_SECRET": None}, "needed for Telegram in webhook mode"),
    ({"TELEGRAM_BOT_TOKEN": None}, "TELEGRAM_BOT_TOKEN is not"),
    ({"TELEGRAM_API_BASE_URL": "ftp://example.org"}, "http:// or https://"),
    ({"PUBLIC_BASE_URL": "https://example.org/?a=1"}, "without a query"),
])
def test_bad_telegram_settings_stop_start_up_with_a_clear_message(
        variables: dict[str, Any], complaint: str) -> None:
    values: dict[str, Any] = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
                              "PUBLIC_BASE_URL": PUBLIC_URL}
    values.update(variables)
    with pytest.raises(ValidationError) as raised:
        Settings(**{k: v for k, v in values.items() if v is not None})
    text = "\n".join(f"{e['loc']}: {e['msg']}" for e in raised.value.errors())
    assert complaint in text
    assert TOKEN not in text
    assert SECRET not in text


def test_serve_says_which_channels_are_on(tmp_path: Path) -> None:
    polling = Settings(WEGWIJS_DATA_DIR=tmp_path, TELEGRAM_BOT_TOKEN=TOKEN,
                       TELEGRAM_API_BASE_URL="http://127.0.0.1:9/")
    assert polling.telegram_api_base_url == "http://127.0.0.1:9"
    assert describe(polling) == ("Channels: web simulator on. Telegram on (polling). WhatsApp "
                                 "off (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
                                 "TWILIO_WHATSAPP_FROM and PUBLIC_BASE_URL).")
    webhook = Settings(WEGWIJS_DATA_DIR=tmp_path, TELEGRAM_BOT_TOKEN=TOKEN,
                       TELEGRAM_WEBHOOK_SECRET=SECRET, PUBLIC_BASE_URL=PUBLIC_URL)
    assert "Telegram on (webhook https://wegwijs.example.org/webhooks/telegram)" in \
        describe(webhook)
    nothing = Settings(WEGWIJS_DATA_DIR=tmp_path)
    assert "Telegram off (set TELEGRAM_BOT_TOKEN)" in describe(nothing)
    assert TOKEN not in describe(polling) + describe(webhook)


def test_text_is_cut_at_sentence_ends_then_spaces_then_anywhere() -> None:
    arabic = "هذه جملة أولى؟ وهذه جملة ثانية. " * 3
    parts = split_text(arabic.strip(), 40)
    assert all(units(part) <= 40 for part in parts)
    assert all(part.endswith(("؟", ".")) for part in parts)
    assert split_text("one two three four", 9) == ["one two", "three", "four"]
    assert split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]
    assert split_text("short", 4096) == ["short"]
    emoji = "😀" * 3  # two UTF-16 units each: Telegram counts them so
    assert split_text(emoji, 4) == ["😀😀", "😀"]
