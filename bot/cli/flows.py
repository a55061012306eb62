"""`wegwijs flows check`: validate flows, texts and pages, and print every error."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.settings import load_settings
from bot.flows.errors import FlowErrors
from bot.library import ContentRoot, load_library


@click.group()
def flows() -> None:
    """Work with conversation flows."""


@flows.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Check flow files (all of flows/ by default) with the texts and pages they use.

    Prints each error as file:line:col and exits 1 if there is any.
    Links to other flows are only checked when the whole folder is checked.
    """
    settings = load_settings()
    try:
        library = load_library(ContentRoot.at(settings.content_root),
                               list(paths) if paths else None)
    except FlowErrors as exc:
        for error in exc.errors:
            click.echo(str(error))
        click.echo(f"{len(exc.errors)} error(s)", err=True)
        sys.exit(1)
    texts = len(library.texts.get("en", {}))
    click.echo(f"OK: {len(library.flows)} flows, {texts} texts in {len(library.languages)} "
               f"languages, {len(library.pages)} pages")
