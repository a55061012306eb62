"""`GET /calendar/{token}.ics`: an invited parent's calendar file, linked from every
reminder. The token is random and unguessable; an unknown one is a plain 404. The file
names the school and the meeting, nothing about the parent."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request, Response

from bot.reminders.calendar import MEDIA_TYPE, calendar_file
from bot.runtime import Runtime
from bot.storage.reminders import CalendarEntry, calendar_entry

router = APIRouter(tags=["calendar"])
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


@router.get("/calendar/{token}.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}, 404: {}})
async def calendar(token: str, request: Request) -> Response:
    """The meeting as a calendar file (.ics) for the invitation with this token."""
    if not _TOKEN.match(token):
        raise HTTPException(status_code=404, detail="not found")
    runtime: Runtime = request.app.state.runtime

    def find() -> CalendarEntry | None:
        with runtime.db.session() as session:
            return calendar_entry(session, token)

    entry = await runtime.db.run(find)
    if entry is None:
        raise HTTPException(status_code=404, detail="not found")
    return Response(calendar_file(runtime.library, entry), media_type=MEDIA_TYPE, headers={
        "Content-Disposition": 'attachment; filename="meeting.ics"',
        "Cache-Control": "private, no-store"})
