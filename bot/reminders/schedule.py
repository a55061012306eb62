"""When reminders are due: schedule offsets, quiet hours and time zones.

All times in and out are timezone-aware UTC; the school's local time (an IANA zone,
via zoneinfo) only decides whether a moment falls in its quiet hours. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A reminder due in quiet hours goes out this long before they begin, so a large
# fan-out (10,000 parents at the channel's rate) is delivered before the evening ends.
QUIET_MARGIN = timedelta(minutes=30)
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class QuietHours:
    """A daily window, in the school's local time, when no reminder is sent.

    `start` > `end` wraps midnight (the default 21:00-08:00); `start` == `end` means none.
    """

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, start: str, end: str, timezone: str) -> QuietHours:
        """From the school's "HH:MM" settings and IANA time zone name."""
        return cls(time.fromisoformat(start), time.fromisoformat(end), ZoneInfo(timezone))

    def contains(self, moment: datetime) -> bool:
        """True if `moment` falls in the quiet window (start included, end excluded)."""
        return self._window_start(moment) is not None

    def move_earlier(self, moment: datetime) -> datetime:
        """`moment`, or if it falls in quiet hours, QUIET_MARGIN before they began.

        Never later than `moment`: around a daylight-saving change the local start may
        not exist or exist twice; the earliest reading is taken.
        """
        window_start = self._window_start(moment)
        if window_start is None:
            return moment
        return min(moment, window_start - QUIET_MARGIN)

    def move_later(self, moment: datetime) -> datetime:
        """`moment`, or if it falls in quiet hours, the moment they end (for messages
        that must not go early, such as a follow-up after the meeting)."""
        window_start = self._window_start(moment)
        if window_start is None:
            return moment
        start_day = window_start.astimezone(self.zone).date()
        end_day = start_day + timedelta(days=1) if self.start > self.end else start_day
        return max(moment, self._at(end_day, self.end))

    def _window_start(self, moment: datetime) -> datetime | None:
        """The UTC moment the quiet window holding `moment` began, or None."""
        if self.start == self.end:
            return None
        local = moment.astimezone(self.zone)
        clock, day = local.time().replace(tzinfo=None), local.date()
        if self.start < self.end:  # a window within one day, e.g. 12:00-13:30
            return self._at(day, self.start) if self.start <= clock < self.end else None
        if clock >= self.start:  # the evening part of a window that wraps midnight
            return self._at(day, self.start)
        if clock < self.end:  # the morning part: the window began the evening before
            return self._at(day - timedelta(days=1), self.start)
        return None

    def _at(self, day: date, clock: time) -> datetime:
        """A local wall-clock time on `day` as UTC, taking the earlier reading when the
        clock is ambiguous (autumn) and the shifted reading when it does not exist."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)


def reminder_due(start: datetime, offset_minutes: int, quiet: QuietHours) -> datetime:
    """When a reminder `offset_minutes` before `start` goes out: moved earlier out of
    quiet hours, never later.

    Whole days count on the school's clock ("1 day before" a 18:00 meeting is 18:00 the
    day before, even across a daylight-saving change); other offsets are elapsed time.
    """
    days, minutes = divmod(offset_minutes, MINUTES_PER_DAY)
    if minutes:
        due = start - timedelta(minutes=offset_minutes)
    else:
        local = start.astimezone(quiet.zone).replace(tzinfo=None) - timedelta(days=days)
        due = local.replace(tzinfo=quiet.zone).astimezone(UTC)
    return quiet.move_earlier(due)
