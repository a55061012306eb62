"""Parents join a school by its invite code, on Telegram (`/start CODE`, a deep link)
and WhatsApp (`JOIN CODE`), through the real dispatcher and its interceptors, on
SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from itertools import count

import pytest
from sqlmodel import select

from bot.engine import Library, SessionState
from bot.messages import InboundMessage, OutboundMessage
from bot.schools import members
from bot.schools.registry import NewSchool, create_school
from bot.services.dispatcher import Dispatcher
from bot.services.interceptors import build_interceptors
from bot.services.local_chat import converse
from bot.storage import contacts, sessions
from bot.storage.database import Database
from bot.storage.school_tables import Child, Membership
from bot.storage.tables import Contact

from .conftest import FrozenClock
from .schools_support import NOW

TELEGRAM = ("telegram", "701234567")
WHATSAPP = ("whatsapp", "whatsapp:+32470123456")
_ids = count(1)


@pytest.fixture
def bot(db: Database, library: Library) -> Dispatcher:
    return Dispatcher(db, library, clock=FrozenClock(NOW),
                      interceptors=build_interceptors(library))


def _school(db: Database, name: str = "GO! Atheneum", region: str = "flanders") -> str:
    with db.session() as session, session.begin():
        return create_school(session, NewSchool(name, region), NOW).invite_code


def _say(bot: Dispatcher, who: tuple[str, str], text: str | None = None,
         **extra: object) -> list[OutboundMessage]:
    channel, address = who
    return converse(bot, InboundMessage(channel=channel, address=address,
                                        provider_id=f"m{next(_ids)}", received_at=NOW,
                                        text=text, **extra))  # type: ignore[arg-type]


def _visible(text: str) -> str:
    """The text without the invisible direction marks around left-to-right parts."""
    return "".join(ch for ch in text if ch not in "\u2066\u2067\u2068\u2069")


def _onboarded(db: Database, who: tuple[str, str], language: str,
               region: str | None = "flanders") -> None:
    with db.session() as session, session.begin():
        contact_id = contacts.preset_contact(session, *who, NOW, language=language,
                                             region=region)
        contacts.update_contact(session, contact_id, {"consent_at": NOW})
        state = SessionState(language=language, region=region, consented=True)
        sessions.save_state(session, contact_id, state.to_json(), NOW)


def _memberships(db: Database) -> list[tuple[Membership, Contact]]:
    with db.session() as session:
        return list(session.exec(select(Membership, Contact).where(
            Membership.contact_id == Contact.id).order_by(Membership.id)))


def test_a_telegram_deep_link_joins_a_new_parent_then_onboarding_runs(
        bot: Dispatcher, db: Database) -> None:
    code = _school(db)
    replies = _say(bot, TELEGRAM, f"/start {code}", language_hint="ar")
    assert "GO! Atheneum" in _visible(replies[0].text)
    assert replies[0].language == "ar"
    assert replies[0].direction == "rtl"
    assert "توقف" in replies[0].text  # how to stop, in Arabic
    # Then the usual first contact: the language guess from Telegram is confirmed.
    assert replies[1].choices
    [(membership, contact)] = _memberships(db)
    assert (membership.source, membership.consent_at) == ("code", None)
    assert contact.region == "flanders"
    with db.session() as session:
        assert [p.consented for p in members.parents(session, membership.school_id)] == [False]
    # The parent keeps the guessed language and agrees to the bot's terms: from then on
    # the school may invite them.
    asked = _say(bot, TELEGRAM, choice="keep", question=replies[1].question)
    agree = _say(bot, TELEGRAM, choice="agree", question=asked[-1].question)
    assert agree
    with db.session() as session:
        [parent] = members.parents(session, membership.school_id)
    assert parent.consented
    # The school's region was set, so onboarding did not ask for it.
    assert not any("Flanders" in c.label for m in agree for c in m.choices)


def test_whatsapp_join_in_any_case_for_an_onboarded_parent(bot: Dispatcher,
                                                           db: Database) -> None:
    code = _school(db)
    _onboarded(db, WHATSAPP, "tr")
    replies = _say(bot, WHATSAPP, f"join {code.lower()}")
    assert "GO! Atheneum" in replies[0].text
    assert replies[0].language == "tr"
    assert "dur" in replies[0].text
    assert len(replies) > 1  # then the menu, as after a plain start
    [(membership, _contact)] = _memberships(db)
    assert membership.consent_at == NOW
    # Joining again changes nothing.
    _say(bot, WHATSAPP, f"JOIN {code}")
    assert len(_memberships(db)) == 1


def test_the_word_for_join_in_the_parents_language_works(bot: Dispatcher,
                                                         db: Database) -> None:
    code = _school(db)
    _onboarded(db, WHATSAPP, "tr")
    replies = _say(bot, WHATSAPP, f"Katıl {code}")
    assert "GO! Atheneum" in replies[0].text
    assert len(_memberships(db)) == 1


def test_an_unknown_code_gets_a_friendly_note(bot: Dispatcher, db: Database) -> None:
    _school(db)
    _onboarded(db, WHATSAPP, "nl")
    replies = _say(bot, WHATSAPP, "JOIN WRONG234")
    assert len(replies) == 1
    assert "WRONG234" in replies[0].text
    assert replies[0].language == "nl"
    assert _memberships(db) == []


def test_start_without_a_school_code_behaves_as_before(bot: Dispatcher, db: Database) -> None:
    _school(db)
    plain = _say(bot, TELEGRAM, "/start")
    assert "Choose your language" in plain[0].text
    # Another kind of link (a volunteer's, an advert's) is left to the rest of the bot.
    other = _say(bot, ("telegram", "702"), "/start SOMEONE1234")
    assert other[0].choices  # the first-contact language question
    assert not any("school" in m.text for m in other)
    assert _memberships(db) == []


def test_a_parent_may_join_several_schools_and_keeps_their_region(
        bot: Dispatcher, db: Database) -> None:
    first, second = _school(db, "School A"), _school(db, "Koulu B", "finland")
    _onboarded(db, TELEGRAM, "uk", region="finland")
    _say(bot, TELEGRAM, f"/start {first}")
    replies = _say(bot, TELEGRAM, f"/start {second}")
    assert "Koulu B" in replies[0].text
    rows = _memberships(db)
    assert len({m.school_id for m, _c in rows}) == 2
    assert {c.region for _m, c in rows} == {"finland"}


def test_deleting_my_data_leaves_every_school(bot: Dispatcher, db: Database) -> None:
    first, second = _school(db, "School A"), _school(db, "School B")
    _onboarded(db, WHATSAPP, "en")
    _say(bot, WHATSAPP, f"JOIN {first}")
    _say(bot, WHATSAPP, f"JOIN {second}")
    with db.session() as session, session.begin():
        for membership, _contact in _memberships(db):
            members.add_child(session, membership.school_id, membership.id or 0, "grade_1", NOW)
    _say(bot, WHATSAPP, "delete my data")
    _say(bot, WHATSAPP, "yes")
    assert _memberships(db) == []
    with db.session() as session:
        assert session.exec(select(Child)).all() == []


def test_joining_logs_ids_only(bot: Dispatcher, db: Database,
                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    code = _school(db)
    _say(bot, WHATSAPP, f"JOIN {code}")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "joined a school by code" in logged
    assert "470123456" not in logged
    assert code not in logged


def test_a_new_parent_typing_join_in_their_language_is_answered_in_it(
        bot: Dispatcher, db: Database) -> None:
    code = _school(db)
    replies = _say(bot, WHATSAPP, f"приєднатися {code}")
    assert replies[0].language == "uk"
    assert "GO! Atheneum" in replies[0].text
    assert replies[1].language == "uk"  # "shall we continue in Ukrainian?"
    assert replies[1].choices
