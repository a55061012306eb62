"""The models folder: which models are installed, installing and removing them.

Installing and removing go through argostranslate's package functions
(`install_from_path`, `uninstall`, the package index); afterwards argostranslate's
caches are cleared so this process sees the change at once.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.translation.argos import argos_package, argos_translate, clear_argos_caches
from bot.translation.config import TranslationConfig
from bot.translation.errors import (
    InvalidPackageError,
    ModelNotInstalledError,
    ModelStoreError,
    PackageIndexUnavailableError,
)
from bot.translation.installed import InstalledModel

log = logging.getLogger(__name__)

# argostranslate's downloads have no timeout of their own; a machine without a route
# out should fail within this, not hang.
NETWORK_TIMEOUT_SECONDS = 60
# translation_cache.source_language / target_language are VARCHAR(10).
LANGUAGE_CODE = re.compile(r"^[A-Za-z][A-Za-z_-]{1,9}$")
TOKENIZER_FILES = ("sentencepiece.model", "bpe.model")


@dataclass(frozen=True)
class PackageFile:
    """What a .argosmodel file holds, read before anything is installed."""

    folder: str
    source: str
    target: str
    version: str


@dataclass(frozen=True)
class InstallResult:
    """The model now installed, and the one it replaced, if any."""

    model: InstalledModel
    replaced: InstalledModel | None


class ModelStore:
    """The installed models of one packages folder."""

    def __init__(self, config: TranslationConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._models: dict[tuple[str, str], InstalledModel] = {}

    def installed(self) -> dict[tuple[str, str], InstalledModel]:
        """The installed models by (source, target). Rescanned when the folder changes."""
        stamp = _mtime(self.config.packages_dir)
        with self._lock:
            if stamp is None or stamp != self._stamp:
                self._models = self._scan() if stamp is not None else {}
                self._stamp = stamp
            return dict(self._models)

    def install_file(self, path: Path) -> InstallResult:
        """Install a .argosmodel file, replacing the model installed for its pair."""
        info = read_package_file(path)
        package = argos_package(self.config)
        argos_translate(self.config)  # install_from_path imports it; import it our way first
        replaced = self.installed().get((info.source, info.target))
        unpack_into = self.config.packages_dir / info.folder
        if unpack_into.exists() and (replaced is None or replaced.path != unpack_into):
            raise InvalidPackageError(
                f"the folder {unpack_into} is already used by another model: remove that "
                "model first")
        if replaced is not None:
            package.uninstall(replaced.package)
        try:
            package.install_from_path(path)
        except Exception as exc:  # argostranslate raises plain Exception
            raise InvalidPackageError(f"could not install {path}: {exc}") from exc
        finally:
            self.forget()
        model = self.installed().get((info.source, info.target))
        if model is None or model.path != unpack_into:
            raise InvalidPackageError(f"{path} was unpacked but is not a usable model")
        log.info("installed model %s → %s %s", model.source, model.target, model.version)
        return InstallResult(model, replaced)

    def install_from_index(self, source: str, target: str) -> InstallResult:
        """Download and install the pair's model from the argos package index."""
        _check_code(source)
        _check_code(target)
        package = argos_package(self.config)
        argos_translate(self.config)
        index = Path(package.settings.local_package_index)
        url = package.settings.remote_package_index
        with _network_timeout(NETWORK_TIMEOUT_SECONDS):
            before = _mtime(index)
            package.update_package_index()  # logs and returns on failure
            if _mtime(index) in (None, before):
                raise PackageIndexUnavailableError(
                    f"could not reach the argos package index ({url}). Without internet "
                    "access, copy a model file here and run `wegwijs models install "
                    "PATH.argosmodel`")
            offers = [p for p in package.get_available_packages()
                      if p.type == "translate" and (p.from_code, p.to_code) == (source, target)]
            if not offers:
                raise ModelStoreError(f"the package index has no model for {source} → {target}")
            try:
                download = Path(offers[0].download())
            except Exception as exc:  # argostranslate raises plain Exception
                raise PackageIndexUnavailableError(
                    f"could not download the {source} → {target} model: {exc}") from exc
        try:
            return self.install_file(download)
        finally:
            download.unlink(missing_ok=True)

    def remove(self, source: str, target: str) -> InstalledModel:
        """Uninstall the pair's model."""
        model = self.installed().get((source, target))
        if model is None:
            raise ModelNotInstalledError(f"no model for {source} → {target} is installed")
        package = argos_package(self.config)
        argos_translate(self.config)
        try:
            package.uninstall(model.package)
        finally:
            self.forget()
        log.info("removed model %s → %s %s", model.source, model.target, model.version)
        return model

    def forget(self) -> None:
        """Drop what this store and argostranslate remember about installed models."""
        with self._lock:
            self._stamp = None
            self._models = {}
        clear_argos_caches()

    def _scan(self) -> dict[tuple[str, str], InstalledModel]:
        package = argos_package(self.config)
        found: dict[tuple[str, str], InstalledModel] = {}
        with package.package_lock:  # not while argostranslate unpacks or deletes
            folders = sorted(p for p in self.config.packages_dir.iterdir() if p.is_dir())
            for folder in folders:
                model = _load_model(package, folder)
                if model is None:
                    continue
                known = found.get(model.pair)
                if known is None or _version_key(model.version) > _version_key(known.version):
                    found[model.pair] = model
        return found


