"""Registering and removing volunteers, and their link codes: the rules the CLI and the
schools' API share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.engine import Library
from bot.storage import schools, tickets, volunteers
from bot.storage.ticket_tables import Volunteer

MAX_NAME = 100


class VolunteerError(ValueError):
    """A request about volunteers that cannot be done; the message says why."""


class VolunteerNotFound(VolunteerError):
    """No such volunteer (or not one of the asking school's)."""


@dataclass(frozen=True)
class NewVolunteer:
    """What registering a volunteer takes."""

    display_name: str
    languages: Sequence[str]
    interface_language: str
    regions: Sequence[str] = ()
    school_ids: Sequence[int] = ()


def register(session: Session, library: Library, new: NewVolunteer,
             now: datetime) -> tuple[Volunteer, str]:
    """Register a volunteer; return them and their first one-time link code."""
    problems = check(session, library, new)
    if problems:
        raise VolunteerError("; ".join(problems))
    volunteer = volunteers.add_volunteer(
        session, display_name=new.display_name.strip(), languages=new.languages,
        regions=new.regions, school_ids=new.school_ids,
        interface_language=new.interface_language, now=now)
    assert volunteer.id is not None
    return volunteer, volunteers.new_link_code(session, volunteer.id, now)


def check(session: Session, library: Library, new: NewVolunteer) -> list[str]:
    """Everything wrong with a registration (empty when it is fine)."""
    problems = []
    if not new.display_name.strip() or len(new.display_name.strip()) > MAX_NAME:
        problems.append(f"the name must be 1 to {MAX_NAME} characters")
    if not new.languages:
        problems.append("give at least one language the volunteer speaks")
    unknown = sorted(set(new.languages) - set(library.languages))
    if unknown:
        problems.append(f"not a shipped language: {', '.join(unknown)} (shipped: "
                        f"{', '.join(library.languages)})")
    if new.interface_language not in library.languages:
        problems.append(f"the interface language {new.interface_language!r} is not shipped")
    unknown_regions = sorted(set(new.regions) - set(library.regions))
    if unknown_regions:
        problems.append(f"unknown region: {', '.join(unknown_regions)} (known: "
                        f"{', '.join(library.regions)})")
    missing = sorted(s for s in set(new.school_ids) if schools.get_school(session, s) is None)
    if missing:
        problems.append(f"no school with id {', '.join(map(str, missing))}")
    return problems


def remove(session: Session, volunteer_id: int, now: datetime, *,
           school_id: int | None = None) -> bool:
    """End a volunteer's access at once; their tickets go back to the queue. A school
    (`school_id`) only removes the volunteer from itself: one who also serves other
    schools keeps working for those. False if there was nothing to remove."""
    volunteer = volunteers.get_volunteer(session, volunteer_id)
    if volunteer is None or volunteer.removed_at is not None:
        return False
    if school_id is not None:
        if school_id not in volunteer.school_ids:
            return False
        others = [s for s in volunteer.school_ids if s != school_id]
        if others:
            volunteers.set_schools(session, volunteer_id, others)
            tickets.audit(session, "school_removed", now, ticket_id=None,
                          volunteer_id=volunteer_id, detail=f"school {school_id}")
            return True
    volunteers.remove_volunteer(session, volunteer_id, now)
    for ticket in tickets.claimed_by(session, volunteer_id):
        assert ticket.id is not None
        if tickets.release(session, ticket.id, volunteer_id):
            tickets.audit(session, "released", now, ticket_id=ticket.id,
                          volunteer_id=volunteer_id, detail="volunteer removed")
    tickets.audit(session, "removed", now, ticket_id=None, volunteer_id=volunteer_id)
    return True


def new_code(session: Session, volunteer_id: int, now: datetime, *,
             school_id: int | None = None) -> str:
    """A fresh one-time link code (earlier ones stop working)."""
    volunteer = volunteers.get_volunteer(session, volunteer_id)
    if volunteer is None or volunteer.removed_at is not None or (
            school_id is not None and school_id not in volunteer.school_ids):
        raise VolunteerNotFound(f"no volunteer with id {volunteer_id}")
    return volunteers.new_link_code(session, volunteer_id, now)
