"""The interceptors the dispatcher asks before the engine, in order (see
`bot.services.dispatcher.Interceptor`)."""

from __future__ import annotations

from bot.engine import Library
from bot.services.dispatcher import Interceptor


def build_interceptors(library: Library) -> list[Interceptor]:
    """The interceptors of a running bot, first match wins."""
    del library  # the schools' and volunteers' interceptors will need it
    return []
