"""Building the engine's `Library` from the flows, locales and content folders.

Everything authored is checked here, together, so that one run reports every
problem: flow schema and graph, texts missing in English, pages that do not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.content.data import KeyUse, load_glossaries, load_scorings
from bot.content.pages import PageSource, load_pages, split_messages
from bot.content.safeguarding import (
    helplines_file,
    keywords_folder,
    load_danger_words,
    load_helplines,
)
from bot.engine.danger import DangerWords
from bot.engine.library import SOURCE_LANGUAGE, Library, Page, RegionHelplines
from bot.engine.runner import ENGINE_KEYS, REQUIRED_FLOWS
from bot.flows.errors import FlowError, FlowErrors, Location
from bot.flows.loader import LoadedFlows, load_flows
from bot.i18n.catalog import Catalog, load_catalog
from bot.i18n.detect import LanguageGuesser

T = TypeVar("T")


@dataclass(frozen=True)
class ContentRoot:
    """Where the authored folders are."""

    flows: Path
    locales: Path
    content: Path

    @classmethod
    def at(cls, root: Path) -> ContentRoot:
        """The standard layout under one folder."""
        return cls(root / "flows", root / "locales", root / "content")


def load_library(root: ContentRoot, flow_paths: list[Path] | None = None) -> Library:
    """Load and cross-check everything; raise FlowErrors listing all problems."""
    errors: list[FlowError] = []
    loaded = _collect(errors, lambda: load_flows(flow_paths or [root.flows]))
    catalog = _collect(errors, lambda: load_catalog(root.locales))
    pages = _collect(errors, lambda: load_pages(root.content))
    scorings = _collect(errors, lambda: load_scorings(root.content))
    glossaries = _collect(errors, lambda: load_glossaries(root.content))
    helplines = _collect(errors, lambda: load_helplines(root.content))
    danger_words = _collect(errors, lambda: load_danger_words(root.content))
    if loaded and catalog and pages is not None and scorings is not None and glossaries:
        english = catalog.entries[SOURCE_LANGUAGE]
        errors.extend(_cross_check(loaded, catalog, pages, root, partial=flow_paths is not None))
        errors.extend(FlowError(doc.at(path), f"text key {key!r} is missing in the source "
                                "language") for key, doc, path in glossaries[1]
                      if key not in english)
        if helplines and danger_words:
            errors.extend(_check_safeguarding(helplines, danger_words, catalog, pages, root))
        errors.extend(FlowError(ref.location, f"no scoring table {ref.name!r}: add "
                                f"{root.content / 'scoring' / ref.name}.yaml", ref.flow, ref.node)
                      for ref in loaded.references
                      if ref.kind == "scoring" and ref.name not in scorings)
    if errors:
        raise FlowErrors(errors)
    assert loaded is not None
    assert catalog is not None
    assert glossaries is not None
    assert pages is not None
    assert scorings is not None
    assert helplines is not None
    assert danger_words is not None
    texts = catalog.texts()
    shipped = [code for code in catalog.languages if code in catalog.shipped]
    return Library(
        flows=loaded.flows,
        texts=texts,
        languages={code: catalog.languages[code] for code in shipped},
        pages={page_id: {lang: _page(source, versions[SOURCE_LANGUAGE], texts)
                         for lang, source in versions.items()}
               for page_id, versions in pages.items()},
        scorings=scorings,
        glossary=glossaries[0],
        helplines=helplines[0],
        danger_words=danger_words[0],
        detect_language=LanguageGuesser(shipped),
    )


def _collect(errors: list[FlowError], load: Callable[[], T]) -> T | None:
    try:
        return load()
    except FlowErrors as exc:
        errors.extend(exc.errors)
        return None


def _page(source: PageSource, english: PageSource, texts: dict[str, dict[str, str]]) -> Page:
    """The page's messages, the title (from the English page's title key, in the page's
    language) at the top of the first, all within the message limit."""
    key = source.title_key or english.title_key or ""
    title = texts.get(source.language, {}).get(key) or texts[SOURCE_LANGUAGE].get(key, "")
    return Page(source.id, split_messages(f"{title}\n\n{source.body}" if title else source.body))


def _check_safeguarding(helplines: tuple[dict[str, RegionHelplines], list[KeyUse]],
                        danger_words: tuple[DangerWords, dict[str, Location]],
                        catalog: Catalog, pages: dict[str, dict[str, PageSource]],
                        root: ContentRoot) -> list[FlowError]:
    """Help line texts exist in English and show the number; every region has help
    lines; every shipped language, and only those, has a danger word list."""
    english = catalog.entries[SOURCE_LANGUAGE]
    errors: list[FlowError] = []
    for key, doc, path in helplines[1]:
        if key not in english:
            errors.append(FlowError(doc.at(path), f"text key {key!r} is missing in the source "
                                    "language"))
        elif path[-1] == "text" and "{number}" not in english[key].text:
            errors.append(FlowError(english[key].location, f"{key!r} must show the line's "
                                    "number: write {number} in it"))
    for region in sorted({page_id.split("/")[0] for page_id in pages} - set(helplines[0])):
        errors.append(FlowError(Location(str(helplines_file(root.content))),
                                f"the region {region!r} has no help lines: add them"))
    files = danger_words[1]
    for code in sorted(catalog.shipped - set(files)):
        errors.append(FlowError(Location(str(keywords_folder(root.content))), f"the shipped "
                                f"language {code!r} has no danger word list: add {code}.yaml"))
    errors.extend(FlowError(where, f"{code!r} is not a shipped language: rename or remove "
                            "this list") for code, where in files.items()
                  if code not in catalog.shipped)
    return errors


def _cross_check(loaded: LoadedFlows, catalog: Catalog, pages: dict[str, dict[str, PageSource]],
                 root: ContentRoot, *, partial: bool) -> list[FlowError]:
    errors: list[FlowError] = []
    english = catalog.entries[SOURCE_LANGUAGE]
    for ref in loaded.references:
        if ref.kind == "text" and ref.name not in english:
            errors.append(FlowError(ref.location, f"text key {ref.name!r} is missing in the "
                                    f"source language: add it to {root.locales / 'en'}",
                                    ref.flow, ref.node))
        elif ref.kind == "page" and ref.name not in pages:
            errors.append(FlowError(ref.location, f"no content page {ref.name!r}: add "
                                    f"{root.content / ref.name}.md", ref.flow, ref.node))
        elif ref.kind == "flow" and ref.name not in loaded.flows and not partial:
            errors.append(FlowError(ref.location, f"unknown flow {ref.name!r}",
                                    ref.flow, ref.node))
    if not partial:
        for flow_id in REQUIRED_FLOWS:
            if flow_id not in loaded.flows:
                errors.append(FlowError(Location(str(root.flows)), f"the flow {flow_id!r} is "
                                        "required: the engine starts it itself"))
    for key in ENGINE_KEYS:
        if key not in english:
            errors.append(FlowError(Location(str(root.locales / "en")), f"text key {key!r} is "
                                    "required by the engine: add it"))
    for versions in pages.values():
        source = versions.get(SOURCE_LANGUAGE)
        if source is not None and source.title_key and source.title_key not in english:
            errors.append(FlowError(source.title_location, f"title key "
                                    f"{source.title_key!r} is missing in the source language"))
    return errors
