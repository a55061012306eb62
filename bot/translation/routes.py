"""Which models translate a pair: directly, or through English (a → en → b)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from bot.translation.errors import ModelMissingError
from bot.translation.installed import InstalledModel

PIVOT_LANGUAGE = "en"
# translation_cache.model_version is VARCHAR(60).
MAX_MODEL_VERSION = 60


@dataclass(frozen=True)
class Route:
    """The models to run one after the other; none when the languages are the same."""

    source: str
    target: str
    steps: tuple[InstalledModel, ...]

    @property
    def model_version(self) -> str:
        """Names every model and its package version, e.g. `nl-en@1.9+en-ar@1.0`: a
        new version of any step makes earlier cached translations miss."""
        version = "+".join(f"{m.source}-{m.target}@{m.version}" for m in self.steps)
        if len(version) <= MAX_MODEL_VERSION:
            return version
        return "sha256:" + hashlib.sha256(version.encode()).hexdigest()[:MAX_MODEL_VERSION - 7]


def plan_route(installed: Mapping[tuple[str, str], InstalledModel], source: str,
               target: str) -> Route:
    """The direct model, else the two models through English; else ModelMissingError
    naming the models to install."""
    if source == target:
        return Route(source, target, ())
    direct = installed.get((source, target))
    if direct is not None:
        return Route(source, target, (direct,))
    if PIVOT_LANGUAGE in (source, target):
        raise ModelMissingError(source, target, [(source, target)])
    legs = [(source, PIVOT_LANGUAGE), (PIVOT_LANGUAGE, target)]
    missing = [leg for leg in legs if leg not in installed]
    if missing:
        raise ModelMissingError(source, target, missing)
    return Route(source, target, tuple(installed[leg] for leg in legs))
