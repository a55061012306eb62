"""The parent's side while a ticket is open: the bot does not talk over the volunteer.

An interceptor (after the volunteers' one). While the parent has an open or claimed
ticket, their messages go to the ticket (relayed to the volunteer who holds it, or kept
for whoever claims it) and the engine does not answer them. Only the global commands
still act:

- menu, back, start: "your question is still open: take it back?" (keep / take back);
  taking it back brings the menu. The ticket is never dropped without asking.
- stop: the ticket is withdrawn, then the engine stops all messages.
- delete my data, language, ask a person: the engine handles them as always (its
  confirmation question is answered by the engine, too). Erasing the parent erases the
  ticket's messages (they cascade with the contact); the relay job then closes the
  ticket and tells the volunteer.

After the volunteer's /done the parent is asked "did this help? 1-5"; the answer is
stored and the parent gets the menu. Any other message skips the rating and goes to
the engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.engine import Effect, Library, Send, SessionState, advance
from bot.engine.runner import Event, Turn, global_command
from bot.storage import inbox, tickets
from bot.storage.contacts import LockedContact
from bot.storage.ticket_tables import Ticket
from bot.tickets import parent_prompts
from bot.tickets.notify import tell_volunteer
from bot.tickets.texts import say

WITHDRAW_COMMANDS = frozenset({"menu", "back", "start"})


class ParentDesk:
    """The parents' interceptor (see the module docstring)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def __call__(self, session: Session, contact: LockedContact, state: SessionState,
                 message: inbox.Pending, now: datetime) -> Turn | None:
        ticket = tickets.current_for_contact(session, contact.id)
        if ticket is None or ticket.id is None:
            return None
        language = self.library.language(state.language or contact.language).code
        if ticket.prompt == tickets.RATING:
            return self.rating(session, ticket, ticket.id, state, message, language, now)
        if state.waiting and state.stack:
            return None  # a command's own question (confirm erasure, pick a language)
        if ticket.prompt == tickets.WITHDRAW:
            turn = self.withdraw_answer(session, ticket, ticket.id, state, message, language,
                                        now)
            if turn is not None:
                return turn
        text = message.text or ""
        command = global_command(self.library, language, text) if text else None
        if command in WITHDRAW_COMMANDS:
            question = state.question + 1
            tickets.set_fields(session, ticket.id, prompt=tickets.WITHDRAW,
                               prompt_question=question)
            asked = state.copy()
            asked.question = question
            return Turn(asked, [Send(parent_prompts.withdraw_prompt(
                self.library, language, question))])
        if command == "stop":
            self.withdraw(session, ticket, ticket.id, now)
            return None
        if command is not None:
            return None
        if not text.strip():
            return Turn(state, [])  # an old button pressed: stay quiet
        first = not tickets.messages_of(session, ticket.id, direction=tickets.TO_VOLUNTEER)
        tickets.add_message(session, ticket, direction=tickets.TO_VOLUNTEER, text=text.strip(),
                            language=language, now=now)
        return Turn(state, [say(self.library, language, "tickets.opened")] if first else [])

    def rating(self, session: Session, ticket: Ticket, ticket_id: int, state: SessionState,
               received: inbox.Pending, language: str, now: datetime) -> Turn | None:
        rating = parent_prompts.read_rating(received, ticket.prompt_question or 0)
        tickets.set_fields(session, ticket_id, prompt=None, prompt_question=None,
                           **({"satisfaction": rating} if rating is not None else {}))
        if rating is None:
            return None  # the parent moved on: the engine answers as usual
        tickets.audit(session, "rated", now, ticket_id=ticket_id, detail=str(rating))
        tell_volunteer(session, self.library, ticket.claimed_by, "volunteers.rated",
                       {"pseudonym": ticket.pseudonym, "rating": rating}, now)
        return self.back_to_menu(state, [say(self.library, language, "tickets.rating_thanks")],
                                 now)

    def withdraw_answer(self, session: Session, ticket: Ticket, ticket_id: int,
                        state: SessionState, received: inbox.Pending, language: str,
                        now: datetime) -> Turn | None:
        answer = parent_prompts.read_withdraw(self.library, language, received,
                                              ticket.prompt_question or 0)
        tickets.set_fields(session, ticket_id, prompt=None, prompt_question=None)
        if answer == parent_prompts.KEEP:
            return Turn(state, [say(self.library, language, "tickets.kept")])
        if answer == parent_prompts.WITHDRAW:
            self.withdraw(session, ticket, ticket_id, now)
            return self.back_to_menu(state, [say(self.library, language, "tickets.withdrawn")],
                                     now)
        return None  # something else: handled as any message while the ticket is open

    def withdraw(self, session: Session, ticket: Ticket, ticket_id: int,
                 now: datetime) -> None:
        if tickets.withdraw(session, ticket_id, now):
            tickets.audit(session, "withdrawn", now, ticket_id=ticket_id)
            tell_volunteer(session, self.library, ticket.claimed_by, "volunteers.withdrawn",
                           {"pseudonym": ticket.pseudonym}, now)

    def back_to_menu(self, state: SessionState, before: list[Send], now: datetime) -> Turn:
        """Back in the bot: these messages, then the menu (the engine's own)."""
        menu = advance(self.library, state, Event(text="/menu"), now)
        effects: list[Effect] = [*before, *menu.effects]
        return Turn(menu.state, effects)
