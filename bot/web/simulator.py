"""The phone simulator's API: a parent's conversation in a browser, without tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bot.messages import InboundMessage, OutboundMessage
from bot.runtime import Runtime
from bot.services.local_chat import converse, replies_for
from bot.storage import contacts

CHANNEL = "web"
SessionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]

router = APIRouter(prefix="/simulator/api", tags=["simulator"])


class ParentMessage(BaseModel):
    """Typed text, or a button press (choice + question)."""

    session: SessionId
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")]
    text: Annotated[str, Field(max_length=4096)] | None = None
    choice: Annotated[str, Field(max_length=64)] | None = None
    question: int | None = None


class SessionRef(BaseModel):
    """Which simulated parent."""

    session: SessionId


class Replies(BaseModel):
    """The bot's messages, in order."""

    replies: list[dict[str, Any]]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _address(session: str) -> str:
    return f"sim-{session}"


def _json(messages: list[OutboundMessage]) -> Replies:
    return Replies(replies=[m.to_json() for m in messages])


@router.post("/messages")
async def post_message(message: ParentMessage, request: Request) -> Replies:
    """Handle one message from the simulated parent and return the bot's replies."""
    runtime = _runtime(request)
    inbound = InboundMessage(
        channel=CHANNEL, address=_address(message.session), provider_id=message.id,
        received_at=datetime.now(UTC), text=message.text, choice=message.choice,
        question=message.question)
    return _json(await runtime.db.run(converse, runtime.dispatcher, inbound))


@router.get("/messages")
async def get_messages(session: SessionId, request: Request) -> Replies:
    """Messages that arrived later (e.g. reminders)."""
    runtime = _runtime(request)
    return _json(await runtime.db.run(replies_for, runtime.dispatcher, CHANNEL,
                                      _address(session)))


@router.post("/reset")
async def reset(ref: SessionRef, request: Request) -> dict[str, bool]:
    """Forget this simulated parent: erase their contact and everything linked to it."""
    runtime = _runtime(request)

    def erase() -> bool:
        with runtime.db.session() as session, session.begin():
            contact_id = contacts.find_contact(session, CHANNEL, _address(ref.session))
            if contact_id is not None:
                contacts.erase_contact(session, contact_id)
            return contact_id is not None

    return {"erased": await runtime.db.run(erase)}
