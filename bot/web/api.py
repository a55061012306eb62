"""The schools' REST API under /api/v1 (docs/schools.md).

Each request carries a school's bearer token (bot/web/api_auth.py) and reaches only
that school's data: another school's ids answer 404 exactly like ids that do not
exist, and change nothing. Each request is one transaction: an error undoes all of it.
Phone numbers are never returned in full, only masked ("+32 4•• •• •• 56").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.datastructures import UploadFile

from bot.runtime import Runtime
from bot.schools import csv_import, meetings, members
from bot.schools.errors import Conflict, Invalid, NotFound
from bot.schools.meetings import KINDS, MeetingFields, ParentSlot
from bot.schools.phones import masked
from bot.schools.registry import school_of
from bot.storage.meetings import InvitationRow
from bot.storage.school_tables import Meeting
from bot.storage.schools import MemberRow
from bot.web.api_auth import CurrentSchool
from bot.web.transactions import in_transaction

T = TypeVar("T")
MAX_ID = 2_147_483_647  # ids are 32-bit integers in the database
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]

router = APIRouter(prefix="/api/v1", tags=["schools"])


# -- running a request --------------------------------------------------------------------


async def _run(request: Request, work: Callable[[Session, datetime], T]) -> T:
    """Run `work` in one transaction on the database thread; map the schools' errors to
    404, 422 and 409 (after the transaction was rolled back)."""
    try:
        return await in_transaction(request, work)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except Invalid as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            {"problems": exc.problems}) from exc
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


# -- models -------------------------------------------------------------------------------


class Out(BaseModel):
    """A response: built from our dataclasses and tables by attribute."""

    model_config = ConfigDict(from_attributes=True)


class SchoolOut(Out):
    id: int
    name: str
    region: str
    timezone: str
    language: str
    invite_code: str = Field(description="Parents send `/start CODE` (Telegram link "
                                         "t.me/<bot>?start=CODE) or `JOIN CODE` (WhatsApp).")
    reminder_offsets: list[int] = Field(description="Minutes before a meeting.")
    quiet_start: str
    quiet_end: str


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=members.MAX_GROUP_NAME)


class GroupOut(Out):
    id: int
    name: str
    members: int


class ParentOut(BaseModel):
    id: int = Field(description="The parent's id at this school (a membership).")
    channel: str
    phone: str | None = Field(description="Masked; null on Telegram.")
    language: str | None
    group_id: int | None
    group: str | None
    source: str = Field(description="code (joined themselves) or import")
    consented: bool = Field(description="May be invited.")
    joined_at: datetime

    @classmethod
    def of(cls, row: MemberRow) -> ParentOut:
        return cls(id=row.id, channel=row.channel, phone=masked(row.address),
                   language=row.language, group_id=row.group_id, group=row.group,
                   source=row.source, consented=row.consented, joined_at=row.joined_at)


class LineProblemOut(Out):
    line: int
    message: str


class ImportReportOut(Out):
    lines: int
    applied: bool
    new_parents: int
    updated_parents: int
    without_consent: int
    new_groups: list[str]
    problems: list[LineProblemOut]


class ChildIn(BaseModel):
    """A stage only: a name or any other field is refused."""

    model_config = ConfigDict(extra="forbid")

    stage: str = Field(max_length=40, description="One of GET /api/v1/stages.")


class ChildOut(Out):
    id: int
    stage: str


class StageOut(BaseModel):
    stage: str
    children: int


class MeetingIn(BaseModel):
    """Times without an offset are in the school's time zone."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description=f"One of: {', '.join(KINDS)}.")
    title: str | None = Field(default=None, max_length=meetings.MAX_TITLE)
    starts_at: datetime
    ends_at: datetime
    place: str | None = Field(default=None, max_length=meetings.MAX_PLACE)
    online_url: str | None = Field(default=None, max_length=meetings.MAX_URL)
    note: str | None = Field(default=None, max_length=meetings.MAX_NOTE,
                             description="In the school's language; machine-translated "
                                         "for parents, and marked as such.")
    followup: bool = True


