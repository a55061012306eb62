"""How well questions are answered: times to claim and to the first answer, satisfaction,
and tickets per language, school and region. Counts and times only: no parent, no
words."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.storage.ticket_tables import Ticket


@dataclass(frozen=True)
class Durations:
    """How long something took over a set of tickets, in minutes."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, spans: Sequence[timedelta]) -> Durations:
        """The median and 90th percentile of `spans`."""
        minutes = sorted(span.total_seconds() / 60 for span in spans)
        if not minutes:
            return cls(0, None, None)
        if len(minutes) == 1:
            return cls(1, minutes[0], minutes[0])
        p90 = statistics.quantiles(minutes, n=10, method="inclusive")[-1]
        return cls(len(minutes), statistics.median(minutes), p90)


@dataclass(frozen=True)
class TicketStats:
    """The figures `wegwijs tickets stats` and the schools' API show."""

    total: int
    by_status: dict[str, int]
    open_now: int
    priority: int
    escalated: int
    time_to_claim: Durations
    time_to_first_answer: Durations
    rated: int
    satisfaction_average: float | None
    satisfaction: dict[int, int]
    by_language: dict[str, int]
    by_school: dict[str, int]
    by_region: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def compute(tickets: Iterable[Ticket]) -> TicketStats:
    """The statistics of these tickets."""
    rows = list(tickets)
    ratings = [t.satisfaction for t in rows if t.satisfaction is not None]
    return TicketStats(
        total=len(rows),
        by_status=dict(Counter(t.status for t in rows)),
        open_now=sum(t.status in ("open", "claimed") for t in rows),
        priority=sum(t.priority for t in rows),
        escalated=sum(t.escalated_at is not None for t in rows),
        time_to_claim=Durations.of(_spans(rows, "claimed_at")),
        time_to_first_answer=Durations.of(_spans(rows, "first_answer_at")),
        rated=len(ratings),
        satisfaction_average=round(statistics.mean(ratings), 2) if ratings else None,
        satisfaction={n: ratings.count(n) for n in range(1, 6)},
        by_language=_counts(t.language for t in rows),
        by_school=_counts(str(t.school_id) if t.school_id is not None else "-" for t in rows),
        by_region=_counts(t.region or "-" for t in rows),
    )


def render(stats: TicketStats) -> str:
    """The statistics as text for a terminal."""
    lines = [
        f"Tickets: {stats.total} (open now: {stats.open_now}, priority: {stats.priority}, "
        f"escalated to a school: {stats.escalated})",
        "By status: " + _pairs(stats.by_status),
        _durations("Time to claim", stats.time_to_claim),
        _durations("Time to first answer", stats.time_to_first_answer),
        f"Satisfaction: {stats.satisfaction_average if stats.rated else '-'} average of "
        f"{stats.rated} rating(s); " + ", ".join(
            f"{n}: {count}" for n, count in stats.satisfaction.items()),
        "By language: " + _pairs(stats.by_language),
        "By school (id): " + _pairs(stats.by_school),
        "By region: " + _pairs(stats.by_region),
    ]
    return "\n".join(lines)


def _spans(rows: list[Ticket], column: str) -> list[timedelta]:
    ends: list[tuple[datetime, datetime]] = [
        (t.created_at, getattr(t, column)) for t in rows if getattr(t, column) is not None]
    return [end - start for start, end in ends]


def _counts(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}: {value}" for key, value in counts.items()) or "-"


def _durations(label: str, durations: Durations) -> str:
    if durations.count == 0:
        return f"{label}: -"
    return (f"{label} (minutes, {durations.count} tickets): median {durations.median:.0f}, "
            f"90th percentile {durations.p90:.0f}")
