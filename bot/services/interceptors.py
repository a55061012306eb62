"""The interceptors the dispatcher asks before the engine, in order (see
`bot.services.dispatcher.Interceptor`)."""

from __future__ import annotations

from bot.engine import Library
from bot.reminders.rsvp import ReminderAnswers
from bot.safeguarding.interceptor import Safeguarding
from bot.schools.joining import JoinByCode
from bot.services.dispatcher import Interceptor
from bot.tickets.parent_desk import ParentDesk
from bot.tickets.volunteer_desk import VolunteerDesk


def build_interceptors(library: Library) -> list[Interceptor]:
    """The interceptors of a running bot, first match wins."""
    # Volunteers' messages never reach the others; a parent's open ticket keeps the
    # engine quiet, so the ticket's interceptor comes last, just before the engine.
    # A volunteer's link code (/start CODE) is checked before a school's invite code.
    # Safeguarding screens every parent's words first, right after the volunteers' desk
    # (volunteers are not screened), so danger words always get the emergency numbers.
    return [VolunteerDesk(library), Safeguarding(library), JoinByCode(library),
            ReminderAnswers(library), ParentDesk(library)]
