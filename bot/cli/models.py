"""`wegwijs models` (install, list, remove translation models) and `wegwijs translate`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.settings import load_settings
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.translation import (
    InstalledModel,
    InstallResult,
    MachineTranslator,
    ModelStore,
    TranslationConfig,
    TranslationError,
)

MODEL_SUFFIX = ".argosmodel"


def _store() -> ModelStore:
    return ModelStore(TranslationConfig.from_settings(load_settings()))


@click.group()
def models() -> None:
    """Manage the offline translation models (argos packages)."""


@models.command("list")
def list_command() -> None:
    """Show the installed language pairs."""
    store = _store()
    installed = sorted(store.installed().values(), key=lambda m: m.pair)
    if not installed:
        click.echo(f"no translation models in {store.config.packages_dir}; install one with "
                   "`wegwijs models install FROM TO` or `wegwijs models install "
                   "PATH.argosmodel`")
        return
    for model in installed:
        click.echo(f"{model.source} → {model.target}  version {model.version or '?'}  "
                   f"{_size(model.size_bytes())}")


@models.command("install")
@click.argument("what", nargs=-1, required=True, metavar="FROM TO | PATH.argosmodel...")
def install_command(what: tuple[str, ...]) -> None:
    """Install a pair from the argos package index (online), or model files (offline).

    \b
    wegwijs models install nl en                   nl → en from the index
    wegwijs models install translate-nl_en.argosmodel
    """
    store = _store()
    files = [Path(item) for item in what if item.endswith(MODEL_SUFFIX) or Path(item).is_file()]
    try:
        if files and len(files) == len(what):
            for path in files:
                _report(store.install_file(path))
        elif not files and len(what) == 2:
            _report(store.install_from_index(what[0], what[1]))
        else:
            raise click.UsageError("give two language codes (FROM TO), or one or more "
                                   f"{MODEL_SUFFIX} files")
    except TranslationError as exc:
        raise click.ClickException(str(exc)) from exc


@models.command("remove")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
def remove_command(source: str, target: str) -> None:
    """Uninstall the model for one pair."""
    try:
        model = _store().remove(source, target)
    except TranslationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed {_name(model)}")


@click.command()
@click.option("--from", "source", required=True, help="Language code of the text, e.g. nl.")
@click.option("--to", "target", required=True, help="Language code to translate to, e.g. ar.")
@click.argument("text")
def translate(source: str, target: str, text: str) -> None:
    """Machine-translate TEXT (use - to read it from stdin), offline.

    Placeholders such as {date} and school words are kept; results are cached in the
    database like the bot's own translations.
    """
    settings = load_settings()
    database = Database(settings.effective_database_url)
    translator: MachineTranslator | None = None
    try:
        upgrade(database)
        translator = MachineTranslator(TranslationConfig.from_settings(settings), database)
        click.echo(translator.translate(sys.stdin.read() if text == "-" else text,
                                        source, target))
    except TranslationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if translator is not None:
            translator.close()
        database.close()


def _report(result: InstallResult) -> None:
    if result.replaced is not None:
        click.echo(f"replaced {_name(result.replaced)}")
    click.echo(f"installed {_name(result.model)} ({_size(result.model.size_bytes())})")


def _name(model: InstalledModel) -> str:
    return f"{model.source} → {model.target} version {model.version or '?'}"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
