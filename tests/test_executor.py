"""Database work queue: urgent work goes first, each priority in arrival order."""

from __future__ import annotations

import threading

import pytest

from bot.storage.executor import NORMAL, URGENT, PriorityExecutor


def test_urgent_work_jumps_the_queue_and_order_is_kept_within_a_priority() -> None:
    executor = PriorityExecutor(1, "test")
    gate = threading.Event()
    done: list[str] = []
    blocker = executor.submit(NORMAL, gate.wait)
    futures = [executor.submit(NORMAL, done.append, "normal-1"),
               executor.submit(NORMAL, done.append, "normal-2"),
               executor.submit(URGENT, done.append, "urgent-1"),
               executor.submit(URGENT, done.append, "urgent-2")]
    gate.set()
    blocker.result(timeout=5)
    for future in futures:
        future.result(timeout=5)
    executor.shutdown()
    assert done == ["urgent-1", "urgent-2", "normal-1", "normal-2"]


def test_an_exception_reaches_the_caller() -> None:
    executor = PriorityExecutor(1, "test")

    def fail() -> None:
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        executor.submit(NORMAL, fail).result(timeout=5)
    executor.shutdown()


def test_shutting_down_waits_a_bounded_time_and_later_work_is_refused() -> None:
    executor = PriorityExecutor(1, "test")
    gate = threading.Event()
    stuck = executor.submit(NORMAL, gate.wait)
    assert executor.shutdown(timeout=0.2) is False  # a stuck thread does not hang us
    with pytest.raises(RuntimeError, match="shut down"):
        executor.submit(NORMAL, print)  # it would never run: an await would hang
    gate.set()
    assert stuck.result(timeout=5) is True
