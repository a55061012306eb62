"""Offline machine translation (bot/translation) with tiny real argos packages.

The packages come from tests/argos_fixtures.py and are installed with the real
`wegwijs models install PATH` command; translation runs through argostranslate's
package, tokenizer and CTranslate2 model.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.config import Settings
from bot.engine import Library
from bot.storage import retention
from bot.storage.database import Database
from bot.storage.tables import TRANSLATION_CACHE
from bot.storage.translation_cache import CacheKey, store, text_hash
from bot.translation import (
    DEFAULT_KEEP_TERMS,
    MACHINE_TRANSLATED_KEY,
    MachineTranslator,
    ModelFailedError,
    ModelMissingError,
    ProtectedTextLostError,
    TranslationConfig,
    TranslationTimeoutError,
    mark_machine_translated,
    plan_route,
    protect,
    restore,
    split_sentences,
)
from bot.translation.argos import argos_environment, xdg_environment
from bot.translation.engine import chunk_tokens

pytest_plugins = ["tests.argos_fixtures"]

ArgosPackages = Callable[..., Path]  # the fixture's type (importing it here would
# import the plugin before pytest can rewrite its asserts)

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "nl", "fi", "ar")


# --- helpers -----------------------------------------------------------------------------

@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TranslationConfig:
    """The configuration `wegwijs` builds from WEGWIJS_DATA_DIR (set for the CLI too)."""
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(tmp_path / "data"))
    return TranslationConfig.from_settings(Settings())


def install(*paths: Path) -> str:
    """Install packages with the real command, in this process."""
    from bot.cli.main import cli

    result = CliRunner().invoke(cli, ["models", "install", *map(str, paths)])
    assert result.exit_code == 0, result.output
    return result.output


def cache_rows(db: Database) -> list[dict[str, object]]:
    with db.session() as session:
        return [dict(row._mapping) for row in session.execute(select(TRANSLATION_CACHE))]


# --- pieces that need no model -----------------------------------------------------------

def test_sentences_keep_the_layout_and_split_only_at_sentence_ends() -> None:
    text = "  Hallo! Hoe gaat het?\n\nDe prijs is 3.5 euro. Zie example.com\nKlaar؟ نعم. "
    pieces = split_sentences(text)
    assert "".join(p.text for p in pieces) == text
    assert [p.text for p in pieces if p.is_sentence] == [
        "Hallo!", "Hoe gaat het?", "De prijs is 3.5 euro.", "Zie example.com", "Klaar؟",
        "نعم."]
    assert split_sentences("") == []


def test_protection_replaces_placeholders_links_and_school_words_by_plain_tokens() -> None:
    text = ("De klassenraad van {school_name} geeft een B-attest op {date}. Mail "
            "jan.peeters@school.be of kijk op https://onderwijs.vlaanderen.be/a_b. "
            "Het CLB en de Klassenraad; de oudercontacten; in Finland lukiossa ja Wilmassa. "
            "Een clb? ZX3Q!")
    protected = protect(text, DEFAULT_KEEP_TERMS)
    assert protected.originals == (
        "klassenraad", "{school_name}", "B-attest", "{date}", "jan.peeters@school.be",
        "https://onderwijs.vlaanderen.be/a_b", "CLB", "Klassenraad", "oudercontacten", "lukiossa",
        "Wilmassa", "ZX3Q")
    # Only capitals and digits: nothing SentencePiece or argostranslate's decoder changes.
    assert not set("{}_@/") & set(protected.text)
    assert "clb?" in protected.text  # capital-letter terms match only in capitals
    assert restore(protected.text, protected.originals) == text
    # What models do to such tokens: spaces inside, lower case, other digits.
    garbled = protected.text.replace("ZX0Q", "zx 0 Q").replace("ZX1Q", "ZX١Q")
    assert restore(garbled, protected.originals) == text


def test_a_lost_placeholder_is_an_error_not_a_silent_change() -> None:
    protected = protect("Kom op {date} naar het oudercontact.", DEFAULT_KEEP_TERMS)
    assert len(protected.originals) == 2
    with pytest.raises(ProtectedTextLostError):
        restore(protected.text.replace("ZX0Q", ""), protected.originals)
    with pytest.raises(ProtectedTextLostError):
        restore(protected.text + " ZX7Q", protected.originals)


def test_glossary_terms_are_a_parameter() -> None:
    assert protect("De klassenraad beslist.", ()).originals == ()
    assert protect("Het rapport komt.", ["rapport"]).originals == ("rapport",)


def test_routes_go_direct_or_through_english_and_name_the_missing_models() -> None:
    class Model:
        def __init__(self, source: str, target: str) -> None:
            self.source, self.target, self.version = source, target, "1.0"

    installed = {pair: Model(*pair) for pair in [("nl", "en"), ("en", "ar"), ("nl", "fi")]}
    assert [m.target for m in plan_route(installed, "nl", "fi").steps] == ["fi"]  # type: ignore[arg-type]
    route = plan_route(installed, "nl", "ar")  # type: ignore[arg-type]
    assert route.model_version == "nl-en@1.0+en-ar@1.0"
    assert plan_route({}, "nl", "nl").steps == ()
    with pytest.raises(ModelMissingError) as missing:
        plan_route({}, "nl", "ar")
    assert str(missing.value) == (
        "no translation model for nl → ar: install one with `wegwijs models install nl en` "
        "and `wegwijs models install en ar`, or `wegwijs models install PATH.argosmodel`")
    with pytest.raises(ModelMissingError, match=r"with `wegwijs models install fi en`, or"):
        plan_route(installed, "fi", "ar")  # type: ignore[arg-type]
    with pytest.raises(ModelMissingError, match=r"install one with `wegwijs models install "
                                                r"ar en`, or"):
        plan_route(installed, "ar", "en")  # type: ignore[arg-type]


def test_token_chunks_end_at_word_starts() -> None:
    tokens = ["▁een", "▁lange", "zin", "▁met", "▁veel", "woor", "den"]
    assert chunk_tokens(tokens, 3) == [["▁een", "▁lange", "zin"], ["▁met"],
                                       ["▁veel", "woor", "den"]]
    assert chunk_tokens(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]


def test_the_machine_translation_marker_is_in_every_language(library: Library) -> None:
    markers = {}
    for language in LANGUAGES:
        data = yaml.safe_load((ROOT / "locales" / language / "translation.yaml").read_text(
            encoding="utf-8"))
        entry = data[MACHINE_TRANSLATED_KEY]
        markers[language] = entry if isinstance(entry, str) else entry["text"]
        assert library.texts[language][MACHINE_TRANSLATED_KEY] == markers[language]
    assert len(set(markers.values())) == len(LANGUAGES)
    marked = mark_machine_translated("مرحبا\n", markers["ar"])
    assert marked == f"مرحبا\n\n{markers['ar']}"
    assert mark_machine_translated(marked, markers["ar"]) == marked


def test_argostranslate_is_configured_to_keep_out_of_home(config: TranslationConfig) -> None:
    environment = argos_environment(config)
    assert environment["ARGOS_PACKAGES_DIR"] == str(config.data_dir / "argos-packages")
    assert environment["ARGOS_DEVICE_TYPE"] == "cpu"
    assert environment["ARGOS_INTRA_THREADS"] == environment["ARGOS_INTER_THREADS"] == "1"
    assert int(environment["ARGOS_BEAM_SIZE"]) <= 2
    assert all(Path(folder).is_relative_to(config.data_dir)
               for folder in xdg_environment(config).values())


def test_the_packages_folder_can_be_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEGWIJS_ARGOS_PACKAGES_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("WEGWIJS_TRANSLATION_BEAM_SIZE", "1")
    config = TranslationConfig.from_settings(Settings())
    assert config.packages_dir == tmp_path / "models"
    assert argos_environment(config)["ARGOS_BEAM_SIZE"] == "1"


def test_importing_the_bot_does_not_load_argostranslate() -> None:
    code = ("import sys, bot.translation, bot.cli.main; "
            "print(sorted(m for m in ('argostranslate', 'ctranslate2', 'sentencepiece') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True, timeout=60)
    assert result.stdout.strip() == "[]"


# --- with real packages ------------------------------------------------------------------

def test_translation_runs_through_an_installed_package(
        config: TranslationConfig, argos_packages: ArgosPackages) -> None:
    install(argos_packages("nl", "en"))
    translator = MachineTranslator(config)
    try:
        text = "Het oudercontact is op maandag.\n\nKun je de brief lezen? Dank je wel!"
        assert translator.translate(text, "nl", "en") == text  # the copy model
        assert translator.translate("Hallo", "nl", "nl") == "Hallo"
        assert translator.translate("3.5 + 31/12", "nl", "ar") == "3.5 + 31/12"  # no words
    finally:
        translator.close()


async def test_translations_are_cached_in_the_database(
        db: Database, config: TranslationConfig, argos_packages: ArgosPackages) -> None:
    install(argos_packages("nl", "en", version="1.2"))
    translator = MachineTranslator(config, db)
    text = "De klassenraad beslist op maandag."
    try:
        first = await translator.translate_async(text, "nl", "en")
        assert first == text
        assert await translator.translate_async(text, "nl", "en") == first
        rows = cache_rows(db)
        assert len(rows) == 1
        row = rows[0]
        assert (row["source_language"], row["target_language"], row["model_version"]) == (
            "nl", "en", "nl-en@1.2")
        # Keyed by the hash of what the model saw; the source text is not stored.
        assert row["text_hash"] == text_hash(protect(text, DEFAULT_KEEP_TERMS).text)
        assert "klassenraad" not in str(row["translation"])
        # The second answer came from the database: change the row and ask again.
        with db.session() as session, session.begin():
            session.execute(update(TRANSLATION_CACHE).values(translation="Uit ZX0Q cache."))
        assert await translator.translate_async(text, "nl", "en") == "Uit klassenraad cache."
        assert translator.translate(text, "nl", "en") == "Uit klassenraad cache."
    finally:
        translator.close()


async def test_pairs_without_a_model_go_through_english(
        db: Database, config: TranslationConfig, argos_packages: ArgosPackages) -> None:
    install(argos_packages("nl", "en"), argos_packages("en", "ar", kind="upper"))
    translator = MachineTranslator(config, db)
    try:
        result = await translator.translate_async("Kun je de brief lezen?", "nl", "ar")
    finally:
        translator.close()
    assert result == "KUN JE DE BRIEF LEZEN?"  # the second model ran on the first's output
    assert [row["model_version"] for row in cache_rows(db)] == ["nl-en@1.0+en-ar@1.0"]


def test_placeholders_and_school_words_survive_a_model_that_changes_everything(
        config: TranslationConfig, argos_packages: ArgosPackages) -> None:
    install(argos_packages("nl", "en", kind="upper"))
    translator = MachineTranslator(config)
    unprotected = MachineTranslator(config, keep_terms=())
    text = "De klassenraad beslist op {date}. Kun je het A-attest lezen?"
    try:
        result = translator.translate(text, "nl", "en")
        assert result == "DE klassenraad BESLIST OP {date}. KUN JE HET A-attest LEZEN?"
        assert "KLASSENRAAD" in unprotected.translate(text, "nl", "en")
    finally:
        translator.close()
        unprotected.close()


async def test_a_slow_translation_raises_our_timeout_error(
        config: TranslationConfig, argos_packages: ArgosPackages) -> None:
    install(argos_packages("nl", "en"))
    translator = MachineTranslator(config)
    try:
        with pytest.raises(TranslationTimeoutError, match=r"nl → en took longer than"):
            await translator.translate_async("Hoe gaat het met je?", "nl", "en", timeout=1e-6)
        # The service stays usable afterwards.
        assert await translator.translate_async("Dank je wel.", "nl", "en") == "Dank je wel."
    finally:
        translator.close()


async def test_a_missing_pair_names_the_commands_that_install_it(
        config: TranslationConfig, argos_packages: ArgosPackages) -> None:
    install(argos_packages("nl", "en"))
    translator = MachineTranslator(config)
    try:
        with pytest.raises(ModelMissingError) as missing:
            await translator.translate_async("Hallo daar.", "nl", "ar")
    finally:
        translator.close()
    assert str(missing.value) == (
        "no translation model for nl → ar: install one with `wegwijs models install en ar`, "
        "or `wegwijs models install PATH.argosmodel`")


def test_long_input_is_cut_into_pieces_or_refused_cleanly(
        config: TranslationConfig, argos_packages: ArgosPackages) -> None:
    install(argos_packages("nl", "en"))
    # One "sentence" far beyond the test model's position table (64 positions).
    text = " ".join(["het oudercontact is op maandag om negen uur"] * 12)
    chunked = MachineTranslator(replace(config, max_chunk_tokens=20))
    unchunked = MachineTranslator(config)  # 150 tokens per piece: too many for this model
    try:
        assert chunked.translate(text, "nl", "en") == text
        with pytest.raises(ModelFailedError, match=r"nl → en model failed: .*position"):
            unchunked.translate(text, "nl", "en")
    finally:
        chunked.close()
        unchunked.close()


async def test_translation_never_touches_the_network(
        config: TranslationConfig, argos_packages: ArgosPackages,
        monkeypatch: pytest.MonkeyPatch) -> None:
    install(argos_packages("nl", "en"), argos_packages("en", "fi", kind="upper"))
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access is not allowed in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    translator = MachineTranslator(config)  # a fresh service: models load from disk now
    try:
        text = "Hoe gaat het met je? Goed, dank je wel.\nTot maandag."
        assert translator.translate(text, "nl", "en") == text
        assert await translator.translate_async(text, "nl", "fi") == text.upper()
    finally:
        translator.close()
    assert attempts == []


def test_retention_drops_old_cached_translations(db: Database) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with db.session() as session, session.begin():
        for age, name in ((40, "old"), (1, "new")):
            store(session, CacheKey("nl", "ar", "nl-ar@1.0", name), name,
                  now - timedelta(days=age))
    with db.session() as session, session.begin():
        retention.forget_old_text(session, now, keep_days=30)
    with db.session() as session:
        assert session.execute(select(TRANSLATION_CACHE.c.text_hash)).scalars().all() == ["new"]

