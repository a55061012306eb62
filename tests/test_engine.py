"""Unit tests for the pure conversation engine: `advance(library, state, event, now)`.

The flows below are small and written for these tests. Every turn goes through
`Chat.turn`, which also checks that `advance` is deterministic, does not change the
state it is given, and that the new state survives a trip through JSON.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.engine import (
    MAX_STEPS_PER_TURN,
    ConsentGiven,
    ContactChanged,
    Effect,
    EraseContact,
    Flow,
    Frame,
    HandoffRequested,
    Language,
    Library,
    OptIn,
    OptOut,
    Page,
    Send,
    SessionState,
    advance,
)
from bot.engine.conditions import holds
from bot.engine.model import NODE_KINDS, Condition, Node
from bot.engine.runner import ENGINE_KEYS, Event
from bot.messages import Choice, OutboundMessage

ROOT = Path(__file__).parents[1]
NOW = datetime(2026, 3, 1, 9, 30)

# -- a small library built in code ----------------------------------------------------------

ONBOARDING = """
schema_version: 1
id: onboarding
start: check_language
nodes:
  - id: check_language
    branch:
      - if: {var: language, set: true}
        then: consent
      - else: choose_language
  - id: choose_language
    ask: t.choose_language
    input: {type: language}
    save: language
    next: consent
  - id: consent
    ask: t.consent
    options:
      - {id: agree, label: t.agree, next: record}
      - {id: decline, label: t.decline, next: declined}
  - id: record
    do: record_consent
    next: to_menu
  - id: declined
    end: t.declined
  - id: to_menu
    link: menu
"""

MENU = """
schema_version: 1
id: menu
start: main
nodes:
  - id: main
    ask: t.menu
    options:
      - {id: questions, label: t.opt_questions, link: questions}
      - {id: reading, label: t.opt_reading, link: reading}
"""

STUCK = """
schema_version: 1
id: stuck
start: offer
nodes:
  - id: offer
    ask: t.stuck
    options:
      - {id: again, label: t.try_again}
      - {id: menu, label: t.main_menu, link: menu}
      - {id: person, label: t.person, link: handoff}
"""

LANGUAGE = """
schema_version: 1
id: language
start: choose
nodes:
  - id: choose
    ask: t.choose_language
    input: {type: language}
    save: language
    next: confirmed
  - id: confirmed
    say: t.language_confirmed
"""

HANDOFF = """
schema_version: 1
id: handoff
start: open
nodes:
  - id: open
    handoff: question
    say: t.handoff_opened
"""

ERASE = """
schema_version: 1
id: erase
start: confirm
nodes:
  - id: confirm
    ask: t.erase_confirm
    input: {type: yes_no}
    save: erase.confirmed
    next: decide
  - id: decide
    branch:
      - if: {var: erase.confirmed, eq: true}
        then: erased
      - else: kept
  - id: kept
    say: t.erase_kept
  - id: erased
    say: t.erase_done
    next: erase
  - id: erase
    do: erase_contact
    next: finish
  - id: finish
    end: true
"""

STOP = """
schema_version: 1
id: stop
start: goodbye
nodes:
  - id: goodbye
    say: t.stop_confirmed
    next: opt_out
  - id: opt_out
    do: opt_out
    next: finish
  - id: finish
    end: true
"""

QUESTIONS = """
schema_version: 1
id: questions
start: q1
nodes:
  - id: q1
    ask: t.q1
    options:
      - {id: one, label: t.one}
      - {id: two, label: t.two}
    save: first
    next: q2
  - id: q2
    ask: t.q2
    options:
      - {id: one, label: t.one}
      - {id: two, label: t.two}
    save: second
    next: q3
  - id: q3
    ask: t.q3
    input: {type: integer, min: 1, max: 12}
    save: third
    next: done
  - id: done
    say: t.done
"""

READING = """
schema_version: 1
id: reading
start: page
nodes:
  - id: page
    content: test/long
"""

SYSTEM_FLOWS = (ONBOARDING, MENU, STUCK, LANGUAGE, HANDOFF, ERASE, STOP, QUESTIONS, READING)

ENGLISH = {
    "common.reprompt_options": "Tap a button.",
    "common.reprompt_integer": "Type a number from {min} to {max}.",
    "common.reprompt_text": "Type a few words.",
    "common.reprompt_yes_no": "Answer yes or no.",
    "common.reprompt_date": "Type a date.",
    "common.reprompt_choices": "Type the numbers.",
    "common.question_passed": "That question has passed.",
    "common.error": "Something went wrong.",
    "common.opt_more": "More",
    "common.opt_menu": "Main menu",
    "common.yes": "Yes",
    "common.no": "No",
    "common.yes_words": "yes|y|ok|okay",
    "common.no_words": "no|n|not now",
    "command.menu": "menu|main menu",
    "command.back": "back|go back",
    "command.language": "language|change language",
    "command.person": "help|person|ask a person",
    "command.stop": "stop|unsubscribe",
    "command.start": "start|subscribe",
    "command.delete": "delete my data|delete|erase my data",
    "t.choose_language": "Choose your language",
    "t.consent": "Is that OK?",
    "t.agree": "Yes, OK",
    "t.decline": "No, thanks",
    "t.declined": "OK, goodbye.",
    "t.menu": "What would you like to do?",
    "t.opt_questions": "Questions",
    "t.opt_reading": "Reading",
    "t.stuck": "I am not sure I understand.",
    "t.try_again": "Try again",
    "t.main_menu": "Main menu",
    "t.person": "Ask a person",
    "t.language_confirmed": "OK, this language from now on.",
    "t.handoff_opened": "A person will help you.",
    "t.erase_confirm": "Delete everything?",
    "t.erase_kept": "I deleted nothing.",
    "t.erase_done": "I deleted your data.",
    "t.stop_confirmed": "No more messages.",
    "t.q1": "First question?",
    "t.q2": "Second question?",
    "t.q3": "How old is your child?",
    "t.one": "One",
    "t.two": "Two",
    "t.done": "Done: {first}, {second}, {third}.",
    "t.page_title": "Title",
    "t.hello": "Hello",
    "t.again": "Hello again",
    "t.bye": "Bye",
    "t.after": "After",
    "t.before": "Before",
    "t.in_sub": "In the subflow",
    "t.question": "Question?",
    "t.thanks": "Thanks, {child.name}.",
    "t.english": "English",
    "t.dutch": "Nederlands",
    "t.french": "Français",
    "t.got": "Got {picked}.",
    "t.sport": "Sport",
    "t.music": "Music",
    "t.art": "Art and crafts",
    "t.custom_reprompt": "Please, a number.",
    "t.gave_up": "Let us skip this.",
    "t.result": "Result: {result}",
}

DUTCH = {
    "command.menu": "hoofdmenu|menu",
    "command.back": "terug",
    "common.yes": "Ja",
    "common.no": "Nee",
    "common.yes_words": "ja|j",
    "common.no_words": "nee",
    "t.menu": "Wat wil je doen?",
    "t.language_confirmed": "OK, vanaf nu Nederlands.",
}

LANGUAGES = {
    "en": Language("en", "English"),
    "nl": Language("nl", "Nederlands"),
    "fr": Language("fr", "Français"),
    "ar": Language("ar", "العربية", "rtl"),
}

PAGES = {
    "test/long": {"en": Page("test/long", ("Title\n\nPart one.", "Part two.", "Part three."))},
    "test/short": {"en": Page("test/short", ("Short\n\nOnly part.",))},
}


def parse_flow(text: str) -> Flow:
    """A flow from YAML text, validated node by node with the engine's models."""
    data = yaml.safe_load(text)
    nodes: dict[str, Node] = {}
    for raw in data["nodes"]:
        model = next(model for kind, model in NODE_KINDS if kind in raw)
        node = model.model_validate(raw)
        nodes[raw["id"]] = node  # type: ignore[assignment]
    return Flow(id=data["id"], start=data["start"], nodes=nodes)


