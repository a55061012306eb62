"""Conversation tests written as YAML transcripts (tests/conversations/*.yaml).

Each transcript runs through the real dispatcher and storage (SQLite) with a frozen
clock. Format:

- test: a name
  contact: {language: nl, region: flanders, onboarded: true, answers: {child.stage: grade_9}}
  now: 2026-03-05T10:00:00+01:00
  steps:
    - user: "1"                      # typed text
    - user: {choice: more}           # a button press on the last question
    - user: {choice: school, stale: true}  # a press on a button of an old question
    - bot_contains: ["1A", "1B"]     # the last turn's messages contain each string
    - bot_not_contains: ["..."]
    - bot_has_options: 3             # the last message has this many options
    - bot_options_include: ["Meer"]  # ... with these labels
    - bot_direction: rtl             # every message of the last turn has this direction
    - bot_silent: true               # the last turn sent nothing
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine import Library, SessionState
from bot.messages import InboundMessage, OutboundMessage
from bot.services.dispatcher import Dispatcher
from bot.services.local_chat import converse
from bot.storage import contacts, sessions
from bot.storage.database import Database
from bot.storage.migrate import upgrade

from .conftest import FrozenClock

FOLDER = Path(__file__).parent / "conversations"
CHANNEL, ADDRESS = "web", "transcript-parent"
DEFAULT_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STEP_KINDS = {"user", "bot_contains", "bot_not_contains", "bot_has_options",
              "bot_options_include", "bot_direction", "bot_silent"}


@dataclass(frozen=True)
class Transcript:
    name: str
    file: str
    contact: dict[str, Any]
    now: datetime
    steps: list[dict[str, Any]]


def transcripts() -> Iterator[Any]:
    for path in sorted(FOLDER.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            now = case.get("now", DEFAULT_NOW)
            if isinstance(now, str):
                now = datetime.fromisoformat(now)
            transcript = Transcript(case["test"], path.name, case.get("contact", {}), now,
                                    case["steps"])
            yield pytest.param(transcript, id=f"{path.stem}: {case['test']}")


@pytest.fixture
def sqlite_dispatcher(tmp_path: Path, library: Library) -> Iterator[Dispatcher]:
    db = Database(f"sqlite:///{tmp_path / 'transcript.db'}")
    upgrade(db)
    yield Dispatcher(db, library, clock=FrozenClock(DEFAULT_NOW))
    db.close()


@pytest.mark.parametrize("transcript", list(transcripts()))
def test_transcript(transcript: Transcript, sqlite_dispatcher: Dispatcher) -> None:
    dispatcher = sqlite_dispatcher
    assert isinstance(dispatcher.clock, FrozenClock)
    dispatcher.clock.now = transcript.now
    _preset(dispatcher, transcript.contact, transcript.now)
    last: list[OutboundMessage] = []
    for number, step in enumerate(transcript.steps, start=1):
        where = f"{transcript.file} '{transcript.name}' step {number} {step}"
        unknown = set(step) - STEP_KINDS
        assert not unknown, f"{where}: unknown step kind {unknown}"
        if "user" in step:
            last = converse(dispatcher, _inbound(step["user"], number, last, where))
            continue
        _check(step, last, where)


def _preset(dispatcher: Dispatcher, contact: dict[str, Any], now: datetime) -> None:
    with dispatcher.db.session() as session, session.begin():
        contact_id = contacts.preset_contact(
            session, CHANNEL, ADDRESS, now, language=contact.get("language"),
            region=contact.get("region"))
        if contact.get("onboarded") or contact.get("answers"):
            state = SessionState(language=contact.get("language"), region=contact.get("region"),
                                 consented=bool(contact.get("onboarded")),
                                 answers=dict(contact.get("answers", {})))
            sessions.save_state(session, contact_id, state.to_json(), now)


def _inbound(said: Any, number: int, last: list[OutboundMessage], where: str) -> InboundMessage:
    common = {"channel": CHANNEL, "address": ADDRESS, "provider_id": f"step-{number}",
              "received_at": DEFAULT_NOW}
    if isinstance(said, dict):
        choice = said["choice"]
        if said.get("stale"):
            return InboundMessage(**common, choice=choice, question=-1)
        asked = [m for m in last if any(c.id == choice for c in m.choices)]
        assert asked, f"{where}: no option {choice!r} in the last bot messages"
        return InboundMessage(**common, choice=choice, question=asked[-1].question)
    return InboundMessage(**common, text=str(said))


def _check(step: dict[str, Any], last: list[OutboundMessage], where: str) -> None:
    shown = "\n---\n".join(m.numbered_text() for m in last)
    if "bot_silent" in step:
        assert not last, f"{where}: expected silence, got:\n{shown}"
        return
    assert last, f"{where}: the bot said nothing"
    everything = "\n".join(m.text + "\n" + "\n".join(c.label for c in m.choices) for m in last)
    for text in step.get("bot_contains", []):
        assert str(text) in everything, f"{where}: {text!r} not in:\n{shown}"
    for text in step.get("bot_not_contains", []):
        assert str(text) not in everything, f"{where}: {text!r} unexpectedly in:\n{shown}"
    if "bot_has_options" in step:
        assert len(last[-1].choices) == step["bot_has_options"], f"{where}: got\n{shown}"
    labels = [c.label for c in last[-1].choices]
    for label in step.get("bot_options_include", []):
        assert label in labels, f"{where}: option {label!r} not in {labels}"
    if "bot_direction" in step:
        assert all(m.direction == step["bot_direction"] for m in last), f"{where}: {shown}"
