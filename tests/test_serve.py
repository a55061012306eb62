"""`wegwijs serve` as a new user runs it: a real process on a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_starts_says_where_to_look_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "WEGWIJS_DATA_DIR": str(tmp_path / "data"), "PORT": str(port)}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "serve exited early"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200
        assert "Wegwijs" in page.text
        reply = httpx.post(f"http://127.0.0.1:{port}/simulator/api/messages", timeout=10,
                           json={"session": "serve-test-1", "id": "1", "text": "hello"})
        assert "Choose your language" in reply.json()["replies"][0]["text"]
        assert (tmp_path / "data" / "wegwijs.db").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"Open http://127.0.0.1:{port}/" in output
    assert "hello" not in output
