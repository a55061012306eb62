"""`wegwijs models install/list/remove` and `wegwijs translate`, with tiny real packages."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.cli.main import cli
from bot.storage.database import Database
from bot.storage.tables import TRANSLATION_CACHE

pytest_plugins = ["tests.argos_fixtures"]

ArgosPackages = Callable[..., Path]  # the fixture's type
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """WEGWIJS_DATA_DIR for the commands run in this process."""
    folder = tmp_path / "data"
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(folder))
    return folder


def wegwijs(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_install_list_replace_and_remove(data_dir: Path, argos_packages: ArgosPackages) -> None:
    listed = wegwijs("models", "list")
    assert listed.exit_code == 0
    assert "no translation models" in listed.output

    installed = wegwijs("models", "install", str(argos_packages("nl", "en")),
                        str(argos_packages("en", "ar")))
    assert installed.exit_code == 0, installed.output
    assert "installed nl → en version 1.0" in installed.output
    assert "installed en → ar version 1.0" in installed.output

    listed = wegwijs("models", "list")
    lines = listed.output.splitlines()
    assert [line.split("  ")[:2] for line in lines] == [
        ["en → ar", "version 1.0"], ["nl → en", "version 1.0"]]
    assert all(line.endswith(" KB") for line in lines)
    assert (data_dir / "argos-packages" / "translate-nl_en-1_0" / "metadata.json").is_file()

    replaced = wegwijs("models", "install", str(argos_packages("nl", "en", "upper", "1.1")))
    assert replaced.exit_code == 0, replaced.output
    assert "replaced nl → en version 1.0" in replaced.output
    assert "nl → en  version 1.1" in wegwijs("models", "list").output
    # The same process sees the new model at once.
    assert wegwijs("translate", "--from", "nl", "--to", "en", "Dank je wel.").output == \
        "DANK JE WEL.\n"

    removed = wegwijs("models", "remove", "nl", "en")
    assert removed.exit_code == 0
    assert removed.output == "removed nl → en version 1.1\n"
    assert "nl → en" not in wegwijs("models", "list").output
    again = wegwijs("models", "remove", "nl", "en")
    assert again.exit_code == 1
    assert "no model for nl → en is installed" in again.output


def test_install_refuses_what_is_not_a_model(data_dir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake.argosmodel"
    fake.write_text("not a zip", encoding="utf-8")
    result = wegwijs("models", "install", str(fake))
    assert result.exit_code == 1
    assert "is not a .argosmodel file" in result.output
    result = wegwijs("models", "install", str(tmp_path / "missing.argosmodel"))
    assert "does not exist" in result.output
    assert wegwijs("models", "install", "nl").exit_code == 2


def test_a_stray_folder_among_the_models_is_ignored(data_dir: Path,
                                                    argos_packages: ArgosPackages) -> None:
    assert wegwijs("models", "install", str(argos_packages("nl", "en"))).exit_code == 0
    (data_dir / "argos-packages" / "notes").mkdir()
    assert "nl → en" in wegwijs("models", "list").output
    result = wegwijs("translate", "--from", "nl", "--to", "en", "Hoe gaat het?")
    assert result.output == "Hoe gaat het?\n"


def test_translate_uses_the_service_and_the_database_cache(
        db: Database, data_dir: Path, argos_packages: ArgosPackages,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert wegwijs("models", "install", str(argos_packages("nl", "en", "upper"))).exit_code == 0
    text = "Het oudercontact is op {date}.\nKun je komen?"
    for _ in range(2):
        result = wegwijs("translate", "--from", "nl", "--to", "en", text)
        assert result.exit_code == 0, result.output
        assert result.output == "HET oudercontact IS OP {date}.\nKUN JE KOMEN?\n"
    with db.session() as session:
        assert session.execute(select(func.count()).select_from(TRANSLATION_CACHE)).scalar() == 1
    stdin = CliRunner().invoke(cli, ["translate", "--from", "nl", "--to", "en", "-"],
                               input="Dank je wel.\n")
    assert stdin.output == "DANK JE WEL.\n\n"


def test_translate_names_the_missing_models(data_dir: Path) -> None:
    result = wegwijs("translate", "--from", "nl", "--to", "ar", "Hallo daar.")
    assert result.exit_code == 1
    assert "no translation model for nl → ar: install one with `wegwijs models install nl " \
        "en` and `wegwijs models install en ar`" in result.output


def test_as_real_processes_nothing_is_written_under_home(
        tmp_path: Path, argos_packages: ArgosPackages) -> None:
    home = tmp_path / "home"
    home.mkdir()
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("XDG_", "ARGOS_", "WEGWIJS_", "DATABASE_URL"))}
    environment.update(HOME=str(home), WEGWIJS_DATA_DIR=str(tmp_path / "data"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                              text=True, env=environment, cwd=tmp_path, timeout=120,
                              check=False)

    installed = run("models", "install", str(argos_packages("nl", "en")))
    assert installed.returncode == 0, installed.stderr
    assert "nl → en" in run("models", "list").stdout
    translated = run("translate", "--from", "nl", "--to", "en", "Tot maandag.")
    assert translated.returncode == 0, translated.stderr
    assert translated.stdout == "Tot maandag.\n"
    assert list(home.rglob("*")) == []
    assert (tmp_path / "data" / "argos-packages" / "translate-nl_en-1_0").is_dir()


@pytest.fixture
def package_index(tmp_path: Path, argos_packages: ArgosPackages) -> Iterator[str]:
    """An argos package index served on 127.0.0.1, offering nl → en."""
    folder = tmp_path / "index"
    folder.mkdir()
    shutil.copy(argos_packages("nl", "en", "upper"), folder / "nl_en.argosmodel")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=folder))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    (folder / "index.json").write_text(json.dumps([{
        "package_version": "1.0", "argos_version": "1.9", "type": "translate",
        "from_code": "nl", "from_name": "Dutch", "to_code": "en", "to_name": "English",
        "links": [url + "nl_en.argosmodel"]}]), encoding="utf-8")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""


def test_install_by_language_codes_from_the_package_index(
        data_dir: Path, package_index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEGWIJS_ARGOS_PACKAGE_INDEX", package_index)
    result = wegwijs("models", "install", "nl", "en")
    assert result.exit_code == 0, result.output
    assert "installed nl → en version 1.0" in result.output
    assert wegwijs("translate", "--from", "nl", "--to", "en", "Tot ziens.").output == \
        "TOT ZIENS.\n"
    missing = wegwijs("models", "install", "nl", "ar")
    assert missing.exit_code == 1
    assert "the package index has no model for nl → ar" in missing.output


def test_install_by_language_codes_offline_says_what_to_do(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("WEGWIJS_ARGOS_PACKAGE_INDEX", f"http://127.0.0.1:{port}/")
    result = wegwijs("models", "install", "nl", "en")
    assert result.exit_code == 1
    assert f"could not reach the argos package index (http://127.0.0.1:{port}/index.json)" \
        in result.output
    assert "wegwijs models install PATH.argosmodel" in result.output
