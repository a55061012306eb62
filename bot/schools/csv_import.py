"""Importing a school's parents from a CSV file: a dry run first, then all or nothing.

The format (docs/schools.md): UTF-8, one parent per line, the columns

    phone,language,group,consent

- phone: a mobile number on WhatsApp; "+32 470 12 34 56", "0470 12 34 56" (read in the
  school's country: Belgium for flanders, Finland for finland) and "0032..." all work.
- language: the code of a language the bot offers (nl, fr, ar, tr, uk, ...).
- group: the group (class) name; may be empty. A group the school does not have yet is
  created (the report lists the new ones, so a typo shows before anything is stored).
- consent: yes or no (also y/n, true/false, 1/0, ja/nee, oui/non, kyllä/ei). A "no"
  row is not stored; a parent already in the school loses the school's consent, and is
  not invited again until they join themselves.

A first line naming the columns is optional; with one, the columns may come in any
order and `group` may be left out. The separator may be a comma, a semicolon (what
spreadsheets in Belgium and Finland write) or a tab.

Every bad line is reported with its number: an invalid number, a number twice in the
file, a language the bot does not offer, a missing consent. If any line is bad,
nothing is stored. A number the school already has just gets its language, group and
consent updated, so importing the same file twice changes nothing the second time. The
parent's own choice of language in the chat wins over the file's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.channels.whatsapp import CHANNEL as WHATSAPP
from bot.engine.matching import normalize
from bot.schools.errors import Invalid
from bot.schools.members import group_name_problem
from bot.schools.phones import BadNumber, whatsapp_address
from bot.schools.regions import REGIONS
from bot.schools.registry import school_of
from bot.storage import contacts
from bot.storage import schools as store
from bot.storage.school_tables import Membership, School
from bot.storage.tables import Contact

COLUMNS = ("phone", "language", "group", "consent")
REQUIRED = ("phone", "language", "consent")
YES = frozenset({"yes", "y", "true", "1", "ja", "j", "oui", "kylla", "k"})
NO = frozenset({"no", "n", "false", "0", "nee", "non", "ei"})
MAX_ROWS = 10_000
MAX_BYTES = 2_000_000
_SEPARATORS = (",", ";", "\t")
_CHUNK = 500  # addresses per lookup query


@dataclass(frozen=True)
class ParentRow:
    """One good line of the file."""

    line: int
    address: str
    language: str
    group: str | None
    consent: bool


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one line (line 1 is the first line of the file)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    """What the import found, and did (`applied`) or would do."""

    lines: int = 0  # parent lines in the file, good and bad
    problems: list[LineProblem] = field(default_factory=list)
    new_parents: int = 0
    updated_parents: int = 0
    without_consent: int = 0
    new_groups: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        """No bad line."""
        return not self.problems


def decode(data: bytes) -> str:
    """The file's text; it must be UTF-8 (a byte order mark is fine)."""
    if len(data) > MAX_BYTES:
        raise Invalid([f"the file is larger than {MAX_BYTES // 1_000_000} MB"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(["the file must be saved as UTF-8 text"]) from exc


def _separator(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max(_SEPARATORS, key=first.count)


def _lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """Non-empty CSV records with the line each starts on."""
    reader = csv.reader(io.StringIO(text), delimiter=_separator(text))
    start = 1
    for record in reader:
        if any(cell.strip() for cell in record):
            yield start, [cell.strip() for cell in record]
        start = reader.line_num + 1


def _header(cells: list[str]) -> dict[str, int] | None:
    """Column positions from a header line, or None if the line is data."""
    names = [cell.lower() for cell in cells]
    if "phone" not in names:
        return None
    return {name: index for index, name in enumerate(names)}


def _header_problems(columns: dict[str, int]) -> list[str]:
    problems = [f"unknown column {name!r} (use {', '.join(COLUMNS)})"
                for name in columns if name not in COLUMNS]
    problems += [f"the column {name!r} is missing" for name in REQUIRED if name not in columns]
    return problems


class _RowReader:
    """Checks lines one by one, remembering numbers already seen."""

    def __init__(self, default_country: str, languages: Collection[str]) -> None:
        self.default_country = default_country
        self.languages = languages
        self.seen: dict[str, int] = {}

    def read(self, line: int, values: dict[str, str]) -> ParentRow | list[str]:
        problems = []
        address = ""
        if not values["phone"]:
            problems.append("the phone number is missing")
        else:
            try:
                address = whatsapp_address(values["phone"], self.default_country)
            except BadNumber:
                problems.append("invalid phone number")
            else:
                if address in self.seen:
                    problems.append(f"the same phone number as line {self.seen[address]}")
                self.seen.setdefault(address, line)
        language = values["language"].lower()
        if not language:
            problems.append("the language is missing")
        elif language not in self.languages:
            problems.append(f"language {values['language']!r} is not offered "
                            f"(one of {', '.join(sorted(self.languages))})")
        group = values.get("group") or None
        if group is not None and (problem := group_name_problem(group)):
            problems.append(problem)
        consent = normalize(values["consent"])
        if not consent:
            problems.append("the consent is missing (yes or no)")
        elif consent not in YES | NO:
            problems.append(f"consent must be yes or no, not {values['consent']!r}")
        if problems:
            return problems
        return ParentRow(line, address, language, group, consent in YES)


@dataclass(frozen=True)
class ReadFile:
    """The file's good lines, a problem for each bad one, and how many parent lines it
    has (good and bad)."""

    rows: list[ParentRow]
    problems: list[LineProblem]
    lines: int


def read_rows(text: str, default_country: str, languages: Collection[str]) -> ReadFile:
    """Check every line of the file."""
    rows: list[ParentRow] = []
    lines = 0
    problems: list[LineProblem] = []
    reader = _RowReader(default_country, languages)
    columns: dict[str, int] | None = None
    for number, (line, cells) in enumerate(_lines(text)):
        if number == 0 and (columns := _header(cells)) is not None:
            if header_problems := _header_problems(columns):
                # Every line would be read wrongly: report the header alone.
                return ReadFile([], [LineProblem(line, p) for p in header_problems], 0)
            continue
        lines += 1
        if lines > MAX_ROWS:
            problems.append(LineProblem(line, f"too many lines (at most {MAX_ROWS} parents)"))
            break
        if columns is None and len(cells) != len(COLUMNS):
            problems.append(LineProblem(line, f"expected {len(COLUMNS)} columns "
                                              f"({','.join(COLUMNS)}), found {len(cells)}"))
            continue
        positions = columns or {name: index for index, name in enumerate(COLUMNS)}
        values = {name: cells[index] if index < len(cells) else ""
                  for name, index in positions.items() if name in COLUMNS}
        values.setdefault("group", "")
        result = reader.read(line, values)
        if isinstance(result, ParentRow):
            rows.append(result)
        else:
            problems += [LineProblem(line, p) for p in result]
    if not lines:
        problems.append(LineProblem(1, "the file has no parents"))
    return ReadFile(rows, problems, lines)


def _known_contacts(session: Session, addresses: list[str]) -> dict[str, Contact]:
    known: dict[str, Contact] = {}
    for start in range(0, len(addresses), _CHUNK):
        known.update(store.contacts_by_address(session, WHATSAPP,
                                               addresses[start:start + _CHUNK]))
    return known


def _memberships(session: Session, school_id: int,
                 contact_ids: list[int]) -> dict[int, Membership]:
    found: dict[int, Membership] = {}
    for start in range(0, len(contact_ids), _CHUNK):
        found.update(store.memberships_of(session, school_id, contact_ids[start:start + _CHUNK]))
    return found


def import_parents(session: Session, school_id: int, text: str, languages: Collection[str],
                   now: datetime, *, apply: bool) -> ImportReport:
    """Check the file and report; with `apply` and no bad line, store it (in the
    caller's transaction). `languages` are the codes the bot offers."""
    school = school_of(session, school_id)
    read = read_rows(text, REGIONS[school.region].phone_country, languages)
    rows, problems = read.rows, read.problems
    known = _known_contacts(session, [row.address for row in rows])
    members = _memberships(session, school_id, [contact.id for contact in known.values()
                                                 if contact.id is not None])
    groups = store.groups_by_name(session, school_id)
    report = ImportReport(lines=read.lines, problems=problems,
                          new_groups=sorted({row.group for row in rows
                                             if row.group and row.group not in groups}))
    for row in rows:
        contact = known.get(row.address)
        member = contact is not None and contact.id in members
        if not row.consent:
            report.without_consent += 1
        elif member:
            report.updated_parents += 1
        else:
            report.new_parents += 1
    if problems or not apply:
        return report
    for name in report.new_groups:
        groups[name] = store.add_group(session, school_id, name)
    for row in rows:
        _store_row(session, school, row, known.get(row.address), members, groups, now)
    report.applied = True
    return report


def _store_row(session: Session, school: School, row: ParentRow, contact: Contact | None,
               members: dict[int, Membership], groups: dict[str, int], now: datetime) -> None:
    assert school.id is not None
    if not row.consent:
        if contact is not None and contact.id in members:
            store.withdraw_consent(session, school.id, contact.id)
        return
    contact_id = contact.id if contact is not None and contact.id is not None else \
        contacts.contact_id_for(session, WHATSAPP, row.address, now)
    changes: dict[str, object] = {}
    if contact is None or contact.region is None:
        changes["region"] = school.region
    # A parent who has chatted chose their language themselves: that choice wins.
    if contact is None or contact.language is None or contact.last_inbound_at is None:
        changes["language"] = row.language
    if changes:
        contacts.update_contact(session, contact_id, changes)
    membership = members.get(contact_id) or Membership(
        school_id=school.id, contact_id=contact_id, source="import", joined_at=now)
    membership.group_id = groups[row.group] if row.group else None
    membership.consent_at = membership.consent_at or now
    store.save_membership(session, membership)
