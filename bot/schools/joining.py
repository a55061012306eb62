"""Parents join a school by its invite code: `/start CODE` (a Telegram link
t.me/<bot>?start=CODE) or `JOIN CODE` (typed, e.g. on WhatsApp; any case, and the
word for "join" may be in any language the bot offers: a new parent's language is
guessed from it).

The dispatcher offers every message to this interceptor first (inside the contact's
transaction). For a known code it records the membership, gives the contact the
school's region if they have none, and answers in the parent's language with what
joining means; then the bot starts as after a plain `/start`: onboarding for a new
parent (the bot's consent question included), the menu for a known one.

`/start` with a payload that is no school's code is left alone: it may be another
kind of link (a volunteer's), and a plain start is the right answer otherwise. A
typed `JOIN XYZ` with an unknown code gets a friendly note.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlmodel import Session

from bot.engine import Library, Send, SessionState, advance
from bot.engine.bidi import PDI, isolate_ltr
from bot.engine.library import SOURCE_LANGUAGE
from bot.engine.matching import keywords, normalize
from bot.engine.runner import GUESS, Event, Turn
from bot.messages import OutboundMessage
from bot.schools.registry import CODE_SHAPE
from bot.storage import contacts
from bot.storage import schools as store
from bot.storage.contacts import LockedContact
from bot.storage.inbox import Pending
from bot.storage.school_tables import Membership

log = logging.getLogger(__name__)

JOIN_WORDS = "schools.command_join"
FSI = "\u2068"  # FIRST STRONG ISOLATE: the text inside takes its own direction
_START = re.compile(r"^/start(?:@\w+)?\s+(\S+)$", re.IGNORECASE)
_MAX_TEXT = 80  # a join message is short; longer text is never looked at


class JoinByCode:
    """The interceptor (see `bot.services.dispatcher.Interceptor`)."""

    def __init__(self, library: Library) -> None:
        self.library = library
        # Every language's words for "join", and the language each belongs to (English
        # words tell nothing: anyone may type them).
        self.join_words = {word: code for code in library.languages
                           for word in keywords(library.raw_text(code, JOIN_WORDS))}
        self.join_words.update(
            (word, SOURCE_LANGUAGE)
            for word in keywords(library.raw_text(SOURCE_LANGUAGE, JOIN_WORDS)))

    def __call__(self, session: Session, contact: LockedContact, state: SessionState,
                 message: Pending, now: datetime) -> Turn | None:
        attempt = self._attempt(message.text)
        if attempt is None:
            return None
        code, typed, word_language = attempt
        if not CODE_SHAPE.match(code):
            return None
        school = store.school_by_code(session, code)
        if school is None or school.id is None:
            if not typed:
                return None
            return Turn(state, [self._say(state.language, "schools.unknown_code", code=code)])
        membership = store.membership_for(session, school.id, contact.id) or Membership(
            school_id=school.id, contact_id=contact.id, source="code", joined_at=now)
        if state.consented and membership.consent_at is None:
            membership.consent_at = now
        store.save_membership(session, membership)
        if contact.region is None:
            contacts.update_contact(session, contact.id, {"region": school.region})
        log.info("parent joined a school by code: contact=%s school=%s", contact.id,
                 school.id)
        joined = state.copy()
        joined.region = joined.region or school.region
        hint = (message.payload or {}).get("language_hint") or word_language
        start = advance(self.library, joined, Event(text="/start", language_hint=hint), now)
        language = start.state.language or start.state.answers.get(GUESS)
        note = self._say(language, "schools.joined", school=school.name)
        return Turn(start.state, [note, *start.effects])

    def _attempt(self, text: str | None) -> tuple[str, bool, str | None] | None:
        """The code in a join message, whether it was typed with a word for "join"
        (rather than sent by a /start link), and the language of that word if it tells
        one; None for any other message."""
        text = (text or "").strip()
        if not text or len(text) > _MAX_TEXT:
            return None
        if start := _START.match(text):
            return start.group(1), False, None
        words = text.split()
        if len(words) < 2:
            return None
        language = self.join_words.get(normalize(" ".join(words[:-1]).lstrip("/")))
        if language is None:
            return None
        return words[-1], True, None if language == SOURCE_LANGUAGE else language

    def _say(self, language: str | None, key: str, **values: str) -> Send:
        shown = self.library.language(language)
        if shown.direction == "rtl":
            # A name such as "GO! Atheneum" keeps its own direction as a whole.
            values = {name: f"{FSI}{value}{PDI}" for name, value in values.items()}
        text = self.library.text(shown.code, key, values)
        if shown.direction == "rtl":
            text = isolate_ltr(text)
        return Send(OutboundMessage(text, language=shown.code, direction=shown.direction))
