"""`wegwijs i18n`: translation status, the release gate, and PO exchange."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.settings import load_settings
from bot.content.pages import PageSource, load_pages
from bot.engine.library import SOURCE_LANGUAGE
from bot.flows.errors import FlowErrors
from bot.i18n.catalog import Catalog, fingerprint, load_catalog
from bot.i18n.coverage import Pages, coverage, release_problems
from bot.i18n.po import export_po, import_po
from bot.i18n.writer import set_entry, write_language, write_page
from bot.library import ContentRoot
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.translation import MachineTranslator, TranslationConfig, TranslationError


def _load() -> tuple[ContentRoot, Catalog, Pages]:
    root = ContentRoot.at(load_settings().content_root)
    try:
        return root, load_catalog(root.locales), load_pages(root.content)
    except FlowErrors as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise click.ClickException("fix the errors above first") from exc


@click.group()
def i18n() -> None:
    """Translations: status, release gate, PO export and import."""


@i18n.command()
def status() -> None:
    """A table per language: texts and pages, translated, reviewed, stale, machine."""
    _, catalog, pages = _load()
    click.echo(f"{'language':<10}{'shipped':<9}{'strings':>8}{'translated':>11}{'reviewed':>9}"
               f"{'stale':>7}{'machine':>8}")
    for row in coverage(catalog, pages):
        click.echo(f"{row.language:<10}{'yes' if row.shipped else 'no':<9}{row.total:>8}"
                   f"{row.translated:>11}{row.reviewed:>9}{row.stale:>7}{row.machine:>8}")


@i18n.command()
def check() -> None:
    """The release gate: fails on anything missing or with broken placeholders in a
    shipped language. Languages in preparation (shipped: false) are listed only."""
    _, catalog, pages = _load()
    results = coverage(catalog, pages)
    problems = release_problems(results)
    for problem in problems:
        click.echo(problem)
    for row in results:
        if not row.shipped:
            click.echo(f"{row.language}: in preparation, {row.missing} of {row.total} missing "
                       "(not offered to parents)", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in shipped languages", err=True)
        sys.exit(1)
    shipped = sorted(r.language for r in results if r.shipped)
    click.echo(f"OK: {', '.join(shipped)} complete")


@i18n.command("export")
@click.option("--lang", "language", required=True, help="Language code, e.g. ar.")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="File to write [default: wegwijs-<lang>.po].")
def export_command(language: str, output: Path | None) -> None:
    """Write a PO file with every text and page for translators."""
    _, catalog, pages = _load()
    if language not in catalog.languages or language == SOURCE_LANGUAGE:
        raise click.BadParameter(f"no language folder {language!r}", param_hint="--lang")
    target = output or Path(f"wegwijs-{language}.po")
    export_po(catalog, pages, language).save(str(target))
    click.echo(f"wrote {target}")


@i18n.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Merge a translated PO file; never loses text, and reports conflicts."""
    root, catalog, pages = _load()
    try:
        report = import_po(file, catalog, pages, root.locales)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"imported {report.imported}, unchanged {report.unchanged}, "
               f"conflicts {len(report.conflicts)}")
    for conflict in report.conflicts:
        click.echo(f"conflict: {conflict}")


@i18n.command()
@click.option("--lang", "language", required=True, help="Language code.")
def stamp(language: str) -> None:
    """Record that every translation of LANG matches the current English (after a
    translator checked them): sets each missing source fingerprint."""
    root, catalog, pages = _load()
    english = catalog.entries[SOURCE_LANGUAGE]
    stamped = 0
    for key, entry in list(catalog.entries.get(language, {}).items()):
        if entry.source is None and key in english:
            set_entry(catalog, language, key, entry.text, entry.state, english[key].text)
            stamped += 1
    write_language(catalog, language, root.locales)
    for versions in pages.values():
        page = versions.get(language)
        if page is not None and page.source is None and language != SOURCE_LANGUAGE:
            source = versions[SOURCE_LANGUAGE]
            write_page(source, language, page.body, page.state, source.body)
            stamped += 1
    click.echo(f"stamped {stamped} translation(s) of {language} with the current English "
               "fingerprint")


@i18n.command("translate")
@click.option("--lang", "language", required=True, help="Language code to fill in.")
def translate_command(language: str) -> None:
    """Fill missing texts and pages of LANG with machine drafts (state: machine).

    Never overwrites a human translation; machine drafts whose English changed are
    made again. Uses the installed offline models (see `wegwijs models`).
    """
    root, catalog, pages = _load()
    if language not in catalog.languages or language == SOURCE_LANGUAGE:
        raise click.BadParameter(f"no language folder {language!r}", param_hint="--lang")
    settings = load_settings()
    english = catalog.entries[SOURCE_LANGUAGE]
    entries = catalog.entries.get(language, {})
    keys = [key for key in english if key not in entries or (
        entries[key].state == "machine" and catalog.is_stale(entries[key]))]
    page_gaps = [versions[SOURCE_LANGUAGE] for versions in pages.values()
                 if _needs_machine_draft(versions, language)]
    database = Database(settings.effective_database_url)
    upgrade(database)
    translator = MachineTranslator(TranslationConfig.from_settings(settings), database)
    try:
        with click.progressbar(length=len(keys) + len(page_gaps),
                               label=f"translating into {language}") as bar:
            for key in keys:
                text = translator.translate(english[key].text, SOURCE_LANGUAGE, language)
                set_entry(catalog, language, key, text, "machine", english[key].text)
                bar.update(1)
            for page in page_gaps:
                body = translator.translate(page.body, SOURCE_LANGUAGE, language)
                write_page(page, language, body, "machine", page.body)
                bar.update(1)
    except TranslationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        write_language(catalog, language, root.locales)
        translator.close()
        database.close()
    click.echo(f"{len(keys)} text(s) and {len(page_gaps)} page(s) drafted by machine; "
               "review them before shipping")


def _needs_machine_draft(versions: dict[str, PageSource], language: str) -> bool:
    """A page with no translation, or a machine draft of an English that changed."""
    page = versions.get(language)
    english = versions[SOURCE_LANGUAGE]
    return page is None or (page.state == "machine" and page.source != fingerprint(english.body))
