"""`wegwijs reminders status`: what is planned, due, sent, failed and missed, per school and
meeting, with the reasons. Counts only: no parent is named."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import click

from bot.cli.database import migrated_database
from bot.cli.settings import load_settings
from bot.storage.reminders import StatusGroup, reminder_status

# The order states are shown in; the ones after "sent" are problems worth a reason.
STATES = ("planned", "due", "queued", "sent", "unconfirmed", "failed", "missed", "unsendable",
          "cancelled")
WITH_REASONS = ("unconfirmed", "failed", "missed", "unsendable", "cancelled")


@click.group()
def reminders() -> None:
    """Meeting reminders."""


@reminders.command()
@click.option("--school", "school_id", type=int, default=None, help="Only this school (id).")
def status(school_id: int | None) -> None:
    """List each meeting's reminders by state: planned, due (waiting for a worker),
    queued (in the outbox), sent, unconfirmed (a worker died mid-send and Telegram cannot
    tell), failed, missed, unsendable and cancelled, with reasons."""
    with migrated_database(load_settings()) as database, database.session() as session:
        groups = reminder_status(session, datetime.now(UTC), school_id)
    if not groups:
        click.echo("No reminders" + (f" for school {school_id}." if school_id else "."))
        return
    click.echo(render_status(groups))


def render_status(groups: list[StatusGroup]) -> str:
    """The overview as text: a block per school, a few lines per meeting."""
    meetings: dict[tuple[int, int], list[StatusGroup]] = defaultdict(list)
    for group in groups:
        meetings[(group.school_id, group.meeting_id)].append(group)
    lines: list[str] = []
    school_shown: int | None = None
    for (school_id, meeting_id), rows in meetings.items():
        first = rows[0]
        if school_id != school_shown:
            if lines:
                lines.append("")
            lines.append(f"School {school_id}: {first.school_name}")
            school_shown = school_id
        cancelled = " (cancelled)" if first.meeting_status == "cancelled" else ""
        lines.append(f"  Meeting {meeting_id}: {first.meeting_kind}, "
                     f"{first.starts_at:%Y-%m-%d %H:%M} UTC{cancelled}")
        counts = {state: sum(r.count for r in rows if r.state == state) for state in STATES}
        lines.append("    " + "  ".join(f"{state} {counts[state]}" for state in STATES
                                        if counts[state]))
        upcoming = [r.next_due for r in rows if r.state == "planned" and r.next_due]
        if upcoming:
            lines.append(f"    next due {min(upcoming):%Y-%m-%d %H:%M} UTC")
        reasons: dict[tuple[str, str], int] = defaultdict(int)
        for row in rows:
            if row.reason or row.state in WITH_REASONS:
                reasons[(row.state, row.reason or "no reason given")] += row.count
        for (state, reason), count in sorted(reasons.items()):
            lines.append(f"    {state}: {reason} ({count})")
    return "\n".join(lines)
