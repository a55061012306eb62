"""Machine translations kept in the database (table translation_cache).

The key is the language pair, the model version and the SHA-256 of the text the model
was given (placeholders and glossary terms already replaced by tokens, so the stored
translation holds tokens too). The source text is never stored. Rows expire with the
message retention period (bot/storage/retention.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select
from sqlmodel import Session

from bot.storage.tables import TRANSLATION_CACHE
from bot.storage.upsert import InsertIgnoringConflicts

KEY_COLUMNS = ["source_language", "target_language", "model_version", "text_hash"]

# Built once: statement construction is a large part of a small query's cost.
_LOOKUP = select(TRANSLATION_CACHE.c.translation).where(
    and_(*(TRANSLATION_CACHE.c[name] == bindparam(name) for name in KEY_COLUMNS)))
_INSERT = InsertIgnoringConflicts(TRANSLATION_CACHE, KEY_COLUMNS)


@dataclass(frozen=True)
class CacheKey:
    """Identifies one translation of one text by one route of models."""

    source_language: str
    target_language: str
    model_version: str
    text_hash: str


def text_hash(text: str) -> str:
    """The SHA-256 of a text, as hexadecimal."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lookup(session: Session, key: CacheKey) -> str | None:
    """The cached translation, or None."""
    value = session.execute(_LOOKUP, asdict(key)).scalar()
    return None if value is None else str(value)


def store(session: Session, key: CacheKey, translation: str, now: datetime) -> None:
    """Keep a translation; a concurrent insert of the same key wins quietly."""
    _INSERT(session, {**asdict(key), "translation": translation, "created_at": now})
