"""`wegwijs school`: the CLI equivalents of the schools' API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import func, select

from bot.cli.main import cli
from bot.storage.database import Database
from bot.storage.school_tables import Reminder
from bot.storage.school_tokens import school_for_token


@pytest.fixture
def wegwijs(database_url: str, tmp_path: Path) -> Callable[..., Result]:
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "WEGWIJS_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> Result:
        return runner.invoke(cli, ["school", *args], env=env, catch_exceptions=False)

    return run


def _found(pattern: str, output: str) -> str:
    match = re.search(pattern, output)
    assert match, output
    return match.group(1)


def test_a_school_from_registration_to_answers(wegwijs: Callable[..., Result],
                                              database_url: str, tmp_path: Path) -> None:
    created = wegwijs("create", "--name", "Sint-Jan", "--region", "flanders")
    assert created.exit_code == 0, created.output
    school_id = _found(r"school (\d+):", created.output)
    code = _found(r"invite code: (\w+)", created.output)
    assert f"JOIN {code}" in created.output
    assert "Europe/Brussels" in created.output

    token = wegwijs("token", "--school", school_id, "--label", "secretariaat")
    assert token.exit_code == 0, token.output
    secret = token.output.strip().splitlines()[-1]
    database = Database(database_url)
    try:
        with database.session() as session:
            assert school_for_token(session, secret) == int(school_id)
    finally:
        database.close()

    bad = tmp_path / "bad.csv"
    bad.write_text("phone,language,group,consent\n0470 12 34 56,ar,5A,yes\n123,ar,5A,yes\n"
                   "0470 22 33 44,zz,5A,yes\n", encoding="utf-8")
    refused = wegwijs("import", str(bad), "--school", school_id, "--apply")
    assert refused.exit_code == 1
    assert "line 3: invalid phone number" in refused.output
    assert "line 4: language 'zz' is not offered" in refused.output
    assert "nothing was stored" in refused.output

    good = tmp_path / "good.csv"
    good.write_text("0470 12 34 56;ar;5A;yes\n0470 22 33 44;tr;5B;yes\n", encoding="utf-8")
    dry = wegwijs("import", str(good), "--school", school_id)
    assert dry.exit_code == 0
    assert "would import: 2 new" in dry.output
    assert "dry run" in dry.output
    assert wegwijs("import", str(good), "--school", school_id, "--apply").exit_code == 0
    parents = wegwijs("parents", "--school", school_id).output
    assert "+32 4•• •• •• 56" in parents
    assert "470" not in parents
    assert "5A" in wegwijs("groups", "--school", school_id).output

    meeting = wegwijs("meetings", "create", "--school", school_id, "--kind", "oudercontact",
                      "--start", "2030-12-03 18:00", "--end", "2030-12-03 20:00",
                      "--place", "Klas 5A", "--note", "Breng het rapport mee.")
    assert meeting.exit_code == 0, meeting.output
    assert "2030-12-03 18:00 - 2030-12-03 20:00 (Europe/Brussels)" in meeting.output
    meeting_id = meeting.output.split("\t")[0]
    invited = wegwijs("invite", meeting_id, "--school", school_id, "--all",
                      "--slot", "1", "2030-12-03 18:00", "2030-12-03 18:15")
    assert invited.exit_code == 0, invited.output
    assert "invited 2" in invited.output
    answers = wegwijs("rsvps", meeting_id, "--school", school_id, "--list")
    assert "invited 2, no_answer 2" in answers.output
    assert "slot 2030-12-03 18:00" in answers.output

    moved = wegwijs("meetings", "update", meeting_id, "--school", school_id,
                    "--start", "2030-12-04 18:00", "--end", "2030-12-04 20:00")
    assert moved.exit_code == 0, moved.output
    assert "\tv2\t" in moved.output
    listed = wegwijs("meetings", "list", "--school", school_id)
    assert "2030-12-04 18:00" in listed.output
    cancelled = wegwijs("meetings", "cancel", meeting_id, "--school", school_id)
    assert "cancelled" in cancelled.output
    database = Database(database_url)
    try:
        with database.session() as session:
            kinds = dict(session.exec(select(Reminder.kind, func.count()).group_by(
                Reminder.kind)).all())
    finally:
        database.close()
    assert kinds.get("cancelled") == 2

    revoked = wegwijs("token", "--school", school_id, "--revoke", "1")
    assert revoked.exit_code == 0
    assert wegwijs("token", "--school", school_id, "--revoke", "1").exit_code == 1


def test_mistakes_are_explained(wegwijs: Callable[..., Result]) -> None:
    unknown = wegwijs("meetings", "list", "--school", "42")
    assert unknown.exit_code == 1
    assert "school not found" in unknown.output
    zone = wegwijs("create", "--name", "X", "--region", "flanders", "--timezone", "Mars/Base")
    assert zone.exit_code == 1
    assert "unknown time zone 'Mars/Base'" in zone.output
    time = wegwijs("meetings", "create", "--school", "1", "--kind", "other",
                   "--start", "tomorrow", "--end", "later")
    assert time.exit_code == 2
    assert "is not a time like 2026-12-03 18:00" in time.output