def make_library(*flows: str, texts: dict[str, str] | None = None) -> Library:
    """The system flows above, with `flows` added or replacing those with the same id."""
    by_id = {flow.id: flow for flow in map(parse_flow, (*SYSTEM_FLOWS, *flows))}
    english = {key: key for key in ENGINE_KEYS}  # engine keys added later still resolve
    english.update(ENGLISH)
    english.update(texts or {})
    return Library(flows=by_id, texts={"en": english, "nl": DUTCH}, languages=LANGUAGES,
                   pages=PAGES)


def menu_flow(nodes: str) -> str:
    """A `menu` flow (what a consented parent starts in) made of these nodes."""
    body = "\n".join(f"  {line}" if line else "" for line in nodes.strip("\n").splitlines())
    first = yaml.safe_load(nodes)[0]["id"]
    return f"schema_version: 1\nid: menu\nstart: {first}\nnodes:\n{body}\n"


class Chat:
    """One parent talking to the engine; checks determinism and JSON round trips."""

    def __init__(self, library: Library, state: SessionState | None = None,
                 now: datetime = NOW) -> None:
        self.library = library
        self.state = state if state is not None else SessionState(consented=True)
        self.now = now
        self.effects: list[Effect] = []

    def turn(self, text: str | None = None, *, choice: str | None = None,
             question: int | None = None) -> list[Effect]:
        event = Event(text=text, choice=choice, question=question)
        before = json.dumps(self.state.to_json(), sort_keys=True)
        result = advance(self.library, self.state, event, self.now)
        assert advance(self.library, self.state, event, self.now) == result  # deterministic
        assert json.dumps(self.state.to_json(), sort_keys=True) == before  # input untouched
        stored = json.loads(json.dumps(result.state.to_json()))
        restored = SessionState.from_json(stored)
        assert restored == result.state
        assert restored.to_json() == result.state.to_json()
        self.state = restored  # continue from the JSON copy, as the host would
        self.effects = result.effects
        return result.effects

    def press(self, choice: str) -> list[Effect]:
        """Press a button of the last message with buttons."""
        question = next(m.question for m in reversed(self.messages) if m.choices)
        return self.turn(choice=choice, question=question)

    @property
    def messages(self) -> list[OutboundMessage]:
        return [e.message for e in self.effects if isinstance(e, Send)]

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]

    @property
    def last(self) -> OutboundMessage:
        return self.messages[-1]

    @property
    def here(self) -> Frame:
        return self.state.stack[-1]


@pytest.fixture
def small_library() -> Library:
    return make_library()


def test_the_test_flows_pass_the_loader(tmp_path: Path) -> None:
    from bot.flows import load_flows

    for index, text in enumerate(SYSTEM_FLOWS):
        (tmp_path / f"flow{index}.yaml").write_text(text, encoding="utf-8")
    assert set(load_flows([tmp_path]).flows) == {parse_flow(t).id for t in SYSTEM_FLOWS}


# -- say, end ----------------------------------------------------------------------------------


def test_say_nodes_run_in_order_and_end_drops_the_stack() -> None:
    chat = Chat(make_library(menu_flow("""
- id: a
  say: t.hello
  next: b
- id: b
  say: t.again
  next: c
- id: c
  end: t.bye
""")))
    chat.turn("hi")
    assert chat.texts == ["Hello", "Hello again", "Bye"]
    assert all(m.choices == () and m.question is None for m in chat.messages)
    assert chat.state.stack == []
    assert not chat.state.waiting
    chat.turn("hi again")  # after the end, any message starts again (at the menu)
    assert chat.texts == ["Hello", "Hello again", "Bye"]


def test_end_true_sends_nothing_and_a_flow_without_next_just_stops() -> None:
    chat = Chat(make_library(menu_flow("""
- id: a
  say: t.hello
  next: b
- id: b
  end: true
""")))
    chat.turn("hi")
    assert chat.texts == ["Hello"]
    assert chat.state.stack == []
    chat = Chat(make_library(menu_flow("""
- id: a
  say: t.hello
""")))
    chat.turn("hi")
    assert chat.texts == ["Hello"]
    assert chat.state.stack == []


def test_first_message_without_consent_starts_onboarding(small_library: Library) -> None:
    chat = Chat(small_library, SessionState())
    chat.turn("hello")
    assert chat.here == Frame("onboarding", "choose_language")
    assert chat.last.text == "Choose your language"
    assert chat.last.choices == tuple(Choice(code, lang.name) for code, lang in LANGUAGES.items())
    chat.turn("English")
    assert chat.effects[0] == ContactChanged("en", None)
    assert chat.last.text == "Is that OK?"
    chat.press("agree")
    assert ConsentGiven() in chat.effects
    assert chat.state.consented
    assert chat.last.text == "What would you like to do?"
    assert chat.here == Frame("menu", "main")


def test_declining_ends_the_conversation(small_library: Library) -> None:
    chat = Chat(small_library, SessionState(language="en"))
    chat.turn("hello")
    assert chat.texts == ["Is that OK?"]  # the language is known: no language question
    chat.turn("no, thanks")
    assert chat.texts == ["OK, goodbye."]
    assert chat.state.stack == []
    assert not chat.state.consented


# -- ask with options ------------------------------------------------------------------------

PICK = menu_flow("""
- id: pick
  ask: t.question
  options:
    - {id: english, label: t.english}
    - {id: dutch, label: t.dutch}
    - {id: french, label: t.french}
  save: picked
  next: got
- id: got
  say: t.got
""")


def test_an_ask_sends_its_options_as_choices_with_a_question_number() -> None:
    chat = Chat(make_library(PICK))
    chat.turn("hi")
    assert chat.messages == [OutboundMessage(
        text="Question?",
        choices=(Choice("english", "English"), Choice("dutch", "Nederlands"),
                 Choice("french", "Français")),
        question=1, language="en", direction="ltr")]
    assert chat.state.waiting
    assert chat.state.question == 1
    assert "1. English\n2. Nederlands\n3. Français" in chat.last.numbered_text()


