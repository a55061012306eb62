"""`wegwijs chat`: talk to the bot in a terminal, or script it through stdin."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count

import click

from bot.cli.settings import content_error, load_settings
from bot.flows.errors import FlowErrors
from bot.messages import InboundMessage, OutboundMessage
from bot.runtime import Runtime, build_runtime
from bot.services.local_chat import converse
from bot.storage import contacts

CHANNEL = "console"


@click.command()
@click.option("--lang", "language", default=None, help="Language code, e.g. nl, fi, ar.")
@click.option("--region", default=None, help="Region id: flanders or finland.")
@click.option("--database-url", default="sqlite://", show_default=True,
              help="Where to keep the conversation (default: in memory, gone at exit).")
def chat(language: str | None, region: str | None, database_url: str) -> None:
    """Chat with the bot as a parent.

    In a terminal it is interactive. When stdin is not a terminal it reads one parent
    message per line and prints the bot's replies, options numbered.
    """
    settings = load_settings()
    try:
        runtime = build_runtime(settings, database_url=database_url)
    except FlowErrors as exc:
        raise content_error(exc) from exc
    try:
        _check_choice("--lang", language, list(runtime.library.languages))
        _check_choice("--region", region, runtime.library.regions)
        address = f"terminal-{uuid.uuid4().hex[:12]}"
        with runtime.db.session() as session, session.begin():
            contacts.preset_contact(session, CHANNEL, address, datetime.now(UTC),
                                    language=language, region=region)
        interactive = sys.stdin.isatty()
        if interactive:
            click.echo("Chatting with Wegwijs. Type a message, or a number to choose. "
                       "Ctrl+D to quit.\n")
            _say(runtime, address, "/start", 0)
        for number, line in zip(count(1), _lines(interactive), strict=False):
            if line.strip():
                _say(runtime, address, line.rstrip("\n"), number)
    finally:
        runtime.close()


def _check_choice(option: str, value: str | None, allowed: list[str]) -> None:
    if value is not None and value not in allowed:
        raise click.BadParameter(f"{value!r} is not one of {', '.join(allowed)}",
                                 param_hint=option)


def _lines(interactive: bool) -> Iterator[str]:
    while True:
        try:
            line = input("you> ") if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and line == "":
            return
        yield line


def _say(runtime: Runtime, address: str, text: str, number: int) -> None:
    # Provider ids are unique per channel: each chat (a new address) numbers its own.
    message = InboundMessage(channel=CHANNEL, address=address,
                             provider_id=f"{address}-line-{number}",
                             received_at=datetime.now(UTC), text=text)
    for reply in converse(runtime.dispatcher, message):
        click.echo(_render(reply))


def _render(reply: OutboundMessage) -> str:
    lines = [f"bot> {line}" if index == 0 else f"     {line}"
             for index, line in enumerate(reply.numbered_text().splitlines())]
    return "\n".join(lines) + "\n"
