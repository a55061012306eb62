"""Loading `locales/<lang>/*.yaml`: the texts of every language and their review state.

The source language (English) maps keys to plain text. A translation maps each key
to its text, or to `{text, state, source}` where `state` is machine, draft or
reviewed and `source` is the fingerprint of the English text it was made from, so a
change in the English marks the translation stale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.engine.library import SOURCE_LANGUAGE, Language
from bot.flows.errors import FlowError, FlowErrors, Location
from bot.flows.located import Located, parse_yaml, read_text

ReviewState = Literal["machine", "draft", "reviewed"]
REVIEW_STATES: tuple[ReviewState, ...] = ("machine", "draft", "reviewed")
LANGUAGE_FILE = "language.yaml"


def fingerprint(text: str) -> str:
    """A short, stable fingerprint of a source text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class Entry:
    """One text in one language."""

    key: str
    text: str
    state: ReviewState
    source: str | None
    location: Location


@dataclass
class Catalog:
    """Every language's texts."""

    languages: dict[str, Language] = field(default_factory=dict)
    entries: dict[str, dict[str, Entry]] = field(default_factory=dict)
    shipped: set[str] = field(default_factory=set)

    def texts(self) -> dict[str, dict[str, str]]:
        """Plain texts by language and key, as the engine reads them."""
        return {lang: {key: e.text for key, e in items.items()}
                for lang, items in self.entries.items()}

    def is_stale(self, entry: Entry) -> bool:
        """Whether the English text changed since this translation was made."""
        source = self.entries[SOURCE_LANGUAGE].get(entry.key)
        return source is not None and entry.source is not None and \
            entry.source != fingerprint(source.text)


def load_catalog(root: Path) -> Catalog:
    """Load every language folder under `root`; raise FlowErrors listing all problems."""
    catalog = Catalog()
    errors: list[FlowError] = []
    # English first (the source), then the others by code: the order of language lists.
    folders = sorted((p for p in root.iterdir() if p.is_dir()) if root.is_dir() else [],
                     key=lambda p: (p.name != SOURCE_LANGUAGE, p.name))
    for folder in folders:
        try:
            catalog.languages[folder.name], shipped = _language(folder)
        except FlowErrors as exc:
            errors.extend(exc.errors)
            continue
        items: dict[str, Entry] = {}
        for path in sorted(folder.glob("*.yaml")):
            if path.name == LANGUAGE_FILE:
                continue
            try:
                _load_texts(path, folder.name, items, errors)
            except FlowErrors as exc:
                errors.extend(exc.errors)
        catalog.entries[folder.name] = items
        if shipped:
            catalog.shipped.add(folder.name)
    if SOURCE_LANGUAGE not in catalog.entries:
        errors.append(FlowError(Location(str(root / SOURCE_LANGUAGE)),
                                "the source language folder 'en' is missing"))
    if errors:
        raise FlowErrors(errors)
    return catalog


def _language(folder: Path) -> tuple[Language, bool]:
    """The language and whether it is shipped (offered to parents).

    A language in preparation has `shipped: false`; `wegwijs i18n check` refuses to
    let a shipped language be incomplete.
    """
    file = str(folder / LANGUAGE_FILE)
    doc = parse_yaml(read_text(file), file)
    data = doc.value
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or \
            not set(data) <= {"name", "direction", "shipped", "aliases"} or \
            not all(isinstance(a, str) for a in data.get("aliases", [])):
        raise FlowErrors([FlowError(doc.at(()), "language.yaml has `name:` (the language's "
                                    "name in itself), `direction: ltr` or `rtl`, "
                                    "`shipped: true` or `false`, and optional `aliases:` "
                                    "(other names parents may type)")])
    direction = data.get("direction", "ltr")
    if direction not in ("ltr", "rtl"):
        raise FlowErrors([FlowError(doc.at(("direction",)), "direction must be ltr or rtl")])
    shipped = data.get("shipped", False)
    if not isinstance(shipped, bool):
        raise FlowErrors([FlowError(doc.at(("shipped",)), "shipped must be true or false")])
    language = Language(folder.name, data["name"], "rtl" if direction == "rtl" else "ltr",
                        tuple(data.get("aliases", [])))
    return language, shipped or folder.name == SOURCE_LANGUAGE


def _load_texts(path: Path, language: str, items: dict[str, Entry],
                errors: list[FlowError]) -> None:
    file = str(path)
    doc = parse_yaml(read_text(file), file)
    if doc.value is None:
        return
    if not isinstance(doc.value, dict):
        raise FlowErrors([FlowError(doc.at(()), "a text file maps keys to texts")])
    for key, value in doc.value.items():
        where = doc.at((key,), key=True)
        entry = _entry(key, value, language, doc, errors)
        if entry is None:
            continue
        if key in items:
            errors.append(FlowError(where, f"duplicate key {key!r}: it is also in "
                                    f"{items[key].location}"))
            continue
        items[key] = entry


def _entry(key: str, value: Any, language: str, doc: Located,
           errors: list[FlowError]) -> Entry | None:
    where = doc.at((key,), key=True)
    if isinstance(value, str):
        state: ReviewState = "reviewed" if language == SOURCE_LANGUAGE else "draft"
        return Entry(key, value, state, None, where)
    if language != SOURCE_LANGUAGE and isinstance(value, dict):
        text, review, source = value.get("text"), value.get("state", "draft"), value.get("source")
        unknown = set(value) - {"text", "state", "source"}
        if unknown or not isinstance(text, str) or review not in REVIEW_STATES or not (
                source is None or isinstance(source, str)):
            errors.append(FlowError(where, f"{key!r} needs `text:` plus optional `state:` "
                                    "(machine, draft or reviewed) and `source:` (fingerprint)"))
            return None
        return Entry(key, text, review, source, where)
    errors.append(FlowError(where, f"{key!r} must map to a text"))
    return None
