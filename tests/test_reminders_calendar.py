"""The calendar file linked from every reminder: `GET /calendar/{token}.ics`, an RFC 5545
event in UTC named in the parent's language, updated and cancelled with the meeting. On
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar
from sqlmodel import select

from bot.runtime import Runtime, build_runtime
from bot.storage.school_tables import Invitation, Meeting
from bot.web.app import create_app

from .fakes.harness import settings
from .reminders_support import add_meeting, add_parent, add_school, invite

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
STARTS = datetime(2026, 10, 26, 16, 0, tzinfo=UTC)  # 18:00 in Helsinki, after the change


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    built = build_runtime(settings(tmp_path, database_url))
    yield built
    built.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime, with_scheduler=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def invited(runtime: Runtime, *, slot: datetime | None = None, language: str = "fi") -> str:
    """A meeting in Helsinki with one invited parent; the invitation's calendar token."""
    with runtime.db.session() as session, session.begin():
        school = add_school(session, NOW, timezone="Europe/Helsinki", language="fi")
        meeting = add_meeting(session, school, STARTS, kind="learning_discussion",
                              place="Luokka 12, Koulutie 1", minutes=90)
        contact = add_parent(session, "telegram", "31337", NOW, language=language)
        invite(session, meeting, [contact], NOW, slot_start=slot)
        return session.exec(select(Invitation.calendar_token)).one()


def event_of(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    [event] = calendar.walk("VEVENT")
    return {key: event.decoded(key) if key.startswith("DT") else str(event[key])
            for key in ("DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS",
                        "SEQUENCE", "UID")}


async def test_the_calendar_file_holds_the_meeting_in_the_parents_language(
        runtime: Runtime, client: httpx.AsyncClient) -> None:
    token = invited(runtime, language="uk")
    response = await client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    assert b"\r\n" in response.content
    assert b"\n" not in response.content.replace(b"\r\n", b"")
    assert b"DTSTART:20261026T160000Z" in response.content  # UTC
    event = event_of(response.content)
    assert event["DTSTART"] == STARTS
    assert event["DTEND"] == STARTS + timedelta(minutes=90)
    assert event["SUMMARY"] == "Бесіда про навчання (oppimiskeskustelu) – Test school"
    assert event["DESCRIPTION"] == ("Розмова вчителя, вашої дитини і вас про навчання та цілі "
                                    "вашої дитини.")
    assert event["LOCATION"] == "Luokka 12, Koulutie 1"  # the comma is escaped in the file
    assert b"LOCATION:Luokka 12\\, Koulutie 1" in response.content
    assert (event["STATUS"], event["SEQUENCE"]) == ("CONFIRMED", "1")


async def test_a_slot_a_change_and_a_cancellation_show_in_the_file(
        runtime: Runtime, client: httpx.AsyncClient) -> None:
    slot = STARTS + timedelta(minutes=30)
    token = invited(runtime, slot=slot)
    event = event_of((await client.get(f"/calendar/{token}.ics")).content)
    assert (event["DTSTART"], event["DTEND"]) == (slot, slot + timedelta(minutes=15))
    with runtime.db.session() as session, session.begin():
        meeting = session.exec(select(Meeting)).one()
        meeting.version, meeting.status = 3, "cancelled"
        session.add(meeting)
    changed = event_of((await client.get(f"/calendar/{token}.ics")).content)
    assert (changed["STATUS"], changed["SEQUENCE"]) == ("CANCELLED", "3")
    assert changed["UID"] == event["UID"]  # the same event, updated


@pytest.mark.parametrize("token", ["unknown-token-1234", "x", "..%2F..%2Fetc", "a" * 40])
async def test_an_unknown_or_malformed_token_is_not_found(
        runtime: Runtime, client: httpx.AsyncClient, token: str) -> None:
    invited(runtime)
    response = await client.get(f"/calendar/{token}.ics")
    assert response.status_code == 404
