"""Local channels (terminal and web simulator): handle a message and collect the replies."""

from __future__ import annotations

from bot.messages import InboundMessage, OutboundMessage
from bot.services.dispatcher import Dispatcher
from bot.storage import outbox


def replies_for(dispatcher: Dispatcher, channel: str, address: str) -> list[OutboundMessage]:
    """Deliver the local channel's pending messages for this address."""
    with dispatcher.db.session() as session, session.begin():
        return outbox.take_for_address(session, channel, address, dispatcher.clock())


def converse(dispatcher: Dispatcher, message: InboundMessage) -> list[OutboundMessage]:
    """Handle one message from a local channel and return what the bot answers."""
    dispatcher.handle(message)
    return replies_for(dispatcher, message.channel, message.address)