@pytest.mark.parametrize(("answer", "expected"), [
    ("2", "dutch"),
    (" 3. ", "french"),
    ("nederlands", "dutch"),
    ("NEDERLANDS", "dutch"),
    ("  Nederlands!  ", "dutch"),
    ("francais", "french"),
    ("FRANCAIS", "french"),
    ("Français", "french"),
    ("٢", "dutch"),  # Arabic-Indic digit two
    ("۳", "french"),  # Extended Arabic-Indic (Persian) digit three
    ("２", "dutch"),  # full-width digit two
    ("english", "english"),
])
def test_an_option_can_be_chosen_by_number_or_label(answer: str, expected: str) -> None:
    chat = Chat(make_library(PICK))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.state.answers["picked"] == expected
    assert chat.texts == [f"Got {expected}."]


def test_an_option_can_be_chosen_by_button() -> None:
    chat = Chat(make_library(PICK))
    chat.turn("hi")
    chat.turn(choice="dutch", question=1)
    assert chat.state.answers["picked"] == "dutch"
    assert chat.texts == ["Got dutch."]


def test_an_option_can_be_typed_by_its_id() -> None:
    chat = Chat(make_library(PICK))
    chat.turn("hi")
    chat.turn("Dutch")
    assert chat.state.answers["picked"] == "dutch"


@pytest.mark.parametrize("answer", ["4", "0", "-1", "nederland", "1 2", ""])
def test_an_answer_that_is_no_option_is_asked_again(answer: str) -> None:
    chat = Chat(make_library(PICK))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.texts == ["Tap a button.\n\nQuestion?"]
    assert chat.last.question == 1  # the same question: its buttons still work
    assert chat.state.misses == 1
    assert "picked" not in chat.state.answers


def test_an_unknown_button_id_for_the_current_question_is_a_miss() -> None:
    chat = Chat(make_library(PICK))
    chat.turn("hi")
    chat.turn(choice="german", question=1)
    assert chat.texts == ["Tap a button.\n\nQuestion?"]


def test_option_next_and_link_and_node_next() -> None:
    chat = Chat(make_library(menu_flow("""
- id: pick
  ask: t.question
  options:
    - {id: to_b, label: t.one, next: b}
    - {id: away, label: t.two, link: other}
    - {id: plain, label: t.three}
  next: c
- id: b
  say: t.hello
- id: c
  say: t.bye
"""), """
schema_version: 1
id: other
start: x
nodes:
  - id: x
    say: t.after
""", texts={"t.three": "Three"}))
    chat.turn("hi")
    chat.turn("1")
    assert chat.texts == ["Hello"]
    chat.turn("hi")
    chat.turn("3")
    assert chat.texts == ["Bye"]
    chat.turn("hi")
    chat.turn("two")
    assert chat.texts == ["After"]
    assert chat.state.stack == []


# -- typed input -------------------------------------------------------------------------------


def typed(spec: str, save: str = "result") -> Library:
    return make_library(menu_flow(f"""
- id: q
  ask: t.question
  input: {spec}
  save: {save}
  next: result
- id: result
  say: t.result
"""))


@pytest.mark.parametrize(("answer", "expected"), [
    ("Sam", "Sam"),
    ("  Sam  ", "Sam"),
    ("Ali Öztürk", "Ali Öztürk"),
])
def test_text_input_is_saved_trimmed(answer: str, expected: str) -> None:
    chat = Chat(typed("{type: text, min: 2, max: 12}"))
    chat.turn("hi")
    assert chat.last.choices == ()
    assert chat.last.question is None  # no buttons, so no question number is needed
    chat.turn(answer)
    assert chat.state.answers["result"] == expected
    assert chat.texts == [f"Result: {expected}"]


@pytest.mark.parametrize("answer", ["S", "   ", "A very long name indeed"])
def test_text_input_outside_the_length_range_is_asked_again(answer: str) -> None:
    chat = Chat(typed("{type: text, min: 2, max: 12}"))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.texts == ["Type a few words.\n\nQuestion?"]


def test_text_input_placeholders_fill_from_saved_answers() -> None:
    chat = Chat(make_library(menu_flow("""
- id: q
  ask: t.question
  input: {type: text}
  save: child.name
  next: thanks
- id: thanks
  say: t.thanks
""")))
    chat.turn("hi")
    chat.turn("Noor")
    assert chat.texts == ["Thanks, Noor."]
    assert chat.state.answers == {"child.name": "Noor"}


@pytest.mark.parametrize(("answer", "expected"), [
    ("7", 7), (" 12 ", 12), ("1", 1), ("٧", 7), ("7.", 7),
])
def test_integer_input_in_range(answer: str, expected: int) -> None:
    chat = Chat(typed("{type: integer, min: 1, max: 12}"))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.state.answers["result"] == expected
    assert chat.texts == [f"Result: {expected}"]


@pytest.mark.parametrize("answer", ["13", "0", "-3", "seven", "7.5", "1e1", ""])
def test_integer_input_out_of_range_reprompts_with_the_range(answer: str) -> None:
    chat = Chat(typed("{type: integer, min: 1, max: 12}"))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.texts == ["Type a number from 1 to 12.\n\nQuestion?"]
    assert "result" not in chat.state.answers


def test_a_whole_number_input_needs_a_range_so_the_reprompt_can_name_it() -> None:
    with pytest.raises(ValidationError, match="needs min and max"):
        typed("{type: integer}")


def test_integer_input_accepts_negative_numbers_when_allowed() -> None:
    chat = Chat(typed("{type: integer, min: -5, max: 5}"))
    chat.turn("hi")
    chat.turn("-3")
    assert chat.state.answers["result"] == -3


@pytest.mark.parametrize(("answer", "expected"), [
    ("yes", True), ("Yes!", True), ("Y", True), ("ok", True), ("1", True),
    ("no", False), ("NO", False), ("not now", False), ("2", False),
])
def test_yes_no_input_by_typing(answer: str, expected: bool) -> None:
    chat = Chat(typed("{type: yes_no}"))
    chat.turn("hi")
    assert chat.last.choices == (Choice("yes", "Yes"), Choice("no", "No"))
    chat.turn(answer)
    assert chat.state.answers["result"] is expected


@pytest.mark.parametrize(("choice", "expected"), [("yes", True), ("no", False)])
def test_yes_no_input_by_button(choice: str, expected: bool) -> None:
    chat = Chat(typed("{type: yes_no}"))
    chat.turn("hi")
    chat.press(choice)
    assert chat.state.answers["result"] is expected


def test_yes_no_uses_the_parents_language_for_labels_and_words() -> None:
    chat = Chat(typed("{type: yes_no}"), SessionState(consented=True, language="nl"))
    chat.turn("hi")
    assert chat.last.choices == (Choice("yes", "Ja"), Choice("no", "Nee"))
    assert chat.last.language == "nl"
    chat.turn("ja")
    assert chat.state.answers["result"] is True


@pytest.mark.parametrize("answer", ["maybe", "3", "yes no"])
def test_yes_no_input_reprompts(answer: str) -> None:
    chat = Chat(typed("{type: yes_no}"))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.texts == ["Answer yes or no.\n\nQuestion?"]
    assert chat.last.choices == (Choice("yes", "Yes"), Choice("no", "No"))


