"""Queries for reminders: planning rows for a meeting, claiming due rows, recording
what happened to them, and the operators' status overview."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, exists, func, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.storage.outbox import BULK_PRIORITY
from bot.storage.school_tables import INVITATIONS, MEETINGS, REMINDERS, SCHOOLS
from bot.storage.tables import CONTACTS, OUTBOX, SESSIONS

_R, _I, _M, _S = REMINDERS, INVITATIONS, MEETINGS, SCHOOLS
PLAN_KEY = ["invitation_id", "kind", "offset_minutes", "meeting_version"]
# The outbox kind of reminder messages: bulk priority, and the name of the WhatsApp
# template used outside the 24-hour window (bot/channels/templates.py).
OUTBOX_KIND = "reminder"
# Outbox states of a message the parent may have seen.
DELIVERED = ("sent", "unconfirmed")
# Where the meeting flow saves the parent's note of what was agreed (flows/meeting.yaml).
NOTE_VARIABLE = "meeting.notes"


# -- planning --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedInvitation:
    """One invited parent, with their own time slot if they have one."""

    id: int
    contact_id: int
    slot_start: datetime | None
    slot_end: datetime | None


@dataclass(frozen=True)
class MeetingToPlan:
    """What planning needs to know about a meeting and its school."""

    id: int
    version: int
    status: str
    starts_at: datetime
    ends_at: datetime
    followup: bool
    reminder_offsets: list[int]
    quiet_start: str
    quiet_end: str
    timezone: str
    invitations: list[PlannedInvitation]


@dataclass(frozen=True)
class NewReminder:
    """A reminder row to add (if its plan key is not taken yet)."""

    invitation_id: int
    kind: str
    offset_minutes: int
    meeting_version: int
    due_at: datetime


_MEETING = core_select(
    _M.c.id, _M.c.version, _M.c.status, _M.c.starts_at, _M.c.ends_at, _M.c.followup,
    _S.c.reminder_offsets, _S.c.quiet_start, _S.c.quiet_end, _S.c.timezone,
).select_from(_M.join(_S, _S.c.id == _M.c.school_id)).where(_M.c.id == bindparam("meeting"))
_INVITATIONS = core_select(_I.c.id, _I.c.contact_id, _I.c.slot_start, _I.c.slot_end).where(
    _I.c.meeting_id == bindparam("meeting")).order_by(_I.c.id)
_OF_MEETING = core_select(_I.c.id).where(_I.c.meeting_id == bindparam("meeting"))
_PLANNED_KEYS = core_select(_R.c.invitation_id, _R.c.kind, _R.c.offset_minutes).where(
    _R.c.invitation_id.in_(_OF_MEETING), _R.c.meeting_version == bindparam("version"))
_INSERTS: dict[str, Insert] = {
    name: dialect.insert(_R).on_conflict_do_nothing(index_elements=PLAN_KEY)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
# A cancellation notice is never cancelled: it is the last word on the meeting.
_CANCEL_PENDING = update(_R).where(
    _R.c.invitation_id.in_(_OF_MEETING), _R.c.status == "pending", _R.c.kind != "cancelled",
    _R.c.meeting_version < bindparam("below_version"),
).values(status="cancelled", reason=bindparam("why"), processed_at=bindparam("at"))


def meeting_to_plan(session: Session, meeting_id: int) -> MeetingToPlan | None:
    """The meeting, its school's schedule and its invitations; None if it is gone."""
    row = session.execute(_MEETING, {"meeting": meeting_id}).one_or_none()
    if row is None:
        return None
    invitations = [PlannedInvitation(*found) for found in
                   session.execute(_INVITATIONS, {"meeting": meeting_id})]
    return MeetingToPlan(
        id=row.id, version=row.version, status=row.status, starts_at=row.starts_at,
        ends_at=row.ends_at, followup=bool(row.followup),
        reminder_offsets=[int(minutes) for minutes in row.reminder_offsets],
        quiet_start=row.quiet_start, quiet_end=row.quiet_end, timezone=row.timezone,
        invitations=invitations)


