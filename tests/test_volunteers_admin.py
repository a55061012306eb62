"""Registering and removing volunteers, link codes and ticket statistics: the schools'
API (real HTTP handling through ASGI) and the `wegwijs volunteer` / `wegwijs tickets`
commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from bot.runtime import Runtime
from bot.storage import volunteers
from bot.storage.ticket_tables import Ticket

from .schools_support import NOW, client, make_school, runtime

__all__ = ["client", "runtime"]  # fixtures

SARA = {"display_name": "Sara", "languages": ["ar", "nl"], "interface_language": "nl"}


async def test_a_school_registers_lists_and_removes_its_volunteers(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    school, other = make_school(runtime), make_school(runtime, "Atheneum")
    created = await client.post("/api/v1/volunteers", json=SARA, headers=school.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["display_name"] == "Sara"
    assert body["linked"] is False
    assert body["code"].startswith("v-")
    volunteer_id = body["id"]

    listed = (await client.get("/api/v1/volunteers", headers=school.headers)).json()
    assert [v["id"] for v in listed] == [volunteer_id]
    assert "code" not in listed[0]
    assert (await client.get("/api/v1/volunteers", headers=other.headers)).json() == []
    # Another school's volunteer is not there for this school.
    for method, path in (("DELETE", f"/api/v1/volunteers/{volunteer_id}"),
                         ("POST", f"/api/v1/volunteers/{volunteer_id}/link-code")):
        response = await client.request(method, path, headers=other.headers)
        assert response.status_code == 404, response.text

    code = await client.post(f"/api/v1/volunteers/{volunteer_id}/link-code",
                             headers=school.headers)
    assert code.status_code == 201
    assert code.json()["code"] != body["code"]
    removed = await client.delete(f"/api/v1/volunteers/{volunteer_id}", headers=school.headers)
    assert removed.status_code == 204
    assert (await client.get("/api/v1/volunteers", headers=school.headers)).json() == []
    again = await client.delete(f"/api/v1/volunteers/{volunteer_id}", headers=school.headers)
    assert again.status_code == 404


async def test_a_school_removing_a_shared_volunteer_only_drops_itself(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    school, other = make_school(runtime), make_school(runtime, "Atheneum")
    with runtime.db.session() as session, session.begin():
        shared = volunteers.add_volunteer(
            session, display_name="Omar", languages=["ar"], regions=[],
            school_ids=[school.id, other.id], interface_language="en", now=NOW)
    response = await client.delete(f"/api/v1/volunteers/{shared.id}", headers=school.headers)
    assert response.status_code == 204
    with runtime.db.session() as session:
        kept = volunteers.get_volunteer(session, shared.id or 0)
    assert kept is not None
    assert kept.removed_at is None
    assert kept.school_ids == [other.id]


async def test_an_unknown_field_gets_422_and_stores_nothing(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    school = make_school(runtime)
    response = await client.post("/api/v1/volunteers", json={**SARA, "school_ids": [99]},
                                 headers=school.headers)
    assert response.status_code == 422
    with runtime.db.session() as session:
        assert volunteers.list_volunteers(session, include_removed=True) == []


@pytest.mark.parametrize(("change", "problem"), [
    ({"languages": ["xx"]}, "not a shipped language: xx"),
    ({"interface_language": "de"}, "interface language 'de' is not shipped"),
    ({"regions": ["mars"]}, "unknown region: mars"),
    ({"display_name": "   "}, "the name must be 1 to 100 characters"),
])
async def test_bad_registrations_get_422_and_store_nothing(
        client: httpx.AsyncClient, runtime: Runtime, change: dict[str, object],
        problem: str) -> None:
    school = make_school(runtime)
    response = await client.post("/api/v1/volunteers", json={**SARA, **change},
                                 headers=school.headers)
    assert response.status_code == 422
    assert any(problem in line for line in response.json()["detail"]["problems"])
    with runtime.db.session() as session:
        assert volunteers.list_volunteers(session, include_removed=True) == []


async def test_the_schema_and_the_token_are_checked(client: httpx.AsyncClient,
                                                    runtime: Runtime) -> None:
    school = make_school(runtime)
    assert (await client.get("/api/v1/volunteers")).status_code == 401
    assert (await client.get("/api/v1/tickets/stats")).status_code == 401
    bad = await client.post("/api/v1/volunteers", json={**SARA, "languages": []},
                            headers=school.headers)
    assert bad.status_code == 422
    assert (await client.delete("/api/v1/volunteers/0", headers=school.headers)
            ).status_code == 422


async def test_a_school_sees_the_statistics_of_its_own_tickets(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    school, other = make_school(runtime), make_school(runtime, "Atheneum")
    with runtime.db.session() as session, session.begin():
        for number, school_id in ((1001, school.id), (1002, school.id), (1003, other.id)):
            session.add(Ticket(pseudonym=number, language="ar", topic="question",
                               school_id=school_id, created_at=NOW, status="closed",
                               satisfaction=number - 998))
    figures = (await client.get("/api/v1/tickets/stats", headers=school.headers)).json()
    assert figures["total"] == 2
    assert figures["by_language"] == {"ar": 2}
    assert figures["satisfaction_average"] == 3.5
    assert figures["time_to_claim"] == {"count": 0, "median": None, "p90": None}


def test_the_commands(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner(env={"DATABASE_URL": database_url, "WEGWIJS_DATA_DIR": str(tmp_path)})

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    added = run("volunteer", "add", "Sara", "--languages", "ar,nl", "--interface", "nl",
                "--regions", "flanders")
    assert "volunteer 1: Sara" in added
    assert "/start v-" in added
    assert "1  Sara  languages=ar,nl  interface=nl  regions=flanders  schools=-  not linked" \
        in run("volunteer", "list")
    assert "link code: v-" in run("volunteer", "link-code", "1")
    refused = runner.invoke(cli, ["volunteer", "add", "X", "--languages", "xx"])
    assert refused.exit_code == 1
    assert "not a shipped language: xx" in refused.output
    assert runner.invoke(cli, ["volunteer", "add", "X", "--languages", "ar", "--schools",
                               "one"]).exit_code == 2
    assert "No tickets." in run("tickets", "list")
    assert "Tickets: 0" in run("tickets", "stats")
    assert json.loads(run("tickets", "stats", "--json"))["total"] == 0
    assert "volunteer 1 removed" in run("volunteer", "remove", "1")
    assert runner.invoke(cli, ["volunteer", "remove", "1"]).exit_code == 1
    assert "removed" in run("volunteer", "list", "--all")
    assert run("volunteer", "list").strip() == "No volunteers."
