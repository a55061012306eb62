"""`wegwijs i18n translate`: machine drafts fill the gaps, never human text."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli.main import cli

pytest_plugins = ["tests.argos_fixtures"]

ROOT = Path(__file__).resolve().parents[1]


def test_gaps_are_filled_with_machine_drafts_and_human_text_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        argos_packages: Callable[..., Path]) -> None:
    for folder in ("flows", "locales", "content"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    german = tmp_path / "locales" / "de"
    german.mkdir()
    (german / "language.yaml").write_text("name: Deutsch\ndirection: ltr\nshipped: false\n",
                                          encoding="utf-8")
    (german / "common.yaml").write_text('common.yes: "Ja"\n', encoding="utf-8")
    monkeypatch.setenv("WEGWIJS_CONTENT_ROOT", str(tmp_path))
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(tmp_path / "data"))
    # The tiny test model has a 64-position table: keep each piece well below it.
    monkeypatch.setenv("WEGWIJS_TRANSLATION_MAX_CHUNK_TOKENS", "20")
    runner = CliRunner()
    installed = runner.invoke(cli, ["models", "install", str(argos_packages("en", "de"))])
    assert installed.exit_code == 0, installed.output

    result = runner.invoke(cli, ["i18n", "translate", "--lang", "de"])
    assert result.exit_code == 0, result.output
    assert "drafted by machine" in result.output

    common = yaml.safe_load((german / "common.yaml").read_text(encoding="utf-8"))
    assert common["common.yes"]["text"] == "Ja"  # the human translation stays
    assert common["common.yes"]["state"] == "draft"
    drafted = common["common.reprompt_integer"]
    assert drafted["state"] == "machine"
    assert "{min}" in drafted["text"]
    assert "{max}" in drafted["text"]  # placeholders survive the model
    page = tmp_path / "content" / "flanders" / "clb.de.md"
    assert "state: machine" in page.read_text(encoding="utf-8")

    status = runner.invoke(cli, ["i18n", "status"])
    row = next(line for line in status.output.splitlines() if line.startswith("de")).split()
    strings, translated, machine = int(row[2]), int(row[3]), int(row[6])
    assert translated == strings
    assert machine == strings - 1


def test_a_missing_model_is_named_with_the_command_that_installs_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("flows", "locales", "content"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "locales" / "de").mkdir()
    (tmp_path / "locales" / "de" / "language.yaml").write_text(
        "name: Deutsch\nshipped: false\n", encoding="utf-8")
    monkeypatch.setenv("WEGWIJS_CONTENT_ROOT", str(tmp_path))
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["i18n", "translate", "--lang", "de"])
    assert result.exit_code == 1
    assert "wegwijs models install" in result.output
