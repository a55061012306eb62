"""Importing parents from CSV: a file with bad lines is refused whole, with a report
per line; a good file is stored; importing it again changes nothing."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from bot.engine import Library
from bot.schools.csv_import import ImportReport, import_parents, read_rows
from bot.schools.registry import NewSchool, create_school
from bot.storage.database import Database
from bot.storage.school_tables import Membership, SchoolGroup
from bot.storage.tables import Contact

from .schools_support import NOW

GOOD = """phone,language,group,consent
+32 470 12 34 56,ar,5A,yes
0470 22 33 44,tr,5B,ja
0032 470 55 66 77,uk,,yes
0470 88 99 00,nl,5A,no
"""


def _school(db: Database, region: str = "flanders") -> int:
    with db.session() as session, session.begin():
        school = create_school(session, NewSchool("Sint-Jan", region), NOW)
        assert school.id is not None
        return school.id


def _import(db: Database, library: Library, school_id: int, text: str, *,
            apply: bool) -> ImportReport:
    with db.session() as session, session.begin():
        return import_parents(session, school_id, text, list(library.languages), NOW,
                              apply=apply)


def _count(db: Database, table: type) -> int:
    with db.session() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_a_file_with_bad_lines_is_refused_whole_with_a_line_report(
        db: Database, library: Library) -> None:
    school_id = _school(db)
    text = (
        "phone;language;group;consent\n"      # 1: a header, semicolons (Belgian Excel)
        "0470 12 34 56;ar;5A;yes\n"            # 2: good
        "12345;tr;5A;yes\n"                    # 3: not a number
        "+32 470 12 34 56;uk;;yes\n"           # 4: the same number as line 2
        "0470 22 33 44;xx;;yes\n"              # 5: not a language the bot offers
        "0470 55 66 77;nl;5B;\n"               # 6: consent missing
        "\n"                                   # 7: empty lines are skipped
        "0470 88 99 00;nl;5B;maybe\n"          # 8: consent neither yes nor no
        "0470 11 11 11;nl\n"                   # 9: missing columns are empty
    )
    report = _import(db, library, school_id, text, apply=True)
    assert not report.ok
    assert not report.applied
    lines = {(problem.line, problem.message.split(" (")[0]) for problem in report.problems}
    assert (3, "invalid phone number") in lines
    assert (4, "the same phone number as line 2") in lines
    assert (5, "language 'xx' is not offered") in lines
    assert (6, "the consent is missing") in lines
    assert (8, "consent must be yes or no, not 'maybe'") in lines
    assert (9, "the consent is missing") in lines
    assert 2 not in {problem.line for problem in report.problems}
    assert report.lines == 7
    # Nothing at all was stored, not even the good line or the new groups.
    assert _count(db, Contact) == 0
    assert _count(db, Membership) == 0
    assert _count(db, SchoolGroup) == 0


def test_the_dry_run_reports_and_stores_nothing(db: Database, library: Library) -> None:
    school_id = _school(db)
    report = _import(db, library, school_id, GOOD, apply=False)
    assert report.ok
    assert not report.applied
    assert (report.new_parents, report.updated_parents, report.without_consent) == (3, 0, 1)
    assert report.new_groups == ["5A", "5B"]
    assert _count(db, Contact) == 0


def test_a_good_file_is_imported_and_a_second_import_changes_nothing(
        db: Database, library: Library) -> None:
    school_id = _school(db)
    report = _import(db, library, school_id, GOOD, apply=True)
    assert report.applied
    assert (report.new_parents, report.without_consent) == (3, 1)
    with db.session() as session:
        contacts = {c.address: c for c in session.exec(select(Contact))}
        memberships = list(session.exec(select(Membership)))
    # The "no" line is not stored at all; numbers are stored as WhatsApp addresses.
    assert set(contacts) == {"whatsapp:+32470123456", "whatsapp:+32470223344",
                             "whatsapp:+32470556677"}
    assert contacts["whatsapp:+32470123456"].language == "ar"
    assert contacts["whatsapp:+32470123456"].region == "flanders"
    assert all(m.source == "import" and m.consent_at == NOW for m in memberships)

    again = _import(db, library, school_id, GOOD, apply=True)
    assert (again.new_parents, again.updated_parents, again.new_groups) == (0, 3, [])
    assert _count(db, Contact) == 3
    assert _count(db, Membership) == 3
    assert _count(db, SchoolGroup) == 2


def test_a_known_number_gets_its_group_and_consent_updated(
        db: Database, library: Library) -> None:
    school_id = _school(db)
    _import(db, library, school_id, GOOD, apply=True)
    changed = "phone,group,consent,language\n+32470123456,6A,yes,fr\n+32470223344,5B,no,tr\n"
    report = _import(db, library, school_id, changed, apply=True)
    assert (report.updated_parents, report.without_consent) == (1, 1)
    with db.session() as session:
        rows = {c.address: (c.language, m.consent_at, g.name if g else None)
                for m, c, g in session.exec(
                    select(Membership, Contact, SchoolGroup)
                    .join(Contact, col(Contact.id) == col(Membership.contact_id))
                    .join(SchoolGroup, col(SchoolGroup.id) == col(Membership.group_id),
                          isouter=True))}
    # The parent never chatted, so the school's language is taken.
    assert rows["whatsapp:+32470123456"] == ("fr", NOW, "6A")
    # "no": the school's consent is withdrawn, the parent stays a member.
    assert rows["whatsapp:+32470223344"][1] is None


def test_the_same_parent_can_belong_to_two_schools(db: Database, library: Library) -> None:
    first, second = _school(db), _school(db)
    _import(db, library, first, GOOD, apply=True)
    report = _import(db, library, second, GOOD, apply=True)
    assert report.new_parents == 3
    assert _count(db, Contact) == 3
    assert _count(db, Membership) == 6


def test_numbers_are_read_in_the_school_country(library: Library) -> None:
    languages = list(library.languages)
    finnish = read_rows("040 1234567,fi,,yes\n", "FI", languages)
    assert [row.address for row in finnish.rows] == ["whatsapp:+358401234567"]
    belgian = read_rows("040 1234567,fi,,yes\n", "BE", languages)
    assert [p.message for p in belgian.problems] == ["invalid phone number"]


def test_header_problems_and_empty_files_are_reported(library: Library) -> None:
    languages = list(library.languages)
    assert [str(p) for p in read_rows("phone,lang,consent\n1,2,3\n", "BE",
                                      languages).problems] == [
        "line 1: unknown column 'lang' (use phone, language, group, consent)",
        "line 1: the column 'language' is missing"]
    assert [str(p) for p in read_rows("\n\n", "BE", languages).problems] == [
        "line 1: the file has no parents"]
    assert [str(p) for p in read_rows("+32470123456,nl,yes\n", "BE", languages).problems] == [
        "line 1: expected 4 columns (phone,language,group,consent), found 3"]
