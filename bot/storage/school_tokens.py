"""Staff API tokens: only the SHA-256 of a token is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.storage.school_tables import SchoolToken


def token_hash(token: str) -> str:
    """The stored form of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, school_id: int, label: str, now: datetime) -> tuple[int, str]:
    """A new token for a school: its id and the token itself (never stored)."""
    token = secrets.token_urlsafe(32)
    row = SchoolToken(school_id=school_id, token_hash=token_hash(token), label=label,
                      created_at=now)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id, token


def school_for_token(session: Session, token: str) -> int | None:
    """The school a live (not revoked) token belongs to, if any. The lookup goes by hash,
    so secrets are never compared byte by byte in Python."""
    return session.exec(select(SchoolToken.school_id).where(
        SchoolToken.token_hash == token_hash(token),
        col(SchoolToken.revoked_at).is_(None))).first()


def revoke_token(session: Session, school_id: int, token_id: int, now: datetime) -> bool:
    """Revoke one of a school's tokens; False if the school has no such live token."""
    result = session.execute(update(SchoolToken).where(
        col(SchoolToken.id) == token_id, col(SchoolToken.school_id) == school_id,
        col(SchoolToken.revoked_at).is_(None)).values(revoked_at=now))
    return bool(getattr(result, "rowcount", 0))
