"""Which channels are on, and running them: start-up, the sender and Telegram polling.

A channel whose settings are absent is off. `wegwijs serve` runs the web side
(webhooks; Telegram's command menu and webhook or polling) and, by default, the sender;
`wegwijs worker` runs the sender only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram.error import TelegramError

from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_inbound import TelegramInbox
from bot.channels.telegram_polling import TelegramPoller
from bot.channels.templates import ContentTemplates
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Settings
from bot.runtime import Runtime
from bot.services.sender import Sender

log = logging.getLogger(__name__)

# Where providers post to (the web app's routes, under PUBLIC_BASE_URL).
TELEGRAM_WEBHOOK_PATH = "/webhooks/telegram"
TWILIO_WEBHOOK_PATH = "/webhooks/twilio"
TWILIO_STATUS_PATH = "/webhooks/twilio/status"


class ChannelSet:
    """The provider channels that are on, and the sender once one runs."""

    def __init__(self, telegram: TelegramChannel | None = None,
                 whatsapp: WhatsAppChannel | None = None) -> None:
        self.telegram = telegram
        self.whatsapp = whatsapp
        self.sender: Sender | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ChannelSet:
        """Build (not start) the configured channels."""
        telegram = whatsapp = None
        if settings.telegram_bot_token is not None:
            telegram = TelegramChannel(settings.telegram_bot_token.get_secret_value(),
                                       settings.telegram_api_base_url)
        if settings.twilio_account_sid and settings.twilio_auth_token and \
                settings.twilio_whatsapp_from:
            status_url = f"{settings.public_base_url}{TWILIO_STATUS_PATH}" \
                if settings.public_base_url else None
            whatsapp = WhatsAppChannel(
                settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                settings.twilio_whatsapp_from, api_base_url=settings.twilio_api_base_url,
                status_callback_url=status_url,
                templates=ContentTemplates.parse(settings.twilio_content_templates),
                rate_per_second=settings.twilio_rate_per_second)
        return cls(telegram, whatsapp)

    def senders(self) -> dict[str, Channel]:
        """The channels by name, for the sender."""
        found: dict[str, Channel] = {}
        if self.telegram is not None:
            found[self.telegram.name] = self.telegram
        if self.whatsapp is not None:
            found[self.whatsapp.name] = self.whatsapp
        return found

    def notify(self) -> None:
        """New outbox rows were written: wake the sender of this process, if any."""
        if self.sender is not None:
            self.sender.wake()

    async def start(self) -> None:
        """Open the channels' HTTP clients (and check the Telegram token)."""
        if self.telegram is not None:
            await self.telegram.start()
        if self.whatsapp is not None:
            await self.whatsapp.start()

    async def close(self) -> None:
        """Close the channels' HTTP clients."""
        if self.telegram is not None:
            await self.telegram.close()
        if self.whatsapp is not None:
            await self.whatsapp.close()


def describe(settings: Settings) -> str:
    """One line for `wegwijs serve`: which channels are on, and how."""
    public = settings.public_base_url
    if settings.telegram_enabled:
        telegram = f"on (webhook {public}{TELEGRAM_WEBHOOK_PATH})" if public else "on (polling)"
    else:
        telegram = "off (set TELEGRAM_BOT_TOKEN)"
    if settings.whatsapp_enabled:
        whatsapp = f"on (webhook {public}{TWILIO_WEBHOOK_PATH})"
    else:
        whatsapp = "off (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_FROM " \
                   "and PUBLIC_BASE_URL)"
    return f"Channels: web simulator on. Telegram {telegram}. WhatsApp {whatsapp}."


@asynccontextmanager
async def running(runtime: Runtime, channels: ChannelSet, *, web: bool,
                  background: bool) -> AsyncIterator[None]:
    """Run the channels for the life of the block.

    `web`: the process that receives webhooks sets up Telegram (command menu, and the
    webhook with a public URL, polling without). `background`: run the sender, and
    Telegram polling in the web process when there is no public URL.
    """
    settings = runtime.settings
    tasks: list[asyncio.Task[None]] = []
    try:
        await channels.start()
        if web and channels.telegram is not None:
            await _configure_telegram(runtime, channels.telegram)
        if background:
            channels.sender = Sender(runtime.db, channels.senders(),
                                     clock=runtime.dispatcher.clock,
                                     lease=timedelta(seconds=settings.send_lease_seconds))
            tasks.append(asyncio.create_task(channels.sender.run(), name="sender"))
            if web and channels.telegram is not None and not settings.webhook_mode:
                inbox = TelegramInbox(channels.telegram, runtime.dispatcher, channels.notify)
                tasks.append(asyncio.create_task(TelegramPoller(inbox).run(),
                                                 name="telegram-polling"))
        yield
    finally:
        for task in reversed(tasks):  # stop polling first, then let the sender finish
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        channels.sender = None
        await channels.close()


async def _configure_telegram(runtime: Runtime, telegram: TelegramChannel) -> None:
    settings = runtime.settings
    try:
        await telegram.register_commands(runtime.library)
        if settings.webhook_mode and settings.telegram_webhook_secret is not None:
            await telegram.use_webhook(f"{settings.public_base_url}{TELEGRAM_WEBHOOK_PATH}",
                                       settings.telegram_webhook_secret.get_secret_value())
        else:
            await telegram.use_polling()
    except TelegramError as exc:
        # Not fatal: sending retries, and the next start sets this up again.
        log.warning("telegram: setting up commands and updates failed (%s)",
                    type(exc).__name__)
