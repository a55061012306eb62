"""WhatsApp through Twilio: sending within the 24-hour window, templates, Twilio's errors.

WhatsApp allows free-form messages only within 24 hours of the parent's last message.
Outside that window only an approved template may go; without one for the message's
type and language the row is recorded as not sent, never sent blindly.

Options are a numbered list (the parent answers with the number), or a quick-reply
template when one is configured for exactly those options (see `templates.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from bot.channels.base import SendError
from bot.channels.limits import RateLimiter
from bot.channels.split import split_text
from bot.channels.templates import ContentTemplates
from bot.channels.twilio_http import TwilioHttpClient
from bot.messages import OutboundMessage

CHANNEL = "whatsapp"
BODY_LIMIT = 1600  # characters per message (Twilio)
TEMPLATE_LIMIT = 1024  # a filled-in template may not be longer (error 63021)
WINDOW = timedelta(hours=24)
NOT_SENT_OUTSIDE_WINDOW = "not sent: outside the 24-hour window and no template"
OPTED_OUT = 21610  # the recipient unsubscribed
OUTSIDE_WINDOW = 63016  # free-form message outside the 24-hour window
TOO_MANY_REQUESTS = 20429
RATE_LIMIT_PAUSE_SECONDS = 1.0  # Twilio's 429 says no "retry after": back off a little


@dataclass(frozen=True)
class Template:
    """A Content API template to send instead of free text."""

    content_sid: str
    variables: dict[str, str]


class WhatsAppChannel:
    """Sends outbox messages to WhatsApp numbers through Twilio's Messages API."""

    name = CHANNEL

    def __init__(self, account_sid: str, auth_token: str, sender: str, *,
                 api_base_url: str | None = None, status_callback_url: str | None = None,
                 templates: ContentTemplates | None = None, rate_per_second: float = 10.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.sender = sender
        self.api_base_url = api_base_url
        self.status_callback_url = status_callback_url
        self.templates = templates or ContentTemplates()
        self.limiter = RateLimiter(rate_per_second)
        self._clock = clock
        self._http: TwilioHttpClient | None = None
        self._client: Any = None

    async def start(self) -> None:
        """Open the HTTP client (its aiohttp session needs the running loop)."""
        self._http = TwilioHttpClient(self.api_base_url)
        self._client = Client(self.account_sid, self._auth_token, http_client=self._http)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.close()
            self._http, self._client = None, None

    async def send(self, message: OutboundMessage, address: str, *, kind: str,
                   last_inbound_at: datetime | None) -> str:
        """Send one message: a template where one applies, else free text split at 1600."""
        window_open = last_inbound_at is not None and \
            self._clock() - last_inbound_at < WINDOW
        template = self.template_for(message, kind, window_open=window_open)
        if template is not None:
            return await self._create(address, content_sid=template.content_sid,
                                      content_variables=json.dumps(template.variables))
        if not window_open:
            raise SendError(NOT_SENT_OUTSIDE_WINDOW, attempted=False)
        sid = ""
        for part in split_text(message.numbered_text(), BODY_LIMIT):
            sid = await self._create(address, body=part)
        return sid

    def template_for(self, message: OutboundMessage, kind: str, *,
                     window_open: bool) -> Template | None:
        """The template to use: a quick-reply one for these exact options (always), or
        one for the message type (outside the window only: inside it, free text says
        the same without a template's limits)."""
        if message.choices:
            options = "choices:" + ",".join(choice.id for choice in message.choices)
            sid = self.templates.find(options, message.language)
            if sid is not None and len(message.text) <= TEMPLATE_LIMIT:
                return Template(sid, {"1": message.text})
        if not window_open:
            sid = self.templates.find(kind, message.language)
            text = message.numbered_text()
            if sid is not None and len(text) <= TEMPLATE_LIMIT:
                return Template(sid, {"1": text})
        return None

    async def _create(self, address: str, **fields: str) -> str:
        if self._client is None:
            raise SendError("twilio: channel not started", retryable=True, attempted=False)
        if self.status_callback_url:
            fields["status_callback"] = self.status_callback_url
        try:
            created = await self._client.messages.create_async(to=address, from_=self.sender,
                                                               **fields)
        except TwilioRestException as exc:
            raise send_error(exc) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            # The message may have gone out; sending again risks a repeat, not a loss.
            raise SendError(f"twilio: network error ({type(exc).__name__})",
                            retryable=True) from None
        return str(created.sid)


def send_error(exc: TwilioRestException) -> SendError:
    """What a Twilio API error means for the outbox row. Twilio's messages can contain
    the phone number, so only the code and HTTP status are kept."""
    code, status = exc.code, int(exc.status)
    if code == OPTED_OUT:
        return SendError(f"twilio {code}: the recipient unsubscribed", opted_out=True)
    if code == OUTSIDE_WINDOW:
        return SendError(f"twilio {code}: outside the 24-hour window")
    if status == 429 or code == TOO_MANY_REQUESTS:
        return SendError(f"twilio {code}: too many requests",
                         retry_after=RATE_LIMIT_PAUSE_SECONDS)
    if status >= 500:
        return SendError(f"twilio {code}: server error (HTTP {status})", retryable=True)
    return SendError(f"twilio {code}: refused (HTTP {status})")
