"""Evaluating structured branch conditions against saved answers (no eval)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.engine.model import Condition


def holds(condition: Condition, variables: Mapping[str, Any]) -> bool:
    """Whether `condition` is true for these variables.

    A missing value equals nothing, so `eq` and `in` are false and `ne` is true for it;
    order comparisons (lt, le, gt, ge) and `contains` are false.
    """
    if condition.all is not None:
        return all(holds(c, variables) for c in condition.all)
    if condition.any is not None:
        return any(holds(c, variables) for c in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, variables)
    value = variables.get(str(condition.var))
    if condition.is_set is not None:
        return (value is not None) == condition.is_set
    if condition.eq is not None:
        return _same(value, condition.eq)
    if condition.ne is not None:
        return not _same(value, condition.ne)
    if condition.in_ is not None:
        return value in condition.in_
    if condition.contains is not None:
        return isinstance(value, list) and condition.contains in value
    return _compare(condition, value)


def _same(value: Any, expected: object) -> bool:
    # True == 1 in Python; in a flow, yes/no answers and numbers are different things.
    return type(value) is type(expected) and bool(value == expected)


def _compare(condition: Condition, value: Any) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    if condition.lt is not None:
        return value < condition.lt
    if condition.le is not None:
        return value <= condition.le
    if condition.gt is not None:
        return value > condition.gt
    return condition.ge is not None and value >= condition.ge