@pytest.mark.parametrize(("answer", "expected"), [
    ("2026-03-01", "2026-03-01"),
    ("2026-3-1", "2026-03-01"),
    ("1/3/2026", "2026-03-01"),
    ("01.03.2026", "2026-03-01"),
    ("1-3-2026", "2026-03-01"),
    ("31/12/2026", "2026-12-31"),
    (" 29 / 2 / 2028 ", "2028-02-29"),
])
def test_date_input(answer: str, expected: str) -> None:
    chat = Chat(typed("{type: date}"))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.state.answers["result"] == expected


@pytest.mark.parametrize("answer", ["31/02/2026", "29/2/2027", "2026-13-01", "tomorrow",
                                    "1/3", "3/2026"])
def test_date_input_reprompts(answer: str) -> None:
    chat = Chat(typed("{type: date}"))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.texts == ["Type a date.\n\nQuestion?"]


def choices_library(spec: str = "{type: choices}") -> Library:
    return make_library(menu_flow(f"""
- id: q
  ask: t.question
  input: {spec}
  options:
    - {{id: sport, label: t.sport}}
    - {{id: music, label: t.music}}
    - {{id: art, label: t.art}}
  save: child.interests
  next: result
- id: result
  say: t.hello
"""))


@pytest.mark.parametrize(("answer", "expected"), [
    ("1, 3", ["sport", "art"]),
    ("1 3", ["sport", "art"]),
    ("3;1", ["art", "sport"]),
    ("music", ["music"]),
    ("Sport, MUSIC", ["sport", "music"]),
    ("art and crafts, 2", ["art", "music"]),
    ("2, 2", ["music"]),
    ("٣", ["art"]),
])
def test_choices_input_takes_several_answers(answer: str, expected: list[str]) -> None:
    chat = Chat(choices_library())
    chat.turn("hi")
    assert [c.id for c in chat.last.choices] == ["sport", "music", "art"]
    chat.turn(answer)
    assert chat.state.answers["child.interests"] == expected


def test_choices_input_by_button() -> None:
    chat = Chat(choices_library())
    chat.turn("hi")
    chat.press("music")
    assert chat.state.answers["child.interests"] == ["music"]


@pytest.mark.parametrize("answer", ["4", "1, 4", "sport, football", ""])
def test_choices_input_reprompts(answer: str) -> None:
    chat = Chat(choices_library())
    chat.turn("hi")
    chat.turn(answer)
    assert chat.texts == ["Type the numbers.\n\nQuestion?"]
    assert chat.last.question == 1


@pytest.mark.parametrize(("answer", "expected"), [
    ("1", None), ("1, 2, 3", None), ("1, 1", None), ("1, 2", ["sport", "music"]),
])
def test_choices_input_respects_min_and_max(answer: str, expected: list[str] | None) -> None:
    chat = Chat(choices_library("{type: choices, min: 2, max: 2}"))
    chat.turn("hi")
    chat.turn(answer)
    if expected is None:
        assert chat.texts == ["Type the numbers.\n\nQuestion?"]
    assert chat.state.answers.get("child.interests") == expected


def test_choices_with_many_options_reads_numbers_split_by_spaces() -> None:
    options = "\n".join(f"    - {{id: o{i}, label: t.o{i}}}" for i in range(1, 14))
    library = make_library(menu_flow(f"""
- id: q
  ask: t.question
  input: {{type: choices}}
  options:
{options}
  save: picked
"""), texts={f"t.o{i}": f"Option {i}" for i in range(1, 14)})
    chat = Chat(library)
    chat.turn("hi")
    chat.turn("1 3")
    assert chat.state.answers["picked"] == ["o1", "o3"]


@pytest.mark.parametrize(("answer", "code"), [
    ("nl", "nl"), ("NL", "nl"), ("nederlands", "nl"), ("francais", "fr"), ("4", "ar"),
    ("English", "en"),
])
def test_language_input_by_code_name_or_number(answer: str, code: str) -> None:
    chat = Chat(typed("{type: language}", save="language"))
    chat.turn("hi")
    chat.turn(answer)
    assert chat.state.language == code
    assert chat.effects[0] == ContactChanged(code, None)
    assert chat.last.language == code


def test_choosing_a_right_to_left_language_by_button() -> None:
    chat = Chat(typed("{type: language}", save="language"))
    chat.turn("hi")
    chat.press("ar")
    assert chat.state.language == "ar"
    assert chat.last.direction == "rtl"


def test_saving_region_changes_the_contact() -> None:
    chat = Chat(make_library(menu_flow("""
- id: q
  ask: t.question
  options:
    - {id: flanders, label: t.one}
    - {id: finland, label: t.two}
  save: region
""")))
    chat.turn("hi")
    chat.turn("2")
    assert chat.state.region == "finland"
    assert chat.state.answers == {}
    assert chat.effects == [ContactChanged(None, "finland")]


# -- content pages --------------------------------------------------------------------------


def page_library(page: str = "test/long", next_node: bool = False) -> Library:
    nodes = f"""
- id: topics
  ask: t.question
  options:
    - {{id: read, label: t.one, next: page}}
- id: page
  content: {page}
"""
    if next_node:
        nodes += "  next: after\n- id: after\n  say: t.after\n"
    return make_library(menu_flow(nodes))


def test_a_page_is_shown_one_part_at_a_time_with_more_and_main_menu() -> None:
    chat = Chat(page_library())
    chat.turn("hi")
    chat.turn("1")
    assert chat.texts == ["Title\n\nPart one."]
    assert chat.last.choices == (Choice("more", "More"), Choice("menu", "Main menu"))
    first = chat.last.question
    assert first is not None
    chat.turn("more")
    assert chat.texts == ["Part two."]
    assert chat.last.choices == (Choice("more", "More"), Choice("menu", "Main menu"))
    chat.press("more")
    assert chat.texts == ["Part three."]
    assert list(chat.last.choices) == [Choice("menu", "Main menu")]  # the last part
    assert chat.state.waiting
    chat.press("menu")
    assert chat.texts == ["Question?"]
    assert chat.here == Frame("menu", "topics")


def test_page_options_can_be_typed_as_numbers() -> None:
    chat = Chat(page_library())
    chat.turn("hi")
    chat.turn("1")
    chat.turn("1")
    assert chat.texts == ["Part two."]
    chat.turn("2")
    assert chat.texts == ["Question?"]


def test_a_page_with_next_goes_on_after_its_last_part() -> None:
    chat = Chat(page_library(next_node=True))
    chat.turn("hi")
    chat.turn("1")
    chat.turn("more")
    chat.turn("more")
    assert chat.texts == ["Part three.", "After"]
    assert chat.messages[0].choices == ()
    assert chat.state.stack == []


def test_a_one_part_page_with_next_is_shown_without_buttons() -> None:
    chat = Chat(page_library("test/short", next_node=True))
    chat.turn("hi")
    chat.turn("1")
    assert chat.texts == ["Short\n\nOnly part.", "After"]
    assert chat.messages[0].choices == ()


