"""A fake Telegram Bot API server for the real python-telegram-bot client.

It answers `/bot<token>/<method>` like api.telegram.org, records every call, keeps the
messages it accepted, queues updates for getUpdates (long polling), and can be told
to fail: 429 with retry_after, 5xx, 403 "blocked" for a chat, or to hold sendMessage
requests until released (to kill a sender while a send is in flight), before or after
accepting their message.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .holding import Hold

JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "scope", "entities"}
BOT_USER = {"id": 7000001, "is_bot": True, "first_name": "Wegwijs", "username": "wegwijs_bot"}


@dataclass
class Call:
    """One request: method, parameters (JSON fields decoded), when it came, when an error
    answer went back, and the HTTP status given."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    answered_at: float | None = None


@dataclass
class Failure:
    """An error to give instead of a result."""

    status: int
    description: str
    retry_after: int | None = None


@dataclass
class FakeTelegram:
    """The fake's state; `app` is the ASGI app to serve."""

    token: str
    url: str = ""  # set once served
    calls: list[Call] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    next_update_id: int = 500_000_000

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[
            Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"])])
        self.hold = Hold()
        self._message_ids: dict[int, int] = {}

    @property
    def holding(self) -> int:
        """How many sends are held now."""
        return self.hold.waiting

    # -- steering the fake -------------------------------------------------------------

    def fail(self, method: str, status: int, description: str, *, retry_after: int | None = None,
             times: int = 1) -> None:
        """Make the next `times` calls of `method` fail."""
        self.failures.setdefault(method, []).extend(
            [Failure(status, description, retry_after)] * times)

    def hold_after(self, accepted: int, *, accept: bool = False) -> None:
        """Hold sendMessage requests once `accepted` messages were accepted: unaccepted
        (the default), or with `accept`, accepted (in `sent`) with the answer held back."""
        self.hold.start(accepted, accept=accept)

    def release(self) -> None:
        """Let held requests go on (unaccepted ones whose client is gone are dropped)."""
        self.hold.release()

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for getUpdates."""
        self.updates.append(update)

    # -- building updates, as Telegram would send them ---------------------------------

    def message_update(self, chat_id: int, text: str, *, language: str = "en",
                       update_id: int | None = None) -> dict[str, Any]:
        """A private-chat text message (a command gets its bot_command entity)."""
        self.next_update_id += 1
        message: dict[str, Any] = {
            "message_id": self.next_update_id % 100_000, "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Parent"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Parent",
                     "language_code": language},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        return {"update_id": update_id or self.next_update_id, "message": message}

    def press_update(self, sent: dict[str, Any], label: str, *,
                     language: str = "en") -> dict[str, Any]:
        """A press on the button labelled `label` of a message the bot sent."""
        buttons = [button for row in sent["reply_markup"]["inline_keyboard"] for button in row]
        button = next(b for b in buttons if b["text"] == label)
        self.next_update_id += 1
        chat_id = sent["chat_id"]
        return {"update_id": self.next_update_id, "callback_query": {
            "id": f"cq{self.next_update_id}", "chat_instance": "ci1", "data":
            button["callback_data"],
            "from": {"id": chat_id, "is_bot": False, "first_name": "Parent",
                     "language_code": language},
            "message": {"message_id": sent["message_id"], "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private"}, "text": sent["text"],
                        "from": BOT_USER},
        }}

    # -- reading what happened -----------------------------------------------------------

    def to(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages accepted for one chat, in order."""
        return [message for message in self.sent if message["chat_id"] == chat_id]

    def called(self, method: str) -> list[Call]:
        """Calls of one method."""
        return [call for call in self.calls if call.method == method]

    # -- the API -------------------------------------------------------------------------

    async def _handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        form = await request.form()
        params = {key: json.loads(value) if key in JSON_FIELDS else value
                  for key, value in form.items() if isinstance(value, str)}
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        if request.path_params["token"] != self.token:
            return self._error(call, Failure(401, "Unauthorized"))
        queued = self.failures.get(method)
        if queued:
            return self._error(call, queued.pop(0))
        if method == "sendMessage":
            return await self._send_message(request, call)
        if method == "getUpdates":
            return await self._get_updates(request, call)
        results: dict[str, Any] = {"getMe": BOT_USER, "getWebhookInfo": {
            "url": "", "has_custom_certificate": False, "pending_update_count": 0}}
        return JSONResponse({"ok": True, "result": results.get(method, True)})

    def _error(self, call: Call, failure: Failure) -> JSONResponse:
        call.status, call.answered_at = failure.status, time.monotonic()
        body: dict[str, Any] = {"ok": False, "error_code": failure.status,
                                "description": failure.description}
        if failure.retry_after is not None:
            body["parameters"] = {"retry_after": failure.retry_after}
        return JSONResponse(body, status_code=failure.status)

    async def _send_message(self, request: Request, call: Call) -> JSONResponse:
        chat_id = int(call.params["chat_id"])
        if chat_id in self.blocked:
            return self._error(call, Failure(403, "Forbidden: bot was blocked by the user"))
        message = await self.hold.send(request, len(self.sent),
                                       lambda: self._accept(call, chat_id))
        if message is None:
            call.status = 499  # the sender died: never accepted
            return JSONResponse({"ok": False}, status_code=499)
        result = {"message_id": message["message_id"], "date": int(time.time()),
                  "chat": {"id": chat_id, "type": "private"}, "text": message["text"],
                  "from": BOT_USER}
        return JSONResponse({"ok": True, "result": result})

    def _accept(self, call: Call, chat_id: int) -> dict[str, Any]:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        message = {"message_id": self._message_ids[chat_id], "chat_id": chat_id,
                   "text": call.params["text"], "reply_markup": call.params.get("reply_markup"),
                   "at": call.at}
        self.sent.append(message)
        return message

    async def _get_updates(self, request: Request, call: Call) -> JSONResponse:
        offset = int(call.params.get("offset", 0) or 0)
        timeout = float(call.params.get("timeout", 0) or 0)
        # Updates before the offset are confirmed: Telegram forgets them.
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self.updates and time.monotonic() < deadline:
            if await request.is_disconnected():
                break
            await asyncio.sleep(0.02)
        return JSONResponse({"ok": True, "result": list(self.updates)})
