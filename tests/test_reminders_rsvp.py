"""Answers to reminders (RSVP): a button press or a typed number or label is stored on
the invitation and acknowledged in the parent's language; the follow-up leads into the
meeting flow's note, which a later reminder brings back. Through the dispatcher, and end
to end on Telegram (fake Bot API, callback buttons) and WhatsApp (fake Twilio, typed
number). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.messages import InboundMessage
from bot.reminders.claiming import claim_due_reminders
from bot.reminders.planning import plan_meeting
from bot.reminders.render import question_for
from bot.runtime import Runtime, build_runtime
from bot.storage import outbox as outbox_queries
from bot.storage import sessions
from bot.storage.school_tables import Invitation, Meeting
from bot.storage.tables import OutboxMessage

from .conftest import FrozenClock
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
from .reminders_support import add_meeting, add_parent, add_school, invite

pytestmark = pytest.mark.usefixtures("scan_logs")
NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
DUE_NOW = (60 * 1440,)  # far more than the meeting is away: the reminder is due at once
NO_QUIET = ("00:00", "00:00")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, clock: FrozenClock) -> Iterator[Runtime]:
    built = build_runtime(settings(tmp_path, database_url), clock=clock)
    yield built
    built.close()


def new_meeting(runtime: Runtime, starts_at: datetime, *, channel: str, address: int | str,
                language: str = "en", now: datetime = NOW, followup: bool = False,
                last_inbound_at: datetime | None = None) -> int:
    """A meeting with one invited parent, planned; returns the invitation id."""
    with runtime.db.session() as session, session.begin():
        school = add_school(session, now, offsets=DUE_NOW, quiet=NO_QUIET)
        meeting = add_meeting(session, school, starts_at, followup=followup)
        contact = add_parent(session, channel, str(address), now, language=language,
                             last_inbound_at=last_inbound_at)
        invite(session, meeting, [contact], now)
        plan_meeting(session, meeting, now)
        invitation = session.exec(select(Invitation).where(
            Invitation.meeting_id == meeting)).one()
    assert invitation.id is not None
    return invitation.id


def invitation(runtime: Runtime, invitation_id: int) -> Invitation:
    with runtime.db.session() as session:
        found = session.get(Invitation, invitation_id)
    assert found is not None
    return found


def send(runtime: Runtime, address: str, *, text: str | None = None, choice: str | None = None,
         question: int | None = None) -> list[str]:
    """A message from a parent on the local web channel; the replies' texts."""
    runtime.dispatcher.handle(InboundMessage(
        channel="web", address=address, provider_id=uuid.uuid4().hex,
        received_at=runtime.dispatcher.clock(), text=text, choice=choice, question=question))
    with runtime.db.session() as session, session.begin():
        return [message.text for message in outbox_queries.take_for_address(
            session, "web", address, runtime.dispatcher.clock())]


def deliver(runtime: Runtime, address: str) -> list[str]:
    """Claim due reminders and deliver a web parent's messages (as the simulator does)."""
    asyncio.run(claim_due_reminders(runtime))
    with runtime.db.session() as session, session.begin():
        return [message.text for message in outbox_queries.take_for_address(
            session, "web", address, runtime.dispatcher.clock())]


# -- through the dispatcher ----------------------------------------------------------------------

def test_a_button_press_is_stored_and_answered_in_the_parents_language(runtime: Runtime) -> None:
    invited = new_meeting(runtime, NOW + timedelta(days=5), channel="web", address=2001,
                          language="nl")
    [reminder] = deliver(runtime, "2001")
    assert reminder.startswith("Herinnering van Test school")
    replies = send(runtime, "2001", choice="coming", question=question_for(invited))
    assert replies == ["Dank je! Ik heb de school laten weten dat je komt."]
    answered = invitation(runtime, invited)
    assert (answered.rsvp, answered.rsvp_at) == ("coming", NOW)


