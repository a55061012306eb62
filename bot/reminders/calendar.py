"""An invitation's calendar file (RFC 5545, through the `icalendar` library): one event
in UTC, named and explained in the parent's language. Its UID stays the same and its
SEQUENCE is the meeting's version, so a calendar that imports it again updates the
event; a cancelled meeting comes out with STATUS:CANCELLED."""

from __future__ import annotations

from icalendar import Calendar, Event

from bot.engine import Library
from bot.reminders.render import meeting_about, meeting_name
from bot.storage.reminders import CalendarEntry

PRODUCT_ID = "-//Wegwijs//School meeting reminders//EN"
MEDIA_TYPE = "text/calendar; charset=utf-8"


def calendar_file(library: Library, entry: CalendarEntry) -> bytes:
    """The .ics file for one invitation (CRLF line ends, escaped and folded)."""
    language = library.language(entry.language).code
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"meeting-{entry.meeting_id}-invitation-{entry.invitation_id}@wegwijs")
    event.add("dtstamp", entry.updated_at)
    event.add("dtstart", entry.start)
    event.add("dtend", entry.end)
    event.add("sequence", entry.version)
    event.add("status", "CANCELLED" if entry.status == "cancelled" else "CONFIRMED")
    event.add("summary", f"{meeting_name(library, language, entry.meeting_kind)} – "
                         f"{entry.school_name}")
    event.add("description", meeting_about(library, language, entry.meeting_kind))
    location = entry.place or entry.online_url
    if location:
        event.add("location", location)
    if entry.online_url:
        event.add("url", entry.online_url)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
