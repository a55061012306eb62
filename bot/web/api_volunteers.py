"""The schools' API for volunteers and ticket statistics, under /api/v1 (docs/volunteers.md).

A school registers volunteers who then serve that school, lists and removes them, and
makes new link codes; it sees the statistics of its own parents' tickets. Another
school's volunteer answers 404 like one that does not exist. A school removing a
volunteer who also serves other schools only takes them off its own list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from bot.storage import tickets, volunteers
from bot.storage.ticket_tables import Volunteer
from bot.tickets import stats
from bot.tickets.staff import (
    MAX_NAME,
    NewVolunteer,
    VolunteerError,
    VolunteerNotFound,
    new_code,
    register,
    remove,
)
from bot.web.api_auth import CurrentSchool
from bot.web.transactions import in_transaction

T = TypeVar("T")
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
Code = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]

router = APIRouter(prefix="/api/v1", tags=["volunteers"])


async def _run(request: Request, work: Callable[[Session, datetime], T]) -> T:
    """Run `work` in one transaction; an unknown volunteer is a 404, a refused request a
    422, and neither changes anything."""
    try:
        return await in_transaction(request, work)
    except VolunteerNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such volunteer") from exc
    except VolunteerError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            {"problems": str(exc).split("; ")}) from exc


class VolunteerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=MAX_NAME,
                              description="For staff only: parents never see it.")
    languages: list[Code] = Field(min_length=1, max_length=14,
                                  description="Languages the volunteer speaks.")
    interface_language: Code = Field(default="en",
                                     description="The language the bot writes to them in.")
    regions: list[str] = Field(default_factory=list, max_length=10,
                               description="Regions they serve besides this school.")


class VolunteerOut(BaseModel):
    id: int
    display_name: str
    languages: list[str]
    interface_language: str
    regions: list[str]
    linked: bool = Field(description="Their Telegram is linked.")

    @classmethod
    def of(cls, volunteer: Volunteer) -> VolunteerOut:
        assert volunteer.id is not None
        return cls(id=volunteer.id, display_name=volunteer.display_name,
                   languages=volunteer.languages, regions=volunteer.regions,
                   interface_language=volunteer.interface_language,
                   linked=volunteer.contact_id is not None)


class LinkCodeOut(BaseModel):
    code: str = Field(description="One-time, valid 7 days: the volunteer sends "
                                  "`/start CODE` to the bot in Telegram.")


class RegisteredOut(VolunteerOut):
    code: str = Field(description="The first link code (shown once).")


@router.post("/volunteers", status_code=status.HTTP_201_CREATED)
async def register_volunteer(body: VolunteerIn, caller: CurrentSchool,
                             request: Request) -> RegisteredOut:
    """Register a volunteer for this school; the answer carries their link code."""
    library = request.app.state.runtime.library
    new = NewVolunteer(body.display_name, body.languages, body.interface_language,
                       body.regions, [caller.school_id])

    def work(session: Session, now: datetime) -> RegisteredOut:
        volunteer, code = register(session, library, new, now)
        return RegisteredOut(**VolunteerOut.of(volunteer).model_dump(), code=code)

    return await _run(request, work)


@router.get("/volunteers")
async def list_volunteers(caller: CurrentSchool, request: Request) -> list[VolunteerOut]:
    """The school's volunteers (not removed)."""
    return await _run(request, lambda session, _now: [
        VolunteerOut.of(v) for v in volunteers.list_volunteers(session,
                                                                school_id=caller.school_id)])


@router.delete("/volunteers/{volunteer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_volunteer(volunteer_id: Id, caller: CurrentSchool,
                           request: Request) -> Response:
    """Remove a volunteer from this school; their access to its parents ends at once."""
    if not await _run(request, lambda session, now: remove(session, volunteer_id, now,
                                                           school_id=caller.school_id)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such volunteer")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/volunteers/{volunteer_id}/link-code", status_code=status.HTTP_201_CREATED)
async def link_code(volunteer_id: Id, caller: CurrentSchool, request: Request) -> LinkCodeOut:
    """A new one-time link code; earlier ones stop working."""
    def work(session: Session, now: datetime) -> LinkCodeOut:
        return LinkCodeOut(code=new_code(session, volunteer_id, now,
                                         school_id=caller.school_id))

    return await _run(request, work)


@router.get("/tickets/stats")
async def ticket_stats(caller: CurrentSchool, request: Request) -> dict[str, Any]:
    """How well this school's parents' questions are answered: times to claim and to the
    first answer (minutes, median and 90th percentile), satisfaction, tickets per
    language. Counts and times only."""
    return await _run(request, lambda session, _now: stats.compute(
        tickets.all_tickets(session, school_id=caller.school_id)).to_json())