def test_a_typed_number_or_label_answers_the_last_reminder(runtime: Runtime) -> None:
    invited = new_meeting(runtime, NOW + timedelta(days=5), channel="web", address=2002)
    deliver(runtime, "2002")
    assert send(runtime, "2002", text="4") == [
        "Thank you. I told the school that you would like an interpreter. "
        "The school will contact you about it."]
    assert invitation(runtime, invited).rsvp == "interpreter"
    # Typing answers the message just received; a button works as long as the meeting is
    # ahead, and the latest answer counts.
    send(runtime, "2002", text="I need another time")
    assert invitation(runtime, invited).rsvp == "interpreter"
    send(runtime, "2002", choice="other_time", question=question_for(invited))
    assert invitation(runtime, invited).rsvp == "other_time"


def test_a_typed_label_answers_too(runtime: Runtime) -> None:
    invited = new_meeting(runtime, NOW + timedelta(days=5), channel="web", address=2009,
                          language="fr")
    deliver(runtime, "2009")
    assert send(runtime, "2009", text="je ne peux pas venir!") == [
        "Merci. J'ai dit à l'école que vous ne pouvez pas venir."]
    assert invitation(runtime, invited).rsvp == "not_coming"


def test_a_number_after_another_question_is_left_to_the_conversation(runtime: Runtime) -> None:
    invited = new_meeting(runtime, NOW + timedelta(days=5), channel="web", address=2003)
    deliver(runtime, "2003")
    send(runtime, "2003", text="menu")  # the bot answers: its last message is no reminder
    send(runtime, "2003", text="1")
    assert invitation(runtime, invited).rsvp is None


def test_a_press_for_someone_elses_invitation_changes_nothing(runtime: Runtime) -> None:
    other = new_meeting(runtime, NOW + timedelta(days=5), channel="web", address=2004)
    new_meeting(runtime, NOW + timedelta(days=5), channel="web", address=2005)
    replies = send(runtime, "2005", choice="not_coming", question=question_for(other))
    assert invitation(runtime, other).rsvp is None
    assert replies
    assert "Thank you" not in replies[0]


def test_answers_after_a_cancellation_or_the_meeting_are_not_stored(
        runtime: Runtime, clock: FrozenClock) -> None:
    invited = new_meeting(runtime, NOW + timedelta(days=5), channel="web", address=2006)
    with runtime.db.session() as session, session.begin():
        meeting = session.exec(select(Meeting)).one()
        meeting.status = "cancelled"
        session.add(meeting)
    assert send(runtime, "2006", choice="coming", question=question_for(invited)) == [
        "This meeting was cancelled. You do not need to answer."]
    later = new_meeting(runtime, NOW + timedelta(days=5), channel="web", address=2007)
    clock.now = NOW + timedelta(days=6)
    assert send(runtime, "2007", choice="coming", question=question_for(later)) == [
        "This meeting is over. You do not need to answer any more."]
    assert invitation(runtime, invited).rsvp is None
    assert invitation(runtime, later).rsvp is None


def test_the_follow_up_leads_to_a_note_that_a_later_reminder_brings_back(
        runtime: Runtime, clock: FrozenClock) -> None:
    invited = new_meeting(runtime, NOW + timedelta(hours=30), channel="web", address=2008,
                          followup=True)
    deliver(runtime, "2008")
    clock.now = NOW + timedelta(days=2)  # after the meeting: the follow-up is due
    [followup] = deliver(runtime, "2008")
    assert "What did you agree, and what are the next steps?" in followup
    assert send(runtime, "2008", choice="not_now", question=question_for(invited))[0].startswith(
        "OK. To write it down later")
    [prompt] = send(runtime, "2008", choice="write_note", question=question_for(invited))
    assert prompt.startswith("After the meeting: write in a few words what was agreed")
    saved = send(runtime, "2008", text="Extra maths help on Tuesdays; talk again in May.")
    assert saved[0].startswith("I saved your note.")
    with runtime.db.session() as session:
        contact_id = invitation(runtime, invited).contact_id
        state = sessions.load_state(session, contact_id)
    assert state is not None
    assert state["answers"]["meeting.notes"] == "Extra maths help on Tuesdays; talk again in May."

    with runtime.db.session() as session, session.begin():
        school = add_school(session, clock.now, offsets=DUE_NOW, quiet=NO_QUIET)
        meeting = add_meeting(session, school, clock.now + timedelta(days=10), followup=False)
        invite(session, meeting, [contact_id], clock.now)
        plan_meeting(session, meeting, clock.now)
    [next_reminder] = deliver(runtime, "2008")
    assert "Your note from an earlier meeting:\nExtra maths help on Tuesdays; talk again in May." \
        in next_reminder


