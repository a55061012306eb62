"""A school's groups (classes), parents and their children (a stage each, no name)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.schools.errors import Conflict, Invalid, NotFound
from bot.schools.registry import school_of
from bot.schools.stages import stages_for
from bot.storage import schools as store
from bot.storage.school_tables import Child
from bot.storage.schools import GroupRow, MemberRow

MAX_GROUP_NAME = 60


def group_name_problem(name: str) -> str | None:
    """A problem with a group's name (already stripped), or None."""
    if not name or len(name) > MAX_GROUP_NAME:
        return f"a group name must have 1 to {MAX_GROUP_NAME} characters"
    return None


def groups(session: Session, school_id: int) -> list[GroupRow]:
    """The school's groups with their member counts."""
    school_of(session, school_id)
    return store.list_groups(session, school_id)


def create_group(session: Session, school_id: int, name: str) -> GroupRow:
    """Add a group; a name the school already has is a conflict."""
    school_of(session, school_id)
    name = name.strip()
    if problem := group_name_problem(name):
        raise Invalid([problem])
    if name in store.groups_by_name(session, school_id):
        raise Conflict(f"the school already has a group {name!r}")
    return GroupRow(store.add_group(session, school_id, name), name, 0)


def parents(session: Session, school_id: int, group_id: int | None = None) -> list[MemberRow]:
    """The school's parents, or one group's."""
    school_of(session, school_id)
    if group_id is None:
        return store.list_members(session, school_id)
    if not store.existing_groups(session, school_id, [group_id]):
        raise NotFound("group")
    return store.list_members(session, school_id, group_ids=[group_id])


def _parent_contact(session: Session, school_id: int, parent_id: int) -> int:
    contact_id = store.member_contact(session, school_id, parent_id)
    if contact_id is None:
        raise NotFound("parent")
    return contact_id


def children(session: Session, school_id: int, parent_id: int) -> list[Child]:
    """A parent's children at this school."""
    return store.list_children(session, school_id,
                               _parent_contact(session, school_id, parent_id))


def add_child(session: Session, school_id: int, parent_id: int, stage: str,
              now: datetime) -> Child:
    """Record a child of a parent, by stage only (one of the school region's stages)."""
    contact_id = _parent_contact(session, school_id, parent_id)
    allowed = stages_for(school_of(session, school_id).region)
    if stage not in allowed:
        raise Invalid([f"unknown stage {stage!r} (one of {', '.join(allowed)})"])
    return store.add_child(session, school_id, contact_id, stage, now)


def remove_child(session: Session, school_id: int, parent_id: int, child_id: int) -> None:
    """Forget one of a parent's children."""
    contact_id = _parent_contact(session, school_id, parent_id)
    if not store.remove_child(session, school_id, contact_id, child_id):
        raise NotFound("child")


def stages(session: Session, school_id: int) -> dict[str, int]:
    """Each stage of the school's region, with how many children are at it."""
    school = school_of(session, school_id)
    counts = store.stage_counts(session, school_id)
    return {stage: counts.get(stage, 0) for stage in stages_for(school.region)}
