"""The translation service's settings, taken from the bot's Settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings

# Sentences longer than this many model tokens are cut into pieces before they reach
# the model: CTranslate2 silently truncates long input (1024 tokens) and output (256),
# and models with a learned position table fail outright beyond it.
DEFAULT_MAX_CHUNK_TOKENS = 150


@dataclass(frozen=True)
class TranslationConfig:
    """Where models live and how they run."""

    data_dir: Path
    packages_dir: Path
    package_index: str | None = None
    device: str = "cpu"
    intra_threads: int = 1
    inter_threads: int = 1
    beam_size: int = 2
    timeout_seconds: float = 15.0
    max_chunk_tokens: int = DEFAULT_MAX_CHUNK_TOKENS

    @classmethod
    def from_settings(cls, settings: Settings) -> TranslationConfig:
        """The configuration from WEGWIJS_* settings; packages under the data folder."""
        data_dir = settings.data_dir.resolve()
        return cls(
            data_dir=data_dir,
            packages_dir=(settings.argos_packages_dir or data_dir / "argos-packages").resolve(),
            package_index=settings.argos_package_index,
            device=settings.translation_device,
            intra_threads=settings.translation_intra_threads,
            inter_threads=settings.translation_inter_threads,
            beam_size=settings.translation_beam_size,
            timeout_seconds=settings.translation_timeout_seconds,
            max_chunk_tokens=settings.translation_max_chunk_tokens,
        )

    @property
    def argos_home(self) -> Path:
        """The folder that stands in for argostranslate's XDG data, config and cache."""
        return self.data_dir / "argos"
