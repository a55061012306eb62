"""Loading the safeguarding data: danger words per language and help lines per region.

`content/safeguarding/keywords/<lang>.yaml` maps each kind of danger to a list of
phrases in that language (see `bot.engine.danger` for how they match).
`content/safeguarding/helplines.yaml` gives each region's emergency number and help
lines, each with the sources it was checked against and when. Every problem is reported
with its file, line and column, like the flow loader.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from bot.content.data import KeyUse
from bot.engine.danger import STEM, DangerPhrase, DangerWords, phrase_words
from bot.engine.library import Helpline, RegionHelplines
from bot.flows.errors import FlowError, FlowErrors, Location
from bot.flows.located import Located, parse_yaml, read_text

FOLDER = "safeguarding"
KEYWORDS_FOLDER = "keywords"
HELPLINES_FILE = "helplines.yaml"
CATEGORIES = ("violence", "abuse", "self_harm", "threat", "missing", "unsafe")
# A stem shorter than this would match far too many words.
MIN_STEM = 3
_NUMBER = re.compile(r"^\+?[0-9](?:[0-9 ]*[0-9])?$")
_SOURCE = re.compile(r"^https?://\S+$")
_LINE_FIELDS = {"number", "text", "sources", "checked"}
_EMERGENCY_FIELDS = {"number", "sources", "checked"}
_REGION_FIELDS = {"heading", "emergency", "lines"}


def _document(path: Path) -> Located:
    return parse_yaml(read_text(str(path)), str(path))


def keywords_folder(root: Path) -> Path:
    """Where the keyword lists are, under the content folder `root`."""
    return root / FOLDER / KEYWORDS_FOLDER


def helplines_file(root: Path) -> Path:
    """Where the help lines are, under the content folder `root`."""
    return root / FOLDER / HELPLINES_FILE


def load_danger_words(root: Path) -> tuple[DangerWords, dict[str, Location]]:
    """Every language's danger phrases, and where each language's list is written;
    raise FlowErrors listing all problems."""
    phrases: list[DangerPhrase] = []
    files: dict[str, Location] = {}
    errors: list[FlowError] = []
    for path in sorted(keywords_folder(root).glob("*.yaml")):
        try:
            doc = _document(path)
        except FlowErrors as exc:
            errors.extend(exc.errors)
            continue
        files[path.stem] = Location(str(path))
        phrases.extend(_language_phrases(doc, path.stem, errors))
    if errors:
        raise FlowErrors(errors)
    return DangerWords(phrases), files


def _language_phrases(doc: Located, language: str, errors: list[FlowError]
                      ) -> list[DangerPhrase]:
    data: Any = doc.value
    if not isinstance(data, dict):
        errors.append(FlowError(doc.at(()), "a keyword list maps each kind of danger ("
                                f"{', '.join(CATEGORIES)}) to a list of phrases"))
        return []
    for category in CATEGORIES:
        if category not in data:
            errors.append(FlowError(doc.at(()), f"add a list of phrases for {category!r}"))
    phrases: list[DangerPhrase] = []
    seen: set[tuple[str, ...]] = set()
    for category, items in data.items():
        if category not in CATEGORIES:
            errors.append(FlowError(doc.at((category,), key=True), f"unknown kind of danger "
                                    f"{category!r}: use one of {', '.join(CATEGORIES)}"))
            continue
        if not isinstance(items, list) or not items:
            errors.append(FlowError(doc.at((category,)), "write a list of phrases here"))
            continue
        for index, item in enumerate(items):
            where = doc.at((category, index))
            problem, words = _phrase(item)
            if problem is not None:
                errors.append(FlowError(where, problem))
            elif words in seen:
                errors.append(FlowError(where, f"the phrase {item!r} is already in the list: "
                                        "remove one"))
            else:
                seen.add(words)
                phrases.append(DangerPhrase(language, words))
    return phrases


def _phrase(item: Any) -> tuple[str | None, tuple[str, ...]]:
    """A problem with a phrase as written, or None and its words."""
    if not isinstance(item, str) or not item.strip():
        return "a phrase must be text", ()
    if any(STEM in raw.strip(STEM) for raw in item.split()):
        return f"{item!r}: a * may only start or end a word", ()
    words = phrase_words(item)
    for word in words:
        core = word.strip(STEM)
        if not core:
            return f"{item!r}: each word needs letters", ()
        if word != core and len(core.replace(" ", "")) < MIN_STEM:
            return (f"{item!r}: a word with * needs at least {MIN_STEM} letters, or it "
                    "matches too many words", ())
    if all(word.replace(" ", "").isdecimal() for word in words):
        return f"{item!r}: a phrase needs words, not only numbers", ()
    if len(words) == 1 and len(words[0]) < MIN_STEM:
        return f"{item!r}: a single word needs at least {MIN_STEM} letters", ()
    return None, words


def load_helplines(root: Path) -> tuple[dict[str, RegionHelplines], list[KeyUse]]:
    """Each region's emergency number and help lines, plus (text key, document, path)
    for cross-checking keys; raise FlowErrors listing all problems."""
    doc = _document(helplines_file(root))
    data: Any = doc.value
    if not isinstance(data, dict) or not data:
        raise FlowErrors([FlowError(doc.at(()), "helplines map each region to its heading "
                                    "(a text key), emergency number and lines")])
    errors: list[FlowError] = []
    keys: list[KeyUse] = []
    regions: dict[str, RegionHelplines] = {}
    for region, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != _REGION_FIELDS:
            errors.append(FlowError(doc.at((region,)), "a region needs exactly heading (a "
                                    "text key), emergency and lines (a list)"))
            continue
        heading = _key(doc, (region, "heading"), errors, keys)
        emergency = _checked_number(doc, (region, "emergency"), _EMERGENCY_FIELDS, errors)
        lines = entry["lines"]
        if not isinstance(lines, list) or not lines:
            errors.append(FlowError(doc.at((region, "lines")), "lines must be a list of "
                                    "help lines"))
            lines = []
        helplines = []
        for index in range(len(lines)):
            where = (region, "lines", index)
            number = _checked_number(doc, where, _LINE_FIELDS, errors)
            text = _key(doc, (*where, "text"), errors, keys)
            if number is not None and text is not None:
                helplines.append(Helpline(number, text))
        if heading is not None and emergency is not None:
            regions[str(region)] = RegionHelplines(heading, emergency, tuple(helplines))
    if errors:
        raise FlowErrors(errors)
    return regions, keys


def _key(doc: Located, path: tuple[str | int, ...], errors: list[FlowError],
         keys: list[KeyUse]) -> str | None:
    value = _get(doc.value, path)
    if not isinstance(value, str) or not value:
        errors.append(FlowError(doc.at(path), "write a text key here"))
        return None
    keys.append((value, doc, path))
    return value


def _checked_number(doc: Located, path: tuple[str | int, ...], fields: set[str],
                    errors: list[FlowError]) -> str | None:
    """The number of an entry that also says where and when it was checked."""
    entry = _get(doc.value, path)
    if not isinstance(entry, dict) or set(entry) != fields:
        errors.append(FlowError(doc.at(path), f"write exactly {', '.join(sorted(fields))}"))
        return None
    problems = len(errors)
    number = entry["number"]
    if not isinstance(number, str) or not _NUMBER.match(number):
        errors.append(FlowError(doc.at((*path, "number")), "write the number as text in "
                                'quotes, digits and spaces only ("09 2525 0111")'))
    sources = entry["sources"]
    if not isinstance(sources, list) or not sources or not all(
            isinstance(s, str) and _SOURCE.match(s) for s in sources):
        errors.append(FlowError(doc.at((*path, "sources")), "sources must be a list of web "
                                "addresses where the number was checked"))
    if not isinstance(entry["checked"], date):
        errors.append(FlowError(doc.at((*path, "checked")), "checked must be the date the "
                                "number was last checked (2026-11-23)"))
    return str(number) if len(errors) == problems else None


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return data
