"""The dispatcher on real databases: durable store, exactly-once handling, order, erasure."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.engine import SessionState, Turn
from bot.messages import InboundMessage
from bot.services.dispatcher import Dispatcher
from bot.services.local_chat import converse, replies_for
from bot.storage import contacts
from bot.storage.contacts import LockedContact
from bot.storage.inbox import Pending
from bot.storage.tables import Contact, ConversationSession, MessageLog, OutboxMessage

from .conftest import FrozenClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def message(text: str, provider_id: str, address: str = "parent-1") -> InboundMessage:
    return InboundMessage(channel="web", address=address, provider_id=provider_id,
                          received_at=T0, text=text)


def count(dispatcher: Dispatcher, model: type, *where: object) -> int:
    with dispatcher.db.session() as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_a_message_is_answered(dispatcher: Dispatcher) -> None:
    replies = converse(dispatcher, message("hello", "m1"))
    assert replies
    assert "Choose your language" in replies[0].text
    assert [c.label for c in replies[0].choices][:1] == ["English"]


def test_the_same_delivery_twice_is_handled_once(dispatcher: Dispatcher) -> None:
    first = dispatcher.handle(message("hello", "m1"))
    second = dispatcher.handle(message("hello", "m1"))
    assert first.new
    assert not second.new
    assert count(dispatcher, MessageLog, col(MessageLog.direction) == "in") == 1
    assert count(dispatcher, OutboxMessage) == 1


def test_the_same_delivery_at_once_from_many_threads_is_handled_once(
        dispatcher: Dispatcher) -> None:
    barrier = threading.Barrier(6)
    results = []

    def deliver() -> None:
        barrier.wait()
        results.append(dispatcher.handle(message("hello", "same-id")))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result.new for result in results) == 1
    assert count(dispatcher, MessageLog, col(MessageLog.direction) == "in") == 1
    assert count(dispatcher, OutboxMessage) == 1
    assert count(dispatcher, Contact) == 1


def test_one_contacts_messages_are_handled_in_order(dispatcher: Dispatcher) -> None:
    # Stored first, handled later (as after a crash): recover handles them in order.
    for index, text in enumerate(["hi", "English", "1", "2", "4"]):
        dispatcher.store(message(text, f"m{index}"))
    assert dispatcher.recover() == 5
    replies = replies_for(dispatcher, "web", "parent-1")
    texts = [reply.text for reply in replies]
    assert "Choose your language" in texts[0]
    assert "Where does your child go to school?" in texts[-2] or any(
        "Which grade" in text for text in texts)
    assert "What would you like to do?" in texts[-1]


def test_different_contacts_in_parallel(dispatcher: Dispatcher) -> None:
    threads = [threading.Thread(target=dispatcher.handle, args=(message("hi", f"p{n}", f"a{n}"),))
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count(dispatcher, Contact) == 8
    assert count(dispatcher, OutboxMessage) == 8


def test_state_survives_between_turns(dispatcher: Dispatcher) -> None:
    converse(dispatcher, message("hi", "m1"))
    replies = converse(dispatcher, message("Nederlands", "m2"))
    assert replies[0].language == "nl"
    with dispatcher.db.session() as session:
        contact = session.exec(select(Contact)).one()
        assert contact.language == "nl"
        state = session.get(ConversationSession, contact.id)
        assert state is not None
        assert state.state["language"] == "nl"


def test_consent_is_recorded_with_its_time(dispatcher: Dispatcher, clock: FrozenClock) -> None:
    converse(dispatcher, message("hi", "m1"))
    converse(dispatcher, message("English", "m2"))
    clock.now = T0 + timedelta(minutes=1)
    converse(dispatcher, message("1", "m3"))
    with dispatcher.db.session() as session:
        contact = session.exec(select(Contact)).one()
    assert contact.consent_at == T0 + timedelta(minutes=1)


def test_delete_my_data_erases_everything_but_says_goodbye(dispatcher: Dispatcher) -> None:
    for index, text in enumerate(["hi", "English", "1"]):
        converse(dispatcher, message(text, f"m{index}"))
    converse(dispatcher, message("delete my data", "m3"))
    replies = converse(dispatcher, message("yes", "m4"))
    assert "deleted your data" in replies[-1].text
    assert count(dispatcher, Contact) == 0
    assert count(dispatcher, ConversationSession) == 0
    assert count(dispatcher, MessageLog, col(MessageLog.text).is_not(None)) == 0
    assert count(dispatcher, MessageLog, col(MessageLog.contact_id).is_not(None)) == 0
    # A late repeat of an old delivery is still recognised and does nothing.
    assert not dispatcher.handle(message("hi", "m0")).new
    assert count(dispatcher, Contact) == 0


def test_stop_then_nothing_until_start(dispatcher: Dispatcher) -> None:
    for index, text in enumerate(["hi", "English", "1"]):
        converse(dispatcher, message(text, f"m{index}"))
    replies = converse(dispatcher, message("stop", "m3"))
    assert "no more messages" in replies[-1].text
    with dispatcher.db.session() as session:
        assert session.exec(select(Contact)).one().opted_out_at is not None
    assert converse(dispatcher, message("hello?", "m4")) == []
    replies = converse(dispatcher, message("start", "m5"))
    assert replies
    with dispatcher.db.session() as session:
        assert session.exec(select(Contact)).one().opted_out_at is None


def test_an_engine_failure_does_not_end_the_conversation(dispatcher: Dispatcher) -> None:
    converse(dispatcher, message("hi", "m1"))
    with dispatcher.db.session() as session, session.begin():
        row = session.exec(select(ConversationSession)).one()
        # A position that no longer exists, as after a flow was edited.
        row.state = {**row.state, "stack": [{"flow": "gone", "node": "gone"}]}
        session.add(row)
    replies = converse(dispatcher, message("1", "m2"))
    assert "something went wrong" in replies[-1].text
    replies = converse(dispatcher, message("hello", "m3"))
    assert replies


def test_the_channels_language_hint_is_confirmed_not_applied(dispatcher: Dispatcher) -> None:
    hinted = InboundMessage(channel="web", address="finn", provider_id="h1", received_at=T0,
                            text="/start", language_hint="fi")
    replies = converse(dispatcher, hinted)
    assert replies[-1].text == "Hei! Jatketaanko suomeksi?"
    with dispatcher.db.session() as session:
        assert session.exec(select(Contact)).one().language is None
    converse(dispatcher, message("1", "h2", address="finn"))
    with dispatcher.db.session() as session:
        assert session.exec(select(Contact)).one().language == "fi"


def test_a_provider_block_is_lifted_when_the_parent_writes_again(
        dispatcher: Dispatcher) -> None:
    converse(dispatcher, message("hi", "b1", address="blocked"))
    with dispatcher.db.session() as session, session.begin():
        contact = session.exec(select(Contact)).one()
        contact.opted_out_at = T0  # as the sender records a "bot was blocked" answer
        session.add(contact)
    converse(dispatcher, message("English", "b2", address="blocked"))
    with dispatcher.db.session() as session:
        assert session.exec(select(Contact)).one().opted_out_at is None


def test_the_parents_own_stop_is_not_lifted_by_a_message(dispatcher: Dispatcher) -> None:
    for index, text in enumerate(["hi", "English", "1", "stop", "hello?"]):
        converse(dispatcher, message(text, f"s{index}", address="stopper"))
    with dispatcher.db.session() as session:
        assert session.exec(select(Contact)).one().opted_out_at is not None


def test_a_failing_interceptor_is_undone_and_the_engine_answers(
        dispatcher: Dispatcher) -> None:
    def broken(session: Session, contact: LockedContact, _state: SessionState,
               _message: Pending, _now: datetime) -> Turn | None:
        contacts.update_contact(session, contact.id, {"region": "finland"})
        raise RuntimeError("a bug in an interceptor")

    with_bug = Dispatcher(dispatcher.db, dispatcher.library, clock=dispatcher.clock,
                          interceptors=[broken])
    replies = converse(with_bug, message("hello", "m1"))
    assert "Choose your language" in replies[0].text
    with dispatcher.db.session() as session:
        (contact,) = session.exec(select(Contact)).all()
    assert contact.region is None  # the interceptor's write was rolled back
