"""Which volunteers a ticket goes to, and how volunteers see a ticket (masked)."""

from __future__ import annotations

from bot.engine import Library
from bot.storage.ticket_tables import Ticket, Volunteer

# Priority tickets (danger to someone) skip the wait for volunteers of the parent's
# language and are reminded and escalated this many times sooner.
PRIORITY_SPEEDUP = 4


def serves(volunteer: Volunteer, ticket: Ticket) -> bool:
    """The volunteer works for the ticket's school or region (or for everyone, when
    they were given neither)."""
    if not volunteer.regions and not volunteer.school_ids:
        return True
    return ticket.school_id in volunteer.school_ids or ticket.region in volunteer.regions


def speaks(volunteer: Volunteer, language: str) -> bool:
    """The volunteer can read and write the parent's language."""
    return language in volunteer.languages


def writes_in(volunteer: Volunteer, ticket: Ticket) -> str:
    """The language a volunteer's answer to this ticket is taken to be in."""
    return ticket.language if speaks(volunteer, ticket.language) else volunteer.interface_language


def ticket_line(library: Library, language: str, ticket: Ticket) -> str:
    """One line about a ticket for a volunteer: pseudonym, language, region, topic and
    the child's stage. Never a phone number, chat id or contact id."""
    return library.text(language, "volunteers.ticket_line", {
        "pseudonym": ticket.pseudonym,
        "language": library.language(ticket.language).name,
        "place": ticket.region or "-",
        "topic": ticket.topic,
        "stage": ticket.stage or "-",
    })
