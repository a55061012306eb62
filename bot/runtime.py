"""Building the running parts from settings: database, library, dispatcher."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Settings
from bot.engine import Library
from bot.library import ContentRoot, load_library
from bot.services.dispatcher import Clock, Dispatcher, utc_now
from bot.services.interceptors import build_interceptors
from bot.storage.database import Database
from bot.storage.migrate import upgrade
from bot.tickets.opening import TicketHandoff
from bot.translation import MachineTranslator, TranslationConfig


@dataclass
class Runtime:
    """The database, the authored content, the dispatcher and the machine translator
    (its models load at the first translation), ready to use."""

    settings: Settings
    db: Database
    library: Library
    dispatcher: Dispatcher
    translator: MachineTranslator

    def close(self) -> None:
        """Release the translator and the database."""
        self.translator.close()
        self.db.close()


def build_runtime(settings: Settings, *, database_url: str | None = None,
                  clock: Clock = utc_now) -> Runtime:
    """Load the content (failing fast on authoring errors), migrate and connect."""
    library = load_library(ContentRoot.at(settings.content_root))
    db = Database(database_url or settings.effective_database_url)
    upgrade(db)
    translator = MachineTranslator(TranslationConfig.from_settings(settings), db)
    dispatcher = Dispatcher(db, library, clock=clock, interceptors=build_interceptors(library),
                            on_handoff=TicketHandoff(library))
    return Runtime(settings, db, library, dispatcher, translator)


def configure_logging(level: str) -> None:
    """Plain log lines. Code logs ids and counts only: never addresses or message text."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SQL echo and HTTP access lines could carry personal data: keep them quiet.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
