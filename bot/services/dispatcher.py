"""The dispatcher: store each inbound message, then run the engine in order per contact.

Path of one message:
1. `store` writes it under its unique key (channel, provider id) and commits. A repeat
   delivery hits the key and has no effect.
2. `process` locks the contact, offers each of its stored messages in order to the
   interceptors (a school's join code, a meeting answer, an open question to a
   volunteer...), runs the engine on those none of them took, and commits the new
   state, the log and the outbox rows in one transaction.
A crash between 1 and 2 loses nothing: `recover` handles what was stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlmodel import Session

from bot.engine import (
    ConsentGiven,
    ContactChanged,
    Effect,
    EraseContact,
    HandoffRequested,
    Library,
    OptIn,
    OptOut,
    Send,
    SessionState,
    advance,
)
from bot.engine.runner import Event, Turn
from bot.messages import InboundMessage, OutboundMessage
from bot.storage import contacts, inbox, outbox, sessions
from bot.storage.contacts import LockedContact
from bot.storage.database import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Gets the turn that asked for a person and returns the turn to apply instead (it may
# open a ticket, and change what the parent is told).
HandoffHandler = Callable[[Session, LockedContact, Turn, HandoffRequested, datetime], Turn]


class Interceptor(Protocol):
    """Sees a stored message before the engine does, inside the contact's transaction.

    Returning a Turn handles the message instead of the engine (its Send effects go to
    this contact; other rows may be written through `session`). Returning None leaves
    it to the next interceptor, and finally to the engine. Must not block on other
    database connections (SQLite holds one writer): do slow work, such as machine
    translation, outside, from rows written here.
    """

    def __call__(self, session: Session, contact: LockedContact, state: SessionState,
                 message: inbox.Pending, now: datetime) -> Turn | None: ...


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def log_handoff(_session: Session, contact: LockedContact, turn: Turn,
                effect: HandoffRequested, _now: datetime) -> Turn:
    """The default handoff handler: record that a person was asked for."""
    log.info("handoff requested: contact=%s topic=%s flow=%s", contact.id, effect.topic,
             effect.flow)
    return turn


@dataclass(frozen=True)
class Handled:
    """The outcome of `handle`: the contact (None for a repeat), and whether it was new."""

    contact_id: int | None
    new: bool


class Dispatcher:
    """Runs the engine for stored inbound messages and writes its effects."""

    def __init__(self, db: Database, library: Library, *, clock: Clock = utc_now,
                 on_handoff: HandoffHandler = log_handoff,
                 interceptors: Sequence[Interceptor] = ()) -> None:
        self.db = db
        self.library = library
        self.clock = clock
        self.on_handoff = on_handoff
        self.interceptors = tuple(interceptors)

    # -- blocking API (runs on a database thread) ------------------------------------

    def store(self, message: InboundMessage) -> Handled:
        """Store one inbound message durably; repeats are recognised and ignored."""
        with self.db.session() as session, session.begin():
            stored = inbox.store_inbound(session, message)
        return Handled(stored.contact_id, stored.new)

    def process(self, contact_id: int) -> int:
        """Handle the contact's stored messages in order; return how many were handled."""
        with self.db.session() as session, session.begin():
            contact = contacts.lock_contact(session, contact_id)
            if contact is None:
                return 0
            pending = inbox.pending_inbound(session, contact_id)
            if not pending:
                return 0
            now = self.clock()
            state = self._state(session, contact)
            if contact.opted_out and not state.opted_out:
                # The provider reported a block (Telegram 403, Twilio 21610), not the
                # parent's "stop": a new message means they can be reached again.
                contacts.update_contact(session, contact_id, {"opted_out_at": None})
                log.info("provider opt-out lifted by a new message: contact=%s", contact_id)
            for index, message in enumerate(pending):
                turn = self._handed_off(session, contact, now, (
                    self._intercepted(session, contact, state, message, now)
                    or self._turn(contact, state, message, now)))
                if self._apply(session, contact, turn.effects, now):
                    inbox.mark_handled(session, [m.id for m in pending], now, forget_text=True)
                    return index + 1
                state = turn.state
            inbox.mark_handled(session, [m.id for m in pending], now)
            sessions.save_state(session, contact_id, state.to_json(), now)
            return len(pending)

    def handle(self, message: InboundMessage) -> Handled:
        """Store, then process: the whole path of one message."""
        handled = self.store(message)
        if handled.contact_id is not None:
            self.process(handled.contact_id)
        return handled

    def recover(self) -> int:
        """Handle every stored but unhandled message (after a crash or restart)."""
        with self.db.session() as session:
            waiting = inbox.contacts_with_pending(session)
        return sum(self.process(contact_id) for contact_id in waiting)

    # -- inside the transaction --------------------------------------------------------

    def _state(self, session: Session, contact: LockedContact) -> SessionState:
        saved = sessions.load_state(session, contact.id)
        if saved is not None:
            return SessionState.from_json(saved)
        return SessionState(language=contact.language, region=contact.region,
                            opted_out=contact.opted_out)

    def _intercepted(self, session: Session, contact: LockedContact, state: SessionState,
                     message: inbox.Pending, now: datetime) -> Turn | None:
        for interceptor in self.interceptors:
            savepoint = session.begin_nested()
            try:
                turn = interceptor(session, contact, state, message, now)
            except Exception:
                # A bug must not end the conversation: undo its writes, let the engine
                # answer instead.
                savepoint.rollback()
                log.exception("interceptor failed: contact=%s interceptor=%s", contact.id,
                              getattr(interceptor, "__name__", type(interceptor).__name__))
                continue
            savepoint.commit()
            if turn is not None:
                return turn
        return None

    def _handed_off(self, session: Session, contact: LockedContact, now: datetime,
                    turn: Turn) -> Turn:
        for effect in turn.effects:
            if isinstance(effect, HandoffRequested):
                return self.on_handoff(session, contact, turn, effect, now)
        return turn

    def _turn(self, contact: LockedContact, state: SessionState, message: inbox.Pending,
              now: datetime) -> Turn:
        payload = message.payload or {}
        event = Event(text=message.text, choice=payload.get("choice"),
                      question=payload.get("question"),
                      language_hint=payload.get("language_hint"))
        try:
            return advance(self.library, state, event, now)
        except Exception:
            # A bug must not end the conversation: apologise and start afresh at the menu.
            position = state.stack[-1] if state.stack else None
            log.exception("engine failed: contact=%s position=%s", contact.id, position)
            fresh = SessionState(language=state.language, region=state.region,
                                 consented=state.consented)
            language = self.library.language(state.language)
            apology = OutboundMessage(
                self.library.text(language.code, "common.error", {}),
                language=language.code, direction=language.direction)
            return Turn(fresh, [Send(apology)])

    def _apply(self, session: Session, contact: LockedContact, effects: list[Effect],
               now: datetime) -> bool:
        """Write the turn's effects; return True if the contact was erased."""
        contact_id = contact.id
        if any(isinstance(effect, EraseContact) for effect in effects):
            contacts.erase_contact(session, contact_id)
            log.info("contact erased: contact=%s", contact_id)
            # The goodbye still goes out, linked to no contact.
            self._enqueue(session, None, contact, effects, now)
            return True
        changes: dict[str, object] = {}
        for effect in effects:
            if isinstance(effect, ContactChanged):
                changes.update(language=effect.language, region=effect.region)
            elif isinstance(effect, ConsentGiven):
                changes["consent_at"] = now
            elif isinstance(effect, OptOut):
                changes["opted_out_at"] = now
                outbox.cancel_bulk(session, contact_id, "opted out")
            elif isinstance(effect, OptIn):
                changes["opted_out_at"] = None
        if changes:
            contacts.update_contact(session, contact_id, changes)
        self._enqueue(session, contact_id, contact, effects, now)
        return False

    def _enqueue(self, session: Session, contact_id: int | None, contact: LockedContact,
                 effects: list[Effect], now: datetime) -> None:
        outbox.enqueue(session, contact_id=contact_id, channel=contact.channel,
                       address=contact.address, now=now,
                       messages=[e.message for e in effects if isinstance(e, Send)])
