"""Planning reminders: schedule offsets, quiet hours and time zones (Europe/Brussels and
Europe/Helsinki across daylight-saving changes), and the rows a meeting gets when it is
planned, changed and cancelled, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reminders.planning import (
    FOLLOWUP_DELAY,
    notify_meeting_cancelled,
    notify_meeting_changed,
    plan_meeting,
)
from bot.reminders.schedule import QUIET_MARGIN, QuietHours, reminder_due
from bot.storage.database import Database
from bot.storage.school_tables import Meeting

from .reminders_support import add_meeting, add_parents, add_school, invite, reminders

BRUSSELS, HELSINKI = ZoneInfo("Europe/Brussels"), ZoneInfo("Europe/Helsinki")
DEFAULT_QUIET = ("21:00", "08:00")
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def quiet(zone: str, start: str = "21:00", end: str = "08:00") -> QuietHours:
    return QuietHours.parse(start, end, zone)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


# -- time zones and daylight saving ----------------------------------------------------------

def test_whole_days_keep_the_school_clock_across_the_spring_change_in_brussels() -> None:
    # Brussels moves from UTC+1 to UTC+2 on Sunday 29 March 2026.
    meeting = local(BRUSSELS, 2026, 3, 31, 18, 0)
    assert reminder_due(meeting, 1440 * 7, quiet("Europe/Brussels")) == \
        local(BRUSSELS, 2026, 3, 24, 18, 0)
    assert reminder_due(meeting, 1440 * 7, quiet("Europe/Brussels")) == \
        datetime(2026, 3, 24, 17, 0, tzinfo=UTC)  # one hour less elapsed: same wall clock
    sunday = local(BRUSSELS, 2026, 3, 29, 18, 0)
    assert reminder_due(sunday, 1440, quiet("Europe/Brussels")) == \
        datetime(2026, 3, 28, 17, 0, tzinfo=UTC)  # 23 hours before


def test_whole_days_keep_the_school_clock_across_the_autumn_change_in_helsinki() -> None:
    # Helsinki moves from UTC+3 to UTC+2 on Sunday 25 October 2026.
    meeting = local(HELSINKI, 2026, 10, 26, 9, 0)
    assert meeting == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    assert reminder_due(meeting, 1440, quiet("Europe/Helsinki")) == \
        datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert reminder_due(meeting, 1440 * 7, quiet("Europe/Helsinki")) == \
        datetime(2026, 10, 19, 6, 0, tzinfo=UTC)  # 09:00 summer time


def test_hour_offsets_are_elapsed_time_even_over_the_change() -> None:
    # 10:00 on the night Helsinki springs forward (03:00 -> 04:00): 8 hours before is
    # 01:00 local, in quiet hours, so it moves to the evening before.
    meeting = local(HELSINKI, 2026, 3, 29, 10, 0)
    assert reminder_due(meeting, 120, quiet("Europe/Helsinki")) == meeting - timedelta(hours=2)
    assert reminder_due(meeting, 480, quiet("Europe/Helsinki")) == \
        local(HELSINKI, 2026, 3, 28, 21, 0) - QUIET_MARGIN


# -- quiet hours ------------------------------------------------------------------------------

def test_a_reminder_in_quiet_hours_moves_to_the_evening_before_never_later() -> None:
    # 2 hours before an 08:30 meeting is 06:30: quiet. It goes at 20:30 the day before,
    # here on the night Brussels springs forward.
    meeting = local(BRUSSELS, 2026, 3, 29, 8, 30)
    due = reminder_due(meeting, 120, quiet("Europe/Brussels"))
    assert due == local(BRUSSELS, 2026, 3, 28, 20, 30)
    assert due == datetime(2026, 3, 28, 19, 30, tzinfo=UTC)
    assert not quiet("Europe/Brussels").contains(due)


def test_quiet_hours_edges_and_windows_within_a_day() -> None:
    hours = quiet("Europe/Brussels")
    assert hours.contains(local(BRUSSELS, 2026, 5, 4, 21, 0))  # start included
    assert not hours.contains(local(BRUSSELS, 2026, 5, 4, 8, 0))  # end excluded
    assert hours.contains(local(BRUSSELS, 2026, 5, 4, 7, 59))
    assert not hours.contains(local(BRUSSELS, 2026, 5, 4, 20, 59))
    lunch = quiet("Europe/Helsinki", "12:00", "13:00")
    assert lunch.move_earlier(local(HELSINKI, 2026, 5, 4, 12, 30)) == \
        local(HELSINKI, 2026, 5, 4, 11, 30)
    assert lunch.move_later(local(HELSINKI, 2026, 5, 4, 12, 30)) == local(HELSINKI, 2026, 5, 4, 13)
    none = quiet("Europe/Brussels", "00:00", "00:00")
    assert not none.contains(local(BRUSSELS, 2026, 5, 4, 3, 0))


def test_a_follow_up_in_quiet_hours_moves_to_the_morning() -> None:
    hours = quiet("Europe/Helsinki")
    late = local(HELSINKI, 2026, 10, 24, 23, 0)  # the night Helsinki falls back
    assert hours.move_later(late) == local(HELSINKI, 2026, 10, 25, 8, 0)
    assert hours.move_later(late) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                           timezones=st.just(UTC)),
       zone=st.sampled_from(["Europe/Brussels", "Europe/Helsinki"]),
       start=st.integers(min_value=18 * 60, max_value=23 * 60 + 59),
       end=st.integers(min_value=5 * 60, max_value=9 * 60))
def test_moving_out_of_quiet_hours_is_never_later_and_lands_outside(
        moment: datetime, zone: str, start: int, end: int) -> None:
    hours = quiet(zone, f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}")
    moved = hours.move_earlier(moment)
    assert moved <= moment
    assert moment - moved < timedelta(hours=16)
    assert not hours.contains(moved)
    later = hours.move_later(moment)
    assert later >= moment
    assert not hours.contains(later)


# -- rows of a meeting (SQLite and PostgreSQL) -----------------------------------------------

def _meeting(db: Database, starts_at: datetime, *, parents: int = 3, zone: str = "Europe/Brussels",
             quiet_hours: tuple[str, str] = DEFAULT_QUIET, followup: bool = True,
             slot_start: datetime | None = None) -> int:
    with db.session() as session, session.begin():
        school = add_school(session, NOW, timezone=zone, quiet=quiet_hours)
        meeting = add_meeting(session, school, starts_at, followup=followup)
        invite(session, meeting, add_parents(session, parents, NOW), NOW, slot_start=slot_start)
    return meeting


def _plan(db: Database, meeting: int, now: datetime = NOW) -> int:
    with db.session() as session, session.begin():
        return plan_meeting(session, meeting, now)


def test_planning_adds_one_row_per_parent_and_offset_once(db: Database) -> None:
    starts = local(BRUSSELS, 2026, 3, 31, 18, 0)
    meeting = _meeting(db, starts)
    assert _plan(db, meeting) == 3 * 4  # 7 days, 1 day, 2 hours, and the follow-up
    assert _plan(db, meeting) == 0
    rows = reminders(db)
    assert len(rows) == 12
    assert {row.status for row in rows} == {"pending"}
    first = [row for row in rows if row.invitation_id == rows[0].invitation_id]
    due = {(row.kind, row.offset_minutes): row.due_at for row in first}
    assert due == {
        ("reminder", 10080): datetime(2026, 3, 24, 17, 0, tzinfo=UTC),
        ("reminder", 1440): datetime(2026, 3, 30, 16, 0, tzinfo=UTC),
        ("reminder", 120): datetime(2026, 3, 31, 14, 0, tzinfo=UTC),
        # The meeting ends at 19:00; two hours later is 21:00, quiet: the next morning.
        ("followup", 0): local(BRUSSELS, 2026, 4, 1, 8, 0),
    }
    assert starts + timedelta(hours=1) + FOLLOWUP_DELAY == local(BRUSSELS, 2026, 3, 31, 21, 0)


def test_a_parents_own_slot_counts_and_quiet_hours_apply(db: Database) -> None:
    meeting = _meeting(db, local(HELSINKI, 2026, 10, 26, 8, 0), parents=1, zone="Europe/Helsinki",
                       followup=False, slot_start=local(HELSINKI, 2026, 10, 26, 9, 15))
    _plan(db, meeting)
    due = {row.offset_minutes: row.due_at for row in reminders(db)}
    assert due[120] == local(HELSINKI, 2026, 10, 25, 20, 30)  # 07:15 is quiet: evening before
    assert due[1440] == local(HELSINKI, 2026, 10, 25, 9, 15)


def test_a_parent_invited_late_hears_once_now_and_then_on_schedule(db: Database) -> None:
    starts = NOW + timedelta(days=3)
    meeting = _meeting(db, starts, parents=1, followup=False)
    assert _plan(db, meeting) == 3  # now (for the 7-day reminder), 1 day, 2 hours
    rows = {row.offset_minutes: row for row in reminders(db)}
    assert rows[10080].due_at == NOW
    assert rows[1440].due_at > NOW
    assert rows[120].due_at > NOW
    assert _plan(db, meeting, NOW + timedelta(hours=1)) == 0


def test_a_meeting_that_has_started_gets_no_reminders(db: Database) -> None:
    meeting = _meeting(db, NOW - timedelta(minutes=10), parents=2)
    assert _plan(db, meeting) == 2  # the follow-ups only
    assert {row.kind for row in reminders(db)} == {"followup"}


def test_a_change_tells_everyone_now_and_replans_the_new_version(db: Database) -> None:
    meeting = _meeting(db, NOW + timedelta(days=10), parents=2)
    _plan(db, meeting)
    later = NOW + timedelta(days=1)
    with db.session() as session, session.begin():
        row = session.get(Meeting, meeting)
        assert row is not None
        starts = NOW + timedelta(days=2, hours=3)
        row.starts_at, row.ends_at = starts, starts + timedelta(hours=1)
        row.version = 2
        session.add(row)
        session.flush()
        assert notify_meeting_changed(session, meeting, later) == 2
        assert notify_meeting_changed(session, meeting, later) == 0
    rows = reminders(db)
    old = [row for row in rows if row.meeting_version == 1]
    assert {row.status for row in old} == {"cancelled"}
    assert {row.reason for row in old} == {"meeting changed (now version 2)"}
    new = [row for row in rows if row.meeting_version == 2]
    assert sorted((row.kind, row.offset_minutes) for row in new if row.invitation_id ==
                  new[0].invitation_id) == [("changed", 0), ("followup", 0), ("reminder", 120),
                                             ("reminder", 1440)]  # the 7-day one has passed
    assert all(row.due_at == later for row in new if row.kind == "changed")


def test_a_cancellation_cancels_what_was_planned_and_tells_everyone(db: Database) -> None:
    meeting = _meeting(db, NOW + timedelta(days=10), parents=2)
    _plan(db, meeting)
    with db.session() as session, session.begin():
        row = session.get(Meeting, meeting)
        assert row is not None
        row.status = "cancelled"
        session.add(row)
        session.flush()
        assert notify_meeting_cancelled(session, meeting, NOW) == 2
        assert notify_meeting_cancelled(session, meeting, NOW) == 0
        assert plan_meeting(session, meeting, NOW) == 0
    rows = reminders(db)
    notices = [row for row in rows if row.kind == "cancelled"]
    assert len(notices) == 2
    assert {row.status for row in notices} == {"pending"}
    assert {(row.status, row.reason) for row in rows if row.kind != "cancelled"} == \
        {("cancelled", "meeting cancelled")}