def test_a_wrong_answer_on_a_page_shows_the_part_again() -> None:
    chat = Chat(page_library())
    chat.turn("hi")
    chat.turn("1")
    chat.turn("more")
    chat.turn("banana")
    assert chat.texts == ["Tap a button.", "Part two."]
    assert chat.last.choices == (Choice("more", "More"), Choice("menu", "Main menu"))


def test_a_page_falls_back_to_english() -> None:
    chat = Chat(page_library(), SessionState(consented=True, language="nl"))
    chat.turn("hi")
    chat.turn("1")
    assert chat.texts == ["Title\n\nPart one."]
    assert chat.last.language == "nl"


def test_a_stale_press_on_a_page_keeps_the_pages_buttons_working() -> None:
    chat = Chat(page_library())
    chat.turn("hi")
    chat.turn("1")
    page_question = chat.last.question
    chat.turn(choice="read", question=1)  # an old button
    assert chat.texts == ["That question has passed.", "Title\n\nPart one."]
    assert chat.last.question == page_question


def test_the_page_buttons_still_work_after_a_wrong_answer() -> None:
    chat = Chat(page_library())
    chat.turn("hi")
    chat.turn("1")
    page_question = chat.last.question
    chat.turn("banana")
    chat.turn(choice="more", question=page_question)
    assert chat.texts == ["Part two."]


# -- branch and conditions -------------------------------------------------------------------


@pytest.mark.parametrize(("condition", "variables", "expected"), [
    ({"var": "x", "eq": "a"}, {"x": "a"}, True),
    ({"var": "x", "eq": "a"}, {"x": "b"}, False),
    ({"var": "x", "eq": "a"}, {}, False),
    ({"var": "x", "eq": True}, {"x": True}, True),
    ({"var": "x", "eq": 3}, {"x": 3}, True),
    ({"var": "x", "ne": "a"}, {"x": "b"}, True),
    ({"var": "x", "ne": "a"}, {"x": "a"}, False),
    ({"var": "n", "lt": 5}, {"n": 4}, True),
    ({"var": "n", "lt": 5}, {"n": 5}, False),
    ({"var": "n", "le": 5}, {"n": 5}, True),
    ({"var": "n", "le": 5}, {"n": 6}, False),
    ({"var": "n", "gt": 5}, {"n": 6}, True),
    ({"var": "n", "gt": 5}, {"n": 5}, False),
    ({"var": "n", "ge": 5}, {"n": 5}, True),
    ({"var": "n", "ge": 5}, {"n": 4}, False),
    ({"var": "n", "ge": 0}, {"n": 0}, True),
    ({"var": "n", "lt": 5}, {}, False),  # missing values do not compare
    ({"var": "n", "lt": 5}, {"n": "4"}, False),  # text is not a number
    ({"var": "n", "lt": 5}, {"n": True}, False),  # nor is a yes/no answer
    ({"var": "x", "in": ["a", "b"]}, {"x": "b"}, True),
    ({"var": "x", "in": ["a", "b"]}, {"x": "c"}, False),
    ({"var": "x", "in": ["a", "b"]}, {}, False),
    ({"var": "x", "contains": "b"}, {"x": ["a", "b"]}, True),
    ({"var": "x", "contains": "c"}, {"x": ["a", "b"]}, False),
    ({"var": "x", "contains": "b"}, {"x": "abc"}, False),  # only lists contain
    ({"var": "x", "set": True}, {"x": "a"}, True),
    ({"var": "x", "set": True}, {"x": None}, False),
    ({"var": "x", "set": True}, {}, False),
    ({"var": "x", "set": False}, {}, True),
    ({"var": "x", "set": False}, {"x": 0}, False),
    ({"all": [{"var": "x", "eq": "a"}, {"var": "n", "gt": 1}]}, {"x": "a", "n": 2}, True),
    ({"all": [{"var": "x", "eq": "a"}, {"var": "n", "gt": 1}]}, {"x": "a", "n": 1}, False),
    ({"any": [{"var": "x", "eq": "a"}, {"var": "n", "gt": 1}]}, {"x": "b", "n": 2}, True),
    ({"any": [{"var": "x", "eq": "a"}, {"var": "n", "gt": 1}]}, {"x": "b", "n": 1}, False),
    ({"not": {"var": "x", "eq": "a"}}, {"x": "a"}, False),
    ({"not": {"var": "x", "eq": "a"}}, {"x": "b"}, True),
    ({"all": [{"any": [{"var": "x", "eq": "a"}, {"var": "x", "eq": "b"}]},
              {"not": {"var": "y", "set": True}}]}, {"x": "b"}, True),
    ({"all": []}, {}, True),
    ({"any": []}, {}, False),
])
def test_conditions(condition: dict[str, Any], variables: dict[str, Any],
                    expected: bool) -> None:
    assert holds(Condition.model_validate(condition), variables) is expected


BRANCHES = menu_flow("""
- id: check
  branch:
    - if: {all: [{var: now.year, ge: 2026}, {var: now.month, le: 3}, {var: now.day, eq: 1}]}
      then: spring
    - if: {var: language, eq: nl}
      then: dutch
    - if: {var: region, in: [finland, sweden]}
      then: nordic
    - if: {var: child.interests, contains: music}
      then: music
    - if: {not: {var: child.stage, set: true}}
      then: no_stage
    - if: {any: [{var: child.age, lt: 12}, {var: child.age, gt: 18}]}
      then: age_outside
    - else: other
- id: spring
  say: t.spring
- id: dutch
  say: t.dutch_branch
- id: nordic
  say: t.nordic
- id: music
  say: t.music_branch
- id: no_stage
  say: t.no_stage
- id: age_outside
  say: t.age_outside
- id: other
  say: t.other
""")


@pytest.mark.parametrize(("now", "state", "expected"), [
    (datetime(2026, 3, 1), {}, "spring"),
    (datetime(2027, 1, 1, 23, 59), {}, "spring"),
    (datetime(2026, 3, 2), {"language": "nl"}, "dutch"),
    (datetime(2026, 4, 1), {"region": "finland"}, "nordic"),
    (datetime(2026, 4, 1), {"answers": {"child.interests": ["art", "music"]}}, "music"),
    (datetime(2026, 4, 1), {"answers": {"child.interests": ["art"]}}, "no_stage"),
    (datetime(2025, 3, 1), {}, "no_stage"),
    (datetime(2026, 4, 1), {"answers": {"child.stage": "grade_9", "child.age": 10}},
     "age_outside"),
    (datetime(2026, 4, 1), {"answers": {"child.stage": "grade_9", "child.age": 19}},
     "age_outside"),
    (datetime(2026, 4, 1), {"answers": {"child.stage": "grade_9", "child.age": 14}}, "other"),
    (datetime(2026, 4, 1), {"answers": {"child.stage": "grade_9"}}, "other"),
])
def test_a_branch_takes_the_first_arm_that_holds(now: datetime, state: dict[str, Any],
                                                 expected: str) -> None:
    library = make_library(BRANCHES, texts={
        "t.spring": "spring", "t.dutch_branch": "dutch", "t.nordic": "nordic",
        "t.music_branch": "music", "t.no_stage": "no_stage", "t.age_outside": "age_outside",
        "t.other": "other"})
    chat = Chat(library, SessionState(consented=True, **state), now=now)
    chat.turn("hi")
    assert chat.texts == [expected]


