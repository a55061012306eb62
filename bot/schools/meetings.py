"""Meetings and invitations: the rules, and telling parents about changes.

Times without a UTC offset are read in the school's time zone (what staff type); all
times are stored in UTC. A change parents must hear of (start, end, place, link, note,
a parent's slot) raises the meeting's `version` and goes to everyone invited through
`bot.reminders.planning`, in the same transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.reminders.planning import notify_meeting_cancelled, notify_meeting_changed, plan_meeting
from bot.schools.errors import Conflict, Invalid, NotFound
from bot.schools.registry import school_of
from bot.storage import meetings as store
from bot.storage import schools as school_store
from bot.storage.meetings import InvitationRow
from bot.storage.school_tables import Invitation, Meeting
from bot.storage.schools import MemberRow

KINDS = ("oudercontact", "learning_discussion", "study_choice_evening",
         "joint_application_evening", "other")
# What a parent answers to a reminder (None: no answer yet).
RSVP_ANSWERS = ("coming", "not_coming", "other_time", "interpreter")
MAX_DURATION = timedelta(hours=24)
MAX_TITLE, MAX_PLACE, MAX_URL, MAX_NOTE = 200, 300, 500, 1000
# Changes parents must hear of: they raise the version and send a "changed" notice.
NOTIFIED_FIELDS = ("starts_at", "ends_at", "place", "online_url", "note")


@dataclass(frozen=True)
class MeetingFields:
    """A meeting as staff describe it."""

    kind: str
    starts_at: datetime
    ends_at: datetime
    title: str | None = None
    place: str | None = None
    online_url: str | None = None
    note: str | None = None
    followup: bool = True  # ask parents afterwards what was agreed

    @classmethod
    def of(cls, meeting: Meeting) -> MeetingFields:
        """The fields of a stored meeting."""
        return cls(**{field.name: getattr(meeting, field.name)
                      for field in dataclasses.fields(cls)})


@dataclass(frozen=True)
class ParentSlot:
    """A parent (membership id) to invite, maybe with a time slot of their own."""

    parent_id: int
    slot_start: datetime | None = None
    slot_end: datetime | None = None


@dataclass(frozen=True)
class InviteResult:
    """What an invitation request did. Parents without consent are not invited."""

    invited: int
    slots_changed: int
    already_invited: int
    without_consent: tuple[int, ...]


def school_time(value: datetime, timezone: str) -> datetime:
    """A time in UTC; one without an offset is read in the school's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(UTC)


def _in_zone(fields: MeetingFields, timezone: str) -> MeetingFields:
    return dataclasses.replace(fields, starts_at=school_time(fields.starts_at, timezone),
                               ends_at=school_time(fields.ends_at, timezone))


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _tidy(fields: MeetingFields) -> MeetingFields:
    return dataclasses.replace(fields, title=_blank_to_none(fields.title),
                               place=_blank_to_none(fields.place),
                               online_url=_blank_to_none(fields.online_url),
                               note=_blank_to_none(fields.note))


def url_problem(url: str) -> str | None:
    """A problem with an online meeting link, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the online link must be a web address starting with https://"
    return None


def check_fields(fields: MeetingFields) -> list[str]:
    """Every rule the meeting breaks (empty if none). Times must be timezone-aware."""
    problems = []
    if fields.kind not in KINDS:
        problems.append(f"unknown kind {fields.kind!r} (one of {', '.join(KINDS)})")
    if fields.ends_at <= fields.starts_at:
        problems.append("the end must be after the start")
    elif fields.ends_at - fields.starts_at > MAX_DURATION:
        problems.append("a meeting can last at most 24 hours")
    if not fields.place and not fields.online_url:
        problems.append("give a place, an online link, or both")
    if fields.online_url and (problem := url_problem(fields.online_url)):
        problems.append(problem)
    for name, limit in (("title", MAX_TITLE), ("place", MAX_PLACE), ("online_url", MAX_URL),
                        ("note", MAX_NOTE)):
        value = getattr(fields, name)
        if value is not None and len(value) > limit:
            problems.append(f"the {name.replace('_', ' ')} must have at most {limit} characters")
    return problems


def meeting_of(session: Session, school_id: int, meeting_id: int) -> Meeting:
    """One of the school's meetings, or NotFound (also for another school's)."""
    meeting = store.get_meeting(session, school_id, meeting_id)
    if meeting is None:
        raise NotFound("meeting")
    return meeting


def meetings(session: Session, school_id: int, *, since: datetime | None = None,
             include_cancelled: bool = True) -> list[Meeting]:
    """The school's meetings by start time; only those ending after `since` if given."""
    school_of(session, school_id)
    return store.list_meetings(session, school_id, since=since,
                               include_cancelled=include_cancelled)


