"""Escalation: an open ticket nobody claims is not forgotten.

After `WEGWIJS_TICKET_REMIND_MINUTES` the volunteers who serve it are reminded. After
`WEGWIJS_TICKET_ESCALATE_MINUTES` the school is told (there is no e-mail channel: the
escalation is recorded in the audit log and logged, with the school's id, and
`wegwijs tickets list --escalated` shows it with the school's escalation contact), and
the parent is told that no one was free yet and that they can take the question back.
Priority tickets are handled first and `PRIORITY_SPEEDUP` times sooner. Times count
from the ticket's opening. A ticket whose parent never wrote the question is closed
quietly after the escalation time (their next message goes to the bot again).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.engine import Library
from bot.storage import tickets, volunteers
from bot.storage.ticket_tables import Ticket
from bot.tickets.notify import parent_language, tell_parent, to_chat
from bot.tickets.routing import PRIORITY_SPEEDUP, serves, ticket_line
from bot.tickets.texts import message

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def escalate(session: Session, library: Library, now: datetime, *, remind_after: timedelta,
             escalate_after: timedelta) -> int:
    """Remind and escalate the open tickets that are due; return how many steps ran."""
    steps = 0
    for ticket in tickets.waiting(session):
        assert ticket.id is not None
        age = (now - ticket.created_at) * (PRIORITY_SPEEDUP if ticket.priority else 1)
        if ticket.notified_at is None:
            if age >= escalate_after and tickets.first_words(session, ticket.id) is None \
                    and tickets.withdraw(session, ticket.id, now):
                # The parent never wrote their question: stop waiting for it.
                tickets.audit(session, "abandoned", now, ticket_id=ticket.id)
                steps += 1
            continue
        if ticket.reminded_at is None and age >= remind_after and \
                tickets.mark_once(session, ticket.id, "reminded_at", now):
            remind(session, library, ticket, now)
            steps += 1
        if ticket.escalated_at is None and age >= escalate_after and \
                tickets.mark_once(session, ticket.id, "escalated_at", now):
            tell_school_and_parent(session, library, ticket, now)
            steps += 1
    return steps


def remind(session: Session, library: Library, ticket: Ticket, now: datetime) -> None:
    """Remind every volunteer who serves the ticket (whatever their languages)."""
    reminded = 0
    for volunteer, chat in volunteers.active_linked(session):
        if serves(volunteer, ticket):
            language = volunteer.interface_language
            to_chat(session, chat, [message(library, language, "volunteers.reminder", {
                "ticket": ticket_line(library, language, ticket),
                "pseudonym": ticket.pseudonym})], now)
            reminded += 1
    tickets.audit(session, "reminded", now, ticket_id=ticket.id, detail=f"{reminded} volunteers")


def tell_school_and_parent(session: Session, library: Library, ticket: Ticket,
                           now: datetime) -> None:
    """Record the escalation to the school; tell the parent they can keep waiting or
    take the question back."""
    school = f"school {ticket.school_id}" if ticket.school_id is not None else "no school"
    tickets.audit(session, "escalated", now, ticket_id=ticket.id, detail=school)
    log.warning("ticket %s unclaimed: escalated (%s)", ticket.id, school)
    tell_parent(session, ticket, [message(library, parent_language(session, ticket),
                                          "tickets.still_waiting")], now)


async def escalate_tickets(runtime: Runtime) -> int:
    """The scheduler's job: remind and escalate what is due."""
    settings = runtime.settings

    def work() -> int:
        with runtime.db.session() as session, session.begin():
            return escalate(session, runtime.library, runtime.dispatcher.clock(),
                            remind_after=timedelta(minutes=settings.ticket_remind_minutes),
                            escalate_after=timedelta(minutes=settings.ticket_escalate_minutes))

    return await runtime.db.run(work)
