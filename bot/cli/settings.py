"""Reading settings for a command, with a clear message when a value is wrong."""

from __future__ import annotations

import click
from pydantic import ValidationError

from bot.config import Settings
from bot.flows.errors import FlowErrors


def load_settings() -> Settings:
    """The settings, or a click error that names each wrong variable."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise click.ClickException("invalid configuration:\n" + "\n".join(lines)) from exc


def content_error(exc: FlowErrors) -> click.ClickException:
    """Authoring errors as a start-up error that lists them all."""
    return click.ClickException(
        f"the flows, texts or pages have {len(exc.errors)} error(s); run `wegwijs flows "
        f"check` for details. First: {exc.errors[0]}")
