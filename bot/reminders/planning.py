"""Planning a meeting's reminder rows. Called inside the caller's transaction whenever
a meeting or its invitations change; planning twice is harmless.

The rules:
- one "reminder" row per invitation and school offset, due at the parent's start (their
  slot, or the meeting's start) minus the offset, moved earlier out of quiet hours;
- offsets whose time has passed are skipped, except that a parent with no row at all for
  the meeting's current version (just invited) gets the latest passed one due now, so
  they still hear of the meeting once;
- a "followup" row FOLLOWUP_DELAY after the parent's end, if the meeting asks for one,
  moved later out of quiet hours (a follow-up must not come before the meeting ends);
- pending rows of older meeting versions are cancelled, with the reason;
- nothing is planned for a parent whose meeting time has started.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.reminders.schedule import QuietHours, reminder_due
from bot.storage.reminders import (
    MeetingToPlan,
    NewReminder,
    PlannedInvitation,
    add_reminders,
    cancel_pending,
    meeting_to_plan,
    planned_keys,
)

FOLLOWUP_DELAY = timedelta(hours=2)
# A follow-up is still worth asking for this long after it was due.
FOLLOWUP_USEFUL = timedelta(days=3)
NOTICE_OFFSET = 0  # "changed", "cancelled" and "followup" rows are not tied to an offset


def plan_meeting(session: Session, meeting_id: int, now: datetime) -> int:
    """Plan the meeting's reminders for its current version; return how many rows were
    added. A cancelled or unknown meeting plans nothing."""
    return _plan(session, meeting_id, now, catch_up=True)


def notify_meeting_changed(session: Session, meeting_id: int, now: datetime) -> int:
    """Tell every invited parent (whose time has not started) that the meeting changed,
    now, and plan the reminders of the new version. Call after raising the version.
    Returns the number of "changed" notices added."""
    meeting = meeting_to_plan(session, meeting_id)
    if meeting is None or meeting.status == "cancelled":
        return 0
    notices = _notices(session, meeting, "changed", now)
    _plan(session, meeting_id, now, catch_up=False)
    return notices


def notify_meeting_cancelled(session: Session, meeting_id: int, now: datetime) -> int:
    """Cancel the meeting's pending reminders and tell every invited parent (whose time
    has not started), now. Returns the number of "cancelled" notices added."""
    meeting = meeting_to_plan(session, meeting_id)
    if meeting is None:
        return 0
    cancel_pending(session, meeting.id, below_version=meeting.version + 1,
                   reason="meeting cancelled", now=now)
    return _notices(session, meeting, "cancelled", now)


def _plan(session: Session, meeting_id: int, now: datetime, *, catch_up: bool) -> int:
    meeting = meeting_to_plan(session, meeting_id)
    if meeting is None or meeting.status == "cancelled":
        return 0
    cancel_pending(session, meeting.id, below_version=meeting.version,
                   reason=f"meeting changed (now version {meeting.version})", now=now)
    taken = planned_keys(session, meeting.id, meeting.version)
    with_rows = {invitation_id for invitation_id, _kind, _offset in taken}
    quiet = QuietHours.parse(meeting.quiet_start, meeting.quiet_end, meeting.timezone)
    wanted: list[NewReminder] = []
    for invitation in meeting.invitations:
        rows = _reminders_for(meeting, invitation, quiet, now,
                              catch_up=catch_up and invitation.id not in with_rows)
        wanted += [row for row in rows
                   if (row.invitation_id, row.kind, row.offset_minutes) not in taken]
    add_reminders(session, wanted, now)
    return len(wanted)


def _reminders_for(meeting: MeetingToPlan, invitation: PlannedInvitation, quiet: QuietHours,
                   now: datetime, *, catch_up: bool) -> list[NewReminder]:
    start = invitation.slot_start or meeting.starts_at
    end = invitation.slot_end or max(meeting.ends_at, start)
    rows: list[NewReminder] = []
    if start > now:
        passed: list[int] = []
        for offset in sorted({minutes for minutes in meeting.reminder_offsets if minutes > 0}):
            due = reminder_due(start, offset, quiet)
            if due > now:
                rows.append(NewReminder(invitation.id, "reminder", offset, meeting.version, due))
            else:
                passed.append(offset)
        if passed and catch_up:
            rows.append(NewReminder(invitation.id, "reminder", passed[0], meeting.version, now))
    if meeting.followup:
        due = quiet.move_later(end + FOLLOWUP_DELAY)
        if due + FOLLOWUP_USEFUL > now:
            rows.append(NewReminder(invitation.id, "followup", NOTICE_OFFSET, meeting.version,
                                    max(due, now)))
    return rows


def _notices(session: Session, meeting: MeetingToPlan, kind: str, now: datetime) -> int:
    taken = planned_keys(session, meeting.id, meeting.version)
    notices = [
        NewReminder(invitation.id, kind, NOTICE_OFFSET, meeting.version, now)
        for invitation in meeting.invitations
        if (invitation.slot_start or meeting.starts_at) > now
        and (invitation.id, kind, NOTICE_OFFSET) not in taken
    ]
    add_reminders(session, notices, now)
    return len(notices)