def create_meeting(session: Session, school_id: int, fields: MeetingFields,
                   now: datetime) -> Meeting:
    """Check and store a new meeting. Nobody is invited yet."""
    school = school_of(session, school_id)
    fields = _tidy(_in_zone(fields, school.timezone))
    problems = check_fields(fields)
    if fields.starts_at <= now:
        problems.append("the meeting must start in the future")
    if problems:
        raise Invalid(problems)
    meeting = Meeting(school_id=school_id, **dataclasses.asdict(fields), created_at=now,
                      updated_at=now)
    return store.add_meeting(session, meeting)


def update_meeting(session: Session, school_id: int, meeting_id: int,
                   changes: Mapping[str, Any], now: datetime) -> Meeting:
    """Change some fields of a meeting. If the meeting moves (start and end by the same
    amount), parents' slots move with it; a slot that would fall outside the new times
    is an error. Parents hear of changes to when, where and the note."""
    meeting = meeting_of(session, school_id, meeting_id)
    if meeting.status == "cancelled":
        raise Conflict("the meeting was cancelled")
    known = {field.name for field in dataclasses.fields(MeetingFields)}
    if unknown := sorted(set(changes) - known):
        raise Invalid([f"unknown field {name!r}" for name in unknown])
    school = school_of(session, school_id)
    before = MeetingFields.of(meeting)
    after = _tidy(_in_zone(dataclasses.replace(before, **changes), school.timezone))
    problems = check_fields(after)
    if after.starts_at != before.starts_at and after.starts_at <= now:
        problems.append("the meeting must start in the future")
    moved = after.starts_at - before.starts_at
    shift = moved if moved and after.ends_at - before.ends_at == moved else timedelta(0)
    slots = store.slotted_invitations(session, meeting_id)
    for invitation in slots:
        if not _slot_fits(*_shifted(invitation, shift), after):
            problems.append(f"invitation {invitation.id}: its slot would fall outside the "
                            "meeting; change the slot first")
    if problems:
        raise Invalid(problems)
    notified = any(getattr(before, name) != getattr(after, name) for name in NOTIFIED_FIELDS)
    for name in known:
        setattr(meeting, name, getattr(after, name))
    for invitation in slots if shift else ():
        invitation.slot_start, invitation.slot_end = _shifted(invitation, shift)
        store.save_invitation(session, invitation)
    if notified:
        meeting.version += 1
    meeting.updated_at = now
    store.save_meeting(session, meeting)
    if notified:
        notify_meeting_changed(session, meeting_id, now)
    elif before.followup != after.followup:
        plan_meeting(session, meeting_id, now)
    return meeting


def cancel_meeting(session: Session, school_id: int, meeting_id: int, now: datetime) -> Meeting:
    """Cancel a meeting and tell everyone invited. Cancelling twice changes nothing."""
    meeting = meeting_of(session, school_id, meeting_id)
    if meeting.status == "cancelled":
        return meeting
    meeting.status = "cancelled"
    meeting.updated_at = now
    store.save_meeting(session, meeting)
    notify_meeting_cancelled(session, meeting_id, now)
    return meeting


def _shifted(invitation: Invitation, shift: timedelta) -> tuple[datetime, datetime]:
    """A slotted invitation's slot, moved by `shift`."""
    start, end = invitation.slot_start, invitation.slot_end
    assert start is not None
    assert end is not None
    return start + shift, end + shift


def _slot_fits(start: datetime, end: datetime, meeting: MeetingFields) -> bool:
    return meeting.starts_at <= start < end <= meeting.ends_at


def _check_slots(parents: Sequence[ParentSlot], meeting: MeetingFields) -> list[str]:
    problems = []
    for parent in parents:
        if (parent.slot_start is None) != (parent.slot_end is None):
            problems.append(f"parent {parent.parent_id}: give both the slot's start and end")
        elif parent.slot_start is not None and parent.slot_end is not None and \
                not _slot_fits(parent.slot_start, parent.slot_end, meeting):
            problems.append(f"parent {parent.parent_id}: the slot must end after it starts "
                            "and lie within the meeting")
    return problems


