"""`wegwijs serve` (web app, scheduler, channels) and `wegwijs worker` (scheduler and sender)."""

from __future__ import annotations

import asyncio
import gc
import logging

import click
import uvicorn

from bot.channels.setup import ChannelSet, running
from bot.channels.setup import describe as describe_channels
from bot.channels.telegram import TelegramStartError
from bot.cli.settings import content_error, load_settings
from bot.flows.errors import FlowErrors
from bot.runtime import Runtime, build_runtime, configure_logging
from bot.services.scheduler import build_scheduler
from bot.web.app import create_app

log = logging.getLogger(__name__)


def _runtime() -> Runtime:
    settings = load_settings()
    configure_logging(settings.log_level)
    try:
        runtime = build_runtime(settings)
    except FlowErrors as exc:
        raise content_error(exc) from exc
    # The content library is large and read-only: move it out of the collector's sight,
    # or every full collection walks it again and stalls all requests for ~0.1 s.
    gc.freeze()
    return runtime


@click.command()
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: $PORT or 8000].")
def serve(host: str | None, port: int | None) -> None:
    """Start the web app (simulator page, webhooks, API) and the scheduler."""
    runtime = _runtime()
    settings = runtime.settings
    host = host or settings.host
    port = port or settings.port
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    database = "PostgreSQL" if not runtime.db.is_sqlite else f"SQLite ({runtime.db.url})"
    click.echo(f"Wegwijs is starting. Database: {database}.")
    click.echo(describe_channels(settings))
    click.echo(f"Open http://{shown}:{port}/ to chat as a parent. Press Ctrl+C to stop.")
    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_config=None,
                    access_log=False)
    finally:
        runtime.close()


@click.command()
def worker() -> None:
    """Run the scheduler and the outbox sender without the web app (the Procfile's worker)."""
    runtime = _runtime()

    async def run() -> None:
        channels = ChannelSet.from_settings(runtime.settings)
        async with running(runtime, channels, web=False, background=True):
            scheduler = build_scheduler(runtime)
            scheduler.start()
            log.info("worker started")
            try:
                await asyncio.Event().wait()
            finally:
                scheduler.shutdown(wait=False)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except TelegramStartError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()
