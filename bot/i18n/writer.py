"""Writing translations back to `locales/<lang>/*.yaml` and `content/**/<page>.<lang>.md`.

Each key goes to the file of the same name as the English file that holds it, in the
English order, as `{text, state, source}`; the review state and the fingerprint of the
English text are what `wegwijs i18n status` and `check` read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.content.pages import PageSource
from bot.engine.library import SOURCE_LANGUAGE
from bot.i18n.catalog import Catalog, Entry, ReviewState, fingerprint

HEADER = ("# Translations of locales/en/{name}. Managed by `wegwijs i18n` (import, translate,\n"
          "# stamp); edit the text freely. state: machine, draft or reviewed. source: the\n"
          "# fingerprint of the English text this translates (a change marks it stale).\n")


def write_language(catalog: Catalog, language: str, root: Path) -> list[Path]:
    """Rewrite every text file of `language` from the catalog; return the files written."""
    english = catalog.entries[SOURCE_LANGUAGE]
    entries = catalog.entries.get(language, {})
    by_file: dict[str, dict[str, Any]] = {}
    for key, source in english.items():
        entry = entries.get(key)
        if entry is None:
            continue
        name = Path(source.location.file).name
        by_file.setdefault(name, {})[key] = {"text": entry.text, "state": entry.state,
                                             "source": entry.source}
    written = []
    for name, items in by_file.items():
        path = root / language / name
        body = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)
        path.write_text(HEADER.format(name=name) + body, encoding="utf-8")
        written.append(path)
    return written


def set_entry(catalog: Catalog, language: str, key: str, text: str, state: ReviewState,
              source_text: str) -> None:
    """Put one translation in the catalog, fingerprinted against `source_text`."""
    english = catalog.entries[SOURCE_LANGUAGE][key]
    catalog.entries.setdefault(language, {})[key] = Entry(
        key, text, state, fingerprint(source_text), english.location)


def write_page(english: PageSource, language: str, body: str, state: ReviewState,
               source_body: str) -> Path:
    """Write one page translation next to its English page."""
    path = Path(english.location.file).with_suffix(f".{language}.md")
    front = yaml.safe_dump({"id": english.id, "state": state,
                            "source": fingerprint(source_body)}, sort_keys=False)
    path.write_text(f"---\n{front}---\n{body.strip()}\n", encoding="utf-8")
    return path
