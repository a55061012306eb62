"""Provider webhooks: Telegram updates, Twilio WhatsApp messages and status callbacks.

Each request is checked first (Telegram's secret header, Twilio's signature over the
public URL): 403 otherwise, and nothing is stored. A message is then stored under its
provider id before the answer goes back; the dispatcher runs after the answer (a
background task), and if the process dies first, the recover job handles what was
stored. Logs name what happened, never who wrote or what.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from telegram import Update
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from bot.channels.setup import (
    TELEGRAM_WEBHOOK_PATH,
    TWILIO_STATUS_PATH,
    TWILIO_WEBHOOK_PATH,
    ChannelSet,
)
from bot.channels.telegram_inbound import TelegramInbox
from bot.channels.whatsapp import CHANNEL as WHATSAPP
from bot.channels.whatsapp import OPTED_OUT
from bot.channels.whatsapp_inbound import from_form, status_from_form
from bot.runtime import Runtime
from bot.storage import contacts, outbox

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _channels(request: Request) -> ChannelSet:
    channels: ChannelSet = request.app.state.channels
    return channels


async def _after_answer(what: str, work: Callable[..., Awaitable[object]], *args: Any) -> None:
    """Run work after the answer went back. A failure is logged by type only (database
    errors can quote message text); the recover job retries what was stored."""
    try:
        await work(*args)
    except Exception as exc:
        log.error("%s failed after the webhook answered (%s)", what, type(exc).__name__)


def _not_stored(what: str, exc: Exception) -> Response:
    """Storing failed (e.g. the database is down): the provider will deliver it again.
    Logged by type only: a database error can quote the message."""
    log.error("%s could not be stored (%s); the provider will retry", what,
              type(exc).__name__)
    return Response(status_code=503)


# -- Telegram ----------------------------------------------------------------------------

@router.post(TELEGRAM_WEBHOOK_PATH)
async def telegram_update(request: Request, background: BackgroundTasks) -> Response:
    """One Telegram update: check the secret, store, answer 200, then handle it."""
    runtime, channels = _runtime(request), _channels(request)
    secret = runtime.settings.telegram_webhook_secret
    if channels.telegram is None:
        return Response(status_code=404)
    given = request.headers.get(TELEGRAM_SECRET_HEADER, "").encode()
    if secret is None or not hmac.compare_digest(given, secret.get_secret_value().encode()):
        log.warning("telegram webhook refused: wrong or missing secret")
        return Response(status_code=403)
    try:
        data = json.loads(await request.body())
        update = Update.de_json(data, channels.telegram.bot) if isinstance(data, dict) else None
    except (ValueError, TypeError, KeyError):
        update = None
    if update is None:
        log.warning("telegram webhook: an update that could not be read")
        return Response(status_code=400)
    inbox = TelegramInbox(channels.telegram, runtime.dispatcher, channels.notify)
    try:
        stored = await inbox.store(update)
    except Exception as exc:
        return _not_stored("telegram update", exc)
    if stored is not None:
        background.add_task(_after_answer, "telegram update", inbox.finish, stored)
    return Response(status_code=200)


# -- Twilio (WhatsApp) ---------------------------------------------------------------------

async def _signed_form(request: Request, path: str) -> dict[str, str] | None:
    """The form, if its X-Twilio-Signature matches our auth token and public URL.

    Twilio signs the URL it called, so it is rebuilt from PUBLIC_BASE_URL (behind a
    proxy, request.url is not what Twilio saw)."""
    settings = _runtime(request).settings
    token = settings.twilio_auth_token
    if token is None or settings.public_base_url is None:
        return None
    form = await request.form()
    params = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    query = request.url.query
    url = f"{settings.public_base_url}{path}" + (f"?{query}" if query else "")
    signature = request.headers.get(TWILIO_SIGNATURE_HEADER, "")
    if not signature or not RequestValidator(token.get_secret_value()).validate(
            url, params, signature):
        return None
    return params


@router.post(TWILIO_WEBHOOK_PATH)
async def twilio_message(request: Request, background: BackgroundTasks) -> Response:
    """One WhatsApp message: check the signature, store, answer, then handle it."""
    runtime, channels = _runtime(request), _channels(request)
    if channels.whatsapp is None:
        return Response(status_code=404)
    form = await _signed_form(request, TWILIO_WEBHOOK_PATH)
    if form is None:
        log.warning("twilio webhook refused: wrong or missing signature")
        return Response(status_code=403)
    message = from_form(form, runtime.dispatcher.clock())
    if message is not None:
        try:
            handled = await runtime.db.run(runtime.dispatcher.store, message, urgent=True)
        except Exception as exc:
            return _not_stored("whatsapp message", exc)
        if handled.new and handled.contact_id is not None:
            background.add_task(_after_answer, "whatsapp message", _process, runtime, channels,
                                handled.contact_id)
    return Response(EMPTY_TWIML, media_type="application/xml")


async def _process(runtime: Runtime, channels: ChannelSet, contact_id: int) -> None:
    await runtime.db.run(runtime.dispatcher.process, contact_id)
    channels.notify()


@router.post(TWILIO_STATUS_PATH)
async def twilio_status(request: Request) -> Response:
    """A delivery status: recorded on the outbox row, never moving it backwards."""
    runtime, channels = _runtime(request), _channels(request)
    if channels.whatsapp is None:
        return Response(status_code=404)
    form = await _signed_form(request, TWILIO_STATUS_PATH)
    if form is None:
        log.warning("twilio status callback refused: wrong or missing signature")
        return Response(status_code=403)
    await runtime.db.run(_record_status, runtime, form)
    return Response(status_code=200)


def _record_status(runtime: Runtime, form: Mapping[str, str]) -> None:
    status = status_from_form(form)
    if status is None:
        return
    with runtime.db.session() as session, session.begin():
        outbox.update_delivery(session, WHATSAPP, status.provider_id, status.status,
                               status.error)
        if status.error_code == OPTED_OUT:
            contact_id = outbox.contact_for_provider_id(session, WHATSAPP, status.provider_id)
            if contact_id is not None:
                contacts.opt_out(session, contact_id, runtime.dispatcher.clock())
                outbox.cancel_pending(session, contact_id, "opted out (twilio 21610)")
