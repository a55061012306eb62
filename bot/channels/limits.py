"""Sending limits of one channel: an overall rate, a per-chat interval, and pauses.

Limits hold per process. Several sender processes each keep their own pace, so with N
of them each should get 1/N of the provider's budget (see docs/channels.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# Forget per-chat timestamps once this many are kept (only recent ones matter).
_PRUNE_AT = 10_000
# Sends that leave evenly spaced can reach the provider bunched (network and
# scheduling jitter): aim this much below its limit so it never refuses one.
SAFETY_FACTOR = 0.97


class RateLimiter:
    """Spaces sends: at most `per_second` overall (less the safety margin), and one per
    `per_chat_seconds` to the same address. `pause` stops all sending for a while (a
    provider's "retry after")."""

    def __init__(self, per_second: float, per_chat_seconds: float = 0.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.interval = 1.0 / (per_second * SAFETY_FACTOR)
        self.per_chat_seconds = per_chat_seconds
        self._clock = clock
        self._next = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[str, float] = {}

    def delay(self, address: str) -> float:
        """Seconds until a message to `address` may go (0 if it may go now)."""
        now = self._clock()
        return max(0.0, self._next - now, self._paused_until - now,
                   self._chat_next.get(address, 0.0) - now)

    @property
    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Send nothing on this channel for `seconds` (keeps a longer pause)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self, address: str) -> None:
        """Wait until a message to `address` may go, and take that slot."""
        while (wait := self.delay(address)) > 0:
            await asyncio.sleep(wait)
        now = self._clock()
        self._next = now + self.interval
        if self.per_chat_seconds:
            if len(self._chat_next) >= _PRUNE_AT:
                self._chat_next = {a: t for a, t in self._chat_next.items() if t > now}
            self._chat_next[address] = now + self.per_chat_seconds
