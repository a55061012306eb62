"""The safeguarding interceptor: screens every typed message of a parent for danger words.

On a match (in any shipped language: parents mix languages), the parent gets the
emergency numbers of their region (every region's when it is not known), in their
language, and a priority ticket is opened for a person, or their open ticket becomes
a priority one and gets the message. The numbers go out even if the ticket cannot be
opened. Logs carry the contact id and the language of the list that matched, never the
text or the word.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from bot.engine import Library, Send, SessionState
from bot.engine.helplines import helpline_texts
from bot.engine.runner import Turn, parent_flow
from bot.storage import inbox
from bot.storage.contacts import LockedContact
from bot.tickets.opening import open_ticket
from bot.tickets.texts import compose

log = logging.getLogger(__name__)

TOPIC = "safeguarding"


class Safeguarding:
    """Opens a priority ticket and sends the emergency numbers when a parent's message
    matches a danger word list (see docs/safeguarding.md)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def __call__(self, session: Session, contact: LockedContact, state: SessionState,
                 message: inbox.Pending, now: datetime) -> Turn | None:
        if not message.text:
            return None  # a button press carries no words
        chosen = state.language or contact.language
        matched = self.library.danger_words.find(message.text, prefer=chosen)
        if matched is None:
            return None
        log.info("safeguarding match: contact=%s language=%s", contact.id, matched)
        # A parent who has not chosen a language yet is answered in the one they wrote.
        language = chosen or self._guess(message.text) or matched
        numbers = [Send(compose(self.library, language, text)) for text in
                   helpline_texts(self.library, language, state.region or contact.region)]
        ticket_state = state.copy()
        ticket_state.language = language
        savepoint = session.begin_nested()
        try:
            opened = open_ticket(session, contact, ticket_state, library=self.library,
                                 topic=TOPIC, question=message.text,
                                 flow=parent_flow(state.stack),
                                 priority=True, now=now)
        except Exception:
            # The numbers matter most: they go out even when the ticket fails.
            savepoint.rollback()
            log.exception("safeguarding ticket failed: contact=%s", contact.id)
            return Turn(state, [*numbers])
        savepoint.commit()
        kept = opened.state.copy()
        kept.language = state.language  # the reply's language is no choice of the parent's
        return Turn(kept, [*numbers, *opened.effects])

    def _guess(self, text: str) -> str | None:
        detect = self.library.detect_language
        return detect(text) if detect is not None else None
