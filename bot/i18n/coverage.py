"""How complete each language is, and the release gate (`wegwijs i18n check`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.content.pages import PageSource
from bot.engine.library import SOURCE_LANGUAGE
from bot.i18n.catalog import Catalog, ReviewState, fingerprint
from bot.i18n.placeholders import same_placeholders

Pages = dict[str, dict[str, PageSource]]


@dataclass
class Coverage:
    """Counts for one language: texts and pages together."""

    language: str
    shipped: bool
    total: int = 0
    translated: int = 0
    reviewed: int = 0
    stale: int = 0
    machine: int = 0
    problems: list[str] = field(default_factory=list)

    def count(self, state: ReviewState, *, stale: bool) -> None:
        """Count one translated text or page."""
        self.translated += 1
        self.reviewed += state == "reviewed"
        self.machine += state == "machine"
        self.stale += stale

    @property
    def missing(self) -> int:
        """How many texts and pages have no translation."""
        return self.total - self.translated


def coverage(catalog: Catalog, pages: Pages) -> list[Coverage]:
    """Coverage of every language, the source language first."""
    english = catalog.entries[SOURCE_LANGUAGE]
    results = []
    for language in catalog.languages:
        result = Coverage(language, language in catalog.shipped)
        entries = catalog.entries.get(language, {})
        for key, source in english.items():
            result.total += 1
            entry = entries.get(key)
            if entry is None:
                result.problems.append(f"missing text {key!r}")
                continue
            result.count(entry.state, stale=catalog.is_stale(entry))
            if entry.state == "machine":
                result.problems.append(f"{entry.location}: {key!r} is an unreviewed machine "
                                       "draft; a translator must check it (state: draft)")
            if not same_placeholders(source.text, entry.text):
                result.problems.append(f"{entry.location}: placeholders of {key!r} differ from "
                                       f"the English {source.text!r}")
        for page_id, versions in sorted(pages.items()):
            _count_page(result, page_id, versions)
        for key in sorted(set(entries) - set(english)):
            result.problems.append(f"{entries[key].location}: {key!r} is not an English key")
        results.append(result)
    return results


def _count_page(result: Coverage, page_id: str, versions: dict[str, PageSource]) -> None:
    result.total += 1
    page = versions.get(result.language)
    if page is None:
        result.problems.append(f"missing page {page_id!r}")
        return
    if page.state == "machine":
        result.problems.append(f"{page.location}: page {page_id!r} is an unreviewed machine "
                               "draft; a translator must check it (state: draft)")
    english = versions[SOURCE_LANGUAGE]
    result.count(page.state, stale=page.source is not None and
                 page.source != fingerprint(english.body))


def release_problems(results: list[Coverage]) -> list[str]:
    """What stops a release: anything missing or broken in a shipped language."""
    return [f"{r.language}: {problem}" for r in results if r.shipped for problem in r.problems]
