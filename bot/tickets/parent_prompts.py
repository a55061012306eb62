"""The two questions the bot puts to a parent about their ticket: "take it back?" and
"did this help? 1-5", and reading the answers (a button press or typed text)."""

from __future__ import annotations

from bot.engine import Library
from bot.engine.matching import pick
from bot.messages import Choice, OutboundMessage
from bot.storage import inbox
from bot.tickets.texts import message

# A rating question is sent from the volunteer's turn, without the parent's state, so
# its question number cannot come from the parent's counter: it is taken from a range
# the engine's counter never reaches, so no old button can be mistaken for it.
RATING_QUESTION_BASE = 900_000_000
RATINGS = range(1, 6)
KEEP, WITHDRAW = "keep", "withdraw"


def rating_question(ticket_id: int) -> int:
    """The question number of a ticket's rating question."""
    return RATING_QUESTION_BASE + ticket_id % RATING_QUESTION_BASE


def rating_prompt(library: Library, language: str, question: int) -> OutboundMessage:
    """ "Did this help? 1 (not at all) to 5 (very much)", with star buttons."""
    return message(library, language, "tickets.rating_ask", question=question,
                   choices=[Choice(str(n), "★" * n) for n in RATINGS])


def read_rating(received: inbox.Pending, question: int) -> int | None:
    """The rating 1-5 a parent pressed or typed, or None."""
    chosen = _chosen(received, question, [str(n) for n in RATINGS], ["★" * n for n in RATINGS])
    return int(chosen) if chosen is not None else None


def withdraw_prompt(library: Library, language: str, question: int) -> OutboundMessage:
    """ "Your question is still open. Take it back?" with keep / take back buttons."""
    return message(library, language, "tickets.withdraw_ask", question=question,
                   choices=withdraw_choices(library, language))


def withdraw_choices(library: Library, language: str) -> list[Choice]:
    """The options of the withdraw question."""
    return [Choice(KEEP, library.text(language, "tickets.opt_keep", {})),
            Choice(WITHDRAW, library.text(language, "tickets.opt_withdraw", {}))]


def read_withdraw(library: Library, language: str, received: inbox.Pending,
                  question: int) -> str | None:
    """KEEP or WITHDRAW, pressed or typed (a number or the label), or None."""
    choices = withdraw_choices(library, language)
    return _chosen(received, question, [c.id for c in choices], [c.label for c in choices])


def _chosen(received: inbox.Pending, question: int, ids: list[str],
            labels: list[str]) -> str | None:
    payload = received.payload or {}
    if payload.get("choice") is not None:
        fits = payload.get("question") == question and payload["choice"] in ids
        return str(payload["choice"]) if fits else None
    index = pick(received.text or "", labels)
    return ids[index] if index is not None else None
