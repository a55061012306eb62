"""Worker threads for blocking database work, with urgent work first.

On SQLite one thread does all database work (one writer at a time is what SQLite
allows). A webhook must be stored and acknowledged quickly even while that thread has
a queue of turns and sends to work through, so urgent work jumps the queue.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
URGENT, NORMAL = 0, 1
_STOP = object()


class PriorityExecutor:
    """A fixed pool of threads taking work in priority order, first come first served
    within a priority."""

    def __init__(self, workers: int, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._name = name
        self._closing = threading.Lock()  # no work slips in behind the stop marks
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, priority: int, work: Callable[..., T], *args: Any) -> Future[T]:
        """Queue `work(*args)`; the future holds its result or exception. After
        `shutdown` nothing would run it, so that raises RuntimeError."""
        future: Future[T] = Future()
        with self._closing:
            if self._closed:
                raise RuntimeError(f"{self._name}: shut down")
            self._queue.put((priority, next(self._order), (future, work, args)))
        return future

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Finish the queued work, then stop the threads, waiting at most `timeout`
        seconds. Returns False if some thread is still busy (stuck in a query): being a
        daemon, it does not keep the process alive."""
        with self._closing:
            self._closed = True
            for _ in self._threads:
                self._queue.put((NORMAL + 1, next(self._order), _STOP))
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while True:
            _, _, item = self._queue.get()
            if item is _STOP:
                return
            future, work, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work(*args))
            except BaseException as exc:  # handed to the awaiting caller
                future.set_exception(exc)
