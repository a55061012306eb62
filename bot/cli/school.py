"""`wegwijs school`: register schools, their API tokens, parents (CSV), meetings,
invitations and answers. The same rules as the REST API (bot/schools/)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from sqlmodel import Session

from bot.cli.database import migrated_database
from bot.cli.settings import load_content, load_settings
from bot.schools import csv_import, meetings, members
from bot.schools.csv_import import ImportReport
from bot.schools.errors import Invalid, SchoolError
from bot.schools.meetings import KINDS, MeetingFields, ParentSlot
from bot.schools.phones import masked
from bot.schools.regions import REGIONS
from bot.schools.registry import NewSchool, create_school, school_of
from bot.storage import schools as school_store
from bot.storage.school_tables import Meeting
from bot.storage.school_tokens import create_token, revoke_token

T = TypeVar("T")


class SchoolTime(click.ParamType[datetime]):
    """A date and time such as "2026-12-03 18:00" (the school's time zone) or with an
    offset ("2026-12-03T18:00+01:00")."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a time like 2026-12-03 18:00", param, ctx)


TIME = SchoolTime()
SCHOOL = click.option("--school", "school_id", type=int, required=True, help="The school's id.")


def _work(work: Callable[[Session, datetime], T]) -> T:
    """Run `work` in one transaction; a school error undoes it and becomes a message."""
    with migrated_database(load_settings()) as database, database.session() as session:
        try:
            with session.begin():
                return work(session, datetime.now(UTC))
        except SchoolError as exc:
            problems = exc.problems if isinstance(exc, Invalid) else [str(exc)]
            raise click.ClickException("\n".join(problems)) from exc


def _offered_languages() -> list[str]:
    """The languages the bot offers parents (the shipped ones)."""
    return list(load_content().languages)


def _time(value: datetime | None, timezone: str) -> str:
    """A time as the school reads it."""
    if value is None:
        return "-"
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


@click.group()
def school() -> None:
    """Schools: tokens, parents, meetings, invitations and answers (docs/schools.md)."""


@school.command("create")
@click.option("--name", required=True)
@click.option("--region", required=True, type=click.Choice(sorted(REGIONS)))
@click.option("--timezone", default=None, help="IANA name; default: the region's.")
@click.option("--language", default=None, help="The school's language (for notes); "
                                                "default: the region's (nl, fi).")
@click.option("--escalation-contact", default=None,
              help="Who hears of questions the bot cannot answer (for operators).")
def create_command(name: str, region: str, timezone: str | None, language: str | None,
                   escalation_contact: str | None) -> None:
    """Register a school; prints its id and invite code."""
    new = NewSchool(name, region, timezone, language, escalation_contact)
    created = _work(lambda s, now: create_school(s, new, now))
    click.echo(f"school {created.id}: {created.name} ({created.region}, {created.timezone})")
    click.echo(f"invite code: {created.invite_code}")
    click.echo(f"parents join with: JOIN {created.invite_code} (WhatsApp), or the link "
               f"https://t.me/<your bot>?start={created.invite_code} (Telegram)")


@school.command("list")
def list_command() -> None:
    """Every school with its id and invite code."""
    for row in _work(lambda s, _now: school_store.all_schools(s)):
        click.echo(f"{row.id}\t{row.invite_code}\t{row.region}\t{row.timezone}\t{row.name}")


@school.command("token")
@SCHOOL
@click.option("--label", default="", help="Whose token this is, for your records.")
@click.option("--revoke", "revoke_id", type=int, default=None,
              help="Revoke the token with this id instead of creating one.")
def token_command(school_id: int, label: str, revoke_id: int | None) -> None:
    """Create an API token (shown once: store it safely), or revoke one."""
    if revoke_id is not None:
        if not _work(lambda s, now: revoke_token(s, school_id, revoke_id, now)):
            raise click.ClickException("the school has no such live token")
        click.echo(f"token {revoke_id} revoked")
        return

    def make(session: Session, now: datetime) -> tuple[int, str]:
        school_of(session, school_id)  # the school must exist
        return create_token(session, school_id, label, now)

    token_id, token = _work(make)
    click.echo(f"token {token_id} for school {school_id} (shown once; only a hash is kept):")
    click.echo(token)


