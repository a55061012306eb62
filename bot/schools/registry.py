"""Registering a school: checking what the operator gave, and its invite code.

An invite code is 8 letters and digits from an alphabet without look-alikes (no 0/O,
1/I/L), easy to read out and type on a phone. Parents send it as `/start CODE`
(a Telegram link) or `JOIN CODE` (WhatsApp); case does not matter.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot.schools.errors import Invalid, NotFound
from bot.schools.regions import REGIONS
from bot.storage import schools as store
from bot.storage.school_tables import School

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# What may be a code in a parent's message; anything else is not looked up.
CODE_SHAPE = re.compile(r"^[A-Za-z0-9]{4,20}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class NewSchool:
    """What an operator gives to register a school. Time zone and language default to
    the region's (Europe/Brussels and nl for flanders; Europe/Helsinki and fi for
    finland)."""

    name: str
    region: str
    timezone: str | None = None
    language: str | None = None
    escalation_contact: str | None = None


def check_timezone(name: str) -> str | None:
    """A problem with an IANA time zone name, or None if it is one."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (use an IANA name such as Europe/Brussels)"
    return None


def _problems(new: NewSchool) -> list[str]:
    problems = []
    if not new.name.strip() or len(new.name.strip()) > 200:
        problems.append("the name must have 1 to 200 characters")
    if new.region not in REGIONS:
        problems.append(f"unknown region {new.region!r} (one of {', '.join(REGIONS)})")
    if new.timezone is not None and (problem := check_timezone(new.timezone)):
        problems.append(problem)
    if new.language is not None and not _LANGUAGE.match(new.language):
        problems.append("the language must be a 2- or 3-letter code such as nl or fi")
    if new.escalation_contact is not None and len(new.escalation_contact) > 200:
        problems.append("the escalation contact must have at most 200 characters")
    return problems


def new_invite_code(session: Session) -> str:
    """A random invite code no school has yet."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if store.school_by_code(session, code) is None:
            return code


def create_school(session: Session, new: NewSchool, now: datetime) -> School:
    """Check and store a new school with a fresh invite code."""
    problems = _problems(new)
    if problems:
        raise Invalid(problems)
    defaults = REGIONS[new.region]
    school = School(name=new.name.strip(), region=new.region,
                    timezone=new.timezone or defaults.timezone,
                    language=new.language or defaults.language,
                    invite_code=new_invite_code(session),
                    escalation_contact=new.escalation_contact or None, created_at=now)
    store.add_school(session, school)
    return school


def school_of(session: Session, school_id: int) -> School:
    """The school, or NotFound."""
    school = store.get_school(session, school_id)
    if school is None:
        raise NotFound("school")
    return school