# -- link, call, handoff, do -----------------------------------------------------------------

SUB = """
schema_version: 1
id: sub
start: inside
nodes:
  - id: inside
    say: t.in_sub
"""


def test_call_runs_a_subflow_and_comes_back() -> None:
    chat = Chat(make_library(menu_flow("""
- id: before
  say: t.before
  next: call
- id: call
  call: sub
  next: after
- id: after
  say: t.after
"""), SUB))
    chat.turn("hi")
    assert chat.texts == ["Before", "In the subflow", "After"]
    assert chat.state.stack == []


def test_call_returns_after_a_question_in_the_subflow() -> None:
    chat = Chat(make_library(menu_flow("""
- id: call
  call: asking
  next: after
- id: after
  say: t.after
"""), """
schema_version: 1
id: asking
start: q
nodes:
  - id: q
    ask: t.question
    input: {type: yes_no}
    save: sure
"""))
    chat.turn("hi")
    assert chat.state.stack == [Frame("menu", "after"), Frame("asking", "q")]
    chat.turn("yes")
    assert chat.texts == ["After"]
    assert chat.state.answers == {"sure": True}


def test_link_jumps_for_good_and_drops_the_call_stack() -> None:
    chat = Chat(make_library(menu_flow("""
- id: call
  call: jumper
  next: after
- id: after
  say: t.after
"""), """
schema_version: 1
id: jumper
start: go
nodes:
  - id: go
    link: sub
""", SUB))
    chat.turn("hi")
    assert chat.texts == ["In the subflow"]  # never back to `after`
    assert chat.state.stack == []


def test_link_node_starts_the_other_flow() -> None:
    chat = Chat(make_library(menu_flow("""
- id: hello
  say: t.hello
  next: go
- id: go
  link: questions
""")))
    chat.turn("hi")
    assert chat.texts == ["Hello", "First question?"]
    assert chat.state.stack == [Frame("questions", "q1")]


def test_handoff_emits_handoff_requested_with_context() -> None:
    chat = Chat(make_library(menu_flow("""
- id: stage
  ask: t.question
  options:
    - {id: grade_9, label: t.one}
  save: child.stage
  next: person
- id: person
  handoff: school_choice
  say: t.handoff_opened
  next: after
- id: after
  say: t.after
""")), SessionState(consented=True, region="flanders"))
    chat.turn("hi")
    chat.turn("1")
    assert chat.effects == [
        HandoffRequested(topic="school_choice", flow="menu",
                         context={"stage": "grade_9", "region": "flanders"}),
        Send(OutboundMessage("A person will help you.")),
        Send(OutboundMessage("After")),
    ]


def test_handoff_without_say_sends_nothing() -> None:
    chat = Chat(make_library(menu_flow("""
- id: person
  handoff: other_topic
""")))
    chat.turn("hi")
    assert chat.effects == [HandoffRequested("other_topic", "menu",
                                             {"stage": None, "region": None})]


def do_library(action: str) -> Library:
    return make_library(menu_flow(f"""
- id: act
  do: {action}
  next: after
- id: after
  say: t.after
"""))


def test_do_record_consent() -> None:
    library = make_library(menu_flow("- id: act\n  say: t.hello\n"), ONBOARDING.replace(
        "start: check_language", "start: record"))
    chat = Chat(library, SessionState())
    chat.turn("hi")
    assert chat.effects[0] == ConsentGiven()
    assert chat.state.consented
    assert chat.texts == ["Hello"]  # onboarding links on to the menu


def test_do_opt_out_and_opt_in() -> None:
    chat = Chat(do_library("opt_out"))
    chat.turn("hi")
    assert chat.effects == [OptOut(), Send(OutboundMessage("After"))]
    assert chat.state.opted_out
    chat = Chat(do_library("opt_in"), SessionState(consented=True))
    chat.turn("hi")
    assert chat.effects == [OptIn(), Send(OutboundMessage("After"))]
    assert not chat.state.opted_out


def test_do_reset_answers() -> None:
    chat = Chat(do_library("reset_answers"),
                SessionState(consented=True, region="finland", answers={"a": 1, "b": [2]}))
    chat.turn("hi")
    assert chat.state.answers == {}
    assert chat.state.region == "finland"
    assert chat.texts == ["After"]


def test_do_erase_contact_forgets_everything_but_the_language() -> None:
    state = SessionState(consented=True, language="nl", region="finland", question=7,
                         answers={"child.stage": "grade_9"})
    chat = Chat(do_library("erase_contact"), state)
    chat.turn("hi")
    assert chat.effects == [EraseContact()]  # nothing is left to go on with
    # Everything is forgotten but the language; the question count goes on, so no
    # button sent before the erasure can still be pressed.
    assert chat.state == SessionState(language="nl", question=chat.state.question)
    assert chat.state.question > 7


# -- stale buttons, misses, stuck --------------------------------------------------------------


def test_a_stale_button_says_the_question_passed_and_asks_the_current_one() -> None:
    chat = Chat(make_library())
    chat.turn("hi")
    chat.press("questions")
    assert chat.last.text == "First question?"
    current = chat.last.question
    assert current is not None
    chat.turn(choice="questions", question=current - 1)  # the menu's old button
    assert chat.texts == ["That question has passed.", "First question?"]
    assert chat.last.question == current  # same number: the shown buttons still work
    assert chat.state.question == current
    chat.turn(choice="two", question=current)
    assert chat.state.answers == {"first": "two"}
    assert chat.last.text == "Second question?"


def test_a_button_without_a_question_number_is_stale() -> None:
    chat = Chat(make_library())
    chat.turn("hi")
    chat.turn(choice="questions")
    assert chat.texts == ["That question has passed.", "What would you like to do?"]


def test_a_stale_button_after_the_end_starts_again() -> None:
    chat = Chat(make_library(menu_flow("- id: a\n  say: t.hello\n")))
    chat.turn("hi")
    chat.turn(choice="old", question=99)
    assert chat.texts == ["That question has passed.", "Hello"]


def test_one_miss_reprompts_and_two_misses_open_the_stuck_flow() -> None:
    chat = Chat(make_library())
    chat.turn("hi")
    chat.press("questions")
    question = chat.last.question
    chat.turn("banana")
    assert chat.texts == ["Tap a button.\n\nFirst question?"]
    assert chat.last.question == question
    assert chat.state.misses == 1
    chat.turn("pear")
    assert chat.texts == ["I am not sure I understand."]
    assert chat.state.stack == [Frame("questions", "q1"), Frame("stuck", "offer")]
    assert chat.state.misses == 0
    chat.turn("try again")
    assert chat.texts == ["First question?"]
    assert chat.state.stack == [Frame("questions", "q1")]
    chat.turn("1")
    assert chat.last.text == "Second question?"


