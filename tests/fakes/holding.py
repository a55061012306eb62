"""Holding sends at a fake provider, to kill a sender while a send is in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request

T = TypeVar("T")


class Hold:
    """Once `after` messages were accepted, sends wait until released: unaccepted, or
    (with `accept`) accepted with the answer held back."""

    def __init__(self) -> None:
        self.after: int | None = None
        self.accept = False
        self.waiting = 0
        self._gate = asyncio.Event()

    def start(self, after: int, *, accept: bool) -> None:
        """Hold sends from now on, once `after` messages were accepted."""
        self.after, self.accept = after, accept
        self._gate.clear()

    def release(self) -> None:
        """Let held sends go on."""
        self.after = None
        self._gate.set()

    async def send(self, request: Request, accepted: int, take: Callable[[], T]) -> T | None:
        """Accept a message (`take` it) the way the hold says, holding it if it applies.
        None: an unaccepted send whose client left while it was held (never accepted)."""
        if self.after is None or accepted < self.after:
            return take()
        message = take() if self.accept else None
        self.waiting += 1
        try:
            await self._gate.wait()
        finally:
            self.waiting -= 1
        if message is not None:
            return message
        return None if await request.is_disconnected() else take()
