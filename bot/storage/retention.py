"""Keeping message text only as long as configured."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col

from bot.storage.outbox import FINISHED
from bot.storage.tables import MessageLog, OutboxMessage, TranslationCacheEntry
from bot.storage.ticket_tables import TicketMessage


def forget_old_text(session: Session, now: datetime, keep_days: int) -> int:
    """Erase the text of messages older than `keep_days`; drop finished outbox rows,
    ticket messages and cached machine translations (they hold or may hold a parent's
    words) of that age.

    Log rows stay (without text) so repeat deliveries are still recognised.
    Returns how many log rows lost their text.
    """
    cutoff = now - timedelta(days=keep_days)
    result = session.execute(update(MessageLog).where(
        col(MessageLog.created_at) < cutoff,
        or_(col(MessageLog.text).is_not(None), col(MessageLog.payload).is_not(None)),
    ).values(text=None, payload=None))
    session.execute(delete(OutboxMessage).where(
        col(OutboxMessage.created_at) < cutoff,
        col(OutboxMessage.status).in_(FINISHED)))
    session.execute(delete(TicketMessage).where(col(TicketMessage.created_at) < cutoff))
    session.execute(delete(TranslationCacheEntry).where(
        col(TranslationCacheEntry.created_at) < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
