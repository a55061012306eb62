"""Reading settings for a command, with a clear message when a value is wrong."""

from __future__ import annotations

import click
from pydantic import ValidationError

from bot.config import Settings
from bot.engine import Library
from bot.flows.errors import FlowErrors
from bot.library import ContentRoot, load_library


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


def load_content() -> Library:
    """The flows, texts and pages of the configured content root; an authoring error
    becomes a clear message."""
    try:
        return load_library(ContentRoot.at(load_settings().content_root))
    except FlowErrors as exc:
        raise content_error(exc) from exc