# -- end to end: Telegram buttons, WhatsApp numbers ----------------------------------------------

@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with served(FakeTelegram(TOKEN)) as telegram:
        yield telegram


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    async with served(FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)) as twilio:
        yield twilio


async def test_rsvp_round_trip_on_telegram_with_a_button(
        fake_telegram: FakeTelegram, tmp_path: Path, database_url: str) -> None:
    config = settings(tmp_path, database_url, TELEGRAM_BOT_TOKEN=TOKEN,
                      TELEGRAM_API_BASE_URL=fake_telegram.url, PUBLIC_BASE_URL=PUBLIC_URL,
                      TELEGRAM_WEBHOOK_SECRET=SECRET)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        now = datetime.now(UTC)
        invited = await runtime.db.run(lambda: new_meeting(
            runtime, now + timedelta(days=4), channel="telegram", address=CHAT_ID,
            language="fr", now=now))
        await claim_due_reminders(runtime)
        [reminder] = await eventually(lambda: fake_telegram.to(CHAT_ID), what="the reminder")
        assert reminder["text"].startswith("Rappel de Test school")
        assert f"{PUBLIC_URL}/calendar/" in reminder["text"]
        labels = [b["text"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["Je viendrai", "Je ne peux pas venir",
                          "J'ai besoin d'un autre moment", "Je voudrais un interprète"]
        press = fake_telegram.press_update(reminder, "J'ai besoin d'un autre moment",
                                           language="fr")
        response = await http.post("/webhooks/telegram", json=press,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert response.status_code == 200
        replies = await eventually(lambda: fake_telegram.to(CHAT_ID)[1:], what="the thanks")
        assert replies[0]["text"] == ("Merci. J'ai dit à l'école que vous avez besoin d'un autre "
                                      "moment. L'école vous contactera.")
        assert fake_telegram.called("answerCallbackQuery")
        assert (await runtime.db.run(invitation, runtime, invited)).rsvp == "other_time"


async def test_rsvp_round_trip_on_whatsapp_with_a_typed_number(
        fake_twilio: FakeTwilio, tmp_path: Path, database_url: str) -> None:
    config = settings(tmp_path, database_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                      TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_WHATSAPP_FROM=SENDER,
                      TWILIO_API_BASE_URL=fake_twilio.url, PUBLIC_BASE_URL=PUBLIC_URL)
    async with app_server(config) as (url, runtime), httpx.AsyncClient(base_url=url) as http:
        now = datetime.now(UTC)
        invited = await runtime.db.run(lambda: new_meeting(
            runtime, now + timedelta(days=4), channel="whatsapp", address=PHONE,
            now=now, last_inbound_at=now - timedelta(hours=1)))
        await claim_due_reminders(runtime)
        [reminder] = await eventually(lambda: fake_twilio.to(PHONE), what="the reminder")
        assert reminder["Body"].startswith("Reminder from Test school")
        assert reminder["Body"].endswith("\n\n1. I'll come\n2. I can't come\n"
                                         "3. I need another time\n4. I'd like an interpreter")
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID,
                  "From": PHONE, "To": SENDER, "Body": "2", "NumMedia": "0"}
        signature = fake_twilio.sign(f"{PUBLIC_URL}/webhooks/twilio", params)
        response = await http.post("/webhooks/twilio", data=params,
                                   headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
        replies = await eventually(lambda: fake_twilio.to(PHONE)[1:], what="the thanks")
        assert replies[0]["Body"] == "Thank you. I told the school that you cannot come."
        assert (await runtime.db.run(invitation, runtime, invited)).rsvp == "not_coming"
        rows = await runtime.db.run(lambda: _kinds(runtime))
        assert rows == ["reminder", "reply"]


def _kinds(runtime: Runtime) -> list[str]:
    with runtime.db.session() as session:
        return [row.kind for row in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))]