def _targets(session: Session, school_id: int, parents: Sequence[ParentSlot],
             group_ids: Collection[int], all_members: bool) -> list[MemberRow]:
    """The members to invite: the named ones, the groups' and maybe everyone."""
    named = {parent.parent_id for parent in parents}
    if len(named) != len(parents):
        raise Invalid(["a parent is named twice"])
    if set(group_ids) - school_store.existing_groups(session, school_id, group_ids):
        raise NotFound("group")
    rows = {row.id: row for row in school_store.list_members(session, school_id,
                                                             member_ids=named)}
    if len(rows) != len(named):
        raise NotFound("parent")
    if all_members or group_ids:
        chosen = None if all_members else group_ids
        for row in school_store.list_members(session, school_id, group_ids=chosen):
            rows.setdefault(row.id, row)
    return list(rows.values())


def invite(session: Session, school_id: int, meeting_id: int, *,
           parents: Sequence[ParentSlot] = (), group_ids: Collection[int] = (),
           all_members: bool = False, now: datetime) -> InviteResult:
    """Invite parents: named ones (each maybe with a slot), whole groups, or all of the
    school's. Only parents who consented are invited; the others are listed. A parent
    already invited keeps their slot unless a new one is given; a new slot is a change
    they are told about."""
    meeting = meeting_of(session, school_id, meeting_id)
    if meeting.status == "cancelled":
        raise Conflict("the meeting was cancelled")
    if meeting.starts_at <= now:
        raise Conflict("the meeting has started")
    if not parents and not group_ids and not all_members:
        raise Invalid(["say whom to invite: parents, groups, or all members"])
    timezone = school_of(session, school_id).timezone
    parents = [ParentSlot(p.parent_id,
                          school_time(p.slot_start, timezone) if p.slot_start else None,
                          school_time(p.slot_end, timezone) if p.slot_end else None)
               for p in parents]
    if problems := _check_slots(parents, MeetingFields.of(meeting)):
        raise Invalid(problems)
    slots = {p.parent_id: (p.slot_start, p.slot_end) for p in parents if p.slot_start}
    targets = _targets(session, school_id, parents, group_ids, all_members)
    invitable = [row for row in targets if row.consented]
    existing = store.invitations_by_contact(session, meeting_id,
                                            [row.contact_id for row in invitable])
    changed: list[Invitation] = []
    for row in invitable:
        invitation = existing.get(row.contact_id)
        slot = slots.get(row.id)
        if invitation is not None and slot is not None and \
                (invitation.slot_start, invitation.slot_end) != slot:
            invitation.slot_start, invitation.slot_end = slot
            changed.append(invitation)
    if changed:
        # Told before the new parents are added: they get the meeting, not a "change".
        for invitation in changed:
            store.save_invitation(session, invitation)
        meeting.version += 1
        meeting.updated_at = now
        store.save_meeting(session, meeting)
        notify_meeting_changed(session, meeting_id, now)
    new = [row for row in invitable if row.contact_id not in existing]
    for row in new:
        start, end = slots.get(row.id, (None, None))
        store.add_invitation(session, meeting_id, row.contact_id, slot_start=start,
                             slot_end=end, now=now)
    if new:
        session.flush()
        plan_meeting(session, meeting_id, now)
    return InviteResult(invited=len(new), slots_changed=len(changed),
                        already_invited=len(existing) - len(changed),
                        without_consent=tuple(row.id for row in targets if not row.consented))


def invitations(session: Session, school_id: int, meeting_id: int) -> list[InvitationRow]:
    """The meeting's invitations with each parent's answer."""
    meeting_of(session, school_id, meeting_id)
    return store.list_invitations(session, school_id, meeting_id)


def rsvp_summary(session: Session, school_id: int, meeting_id: int) -> dict[str, int]:
    """How many parents are invited, and how many gave each answer or none yet."""
    meeting_of(session, school_id, meeting_id)
    counts = store.rsvp_counts(session, school_id, meeting_id)
    summary = {"invited": sum(counts.values()), "no_answer": counts.get(None, 0)}
    summary.update({answer: counts.get(answer, 0) for answer in RSVP_ANSWERS})
    return summary
