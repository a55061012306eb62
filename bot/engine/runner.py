"""Advancing a conversation by one turn: `advance(library, state, event, now)`.

A turn reads the parent's message, handles global commands (menu, back, language,
ask a person, stop, start, delete my data), interprets the answer to the waiting
question, then runs nodes until the next question or the end. It returns the new
state and a list of effects; it performs none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.engine import inputs
from bot.engine.bidi import isolate_ltr
from bot.engine.conditions import holds
from bot.engine.effects import (
    ConsentGiven,
    ContactChanged,
    Effect,
    EraseContact,
    HandoffRequested,
    OptIn,
    OptOut,
    Send,
)
from bot.engine.glossary import find_term
from bot.engine.helplines import AGAIN, DANGER_NOW, helpline_texts
from bot.engine.library import SOURCE_LANGUAGE, Library
from bot.engine.matching import keywords, normalize, pick, pick_by_other_names
from bot.engine.model import (
    AskNode,
    BranchNode,
    CallNode,
    ContentNode,
    DoNode,
    EndNode,
    HandoffNode,
    LinkNode,
    Node,
    Option,
    SayNode,
    ScoreNode,
)
from bot.engine.scoring import top_areas
from bot.engine.state import HISTORY_LIMIT, Frame, SessionState
from bot.messages import Choice, OutboundMessage

# A turn that runs more nodes than this is a loop in the flows: stop it.
MAX_STEPS_PER_TURN = 64

# Flows the engine itself enters; the loader checks that they exist.
ONBOARDING_FLOW = "onboarding"
MENU_FLOW = "menu"
COMMAND_FLOWS = {"language": "language", "person": "handoff", "delete": "erase", "stop": "stop",
                 "emergency": "emergency"}
STUCK_FLOW = "stuck"
SWITCH_FLOW = "switch_language"  # offered when a parent writes in another language
REQUIRED_FLOWS = (ONBOARDING_FLOW, MENU_FLOW, STUCK_FLOW, SWITCH_FLOW, *COMMAND_FLOWS.values())
# Flows entered on the side of the conversation; "back" skips their questions.
SIDE_FLOWS = frozenset((STUCK_FLOW, SWITCH_FLOW, *COMMAND_FLOWS.values()))
# Where a guessed language waits until the parent confirms it.
GUESS = "language.guess"

# Global commands: each has a keyword text `command.<name>` per language and a slash form.
COMMANDS = ("menu", "back", "language", "person", "stop", "start", "delete", "emergency")
SLASH_COMMANDS = {
    "menu": "menu", "back": "back", "language": "language", "help": "person",
    "person": "person", "stop": "stop", "start": "start", "delete": "delete",
    "sos": "emergency", "emergency": "emergency",
}

# Content pages are shown one message at a time with these two options.
MORE, MENU = "more", "menu"

# Texts the engine itself uses; the loader checks they exist in the source language.
ENGINE_KEYS = (
    "common.reprompt_options", "common.reprompt_integer", "common.reprompt_text",
    "common.reprompt_yes_no", "common.reprompt_date", "common.reprompt_choices",
    "common.question_passed", "common.error", "common.opt_more", "common.opt_menu",
    "common.yes", "common.no", "common.yes_words", "common.no_words", DANGER_NOW, AGAIN,
    *(f"command.{name}" for name in COMMANDS),
)


@dataclass(frozen=True)
class Event:
    """What the parent did: typed `text`, or pressed the button `choice` of `question`."""

    text: str | None = None
    choice: str | None = None
    question: int | None = None
    language_hint: str | None = None


@dataclass(frozen=True)
class Turn:
    """The result of one turn."""

    state: SessionState
    effects: list[Effect]


def global_command(library: Library, language: str, text: str) -> str | None:
    """The global command (one of COMMANDS) that `text` gives, in `language` or English,
    as a word or a slash form; None if it gives none."""
    stripped = text.strip()
    if stripped.startswith("/"):
        word = stripped[1:].split(maxsplit=1)[0].split("@")[0].lower() if stripped[1:] else ""
        return SLASH_COMMANDS.get(word)
    said = normalize(stripped)
    for name in COMMANDS:
        key = f"command.{name}"
        if said in keywords(library.raw_text(language, key)) or \
                said in keywords(library.raw_text(SOURCE_LANGUAGE, key)):
            return name
    return None


def parent_flow(stack: list[Frame]) -> str | None:
    """The flow the parent was in: the nearest on the stack that is not a side flow
    (such as the handoff or stuck flow that asks for a person)."""
    return next((frame.flow for frame in reversed(stack) if frame.flow not in SIDE_FLOWS),
                None)


class StepLimitExceeded(Exception):
    """A turn ran more than MAX_STEPS_PER_TURN nodes: the flows loop."""


def advance(library: Library, state: SessionState, event: Event, now: datetime) -> Turn:
    """Run one turn. Pure: the same arguments always give the same result."""
    turn = _TurnRunner(library, state.copy(), now)
    try:
        turn.handle(event)
    except StepLimitExceeded:
        # Start afresh at the menu next time, and tell the parent something went wrong.
        broken = _TurnRunner(library, state.copy(), now)
        broken.state.stack, broken.state.waiting, broken.state.history = [], False, []
        broken.send("common.error")
        return Turn(broken.state, broken.effects)
    return Turn(turn.state, turn.effects)


class _TurnRunner:
    def __init__(self, library: Library, state: SessionState, now: datetime) -> None:
        self.library = library
        self.state = state
        self.now = now
        self.effects: list[Effect] = []
        self.steps = 0
        # The question the parent did not manage to answer and their last words, for
        # the person a handoff from the stuck flow brings in.
        self.unanswered: dict[str, str | None] = {}

    # -- entry -----------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        if self.state.language is None and not self.state.consented:
            self.guess_language(event)
        command = self.command(event.text) if event.text else None
        erasing = self.state.waiting and self.state.stack[-1].flow == COMMAND_FLOWS["delete"]
        if self.state.opted_out and not (erasing and command is None):
            if command == "start":
                self.set_opt_out(opted_out=False)
                self.restart()
            elif command == "delete":
                self.run_command(command)  # erasing must never need opting in first
            return  # otherwise an opted-out parent gets nothing until they say start
        if command is not None:
            self.run_command(command)
        elif event.choice is not None and event.question != self.state.question:
            self.send("common.question_passed")
            self.reshow()
        elif not self.state.stack or not self.state.waiting:
            if not (event.text and self.explain_term(event.text)):
                self.restart()
        else:
            self.answer(event)

    def guess_language(self, event: Event) -> None:
        """First contact: remember a guess from the channel's hint or the text. The
        onboarding flow asks the parent to confirm it; nothing switches silently."""
        guess = event.language_hint if event.language_hint in self.library.languages else None
        if guess is None and event.text and self.library.detect_language is not None:
            guess = self.library.detect_language(event.text)
        if guess in self.library.languages:
            self.state.answers[GUESS] = guess

    def offer_switch(self, text: str) -> bool:
        """A free-text message in another shipped language: offer to switch to it."""
        detect = self.library.detect_language
        guess = detect(text) if detect is not None else None
        if guess is None or guess == self.state.language or guess not in self.library.languages:
            return False
        self.state.answers[GUESS] = guess
        self.call_from_here(SWITCH_FLOW)
        return True

    def command(self, text: str) -> str | None:
        return global_command(self.library, self.language, text)

    def run_command(self, command: str) -> None:
        if command == "menu":
            self.jump(MENU_FLOW)
        elif command == "start":
            self.restart()
        elif command == "back":
            self.back()
        elif command == "stop":
            self.jump(COMMAND_FLOWS["stop"])
        else:
            self.call_from_here(COMMAND_FLOWS[command])

    # -- moving around -----------------------------------------------------------------

    def restart(self) -> None:
        self.jump(MENU_FLOW if self.state.consented else ONBOARDING_FLOW)

    def jump(self, flow_id: str) -> None:
        self.state.stack = [Frame(flow_id, self.library.flows[flow_id].start)]
        self.execute()

    def call_from_here(self, flow_id: str) -> None:
        """Run `flow_id`, then come back to the waiting question (asked again)."""
        if not self.state.waiting:
            self.state.stack = []
        self.state.stack.append(Frame(flow_id, self.library.flows[flow_id].start))
        self.execute()

    def back(self) -> None:
        history = self.state.history
        if history and self.state.waiting and history[-1] == self.state.stack:
            history.pop()
        if not history:
            self.jump(MENU_FLOW)
            return
        self.state.stack = list(history.pop())
        self.execute()

    def go(self, node_id: str | None) -> None:
        """Move within the current flow; None ends the flow."""
        if not self.state.stack:
            return  # the data was just erased: nothing is left to move in
        top = self.state.stack[-1]
        self.state.stack[-1] = Frame(top.flow, node_id or "")

    def execute(self) -> None:
        """Run nodes from the current position until a node waits or the stack empties."""
        self.state.waiting = False
        while self.state.stack:
            self.steps += 1
            if self.steps > MAX_STEPS_PER_TURN:
                raise StepLimitExceeded
            frame = self.state.stack[-1]
            if frame.node == "":
                self.state.stack.pop()  # this flow is done: return to its caller
                continue
            if self.visit(self.library.flows[frame.flow].node(frame.node)):
                self.state.waiting = True
                return

    def visit(self, node: Node) -> bool:
        """Run one node; return True when it waits for the parent."""
        if isinstance(node, AskNode):
            self.state.misses = 0
            self.remember_question()
            self.state.question += 1
            self.ask(node)
            return True
        if isinstance(node, ContentNode):
            self.state.page_part = 0
            return self.show_part(node, new=True)
        if isinstance(node, SayNode):
            self.send(node.say)
            self.go(node.next)
        elif isinstance(node, BranchNode):
            variables = self.variables()
            self.go(next(arm.target for arm in node.branch
                         if arm.if_ is None or holds(arm.if_, variables)))
        elif isinstance(node, LinkNode):
            self.state.stack = [Frame(node.link, self.library.flows[node.link].start)]
        elif isinstance(node, CallNode):
            self.go(node.next)
            self.state.stack.append(Frame(node.call, self.library.flows[node.call].start))
        elif isinstance(node, HandoffNode):
            self.effects.append(HandoffRequested(
                topic=node.handoff, flow=self.handoff_flow(), context=self.handoff_context()))
            if node.say is not None:
                self.send(node.say)
            self.go(node.next)
        elif isinstance(node, DoNode):
            self.perform(node.do)
            self.go(node.next)
        elif isinstance(node, ScoreNode):
            scoring = self.library.scorings[node.score]
            self.save(node.save, top_areas(scoring, self.state.answers, node.top))
            self.go(node.next)
        elif isinstance(node, EndNode):
            if node.end is not True:
                self.send(node.end)
            self.state.stack = []
        return False

    def remember_question(self) -> None:
        if self.state.stack[-1].flow in SIDE_FLOWS:
            return  # "back" never returns into a finished command flow
        snapshot = list(self.state.stack)
        history = self.state.history
        if not history or history[-1] != snapshot:
            history.append(snapshot)
            del history[:-HISTORY_LIMIT]

    # -- asking and answering -------------------------------------------------------------

    def current(self) -> Node:
        frame = self.state.stack[-1]
        return self.library.flows[frame.flow].node(frame.node)

    def choices(self, node: AskNode) -> list[Choice]:
        if node.input is not None and node.input.type == "language":
            return [Choice(code, lang.name) for code, lang in self.library.languages.items()]
        if node.input is not None and node.input.type == "yes_no":
            return [Choice("yes", self.text("common.yes")), Choice("no", self.text("common.no"))]
        return [Choice(option.id, self.text(option.label)) for option in node.options or []]

    def ask(self, node: AskNode, prefix_key: str | None = None) -> None:
        text = self.text(node.ask)
        if prefix_key is not None:
            text = self.text(prefix_key) + "\n\n" + text
        self.send_text(text, self.choices(node))

    def reshow(self) -> None:
        """Show the waiting question again (same question number, so its buttons still work)."""
        if not self.state.stack or not self.state.waiting:
            self.restart()
            return
        node = self.current()
        if isinstance(node, AskNode):
            self.ask(node)
        elif isinstance(node, ContentNode):
            self.show_part(node)

    def answer(self, event: Event) -> None:
        node = self.current()
        if isinstance(node, ContentNode):
            self.answer_page(node, event)
            return
        assert isinstance(node, AskNode)  # only asks and pages wait
        try:
            value, option = self.read(node, event)
        except inputs.InvalidAnswer:
            if not (event.text and (self.explain_term(event.text) or
                                    self.offer_switch(event.text))):
                self.miss(node, event.text)
            return
        self.state.misses = 0
        if node.save is not None:
            self.save(node.save, value)
        if option is not None and option.link is not None:
            self.state.stack = [Frame(option.link, self.library.flows[option.link].start)]
        else:
            self.go(option.next if option is not None and option.next else node.next)
        self.execute()

    def read(self, node: AskNode, event: Event) -> tuple[Any, Option | None]:
        """The answer's value, and the option chosen if the question has options."""
        choices = self.choices(node)
        ids = [c.id for c in choices]
        kind = node.input.type if node.input is not None else "options"
        if event.choice is not None:
            if event.choice not in ids:
                raise inputs.InvalidAnswer
            index: int | None = ids.index(event.choice)
            text = choices[ids.index(event.choice)].label
        else:
            text = event.text or ""
            index = pick(text, [c.label for c in choices])
            if index is None and kind != "choices":
                index = pick_by_other_names(text, choices, self.other_names(kind, ids))
        if kind in ("options", "language"):
            if index is None:
                raise inputs.InvalidAnswer
            option = node.options[index] if node.options is not None else None
            return ids[index], option
        assert node.input is not None
        if kind == "yes_no":
            if index is not None:
                return ids[index] == "yes", None
            english = self.library.texts[SOURCE_LANGUAGE]
            return inputs.parse_yes_no(
                text, self.text("common.yes_words") + "|" + english["common.yes_words"],
                self.text("common.no_words") + "|" + english["common.no_words"]), None
        if kind == "choices":
            return inputs.parse_choices(text, ids, [c.label for c in choices], node.input), None
        if kind == "integer":
            return inputs.parse_integer(text, node.input), None
        if kind == "date":
            return inputs.parse_date(text), None
        return inputs.parse_text(text, node.input), None

    def other_names(self, kind: str, ids: list[str]) -> list[tuple[str, ...]]:
        """More names per option: a language's code and aliases; an option's id."""
        if kind == "language":
            return [(code, *self.library.languages[code].aliases) for code in ids]
        return [(option_id.replace("_", " "),) for option_id in ids]

    def miss(self, node: AskNode, said: str | None) -> None:
        self.state.misses += 1
        retries = node.on_invalid.retries if node.on_invalid is not None else 1
        if self.state.misses <= retries:
            key = node.on_invalid.say if node.on_invalid and node.on_invalid.say else None
            kind = node.input.type if node.input is not None else "options"
            if kind == "language":
                kind = "options"
            self.ask_again(node, key or f"common.reprompt_{kind}")
            return
        self.state.misses = 0
        if node.on_invalid is not None and node.on_invalid.then is not None:
            self.go(node.on_invalid.then)
            self.execute()
        else:
            self.unanswered = {"asked": self.text(node.ask), "question": said}
            self.call_from_here(STUCK_FLOW)

    def ask_again(self, node: AskNode, reprompt_key: str) -> None:
        spec = node.input
        variables = {"min": spec.min, "max": spec.max} if spec is not None else {}
        reprompt = self.library.text(self.language, reprompt_key, {**self.variables(), **variables})
        self.send_text(reprompt + "\n\n" + self.text(node.ask), self.choices(node))

    def save(self, variable: str, value: Any) -> None:
        if variable == "language":
            self.state.language = str(value)
            self.state.answers.pop(GUESS, None)
        elif variable == "region":
            self.state.region = str(value)
        else:
            self.state.answers[variable] = value
            return
        self.effects.append(ContactChanged(self.state.language, self.state.region))

    def explain_term(self, text: str) -> bool:
        """Explain a school word the parent asked about, then show the question again."""
        entry = find_term(text, self.library.glossary.get(self.state.region or "", ()))
        if entry is None:
            return False
        self.send(entry.text)
        if self.state.stack and self.state.waiting:
            self.reshow()
        return True

    # -- content pages -----------------------------------------------------------------------

    def show_part(self, node: ContentNode, *, new: bool = False) -> bool:
        """Show the current part of a page; `new` when it was not shown before (it then
        gets a new question number, so only its own buttons count)."""
        page = self.library.page(node.content, self.language)
        part = self.state.page_part
        text = page.parts[part]
        has_more = part + 1 < len(page.parts)
        if has_more or node.next is None:
            choices = [Choice(MENU, self.text("common.opt_menu"))]
            if has_more:
                choices.insert(0, Choice(MORE, self.text("common.opt_more")))
            if new:
                self.state.question += 1
            self.send_text(text, choices)
            return True
        self.send_text(text, [])
        self.go(node.next)
        return False

    def answer_page(self, node: ContentNode, event: Event) -> None:
        labels = [self.text("common.opt_menu")]
        ids = [MENU]
        if self.state.page_part + 1 < len(self.library.page(node.content, self.language).parts):
            labels.insert(0, self.text("common.opt_more"))
            ids.insert(0, MORE)
        chosen = event.choice if event.choice in ids else None
        if chosen is None and event.text is not None:
            # The English labels work too: "more" is what many parents type anyway.
            english = [self.library.raw_text(SOURCE_LANGUAGE, f"common.opt_{i}") for i in ids]
            index = pick(event.text, labels)
            if index is None:
                index = pick(event.text, english)
            chosen = ids[index] if index is not None else None
        if chosen == MORE:
            self.state.page_part += 1
            self.state.waiting = self.show_part(node, new=True)
            if not self.state.waiting:
                self.execute()
        elif chosen == MENU:
            self.jump(MENU_FLOW)
        elif not (event.text and self.explain_term(event.text)):
            self.send("common.reprompt_options")
            self.show_part(node)

    # -- actions --------------------------------------------------------------------------------

    def perform(self, action: str) -> None:
        if action == "record_consent":
            self.state.consented = True
            self.effects.append(ConsentGiven())
        elif action == "opt_out":
            self.set_opt_out(opted_out=True)
        elif action == "opt_in":
            self.set_opt_out(opted_out=False)
        elif action == "reset_answers":
            self.state.answers = {}
        elif action == "accept_language_guess":
            guess = self.state.answers.pop(GUESS, None)
            if guess is not None:
                self.save("language", guess)
        elif action == "reject_language_guess":
            self.state.answers.pop(GUESS, None)
        elif action == "show_helplines":
            for text in helpline_texts(self.library, self.language, self.state.region):
                self.send_text(text, [])
        elif action == "erase_contact":
            self.effects.append(EraseContact())
            # Keep counting questions, so no button sent before the erasure still works.
            self.state = SessionState(language=self.state.language,
                                      question=self.state.question + 1)

    def set_opt_out(self, *, opted_out: bool) -> None:
        self.state.opted_out = opted_out
        self.effects.append(OptOut() if opted_out else OptIn())

    def handoff_context(self) -> dict[str, Any]:
        return {"stage": self.state.answers.get("child.stage"), "region": self.state.region,
                **self.unanswered}

    def handoff_flow(self) -> str:
        return parent_flow(self.state.stack) or self.state.stack[-1].flow

    # -- text ---------------------------------------------------------------------------------

    @property
    def language(self) -> str:
        """The language to write in. A guess is used before the parent has chosen one,
        and for the question that offers to switch to it."""
        guess = self.state.answers.get(GUESS)
        offering = bool(self.state.stack) and self.state.stack[-1].flow == SWITCH_FLOW
        if guess is not None and (self.state.language is None or offering):
            return str(guess)
        return self.state.language or SOURCE_LANGUAGE

    def variables(self) -> dict[str, Any]:
        return {
            **self.state.variables(),
            "now.year": self.now.year,
            "now.month": self.now.month,
            "now.day": self.now.day,
        }

    def text(self, key: str) -> str:
        return self.library.text(self.language, key, self.variables())

    def send(self, key: str) -> None:
        self.send_text(self.text(key), [])

    def send_text(self, text: str, choices: list[Choice]) -> None:
        language = self.library.language(self.language)
        if language.direction == "rtl":
            text = isolate_ltr(text)
            choices = [Choice(c.id, isolate_ltr(c.label)) for c in choices]
        self.effects.append(Send(OutboundMessage(
            text=text,
            choices=tuple(choices),
            question=self.state.question if choices else None,
            language=language.code,
            direction=language.direction,
        )))