def test_the_stuck_flow_offers_a_person() -> None:
    chat = Chat(make_library())
    chat.turn("hi")
    chat.turn("?")
    chat.turn("??")
    chat.press("person")
    assert isinstance(chat.effects[0], HandoffRequested)
    assert chat.texts == ["A person will help you."]


def test_a_good_answer_resets_the_misses() -> None:
    chat = Chat(make_library())
    chat.turn("hi")
    chat.press("questions")
    chat.turn("banana")
    chat.turn("1")
    assert chat.state.misses == 0
    chat.turn("banana")
    assert chat.texts == ["Tap a button.\n\nSecond question?"]


ON_INVALID = menu_flow("""
- id: q
  ask: t.question
  input: {type: integer, min: 1, max: 5}
  save: n
  on_invalid: {say: t.custom_reprompt, retries: 2, then: give_up}
- id: give_up
  say: t.gave_up
""")


def test_on_invalid_say_retries_and_then() -> None:
    chat = Chat(make_library(ON_INVALID))
    chat.turn("hi")
    chat.turn("x")
    assert chat.texts == ["Please, a number.\n\nQuestion?"]
    chat.turn("y")
    assert chat.texts == ["Please, a number.\n\nQuestion?"]
    chat.turn("z")
    assert chat.texts == ["Let us skip this."]
    assert "n" not in chat.state.answers
    assert chat.state.stack == []


def test_on_invalid_retries_default_to_one() -> None:
    chat = Chat(make_library(ON_INVALID.replace("retries: 2, ", "")))
    chat.turn("hi")
    chat.turn("x")
    assert chat.texts == ["Please, a number.\n\nQuestion?"]
    chat.turn("y")
    assert chat.texts == ["Let us skip this."]


# -- global commands ----------------------------------------------------------------------------


def at_second_question(library: Library | None = None,
                       state: SessionState | None = None) -> Chat:
    chat = Chat(library or make_library(), state)
    chat.turn("hi")
    chat.press("questions")
    chat.turn("1")
    assert chat.here == Frame("questions", "q2")
    return chat


@pytest.mark.parametrize("command", ["menu", "MENU", "Main menu!", "/menu", "/menu@WegwijsBot",
                                     " /Menu please"])
def test_menu_command(command: str) -> None:
    chat = at_second_question()
    chat.turn(command)
    assert chat.texts == ["What would you like to do?"]
    assert chat.state.stack == [Frame("menu", "main")]


@pytest.mark.parametrize("command", ["back", "Go back", "/back"])
def test_back_command_returns_to_the_previous_question(command: str) -> None:
    chat = at_second_question()
    chat.turn(command)
    assert chat.texts == ["First question?"]
    assert chat.here == Frame("questions", "q1")
    chat.turn("2")  # answer differently this time
    assert chat.state.answers == {"first": "two"}
    assert chat.last.text == "Second question?"


def test_back_walks_back_through_several_questions_to_the_menu() -> None:
    chat = at_second_question()
    chat.turn("2")
    assert chat.here == Frame("questions", "q3")
    chat.turn("back")
    assert chat.here == Frame("questions", "q2")
    chat.turn("back")
    assert chat.here == Frame("questions", "q1")
    chat.turn("back")
    assert chat.here == Frame("menu", "main")
    chat.turn("back")  # nothing before the first question: the menu
    assert chat.here == Frame("menu", "main")
    assert chat.texts == ["What would you like to do?"]


def test_back_skips_a_finished_command_flow() -> None:
    chat = at_second_question()
    chat.turn("delete my data")
    chat.turn("no")
    assert chat.texts == ["I deleted nothing.", "Second question?"]
    chat.turn("back")
    assert chat.texts == ["First question?"]


@pytest.mark.parametrize("command", ["language", "Change language", "/language"])
def test_language_command_changes_language_and_returns_to_the_question(command: str) -> None:
    chat = at_second_question()
    chat.turn(command)
    assert chat.texts == ["Choose your language"]
    assert chat.state.stack == [Frame("questions", "q2"), Frame("language", "choose")]
    chat.turn("Nederlands")
    assert chat.effects[0] == ContactChanged("nl", None)
    assert chat.texts == ["OK, vanaf nu Nederlands.", "Second question?"]
    assert all(m.language == "nl" for m in chat.messages)
    assert chat.here == Frame("questions", "q2")


@pytest.mark.parametrize("command", ["help", "HELP", "/help", "person", "/person",
                                     "ask a person"])
def test_person_command_hands_off_and_returns_to_the_question(command: str) -> None:
    chat = at_second_question()
    chat.turn(command)
    # The ticket names the flow the parent was in, not the handoff flow itself.
    assert chat.effects[0] == HandoffRequested(
        topic="question", flow="questions", context={"stage": None, "region": None})
    assert chat.texts == ["A person will help you.", "Second question?"]
    assert chat.here == Frame("questions", "q2")


@pytest.mark.parametrize("command", ["stop", "STOP", "/stop", "unsubscribe"])
def test_stop_command_opts_out(command: str) -> None:
    chat = at_second_question()
    chat.turn(command)
    assert chat.effects == [Send(OutboundMessage("No more messages.")), OptOut()]
    assert chat.state.opted_out
    assert chat.state.stack == []


@pytest.mark.parametrize("command", ["start", "/start", "Subscribe"])
def test_start_command_starts_again(command: str) -> None:
    chat = at_second_question()
    chat.turn(command)
    assert chat.texts == ["What would you like to do?"]
    assert chat.state.stack == [Frame("menu", "main")]
    chat = Chat(make_library(), SessionState())
    chat.turn(command)
    assert chat.texts == ["Choose your language"]


def test_stop_silences_everything_until_start() -> None:
    chat = at_second_question()
    chat.turn("stop")
    stopped = chat.state
    for text in ["hello", "menu", "/menu", "help", "/help", "back", "language", "1"]:
        assert chat.turn(text) == []
        assert chat.state == stopped
    assert chat.turn(choice="one", question=chat.state.question) == []
    assert chat.turn(choice="one", question=1) == []
    chat.turn("start")
    assert chat.effects[0] == OptIn()
    assert chat.texts == ["What would you like to do?"]
    assert not chat.state.opted_out


def test_an_opted_out_parent_can_still_delete_their_data() -> None:
    chat = at_second_question()
    chat.turn("stop")
    chat.turn("delete my data")
    assert chat.texts == ["Delete everything?"]
    chat.turn("yes")
    assert EraseContact() in chat.effects


def test_slash_start_also_ends_the_silence() -> None:
    chat = at_second_question()
    chat.turn("/stop")
    chat.turn("/start")
    assert chat.effects[0] == OptIn()
    assert chat.texts == ["What would you like to do?"]


