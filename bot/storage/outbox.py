"""The outbox: messages are rows first, then a channel delivers them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, exists, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.messages import OutboundMessage
from bot.storage.tables import CONTACTS, MESSAGE_LOG, OUTBOX, OutboxMessage
from bot.storage.upsert import InsertIgnoringConflicts

_INSERT = insert(OUTBOX)
_LOG_INSERT = InsertIgnoringConflicts(MESSAGE_LOG, ["channel", "direction", "provider_id"])
# A reply answers the parent in a conversation; every other kind (reminders, school
# messages...) is bulk, sent after replies.
REPLY = "reply"
REPLY_PRIORITY = 0
BULK_PRIORITY = 10
# pending: waits its turn; claimed: held by a sender, not handed to the provider yet;
# sending: being handed to the provider (written just before the call), or handed over
# with no outcome recorded: once its lease is over, "in doubt" (see `claim_due`).
UNSENT = ("pending", "claimed", "sending")
# unconfirmed: an interrupted send that the provider cannot confirm either way; it is
# never sent again (see bot/services/sender.py).
FINISHED = ("sent", "failed", "cancelled", "unconfirmed")


def enqueue(session: Session, *, contact_id: int | None, channel: str, address: str,
            messages: list[OutboundMessage], now: datetime, kind: str = REPLY) -> None:
    """Add messages to the outbox, in order (in the caller's transaction)."""
    if not messages:
        return
    priority = REPLY_PRIORITY if kind == REPLY else BULK_PRIORITY
    session.execute(_INSERT, [{
        "contact_id": contact_id, "channel": channel, "address": address, "kind": kind,
        "priority": priority, "payload": message.to_json(), "status": "pending",
        "attempts": 0, "available_at": now, "created_at": now,
    } for message in messages])


def cancel_bulk(session: Session, contact_id: int, reason: str) -> None:
    """Cancel pending non-reply messages to a contact (e.g. after they opted out)."""
    session.execute(update(OutboxMessage).where(
        col(OutboxMessage.contact_id) == contact_id, col(OutboxMessage.status) == "pending",
        col(OutboxMessage.kind) != REPLY).values(status="cancelled", error=reason))


def take_for_address(session: Session, channel: str, address: str,
                     now: datetime) -> list[OutboundMessage]:
    """Deliver a local channel's pending messages (console, web simulator): return them in
    order and mark them sent, with a log row each."""
    rows = list(session.exec(select(OutboxMessage).where(
        OutboxMessage.channel == channel, OutboxMessage.address == address,
        OutboxMessage.status == "pending").order_by(col(OutboxMessage.id)).with_for_update()))
    messages = [OutboundMessage.from_json(row.payload) for row in rows]
    for row in rows:
        mark_sent(session, row, f"local-{row.id}", now)
    return messages


def mark_sent(session: Session, row: OutboxMessage, provider_id: str, now: datetime) -> None:
    """Record a delivered message: the provider's id, and a log row.

    A message to an erased contact (the goodbye after "delete my data") keeps no
    address and no text once it is delivered.
    """
    erased = row.contact_id is None
    text = None if erased else str(row.payload.get("text", ""))
    row.status, row.sent_at, row.provider_id = "sent", now, provider_id
    row.attempts += 1
    row.claim_token = None
    if erased:
        row.address, row.payload = None, {}
    session.add(row)
    # A clash would roll back the record of a message that did go out, and send it again.
    _LOG_INSERT(session, {"contact_id": row.contact_id, "channel": row.channel,
                          "direction": "out", "provider_id": provider_id, "text": text,
                          "status": "sent", "created_at": now})


# -- the sender's side: claim due rows, record what happened -------------------------------

_O = OUTBOX
_EARLIER = OUTBOX.alias("earlier")
# A chat's messages go out in order: a row waits while an older one to the same address
# is unsent (pending, backing off, held by a sender, or in doubt).
_BLOCKED = exists().where(_EARLIER.c.channel == _O.c.channel,
                          _EARLIER.c.address == _O.c.address, _EARLIER.c.id < _O.c.id,
                          _EARLIER.c.status.in_(UNSENT))
# Claims whose lease ran out before their message was handed to the provider (their
# sender died first) go back to pending first, so the due query needs only
# `pending` rows of one channel, in (priority, id) order: an index scan that stops at
# `limit`, however long the queue. SKIP LOCKED lets several senders claim at once on
# PostgreSQL; SQLite ignores it (BEGIN IMMEDIATE serialises the claim).
_EXPIRED = update(_O).where(_O.c.channel == bindparam("queue"), _O.c.status == "claimed",
                            _O.c.available_at <= bindparam("now")).values(
    status="pending", claim_token=None)


def _due(status: str) -> Select[int]:
    return core_select(_O.c.id).where(
        _O.c.channel == bindparam("queue"), _O.c.status == status,
        _O.c.available_at <= bindparam("now"), ~_BLOCKED,
    ).order_by(_O.c.priority, _O.c.id).limit(bindparam("limit")).with_for_update(
        skip_locked=True, of=_O)


# A row still `sending` after its lease may have reached the provider: "in doubt". There
# are few (at most the sends in flight when senders died), and they go first.
_IN_DOUBT, _DUE = _due("sending"), _due("pending")
# An in-doubt row stays `sending` under its new claim, so that it is still in doubt if
# this sender dies too.
_CLAIM = update(_O).where(_O.c.id.in_(bindparam("ids", expanding=True))).values(
    status=case((_O.c.status == "sending", "sending"), else_="claimed"),
    claim_token=bindparam("token"), available_at=bindparam("until"))
_CLAIMED = core_select(
    _O.c.id, _O.c.channel, _O.c.address, _O.c.kind, _O.c.payload, _O.c.attempts,
    _O.c.contact_id, _O.c.created_at, _O.c.status, _O.c.sent_at, CONTACTS.c.last_inbound_at,
).select_from(_O.outerjoin(CONTACTS, CONTACTS.c.id == _O.c.contact_id)).where(
    _O.c.id.in_(bindparam("ids", expanding=True))).order_by(_O.c.priority, _O.c.id)


@dataclass(frozen=True)
class Claimed:
    """An outbox row held by one sender (its `token`) until its lease ends."""

    id: int
    channel: str
    address: str
    kind: str
    message: OutboundMessage
    attempts: int
    contact_id: int | None
    # The parent's last message (WhatsApp's 24-hour window). A reply to a contact erased
    # since was written while handling their message, so its own time stands in.
    last_inbound_at: datetime | None
    token: str
    # When an earlier attempt that may have reached the provider began, if there was one
    # whose outcome is unknown: the sender must find out before sending again.
    in_doubt_since: datetime | None = None


def claim_due(session: Session, channels: Sequence[str], now: datetime, *, lease: timedelta,
              limit: int, token: str) -> list[Claimed]:
    """Claim up to `limit` due rows of these channels, at most one per address, for
    `lease`: rows in doubt first, then highest priority (live replies), oldest first."""
    ids: list[int] = []
    for channel in channels:
        if len(ids) >= limit:
            break
        session.execute(_EXPIRED, {"queue": channel, "now": now})
        for query in (_IN_DOUBT, _DUE):
            ids += session.execute(query, {"queue": channel, "now": now,
                                           "limit": limit - len(ids)}).scalars()
    if not ids:
        return []
    session.execute(_CLAIM, {"ids": ids, "token": token, "until": now + lease})
    claimed = []
    for row in session.execute(_CLAIMED, {"ids": ids}):
        last_inbound = row.last_inbound_at
        if row.contact_id is None and row.kind == REPLY:
            last_inbound = row.created_at
        in_doubt = (row.sent_at or row.created_at) if row.status == "sending" else None
        claimed.append(Claimed(
            id=row.id, channel=row.channel, address=row.address, kind=row.kind,
            message=OutboundMessage.from_json(row.payload), attempts=row.attempts,
            contact_id=row.contact_id, last_inbound_at=last_inbound, token=token,
            in_doubt_since=in_doubt))
    return claimed


def _held(row_id: int, token: str) -> Any:
    """The row, only while this sender's claim on it still stands."""
    return (col(OutboxMessage.id) == row_id) & (col(OutboxMessage.claim_token) == token) & (
        col(OutboxMessage.status).in_(["claimed", "sending"]))


def _update_held(session: Session, claimed: Claimed, **values: Any) -> bool:
    result = session.execute(update(OutboxMessage).where(_held(claimed.id, claimed.token))
                             .values(**values))
    return bool(getattr(result, "rowcount", 0))


def start_attempt(session: Session, claimed: Claimed, now: datetime) -> bool:
    """Record, and commit, before calling the provider, that the message is being handed
    over (status `sending`, `sent_at` = now): if the sender dies before it records the
    outcome, the row is in doubt instead of simply due again.

    Returns False if the claim was lost (the lease ran out): then do not send.
    """
    return _update_held(session, claimed, status="sending", sent_at=now)


def record_sent(session: Session, claimed: Claimed, provider_id: str, now: datetime) -> bool:
    """The provider accepted the message: mark it sent (see `mark_sent`).

    Returns False if the claim was lost (the lease ran out during the provider's call):
    the row is then in doubt for the sender that takes it.
    """
    row = session.exec(select(OutboxMessage).where(_held(claimed.id, claimed.token))
                       .with_for_update()).first()
    if row is None:
        return False
    mark_sent(session, row, provider_id, now)
    return True


def record_retry(session: Session, claimed: Claimed, available_at: datetime, error: str, *,
                 in_doubt: bool = False) -> bool:
    """A failed attempt worth repeating: back to pending until `available_at`. An attempt
    that may have reached the provider anyway (`in_doubt`) stays `sending`, so that the
    next one finds out first."""
    outcome: dict[str, Any] = {"status": "sending"} if in_doubt else {
        "status": "pending", "sent_at": None}
    return _update_held(session, claimed, **outcome, attempts=col(OutboxMessage.attempts) + 1,
                        available_at=available_at, error=error[:300], claim_token=None)


def release(session: Session, claimed: Claimed, available_at: datetime) -> bool:
    """Give a claimed row back untried (e.g. the channel is paused by a rate limit); a
    row in doubt stays in doubt."""
    return _update_held(session, claimed, available_at=available_at, claim_token=None,
                        status=case((col(OutboxMessage.status) == "sending", "sending"),
                                    else_="pending"))


def record_failed(session: Session, claimed: Claimed, error: str, *,
                  attempted: bool = True) -> bool:
    """A permanent failure, with its reason. A row to an erased contact keeps neither
    address nor text."""
    return _finish(session, claimed, "failed", error, attempted=attempted)


def record_unconfirmed(session: Session, claimed: Claimed, reason: str) -> bool:
    """An interrupted send that the provider cannot confirm: final, never sent again
    (status `unconfirmed`, with the reason, for the operator to see)."""
    return _finish(session, claimed, "unconfirmed", reason, attempted=True)


def _finish(session: Session, claimed: Claimed, status: str, error: str, *,
            attempted: bool) -> bool:
    row = session.exec(select(OutboxMessage).where(_held(claimed.id, claimed.token))
                       .with_for_update()).first()
    if row is None:
        return False
    row.status, row.error, row.claim_token = status, error[:300], None
    row.attempts += 1 if attempted else 0
    if status == "failed":
        row.sent_at = None
    if row.contact_id is None:
        row.address, row.payload = None, {}
    session.add(row)
    return True


def cancel_pending(session: Session, contact_id: int, reason: str) -> int:
    """Cancel every unsent row to a contact the provider says cannot be reached."""
    result = session.execute(update(OutboxMessage).where(
        col(OutboxMessage.contact_id) == contact_id, col(OutboxMessage.status) == "pending",
    ).values(status="cancelled", error=reason))
    return int(getattr(result, "rowcount", 0) or 0)


# -- delivery status reported by the provider (status callbacks) ---------------------------

# Progress only moves forward; a failure may end progress up to "sent", but never
# overwrites "delivered" or "read", and nothing overwrites a failure.
DELIVERY_RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2,
                 "delivered": 3, "read": 4}
