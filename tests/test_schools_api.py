"""The schools' REST API through real HTTP handling (ASGI), on SQLite and PostgreSQL:
tokens, parents, meetings, invitations, answers, and one school never reaching
another's data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select as core_select
from sqlmodel import SQLModel, col, select

from bot.engine import Library
from bot.runtime import Runtime
from bot.schools.stages import STAGES
from bot.storage.school_tables import Invitation, Reminder
from bot.storage.school_tokens import revoke_token

from .schools_support import NOW, SchoolAccess, client, make_school, runtime

__all__ = ["client", "runtime"]  # fixtures

PARENTS_CSV = """phone,language,group,consent
+32 470 12 34 56,ar,5A,yes
0470 22 33 44,tr,5B,yes
0470 55 66 77,uk,5A,yes
0470 88 99 00,nl,,no
"""
MEETING = {"kind": "oudercontact", "title": "Oudercontact 5de jaar",
           "starts_at": "2026-12-03T18:00:00", "ends_at": "2026-12-03T20:00:00",
           "place": "Klas 5A", "note": "Breng het rapport mee."}


async def _import(http: httpx.AsyncClient, school: SchoolAccess, text: str = PARENTS_CSV,
                  **params: Any) -> httpx.Response:
    return await http.post("/api/v1/parents/import", content=text.encode(),
                           headers={**school.headers, "content-type": "text/csv"},
                           params={"dry_run": "false", **params})


async def _meeting(http: httpx.AsyncClient, school: SchoolAccess, **changes: Any) -> dict:
    response = await http.post("/api/v1/meetings", json={**MEETING, **changes},
                               headers=school.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _reminders(runtime: Runtime, meeting_id: int) -> list[Reminder]:
    with runtime.db.session() as session:
        return list(session.exec(select(Reminder).join(
            Invitation, col(Invitation.id) == col(Reminder.invitation_id)).where(
            Invitation.meeting_id == meeting_id)))


# -- tokens and the OpenAPI document ---------------------------------------------------------


async def test_a_missing_unknown_or_revoked_token_gets_401(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    school = make_school(runtime)
    for headers in ({}, {"Authorization": "Bearer nonsense"},
                    {"Authorization": f"Basic {school.token}"}):
        response = await client.get("/api/v1/school", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/v1/school", headers=school.headers)).status_code == 200
    with runtime.db.session() as session, session.begin():
        assert revoke_token(session, school.id, 1, NOW)
    assert (await client.get("/api/v1/school", headers=school.headers)).status_code == 401


async def test_the_openapi_document_shows_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["SchoolToken"] == {
        "type": "http", "scheme": "bearer",
        "description": "A school's API token (`wegwijs school token`)."}
    assert document["paths"]["/api/v1/meetings"]["post"]["security"] == [{"SchoolToken": []}]
    assert "text/csv" in document["paths"]["/api/v1/parents/import"]["post"][
        "requestBody"]["content"]
    assert (await client.get("/docs")).status_code == 200


# -- the school, groups, parents, children ---------------------------------------------------


async def test_the_school_its_groups_and_parents(client: httpx.AsyncClient,
                                                 runtime: Runtime) -> None:
    school = make_school(runtime)
    me = (await client.get("/api/v1/school", headers=school.headers)).json()
    assert me["invite_code"] == school.invite_code
    assert (me["region"], me["timezone"], me["language"]) == (
        "flanders", "Europe/Brussels", "nl")
    assert me["reminder_offsets"] == [10080, 1440, 120]

    created = await client.post("/api/v1/groups", json={"name": "6A"}, headers=school.headers)
    assert created.status_code == 201
    again = await client.post("/api/v1/groups", json={"name": "6A"}, headers=school.headers)
    assert again.status_code == 409
    empty = await client.post("/api/v1/groups", json={"name": ""}, headers=school.headers)
    assert empty.status_code == 422

    assert (await _import(client, school)).status_code == 200
    groups = (await client.get("/api/v1/groups", headers=school.headers)).json()
    assert [(g["name"], g["members"]) for g in groups] == [("5A", 2), ("5B", 1), ("6A", 0)]
    parents = (await client.get("/api/v1/parents", headers=school.headers)).json()
    assert [p["phone"] for p in parents] == [
        "+32 4•• •• •• 56", "+32 4•• •• •• 44", "+32 4•• •• •• 77"]
    assert "470" not in str(parents)  # never the whole number
    five_a = groups[0]["id"]
    only = (await client.get("/api/v1/parents", params={"group_id": five_a},
                             headers=school.headers)).json()
    assert [p["language"] for p in only] == ["ar", "uk"]


async def test_an_import_is_a_dry_run_unless_asked(client: httpx.AsyncClient,
                                                   runtime: Runtime) -> None:
    school = make_school(runtime)
    dry = await client.post("/api/v1/parents/import", content=PARENTS_CSV.encode(),
                            headers={**school.headers, "content-type": "text/csv"})
    assert dry.status_code == 200
    assert dry.json()["applied"] is False
    assert dry.json()["new_parents"] == 3
    assert (await client.get("/api/v1/parents", headers=school.headers)).json() == []
    upload = await client.post("/api/v1/parents/import", params={"dry_run": "false"},
                               files={"file": ("parents.csv", PARENTS_CSV.encode(), "text/csv")},
                               headers=school.headers)
    assert upload.json()["applied"] is True
    assert len((await client.get("/api/v1/parents", headers=school.headers)).json()) == 3


async def test_a_bad_import_is_422_with_the_line_report(client: httpx.AsyncClient,
                                                        runtime: Runtime) -> None:
    school = make_school(runtime)
    response = await _import(client, school, PARENTS_CSV + "12,xx,,yes\n")
    assert response.status_code == 422
    body = response.json()
    assert body["applied"] is False
    assert {p["line"] for p in body["problems"]} == {6}
    assert (await client.get("/api/v1/parents", headers=school.headers)).json() == []
    empty = await _import(client, school, "")
    assert empty.status_code == 422
    not_utf8 = await client.post("/api/v1/parents/import", content="é".encode("latin-1"),
                                 headers={**school.headers, "content-type": "text/csv"})
    assert not_utf8.status_code == 422
    assert not_utf8.json()["detail"] == {"problems": ["the file must be saved as UTF-8 text"]}


async def test_children_are_kept_by_stage_only(client: httpx.AsyncClient,
                                               runtime: Runtime) -> None:
    school = make_school(runtime)
    await _import(client, school)
    parent = (await client.get("/api/v1/parents", headers=school.headers)).json()[0]["id"]
    path = f"/api/v1/parents/{parent}/children"
    for stage in ("grade_1", "primary_6"):
        added = await client.post(path, json={"stage": stage}, headers=school.headers)
        assert added.status_code == 201
    wrong = await client.post(path, json={"stage": "grade_9"}, headers=school.headers)
    assert wrong.status_code == 422  # a Finnish stage, not a Flemish one
    named = await client.post(path, json={"stage": "grade_1", "name": "Ali"},
                              headers=school.headers)
    assert named.status_code == 422  # no names, on purpose
    children = (await client.get(path, headers=school.headers)).json()
    assert [c["stage"] for c in children] == ["grade_1", "primary_6"]
    stages = (await client.get("/api/v1/stages", headers=school.headers)).json()
    assert {s["stage"]: s["children"] for s in stages} == {
        "primary": 0, "primary_6": 1, "grade_1": 1, "grade_2_3": 0}
    gone = await client.delete(f"{path}/{children[0]['id']}", headers=school.headers)
    assert gone.status_code == 204
    assert (await client.delete(f"{path}/{children[0]['id']}",
                                headers=school.headers)).status_code == 404


# -- meetings --------------------------------------------------------------------------------


async def test_a_meeting_from_creation_to_answers(client: httpx.AsyncClient,
                                                  runtime: Runtime) -> None:
    school = make_school(runtime)
    await _import(client, school)
    meeting = await _meeting(client, school)
    # Times without an offset are the school's: 18:00 in Brussels is 17:00 UTC.
    assert meeting["starts_at"] == "2026-12-03T17:00:00Z"
    assert (meeting["status"], meeting["version"]) == ("scheduled", 1)
    path = f"/api/v1/meetings/{meeting['id']}"
    parents = (await client.get("/api/v1/parents", headers=school.headers)).json()
    first = parents[0]["id"]
    invited = await client.post(f"{path}/invitations", headers=school.headers, json={
        "all_members": True, "parents": [{"parent_id": first,
                                          "slot_start": "2026-12-03T18:00:00+01:00",
                                          "slot_end": "2026-12-03T18:15:00+01:00"}]})
    assert invited.status_code == 200, invited.text
    assert invited.json() == {"invited": 3, "slots_changed": 0, "already_invited": 0,
                              "without_consent": []}
    planned = _reminders(runtime, meeting["id"])
    assert {r.kind for r in planned} >= {"reminder"}
    listing = (await client.get(f"{path}/invitations", headers=school.headers)).json()
    assert [i["parent_id"] for i in listing] == [p["id"] for p in parents]
    assert listing[0]["slot_start"] == "2026-12-03T17:00:00Z"
    assert listing[0]["phone"] == "+32 4•• •• •• 56"
    assert {i["rsvp"] for i in listing} == {None}
    summary = (await client.get(f"{path}/rsvps", headers=school.headers)).json()
    assert summary == {"invited": 3, "no_answer": 3, "coming": 0, "not_coming": 0,
                       "other_time": 0, "interpreter": 0}

    # Inviting again changes nothing; a new slot is a change the parent hears of.
    again = await client.post(f"{path}/invitations", headers=school.headers,
                              json={"all_members": True})
    assert again.json()["already_invited"] == 3
    moved = await client.post(f"{path}/invitations", headers=school.headers, json={
        "parents": [{"parent_id": first, "slot_start": "2026-12-03T18:15:00",
                     "slot_end": "2026-12-03T18:30:00"}]})
    assert moved.json()["slots_changed"] == 1
    misspelt = await client.post(f"{path}/invitations", headers=school.headers, json={
        "parents": [{"parent_id": first, "slot_begin": "2026-12-03T18:15:00"}]})
    assert misspelt.status_code == 422  # not an invitation without its slot
    assert (await client.get(path, headers=school.headers)).json()["version"] == 2

    # The meeting moves a day: the slots move with it and everyone is told.
    changed = await client.patch(path, headers=school.headers, json={
        "starts_at": "2026-12-04T18:00:00", "ends_at": "2026-12-04T20:00:00"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 3
    listing = (await client.get(f"{path}/invitations", headers=school.headers)).json()
    assert listing[0]["slot_start"] == "2026-12-04T17:15:00Z"
    assert any(r.kind == "changed" and r.meeting_version == 3
               for r in _reminders(runtime, meeting["id"]))
    # A new title is not a change parents must hear of.
    titled = await client.patch(path, headers=school.headers, json={"title": "Rapport"})
    assert titled.json()["version"] == 3

    cancelled = await client.post(f"{path}/cancel", headers=school.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert any(r.kind == "cancelled" for r in _reminders(runtime, meeting["id"]))
    assert (await client.post(f"{path}/cancel", headers=school.headers)).status_code == 200
    late = await client.patch(path, headers=school.headers, json={"place": "Aula"})
    assert late.status_code == 409
    no_more = await client.post(f"{path}/invitations", headers=school.headers,
                                json={"all_members": True})
    assert no_more.status_code == 409
    listed = (await client.get("/api/v1/meetings", headers=school.headers,
                               params={"include_cancelled": "false"})).json()
    assert listed == []


async def test_parents_without_consent_are_not_invited(client: httpx.AsyncClient,
                                                       runtime: Runtime) -> None:
    school = make_school(runtime)
    await _import(client, school)
    parents = (await client.get("/api/v1/parents", headers=school.headers)).json()
    await _import(client, school, "phone,language,group,consent\n+32470123456,ar,5A,no\n")
    meeting = await _meeting(client, school)
    invited = await client.post(f"/api/v1/meetings/{meeting['id']}/invitations",
                                headers=school.headers, json={"all_members": True})
    assert invited.json()["invited"] == 2
    assert invited.json()["without_consent"] == [parents[0]["id"]]


@pytest.mark.parametrize(("changes", "problem"), [
    ({"ends_at": "2026-12-03T17:00:00"}, "the end must be after the start"),
    ({"kind": "party"}, "unknown kind 'party'"),
    ({"place": None}, "give a place, an online link, or both"),
    ({"place": None, "online_url": "javascript:alert(1)"}, "the online link must be"),
    ({"starts_at": "2026-11-20T18:00:00", "ends_at": "2026-11-20T19:00:00"},
     "the meeting must start in the future"),
    ({"ends_at": "2026-12-05T20:00:00"}, "a meeting can last at most 24 hours"),
])
async def test_a_bad_meeting_is_422_and_stores_nothing(
        client: httpx.AsyncClient, runtime: Runtime, changes: dict, problem: str) -> None:
    school = make_school(runtime)
    response = await client.post("/api/v1/meetings", json={**MEETING, **changes},
                                 headers=school.headers)
    assert response.status_code == 422
    assert any(p.startswith(problem) for p in response.json()["detail"]["problems"])
    assert (await client.get("/api/v1/meetings", headers=school.headers)).json() == []


async def test_bad_slots_and_updates_are_refused(client: httpx.AsyncClient,
                                                 runtime: Runtime) -> None:
    school = make_school(runtime)
    await _import(client, school)
    meeting = await _meeting(client, school)
    path = f"/api/v1/meetings/{meeting['id']}"
    parent = (await client.get("/api/v1/parents", headers=school.headers)).json()[0]["id"]
    outside = await client.post(f"{path}/invitations", headers=school.headers, json={
        "parents": [{"parent_id": parent, "slot_start": "2026-12-03T21:00:00",
                     "slot_end": "2026-12-03T21:15:00"}]})
    assert outside.status_code == 422
    half = await client.post(f"{path}/invitations", headers=school.headers, json={
        "parents": [{"parent_id": parent, "slot_start": "2026-12-03T18:00:00"}]})
    assert half.status_code == 422
    nobody = await client.post(f"{path}/invitations", headers=school.headers, json={})
    assert nobody.status_code == 422
    assert _reminders(runtime, meeting["id"]) == []
    await client.post(f"{path}/invitations", headers=school.headers, json={
        "parents": [{"parent_id": parent, "slot_start": "2026-12-03T19:45:00",
                     "slot_end": "2026-12-03T20:00:00"}]})
    # Shortening the evening would leave the slot outside it.
    shorter = await client.patch(path, headers=school.headers,
                                 json={"ends_at": "2026-12-03T19:00:00"})
    assert shorter.status_code == 422
    nulled = await client.patch(path, headers=school.headers, json={"starts_at": None})
    assert nulled.status_code == 422
    extra = await client.patch(path, headers=school.headers, json={"colour": "red"})
    assert extra.status_code == 422
    assert (await client.get(path, headers=school.headers)).json()["version"] == 1


# -- isolation -------------------------------------------------------------------------------


ISOLATION_TABLES = ("schools", "school_tokens", "school_groups", "memberships", "children",
                    "meetings", "invitations", "reminders", "contacts", "outbox")


def _snapshot(runtime: Runtime) -> dict[str, list[tuple]]:
    with runtime.db.session() as session:
        return {name: [tuple(row) for row in session.execute(
            core_select(SQLModel.metadata.tables[name]).order_by(
                SQLModel.metadata.tables[name].c.id))]
                for name in ISOLATION_TABLES}


async def _school_with_data(http: httpx.AsyncClient, runtime: Runtime,
                            name: str) -> dict[str, Any]:
    school = make_school(runtime, name)
    csv = PARENTS_CSV if name == "A" else PARENTS_CSV.replace("470", "471")
    await _import(http, school, csv)
    meeting = await _meeting(http, school)
    await http.post(f"/api/v1/meetings/{meeting['id']}/invitations", headers=school.headers,
                    json={"all_members": True})
    parents = (await http.get("/api/v1/parents", headers=school.headers)).json()
    groups = (await http.get("/api/v1/groups", headers=school.headers)).json()
    child = (await http.post(f"/api/v1/parents/{parents[0]['id']}/children",
                             json={"stage": "grade_1"}, headers=school.headers)).json()
    invitations = (await http.get(f"/api/v1/meetings/{meeting['id']}/invitations",
                                  headers=school.headers)).json()
    return {"school": school, "meeting": meeting["id"], "parents": [p["id"] for p in parents],
            "groups": [g["id"] for g in groups], "child": child["id"],
            "invitations": [i["id"] for i in invitations]}


def _requests(a: dict[str, Any], target: int, kind: str) -> list[tuple[str, str, Any]]:
    """Requests school A makes with one of school B's ids (or an unknown id)."""
    own_meeting, own_parent = a["meeting"], a["parents"][0]
    if kind == "meeting":
        path = f"/api/v1/meetings/{target}"
        return [("GET", path, None), ("PATCH", path, {"place": "Elders"}),
                ("POST", f"{path}/cancel", None), ("GET", f"{path}/invitations", None),
                ("GET", f"{path}/rsvps", None),
                ("POST", f"{path}/invitations", {"all_members": True})]
    if kind == "parent":
        path = f"/api/v1/parents/{target}/children"
        return [("GET", path, None), ("POST", path, {"stage": "grade_1"}),
                ("DELETE", f"{path}/1", None),
                ("POST", f"/api/v1/meetings/{own_meeting}/invitations",
                 {"parents": [{"parent_id": target}]})]
    if kind == "group":
        return [("GET", f"/api/v1/parents?group_id={target}", None),
                ("POST", f"/api/v1/meetings/{own_meeting}/invitations", {"group_ids": [target]})]
    # A child of B's, reached through one of A's own parents.
    return [("DELETE", f"/api/v1/parents/{own_parent}/children/{target}", None)]


