"""Running one installed model on a list of sentences.

This is argostranslate's own per-package path (`translate.apply_packaged_translation`:
the package's tokenizer, its CTranslate2 model, its target prefix, the same decoding
clean-up) minus the sentence splitter, which would download a model (see argos.py),
and with two changes: each sentence is decoded on its own, so the caller keeps its
layout, and sentences longer than `max_chunk_tokens` are cut at word starts, so
CTranslate2 neither truncates them silently nor runs past a model's position table.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.translation.config import TranslationConfig
from bot.translation.errors import ModelFailedError
from bot.translation.installed import ArgosPackage, InstalledModel

log = logging.getLogger(__name__)

WORD_START = "▁"  # SentencePiece marks the first piece of a word with U+2581
MAX_BATCH_SIZE = 32
# argostranslate's value: a mild preference for longer hypotheses.
LENGTH_PENALTY = 0.2


class ModelRunner:
    """Loads models lazily (once per package version) and translates sentences."""

    def __init__(self, config: TranslationConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._loaded: dict[Path, tuple[tuple[str, int], Any]] = {}

    def translate(self, model: InstalledModel, sentences: Sequence[str]) -> list[str]:
        """Translate each sentence with the model; one result per sentence."""
        if not sentences:
            return []
        package = model.package
        tokenized = [package.tokenizer.encode(sentence) for sentence in sentences]
        chunks: list[list[str]] = []
        owners: list[int] = []
        for index, tokens in enumerate(tokenized):
            for chunk in chunk_tokens(tokens, self.config.max_chunk_tokens):
                chunks.append(chunk)
                owners.append(index)
        translator = self._translator(model)
        prefix = [[package.target_prefix]] * len(chunks) if package.target_prefix else None
        longest = max(len(chunk) for chunk in chunks)
        try:
            results = translator.translate_batch(
                chunks, target_prefix=prefix, beam_size=self.config.beam_size,
                max_batch_size=MAX_BATCH_SIZE, replace_unknowns=True,
                length_penalty=LENGTH_PENALTY,
                # Inputs are already cut to size: never let CTranslate2 truncate them.
                max_input_length=0,
                # Bound runaway output, with room for languages that need more tokens.
                max_decoding_length=2 * longest + 10)
        except (RuntimeError, ValueError) as exc:
            raise ModelFailedError(f"the {model.source} → {model.target} model failed: "
                                   f"{exc}") from exc
        parts: list[list[str]] = [[] for _ in sentences]
        for owner, result in zip(owners, results, strict=True):
            parts[owner].append(_decode(package, result.hypotheses[0]))
        return [" ".join(part for part in pieces if part) for pieces in parts]

    def unload(self) -> None:
        """Forget every loaded model (they are freed when no translation uses them)."""
        with self._lock:
            self._loaded.clear()

    def _translator(self, model: InstalledModel) -> Any:
        model_dir = model.path / "model"
        try:
            stamp = (model.version, (model_dir / "model.bin").stat().st_mtime_ns)
        except OSError as exc:
            raise ModelFailedError(f"the {model.source} → {model.target} model is missing "
                                   "its files: reinstall it") from exc
        with self._lock:
            loaded = self._loaded.get(model.path)
            if loaded is not None and loaded[0] == stamp:
                return loaded[1]
            import ctranslate2  # type: ignore[import-untyped]  # only when translating

            try:
                translator = ctranslate2.Translator(
                    str(model_dir), device=self.config.device,
                    inter_threads=self.config.inter_threads,
                    intra_threads=self.config.intra_threads)
            except (RuntimeError, ValueError) as exc:
                raise ModelFailedError(f"the {model.source} → {model.target} model could "
                                       f"not be loaded: {exc}") from exc
            self._loaded[model.path] = (stamp, translator)
            log.info("loaded model %s → %s %s", model.source, model.target, model.version)
            return translator


def chunk_tokens(tokens: list[str], limit: int) -> list[list[str]]:
    """Cut a token list into pieces of at most `limit` tokens, at word starts if any."""
    chunks: list[list[str]] = []
    start = 0
    while len(tokens) - start > limit:
        end = start + limit
        cut = next((i for i in range(end, start, -1) if tokens[i].startswith(WORD_START)), end)
        chunks.append(tokens[start:cut])
        start = cut
    chunks.append(tokens[start:])
    return chunks


def _decode(package: ArgosPackage, tokens: list[str]) -> str:
    # As argostranslate does it (note that its decoder turns "_" into spaces).
    value = package.tokenizer.decode(tokens)
    if package.target_prefix and value.startswith(package.target_prefix):
        value = value[len(package.target_prefix):]
    return value.removeprefix(" ")
