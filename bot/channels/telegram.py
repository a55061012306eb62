"""Telegram through python-telegram-bot: sending, buttons, commands and webhook set-up.

TELEGRAM_API_BASE_URL points the client at another Bot API server (a self-hosted one,
or a test fake): requests go to `{base}/bot<token>/<method>`.

Errors are reported by class name and Telegram's description only: some of the
library's messages contain the token.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.channels.base import CannotTell, SendError
from bot.channels.limits import RateLimiter
from bot.channels.split import split_text
from bot.channels.telegram_updates import CHANNEL, Press, callback_data
from bot.engine import Library
from bot.messages import OutboundMessage

# python-telegram-bot 22 warns (PTBDeprecationWarning) whenever RetryAfter is built,
# unless durations are opted into as timedelta, which is what its next major version
# does anyway. Set before the first request so a 429 raises RetryAfter, not a warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
OVERALL_PER_SECOND = 30.0  # Bot API FAQ: about 30 messages a second in all
PER_CHAT_SECONDS = 1.0  # and one a second in one chat
ALLOWED_UPDATES = ("message", "callback_query")
# The slash commands shown in Telegram's menu; the engine understands them all.
COMMANDS = ("start", "menu", "back", "language", "help", "stop", "delete")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")  # what setMyCommands accepts
CANNOT_TELL = "the send was interrupted; Telegram cannot tell whether it arrived"


class TelegramStartError(Exception):
    """Telegram refused the configuration at start-up (e.g. the token)."""


class TelegramChannel:
    """Sends outbox messages to Telegram chats, within Telegram's limits."""

    name = CHANNEL

    def __init__(self, token: str, api_base_url: str = "https://api.telegram.org") -> None:
        base = api_base_url.rstrip("/")
        self.bot = Bot(token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
                       request=HTTPXRequest(connection_pool_size=64),
                       get_updates_request=HTTPXRequest(connection_pool_size=2))
        self.limiter = RateLimiter(OVERALL_PER_SECOND, PER_CHAT_SECONDS)
        # Message ids are unique only within a chat; a keyed digest of the chat makes the
        # stored provider id unique without storing the chat id in it.
        self._chat_key = hashlib.sha256(token.encode()).digest()

    async def start(self) -> None:
        """Open the HTTP client and check the token (getMe).

        A rejected token stops start-up; Telegram being unreachable does not (sending
        retries until it is back).
        """
        try:
            await self.bot.initialize()
        except InvalidToken:
            raise TelegramStartError("Telegram rejected TELEGRAM_BOT_TOKEN") from None
        except TelegramError as exc:
            log.warning("telegram: getMe failed at start-up (%s)", type(exc).__name__)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.bot.shutdown()

    # -- sending ---------------------------------------------------------------------

    async def send(self, message: OutboundMessage, address: str, *, kind: str,
                   last_inbound_at: datetime | None) -> str:
        """Send one message: options as an inline keyboard, text split at 4096."""
        keyboard = keyboard_for(message)
        text = message.text if keyboard is not None else message.numbered_text()
        parts = split_text(text, TEXT_LIMIT) or [" "]
        sent: Message | None = None
        chat_id = int(address)
        for number, part in enumerate(parts, start=1):
            markup = keyboard if number == len(parts) else None
            try:
                sent = await self.bot.send_message(chat_id, part, reply_markup=markup)
            except TelegramError as exc:
                raise send_error(exc) from None
        assert sent is not None
        return self.provider_id(chat_id, sent.message_id)

    async def find_sent(self, message: OutboundMessage, address: str, *,
                        since: datetime) -> str | None:
        """Telegram cannot say: the Bot API has no way to look up sent messages."""
        raise CannotTell(CANNOT_TELL)

    def provider_id(self, chat_id: int, message_id: int) -> str:
        """A message id unique across chats, without the chat id in it."""
        digest = hashlib.blake2b(str(chat_id).encode(), key=self._chat_key, digest_size=8)
        return f"{message_id}@{digest.hexdigest()}"

    # -- presses, commands, webhook ------------------------------------------------------

    async def acknowledge(self, press: Press) -> None:
        """Answer a button press (so the button stops spinning) and take the keyboard off
        the pressed message. Best effort: a late or repeated press may be refused."""
        try:
            await self.bot.answer_callback_query(press.query_id)
        except TelegramError as exc:
            log.info("telegram: could not answer a button press (%s)", type(exc).__name__)
        if press.message_id is None:
            return
        try:
            await self.bot.edit_message_reply_markup(chat_id=press.chat_id,
                                                     message_id=press.message_id,
                                                     reply_markup=None)
        except TelegramError as exc:
            log.info("telegram: could not remove a keyboard (%s)", type(exc).__name__)

    async def register_commands(self, library: Library) -> None:
        """Set the command menu in every shipped language (English as the default).

        A language without its own descriptions gets the default menu from Telegram."""
        for code in ["", *library.languages]:
            language = code or "en"
            if code and (not _LANGUAGE_CODE.match(code) or
                         "telegram.command_menu" not in library.texts.get(code, {})):
                continue
            commands = [BotCommand(name, library.raw_text(language, f"telegram.command_{name}"))
                        for name in COMMANDS]
            await self.bot.set_my_commands(commands, language_code=code or None)

    async def use_webhook(self, url: str, secret: str) -> None:
        """Have Telegram post updates to our webhook, with the secret header."""
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES,
                                   max_connections=40)

    async def use_polling(self) -> None:
        """Remove any webhook so getUpdates works (pending updates stay queued)."""
        await self.bot.delete_webhook(drop_pending_updates=False)


def keyboard_for(message: OutboundMessage) -> InlineKeyboardMarkup | None:
    """One button per option, or None if there are none or one would not fit."""
    if not message.choices or message.question is None:
        return None
    rows: list[Sequence[InlineKeyboardButton]] = []
    for choice in message.choices:
        data = callback_data(message.question, choice.id)
        if data is None:
            return None  # the numbered list still works
        rows.append([InlineKeyboardButton(choice.label, callback_data=data)])
    return InlineKeyboardMarkup(rows)


def send_error(exc: TelegramError) -> SendError:
    """What a Telegram error means for the outbox row."""
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return SendError(f"telegram: rate limited for {seconds:g} s", retry_after=seconds)
    if isinstance(exc, Forbidden):
        # "bot was blocked by the user", "user is deactivated", ...
        return SendError(f"telegram: {_description(exc)}", opted_out=True)
    if isinstance(exc, BadRequest):  # the library strips "Bad Request:" off the description
        return SendError(f"telegram: bad request: {_description(exc)}")
    if isinstance(exc, TimedOut):
        # The message may have gone out; sending again risks a repeat, not a loss.
        return SendError("telegram: timed out", retryable=True)
    if isinstance(exc, NetworkError):
        return SendError(f"telegram: network error ({type(exc).__name__})", retryable=True)
    return SendError(f"telegram: {type(exc).__name__}", retryable=True)


def _description(exc: TelegramError) -> str:
    # Telegram's own descriptions ("Forbidden: bot was blocked by the user") name no one.
    return exc.message[:200]
