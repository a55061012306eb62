"""The web app: the simulator page and its API, through real HTTP handling (ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.runtime import Runtime, build_runtime
from bot.services.scheduler import recover_inbox
from bot.web.app import create_app

SESSION = "sim-session-0001"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    built = build_runtime(Settings(WEGWIJS_DATA_DIR=tmp_path))
    yield built
    built.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime, with_scheduler=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def send(client: httpx.AsyncClient, message_id: str, **body: object) -> list[dict]:
    response = await client.post("/simulator/api/messages",
                                 json={"session": SESSION, "id": message_id, **body})
    assert response.status_code == 200, response.text
    return list(response.json()["replies"])


async def test_the_page_and_its_files_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert "Wegwijs" in page.text
    assert (await client.get("/static/simulator.js")).status_code == 200
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/openapi.json")).status_code == 200


async def test_a_conversation_with_buttons(client: httpx.AsyncClient) -> None:
    replies = await send(client, "m1", text="/start")
    assert "Choose your language" in replies[0]["text"]
    arabic = next(c for c in replies[0]["choices"] if c["id"] == "ar")
    replies = await send(client, "m2", choice=arabic["id"], question=replies[0]["question"])
    assert replies
    assert all(reply["direction"] == "rtl" for reply in replies)
    assert replies[-1]["language"] == "ar"


async def test_a_retried_message_is_answered_once(client: httpx.AsyncClient) -> None:
    first = await send(client, "same", text="/start")
    again = await send(client, "same", text="/start")
    assert first
    assert again == []


async def test_bad_input_is_refused_with_4xx(client: httpx.AsyncClient) -> None:
    bad = await client.post("/simulator/api/messages", json={"session": "x", "id": "1"})
    assert bad.status_code == 422
    worse = await client.post("/simulator/api/messages", content=b"not json",
                              headers={"content-type": "application/json"})
    assert worse.status_code == 422


async def test_reset_erases_the_simulated_parent(client: httpx.AsyncClient) -> None:
    await send(client, "m1", text="/start")
    response = await client.post("/simulator/api/reset", json={"session": SESSION})
    assert response.json() == {"erased": True}
    replies = await send(client, "m2", text="hello")
    assert "Choose your language" in replies[0]["text"]


async def test_stored_but_unhandled_messages_are_recovered(runtime: Runtime,
                                                           client: httpx.AsyncClient) -> None:
    from datetime import UTC, datetime

    from bot.messages import InboundMessage

    runtime.dispatcher.store(InboundMessage(
        channel="web", address=f"sim-{SESSION}", provider_id="crashed",
        received_at=datetime.now(UTC), text="/start"))
    await recover_inbox(runtime)
    later = await client.get("/simulator/api/messages", params={"session": SESSION})
    assert "Choose your language" in later.json()["replies"][0]["text"]
