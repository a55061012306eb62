"""Due reminder rows become outbox messages: in the parent's language, once, late but
once after downtime, missed with a reason when too late, out of quiet hours, within
WhatsApp's rules, with several workers at once; and the operators' status overview. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import col, func, select

from bot.cli.main import cli
from bot.engine.bidi import LRI, PDI
from bot.reminders.claiming import claim_due_reminders
from bot.reminders.planning import notify_meeting_cancelled, plan_meeting
from bot.reminders.render import RSVP_QUESTION_BASE
from bot.runtime import Runtime, build_runtime
from bot.storage.school_tables import Invitation, Meeting, Reminder
from bot.storage.tables import Contact, OutboxMessage

from .conftest import FrozenClock
from .fakes.harness import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SENDER, TOKEN, settings
from .reminders_support import add_meeting, add_parents, add_school, invite, reminders

pytest_plugins = ["tests.argos_fixtures"]
ArgosPackages = Callable[..., Path]

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)  # 11:00 in Brussels: not quiet
NO_QUIET = ("00:00", "00:00")
DUE_NOW = (30 * 1440,)  # 30 days before a meeting 20 days away: due at once
REMINDER_TEMPLATE = "HX" + "1" * 32
WHATSAPP = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": SENDER, "PUBLIC_BASE_URL": PUBLIC_URL,
            "TELEGRAM_BOT_TOKEN": None}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def make_runtime(tmp_path: Path, database_url: str, clock: FrozenClock
                 ) -> Iterator[Callable[..., Runtime]]:
    """Runtimes on the test database (Telegram on unless told otherwise)."""
    built: list[Runtime] = []

    def make(**env: Any) -> Runtime:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, **env}
        runtime = build_runtime(settings(tmp_path, database_url, **{
            key: value for key, value in env.items() if value is not None}), clock=clock)
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.close()


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime()


def setup_meeting(runtime: Runtime, starts_at: datetime, *, parents: int = 1,
                  language: str | None = "fr", channel: str = "telegram",
                  note: str | None = None, quiet: tuple[str, str] = NO_QUIET,
                  offsets: tuple[int, ...] = (10080, 1440, 120), plan_at: datetime = NOW,
                  last_inbound_at: datetime | None = None, followup: bool = False) -> int:
    with runtime.db.session() as session, session.begin():
        school = add_school(session, NOW, quiet=quiet, offsets=offsets)
        meeting = add_meeting(session, school, starts_at, note=note, followup=followup)
        known = session.exec(select(func.count()).select_from(Contact)).one()
        contacts = add_parents(session, parents, NOW, channel=channel, language=language,
                               last_inbound_at=last_inbound_at, first=1000 + known)
        invite(session, meeting, contacts, NOW)
        plan_meeting(session, meeting, plan_at)
    return meeting


def outbox(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.db.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def claim(runtime: Runtime) -> Counter[str]:
    return asyncio.run(claim_due_reminders(runtime))


def by_offset(runtime: Runtime) -> dict[int, Reminder]:
    return {row.offset_minutes: row for row in reminders(runtime.db)}


# -- one reminder, in the parent's language ---------------------------------------------------

def test_a_due_reminder_becomes_one_message_in_the_parents_language(runtime: Runtime) -> None:
    starts = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)  # 18:00 in Brussels (summer time)
    setup_meeting(runtime, starts, offsets=DUE_NOW)
    assert claim(runtime) == Counter(sent=1)
    assert claim(runtime) == Counter()  # nothing twice
    [message] = outbox(runtime)
    [row] = reminders(runtime.db)
    with runtime.db.session() as session:
        invitation = session.get(Invitation, row.invitation_id)
    assert invitation is not None
    assert (row.status, row.channel, row.outbox_id, row.reason) == \
        ("sent", "telegram", message.id, None)
    assert (message.kind, message.priority, message.status) == ("reminder", 10, "pending")
    text = message.payload["text"]
    for part in ("Rappel de Test school", "Oudercontact", "Une discussion avec les enseignants",
                 "mardi 31 mars 2026, 18:00 – 19:00", "Où : Room 12",
                 f"http://localhost:8000/calendar/{invitation.calendar_token}.ics",
                 "Pouvez-vous venir ?"):
        assert part in text, part
    assert [choice["label"] for choice in message.payload["choices"]] == [
        "Je viendrai", "Je ne peux pas venir", "J'ai besoin d'un autre moment",
        "Je voudrais un interprète"]
    assert message.payload["question"] == RSVP_QUESTION_BASE + row.invitation_id


def test_right_to_left_reminders_isolate_the_left_to_right_parts(runtime: Runtime) -> None:
    setup_meeting(runtime, NOW + timedelta(days=20), language="ar", offsets=DUE_NOW)
    claim(runtime)
    [message] = outbox(runtime)
    assert message.payload["direction"] == "rtl"
    assert "تذكير من" in message.payload["text"]
    assert f"{LRI}Oudercontact" in message.payload["text"]
    assert message.payload["choices"][0]["label"] == "سأحضر"


# -- downtime ----------------------------------------------------------------------------------

def test_after_downtime_a_useful_reminder_goes_late_once(runtime: Runtime,
                                                          clock: FrozenClock) -> None:
    setup_meeting(runtime, NOW + timedelta(days=3), offsets=(1440 * 2, 1440))
    reminder = by_offset(runtime)[2880]
    clock.now = reminder.due_at + timedelta(hours=3)  # the worker was down for 3 hours
    assert claim(runtime) == Counter(sent=1)
    clock.now += timedelta(minutes=1)
    assert claim(runtime) == Counter()
    late = by_offset(runtime)[2880]
    assert late.status == "sent"
    assert late.reason is not None
    assert late.reason.startswith("sent late")
    assert len(outbox(runtime)) == 1


def test_after_a_long_downtime_only_the_latest_reminder_goes(runtime: Runtime,
                                                              clock: FrozenClock) -> None:
    setup_meeting(runtime, NOW + timedelta(days=8), offsets=(10080, 1440, 120))
    clock.now = by_offset(runtime)[1440].due_at + timedelta(hours=1)  # down for 6 days
    assert claim(runtime) == Counter(sent=1, missed=1)
    rows = by_offset(runtime)
    assert (rows[10080].status, rows[1440].status, rows[120].status) == \
        ("missed", "sent", "pending")
    assert rows[10080].reason == "superseded: a later reminder for this meeting is due too"
    assert len(outbox(runtime)) == 1


def test_a_reminder_whose_meeting_has_started_is_marked_missed(runtime: Runtime,
                                                                clock: FrozenClock) -> None:
    starts = NOW + timedelta(days=2)
    setup_meeting(runtime, starts, offsets=(1440,))
    clock.now = starts + timedelta(minutes=5)  # the worker came back too late
    assert claim(runtime) == Counter(missed=1)
    [row] = reminders(runtime.db)
    assert row.status == "missed"
    assert row.processed_at == clock.now
    assert row.reason is not None
    assert "the meeting started at" in row.reason
    assert outbox(runtime) == []


# -- quiet hours, channels, opt-out, changes -----------------------------------------------------

def test_a_late_reminder_waits_for_the_end_of_quiet_hours(runtime: Runtime,
                                                          clock: FrozenClock) -> None:
    starts = datetime(2026, 3, 25, 15, 0, tzinfo=UTC)  # 16:00 in Brussels
    setup_meeting(runtime, starts, quiet=("21:00", "08:00"), offsets=(1440,))
    clock.now = datetime(2026, 3, 24, 22, 0, tzinfo=UTC)  # 23:00: quiet
    assert claim(runtime) == Counter(pending=1)
    [row] = reminders(runtime.db)
    assert (row.status, row.reason) == ("pending", "moved out of quiet hours")
    assert row.due_at == datetime(2026, 3, 25, 7, 0, tzinfo=UTC)  # 08:00 in Brussels
    assert claim(runtime) == Counter()
    clock.now = row.due_at
    assert claim(runtime) == Counter(sent=1)


def test_whatsapp_outside_the_window_needs_a_template(
        make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(**WHATSAPP)
    setup_meeting(runtime, NOW + timedelta(days=20), channel="whatsapp", language="en",
                  offsets=DUE_NOW, last_inbound_at=NOW - timedelta(days=3))
    assert claim(runtime) == Counter(unsendable=1)
    [row] = reminders(runtime.db)
    assert row.reason == ("WhatsApp: outside the 24-hour window and no 'reminder' template "
                          "for 'en'; no other channel is known for this parent")
    assert outbox(runtime) == []

    with_template = make_runtime(**WHATSAPP, TWILIO_CONTENT_TEMPLATES=json.dumps(
        {"reminder": {"en": REMINDER_TEMPLATE}}))
    setup_meeting(with_template, NOW + timedelta(days=20), channel="whatsapp", language="en",
                  offsets=DUE_NOW, last_inbound_at=NOW - timedelta(days=3))
    assert claim(with_template) == Counter(sent=1)


def test_whatsapp_inside_the_window_sends_free_text(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(**WHATSAPP)
    setup_meeting(runtime, NOW + timedelta(days=20), channel="whatsapp", language="en",
                  offsets=DUE_NOW, last_inbound_at=NOW - timedelta(hours=2))
    assert claim(runtime) == Counter(sent=1)
    [message] = outbox(runtime)
    assert message.payload["text"].startswith("Reminder from Test school")
    assert f"{PUBLIC_URL}/calendar/" in message.payload["text"]


def test_a_channel_that_is_not_configured_is_recorded(make_runtime: Callable[..., Runtime]
                                                       ) -> None:
    runtime = make_runtime(TELEGRAM_BOT_TOKEN=None)
    setup_meeting(runtime, NOW + timedelta(days=20), offsets=DUE_NOW)
    assert claim(runtime) == Counter(unsendable=1)
    assert reminders(runtime.db)[0].reason == "the telegram channel is not configured"


def test_a_parent_who_opted_out_gets_nothing(runtime: Runtime) -> None:
    setup_meeting(runtime, NOW + timedelta(days=20), offsets=DUE_NOW)
    with runtime.db.session() as session, session.begin():
        for contact in session.exec(select(Contact)):
            contact.opted_out_at = NOW
            session.add(contact)
    assert claim(runtime) == Counter(cancelled=1)
    assert reminders(runtime.db)[0].reason == "the parent opted out"


def test_a_cancelled_meeting_sends_the_notice_without_options(runtime: Runtime) -> None:
    meeting = setup_meeting(runtime, NOW + timedelta(days=20), language="en",
                            offsets=(10080,))
    with runtime.db.session() as session, session.begin():
        row = session.get(Meeting, meeting)
        assert row is not None
        row.status = "cancelled"
        session.add(row)
        session.flush()
        notify_meeting_cancelled(session, meeting, NOW)
    assert claim(runtime) == Counter(sent=1)
    [message] = outbox(runtime)
    assert message.payload["text"].startswith(
        "Test school cancelled this meeting. You do not need to come.")
    assert message.payload["choices"] == []
    assert message.payload["question"] is None


def test_no_follow_up_for_a_parent_who_could_not_come(runtime: Runtime,
                                                      clock: FrozenClock) -> None:
    starts = NOW + timedelta(days=2)
    setup_meeting(runtime, starts, offsets=(1440,), followup=True)
    with runtime.db.session() as session, session.begin():
        invitation = session.exec(select(Invitation)).one()
        invitation.rsvp = "not_coming"
        session.add(invitation)
    clock.now = starts + timedelta(hours=4)
    assert claim(runtime) == Counter(missed=1, cancelled=1)
    assert {row.kind: row.reason for row in reminders(runtime.db)}["followup"] == \
        "the parent said they could not come"


def test_no_follow_up_once_the_school_turned_it_off(runtime: Runtime,
                                                    clock: FrozenClock) -> None:
    starts = NOW + timedelta(days=2)
    setup_meeting(runtime, starts, offsets=(1440,), followup=True)
    with runtime.db.session() as session, session.begin():
        meeting = session.exec(select(Meeting)).one()
        meeting.followup = False  # a change that raises no version: nobody is told
        session.add(meeting)
    clock.now = starts + timedelta(hours=4)
    assert claim(runtime) == Counter(missed=1, cancelled=1)
    assert {row.kind: row.reason for row in reminders(runtime.db)}["followup"] == \
        "the school turned the follow-up off"


# -- several workers ---------------------------------------------------------------------------

def test_two_workers_at_once_enqueue_each_reminder_once(
        make_runtime: Callable[..., Runtime]) -> None:
    first, second = make_runtime(), make_runtime()
    setup_meeting(first, NOW + timedelta(days=20), parents=1200, offsets=DUE_NOW)

    async def both() -> list[Counter[str]]:
        return list(await asyncio.gather(claim_due_reminders(first),
                                          claim_due_reminders(second)))

    results = asyncio.run(both())
    assert sum(results, Counter()) == Counter(sent=1200)
    messages = outbox(first)
    assert len(messages) == 1200
    assert len({message.contact_id for message in messages}) == 1200
    rows = reminders(first.db)
    assert {row.status for row in rows} == {"sent"}
    assert sorted(row.outbox_id for row in rows) == sorted(m.id for m in messages)


# -- the school's note, machine-translated -----------------------------------------------------

def test_the_schools_note_is_translated_and_marked_or_sent_as_written(
        make_runtime: Callable[..., Runtime], argos_packages: ArgosPackages,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(tmp_path))
    installed = CliRunner().invoke(cli, ["models", "install",
                                         str(argos_packages("nl", "en", kind="upper"))])
    assert installed.exit_code == 0, installed.output
    runtime = make_runtime()
    note = "Het oudercontact is op maandag om negen uur."
    for language in ("en", "ar", "nl"):
        setup_meeting(runtime, NOW + timedelta(days=20), language=language, note=note,
                      offsets=DUE_NOW)
    assert claim(runtime) == Counter(sent=3)
    english, arabic, dutch = (message.payload["text"] for message in outbox(runtime))
    assert "The school wrote:\nHET oudercontact IS OP MAANDAG OM NEGEN UUR.\n\n" \
           "(Translated by a computer. It may contain mistakes.)" in english
    plain_arabic = arabic.replace(LRI, "").replace(PDI, "")  # without the isolates
    assert note in plain_arabic
    assert "(لم نتمكن من ترجمة هذا. اللغة: Nederlands.)" in plain_arabic
    assert note in dutch
    assert "computer" not in dutch


# -- the operators' overview -------------------------------------------------------------------

def test_reminders_status_lists_each_state_with_its_reasons(
        runtime: Runtime, clock: FrozenClock, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    today = datetime.now(UTC).replace(microsecond=0)  # the command reads the real clock
    clock.now = today
    setup_meeting(runtime, today + timedelta(days=20), parents=2, offsets=(30 * 1440, 1440),
                  plan_at=today)
    starts = today + timedelta(days=1)
    setup_meeting(runtime, starts, offsets=(120,), plan_at=today)
    clock.now = starts + timedelta(minutes=1)
    claim(runtime)  # the second meeting's reminder is missed, the first's two go out
    with runtime.db.session() as session, session.begin():
        failed = session.exec(select(OutboxMessage)).first()
        assert failed is not None
        failed.status, failed.error = "failed", "telegram: bad request: chat not found"
        session.add(failed)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["reminders", "status"])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "School 1: Test school" in output
    assert "School 2: Test school" in output
    assert "planned 2  queued 1  failed 1" in output
    assert "failed: telegram: bad request: chat not found (1)" in output
    assert "missed 1" in output
    assert "missed: the meeting started at" in output
    assert "sent late (due" in output
    only = CliRunner().invoke(cli, ["reminders", "status", "--school", "2"])
    assert "School 1" not in only.output
    assert "School 2" in only.output
    nothing = CliRunner().invoke(cli, ["reminders", "status", "--school", "99"])
    assert nothing.output.strip() == "No reminders for school 99."
