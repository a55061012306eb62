"""The clock: APScheduler finds work whose time has come. The work itself lives in
database rows, so nothing is lost when a process stops."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.reminders.claiming import claim_due_reminders
from bot.runtime import Runtime
from bot.storage import retention
from bot.tickets.escalation import escalate_tickets
from bot.tickets.relay import relay

log = logging.getLogger(__name__)

RECOVER_EVERY_SECONDS = 30
RETENTION_EVERY_SECONDS = 3600
REMINDERS_EVERY_SECONDS = 15
TICKET_RELAY_EVERY_SECONDS = 3
TICKET_ESCALATION_EVERY_SECONDS = 60


async def recover_inbox(runtime: Runtime) -> None:
    """Handle stored messages that were never handled (a crash, a restart)."""
    handled = await runtime.db.run(runtime.dispatcher.recover)
    if handled:
        log.info("recovered %d stored messages", handled)


async def forget_old_text(runtime: Runtime) -> None:
    """Erase message text older than the retention period."""
    def work() -> int:
        with runtime.db.session() as session, session.begin():
            return retention.forget_old_text(session, runtime.dispatcher.clock(),
                                             runtime.settings.message_retention_days)
    erased = await runtime.db.run(work)
    if erased:
        log.info("erased the text of %d old messages", erased)


def build_scheduler(runtime: Runtime) -> AsyncIOScheduler:
    """A scheduler with the periodic jobs; the caller starts and stops it."""
    scheduler = AsyncIOScheduler(job_defaults={
        # Defaults drop a job whose time passed while busy: run it late, once, instead.
        "misfire_grace_time": None, "coalesce": True, "max_instances": 1,
    })
    scheduler.add_job(recover_inbox, "interval", seconds=RECOVER_EVERY_SECONDS,
                      args=[runtime], id="recover_inbox")
    scheduler.add_job(forget_old_text, "interval", seconds=RETENTION_EVERY_SECONDS,
                      args=[runtime], id="forget_old_text")
    # Due reminder rows become outbox messages; the first run is at start-up, so a
    # reminder that fell due while no worker ran goes out (or is marked missed) at once.
    scheduler.add_job(claim_due_reminders, "interval", seconds=REMINDERS_EVERY_SECONDS,
                      args=[runtime], id="claim_due_reminders",
                      next_run_time=datetime.now(UTC))
    # Ticket messages between parents and volunteers (translated outside the turns), and
    # reminders and escalations of unclaimed tickets (bot/tickets).
    scheduler.add_job(relay, "interval", seconds=TICKET_RELAY_EVERY_SECONDS,
                      args=[runtime], id="relay_tickets")
    scheduler.add_job(escalate_tickets, "interval", seconds=TICKET_ESCALATION_EVERY_SECONDS,
                      args=[runtime], id="escalate_tickets")
    return scheduler