@pytest.fixture
async def two_schools(client: httpx.AsyncClient,
                      runtime: Runtime) -> tuple[dict[str, Any], dict[str, Any]]:
    return (await _school_with_data(client, runtime, "A"),
            await _school_with_data(client, runtime, "B"))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_another_schools_ids_look_like_ids_that_do_not_exist(
        client: httpx.AsyncClient, runtime: Runtime,
        two_schools: tuple[dict[str, Any], dict[str, Any]], data: st.DataObject) -> None:
    a, b = two_schools
    kind = data.draw(st.sampled_from(["meeting", "parent", "group", "child"]))
    theirs = {"meeting": [b["meeting"]], "parent": b["parents"], "group": b["groups"],
              "child": [b["child"]]}[kind]
    target = data.draw(st.sampled_from(theirs))
    unknown = data.draw(st.integers(min_value=10_000, max_value=2_000_000_000))
    before = _snapshot(runtime)
    for (method, path, body), (_m, unknown_path, unknown_body) in zip(
            _requests(a, target, kind), _requests(a, unknown, kind), strict=True):
        response = await client.request(method, path, json=body, headers=a["school"].headers)
        missing = await client.request(method, unknown_path, json=unknown_body,
                                       headers=a["school"].headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == missing.json()
    assert _snapshot(runtime) == before


def test_the_stages_are_those_the_onboarding_asks_about(library: Library) -> None:
    onboarding = library.flows["onboarding"]
    for region, stages in STAGES.items():
        asked = onboarding.node(f"stage_{region}")
        assert tuple(option.id for option in asked.options) == stages