class MeetingPatch(BaseModel):
    """Only the fields given change. Parents hear of changes to times, place, link and
    note."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    title: str | None = Field(default=None, max_length=meetings.MAX_TITLE)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str | None = Field(default=None, max_length=meetings.MAX_PLACE)
    online_url: str | None = Field(default=None, max_length=meetings.MAX_URL)
    note: str | None = Field(default=None, max_length=meetings.MAX_NOTE)
    followup: bool | None = None


class MeetingOut(Out):
    id: int
    kind: str
    title: str | None
    starts_at: datetime
    ends_at: datetime
    place: str | None
    online_url: str | None
    note: str | None
    status: str
    version: int
    followup: bool
    created_at: datetime
    updated_at: datetime


class ParentSlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt slot must not be dropped

    parent_id: BodyId
    slot_start: datetime | None = None
    slot_end: datetime | None = None


class InviteIn(BaseModel):
    """Whom to invite: named parents (each maybe with a slot), groups, or everyone."""

    model_config = ConfigDict(extra="forbid")

    parents: list[ParentSlotIn] = Field(default_factory=list, max_length=20_000)
    group_ids: list[BodyId] = Field(default_factory=list, max_length=1000)
    all_members: bool = False


class InviteOut(Out):
    invited: int
    slots_changed: int
    already_invited: int
    without_consent: list[int] = Field(description="Parents not invited: no consent.")


class InvitationOut(BaseModel):
    id: int
    parent_id: int | None
    channel: str
    phone: str | None
    language: str | None
    group: str | None
    slot_start: datetime | None
    slot_end: datetime | None
    rsvp: str | None = Field(description="coming, not_coming, other_time, interpreter, "
                                         "or null (no answer yet)")
    rsvp_at: datetime | None

    @classmethod
    def of(cls, row: InvitationRow) -> InvitationOut:
        return cls(id=row.id, parent_id=row.parent_id, channel=row.channel,
                   phone=masked(row.address), language=row.language, group=row.group,
                   slot_start=row.slot_start, slot_end=row.slot_end, rsvp=row.rsvp,
                   rsvp_at=row.rsvp_at)


class RsvpSummaryOut(BaseModel):
    invited: int
    no_answer: int
    coming: int
    not_coming: int
    other_time: int
    interpreter: int


def _meeting(meeting: Meeting) -> MeetingOut:
    return MeetingOut.model_validate(meeting)


# -- the school, groups, parents, children -------------------------------------------------


@router.get("/school")
async def get_school(request: Request, caller: CurrentSchool) -> SchoolOut:
    """The calling school, with its invite code."""
    return await _run(request, lambda s, _now: SchoolOut.model_validate(
        school_of(s, caller.school_id)))


@router.get("/groups")
async def list_groups(request: Request, caller: CurrentSchool) -> list[GroupOut]:
    """The school's groups (classes) with their member counts."""
    return await _run(request, lambda s, _now: [
        GroupOut.model_validate(g) for g in members.groups(s, caller.school_id)])


@router.post("/groups", status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "The school already has this group."}})
async def create_group(request: Request, caller: CurrentSchool, body: GroupIn) -> GroupOut:
    """Add a group."""
    return await _run(request, lambda s, _now: GroupOut.model_validate(
        members.create_group(s, caller.school_id, body.name)))


@router.get("/parents")
async def list_parents(request: Request, caller: CurrentSchool,
                       group_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                       ) -> list[ParentOut]:
    """The school's parents (phone numbers masked), or one group's."""
    return await _run(request, lambda s, _now: [
        ParentOut.of(row) for row in members.parents(s, caller.school_id, group_id)])


_CSV_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}}


