"""Loading `content/<region>/<page>.md` and its translations `<page>.<lang>.md`.

The English page carries the front matter that matters for review: its id, the
translation key of its title, the sources it relies on and the date it was last
checked. A translation's front matter names the page id, its review state and the
fingerprint of the English body it was made from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.engine.library import SOURCE_LANGUAGE
from bot.flows.errors import FlowError, FlowErrors, Location
from bot.flows.located import parse_yaml, read_text
from bot.i18n.catalog import REVIEW_STATES, ReviewState

MESSAGE_LIMIT = 600
BREAK_MARK = "<!-- break -->"
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?؟。])\s+")


@dataclass(frozen=True)
class PageSource:
    """One page in one language, as written."""

    id: str
    language: str
    title_key: str | None
    sources: tuple[str, ...]
    checked: date | None
    state: ReviewState
    source: str | None
    body: str
    location: Location
    title_location: Location


def split_messages(body: str, limit: int = MESSAGE_LIMIT) -> tuple[str, ...]:
    """Pack paragraphs into messages of at most `limit` characters.

    A `<!-- break -->` line always starts a new message; a paragraph longer than the
    limit is cut between sentences, and a sentence longer than that between words.
    """
    messages: list[str] = []
    for section in body.split(BREAK_MARK):
        current = ""
        for paragraph in _pieces(section, limit):
            joined = f"{current}\n\n{paragraph}" if current else paragraph
            if len(joined) <= limit:
                current = joined
            else:
                messages.append(current)
                current = paragraph
        if current:
            messages.append(current)
    return tuple(messages)


def _pieces(section: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n", section)):
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            pieces.extend(_words(sentence, limit))
    return pieces


def _words(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    chunks, current = [], ""
    for word in sentence.split():
        if current and len(current) + 1 + len(word) > limit:
            chunks.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*chunks, current] if current else chunks


def load_pages(root: Path) -> dict[str, dict[str, PageSource]]:
    """Every page by id and language; raise FlowErrors listing all problems."""
    pages: dict[str, dict[str, PageSource]] = {}
    errors: list[FlowError] = []
    for path in sorted(root.glob("*/*.md")) if root.is_dir() else []:
        try:
            page = load_page(path)
        except FlowErrors as exc:
            errors.extend(exc.errors)
            continue
        pages.setdefault(page.id, {})[page.language] = page
    for page_id, versions in pages.items():
        if SOURCE_LANGUAGE not in versions:
            first = next(iter(versions.values()))
            errors.append(FlowError(first.location, f"page {page_id!r} has no English version"))
    if errors:
        raise FlowErrors(errors)
    return pages


def load_page(path: Path) -> PageSource:
    """Read one page file and check its front matter."""
    file = str(path)
    text = read_text(file).replace("\r\n", "\n")
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise FlowErrors([FlowError(Location(file), "a page starts with front matter between "
                                    "two `---` lines")])
    doc = parse_yaml(match.group(1), file)
    meta = doc.value if isinstance(doc.value, dict) else {}
    # Front matter starts on line 2 of the file: shift locations by one line.
    def at(key: str) -> Location:
        spot = doc.at((key,), key=True)
        return Location(file, spot.line + 1, spot.column)

    stem, _, language = path.stem.partition(".")
    language = language or SOURCE_LANGUAGE
    expected_id = f"{path.parent.name}/{stem}"
    errors: list[FlowError] = []
    if meta.get("id") != expected_id:
        errors.append(FlowError(at("id"), f"id must be {expected_id!r} (region/page, as the "
                                "file's place)"))
    sources = meta.get("sources", [])
    checked = meta.get("checked")
    if language == SOURCE_LANGUAGE:
        if not isinstance(meta.get("title"), str):
            errors.append(FlowError(at("title"), "add `title:` with the translation key of the "
                                    "page title"))
        if not sources or not all(isinstance(s, str) and s.startswith("https://")
                                  for s in sources):
            errors.append(FlowError(at("sources"), "add `sources:`, a list of https:// links "
                                    "the page relies on"))
        if not isinstance(checked, date):
            errors.append(FlowError(at("checked"), "add `checked: YYYY-MM-DD`, the date the "
                                    "facts were last checked"))
    state = meta.get("state", "reviewed" if language == SOURCE_LANGUAGE else "draft")
    if state not in REVIEW_STATES:
        errors.append(FlowError(at("state"), "state must be machine, draft or reviewed"))
    body = match.group(2).strip()
    if not body:
        errors.append(FlowError(Location(file), "the page has no text"))
    if errors:
        raise FlowErrors(errors)
    return PageSource(
        id=expected_id,
        language=language,
        title_key=meta.get("title") if isinstance(meta.get("title"), str) else None,
        sources=tuple(sources),
        checked=checked if isinstance(checked, date) else None,
        state=state,
        source=meta.get("source") if isinstance(meta.get("source"), str) else None,
        body=body,
        location=Location(file),
        title_location=at("title"),
    )
