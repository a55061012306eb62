"""Queries for schools, their groups, the parents who belong to them and their children.

Every query for a school's own data takes the school's id and filters by it, so an id
that belongs to another school finds nothing, exactly like an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.storage.school_tables import Child, Membership, School, SchoolGroup
from bot.storage.tables import Contact

# A member may be invited when the school recorded their consent (CSV import) or the
# parent agreed to the bot's terms in its onboarding.
_CONSENTED = or_(col(Membership.consent_at).is_not(None), col(Contact.consent_at).is_not(None))

# -- schools -------------------------------------------------------------------------------


def add_school(session: Session, school: School) -> int:
    """Store a new school; return its id."""
    session.add(school)
    session.flush()
    assert school.id is not None
    return school.id


def get_school(session: Session, school_id: int) -> School | None:
    """The school with this id."""
    return session.get(School, school_id)


def school_by_code(session: Session, invite_code: str) -> School | None:
    """The school whose invite code this is (codes are stored in capitals)."""
    return session.exec(select(School).where(School.invite_code == invite_code.upper())).first()


def all_schools(session: Session) -> list[School]:
    """Every school, oldest first (for operators)."""
    return list(session.exec(select(School).order_by(col(School.id))))


# -- groups --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRow:
    """A group (class) and how many parents are in it."""

    id: int
    name: str
    members: int


def list_groups(session: Session, school_id: int) -> list[GroupRow]:
    """The school's groups by name, with their member counts."""
    rows = session.exec(
        select(SchoolGroup.id, SchoolGroup.name, func.count(col(Membership.id)))
        .join(Membership, col(Membership.group_id) == col(SchoolGroup.id), isouter=True)
        .where(SchoolGroup.school_id == school_id)
        .group_by(col(SchoolGroup.id), col(SchoolGroup.name))
        .order_by(col(SchoolGroup.name)))
    return [GroupRow(group_id, name, count) for group_id, name, count in rows if group_id]


def groups_by_name(session: Session, school_id: int) -> dict[str, int]:
    """The school's group ids by name."""
    rows = session.exec(select(SchoolGroup.name, SchoolGroup.id).where(
        SchoolGroup.school_id == school_id))
    return {name: group_id for name, group_id in rows if group_id is not None}


def add_group(session: Session, school_id: int, name: str) -> int:
    """Add a group to the school; return its id. The caller checks the name is free."""
    group = SchoolGroup(school_id=school_id, name=name)
    session.add(group)
    session.flush()
    assert group.id is not None
    return group.id


def existing_groups(session: Session, school_id: int, group_ids: Collection[int]) -> set[int]:
    """Those of `group_ids` that are the school's."""
    if not group_ids:
        return set()
    return {gid for gid in session.exec(select(SchoolGroup.id).where(
        SchoolGroup.school_id == school_id, col(SchoolGroup.id).in_(group_ids))) if gid}


# -- members -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    """A parent as the school sees them. `address` is for masking only: never shown."""

    id: int  # the membership's id: the parent's id for this school
    contact_id: int
    channel: str
    address: str
    language: str | None
    group_id: int | None
    group: str | None
    source: str
    consented: bool
    joined_at: datetime


_MEMBER_COLUMNS = (
    col(Membership.id), col(Membership.contact_id), col(Contact.channel), col(Contact.address),
    col(Contact.language), col(Membership.group_id), col(SchoolGroup.name),
    col(Membership.source), _CONSENTED, col(Membership.joined_at))


def list_members(session: Session, school_id: int, *,
                 group_ids: Collection[int] | None = None,
                 member_ids: Collection[int] | None = None) -> list[MemberRow]:
    """The school's parents by id; only those in `group_ids` or with `member_ids` if
    given."""
    query = (core_select(*_MEMBER_COLUMNS)
             .join(Contact, col(Contact.id) == col(Membership.contact_id))
             .join(SchoolGroup, col(SchoolGroup.id) == col(Membership.group_id), isouter=True)
             .where(col(Membership.school_id) == school_id))
    if group_ids is not None:
        query = query.where(col(Membership.group_id).in_(group_ids))
    if member_ids is not None:
        query = query.where(col(Membership.id).in_(member_ids))
    return [MemberRow(*row) for row in session.execute(query.order_by(col(Membership.id)))]


def membership_for(session: Session, school_id: int, contact_id: int) -> Membership | None:
    """The contact's membership of the school, if any."""
    return session.exec(select(Membership).where(
        Membership.school_id == school_id, Membership.contact_id == contact_id)).first()


def member_contact(session: Session, school_id: int, member_id: int) -> int | None:
    """The contact behind one of the school's memberships."""
    return session.exec(select(Membership.contact_id).where(
        Membership.school_id == school_id, Membership.id == member_id)).first()


def save_membership(session: Session, membership: Membership) -> int:
    """Store a new or changed membership; return its id."""
    session.add(membership)
    session.flush()
    assert membership.id is not None
    return membership.id


def withdraw_consent(session: Session, school_id: int, contact_id: int) -> bool:
    """The school no longer has this parent's consent; False if they are no member."""
    result = session.execute(update(Membership).where(
        col(Membership.school_id) == school_id, col(Membership.contact_id) == contact_id)
        .values(consent_at=None))
    return bool(getattr(result, "rowcount", 0))


def remove_member(session: Session, school_id: int, member_id: int) -> bool:
    """End a membership (the parent's contact and other schools stay); False if the
    school has no such member."""
    result = session.execute(delete(Membership).where(
        col(Membership.school_id) == school_id, col(Membership.id) == member_id))
    return bool(getattr(result, "rowcount", 0))


def contacts_by_address(session: Session, channel: str,
                        addresses: Collection[str]) -> dict[str, Contact]:
    """The known contacts among these addresses."""
    if not addresses:
        return {}
    rows = session.exec(select(Contact).where(
        Contact.channel == channel, col(Contact.address).in_(addresses)))
    return {row.address: row for row in rows}


def memberships_of(session: Session, school_id: int,
                   contact_ids: Collection[int]) -> dict[int, Membership]:
    """The school's memberships of these contacts, by contact id."""
    if not contact_ids:
        return {}
    rows = session.exec(select(Membership).where(
        Membership.school_id == school_id, col(Membership.contact_id).in_(contact_ids)))
    return {row.contact_id: row for row in rows}


# -- children ------------------------------------------------------------------------------


def list_children(session: Session, school_id: int, contact_id: int) -> list[Child]:
    """The children a parent has at this school."""
    return list(session.exec(select(Child).where(
        Child.school_id == school_id, Child.contact_id == contact_id).order_by(col(Child.id))))


def add_child(session: Session, school_id: int, contact_id: int, stage: str,
              now: datetime) -> Child:
    """Record a child (a stage, no name) of a parent at this school."""
    child = Child(contact_id=contact_id, school_id=school_id, stage=stage, created_at=now)
    session.add(child)
    session.flush()
    return child


def remove_child(session: Session, school_id: int, contact_id: int, child_id: int) -> bool:
    """Forget one of a parent's children at this school; False if there is no such one."""
    result = session.execute(delete(Child).where(
        col(Child.id) == child_id, col(Child.school_id) == school_id,
        col(Child.contact_id) == contact_id))
    return bool(getattr(result, "rowcount", 0))


def stage_counts(session: Session, school_id: int) -> dict[str, int]:
    """How many children the school's parents have at each stage."""
    rows = session.exec(select(Child.stage, func.count(col(Child.id))).where(
        Child.school_id == school_id).group_by(col(Child.stage)))
    return dict(rows.all())
