"""Loading the content data files: scoring tables and each region's glossary.

`content/scoring/<id>.yaml` holds a scoring table; `content/<region>/glossary.yaml`
holds that region's school words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.engine.library import GlossaryEntry, Scoring
from bot.flows.errors import FlowError, FlowErrors
from bot.flows.located import Located, parse_yaml, read_text

SCORING_FOLDER = "scoring"
GLOSSARY_FILE = "glossary.yaml"


def _document(path: Path) -> Located:
    return parse_yaml(read_text(str(path)), str(path))


def load_scorings(root: Path) -> dict[str, Scoring]:
    """Every scoring table under `root/scoring`; raise FlowErrors listing all problems."""
    tables: dict[str, Scoring] = {}
    errors: list[FlowError] = []
    for path in sorted((root / SCORING_FOLDER).glob("*.yaml")):
        try:
            table = _scoring(_document(path), path)
        except FlowErrors as exc:
            errors.extend(exc.errors)
            continue
        tables[table.id] = table
    if errors:
        raise FlowErrors(errors)
    return tables


def _scoring(doc: Located, path: Path) -> Scoring:
    data: Any = doc.value
    shape = "a scoring table needs id (the file name), areas (a list), points (option id: " \
            "number) and items (answer variable: area)"
    if not isinstance(data, dict) or set(data) != {"id", "areas", "points", "items"}:
        raise FlowErrors([FlowError(doc.at(()), shape)])
    errors: list[FlowError] = []
    if data["id"] != path.stem:
        errors.append(FlowError(doc.at(("id",)), f"id must be {path.stem!r}, the file name"))
    areas, points, items = data["areas"], data["points"], data["items"]
    if not isinstance(areas, list) or not areas or not all(isinstance(a, str) for a in areas):
        errors.append(FlowError(doc.at(("areas",)), "areas must be a list of area ids"))
        areas = []
    if not isinstance(points, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in points.values()):
        errors.append(FlowError(doc.at(("points",)), "points maps option ids to whole numbers"))
        points = {}
    if not isinstance(items, dict) or not items:
        errors.append(FlowError(doc.at(("items",)), "items maps answer variables to areas"))
        items = {}
    for variable, area in items.items():
        if area not in areas:
            errors.append(FlowError(doc.at(("items", variable)), f"unknown area {area!r}: "
                                    f"use one of {', '.join(areas)}"))
    if errors:
        raise FlowErrors(errors)
    return Scoring(str(data["id"]), tuple(areas), {str(k): v for k, v in points.items()},
                   {str(k): str(v) for k, v in items.items()})


KeyUse = tuple[str, Located, tuple[str | int, ...]]


def load_glossaries(root: Path) -> tuple[dict[str, tuple[GlossaryEntry, ...]], list[KeyUse]]:
    """Each region's glossary, plus (text key, document, path) for cross-checking keys."""
    glossaries: dict[str, tuple[GlossaryEntry, ...]] = {}
    keys: list[KeyUse] = []
    errors: list[FlowError] = []
    for path in sorted(root.glob(f"*/{GLOSSARY_FILE}")):
        try:
            doc = _document(path)
        except FlowErrors as exc:
            errors.extend(exc.errors)
            continue
        entries: list[GlossaryEntry] = []
        for index, item in enumerate(doc.value if isinstance(doc.value, list) else [None]):
            entry = _glossary_entry(item)
            if entry is None:
                errors.append(FlowError(doc.at((index,)), "a glossary entry needs term (text), "
                                        "text (a translation key) and optional aliases (a list)"))
                continue
            entries.append(entry)
            keys.append((entry.text, doc, (index, "text")))
        glossaries[path.parent.name] = tuple(entries)
    if errors:
        raise FlowErrors(errors)
    return glossaries, keys


def _glossary_entry(item: Any) -> GlossaryEntry | None:
    if not isinstance(item, dict) or not set(item) <= {"term", "aliases", "text"}:
        return None
    term, text, aliases = item.get("term"), item.get("text"), item.get("aliases", [])
    if not isinstance(term, str) or not isinstance(text, str) or not isinstance(aliases, list):
        return None
    return GlossaryEntry(term, tuple(str(a) for a in aliases), text)
