"""The `wegwijs` command, run as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEGWIJS = [sys.executable, "-m", "bot.cli"]


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None,
        cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WEGWIJS, *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=120, check=False)


def test_flows_check_passes_on_the_repository() -> None:
    result = run("flows", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK:")


def test_flows_check_names_line_and_column_and_exits_1(tmp_path: Path) -> None:
    for folder in ("flows", "locales", "content"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    broken = tmp_path / "flows" / "menu.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace(
        "ask: menu.question", "ask: menu.question\n    nxt: main", 1), encoding="utf-8")
    result = run("flows", "check", env={"WEGWIJS_CONTENT_ROOT": str(tmp_path)})
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if "nxt" in line)
    assert line.startswith(f"{broken}:")
    assert "unknown field 'nxt'" in line
    assert "[flow 'menu', node 'main']" in line
    row, column = line.removeprefix(f"{broken}:").split(":")[:2]
    assert broken.read_text(encoding="utf-8").splitlines()[int(row) - 1][int(column) - 1:] \
        .startswith("nxt")


def test_chat_reads_lines_from_stdin_and_numbers_options() -> None:
    result = run("chat", "--lang", "en", "--region", "flanders", stdin="hi\n1\n1\n")
    assert result.returncode == 0, result.stderr
    assert "bot> Hello! I am Wegwijs." in result.stdout
    assert "1. Yes, that is OK" in result.stdout
    assert "What would you like to do?" in result.stdout


def test_a_second_chat_on_the_same_database_is_answered_too(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'chat.db'}"
    for _ in range(2):
        result = run("chat", "--lang", "en", "--database-url", database, stdin="hi\n")
        assert result.returncode == 0, result.stderr
        assert "bot> Hello! I am Wegwijs." in result.stdout


def test_chat_refuses_an_unknown_region() -> None:
    result = run("chat", "--region", "mars")
    assert result.returncode == 2
    assert "flanders" in result.stderr


def test_a_wrong_setting_gives_a_clear_start_up_error() -> None:
    result = run("flows", "check", env={"WEGWIJS_MESSAGE_RETENTION_DAYS": "soon"})
    assert result.returncode == 1
    assert "invalid configuration" in result.stderr
    assert "WEGWIJS_MESSAGE_RETENTION_DAYS" in result.stderr