async def _csv_bytes(request: Request) -> bytes:
    """The CSV file: the request body, or the `file` field of a form upload."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await request.body()
    async with request.form() as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                {"problems": ["send the CSV file in the field 'file'"]})
        return await upload.read(csv_import.MAX_BYTES + 1)


@router.post("/parents/import", openapi_extra=_CSV_BODY, responses={
    422: {"description": "Bad lines: nothing was stored. The body lists every problem."}})
async def import_parents(request: Request, caller: CurrentSchool, response: Response,
                         dry_run: bool = True) -> ImportReportOut:
    """Import parents from CSV (phone, language, group, consent; see docs/schools.md).
    By default a dry run: the report says what would happen, nothing is stored. With
    `dry_run=false` and no bad line, everything is stored at once; with any bad line,
    nothing is, and the answer is 422 with the line-by-line report."""
    runtime: Runtime = request.app.state.runtime
    data = await _csv_bytes(request)
    languages = list(runtime.library.languages)
    report = await _run(request, lambda s, now: csv_import.import_parents(
        s, caller.school_id, csv_import.decode(data), languages, now, apply=not dry_run))
    if not report.ok:
        response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    return ImportReportOut.model_validate(report)


@router.get("/stages")
async def list_stages(request: Request, caller: CurrentSchool) -> list[StageOut]:
    """The stages a child can be in (the school's region), with how many children are
    at each."""
    return await _run(request, lambda s, _now: [
        StageOut(stage=stage, children=count)
        for stage, count in members.stages(s, caller.school_id).items()])


@router.get("/parents/{parent_id}/children")
async def list_children(request: Request, caller: CurrentSchool,
                        parent_id: Id) -> list[ChildOut]:
    """A parent's children at this school (a stage each, never a name)."""
    return await _run(request, lambda s, _now: [
        ChildOut.model_validate(c) for c in members.children(s, caller.school_id, parent_id)])


@router.post("/parents/{parent_id}/children", status_code=status.HTTP_201_CREATED)
async def add_child(request: Request, caller: CurrentSchool, parent_id: Id,
                    body: ChildIn) -> ChildOut:
    """Record a child of a parent, by stage only."""
    return await _run(request, lambda s, now: ChildOut.model_validate(
        members.add_child(s, caller.school_id, parent_id, body.stage, now)))


@router.delete("/parents/{parent_id}/children/{child_id}",
               status_code=status.HTTP_204_NO_CONTENT)
async def remove_child(request: Request, caller: CurrentSchool, parent_id: Id,
                       child_id: Id) -> None:
    """Forget one of a parent's children."""
    await _run(request, lambda s, _now: members.remove_child(s, caller.school_id, parent_id,
                                                             child_id))


# -- meetings ------------------------------------------------------------------------------


@router.get("/meetings")
async def list_meetings(request: Request, caller: CurrentSchool, upcoming: bool = False,
                        include_cancelled: bool = True) -> list[MeetingOut]:
    """The school's meetings by start time; `upcoming` keeps those not yet over."""
    return await _run(request, lambda s, now: [_meeting(m) for m in meetings.meetings(
        s, caller.school_id, since=now if upcoming else None,
        include_cancelled=include_cancelled)])


@router.post("/meetings", status_code=status.HTTP_201_CREATED)
async def create_meeting(request: Request, caller: CurrentSchool, body: MeetingIn) -> MeetingOut:
    """Register a meeting. Invite parents with POST /meetings/{id}/invitations."""
    fields = MeetingFields(**body.model_dump())
    return await _run(request, lambda s, now: _meeting(
        meetings.create_meeting(s, caller.school_id, fields, now)))


@router.get("/meetings/{meeting_id}")
async def get_meeting(request: Request, caller: CurrentSchool, meeting_id: Id) -> MeetingOut:
    """One meeting."""
    return await _run(request, lambda s, _now: _meeting(
        meetings.meeting_of(s, caller.school_id, meeting_id)))


@router.patch("/meetings/{meeting_id}", responses={409: {"description": "Cancelled."}})
async def update_meeting(request: Request, caller: CurrentSchool, meeting_id: Id,
                         body: MeetingPatch) -> MeetingOut:
    """Change a meeting; everyone invited hears of a new time, place, link or note."""
    changes = body.model_dump(exclude_unset=True)
    if not_null := sorted(name for name in ("kind", "starts_at", "ends_at", "followup")
                          if name in changes and changes[name] is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            {"problems": [f"{name} cannot be null" for name in not_null]})
    return await _run(request, lambda s, now: _meeting(
        meetings.update_meeting(s, caller.school_id, meeting_id, changes, now)))


@router.post("/meetings/{meeting_id}/cancel")
async def cancel_meeting(request: Request, caller: CurrentSchool, meeting_id: Id) -> MeetingOut:
    """Cancel a meeting; everyone invited is told. Cancelling again changes nothing."""
    return await _run(request, lambda s, now: _meeting(
        meetings.cancel_meeting(s, caller.school_id, meeting_id, now)))


@router.post("/meetings/{meeting_id}/invitations", responses={
    409: {"description": "The meeting was cancelled or has started."}})
async def invite(request: Request, caller: CurrentSchool, meeting_id: Id,
                 body: InviteIn) -> InviteOut:
    """Invite parents; their reminders are planned at once. Parents without consent
    are listed, not invited."""
    parents = [ParentSlot(p.parent_id, p.slot_start, p.slot_end) for p in body.parents]
    return await _run(request, lambda s, now: InviteOut.model_validate(meetings.invite(
        s, caller.school_id, meeting_id, parents=parents, group_ids=body.group_ids,
        all_members=body.all_members, now=now)))


@router.get("/meetings/{meeting_id}/invitations")
async def list_invitations(request: Request, caller: CurrentSchool,
                           meeting_id: Id) -> list[InvitationOut]:
    """Who is invited, with each parent's answer (RSVP)."""
    return await _run(request, lambda s, _now: [
        InvitationOut.of(row) for row in meetings.invitations(s, caller.school_id, meeting_id)])


@router.get("/meetings/{meeting_id}/rsvps")
async def rsvp_summary(request: Request, caller: CurrentSchool,
                       meeting_id: Id) -> RsvpSummaryOut:
    """How many parents answered what."""
    return await _run(request, lambda s, _now: RsvpSummaryOut(
        **meetings.rsvp_summary(s, caller.school_id, meeting_id)))
