"""The one door to argostranslate: configure it before its first import, then load it.

argostranslate reads its settings from environment variables once, when it is first
imported, and creates its data, config and cache folders then (under $HOME unless the
XDG variables say otherwise). So the first import happens here, lazily (never at bot
start-up), after the ARGOS_* variables are set from our configuration and with the XDG
variables pointing under the Wegwijs data folder. The XDG variables are put back
afterwards: they only matter during the import, and other libraries should see the
environment they were started with.

Sentence splitting is not done by argostranslate. Its own translation path
(`translate.PackageTranslation`) always builds a sentence splitter, and with
argos-translate-lt none of them works offline: ARGOSTRANSLATE/DEFAULT/MINISBD download
a MiniSBD model at the first translation, STANZA downloads too (and needs stanza),
SPACY needs spaCy (not installed) plus a downloaded or packaged model, and NONE makes
`get_installed_languages()` skip every package. `engine.py` therefore runs the
package's own tokenizer and CTranslate2 model on sentences we split ourselves.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.translation.config import TranslationConfig

# argostranslate's own default, used unless WEGWIJS_ARGOS_PACKAGE_INDEX names a mirror.
DEFAULT_PACKAGE_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"

_lock = threading.RLock()


def argos_environment(config: TranslationConfig) -> dict[str, str]:
    """The ARGOS_* variables argostranslate reads at import, from our configuration."""
    return {
        "ARGOS_PACKAGES_DIR": str(config.packages_dir),
        "ARGOS_PACKAGE_INDEX": _index_url(config),
        "ARGOS_DEVICE_TYPE": config.device,
        "ARGOS_INTRA_THREADS": str(config.intra_threads),
        "ARGOS_INTER_THREADS": str(config.inter_threads),
        "ARGOS_BEAM_SIZE": str(config.beam_size),
    }


def xdg_environment(config: TranslationConfig) -> dict[str, str]:
    """XDG folders under the data folder, so importing argostranslate (and the
    onnxruntime it pulls in) writes nothing under $HOME."""
    home = config.argos_home
    return {"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache")}


def argos_package(config: TranslationConfig) -> ModuleType:
    """`argostranslate.package`, imported under our settings and pointed at our folders."""
    with _lock:
        module = _import(config, "argostranslate.package")
        _apply(config)
        return module


def argos_translate(config: TranslationConfig) -> ModuleType:
    """`argostranslate.translate` (it imports MiniSBD and onnxruntime, so it is only
    loaded to install or remove models, where argostranslate needs it itself)."""
    with _lock:
        module = _import(config, "argostranslate.translate")
        _apply(config)
        return module


def clear_argos_caches() -> None:
    """Forget argostranslate's loaded translations and language list, so that models
    installed or removed in this process are seen."""
    with _lock:
        translate = sys.modules.get("argostranslate.translate")
        if translate is not None:
            translate.installed_translates.clear()
            translate.get_installed_languages.cache_clear()


def _import(config: TranslationConfig, name: str) -> ModuleType:
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    if "argostranslate.settings" not in sys.modules:
        os.environ.update(argos_environment(config))
    with _temporary_environment(xdg_environment(config)):
        return importlib.import_module(name)


def _apply(config: TranslationConfig) -> None:
    """Point argostranslate's module settings at this configuration.

    argostranslate reads them once per process; a process that uses another
    configuration later (the CLI run in-process, tests) must not keep writing into the
    first one's folders.
    """
    settings: Any = sys.modules["argostranslate.settings"]

    xdg = xdg_environment(config)
    config.packages_dir.mkdir(parents=True, exist_ok=True)
    settings.package_data_dir = config.packages_dir
    settings.package_dirs = [config.packages_dir]
    data = Path(xdg["XDG_DATA_HOME"]) / "argos-translate"
    data.mkdir(parents=True, exist_ok=True)
    settings.local_package_index = data / "index.json"
    settings.downloads_dir = Path(xdg["XDG_CACHE_HOME"]) / "argos-translate" / "downloads"
    settings.downloads_dir.mkdir(parents=True, exist_ok=True)
    settings.package_index = _index_url(config)
    settings.remote_package_index = settings.package_index + "index.json"


def _index_url(config: TranslationConfig) -> str:
    url = config.package_index or DEFAULT_PACKAGE_INDEX
    # argostranslate appends "index.json" to the index URL without a separator.
    return url if url.endswith("/") else url + "/"


@contextmanager
def _temporary_environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
