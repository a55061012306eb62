"""Turning due reminder rows into outbox messages: the scheduler's `claim_due_reminders`.

For each batch: read the next due rows (no lock), machine-translate the schools' notes
they need (outside any transaction: the translator uses its own connection, which would
deadlock SQLite's single writer), then in ONE transaction claim the rows (PostgreSQL:
`FOR UPDATE SKIP LOCKED`, so several workers never take the same row; SQLite: `BEGIN
IMMEDIATE` serialises), decide on each, write the outbox rows and record every outcome.
A crash before the commit leaves the rows pending; after it, the outbox holds the
messages: nothing is lost and nothing is enqueued twice.

The rules, for a claimed row at time `now`:
- the parent opted out, the meeting was cancelled or changed since, or (a follow-up)
  the parent said they could not come: cancelled;
- the parent's meeting time has started (a follow-up: more than FOLLOWUP_USEFUL after it
  was due): missed, with the reason;
- a later reminder of the same invitation is due too or already went (after downtime):
  missed, "superseded", so the parent gets one message, the latest;
- `now` is in the school's quiet hours (the row is late, or a notice was written in the
  evening): moved to the end of quiet hours if that is still MIN_LEAD before the start,
  otherwise it goes now;
- its channel is not configured here, or WhatsApp's 24-hour window is closed and no
  template fits: unsendable, with the reason. There is no fallback channel: contacts are
  per channel, and nothing tells that a Telegram chat and a WhatsApp number are the same
  parent (if both are invited, both get the reminder anyway);
- otherwise: sent (handed to the outbox, kind "reminder"); late if it was due earlier.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.channels.base import LOCAL_CHANNELS
from bot.channels.templates import ContentTemplates
from bot.channels.whatsapp import CHANNEL as WHATSAPP
from bot.channels.whatsapp import choose_template, window_is_open
from bot.engine import Library
from bot.reminders.planning import FOLLOWUP_USEFUL
from bot.reminders.render import SchoolText, calendar_url, render
from bot.reminders.schedule import QuietHours
from bot.storage import reminders as storage
from bot.storage.database import Database
from bot.storage.reminders import OUTBOX_KIND, DueReminder, Outcome

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 200
MIN_LEAD = timedelta(hours=1)  # a deferred reminder must still come this long before
LATE_AFTER = timedelta(minutes=2)  # later than this counts as "sent late"
TranslationKey = tuple[str, str, str]  # text, from, to


@dataclass(frozen=True)
class Delivery:
    """What decides how reminders go out here: the texts, the channels that can deliver,
    WhatsApp's templates, and the public address for calendar links."""

    library: Library
    channels: frozenset[str]
    templates: ContentTemplates
    base_url: str

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Delivery:
        """From the settings: providers that are configured, plus the local channels."""
        settings = runtime.settings
        channels = set(LOCAL_CHANNELS)
        if settings.telegram_enabled:
            channels.add("telegram")
        if settings.whatsapp_enabled:
            channels.add(WHATSAPP)
        return cls(runtime.library, frozenset(channels),
                   ContentTemplates.parse(settings.twilio_content_templates),
                   public_base_url(settings.public_base_url, settings.port))


def public_base_url(configured: str | None, port: int) -> str:
    """PUBLIC_BASE_URL, or this machine's web app for a local installation."""
    return configured or f"http://localhost:{port}"


async def claim_due_reminders(runtime: Runtime) -> Counter[str]:
    """Handle every due reminder row, batch by batch; return the outcomes counted."""
    delivery = Delivery.from_runtime(runtime)
    totals: Counter[str] = Counter()
    for _batch in range(MAX_BATCHES_PER_RUN):
        now = runtime.dispatcher.clock()
        due = await runtime.db.run(_preview, runtime.db, now)
        if not due:
            break
        translations = await _translate(runtime, delivery.library, due)
        outcomes = await runtime.db.run(_claim_batch, runtime.db, delivery,
                                        [item.id for item in due], translations, now)
        totals.update(outcomes)
        if not outcomes or len(due) < BATCH_SIZE:
            break  # the rest is another worker's, or there is no more
    if totals:
        log.info("reminders: %s", " ".join(f"{k}={v}" for k, v in sorted(totals.items())))
    return totals


