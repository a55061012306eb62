"""A fake Twilio Messages API for the real twilio client, plus signing like Twilio's.

`POST /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth, as api.twilio.com;
every call is recorded, accepted messages are kept, and errors can be injected:
HTTP 429, 5xx, any Twilio error code (21610 unsubscribed, 63016 outside the window...).
Sends can be held once some were accepted: accepted with the answer held back (to kill
a sender between "Twilio took it" and "marked sent"), or not accepted at all.
`GET` on the same path lists the accepted messages, newest first, filtered by `To` and
`From`.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from .holding import Hold


@dataclass
class Call:
    """One request: its form fields (query parameters for a list), time, the HTTP status
    given, and the method (POST sends, GET lists)."""

    params: dict[str, str]
    at: float
    status: int = 201
    method: str = "POST"


@dataclass
class Failure:
    """An error to give instead of a created message."""

    status: int
    code: int


@dataclass
class FakeTwilio:
    """The fake's state; `app` is the ASGI app to serve."""

    account_sid: str
    auth_token: str
    url: str = ""  # set once served
    calls: list[Call] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    unsubscribed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self._create, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self._list, methods=["GET"])])
        self.hold = Hold()
        self._created: dict[str, datetime] = {}

    @property
    def holding(self) -> int:
        """How many sends are held now."""
        return self.hold.waiting

    def hold_after(self, accepted: int, *, accept: bool = False) -> None:
        """Hold sends once `accepted` messages were accepted: unaccepted (the default),
        or with `accept`, accepted (in `messages`, and listed) with the answer held back."""
        self.hold.start(accepted, accept=accept)

    def release(self) -> None:
        """Let held sends go on (unaccepted ones whose client is gone are dropped)."""
        self.hold.release()

    def fail(self, status: int, code: int, *, times: int = 1) -> None:
        """Make the next `times` requests (sends or lists) fail with this HTTP status and
        Twilio code."""
        self.failures.extend([Failure(status, code)] * times)

    def to(self, address: str) -> list[dict[str, str]]:
        """Messages accepted for one address, in order."""
        return [message for message in self.messages if message["To"] == address]

    def sign(self, url: str, params: dict[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send for a webhook to `url`."""
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    def listed(self) -> list[Call]:
        """Calls of the Messages list (lookups)."""
        return [call for call in self.calls if call.method == "GET"]

    async def _create(self, request: Request) -> JSONResponse:
        form = await request.form()
        params = {key: value for key, value in form.items() if isinstance(value, str)}
        call = Call(params, time.monotonic())
        self.calls.append(call)
        if not self._authorized(request):
            return self._error(call, Failure(401, 20003))
        if self.failures:
            return self._error(call, self.failures.pop(0))
        if params.get("To") in self.unsubscribed:
            return self._error(call, Failure(400, 21610))
        message = await self.hold.send(request, len(self.messages),
                                       lambda: self._accept(params))
        if message is None:
            call.status = 499  # the sender died: never accepted
            return JSONResponse({}, status_code=499)
        return JSONResponse(self._resource(message), status_code=201)

    async def _list(self, request: Request) -> JSONResponse:
        query = dict(request.query_params)
        call = Call(query, time.monotonic(), status=200, method="GET")
        self.calls.append(call)
        if not self._authorized(request):
            return self._error(call, Failure(401, 20003))
        if self.failures:
            return self._error(call, self.failures.pop(0))
        found = [message for message in reversed(self.messages)
                 if all(message.get(key) == query[key] for key in ("To", "From") if key in query)]
        size = int(query.get("PageSize", 50))
        return JSONResponse({"messages": [self._resource(m) for m in found[:size]],
                             "page": 0, "page_size": size, "start": 0,
                             "end": max(0, min(size, len(found)) - 1),
                             "uri": request.url.path, "first_page_uri": request.url.path,
                             "previous_page_uri": None, "next_page_uri": None})

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.path_params["sid"] == self.account_sid and \
            request.headers.get("authorization") == f"Basic {expected}"

    def _accept(self, params: dict[str, str]) -> dict[str, str]:
        sid = "SM" + uuid.uuid4().hex
        message = {**params, "sid": sid}
        self.messages.append(message)
        self._created[sid] = datetime.now(UTC)
        return message

    def _resource(self, message: dict[str, str]) -> dict[str, Any]:
        """A message as Twilio shows it; a template's body is its variables filled in."""
        body = message.get("Body")
        if body is None and "ContentVariables" in message:
            body = "\n".join(json.loads(message["ContentVariables"]).values())
        created = format_datetime(self._created[message["sid"]], usegmt=True)
        return {"sid": message["sid"], "status": "queued", "to": message.get("To"),
                "from": message.get("From"), "body": body, "account_sid": self.account_sid,
                "direction": "outbound-api", "date_created": created, "date_sent": created}

    def _error(self, call: Call, failure: Failure) -> JSONResponse:
        call.status = failure.status
        return JSONResponse({"code": failure.code, "message": f"error {failure.code}",
                             "more_info": f"https://www.twilio.com/docs/errors/{failure.code}",
                             "status": failure.status}, status_code=failure.status)
