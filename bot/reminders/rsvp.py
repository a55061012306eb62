"""The parents' answers to reminders: an interceptor the dispatcher asks before the
engine (registered in bot/services/interceptors.py).

An answer is a press on a reminder's button (its question number names the invitation,
see `bot.reminders.render.question_for`), or, on channels without buttons, the option's
number or label typed in reply to the last message, if that was a reminder. It is stored
on the invitation (the latest answer counts) and acknowledged in the parent's language.
The follow-up's "Write it down" opens the meeting flow's note-taking; anything else is
left to the engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.engine import Frame, Library, Send, SessionState, Turn, advance
from bot.engine.bidi import isolate_ltr
from bot.engine.matching import pick
from bot.engine.runner import Event
from bot.messages import OutboundMessage
from bot.reminders.render import RSVP_OPTIONS, invitation_for
from bot.storage import reminders as storage
from bot.storage.contacts import LockedContact
from bot.storage.inbox import Pending

# The meeting flow's question whose option starts the note (flows/meeting.yaml).
NOTE_FLOW, NOTE_QUESTION, NOTE_OPTION = "meeting", "topics", "write_note"
# A typed answer is a number or a short label; longer text is a conversation.
MAX_TYPED_ANSWER = 60


class ReminderAnswers:
    """Takes answers to reminders; returns None for every other message."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def __call__(self, session: Session, contact: LockedContact, state: SessionState,
                 message: Pending, now: datetime) -> Turn | None:
        """Handle the message if it answers a reminder."""
        answer = self._answer(session, contact, message)
        if answer is None:
            return None
        invitation_id, choice = answer
        target = storage.answer_target(session, invitation_id, contact.id)
        if target is None:
            return None  # not this parent's invitation (or gone): the engine answers
        language = state.language or contact.language
        if choice == NOTE_OPTION:
            return self._write_note(state, now)
        if choice == "not_now":
            return self._reply(state, language, "reminders.followup_later")
        if choice not in RSVP_OPTIONS:
            return None
        if target.meeting_status == "cancelled":
            return self._reply(state, language, "reminders.answer_cancelled")
        if now >= target.end:
            return self._reply(state, language, "reminders.answer_over")
        storage.record_answer(session, invitation_id, choice, now)
        return self._reply(state, language, f"reminders.answer_{choice}")

    def _answer(self, session: Session, contact: LockedContact,
                message: Pending) -> tuple[int, str] | None:
        """(invitation id, option id) if the message answers a reminder."""
        payload = message.payload or {}
        choice = payload.get("choice")
        if choice is not None:
            invitation_id = invitation_for(payload.get("question"))
            return (invitation_id, str(choice)) if invitation_id is not None else None
        text = (message.text or "").strip()
        if not text or len(text) > MAX_TYPED_ANSWER:
            return None
        last = storage.last_reminder(session, contact.channel, contact.address)
        if last is None:
            return None
        invitation_id = invitation_for(last.question)
        index = pick(text, last.labels)
        if invitation_id is None or index is None:
            return None
        return invitation_id, last.choice_ids[index]

    def _reply(self, state: SessionState, language: str | None, key: str) -> Turn:
        chosen = self.library.language(language)
        text = self.library.text(chosen.code, key, {})
        if chosen.direction == "rtl":
            text = isolate_ltr(text)
        return Turn(state, [Send(OutboundMessage(text, language=chosen.code,
                                                 direction=chosen.direction))])

    def _write_note(self, state: SessionState, now: datetime) -> Turn:
        """Open the meeting flow's note: as if the parent chose "Write down what was
        agreed" in it, so the engine asks, saves and confirms as it always does."""
        at_topics = state.copy()
        at_topics.stack = [Frame(NOTE_FLOW, NOTE_QUESTION)]
        at_topics.waiting = True
        return advance(self.library, at_topics,
                       Event(choice=NOTE_OPTION, question=at_topics.question), now)
