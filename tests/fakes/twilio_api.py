"""A fake Twilio Messages API for the real twilio client, plus signing like Twilio's.

`POST /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth, as api.twilio.com;
every call is recorded, accepted messages are kept, and errors can be injected:
HTTP 429, 5xx, any Twilio error code (21610 unsubscribed, 63016 outside the window...).
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator


@dataclass
class Call:
    """One request: its form fields, time, and the HTTP status given."""

    params: dict[str, str]
    at: float
    status: int = 201


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
        self.app = Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json",
                                           self._create, methods=["POST"])])

    def fail(self, status: int, code: int, *, times: int = 1) -> None:
        """Make the next `times` sends fail with this HTTP status and Twilio code."""
        self.failures.extend([Failure(status, code)] * times)

    def to(self, address: str) -> list[dict[str, str]]:
        """Messages accepted for one address, in order."""
        return [message for message in self.messages if message["To"] == address]

    def sign(self, url: str, params: dict[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send for a webhook to `url`."""
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    async def _create(self, request: Request) -> JSONResponse:
        form = await request.form()
        params = {key: value for key, value in form.items() if isinstance(value, str)}
        call = Call(params, time.monotonic())
        self.calls.append(call)
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.path_params["sid"] != self.account_sid or \
                request.headers.get("authorization") != f"Basic {expected}":
            return self._error(call, Failure(401, 20003))
        if self.failures:
            return self._error(call, self.failures.pop(0))
        if params.get("To") in self.unsubscribed:
            return self._error(call, Failure(400, 21610))
        sid = "SM" + uuid.uuid4().hex
        message = {**params, "sid": sid}
        self.messages.append(message)
        body: dict[str, Any] = {"sid": sid, "status": "queued", "to": params.get("To"),
                                "from": params.get("From"), "body": params.get("Body"),
                                "account_sid": self.account_sid}
        return JSONResponse(body, status_code=201)

    def _error(self, call: Call, failure: Failure) -> JSONResponse:
        call.status = failure.status
        return JSONResponse({"code": failure.code, "message": f"error {failure.code}",
                             "more_info": f"https://www.twilio.com/docs/errors/{failure.code}",
                             "status": failure.status}, status_code=failure.status)
