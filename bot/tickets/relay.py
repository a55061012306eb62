"""The relay job: tells volunteers about new tickets and carries messages between a
parent and the volunteer holding their ticket, translating where needed.

Machine translation must not run inside the dispatcher's transaction (on SQLite it
would wait for its own database connection), so the turns only write ticket messages
with relay status "pending". This job then works in three steps: read what is due
(one short transaction), translate (no transaction held), and write the outbox rows
(one transaction, each message or notice claimed with a conditional UPDATE, so two
workers never send the same one twice).

Language routing: volunteers who speak the parent's language are told first. If none
serves the ticket, or none claims it within `WEGWIJS_TICKET_LANGUAGE_WAIT_MINUTES`
(priority tickets: at once), the others are told too, with the parent's original words
and a machine translation into their interface language, marked as such. A reply is
translated back into the parent's language, marked too. Without an installed model the
original goes out, with a note saying no translation was available.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.engine import Library
from bot.storage import tickets, volunteers
from bot.storage.tables import Contact
from bot.storage.ticket_tables import Ticket, TicketMessage, Volunteer
from bot.tickets import parent_prompts
from bot.tickets.notify import parent_language, tell_parent, tell_volunteer, to_chat
from bot.tickets.routing import serves, speaks, ticket_line
from bot.tickets.texts import message
from bot.translation import MACHINE_TRANSLATED_KEY, TranslationError, mark_machine_translated

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reader:
    """Whom a ticket's words go to: a chat, the language they read, and whether they
    need a translation of words in `source`."""

    chat: Contact
    language: str
    volunteer_id: int | None
    needs_translation: bool


@dataclass(frozen=True)
class Relay:
    """One pending message and its reader."""

    message: TicketMessage
    ticket: Ticket
    reader: Reader


@dataclass(frozen=True)
class Notice:
    """Volunteers to tell about an open ticket, with the parent's first words."""

    ticket: Ticket
    words: TicketMessage
    readers: list[Reader]
    widen: bool


@dataclass
class Work:
    """What one run of the job does."""

    relays: list[Relay] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    ratings_due: bool = False  # parents to ask "did this help?" (after the last answer)

    def translations_needed(self) -> set[tuple[str, str, str]]:
        """(text, source, target) of every translation the readers need."""
        needed = {(r.message.text, r.message.language, r.reader.language)
                  for r in self.relays if r.reader.needs_translation}
        needed |= {(n.words.text, n.words.language, reader.language)
                   for n in self.notices for reader in n.readers if reader.needs_translation}
        return needed


Translations = dict[tuple[str, str, str], str | None]


async def relay(runtime: Runtime) -> int:
    """Run the job once; return how many messages and notices went out."""
    wait = timedelta(minutes=runtime.settings.ticket_language_wait_minutes)

    def read() -> Work:
        with runtime.db.session() as session, session.begin():
            return collect(session, runtime.library, runtime.dispatcher.clock(), wait)

    work = await runtime.db.run(read)
    if not (work.relays or work.notices or work.dropped or work.ratings_due):
        return 0
    translations: Translations = {}
    timeout = runtime.settings.translation_timeout_seconds
    for text, source, target in sorted(work.translations_needed()):
        try:
            translations[(text, source, target)] = await runtime.translator.translate_async(
                text, source, target, timeout=timeout)
        except Exception as exc:
            # A broken model must not hold the relay up: the original goes out with a
            # note. Only the error's type is logged (its message may quote the text).
            level = logging.INFO if isinstance(exc, TranslationError) else logging.WARNING
            log.log(level, "no machine translation %s → %s: %s", source, target,
                    type(exc).__name__)
            translations[(text, source, target)] = None

    def write() -> int:
        with runtime.db.session() as session, session.begin():
            return deliver(session, runtime.library, work, translations,
                           runtime.dispatcher.clock())

    sent = await runtime.db.run(write)
    if sent:
        log.info("relayed %d ticket messages and notices", sent)
    return sent


# -- step 1: what is due ---------------------------------------------------------------


def collect(session: Session, library: Library, now: datetime, wait: timedelta) -> Work:
    """Read the pending messages and the notices due; close tickets whose parent left."""
    close_orphans(session, library, now)
    work = Work()
    for pending, ticket in tickets.pending_relays(session):
        assert pending.id is not None
        if ticket.status == "withdrawn":
            work.dropped.append(pending.id)
            continue
        reader = _reader(session, pending, ticket)
        if reader is not None:
            work.relays.append(Relay(pending, ticket, reader))
    staff = volunteers.active_linked(session)
    for ticket in tickets.waiting(session):
        notice = _notice(session, ticket, staff, now, wait)
        if notice is not None:
            work.notices.append(notice)
    work.ratings_due = bool(tickets.ratings_due(session))
    return work


def close_orphans(session: Session, library: Library, now: datetime) -> None:
    """Tickets whose parent erased their data end; the volunteer holding one is told."""
    for ticket in tickets.orphaned(session):
        assert ticket.id is not None
        if tickets.withdraw(session, ticket.id, now):
            tickets.audit(session, "erased", now, ticket_id=ticket.id)
            tell_volunteer(session, library, ticket.claimed_by, "volunteers.withdrawn",
                           {"pseudonym": ticket.pseudonym}, now)


def _reader(session: Session, pending: TicketMessage, ticket: Ticket) -> Reader | None:
    if pending.direction == tickets.TO_PARENT:
        chat = session.get(Contact, pending.contact_id)
        if chat is None:
            return None
        language = parent_language(session, ticket)
        return Reader(chat, language, None, pending.language != language)
    if ticket.claimed_by is None:
        return None
    volunteer = session.get(Volunteer, ticket.claimed_by)
    chat = volunteers.chat_of(session, ticket.claimed_by)
    if volunteer is None or chat is None:
        return None
    return _volunteer_reader(volunteer, chat, pending.language)