def planned_keys(session: Session, meeting_id: int,
                 version: int) -> set[tuple[int, str, int]]:
    """(invitation id, kind, offset) of every row already planned for this version."""
    return {(int(row[0]), str(row[1]), int(row[2])) for row in
            session.execute(_PLANNED_KEYS, {"meeting": meeting_id, "version": version})}


def add_reminders(session: Session, reminders: Sequence[NewReminder], now: datetime) -> None:
    """Insert pending rows; a row whose plan key exists already is skipped (two planners
    at once on PostgreSQL are harmless)."""
    if not reminders:
        return
    statement = _INSERTS[session.get_bind().dialect.name]
    session.execute(statement, [{
        "invitation_id": reminder.invitation_id, "kind": reminder.kind,
        "offset_minutes": reminder.offset_minutes,
        "meeting_version": reminder.meeting_version, "due_at": reminder.due_at,
        "status": "pending", "created_at": now,
    } for reminder in reminders])


def cancel_pending(session: Session, meeting_id: int, *, below_version: int, reason: str,
                   now: datetime) -> int:
    """Cancel the meeting's pending rows planned for versions below `below_version`."""
    result = session.execute(_CANCEL_PENDING, {"meeting": meeting_id,
                                               "below_version": below_version,
                                               "why": reason, "at": now})
    return int(getattr(result, "rowcount", 0) or 0)


# -- claiming due rows ---------------------------------------------------------------------

@dataclass(frozen=True)
class DueReminder:
    """A due reminder row with everything needed to decide on it and write it."""

    id: int
    kind: str
    offset_minutes: int
    meeting_version: int
    due_at: datetime
    invitation_id: int
    contact_id: int
    slot_start: datetime | None
    slot_end: datetime | None
    calendar_token: str
    rsvp: str | None
    meeting_id: int
    meeting_kind: str
    title: str | None
    note: str | None
    starts_at: datetime
    ends_at: datetime
    place: str | None
    online_url: str | None
    meeting_status: str
    current_version: int
    followup_wanted: bool
    school_name: str
    school_language: str
    timezone: str
    quiet_start: str
    quiet_end: str
    channel: str
    address: str
    language: str | None
    opted_out_at: datetime | None
    last_inbound_at: datetime | None

    @property
    def start(self) -> datetime:
        """When this parent's part begins: their slot, or the meeting."""
        return self.slot_start or self.starts_at

    @property
    def end(self) -> datetime:
        """When this parent's part ends."""
        return self.slot_end or max(self.ends_at, self.start)

    @property
    def school_text(self) -> str | None:
        """The school's own words (title and note), in the school's language."""
        parts = [part.strip() for part in (self.title, self.note) if part and part.strip()]
        return "\n\n".join(parts) or None


@dataclass(frozen=True)
class Outcome:
    """What became of a claimed row. `due_at` moves a deferred row; `message` (a JSON
    outbox payload) is enqueued for a sent one."""

    reminder_id: int
    status: str
    reason: str | None = None
    due_at: datetime | None = None
    message: dict[str, Any] | None = None


_DUE_COLUMNS = core_select(
    _R.c.id, _R.c.kind, _R.c.offset_minutes, _R.c.meeting_version, _R.c.due_at,
    _R.c.invitation_id, _I.c.contact_id, _I.c.slot_start, _I.c.slot_end, _I.c.calendar_token,
    _I.c.rsvp, _M.c.id.label("meeting_id"), _M.c.kind.label("meeting_kind"), _M.c.title, _M.c.note,
    _M.c.starts_at, _M.c.ends_at, _M.c.place, _M.c.online_url,
    _M.c.status.label("meeting_status"), _M.c.version.label("current_version"),
    _M.c.followup.label("followup_wanted"),
    _S.c.name.label("school_name"), _S.c.language.label("school_language"), _S.c.timezone,
    _S.c.quiet_start, _S.c.quiet_end, CONTACTS.c.channel, CONTACTS.c.address,
    CONTACTS.c.language, CONTACTS.c.opted_out_at, CONTACTS.c.last_inbound_at,
).select_from(
    _R.join(_I, _I.c.id == _R.c.invitation_id).join(_M, _M.c.id == _I.c.meeting_id)
    .join(_S, _S.c.id == _M.c.school_id).join(CONTACTS, CONTACTS.c.id == _I.c.contact_id)
).where(_R.c.status == "pending", _R.c.due_at <= bindparam("now"))
_PREVIEW = _DUE_COLUMNS.order_by(_R.c.due_at, _R.c.id).limit(bindparam("limit"))
# Rows another worker holds are skipped (PostgreSQL); a row it already finished is no
# longer pending. SQLite ignores the lock clause: BEGIN IMMEDIATE serialises claims.
_CLAIM = _DUE_COLUMNS.where(_R.c.id.in_(bindparam("ids", expanding=True))).order_by(
    _R.c.id).with_for_update(skip_locked=True, of=_R)
