"""An installed model: one argos package for one language pair."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class PackageTokenizer(Protocol):
    """The tokenizer an argos package ships (SentencePiece or BPE)."""

    def encode(self, sentence: str) -> list[str]:
        """Text to model tokens."""

    def decode(self, tokens: list[str]) -> str:
        """Model tokens to text."""


class ArgosPackage(Protocol):
    """The parts of `argostranslate.package.Package` the models are run with."""

    target_prefix: str
    tokenizer: PackageTokenizer


@dataclass(frozen=True)
class InstalledModel:
    """A translation model on disk."""

    source: str
    target: str
    version: str
    path: Path
    package: ArgosPackage = field(compare=False, repr=False)

    @property
    def pair(self) -> tuple[str, str]:
        """(source language, target language)."""
        return (self.source, self.target)

    def size_bytes(self) -> int:
        """Disk space taken by the package folder."""
        return sum(file.stat().st_size for file in self.path.rglob("*") if file.is_file())
