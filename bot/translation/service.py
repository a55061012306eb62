"""Machine translation for the bot: protected terms, sentences, models, cache.

One request: protect placeholders and glossary terms; pick the models (direct or
through English); look the text up in the cache; otherwise split it into sentences,
run the models on those with words in them, and check that every protected term came
back; cache the result; restore the terms.

`translate` blocks (the CLI); `translate_async` keeps the event loop free: database
work goes through `Database.run`, the models run on this service's own threads, and a
timeout bounds the whole request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.storage import translation_cache as cache
from bot.storage.database import Database
from bot.translation.config import TranslationConfig
from bot.translation.engine import ModelRunner
from bot.translation.errors import TranslationTimeoutError
from bot.translation.protection import ProtectedText, has_words, protect, restore
from bot.translation.routes import Route, plan_route
from bot.translation.sentences import split_sentences
from bot.translation.store import ModelStore
from bot.translation.terms import DEFAULT_KEEP_TERMS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    route: Route
    protected: ProtectedText
    key: cache.CacheKey


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MachineTranslator:
    """Translates texts between installed language pairs, offline."""

    def __init__(self, config: TranslationConfig, db: Database | None = None, *,
                 keep_terms: Iterable[str] = DEFAULT_KEEP_TERMS,
                 store: ModelStore | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self.config = config
        self.store = store or ModelStore(config)
        self.keep_terms = tuple(keep_terms)
        self._db = db
        self._clock = clock
        self._runner = ModelRunner(config)
        # The models' own threads do the work; these only wait for them, so one per
        # CTranslate2 worker keeps requests queued in order instead of piling up.
        self._executor = ThreadPoolExecutor(max_workers=config.inter_threads,
                                            thread_name_prefix="translate")

    def translate(self, text: str, source: str, target: str) -> str:
        """Translate `text` from `source` to `target` (language codes), blocking.

        Raises ModelMissingError (naming the install commands) when no model or pivot
        pair covers the languages, and other TranslationErrors when the model fails.
        """
        job = self._prepare(text, source, target)
        if job is None:
            return text
        cached = _lookup(self._db, job.key) if self._db else None
        if cached is not None:
            return restore(cached, job.protected.originals)
        translated = self._run_models(job)
        result = restore(translated, job.protected.originals)
        if self._db:
            _store(self._db, job.key, translated, self._clock())
        return result

    async def translate_async(self, text: str, source: str, target: str, *,
                              timeout: float | None = None) -> str:
        """Like `translate`, off the event loop; TranslationTimeoutError after
        `timeout` seconds (default: the configured timeout)."""
        seconds = self.config.timeout_seconds if timeout is None else timeout
        try:
            async with asyncio.timeout(seconds):
                return await self._translate_async(text, source, target)
        except TimeoutError as exc:
            log.warning("translation %s → %s timed out after %g s", source, target, seconds)
            raise TranslationTimeoutError(source, target, seconds) from exc

    def close(self) -> None:
        """Wait for running translations and free the models."""
        self._executor.shutdown(wait=True)
        self._runner.unload()

    async def _translate_async(self, text: str, source: str, target: str) -> str:
        loop = asyncio.get_running_loop()
        job = await loop.run_in_executor(None, self._prepare, text, source, target)
        if job is None:
            return text
        if self._db:
            cached = await self._db.run(_lookup, self._db, job.key)
            if cached is not None:
                return restore(cached, job.protected.originals)
        translated = await loop.run_in_executor(self._executor, self._run_models, job)
        result = restore(translated, job.protected.originals)
        if self._db:
            await self._db.run(_store, self._db, job.key, translated, self._clock())
        return result

    def _prepare(self, text: str, source: str, target: str) -> _Job | None:
        """The job for a text, or None when there is nothing to translate."""
        if source == target:
            return None
        protected = protect(text, self.keep_terms)
        if not has_words(protected.text):
            return None
        route = plan_route(self.store.installed(), source, target)
        key = cache.CacheKey(source, target, route.model_version,
                             cache.text_hash(protected.text))
        return _Job(route, protected, key)

    def _run_models(self, job: _Job) -> str:
        pieces = split_sentences(job.protected.text)
        todo = [i for i, piece in enumerate(pieces) if piece.is_sentence and has_words(piece.text)]
        sentences = [pieces[i].text for i in todo]
        started = time.perf_counter()
        for model in job.route.steps:
            sentences = self._runner.translate(model, sentences)
        texts = [piece.text for piece in pieces]
        for index, sentence in zip(todo, sentences, strict=True):
            texts[index] = sentence
        log.debug("translated %d sentence(s) %s → %s with %s in %.3f s", len(todo),
                  job.route.source, job.route.target, job.route.model_version,
                  time.perf_counter() - started)
        return "".join(texts)


def _lookup(db: Database, key: cache.CacheKey) -> str | None:
    with db.session() as session:
        return cache.lookup(session, key)


def _store(db: Database, key: cache.CacheKey, translated: str, now: datetime) -> None:
    with db.session() as session, session.begin():
        cache.store(session, key, translated, now)