# A reminder is superseded when a later one (smaller offset) of the same invitation and
# version is due too, or already went out: after downtime the parent gets the latest.
_LATER = _R.alias("later")
_SUPERSEDED = core_select(_R.c.id).where(
    _R.c.id.in_(bindparam("ids", expanding=True)), _R.c.kind == "reminder",
    exists().where(_LATER.c.invitation_id == _R.c.invitation_id, _LATER.c.kind == "reminder",
                   _LATER.c.meeting_version == _R.c.meeting_version,
                   _LATER.c.offset_minutes < _R.c.offset_minutes,
                   _LATER.c.due_at <= bindparam("now"),
                   _LATER.c.status.in_(("pending", "sent"))))
_NOTES = core_select(SESSIONS.c.contact_id, SESSIONS.c.state).where(
    SESSIONS.c.contact_id.in_(bindparam("ids", expanding=True)))
_ENQUEUE = insert(OUTBOX).returning(OUTBOX.c.id, sort_by_parameter_order=True)
_RECORD = update(_R).where(_R.c.id == bindparam("rid")).values(
    status=bindparam("new_status"), reason=bindparam("why"), due_at=bindparam("new_due"),
    channel=bindparam("via"), outbox_id=bindparam("oid"), claim_token=bindparam("token"),
    processed_at=bindparam("at"))


def preview_due(session: Session, now: datetime, limit: int) -> list[DueReminder]:
    """The next due rows, without claiming them (to prepare translations first)."""
    return [DueReminder(**row._mapping) for row in
            session.execute(_PREVIEW, {"now": now, "limit": limit})]


def claim_due(session: Session, ids: Sequence[int], now: datetime) -> list[DueReminder]:
    """Lock these rows if they are still pending and due; the caller records an outcome
    for each in the same transaction."""
    if not ids:
        return []
    return [DueReminder(**row._mapping) for row in
            session.execute(_CLAIM, {"now": now, "ids": list(ids)})]


def superseded(session: Session, ids: Sequence[int], now: datetime) -> set[int]:
    """Which of these reminders have a later reminder due or sent (see _SUPERSEDED)."""
    if not ids:
        return set()
    return set(session.execute(_SUPERSEDED, {"ids": list(ids), "now": now}).scalars())


