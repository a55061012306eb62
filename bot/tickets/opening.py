"""Opening a ticket: a parent's question for a person.

Called inside the dispatcher's transaction (holding the parent's lock): by the handoff
handler below when a flow reaches a handoff node (also after the bot failed to
understand twice: the stuck flow hands off with the parent's words), and by the
safeguarding interceptor. It only writes rows;
volunteers are told by the relay job, outside the transaction (see `bot.tickets.relay`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.engine import HandoffRequested, Library, Send, SessionState
from bot.engine.runner import Turn
from bot.storage import tickets
from bot.storage.contacts import LockedContact
from bot.tickets.texts import say

log = logging.getLogger(__name__)

STAGE_ANSWER = "child.stage"


@dataclass(frozen=True)
class OpenedTicket:
    """The ticket the parent's question went to, the conversation state to keep while it
    is open (no question waiting, so the bot stays quiet), and what to tell the parent."""

    ticket_id: int
    pseudonym: int
    new: bool
    state: SessionState
    effects: list[Send]


def open_ticket(session: Session, contact: LockedContact, state: SessionState, *,
                library: Library, topic: str, question: str | None, flow: str | None,
                priority: bool, now: datetime) -> OpenedTicket:
    """Open a ticket for the parent, or add to the one already open (one at a time).

    `question` is the parent's words (stored as the ticket's first message; without it
    the parent is asked to write their question). `priority` tickets (danger to someone)
    go to volunteers first and escalate sooner; an open ticket becomes a priority one.
    The parent is told, in their language, what happens now and how long it may take.
    """
    language = library.language(state.language or contact.language).code
    parked = _parked(state)
    current = tickets.current_for_contact(session, contact.id)
    if current is not None and current.status in tickets.ACTIVE:
        assert current.id is not None
        if question:
            tickets.add_message(session, current, direction=tickets.TO_VOLUNTEER,
                                text=question, language=language, now=now)
        if priority and not current.priority:
            tickets.set_fields(session, current.id, priority=True)
        return OpenedTicket(current.id, current.pseudonym, False, parked,
                            [say(library, language, "tickets.already_open")])
    if current is not None:  # a rating was still asked for: the new question goes first
        assert current.id is not None
        tickets.set_fields(session, current.id, prompt=None, prompt_question=None)
    stage = state.answers.get(STAGE_ANSWER)
    ticket = tickets.new_ticket(
        session, contact_id=contact.id, language=language,
        region=state.region or contact.region, school_id=tickets.school_of(session, contact.id),
        topic=topic[:60], flow=flow, priority=priority, created_at=now,
        stage=str(stage)[:40] if stage else tickets.child_stage(session, contact.id))
    assert ticket.id is not None
    if question:
        tickets.add_message(session, ticket, direction=tickets.TO_VOLUNTEER, text=question,
                            language=language, now=now)
    tickets.audit(session, "opened", now, ticket_id=ticket.id,
                  detail="priority" if priority else None)
    log.info("ticket opened: ticket=%s contact=%s topic=%s priority=%s", ticket.id,
             contact.id, topic, priority)
    key = ("tickets.opened_urgent" if priority else "tickets.opened") if question \
        else "tickets.opened_write"
    return OpenedTicket(ticket.id, ticket.pseudonym, True, parked, [say(library, language, key)])


def _parked(state: SessionState) -> SessionState:
    """The state while a ticket is open: no question waits."""
    parked = state.copy()
    parked.stack, parked.waiting, parked.misses = [], False, 0
    return parked


class TicketHandoff:
    """The dispatcher's handoff handler: a flow's handoff node opens a ticket.

    What the engine said before the handoff stays; what it would say after it (the
    flow's own note, a question asked again) is replaced by the ticket's message, so
    the parent is told once and the bot does not talk over the volunteer.
    """

    def __init__(self, library: Library) -> None:
        self.library = library

    def __call__(self, session: Session, contact: LockedContact, turn: Turn,
                 effect: HandoffRequested, now: datetime) -> Turn:
        opened = open_ticket(session, contact, turn.state, library=self.library,
                             topic=effect.topic, flow=effect.flow,
                             question=effect.context.get("question") or None,
                             priority=False, now=now)
        cut = turn.effects.index(effect)
        later = [e for e in turn.effects[cut + 1:] if not isinstance(e, Send)]
        return Turn(opened.state, [*turn.effects[:cut], *later, *opened.effects])
