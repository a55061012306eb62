"""Translations: the release gate, status, PO export and import, stamping, bidi."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
import yaml

from bot.engine.bidi import LRI, PDI, isolate_ltr
from bot.engine.matching import normalize

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """A copy of the authored folders, safe to change."""
    for folder in ("flows", "locales", "content"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def wegwijs(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                          text=True, cwd=root, timeout=120, check=False,
                          env={"WEGWIJS_CONTENT_ROOT": str(root), "PATH": "/usr/bin:/bin"})


def shipped_language(root: Path) -> str:
    for folder in sorted((root / "locales").iterdir()):
        data = yaml.safe_load((folder / "language.yaml").read_text(encoding="utf-8"))
        if folder.name != "en" and data.get("shipped"):
            return folder.name
    raise AssertionError("no shipped translation")


def test_the_repository_passes_the_gate() -> None:
    result = wegwijs(ROOT, "i18n", "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gate_fails_on_a_missing_key(content_root: Path) -> None:
    language = shipped_language(content_root)
    path = content_root / "locales" / language / "common.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["common.yes"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = wegwijs(content_root, "i18n", "check")
    assert result.returncode == 1
    assert f"{language}: missing text 'common.yes'" in result.stdout


def test_the_gate_fails_on_a_broken_placeholder(content_root: Path) -> None:
    language = shipped_language(content_root)
    path = content_root / "locales" / language / "common.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = data["common.reprompt_integer"]
    text = entry["text"] if isinstance(entry, dict) else entry
    broken = text.replace("{max}", "{maximum}")
    data["common.reprompt_integer"] = broken
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = wegwijs(content_root, "i18n", "check")
    assert result.returncode == 1
    assert "placeholders of 'common.reprompt_integer' differ" in result.stdout


def test_a_language_in_preparation_is_not_offered_and_does_not_fail_the_gate(
        content_root: Path) -> None:
    folder = content_root / "locales" / "xx"
    folder.mkdir()
    (folder / "language.yaml").write_text("name: Test\ndirection: ltr\nshipped: false\n",
                                          encoding="utf-8")
    result = wegwijs(content_root, "i18n", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "xx: in preparation" in result.stderr
    status = wegwijs(content_root, "i18n", "status")
    assert any(line.startswith("xx") and " no " in line for line in status.stdout.splitlines())


def test_export_then_import_round_trip_with_conflicts(content_root: Path) -> None:
    language = shipped_language(content_root)
    po_path = content_root / "out.po"
    assert wegwijs(content_root, "i18n", "export", "--lang", language, "--output",
                   str(po_path)).returncode == 0
    po = polib.pofile(str(po_path))
    assert po.metadata["Language"] == language
    yes = next(e for e in po if e.msgctxt == "common.yes")
    yes.msgstr = "JAWEL"
    yes.flags = []  # a translator marked it done: reviewed
    no = next(e for e in po if e.msgctxt == "common.no")
    no.msgid = "An older English text"
    no.msgstr = "NEE"
    po.save(str(po_path))
    result = wegwijs(content_root, "i18n", "import", str(po_path))
    assert result.returncode == 0, result.stderr
    assert "imported 2" in result.stdout
    assert "'common.no': the English changed since the export; imported as stale" in \
        result.stdout
    texts = yaml.safe_load((content_root / "locales" / language / "common.yaml")
                           .read_text(encoding="utf-8"))
    assert texts["common.yes"]["text"] == "JAWEL"
    assert texts["common.yes"]["state"] == "reviewed"
    status = wegwijs(content_root, "i18n", "status").stdout
    row = next(line for line in status.splitlines() if line.startswith(language)).split()
    assert int(row[5]) >= 1  # the stale column counts common.no

    # A later draft never replaces a reviewed translation.
    yes.msgstr = "MISSCHIEN"
    yes.flags = ["fuzzy"]
    po.save(str(po_path))
    again = wegwijs(content_root, "i18n", "import", str(po_path))
    assert "'common.yes': the reviewed translation differs" in again.stdout
    texts = yaml.safe_load((content_root / "locales" / language / "common.yaml")
                           .read_text(encoding="utf-8"))
    assert texts["common.yes"]["text"] == "JAWEL"


def test_stamp_records_the_english_fingerprint(content_root: Path) -> None:
    language = shipped_language(content_root)
    result = wegwijs(content_root, "i18n", "stamp", "--lang", language)
    assert result.returncode == 0, result.stderr
    texts = yaml.safe_load((content_root / "locales" / language / "common.yaml")
                           .read_text(encoding="utf-8"))
    assert all(isinstance(v, dict) and len(v["source"]) == 10 for v in texts.values())
    assert wegwijs(content_root, "i18n", "check").returncode == 0
    english = content_root / "locales" / "en" / "common.yaml"
    english.write_text(english.read_text(encoding="utf-8").replace(
        'common.yes: "Yes"', 'common.yes: "Yes, please"'), encoding="utf-8")
    status = wegwijs(content_root, "i18n", "status").stdout
    row = next(line for line in status.splitlines() if line.startswith(language)).split()
    assert int(row[5]) == 1


def test_left_to_right_fragments_are_isolated_in_right_to_left_text() -> None:
    text = isolate_ltr("يقرر klassenraad في 1A أو 1B: https://example.org/a")
    assert f"{LRI}klassenraad{PDI}" in text
    assert f"{LRI}1A{PDI}" in text
    assert f"{LRI}https://example.org/a{PDI}" in text
    assert isolate_ltr(text) == text
    assert normalize(f"{LRI}Klassenraad{PDI}") == "klassenraad"


def test_a_hyphen_before_a_space_keeps_a_dutch_name_whole() -> None:
    assert isolate_ltr("الزراعة Land- en tuinbouw هنا") == \
        f"الزراعة {LRI}Land- en tuinbouw{PDI} هنا"


def test_letters_without_accents_typed_plainly_still_match() -> None:
    assert normalize("Dokuzuncu SINIF") == normalize("Dokuzuncu sınıf")
    assert normalize("czlowiek") == normalize("człowiek")


def test_the_gate_refuses_unreviewed_machine_drafts_in_a_shipped_language(
        content_root: Path) -> None:
    language = shipped_language(content_root)
    path = content_root / "locales" / language / "common.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = data["common.yes"]
    text = entry["text"] if isinstance(entry, dict) else entry
    data["common.yes"] = {"text": text, "state": "machine"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = wegwijs(content_root, "i18n", "check")
    assert result.returncode == 1
    assert "'common.yes' is an unreviewed machine draft" in result.stdout