def saved_notes(session: Session, contact_ids: Iterable[int]) -> dict[int, str]:
    """The meeting note each parent saved in the conversation (`meeting.notes`), if any."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    notes = {}
    for contact_id, state in session.execute(_NOTES, {"ids": ids}):
        note = (state or {}).get("answers", {}).get(NOTE_VARIABLE)
        if isinstance(note, str) and note.strip():
            notes[int(contact_id)] = note.strip()
    return notes


def record_outcomes(session: Session, claimed: Sequence[DueReminder],
                    outcomes: Sequence[Outcome], now: datetime, token: str) -> None:
    """Write the outbox rows of sent reminders and every row's outcome."""
    if not outcomes:
        return
    by_id = {reminder.id: reminder for reminder in claimed}
    sending = [outcome for outcome in outcomes if outcome.message is not None]
    outbox_ids: dict[int, int] = {}
    if sending:
        created = session.execute(_ENQUEUE, [{
            "contact_id": by_id[outcome.reminder_id].contact_id,
            "channel": by_id[outcome.reminder_id].channel,
            "address": by_id[outcome.reminder_id].address, "kind": OUTBOX_KIND,
            "priority": BULK_PRIORITY, "payload": outcome.message, "status": "pending",
            "attempts": 0, "available_at": now, "created_at": now,
        } for outcome in sending]).scalars().all()
        outbox_ids = {outcome.reminder_id: int(row_id)
                      for outcome, row_id in zip(sending, created, strict=True)}
    session.execute(_RECORD, [{
        "rid": outcome.reminder_id, "new_status": outcome.status,
        "why": outcome.reason[:300] if outcome.reason else None,
        "new_due": outcome.due_at or by_id[outcome.reminder_id].due_at,
        "via": by_id[outcome.reminder_id].channel if outcome.status != "pending" else None,
        "oid": outbox_ids.get(outcome.reminder_id), "token": token,
        "at": now if outcome.status != "pending" else None,
    } for outcome in outcomes])


# -- answers (RSVP) ------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerTarget:
    """The invitation a parent answers, with what decides whether the answer still counts."""

    invitation_id: int
    meeting_status: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class LastReminder:
    """The options of the reminder a parent received last."""

    question: int
    choice_ids: list[str]
    labels: list[str]


_TARGET = core_select(_I.c.id, _I.c.slot_start, _I.c.slot_end, _M.c.status, _M.c.starts_at,
                      _M.c.ends_at).select_from(_I.join(_M, _M.c.id == _I.c.meeting_id)).where(
    _I.c.id == bindparam("invitation"), _I.c.contact_id == bindparam("contact"))
_LAST_MESSAGE = core_select(OUTBOX.c.kind, OUTBOX.c.status, OUTBOX.c.payload).where(
    OUTBOX.c.channel == bindparam("channel"), OUTBOX.c.address == bindparam("address"),
    OUTBOX.c.status.not_in(("failed", "cancelled")),
).order_by(OUTBOX.c.id.desc()).limit(1)
_ANSWER = update(_I).where(_I.c.id == bindparam("invitation")).values(
    rsvp=bindparam("answer"), rsvp_at=bindparam("at"))


def answer_target(session: Session, invitation_id: int, contact_id: int) -> AnswerTarget | None:
    """The invitation, if it exists and belongs to this contact (a forged button press
    for someone else's invitation finds nothing)."""
    row = session.execute(_TARGET, {"invitation": invitation_id,
                                    "contact": contact_id}).one_or_none()
    if row is None:
        return None
    start = row.slot_start or row.starts_at
    return AnswerTarget(row.id, row.status, start, row.slot_end or max(row.ends_at, start))


def last_reminder(session: Session, channel: str, address: str) -> LastReminder | None:
    """The options of the last message to this chat, if that was a delivered reminder
    with options (so a typed "2" answers it, not an older question)."""
    row = session.execute(_LAST_MESSAGE, {"channel": channel, "address": address}).one_or_none()
    if row is None or row.kind != OUTBOX_KIND or row.status not in DELIVERED:
        return None
    payload = row.payload or {}
    choices = payload.get("choices") or []
    if not choices or not isinstance(payload.get("question"), int):
        return None
    return LastReminder(int(payload["question"]), [str(c["id"]) for c in choices],
                        [str(c["label"]) for c in choices])


def record_answer(session: Session, invitation_id: int, answer: str, now: datetime) -> None:
    """Store the parent's answer (the latest answer counts)."""
    session.execute(_ANSWER, {"invitation": invitation_id, "answer": answer, "at": now})


# -- calendar files ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CalendarEntry:
    """What an invitation's calendar file shows."""

    invitation_id: int
    meeting_id: int
    meeting_kind: str
    version: int
    status: str
    start: datetime
    end: datetime
    place: str | None
    online_url: str | None
    updated_at: datetime
    school_name: str
    language: str | None


