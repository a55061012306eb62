"""The ASGI app: one FastAPI application for the simulator page, API and health check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from bot import __version__
from bot.channels.setup import ChannelSet, running
from bot.runtime import Runtime
from bot.services.scheduler import build_scheduler
from bot.web import api, api_volunteers, calendar, simulator, webhooks

STATIC = Path(__file__).resolve().parent / "static"


def create_app(runtime: Runtime, *, with_scheduler: bool = True) -> FastAPI:
    """The web app around a built runtime. The scheduler, the outbox sender and Telegram
    polling run inside it unless asked not to (tests drive the jobs themselves)."""
    channels = ChannelSet.from_settings(runtime.settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = build_scheduler(runtime) if with_scheduler else None
        async with running(runtime, channels, web=True, background=with_scheduler):
            if scheduler is not None:
                scheduler.start()
            try:
                yield
            finally:
                if scheduler is not None:
                    scheduler.shutdown(wait=False)

    app = FastAPI(title="Wegwijs", version=__version__, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.channels = channels
    app.include_router(simulator.router)
    app.include_router(webhooks.router)
    app.include_router(calendar.router)
    app.include_router(api.router)
    app.include_router(api_volunteers.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/healthz", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
