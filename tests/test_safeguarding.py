"""Safeguarding and the automatic handoff, through the real dispatcher, interceptors and
ticket handler, on SQLite and PostgreSQL.

A parent's message with danger words gets the region's emergency numbers in their
language and opens a priority ticket (or makes their open one a priority). A parent the
bot fails to understand twice in a row is handed to a person.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from bot.engine import HandoffRequested, Library, Send, SessionState, advance
from bot.engine.bidi import LRI, PDI
from bot.engine.runner import Event
from bot.messages import OutboundMessage
from bot.storage.ticket_tables import TicketMessage

from .tickets_support import Desk, desk  # noqa: F401 (a fixture)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DANGER_NL = "Mijn man slaat me en ik ben bang"


def texts(messages: list[OutboundMessage]) -> str:
    return "\n---\n".join(m.text for m in messages)


def ticket_words(desk: Desk, ticket_id: int | None) -> list[str]:  # noqa: F811
    with desk.db.session() as session:
        return [m.text for m in session.exec(select(TicketMessage).where(
            TicketMessage.ticket_id == ticket_id).order_by(col(TicketMessage.id)))]


# -- danger words -----------------------------------------------------------------------------

def test_danger_words_open_a_priority_ticket_and_send_the_regions_numbers(
        desk: Desk, library: Library) -> None:  # noqa: F811
    parent = desk.parent(language="nl", region="flanders")
    parent.says("menu")
    replies = parent.says(DANGER_NL)

    assert replies[0].text.startswith("Is iemand nu in gevaar? Bel 112.")
    assert all(number in replies[0].text for number in ("101", "1712", "1813", "102", "106"))
    assert "080 005 005" not in texts(replies)  # Finland's lines are not Flanders'
    assert all(m.language == "nl" for m in replies)
    assert replies[-1].text == library.text("nl", "tickets.opened_urgent", {})
    assert "Wat wil je doen?" not in texts(replies)  # the bot stays quiet for the person

    [ticket] = desk.tickets()
    assert (ticket.topic, ticket.priority, ticket.language, ticket.flow) == \
        ("safeguarding", True, "nl", "menu")
    assert ticket_words(desk, ticket.id) == [DANGER_NL]


def test_in_arabic_the_numbers_stay_readable_in_right_to_left_text(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(language="ar", region="flanders")
    replies = parent.says("زوجي يضربني كل يوم")
    assert all(m.direction == "rtl" for m in replies)
    assert f"{LRI}112{PDI}" in replies[0].text
    assert f"{LRI}1712{PDI}" in replies[0].text
    [ticket] = desk.tickets()
    assert ticket.priority


def test_a_parent_in_finland_gets_the_finnish_lines_in_finnish(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(language="fi", region="finland")
    replies = parent.says("Meillä on perheväkivaltaa kotona")
    assert replies[0].text.startswith("Jos joku on vaarassa nyt, soita 112.")
    assert all(number in replies[0].text for number in ("080 005 005", "09 2525 0111",
                                                        "116 111"))
    assert "1712" not in texts(replies)


def test_without_a_region_both_regions_are_shown(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(language="en", region=None)  # type: ignore[arg-type]
    told = texts(parent.says("my husband hits me"))
    assert told.count("call 112") == 1
    assert "1712" in told
    assert "080 005 005" in told


def test_words_in_another_language_than_the_parents_still_count(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(language="tr", region="flanders")
    replies = parent.says(DANGER_NL)  # a Turkish parent writes the Dutch they learned
    assert replies[0].language == "tr"  # answered in the parent's own language
    assert "1712" in replies[0].text
    assert desk.tickets()[0].priority


def test_an_open_ticket_becomes_a_priority_one_and_gets_the_message(
        desk: Desk, library: Library) -> None:  # noqa: F811
    parent = desk.parent()
    parent.says("person")
    parent.says("How do I choose a school for my son?")
    [ticket] = desk.tickets()
    assert not ticket.priority

    replies = parent.says("my husband hits me")
    assert "If someone is in danger now, call 112." in replies[0].text
    assert replies[-1].text == library.text("en", "tickets.already_open", {})
    [ticket] = desk.tickets()
    assert ticket.priority
    assert ticket_words(desk, ticket.id)[-1] == "my husband hits me"


def test_sos_shows_the_numbers_while_a_ticket_is_open(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(region="finland")
    parent.says("person")
    parent.says("How do I choose a school for my son?")
    told = texts(parent.says("sos"))
    assert "If someone is in danger now, call 112." in told
    assert "Nollalinja" in told
    [ticket] = desk.tickets()
    assert ticket.status == "open"
    assert ticket_words(desk, ticket.id) == ["How do I choose a school for my son?"]


def test_the_log_names_the_contact_and_language_never_the_words(
        desk: Desk, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    parent = desk.parent(language="nl")
    with caplog.at_level(logging.INFO):
        parent.says(DANGER_NL)
    matches = [r.getMessage() for r in caplog.records
               if r.getMessage().startswith("safeguarding match:")]
    assert len(matches) == 1
    assert matches[0].endswith("language=nl")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "slaat" not in logged
    assert DANGER_NL not in logged


def test_a_parent_who_said_stop_is_still_answered(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    parent.says("stop")
    assert parent.says("hello") == []
    assert "call 112" in texts(parent.says("my husband hits me"))
    assert desk.tickets()[0].priority


def test_volunteers_are_not_screened(desk: Desk) -> None:  # noqa: F811
    sara = desk.volunteer("Sara", languages=["en"])
    told = texts(sara.says("How do I talk with a parent about violence at home?"))
    assert "112" not in told
    assert desk.tickets() == []


def test_ordinary_messages_go_on_to_the_engine(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(language="nl")
    parent.says("menu")
    assert "Wat wil je doen?" in texts(parent.says("Mijn zoon is geslaagd!"))
    assert desk.tickets() == []


def test_the_numbers_go_out_even_when_the_ticket_cannot_be_opened(
        desk: Desk) -> None:  # noqa: F811
    parent = desk.parent(language="nl")
    with desk.db.session() as session, session.begin():
        session.execute(text("DROP TABLE ticket_messages"))  # a real failure, no stand-in
    replies = parent.says(DANGER_NL)
    assert "Bel 112" in replies[0].text
    assert desk.tickets() == []  # the half-written ticket was rolled back


# -- failing to understand twice ----------------------------------------------------------------

def test_two_misses_in_a_row_hand_the_parent_to_a_person(desk: Desk) -> None:  # noqa: F811
    parent = desk.parent()
    parent.says("menu")
    assert "Sorry, I did not understand" in texts(parent.says("purple"))
    told = texts(parent.says("banana"))
    assert "I still do not understand. I will ask a person to help you." in told
    assert "What would you like to do?" not in told
    [ticket] = desk.tickets()
    assert (ticket.topic, ticket.flow, ticket.priority) == ("not_understood", "menu", False)


def test_the_handoff_carries_the_question_asked_and_the_parents_words(
        library: Library) -> None:
    state = SessionState(language="nl", region="flanders", consented=True,
                         answers={"child.stage": "grade_1"})
    turn = advance(library, state, Event(text="menu"), NOW)
    turn = advance(library, turn.state, Event(text="paars"), NOW)
    assert not any(isinstance(e, HandoffRequested) for e in turn.effects)
    turn = advance(library, turn.state, Event(text="ik snap het niet, welke school?"), NOW)
    [handoff] = [e for e in turn.effects if isinstance(e, HandoffRequested)]
    assert handoff == HandoffRequested(
        topic="not_understood", flow="menu",
        context={"stage": "grade_1", "region": "flanders", "asked": "Wat wil je doen?",
                 "question": "ik snap het niet, welke school?"})
    assert turn.state.stack == []  # nothing is asked over the person's head


def test_before_agreeing_the_parent_is_offered_help_instead(library: Library) -> None:
    state = SessionState(language="en")
    turn = advance(library, state, Event(text="hello"), NOW)
    turn = advance(library, turn.state, Event(text="purple"), NOW)
    turn = advance(library, turn.state, Event(text="banana"), NOW)
    assert not any(isinstance(e, HandoffRequested) for e in turn.effects)
    assert [c.id for e in turn.effects if isinstance(e, Send)
            for c in e.message.choices] == ["again", "menu", "person"]
