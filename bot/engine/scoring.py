"""Adding up questionnaire answers with a scoring table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.engine.library import Scoring


def top_areas(scoring: Scoring, answers: Mapping[str, Any], top: int) -> list[str]:
    """The `top` areas with the most points, best first; areas with no points are left out.

    Ties keep the table's order of areas, so the result is deterministic.
    """
    totals = dict.fromkeys(scoring.areas, 0)
    for variable, area in scoring.items.items():
        totals[area] += scoring.points.get(str(answers.get(variable)), 0)
    ranked = sorted(scoring.areas, key=lambda area: -totals[area])
    return [area for area in ranked[:top] if totals[area] > 0]
