"""Benchmark: simulated parents converse through the dispatcher (store, engine, commit).

    python -m benchmarks.dispatch [--parents 200] [--database-url URL]

Each parent sends a scripted conversation (onboarding, menu, a content page, back to
the menu, a glossary question...); parents run concurrently as asyncio tasks, the way
the web app handles them. Replies stay in the outbox (sending is the channels' work,
measured separately). Reports messages per second,
p50/p99 handling latency (store + engine + commit, as measured on the database
thread) and p50/p99 end-to-end latency (including waiting for that thread), plus
idle and peak memory (RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.messages import InboundMessage
from bot.runtime import Runtime, build_runtime

SCRIPT = ["hello", "English", "1", "1", "3", "menu", "1", "1", "more", "menu", "back",
          "what is a klassenraad?", "language", "2", "menu", "stop", "start"]


def rss_mb() -> float:
    """Current resident memory in MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """Peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def parent(runtime: Runtime, number: int, service: list[float],
                 end_to_end: list[float]) -> None:
    address = f"bench-{number}"

    def handle(message: InboundMessage) -> None:
        started = time.perf_counter()
        runtime.dispatcher.handle(message)
        service.append(time.perf_counter() - started)

    for step, text in enumerate(SCRIPT):
        message = InboundMessage(channel="web", address=address, provider_id=f"{number}-{step}",
                                 received_at=datetime.now(UTC), text=text)
        started = time.perf_counter()
        await runtime.db.run(handle, message)
        end_to_end.append(time.perf_counter() - started)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


async def run(database_url: str, parents: int) -> dict[str, float | int | str]:
    runtime = build_runtime(Settings(), database_url=database_url)
    idle = rss_mb()
    service: list[float] = []
    end_to_end: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(parent(runtime, n, service, end_to_end) for n in range(parents)))
    elapsed = time.perf_counter() - started
    runtime.close()
    return {
        "database": "PostgreSQL" if database_url.startswith("postgresql") else "SQLite",
        "parents": parents,
        "messages": len(service),
        "messages_per_second": round(len(service) / elapsed, 1),
        "handling_p50_ms": round(statistics.median(service) * 1000, 2),
        "handling_p99_ms": round(percentile(service, 0.99), 2),
        "end_to_end_p50_ms": round(percentile(end_to_end, 0.5), 2),
        "end_to_end_p99_ms": round(percentile(end_to_end, 0.99), 2),
        "idle_rss_mb": round(idle, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


@contextmanager
def scratch_database(url: str | None, folder: str) -> Iterator[str]:
    """The database to measure: a new SQLite file, or a new schema in the PostgreSQL
    database given (dropped afterwards, so nothing is left behind)."""
    if url is None:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield make_url(url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def main() -> None:
    """Run the benchmark and print one JSON line of results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parents", type=int, default=200)
    parser.add_argument("--database-url", default=None,
                        help="default: a new SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, \
            scratch_database(args.database_url, folder) as url:
        print(json.dumps(asyncio.run(run(url, args.parents))))


if __name__ == "__main__":
    main()
