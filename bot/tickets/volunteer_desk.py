"""The volunteers' side in Telegram: an interceptor that runs before all others.

It links a chat to a volunteer with `/start CODE` or `/link CODE` (only codes in the
volunteers' table: a school's join code passes on), then takes every message of a
linked volunteer, so none reaches the parents' engine:

    /tickets          questions waiting (the volunteer's languages first) and their own
    /claim N          take "Parent N" (exactly one of several racing volunteers wins)
    text, /reply [N]  an answer, relayed to the parent (translated if needed)
    /done [N]         close; the parent is asked whether it helped
    /release [N]      give the question back to the queue
    /help             the list

Volunteers see parents only as "Parent <pseudonym>". A removed volunteer gets "you no
longer have access" and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.engine import Effect, Library, Send, SessionState
from bot.engine.runner import Turn
from bot.storage import inbox, tickets, volunteers
from bot.storage.contacts import LockedContact
from bot.storage.ticket_tables import Ticket, Volunteer
from bot.tickets import parent_prompts
from bot.tickets.notify import parent_language, tell_parent
from bot.tickets.routing import serves, speaks, ticket_line, writes_in
from bot.tickets.texts import compose, message, say

# Volunteers work in Telegram (WhatsApp's 24-hour window would swallow notifications).
VOLUNTEER_CHANNELS = frozenset({"telegram"})
_COMMAND = re.compile(r"^/([a-z]+)(?:_(\d+))?(?:@\w+)?(?:\s+(.*))?$", re.DOTALL | re.IGNORECASE)
_NUMBER_FIRST = re.compile(r"^(\d{4,9})\b\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Command:
    """A volunteer's message: a slash command with its number and rest, or plain text."""

    name: str | None
    number: int | None
    rest: str


def parse(text: str) -> Command:
    """Read "/claim 4821", "/claim_4821", "/reply 4821 text", "/done", or plain text."""
    stripped = text.strip()
    match = _COMMAND.match(stripped)
    if match is None:
        return Command(None, None, stripped)
    name, number, rest = match.group(1).lower(), match.group(2), (match.group(3) or "").strip()
    if number is None and rest.isdecimal() and len(rest) <= 9:
        number, rest = rest, ""
    elif number is None:
        # "/reply 4821 text": pseudonyms have at least four digits, so "/reply 2 kids..."
        # is an answer, not a ticket number.
        leading = _NUMBER_FIRST.match(rest)
        if leading is not None:
            number, rest = leading.group(1), leading.group(2).strip()
    return Command(name, int(number) if number else None, rest)