@school.command("groups")
@SCHOOL
@click.option("--add", "new_group", default=None, help="Add a group with this name.")
def groups_command(school_id: int, new_group: str | None) -> None:
    """List the school's groups (classes), or add one."""
    if new_group is not None:
        added = _work(lambda s, _now: members.create_group(s, school_id, new_group))
        click.echo(f"group {added.id}: {added.name}")
        return
    for row in _work(lambda s, _now: members.groups(s, school_id)):
        click.echo(f"{row.id}\t{row.members} parent(s)\t{row.name}")


@school.command("parents")
@SCHOOL
@click.option("--group", "group_id", type=int, default=None)
def parents_command(school_id: int, group_id: int | None) -> None:
    """List the school's parents (numbers masked)."""
    for row in _work(lambda s, _now: members.parents(s, school_id, group_id)):
        consent = "consent" if row.consented else "no consent"
        click.echo(f"{row.id}\t{row.channel}\t{masked(row.address) or '-'}\t"
                   f"{row.language or '-'}\t{row.group or '-'}\t{row.source}\t{consent}")


def _print_report(report: ImportReport) -> None:
    for problem in report.problems:
        click.echo(str(problem))
    if not report.ok:
        click.echo(f"{report.lines} line(s), {len(report.problems)} problem(s): nothing "
                   "was stored; correct the file and try again")
        return
    verb = "imported" if report.applied else "would import"
    click.echo(f"{report.lines} line(s); {verb}: {report.new_parents} new, "
               f"{report.updated_parents} updated, {report.without_consent} without "
               "consent (not stored)")
    if report.new_groups:
        click.echo(f"new groups: {', '.join(report.new_groups)}")


@school.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@SCHOOL
@click.option("--apply", is_flag=True, help="Store the parents (default: a dry run).")
def import_command(file: Path, school_id: int, apply: bool) -> None:
    """Import parents from a CSV file (phone,language,group,consent). A dry run unless
    --apply; any bad line stores nothing and exits with status 1."""
    data = file.read_bytes()
    languages = _offered_languages()
    report = _work(lambda s, now: csv_import.import_parents(
        s, school_id, csv_import.decode(data), languages, now, apply=apply))
    _print_report(report)
    if not report.ok:
        raise SystemExit(1)
    if not apply:
        click.echo("dry run: nothing stored; add --apply to import")


# -- meetings ------------------------------------------------------------------------------


def _print_meetings(found: tuple[list[Meeting], str]) -> None:
    """Meetings, with times in the school's time zone."""
    listed, timezone = found
    for meeting in listed:
        where = " | ".join(part for part in (meeting.place, meeting.online_url) if part)
        click.echo(f"{meeting.id}\t{meeting.status}\tv{meeting.version}\t{meeting.kind}\t"
                   f"{_time(meeting.starts_at, timezone)} - {_time(meeting.ends_at, timezone)}"
                   f" ({timezone})\t{meeting.title or ''}\t{where}")


def _with_zone(session: Session, school_id: int,
               found: list[Meeting] | Meeting) -> tuple[list[Meeting], str]:
    listed = found if isinstance(found, list) else [found]
    return listed, school_of(session, school_id).timezone


@school.group("meetings")
def meetings_group() -> None:
    """List, create, change or cancel meetings. Times without an offset are in the
    school's time zone."""


@meetings_group.command("list")
@SCHOOL
@click.option("--all", "everything", is_flag=True, help="Also meetings that are over.")
def meetings_list(school_id: int, everything: bool) -> None:
    """The school's meetings."""
    _print_meetings(_work(lambda s, now: _with_zone(s, school_id, meetings.meetings(
        s, school_id, since=None if everything else now))))


_KIND = click.Choice(KINDS)


@meetings_group.command("create")
@SCHOOL
@click.option("--kind", required=True, type=_KIND)
@click.option("--start", "starts_at", required=True, type=TIME)
@click.option("--end", "ends_at", required=True, type=TIME)
@click.option("--title", default=None)
@click.option("--place", default=None)
@click.option("--online-url", default=None)
@click.option("--note", default=None, help="In the school's language.")
@click.option("--followup/--no-followup", default=True,
              help="Ask parents afterwards what was agreed.")