def decide(delivery: Delivery, item: DueReminder, now: datetime, *, superseded: bool,
           school_text: SchoolText | None, earlier_note: str | None) -> Outcome:
    """What to do with one claimed row (see the module's rules)."""
    if item.opted_out_at is not None:
        return Outcome(item.id, "cancelled", "the parent opted out")
    if item.kind != "cancelled" and item.meeting_status == "cancelled":
        return Outcome(item.id, "cancelled", "the meeting was cancelled")
    if item.kind != "cancelled" and item.meeting_version != item.current_version:
        return Outcome(item.id, "cancelled",
                       f"the meeting changed (now version {item.current_version})")
    if item.kind == "followup":
        if not item.followup_wanted:
            return Outcome(item.id, "cancelled", "the school turned the follow-up off")
        if item.rsvp == "not_coming":
            return Outcome(item.id, "cancelled", "the parent said they could not come")
        if now > item.due_at + FOLLOWUP_USEFUL:
            return Outcome(item.id, "missed", f"too late for a follow-up (due {_at(item.due_at)})")
    elif now >= item.start:
        return Outcome(item.id, "missed", f"the meeting started at {_at(item.start)} before "
                                          f"this could go out (due {_at(item.due_at)})")
    if superseded:
        return Outcome(item.id, "missed", "superseded: a later reminder for this meeting "
                                          "is due too")
    quiet = QuietHours.parse(item.quiet_start, item.quiet_end, item.timezone)
    if quiet.contains(now):
        later = quiet.move_later(now)
        if item.kind == "followup" or later + MIN_LEAD <= item.start:
            return Outcome(item.id, "pending", "moved out of quiet hours", due_at=later)
    if item.channel not in delivery.channels:
        return Outcome(item.id, "unsendable", f"the {item.channel} channel is not configured")
    message = render(delivery.library, item, school_text=school_text, earlier_note=earlier_note,
                     calendar_link=calendar_url(delivery.base_url, item.calendar_token))
    if item.channel == WHATSAPP and not window_is_open(item.last_inbound_at, now) and \
            choose_template(delivery.templates, message, OUTBOX_KIND, window_open=False) is None:
        return Outcome(item.id, "unsendable", (
            f"WhatsApp: outside the 24-hour window and no '{OUTBOX_KIND}' template for "
            f"'{message.language}'; no other channel is known for this parent"))
    late = f"sent late (due {_at(item.due_at)})" if now - item.due_at > LATE_AFTER else None
    return Outcome(item.id, "sent", late, message=message.to_json())


def translation_key(library: Library, item: DueReminder) -> TranslationKey | None:
    """The translation a row needs (its school text into the parent's language), if any."""
    text = item.school_text
    target = library.language(item.language).code
    if text is None or item.kind == "followup" or target == item.school_language:
        return None
    return text, item.school_language, target


# -- steps ------------------------------------------------------------------------------------

def _preview(db: Database, now: datetime) -> list[DueReminder]:
    with db.session() as session:
        return storage.preview_due(session, now, BATCH_SIZE)


async def _translate(runtime: Runtime, library: Library,
                     due: list[DueReminder]) -> dict[TranslationKey, str | None]:
    """Translate each school text the batch needs once. A missing model, a timeout or a
    failure gives None: the note then goes in the school's language, with a line saying
    so. A reminder never fails because of its note."""
    wanted = {key for item in due if (key := translation_key(library, item)) is not None}
    results: dict[TranslationKey, str | None] = {}
    for key in sorted(wanted):
        text, source, target = key
        try:
            results[key] = await runtime.translator.translate_async(text, source, target)
        except Exception as exc:  # whatever went wrong: send the original instead
            log.info("reminders: note not translated %s → %s (%s)", source, target,
                     type(exc).__name__)
            results[key] = None
    return results


def _claim_batch(db: Database, delivery: Delivery, ids: list[int],
                 translations: dict[TranslationKey, str | None], now: datetime
                 ) -> Counter[str]:
    token = uuid.uuid4().hex
    with db.session() as session, session.begin():
        claimed = storage.claim_due(session, ids, now)
        # A note changed since the preview: leave that row for the next batch.
        ready = [item for item in claimed
                 if (key := translation_key(delivery.library, item)) is None
                 or key in translations]
        gone = storage.superseded(session, [item.id for item in ready], now)
        notes = storage.saved_notes(session, [item.contact_id for item in ready
                                              if item.kind == "reminder"])
        outcomes = [decide(delivery, item, now, superseded=item.id in gone,
                           school_text=_school_text(delivery.library, item, translations),
                           earlier_note=notes.get(item.contact_id))
                    for item in ready]
        storage.record_outcomes(session, ready, outcomes, now, token)
    return Counter(outcome.status for outcome in outcomes)


def _school_text(library: Library, item: DueReminder,
                 translations: dict[TranslationKey, str | None]) -> SchoolText | None:
    text = item.school_text
    if text is None:
        return None
    key = translation_key(library, item)
    return SchoolText(text, translations.get(key) if key is not None else None)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
