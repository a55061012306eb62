"""Telling a volunteer or a parent something about a ticket, inside a transaction (as
outbox rows). Only fixed texts go this way: anything that may need machine translation
goes through the relay job instead."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.engine import Library
from bot.messages import OutboundMessage
from bot.storage import outbox, volunteers
from bot.storage.tables import Contact
from bot.storage.ticket_tables import Ticket, Volunteer
from bot.tickets.texts import message


def to_chat(session: Session, chat: Contact, messages: list[OutboundMessage],
            now: datetime) -> None:
    """Queue messages for a contact's chat (a volunteer's or a parent's)."""
    assert chat.id is not None
    outbox.enqueue(session, contact_id=chat.id, channel=chat.channel, address=chat.address,
                   messages=messages, now=now)


def tell_volunteer(session: Session, library: Library, volunteer_id: int | None, key: str,
                   variables: Mapping[str, Any], now: datetime) -> None:
    """Tell a (not removed, linked) volunteer something in their interface language."""
    if volunteer_id is None:
        return
    volunteer = session.get(Volunteer, volunteer_id)
    chat = volunteers.chat_of(session, volunteer_id)
    if volunteer is None or chat is None:
        return
    to_chat(session, chat, [message(library, volunteer.interface_language, key, variables)],
            now)


def tell_parent(session: Session, ticket: Ticket,
                messages: list[OutboundMessage], now: datetime) -> None:
    """Queue messages for the ticket's parent, if they are still there."""
    chat = session.get(Contact, ticket.contact_id) if ticket.contact_id is not None else None
    if chat is not None:
        to_chat(session, chat, messages, now)


def parent_language(session: Session, ticket: Ticket) -> str:
    """The parent's language now (they may have changed it), else the ticket's."""
    chat = session.get(Contact, ticket.contact_id) if ticket.contact_id is not None else None
    return (chat.language if chat is not None and chat.language else None) or ticket.language