def _volunteer_reader(volunteer: Volunteer, chat: Contact, source: str) -> Reader:
    if speaks(volunteer, source):
        return Reader(chat, source, volunteer.id, False)
    return Reader(chat, volunteer.interface_language, volunteer.id,
                  volunteer.interface_language != source)


def _notice(session: Session, ticket: Ticket, staff: list[tuple[Volunteer, Contact]],
            now: datetime, wait: timedelta) -> Notice | None:
    if ticket.widened_at is not None:
        return None
    if ticket.notified_at is not None and not ticket.priority and \
            now - ticket.notified_at < wait:
        return None  # volunteers of the parent's language still have time to claim it
    assert ticket.id is not None
    words = tickets.first_words(session, ticket.id)
    if words is None:
        return None  # the parent has not written the question yet
    serving = [(v, chat) for v, chat in staff if serves(v, ticket)]
    own = [(v, chat) for v, chat in serving if speaks(v, ticket.language)]
    others = [(v, chat) for v, chat in serving if not speaks(v, ticket.language)]
    if ticket.notified_at is None and own and not ticket.priority:
        chosen, widen = own, False
    elif ticket.notified_at is None:
        chosen, widen = own + others, True
    else:
        chosen, widen = others, True
    return Notice(ticket, words, [_volunteer_reader(v, chat, words.language)
                                  for v, chat in chosen], widen)


# -- step 3: write what goes out -------------------------------------------------------


def deliver(session: Session, library: Library, work: Work, translations: Translations,
            now: datetime) -> int:
    """Write the outbox rows for the relayed messages and the notices."""
    for message_id in work.dropped:
        tickets.mark_relayed(session, message_id, now, translation=None,
                             translation_language=None, status="dropped")
    sent = 0
    for item in work.relays:
        sent += _deliver_message(session, library, item, translations, now)
    for notice in work.notices:
        sent += _deliver_notice(session, library, notice, translations, now)
    return sent + ask_ratings(session, library, now)


def ask_ratings(session: Session, library: Library, now: datetime) -> int:
    """Ask the parents of closed tickets whether it helped (after the last answer)."""
    asked = 0
    for ticket in tickets.ratings_due(session):
        assert ticket.id is not None
        if tickets.mark_rating_asked(session, ticket.id, now):
            tell_parent(session, ticket, [parent_prompts.rating_prompt(
                library, parent_language(session, ticket), ticket.prompt_question or 0)], now)
            asked += 1
    return asked


def _deliver_message(session: Session, library: Library, item: Relay,
                     translations: Translations, now: datetime) -> int:
    pending, ticket, reader = item.message, item.ticket, item.reader
    assert pending.id is not None
    assert ticket.id is not None
    translation = _translated(library, reader, pending, translations)
    if reader.volunteer_id is not None:
        current = session.get(Ticket, ticket.id)
        if current is None or current.claimed_by != reader.volunteer_id:
            return 0  # released meanwhile: the next holder gets it
    if not tickets.mark_relayed(session, pending.id, now, translation=translation,
                                translation_language=reader.language if translation else None):
        return 0
    if reader.volunteer_id is None:
        key = "tickets.untranslated" if reader.needs_translation and translation is None \
            else "tickets.volunteer_says"
        to_chat(session, reader.chat, [message(library, reader.language, key,
                                               {"text": translation or pending.text})], now)
        if reader.needs_translation and translation is None:
            tell_volunteer(session, library, pending.volunteer_id, "volunteers.reply_untranslated",
                           {"pseudonym": ticket.pseudonym}, now)
        return 1
    words = _for_volunteer(library, reader, pending, translation)
    to_chat(session, reader.chat, [message(library, reader.language, "volunteers.parent_says",
                                           {"pseudonym": ticket.pseudonym, "text": words})], now)
    tickets.audit(session, "viewed", now, ticket_id=ticket.id, volunteer_id=reader.volunteer_id)
    return 1


def _deliver_notice(session: Session, library: Library, notice: Notice,
                    translations: Translations, now: datetime) -> int:
    ticket = notice.ticket
    assert ticket.id is not None
    if not tickets.mark_notified(session, ticket.id, now, widen=notice.widen):
        return 0
    key = "volunteers.new_ticket_urgent" if ticket.priority else "volunteers.new_ticket"
    for reader in notice.readers:
        words = _for_volunteer(library, reader, notice.words,
                               _translated(library, reader, notice.words, translations))
        to_chat(session, reader.chat, [message(library, reader.language, key, {
            "ticket": ticket_line(library, reader.language, ticket), "text": words,
            "pseudonym": ticket.pseudonym})], now)
        tickets.audit(session, "notified", now, ticket_id=ticket.id,
                      volunteer_id=reader.volunteer_id)
    return len(notice.readers)


def _translated(library: Library, reader: Reader, pending: TicketMessage,
                translations: Translations) -> str | None:
    """The reader's marked machine translation, if they need one and a model gave it."""
    if not reader.needs_translation:
        return None
    text = translations.get((pending.text, pending.language, reader.language))
    if text is None:
        return None
    return mark_machine_translated(text, library.text(reader.language, MACHINE_TRANSLATED_KEY,
                                                      {}))


def _for_volunteer(library: Library, reader: Reader, pending: TicketMessage,
                   translation: str | None) -> str:
    """The parent's words as a volunteer reads them: the original, and under it the
    marked translation or a note that none was available."""
    if not reader.needs_translation:
        return pending.text
    extra = translation or library.text(reader.language, "volunteers.no_translation",
                                        {"language": library.language(pending.language).name})
    return f"{pending.text}\n\n{extra}"