@pytest.mark.parametrize("command", ["delete my data", "Delete", "/delete", "erase my data"])
def test_delete_needs_a_yes_and_then_erases(command: str) -> None:
    chat = at_second_question(state=SessionState(consented=True, language="nl"))
    chat.turn(command)
    assert chat.texts == ["Delete everything?"]
    assert chat.last.choices == (Choice("yes", "Ja"), Choice("no", "Nee"))
    assert not any(isinstance(e, EraseContact) for e in chat.effects)
    chat.turn("ja")
    assert chat.texts == ["I deleted your data."]
    assert EraseContact() in chat.effects
    assert chat.state == SessionState(language="nl", question=chat.state.question)
    chat.turn("hello")  # a new start: consent is asked again
    assert chat.texts == ["Is that OK?"]


@pytest.mark.parametrize("answer", [{"text": "no"}, {"text": "not now"}, {"choice": "no"}])
def test_delete_answered_no_keeps_everything(answer: dict[str, str]) -> None:
    chat = at_second_question()
    kept = chat.state.answers
    chat.turn("delete my data")
    if "choice" in answer:
        chat.press(answer["choice"])
    else:
        chat.turn(answer["text"])
    assert not any(isinstance(e, EraseContact) for e in chat.effects)
    assert chat.texts == ["I deleted nothing.", "Second question?"]
    assert chat.state.answers == {**kept, "erase.confirmed": False}
    assert chat.state.consented


def test_delete_reprompts_for_anything_but_yes_or_no() -> None:
    chat = at_second_question()
    chat.turn("delete my data")
    chat.turn("maybe")
    assert chat.texts == ["Answer yes or no.\n\nDelete everything?"]
    assert not any(isinstance(e, EraseContact) for e in chat.effects)


def test_commands_in_the_parents_language_and_in_english() -> None:
    chat = at_second_question(state=SessionState(consented=True, language="nl"))
    chat.turn("hoofdmenu")
    assert chat.texts == ["Wat wil je doen?"]
    chat = at_second_question(state=SessionState(consented=True, language="nl"))
    chat.turn("terug")
    assert chat.here == Frame("questions", "q1")
    chat = at_second_question(state=SessionState(consented=True, language="nl"))
    chat.turn("menu")  # English always works
    assert chat.texts == ["Wat wil je doen?"]


@pytest.mark.parametrize("text", ["/nonsense", "/", "menu please", "please stop now"])
def test_unknown_commands_are_ordinary_answers(text: str) -> None:
    chat = at_second_question()
    chat.turn(text)
    assert chat.texts == ["Tap a button.\n\nSecond question?"]


# -- state, determinism, limits -------------------------------------------------------------------


def test_a_long_conversation_round_trips_through_json_at_every_step() -> None:
    # Chat.turn checks the JSON round trip, determinism and that the input state is
    # left alone after every single turn; this walks through most features.
    chat = Chat(make_library(), SessionState())
    steps: list[dict[str, Any]] = [
        {"text": "hello"}, {"text": "nederlands"}, {"choice": "agree"},
        {"text": "1"}, {"text": "2"}, {"text": "back"}, {"text": "1"},
        {"text": "banana"}, {"text": "13"}, {"text": "7"},
        {"text": "menu"}, {"text": "2"}, {"text": "more"}, {"choice": "more"},
        {"text": "/language"}, {"text": "fr"}, {"choice": "menu"},
        {"text": "help"}, {"choice": "questions", "stale": True}, {"text": "x"},
        {"text": "y"}, {"text": "try again"}, {"text": "two"}, {"text": "/stop"},
        {"text": "hello"}, {"text": "/start"}, {"text": "delete my data"}, {"text": "no"},
        {"text": "/delete"}, {"text": "yes"}, {"text": "hi"},
    ]
    for step in steps:
        if "choice" in step and step.get("stale"):
            chat.turn(choice=step["choice"], question=0)
        elif "choice" in step:
            chat.press(step["choice"])
        else:
            chat.turn(step["text"])
        assert chat.effects or chat.state.opted_out
    assert chat.state.language == "fr"
    assert not chat.state.consented  # the data was erased; consent is asked again
    assert chat.texts == ["Is that OK?"]


def test_advance_is_deterministic_and_leaves_its_input_alone(small_library: Library) -> None:
    state = SessionState(consented=True, language="nl", answers={"x": [1, 2]})
    frozen = json.dumps(state.to_json(), sort_keys=True)
    first = advance(small_library, state, Event(text="hi"), NOW)
    second = advance(small_library, state, Event(text="hi"), NOW)
    assert first == second
    assert first.state is not state
    assert json.dumps(state.to_json(), sort_keys=True) == frozen


def test_session_state_round_trips_through_json() -> None:
    state = SessionState(language="ar", region="finland", consented=True, opted_out=False,
                         stack=[Frame("menu", "after"), Frame("sub", "q")], waiting=True,
                         question=9, page_part=2, misses=1,
                         answers={"child.stage": "grade_9", "n": 3, "ok": True, "l": ["a"]},
                         history=[[Frame("menu", "main")], [Frame("sub", "q")]])
    assert SessionState.from_json(json.loads(json.dumps(state.to_json()))) == state
    assert state.copy() == state
    assert state.copy() is not state


LOOP = menu_flow("""
- id: a
  say: t.hello
  next: b
- id: b
  say: t.again
  next: a
""")


def test_a_loop_hits_the_step_limit_and_says_error_without_raising() -> None:
    chat = Chat(make_library(LOOP))
    chat.turn("hi")
    assert chat.texts == ["Something went wrong."]  # the loop's own messages are dropped
    assert chat.state.stack == []
    assert not chat.state.waiting
    chat.turn("menu")  # the next turn does not crash either
    assert chat.texts == ["Something went wrong."]


def test_a_loop_after_an_answer_keeps_the_state_from_before_the_turn() -> None:
    library = make_library(menu_flow("""
- id: q
  ask: t.question
  input: {type: yes_no}
  save: sure
  next: a
- id: a
  say: t.hello
  next: b
- id: b
  say: t.again
  next: a
"""))
    chat = Chat(library)
    chat.turn("hi")
    chat.turn("yes")
    assert chat.texts == ["Something went wrong."]
    assert "sure" not in chat.state.answers
    assert chat.state.stack == []


def test_a_long_but_finite_chain_is_fine() -> None:
    count = MAX_STEPS_PER_TURN // 2
    nodes = "".join(f"- id: s{i}\n  say: t.hello\n  next: s{i + 1}\n" for i in range(count))
    nodes += f"- id: s{count}\n  end: true\n"
    chat = Chat(make_library(menu_flow(nodes)))
    chat.turn("hi")
    assert chat.texts == ["Hello"] * count


# -- the real flows -----------------------------------------------------------------------------


def test_the_real_onboarding_reaches_the_menu() -> None:
    from bot.library import ContentRoot, load_library

    chat = Chat(load_library(ContentRoot.at(ROOT)), SessionState())
    chat.turn("Hello")
    assert chat.here == Frame("onboarding", "choose_language")
    chat.turn("English")
    assert chat.state.language == "en"
    chat.press("agree")
    assert chat.state.consented
    chat.press("flanders")
    assert chat.state.region == "flanders"
    chat.turn("2")
    assert chat.state.answers["child.stage"] == "primary_6"
    assert chat.here == Frame("menu", "main")
