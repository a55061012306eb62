"""A child is kept to a minimum: no name, only the stage of school they are in. The
stages are those the onboarding asks about (flows/onboarding.yaml), per region."""

from __future__ import annotations

STAGES: dict[str, tuple[str, ...]] = {
    "flanders": ("primary", "primary_6", "grade_1", "grade_2_3"),
    "finland": ("grade_1_6", "grade_7", "grade_8", "grade_9", "upper"),
}


def stages_for(region_id: str) -> tuple[str, ...]:
    """The stages a child of a school in this region can be in."""
    return STAGES.get(region_id, ())