_CALENDAR = core_select(
    _I.c.id, _I.c.slot_start, _I.c.slot_end, _M.c.id.label("meeting_id"), _M.c.kind,
    _M.c.version, _M.c.status, _M.c.starts_at, _M.c.ends_at, _M.c.place, _M.c.online_url,
    _M.c.updated_at, _S.c.name, CONTACTS.c.language,
).select_from(_I.join(_M, _M.c.id == _I.c.meeting_id).join(_S, _S.c.id == _M.c.school_id)
              .join(CONTACTS, CONTACTS.c.id == _I.c.contact_id)).where(
    _I.c.calendar_token == bindparam("token"))


def calendar_entry(session: Session, token: str) -> CalendarEntry | None:
    """The invitation with this calendar token, or None."""
    row = session.execute(_CALENDAR, {"token": token}).one_or_none()
    if row is None:
        return None
    start = row.slot_start or row.starts_at
    return CalendarEntry(
        invitation_id=row.id, meeting_id=row.meeting_id, meeting_kind=row.kind,
        version=row.version, status=row.status, start=start,
        end=row.slot_end or max(row.ends_at, start), place=row.place,
        online_url=row.online_url, updated_at=row.updated_at, school_name=row.name,
        language=row.language)


# -- the operators' overview -----------------------------------------------------------------

@dataclass(frozen=True)
class StatusGroup:
    """A count of a meeting's reminder rows in one state, with one reason."""

    school_id: int
    school_name: str
    meeting_id: int
    meeting_kind: str
    starts_at: datetime
    meeting_status: str
    state: str  # planned, due, queued, sent, unconfirmed, failed, missed, unsendable, cancelled
    reason: str | None
    count: int
    next_due: datetime | None


# Unconfirmed: the sender died while the provider had it, and the provider cannot be
# asked (Telegram): it may or may not have arrived, and is not sent again.
_OUTBOX_STATE = {"pending": "queued", "claimed": "queued", "sending": "queued", "sent": "sent",
                 "unconfirmed": "unconfirmed", "failed": "failed", "cancelled": "failed"}
_STATUS = core_select(
    _S.c.id.label("school_id"), _S.c.name, _M.c.id.label("meeting_id"), _M.c.kind,
    _M.c.starts_at, _M.c.status.label("meeting_status"), _R.c.status, _R.c.reason,
    (_R.c.due_at <= bindparam("now")).label("is_due"), OUTBOX.c.status.label("outbox_status"),
    OUTBOX.c.error, func.count().label("rows"), func.min(_R.c.due_at).label("first_due"),
).select_from(
    _R.join(_I, _I.c.id == _R.c.invitation_id).join(_M, _M.c.id == _I.c.meeting_id)
    .join(_S, _S.c.id == _M.c.school_id).outerjoin(OUTBOX, OUTBOX.c.id == _R.c.outbox_id)
).group_by(
    _S.c.id, _S.c.name, _M.c.id, _M.c.kind, _M.c.starts_at, _M.c.status, _R.c.status,
    _R.c.reason, "is_due", OUTBOX.c.status, OUTBOX.c.error,
).order_by(_S.c.id, _M.c.starts_at, _M.c.id)


def reminder_status(session: Session, now: datetime,
                    school_id: int | None = None) -> list[StatusGroup]:
    """Every meeting's reminder rows, counted by state and reason. A sent row's state is
    its outbox row's: queued, sent (the provider took it) or failed (with its error)."""
    statement = _STATUS if school_id is None else _STATUS.where(_S.c.id == school_id)
    groups = []
    for row in session.execute(statement, {"now": now}):
        state, reason = row.status, row.reason
        if state == "pending":
            state = "due" if row.is_due else "planned"
        elif state == "sent" and row.outbox_status is not None:
            state = _OUTBOX_STATE.get(row.outbox_status, "queued")
            if state in ("failed", "unconfirmed"):
                reason = row.error
        groups.append(StatusGroup(
            school_id=row.school_id, school_name=row.name, meeting_id=row.meeting_id,
            meeting_kind=row.kind, starts_at=row.starts_at, meeting_status=row.meeting_status,
            state=state, reason=reason, count=int(row.rows),
            next_due=row.first_due if state in ("planned", "due") else None))
    return groups
