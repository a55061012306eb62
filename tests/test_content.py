"""Content checks: phone-sized messages, sources and dates, keys, glossary, scoring."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.config import Settings
from bot.content.data import load_scorings
from bot.content.pages import MESSAGE_LIMIT, load_pages
from bot.engine import Library
from bot.engine.glossary import find_term
from bot.engine.scoring import top_areas
from bot.library import ContentRoot

ROOT = ContentRoot.at(Settings().content_root)
PAGES = load_pages(ROOT.content)
REGION_LANGUAGE = {"flanders": "nl", "finland": "fi"}
# School words that keep their local name and must be explained in the region's glossary.
SCHOOL_TERMS = {
    "flanders": ["klassenraad", "CLB", "A-attest", "B-attest", "C-attest", "finaliteit",
                 "studiedomein", "OKAN"],
    "finland": ["yhteishaku", "lukio", "ammatillinen koulutus", "TUVA", "opinto-ohjaaja"],
}


def test_every_message_fits_on_a_phone(library: Library) -> None:
    for page_id, versions in library.pages.items():
        for language, page in versions.items():
            for number, part in enumerate(page.parts, start=1):
                assert len(part) <= MESSAGE_LIMIT, \
                    f"{page_id} ({language}) message {number}: {len(part)} characters"


def test_every_page_names_its_sources_and_when_they_were_checked() -> None:
    for page_id, versions in PAGES.items():
        english = versions["en"]
        assert english.sources, page_id
        assert all(source.startswith("https://") for source in english.sources), page_id
        assert isinstance(english.checked, date), page_id
        assert english.checked <= date.today(), page_id


def test_every_page_exists_in_the_regions_language() -> None:
    for page_id, versions in PAGES.items():
        region = page_id.split("/")[0]
        assert REGION_LANGUAGE[region] in versions, f"{page_id} has no {REGION_LANGUAGE[region]}"


def test_every_text_exists_in_dutch_and_finnish(library: Library) -> None:
    english = set(library.texts["en"])
    for language in ("nl", "fi"):
        assert english <= set(library.texts[language]), sorted(english -
                                                                set(library.texts[language]))


@pytest.mark.parametrize("region", sorted(SCHOOL_TERMS))
def test_each_school_term_has_a_glossary_entry(library: Library, region: str) -> None:
    entries = library.glossary[region]
    for term in SCHOOL_TERMS[region]:
        assert find_term(f"what is {term}?", entries) is not None, f"{region}: {term}"


@pytest.mark.parametrize("region", sorted(SCHOOL_TERMS))
def test_a_glossary_term_used_in_a_page_has_an_entry(library: Library, region: str) -> None:
    entries = library.glossary[region]
    known = {term for terms in SCHOOL_TERMS.values() for term in terms}
    for page_id, versions in PAGES.items():
        if not page_id.startswith(region + "/"):
            continue
        body = versions["en"].body
        for term in known:
            if re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", body, re.IGNORECASE):
                assert find_term(term, entries) is not None, f"{page_id} uses {term!r}"


def test_every_glossary_explanation_exists_in_every_shipped_language(library: Library) -> None:
    for entries in library.glossary.values():
        for entry in entries:
            for language in library.languages:
                assert entry.text in library.texts[language], (entry.text, language)


SCORING = load_scorings(ROOT.content)["riasec"]


def answers_for(liked: list[str], maybe: list[str] | None = None) -> dict[str, str]:
    maybe = maybe or []
    return {variable: "like" if area in liked else "maybe" if area in maybe else "dislike"
            for variable, area in SCORING.items.items()}


@pytest.mark.parametrize(("liked", "maybe", "expected"), [
    (["social"], [], ["social"]),
    (["artistic", "social"], ["enterprising"], ["artistic", "social", "enterprising"]),
    (["realistic", "investigative", "conventional"], [], ["realistic", "investigative",
                                                          "conventional"]),
    ([], [], []),
])
def test_answers_map_to_interest_areas(liked: list[str], maybe: list[str],
                                       expected: list[str]) -> None:
    assert top_areas(SCORING, answers_for(liked, maybe), 3) == expected


def test_the_scoring_covers_twelve_items_two_per_area() -> None:
    assert len(SCORING.items) == 12
    for area in SCORING.areas:
        assert list(SCORING.items.values()).count(area) == 2


def test_every_area_links_to_study_options_in_both_regions(library: Library) -> None:
    for area in SCORING.areas:
        for region in ("flanders", "finland"):
            key = f"interests.{region}.{area}"
            assert key in library.texts["en"], key