def read_package_file(path: Path) -> PackageFile:
    """Check a .argosmodel file and read its metadata, without installing it."""
    if not path.is_file():
        raise InvalidPackageError(f"{path} does not exist")
    if not zipfile.is_zipfile(path):
        raise InvalidPackageError(f"{path} is not a .argosmodel file (a zip archive)")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        folders = {name.split("/", 1)[0] for name in names}
        if len(folders) != 1:
            raise InvalidPackageError(f"{path} must hold exactly one top folder")
        folder = folders.pop()
        try:
            metadata = json.loads(archive.read(f"{folder}/metadata.json"))
        except (KeyError, ValueError) as exc:
            raise InvalidPackageError(f"{path} has no readable metadata.json") from exc
    if not isinstance(metadata, dict) or metadata.get("type", "translate") != "translate":
        raise InvalidPackageError(f"{path} is not a translation model")
    source, target = metadata.get("from_code"), metadata.get("to_code")
    for code in (source, target):
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
            raise InvalidPackageError(f"{path}: metadata.json needs from_code and to_code "
                                      "(language codes such as nl, en, ar)")
    if f"{folder}/model/model.bin" not in names or not any(
            f"{folder}/{name}" in names for name in TOKENIZER_FILES):
        raise InvalidPackageError(f"{path} lacks model/model.bin or its tokenizer")
    return PackageFile(folder, str(source), str(target), str(metadata.get("package_version", "")))


def _load_model(package: Any, folder: Path) -> InstalledModel | None:
    # A stray folder makes argostranslate's own listing raise; skip it instead, so one
    # bad folder does not stop translation for every pair.
    if not (folder / "metadata.json").is_file():
        log.warning("ignoring the folder %s among the models: it has no metadata.json",
                    folder.name)
        return None
    try:
        pkg = package.Package(folder)
    except (OSError, ValueError) as exc:
        log.warning("ignoring the model folder %s: %s", folder.name, exc)
        return None
    if pkg.type != "translate" or not pkg.from_code or not pkg.to_code:
        return None
    if not hasattr(pkg, "tokenizer"):
        log.warning("ignoring the model folder %s: it has no tokenizer", folder.name)
        return None
    return InstalledModel(pkg.from_code, pkg.to_code, str(pkg.package_version), folder, pkg)


def _check_code(code: str) -> None:
    if not LANGUAGE_CODE.match(code):
        raise ModelStoreError(f"{code!r} is not a language code such as nl, en or ar")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


@contextmanager
def _network_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)