class VolunteerDesk:
    """The volunteers' interceptor (see the module docstring)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def __call__(self, session: Session, contact: LockedContact, state: SessionState,
                 message: inbox.Pending, now: datetime) -> Turn | None:
        if contact.channel not in VOLUNTEER_CHANNELS:
            return None
        command = parse(message.text or "")
        if command.name in ("start", "link") and command.rest:
            linked = self.link(session, contact, state, command.rest.split()[0], now)
            if linked is not None:
                return Turn(state, linked)
        volunteer = volunteers.for_contact(session, contact.id)
        if volunteer is None:
            return None
        language = volunteer.interface_language
        if volunteer.removed_at is not None:
            return Turn(state, [say(self.library, language, "volunteers.no_access")])
        assert volunteer.id is not None
        return Turn(state, _Shift(self.library, session, volunteer, volunteer.id, now)
                    .handle(command))

    def link(self, session: Session, contact: LockedContact, state: SessionState, code: str,
             now: datetime) -> list[Effect] | None:
        """Link this chat with a volunteer's code; None if the code is not a volunteer's."""
        redeemed = volunteers.redeem_link_code(session, code, contact.id, now)
        if redeemed is None:
            return None
        volunteer = redeemed.volunteer
        if volunteer is None:
            return [say(self.library, state.language or contact.language,
                        "volunteers.code_invalid")]
        tickets.audit(session, "linked", now, ticket_id=None, volunteer_id=volunteer.id)
        return [say(self.library, volunteer.interface_language, "volunteers.linked",
                    {"name": volunteer.display_name})]


class _Shift:
    """One message of a linked, active volunteer."""

    def __init__(self, library: Library, session: Session, volunteer: Volunteer,
                 volunteer_id: int, now: datetime) -> None:
        self.library = library
        self.session = session
        self.volunteer = volunteer
        self.volunteer_id = volunteer_id
        self.now = now

    def handle(self, command: Command) -> list[Effect]:
        if command.name is None:
            return self.reply(None, command.rest) if command.rest else self.say("volunteers.help")
        if command.name in ("help", "start", "link"):
            return self.say("volunteers.help")
        if command.name == "tickets":
            return self.overview()
        if command.name == "claim":
            return self.claim(command.number)
        if command.name == "reply":
            return self.reply(command.number, command.rest)
        if command.name == "done":
            return self.done(command.number)
        if command.name == "release":
            return self.release(command.number)
        return self.say("volunteers.unknown_command")

    # -- commands ---------------------------------------------------------------------------

    def overview(self) -> list[Effect]:
        language = self.volunteer.interface_language
        waiting = [t for t in tickets.waiting(self.session)
                   if t.notified_at is not None and serves(self.volunteer, t)]
        waiting.sort(key=lambda t: not speaks(self.volunteer, t.language))
        mine = tickets.claimed_by(self.session, self.volunteer_id)
        if not waiting and not mine:
            return self.say("volunteers.list_empty")
        lines: list[str] = []
        for heading, group in (("volunteers.list_yours", mine),
                               ("volunteers.list_waiting", waiting)):
            if group:
                lines.append(self.library.text(language, heading, {}))
                lines.extend(f"{ticket_line(self.library, language, t)}\n/claim_{t.pseudonym}"
                             if group is waiting else ticket_line(self.library, language, t)
                             for t in group)
        if not waiting:
            lines.append(self.library.text(language, "volunteers.list_empty", {}))
        return [Send(compose(self.library, language, "\n\n".join(lines)))]

    def claim(self, number: int | None) -> list[Effect]:
        if number is None:
            return self.say("volunteers.claim_usage")
        ticket = tickets.by_pseudonym(self.session, number)
        if ticket is None or ticket.id is None or ticket.notified_at is None \
                or not serves(self.volunteer, ticket):
            return self.say("volunteers.claim_unknown", pseudonym=number)
        if ticket.status == "claimed" and ticket.claimed_by == self.volunteer_id:
            return self.say("volunteers.claimed", pseudonym=number)
        if not tickets.claim(self.session, ticket.id, self.volunteer_id, self.now):
            key = "volunteers.claim_lost" if ticket.status == "claimed" else \
                "volunteers.claim_unknown"
            return self.say(key, pseudonym=number)
        tickets.audit(self.session, "claimed", self.now, ticket_id=ticket.id,
                      volunteer_id=self.volunteer_id)
        # The parent's words so far go to this volunteer (translated if needed) by the
        # relay job, also when an earlier volunteer had read them.
        tickets.requeue_parent_words(self.session, ticket.id)
        tell_parent(self.session, ticket, [message(
            self.library, parent_language(self.session, ticket), "tickets.claimed")], self.now)
        return self.say("volunteers.claimed", pseudonym=number)

    def reply(self, number: int | None, text: str) -> list[Effect]:
        ticket, problem = self.held(number)
        if ticket is None:
            return problem
        if not text:
            return self.say("volunteers.help")
        assert ticket.id is not None
        tickets.add_message(self.session, ticket, direction=tickets.TO_PARENT, text=text,
                            language=writes_in(self.volunteer, ticket), now=self.now,
                            volunteer_id=self.volunteer_id)
        if ticket.first_answer_at is None:
            tickets.set_fields(self.session, ticket.id, first_answer_at=self.now)
        tickets.audit(self.session, "answered", self.now, ticket_id=ticket.id,
                      volunteer_id=self.volunteer_id)
        return []  # the volunteer sees their own message; the relay job delivers it

    def done(self, number: int | None) -> list[Effect]:
        ticket, problem = self.held(number)
        if ticket is None:
            return problem
        assert ticket.id is not None
        question = parent_prompts.rating_question(ticket.id)
        if not tickets.close(self.session, ticket.id, self.volunteer_id, self.now, question):
            return self.say("volunteers.not_holding")
        tickets.audit(self.session, "closed", self.now, ticket_id=ticket.id,
                      volunteer_id=self.volunteer_id)
        # The relay job asks the parent for a rating after the last answer went out.
        return self.say("volunteers.closed", pseudonym=ticket.pseudonym)

    def release(self, number: int | None) -> list[Effect]:
        ticket, problem = self.held(number)
        if ticket is None:
            return problem
        assert ticket.id is not None
        if not tickets.release(self.session, ticket.id, self.volunteer_id):
            return self.say("volunteers.not_holding")
        tickets.audit(self.session, "released", self.now, ticket_id=ticket.id,
                      volunteer_id=self.volunteer_id)
        return self.say("volunteers.released", pseudonym=ticket.pseudonym)

    # -- helpers --------------------------------------------------------------------------

    def held(self, number: int | None) -> tuple[Ticket | None, list[Effect]]:
        """The ticket a command is about: the numbered one if the volunteer holds it, or
        the only one they hold; else what to tell them."""
        mine = tickets.claimed_by(self.session, self.volunteer_id)
        if number is not None:
            mine = [t for t in mine if t.pseudonym == number]
        if len(mine) == 1:
            return mine[0], []
        return None, self.say("volunteers.which_ticket" if mine else "volunteers.not_holding")

    def say(self, key: str, **variables: Any) -> list[Effect]:
        return [say(self.library, self.volunteer.interface_language, key, variables)]
