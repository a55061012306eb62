"""`wegwijs`: serve, worker, chat, flows, i18n, models, translate, db."""

from __future__ import annotations

import click

from bot.cli.chat import chat
from bot.cli.database import db
from bot.cli.flows import flows
from bot.cli.i18n import i18n
from bot.cli.models import models, translate
from bot.cli.reminders import reminders
from bot.cli.school import school
from bot.cli.serve import serve, worker
from bot.cli.volunteers import tickets_group, volunteer


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wegwijs")
def cli() -> None:
    """Wegwijs: a chatbot that helps parents with their child's study choice."""


cli.add_command(serve)
cli.add_command(worker)
cli.add_command(chat)
cli.add_command(flows)
cli.add_command(db)
cli.add_command(i18n)
cli.add_command(models)
cli.add_command(translate)
cli.add_command(reminders)
cli.add_command(school)
cli.add_command(volunteer)
cli.add_command(tickets_group)


def main() -> None:
    """Console entry point."""
    cli()
