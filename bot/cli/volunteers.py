"""`wegwijs volunteer` (add, list, remove, link-code) and `wegwijs tickets` (list, stats).

Operators see volunteers' names; parents appear only as "Parent <pseudonym>"."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import click
from sqlmodel import Session

from bot.cli.database import migrated_database
from bot.cli.settings import load_content, load_settings
from bot.storage import schools, tickets, volunteers
from bot.storage.ticket_tables import Ticket
from bot.tickets import stats as ticket_stats
from bot.tickets.staff import NewVolunteer, VolunteerError, new_code, register, remove

T = TypeVar("T")
LINK_HELP = ("The volunteer sends this to the bot in Telegram: /start {code} (or /link "
             "{code}). It works once, for 7 days.")


def _work(work: Callable[[Session, datetime], T]) -> T:
    """Run `work` in one transaction; a refused request undoes it and becomes a message."""
    with migrated_database(load_settings()) as database, database.session() as session:
        try:
            with session.begin():
                return work(session, datetime.now(UTC))
        except VolunteerError as exc:
            raise click.ClickException(str(exc)) from exc


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.group()
def volunteer() -> None:
    """Peer volunteers who answer parents' questions in Telegram."""


@volunteer.command("add")
@click.argument("name")
@click.option("--languages", required=True, help="Languages they speak, e.g. ar,nl,en.")
@click.option("--interface", "interface_language", default="en", show_default=True,
              help="The language the bot writes to them in.")
@click.option("--regions", default="", help="Regions they serve, e.g. flanders.")
@click.option("--schools", "school_ids", default="", help="School ids they serve, e.g. 1,3.")
def add(name: str, languages: str, interface_language: str, regions: str,
        school_ids: str) -> None:
    """Register a volunteer NAME (never shown to parents) and print their link code.
    Without regions and schools they serve everyone."""
    try:
        ids = [int(part) for part in _split(school_ids)]
    except ValueError as exc:
        raise click.BadParameter("school ids are numbers, e.g. 1,3",
                                 param_hint="--schools") from exc
    new = NewVolunteer(name, _split(languages), interface_language, _split(regions), ids)
    library = load_content()
    added, code = _work(lambda session, now: register(session, library, new, now))
    click.echo(f"volunteer {added.id}: {added.display_name}")
    click.echo(f"link code: {code}")
    click.echo(LINK_HELP.format(code=code))


@volunteer.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Include removed volunteers.")
def list_volunteers(include_removed: bool) -> None:
    """The volunteers: id, name, languages, regions, schools, Telegram linked or not."""
    rows = _work(lambda session, _now: volunteers.list_volunteers(
        session, include_removed=include_removed))
    if not rows:
        click.echo("No volunteers.")
    for row in rows:
        state = "removed" if row.removed_at else ("linked" if row.contact_id else "not linked")
        click.echo(f"{row.id}  {row.display_name}  languages={','.join(row.languages)}  "
                   f"interface={row.interface_language}  "
                   f"regions={','.join(row.regions) or '-'}  "
                   f"schools={','.join(map(str, row.school_ids)) or '-'}  {state}")


@volunteer.command("remove")
@click.argument("volunteer_id", type=int)
def remove_volunteer(volunteer_id: int) -> None:
    """End a volunteer's access at once; their open tickets go back to the queue."""
    if not _work(lambda session, now: remove(session, volunteer_id, now)):
        raise click.ClickException(f"no active volunteer with id {volunteer_id}")
    click.echo(f"volunteer {volunteer_id} removed")


@volunteer.command("link-code")
@click.argument("volunteer_id", type=int)
def link_code(volunteer_id: int) -> None:
    """A new one-time code to link (or re-link) the volunteer's Telegram."""
    code = _work(lambda session, now: new_code(session, volunteer_id, now))
    click.echo(f"link code: {code}")
    click.echo(LINK_HELP.format(code=code))


@click.group("tickets")
def tickets_group() -> None:
    """Parents' questions for volunteers."""


@tickets_group.command("list")
@click.option("--status", type=click.Choice(["open", "claimed", "closed", "withdrawn"]),
              default=None, help="Only tickets in this state.")
@click.option("--escalated", is_flag=True,
              help="Only tickets escalated to their school and still open, with the "
                   "school's escalation contact.")
@click.option("--school", "school_id", type=int, default=None, help="Only this school (id).")
def list_tickets(status: str | None, escalated: bool, school_id: int | None) -> None:
    """Tickets by pseudonym: state, language, region, school, times; no words."""
    def work(session: Session, _now: datetime) -> list[str]:
        rows = tickets.all_tickets(session, school_id=school_id, status=status)
        if escalated:
            rows = [t for t in rows if t.escalated_at is not None and t.status == "open"]
        return [_ticket_line(session, t, with_contact=escalated) for t in rows]

    lines = _work(work)
    click.echo("\n".join(lines) if lines else "No tickets.")


def _ticket_line(session: Session, ticket: Ticket, *, with_contact: bool) -> str:
    holder = volunteers.get_volunteer(session, ticket.claimed_by) if ticket.claimed_by else None
    school = schools.get_school(session, ticket.school_id) if ticket.school_id else None
    line = (f"Parent {ticket.pseudonym}  {ticket.status}{' PRIORITY' if ticket.priority else ''}"
            f"  {ticket.language}  region={ticket.region or '-'}  "
            f"school={school.name if school else '-'}  topic={ticket.topic}  "
            f"opened={ticket.created_at:%Y-%m-%d %H:%M}Z  "
            f"volunteer={holder.display_name if holder else '-'}  "
            f"rating={ticket.satisfaction or '-'}")
    if with_contact:
        contact = school.escalation_contact if school and school.escalation_contact else \
            "no escalation contact: tell the operator"
        line += f"  escalated={ticket.escalated_at:%Y-%m-%d %H:%M}Z  contact={contact}"
    return line


@tickets_group.command("stats")
@click.option("--school", "school_id", type=int, default=None, help="Only this school (id).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats(school_id: int | None, as_json: bool) -> None:
    """Time to claim and to the first answer (median, 90th percentile), satisfaction,
    tickets per language, school and region, and how many are open now."""
    figures = _work(lambda session, _now: ticket_stats.compute(
        tickets.all_tickets(session, school_id=school_id)))
    if as_json:
        click.echo(json.dumps(figures.to_json(), indent=2))
    else:
        click.echo(ticket_stats.render(figures))
