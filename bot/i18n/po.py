"""Exchanging translations with translators as PO files (Poedit, Weblate, Lokalize...).

Export: one entry per text (msgctxt = key) and per page (msgctxt = "page:<id>"),
msgid = the English, msgstr = the translation. An entry that is not reviewed, or is
stale, carries the `fuzzy` flag. Import: a non-fuzzy entry becomes `reviewed`, a
fuzzy one `draft`. An import never loses text: a reviewed translation is never
replaced by a different unreviewed one, and an entry whose English changed since the
export is imported as stale; both are reported as conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polib

from bot.engine.library import SOURCE_LANGUAGE
from bot.i18n.catalog import Catalog, ReviewState
from bot.i18n.coverage import Pages
from bot.i18n.writer import set_entry, write_language, write_page

PAGE_PREFIX = "page:"


def export_po(catalog: Catalog, pages: Pages, language: str) -> polib.POFile:
    """Every English text and page with its translation in `language`."""
    po = polib.POFile(wrapwidth=0)
    po.metadata = {"Language": language, "Content-Type": "text/plain; charset=UTF-8",
                   "Project-Id-Version": "wegwijs"}
    entries = catalog.entries.get(language, {})
    for key, source in catalog.entries[SOURCE_LANGUAGE].items():
        entry = entries.get(key)
        fuzzy = entry is None or entry.state != "reviewed" or catalog.is_stale(entry)
        po.append(polib.POEntry(msgctxt=key, msgid=source.text,
                                msgstr=entry.text if entry else "",
                                flags=["fuzzy"] if fuzzy and entry else []))
    for page_id, versions in sorted(pages.items()):
        source_page = versions[SOURCE_LANGUAGE]
        page = versions.get(language)
        fuzzy = page is None or page.state != "reviewed"
        po.append(polib.POEntry(msgctxt=PAGE_PREFIX + page_id, msgid=source_page.body,
                                msgstr=page.body if page else "",
                                flags=["fuzzy"] if fuzzy and page else []))
    return po


@dataclass
class ImportReport:
    """What an import did."""

    imported: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def import_po(path: Path, catalog: Catalog, pages: Pages, locales: Path) -> ImportReport:
    """Merge a PO file into the locale files and pages; see the module docstring."""
    po = polib.pofile(str(path))
    language = po.metadata.get("Language", "")
    if language not in catalog.languages or language == SOURCE_LANGUAGE:
        raise ValueError(f"{path}: the PO header names language {language!r}, which has no "
                         f"folder in {locales} (add locales/<code>/language.yaml first)")
    report = ImportReport()
    english = catalog.entries[SOURCE_LANGUAGE]
    for item in po:
        if not item.msgstr.strip() or item.obsolete:
            continue
        state: ReviewState = "draft" if "fuzzy" in item.flags else "reviewed"
        context = item.msgctxt or ""
        if context.startswith(PAGE_PREFIX):
            _import_page(context.removeprefix(PAGE_PREFIX), item, state, language, pages, report)
        elif context in english:
            _import_text(context, item, state, language, catalog, report)
        else:
            report.conflicts.append(f"{context!r}: no such key any more; not imported")
    if report.imported:
        report.files[:0] = write_language(catalog, language, locales)
    return report


def _import_text(key: str, item: polib.POEntry, state: ReviewState, language: str,
                 catalog: Catalog, report: ImportReport) -> None:
    current = catalog.entries.get(language, {}).get(key)
    if current is not None and current.text == item.msgstr and current.state == state:
        report.unchanged += 1
        return
    if current is not None and current.state == "reviewed" and state != "reviewed" and \
            current.text != item.msgstr:
        report.conflicts.append(f"{key!r}: the reviewed translation differs from the "
                                "imported draft; kept the reviewed one")
        return
    if item.msgid != catalog.entries[SOURCE_LANGUAGE][key].text:
        report.conflicts.append(f"{key!r}: the English changed since the export; imported "
                                "as stale")
    set_entry(catalog, language, key, item.msgstr, state, item.msgid)
    report.imported += 1


def _import_page(page_id: str, item: polib.POEntry, state: ReviewState, language: str,
                 pages: Pages, report: ImportReport) -> None:
    versions = pages.get(page_id)
    if versions is None:
        report.conflicts.append(f"page {page_id!r}: no such page any more; not imported")
        return
    current = versions.get(language)
    if current is not None and current.body == item.msgstr.strip():
        report.unchanged += 1
        return
    if current is not None and current.state == "reviewed" and state != "reviewed":
        report.conflicts.append(f"page {page_id!r}: the reviewed translation differs from "
                                "the imported draft; kept the reviewed one")
        return
    english = versions[SOURCE_LANGUAGE]
    if item.msgid != english.body:
        report.conflicts.append(f"page {page_id!r}: the English changed since the export; "
                                "imported as stale")
    report.files.append(write_page(english, language, item.msgstr, state, item.msgid))
    report.imported += 1
