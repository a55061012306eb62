"""Serving an ASGI app with uvicorn on 127.0.0.1 and a free port, inside the test's loop."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Protocol, TypeVar

import uvicorn

STOP_SECONDS = 30


class Fake(Protocol):
    """A fake provider: an ASGI app, and the address it is served at."""

    app: Any
    url: str


FakeT = TypeVar("FakeT", bound=Fake)


class LocalServer:
    """`async with LocalServer(app) as server:` serves the app at `server.url`."""

    def __init__(self, app: Any, *, lifespan: str = "off") -> None:
        self.app = app
        self.lifespan = lifespan
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LocalServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, lifespan=self.lifespan, log_config=None,
                                access_log=False, timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        deadline = time.monotonic() + 30
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raise the start-up error
                raise RuntimeError("server stopped during start-up")
            assert time.monotonic() < deadline, "server did not start"
            await asyncio.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        assert self._server is not None
        assert self._task is not None
        self._server.should_exit = True
        # Open connections get 2 s (timeout_graceful_shutdown); an app's own shutdown
        # (lifespan "on") must not hang the test either.
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=STOP_SECONDS)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            raise AssertionError(f"the server did not stop within {STOP_SECONDS} s") from None


@asynccontextmanager
async def served(fake: FakeT) -> AsyncIterator[FakeT]:
    """A fake provider (with `app` and `url`) served on 127.0.0.1, its `url` set."""
    async with LocalServer(fake.app) as server:
        fake.url = server.url
        yield fake


async def eventually(check: Callable[[], Any], *, timeout: float = 15.0,
                     what: str = "condition") -> Any:
    """Wait until `check()` returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
