"""WhatsApp through Twilio: sending within the 24-hour window, templates, Twilio's errors.

WhatsApp allows free-form messages only within 24 hours of the parent's last message.
Outside that window only an approved template may go; without one for the message's
type and language the row is recorded as not sent, never sent blindly.

Options are a numbered list (the parent answers with the number), or a quick-reply
template when one is configured for exactly those options (see `templates.py`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from twilio.base.exceptions import (  # type: ignore[import-untyped]
    TwilioException,
    TwilioRestException,
)
from twilio.rest import Client  # type: ignore[import-untyped]

from bot.channels.base import CannotTell, SendError
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
# Looking for a message whose send was interrupted: our latest messages to the parent
# (a chat's messages go one at a time, so it is among the newest), created since the
# send began, give or take the difference between our clock and Twilio's.
LOOKUP_LIMIT = 20
CLOCK_MARGIN = timedelta(seconds=5)
PARTLY_SENT = "the send was interrupted; only some parts of the long message reached Twilio"


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
        window_open = window_is_open(last_inbound_at, self._clock())
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
        """The template to use for this message (see `choose_template`)."""
        return choose_template(self.templates, message, kind, window_open=window_open)

    async def find_sent(self, message: OutboundMessage, address: str, *,
                        since: datetime) -> str | None:
        """Look for the message among Twilio's latest messages from our sender to this
        address (the Messages list, newest first) created since `since`: the id of its
        last part if every part is there, None if none is; CannotTell if only some are.

        Not filtered by DateSent: a message still in Twilio's queue has none yet.
        """
        listed = await _answer(self._api().messages.list_async(
            to=address, from_=self.sender, limit=LOOKUP_LIMIT, page_size=LOOKUP_LIMIT))
        recent = [sent for sent in listed if sent.date_created is not None
                  and sent.date_created >= since - CLOCK_MARGIN]
        parts = split_text(message.numbered_text(), BODY_LIMIT)
        if len(parts) == 1:  # it may have gone as a template: a body holding the text
            found = next((sent for sent in recent if message.text in (sent.body or "")), None)
            return None if found is None else str(found.sid)
        bodies = {sent.body: str(sent.sid) for sent in reversed(recent)}  # newest wins
        if all(part in bodies for part in parts):
            return bodies[parts[-1]]
        if any(part in bodies for part in parts):
            raise CannotTell(PARTLY_SENT)
        return None

    def _api(self) -> Any:
        if self._client is None:
            raise SendError("twilio: channel not started", retryable=True, attempted=False)
        return self._client

    async def _create(self, address: str, **fields: str) -> str:
        if self.status_callback_url:
            fields["status_callback"] = self.status_callback_url
        created = await _answer(self._api().messages.create_async(
            to=address, from_=self.sender, **fields))
        return str(created.sid)


async def _answer(request: Awaitable[Any]) -> Any:
    """Twilio's answer to an API request; its errors as SendError."""
    try:
        return await request
    except TwilioRestException as exc:
        raise send_error(exc) from None
    except TwilioException as exc:
        # A list page Twilio refused: the library keeps only the HTTP response.
        status = int(getattr(exc.args[-1], "status_code", 0))
        raise SendError(f"twilio: listing messages failed (HTTP {status})",
                        retryable=status >= 500 or status == 429) from None
    except (TimeoutError, aiohttp.ClientError) as exc:
        # A message may have gone out; sending again risks a repeat, not a loss.
        raise SendError(f"twilio: network error ({type(exc).__name__})",
                        retryable=True) from None


def window_is_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether free-form messages may go: the parent wrote within the last 24 hours."""
    return last_inbound_at is not None and now - last_inbound_at < WINDOW


def choose_template(templates: ContentTemplates, message: OutboundMessage, kind: str, *,
                    window_open: bool) -> Template | None:
    """The template to use: a quick-reply one for these exact options (always), or one
    for the message type (outside the window only: inside it, free text says the same
    without a template's limits). Also used to tell, before enqueueing, whether a
    message can go out at all (the reminders do)."""
    if message.choices:
        options = "choices:" + ",".join(choice.id for choice in message.choices)
        sid = templates.find(options, message.language)
        if sid is not None and len(message.text) <= TEMPLATE_LIMIT:
            return Template(sid, {"1": message.text})
    if not window_open:
        sid = templates.find(kind, message.language)
        text = message.numbered_text()
        if sid is not None and len(text) <= TEMPLATE_LIMIT:
            return Template(sid, {"1": text})
    return None


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
