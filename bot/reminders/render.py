"""Writing a reminder in the parent's language: the meeting explained in plain words,
the date and time on the school's clock in the parent's language, the place or link,
the school's note (machine-translated and marked as such), the calendar link, and the
answer options.

Pure: translations are looked up before (`bot.reminders.claiming`), so rendering never
waits on a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

from bot.engine import Library
from bot.engine.bidi import isolate_ltr
from bot.messages import Choice, OutboundMessage
from bot.storage.reminders import DueReminder
from bot.translation import MACHINE_TRANSLATED_KEY, mark_machine_translated

# Buttons of a reminder carry this plus the invitation id as their question number, far
# above any question number of a conversation, so the answer finds its invitation
# whenever it comes (bot.reminders.rsvp).
RSVP_QUESTION_BASE = 900_000_000
RSVP_OPTIONS = ("coming", "not_coming", "other_time", "interpreter")
FOLLOWUP_OPTIONS = ("write_note", "not_now")
OPTION_KEYS = {
    "coming": "reminders.opt_coming", "not_coming": "reminders.opt_not_coming",
    "other_time": "reminders.opt_other_time", "interpreter": "reminders.opt_interpreter",
    "write_note": "reminders.opt_write_note", "not_now": "reminders.opt_not_now",
}
MEETING_KINDS = ("oudercontact", "learning_discussion", "study_choice_evening",
                 "joint_application_evening", "other")
TITLE_KEYS = {"reminder": "reminders.title_reminder", "changed": "reminders.title_changed",
              "cancelled": "reminders.title_cancelled", "followup": "reminders.title_followup"}


@dataclass(frozen=True)
class SchoolText:
    """The school's own words and, if a model could do it, their translation."""

    original: str
    translated: str | None


def question_for(invitation_id: int) -> int:
    """The question number of an invitation's reminder buttons."""
    return RSVP_QUESTION_BASE + invitation_id


def invitation_for(question: int | None) -> int | None:
    """The invitation a button's question number belongs to, or None if it is not ours."""
    if question is None or question <= RSVP_QUESTION_BASE:
        return None
    return question - RSVP_QUESTION_BASE


def calendar_url(base_url: str, token: str) -> str:
    """The link to an invitation's calendar file (served by bot/web/calendar.py)."""
    return f"{base_url.rstrip('/')}/calendar/{token}.ics"


def options_for(library: Library, language: str, ids: tuple[str, ...]) -> tuple[Choice, ...]:
    """The answer options in the parent's language."""
    return tuple(Choice(option, library.text(language, OPTION_KEYS[option], {}))
                 for option in ids)


def meeting_name(library: Library, language: str, meeting_kind: str) -> str:
    """The meeting's short name (school terms kept), e.g. for a calendar entry."""
    return library.text(language, f"reminders.name.{_kind(meeting_kind)}", {})


def meeting_about(library: Library, language: str, meeting_kind: str) -> str:
    """What the meeting is, in plain words."""
    return library.text(language, f"reminders.about.{_kind(meeting_kind)}", {})


def render(library: Library, item: DueReminder, *, school_text: SchoolText | None,
           calendar_link: str, earlier_note: str | None = None) -> OutboundMessage:
    """The message for one due reminder row, in the parent's language."""
    language = library.language(item.language)
    code = language.code
    lines = [library.text(code, TITLE_KEYS[item.kind], {"school": item.school_name}),
             meeting_name(library, code, item.meeting_kind),
             meeting_about(library, code, item.meeting_kind), ""]
    lines.append(library.text(code, "reminders.when", {
        "when": when(code, item.timezone, item.start, item.end)}))
    if item.place:
        lines.append(library.text(code, "reminders.where", {"place": item.place}))
    if item.online_url:
        lines.append(library.text(code, "reminders.online", {"link": item.online_url}))
    if school_text is not None and item.kind != "followup":
        lines += ["", library.text(code, "reminders.school_wrote", {}),
                  _school_words(library, code, item.school_language, school_text)]
    if item.kind in ("reminder", "changed"):
        lines += ["", library.text(code, "reminders.calendar", {"link": calendar_link})]
    if earlier_note and item.kind == "reminder":
        lines += ["", library.text(code, "reminders.earlier_note", {}), earlier_note]
    choices: tuple[Choice, ...] = ()
    if item.kind in ("reminder", "changed"):
        lines += ["", library.text(code, "reminders.question", {})]
        choices = options_for(library, code, RSVP_OPTIONS)
    elif item.kind == "followup":
        lines += ["", library.text(code, "reminders.followup_question", {})]
        choices = options_for(library, code, FOLLOWUP_OPTIONS)
    text = "\n".join(lines)
    if language.direction == "rtl":
        text = isolate_ltr(text)
        choices = tuple(Choice(choice.id, isolate_ltr(choice.label)) for choice in choices)
    return OutboundMessage(text=text, choices=choices,
                           question=question_for(item.invitation_id) if choices else None,
                           language=code, direction=language.direction)


def when(language: str, timezone: str, start: datetime, end: datetime) -> str:
    """"Monday 30 March 2026, 08:30 – 09:00" on the school's clock, in the language."""
    return _when(_locale(language), timezone, start, end)


@lru_cache(maxsize=4096)
def _when(locale: Locale, timezone: str, start: datetime, end: datetime) -> str:
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = format_date(local_start.date(), "full", locale=locale)
    begins = format_time(local_start, "short", locale=locale)
    if local_end <= local_start:
        return f"{day}, {begins}"
    ends = format_time(local_end, "short", locale=locale)
    if local_end.date() != local_start.date():
        ends = f"{format_date(local_end.date(), 'full', locale=locale)}, {ends}"
    return f"{day}, {begins} – {ends}"


@lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _kind(meeting_kind: str) -> str:
    return meeting_kind if meeting_kind in MEETING_KINDS else "other"


def _school_words(library: Library, language: str, school_language: str,
                  text: SchoolText) -> str:
    if language == school_language:
        return text.original
    if text.translated is not None:
        return mark_machine_translated(text.translated,
                                       library.text(language, MACHINE_TRANSLATED_KEY, {}))
    name = library.language(school_language).name if school_language in library.languages \
        else school_language
    return text.original + "\n" + library.text(language, "reminders.not_translated",
                                               {"language": name})