DELIVERY_FAILURES = frozenset({"failed", "undelivered", "canceled"})


def update_delivery(session: Session, channel: str, provider_id: str, status: str,
                    error: str | None = None) -> bool:
    """Record the provider's delivery status on the row with this provider id, unless
    that would move it backwards. Returns whether the row changed."""
    if status in DELIVERY_RANK:
        ceiling = DELIVERY_RANK[status]
    elif status in DELIVERY_FAILURES:
        ceiling = DELIVERY_RANK["delivered"]
    else:
        return False
    earlier = [name for name, rank in DELIVERY_RANK.items() if rank < ceiling]
    values: dict[str, Any] = {"delivery": status}
    if error is not None:
        values["error"] = error[:300]
    result = session.execute(update(OutboxMessage).where(
        col(OutboxMessage.channel) == channel, col(OutboxMessage.provider_id) == provider_id,
        col(OutboxMessage.delivery).is_(None) | col(OutboxMessage.delivery).in_(earlier),
    ).values(**values))
    return bool(getattr(result, "rowcount", 0))


def contact_for_provider_id(session: Session, channel: str, provider_id: str) -> int | None:
    """The contact a sent message went to, found by the provider's id for it."""
    return session.exec(select(OutboxMessage.contact_id).where(
        OutboxMessage.channel == channel, OutboxMessage.provider_id == provider_id)).first()
