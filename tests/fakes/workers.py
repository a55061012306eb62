"""`wegwijs worker` in a process of its own, for the crash tests: started with the
provider settings given, stopped within a bounded time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 5  # how long a dead worker's claims last


def start_worker(database_url: str, tmp_path: Path, log: Path, **provider: str
                 ) -> subprocess.Popen[bytes]:
    """`wegwijs worker` on this database, with only the given provider settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TELEGRAM_", "TWILIO_", "PUBLIC_", "DATABASE_", "WEGWIJS_"))}
    env.update(DATABASE_URL=database_url, WEGWIJS_DATA_DIR=str(tmp_path / "data"),
               WEGWIJS_SEND_LEASE_SECONDS=str(LEASE_SECONDS), **provider)
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT,
                                env=env, stdout=output, stderr=subprocess.STDOUT)


def stop(worker: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """End a worker process, waiting a bounded time (SIGKILL if SIGTERM is not enough)."""
    if kill:
        worker.kill()  # SIGKILL: no clean-up at all
    else:
        worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=20)