def meetings_create(school_id: int, kind: str, starts_at: datetime, ends_at: datetime,
                    title: str | None, place: str | None, online_url: str | None,
                    note: str | None, followup: bool) -> None:
    """Register a meeting."""
    fields = MeetingFields(kind, starts_at, ends_at, title, place, online_url, note, followup)
    _print_meetings(_work(lambda s, now: _with_zone(s, school_id, meetings.create_meeting(
        s, school_id, fields, now))))


@meetings_group.command("update")
@click.argument("meeting_id", type=int)
@SCHOOL
@click.option("--kind", default=None, type=_KIND)
@click.option("--start", "starts_at", default=None, type=TIME)
@click.option("--end", "ends_at", default=None, type=TIME)
@click.option("--title", default=None)
@click.option("--place", default=None, help="An empty value removes it.")
@click.option("--online-url", default=None, help="An empty value removes it.")
@click.option("--note", default=None, help="An empty value removes it.")
def meetings_update(meeting_id: int, school_id: int, **given: Any) -> None:
    """Change a meeting; invited parents hear of new times, place, link or note."""
    changes = {name: value for name, value in given.items() if value is not None}
    if not changes:
        raise click.UsageError("say what to change")
    _print_meetings(_work(lambda s, now: _with_zone(s, school_id, meetings.update_meeting(
        s, school_id, meeting_id, changes, now))))


@meetings_group.command("cancel")
@click.argument("meeting_id", type=int)
@SCHOOL
def meetings_cancel(meeting_id: int, school_id: int) -> None:
    """Cancel a meeting; invited parents are told."""
    _print_meetings(_work(lambda s, now: _with_zone(s, school_id, meetings.cancel_meeting(
        s, school_id, meeting_id, now))))


@school.command("invite")
@click.argument("meeting_id", type=int)
@SCHOOL
@click.option("--parent", "parent_ids", type=int, multiple=True, help="A parent's id.")
@click.option("--slot", "slots", type=(int, TIME, TIME), multiple=True,
              metavar="PARENT START END", help="A parent with a time slot of their own.")
@click.option("--group", "group_ids", type=int, multiple=True, help="A group's id.")
@click.option("--all", "all_members", is_flag=True, help="Every parent of the school.")
def invite_command(meeting_id: int, school_id: int, parent_ids: tuple[int, ...],
                   slots: tuple[tuple[int, datetime, datetime], ...],
                   group_ids: tuple[int, ...], all_members: bool) -> None:
    """Invite parents to a meeting; their reminders are planned at once."""
    parents = [ParentSlot(parent_id) for parent_id in parent_ids]
    parents += [ParentSlot(parent_id, start, end) for parent_id, start, end in slots]
    result = _work(lambda s, now: meetings.invite(
        s, school_id, meeting_id, parents=parents, group_ids=group_ids,
        all_members=all_members, now=now))
    click.echo(f"invited {result.invited}, slots changed {result.slots_changed}, "
               f"already invited {result.already_invited}")
    if result.without_consent:
        click.echo("not invited (no consent): parents "
                   + ", ".join(str(parent_id) for parent_id in result.without_consent))


@school.command("rsvps")
@click.argument("meeting_id", type=int)
@SCHOOL
@click.option("--list", "listed", is_flag=True, help="Also each invited parent's answer.")
def rsvps_command(meeting_id: int, school_id: int, listed: bool) -> None:
    """The parents' answers to a meeting's invitation."""
    summary, rows, timezone = _work(lambda s, _now: (
        meetings.rsvp_summary(s, school_id, meeting_id),
        meetings.invitations(s, school_id, meeting_id) if listed else [],
        school_of(s, school_id).timezone))
    click.echo(", ".join(f"{name} {count}" for name, count in summary.items()))
    for row in rows:
        click.echo(f"{row.parent_id or '-'}\t{masked(row.address) or row.channel}\t"
                   f"{row.language or '-'}\t{row.group or '-'}\t"
                   f"slot {_time(row.slot_start, timezone)}\t{row.rsvp or 'no answer'}")
