"""Test set-up for tickets and volunteers: a runtime on the test database with a frozen
clock, a parent and volunteers who talk to it through the real dispatcher, and what
each of them received (their outbox rows)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.config import Settings
from bot.engine import Library, SessionState
from bot.messages import InboundMessage, OutboundMessage
from bot.runtime import Runtime
from bot.services.dispatcher import Dispatcher
from bot.services.interceptors import build_interceptors
from bot.storage import contacts, outbox, sessions, volunteers
from bot.storage.database import Database
from bot.storage.ticket_tables import Ticket
from bot.tickets.escalation import escalate_tickets
from bot.tickets.opening import TicketHandoff
from bot.tickets.relay import relay
from bot.translation import MachineTranslator, TranslationConfig

from .conftest import FrozenClock

PARENT = "+32470123456"  # phone numbers in these tests contain 470123
_ids = itertools.count(1)


@dataclass
class Person:
    """Someone talking to the bot: a parent (web channel) or a volunteer (Telegram)."""

    desk: Desk
    channel: str
    address: str
    received: list[OutboundMessage] = field(default_factory=list)

    def says(self, text: str | None = None, *, choice: str | None = None,
             question: int | None = None) -> list[OutboundMessage]:
        """Send a message through the dispatcher; return what came back at once."""
        self.desk.dispatcher.handle(InboundMessage(
            channel=self.channel, address=self.address, provider_id=f"p{next(_ids)}",
            received_at=self.desk.clock(), text=text, choice=choice, question=question))
        return self.inbox()

    def inbox(self) -> list[OutboundMessage]:
        """The messages queued for this person since the last look."""
        with self.desk.db.session() as session, session.begin():
            new = outbox.take_for_address(session, self.channel, self.address,
                                          self.desk.clock())
        self.received.extend(new)
        return new

    def texts(self) -> str:
        """Everything received so far, as one text."""
        return "\n---\n".join(m.text for m in self.received)


@dataclass
class Desk:
    """The bot with tickets: dispatcher with the real interceptors, relay and escalation."""

    runtime: Runtime
    clock: FrozenClock

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def dispatcher(self) -> Dispatcher:
        return self.runtime.dispatcher

    def parent(self, address: str = PARENT, *, language: str = "en",
               region: str = "flanders", channel: str = "web") -> Person:
        """A parent who has been through onboarding, in `language`."""
        with self.db.session() as session, session.begin():
            contact_id = contacts.preset_contact(session, channel, address, self.clock(),
                                                 language=language, region=region)
            state = SessionState(language=language, region=region, consented=True)
            sessions.save_state(session, contact_id, state.to_json(), self.clock())
        return Person(self, channel, address)

    def volunteer(self, name: str, *, languages: list[str], interface: str = "en",
                  regions: tuple[str, ...] = (), schools: tuple[int, ...] = (),
                  chat: int | None = None) -> Person:
        """A registered volunteer who linked their Telegram chat with a code."""
        with self.db.session() as session, session.begin():
            volunteer = volunteers.add_volunteer(
                session, display_name=name, languages=languages, regions=list(regions),
                school_ids=list(schools), interface_language=interface, now=self.clock())
            assert volunteer.id is not None
            code = volunteers.new_link_code(session, volunteer.id, self.clock())
        person = Person(self, "telegram", str(chat or 987654000 + next(_ids)))
        replies = person.says(f"/start {code}")
        assert name in replies[0].text, replies
        return person

    async def relay(self) -> int:
        """Run the relay job once."""
        return await relay(self.runtime)

    async def escalate(self) -> int:
        """Run the escalation job once."""
        return await escalate_tickets(self.runtime)

    def later(self, minutes: int) -> None:
        """Move the clock."""
        self.clock.now += timedelta(minutes=minutes)

    def tickets(self) -> list[Ticket]:
        """All tickets, oldest first."""
        with self.db.session() as session:
            return list(session.exec(select(Ticket).order_by(col(Ticket.id))))


def build_desk(db: Database, library: Library, tmp_path: Path, now: datetime,
               **env: object) -> Iterator[Desk]:
    """A runtime around the test database (see the `desk` fixtures of the tests)."""
    settings = Settings(WEGWIJS_DATA_DIR=tmp_path, **env)  # type: ignore[arg-type]
    clock = FrozenClock(now)
    translator = MachineTranslator(TranslationConfig.from_settings(settings), db)
    dispatcher = Dispatcher(db, library, clock=clock, interceptors=build_interceptors(library),
                            on_handoff=TicketHandoff(library))
    runtime = Runtime(settings, db, library, dispatcher, translator)
    try:
        yield Desk(runtime, clock)
    finally:
        translator.close()


@pytest.fixture
def desk(db: Database, library: Library, tmp_path: Path,
         clock: FrozenClock) -> Iterator[Desk]:
    """The bot with tickets on each test database."""
    yield from build_desk(db, library, tmp_path, clock())
