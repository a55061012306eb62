"""The flow format v1 as typed, immutable models.

Each node kind is its own model with `extra="forbid"`, so a misspelt field is an
error instead of being ignored. The loader in `bot.flows` picks the kind from the
node's kind key and maps validation errors back to YAML lines and columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
TextKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=120)]
VarName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=80)]
PageId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*$", max_length=120)]
Scalar = str | int | bool


class _Strict(BaseModel):
    # Aliases only: `else_` or `in_` in a flow file must be an unknown field.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """A structured condition on saved answers: one test, or all/any/not of others.

    Comparisons are plain data, never code: `{var: child.stage, eq: grade_9}`.
    """

    var: VarName | None = None
    eq: Scalar | None = None
    ne: Scalar | None = None
    lt: int | None = None
    le: int | None = None
    gt: int | None = None
    ge: int | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    contains: Scalar | None = None
    is_set: bool | None = Field(default=None, alias="set")
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = ("eq", "ne", "lt", "le", "gt", "ge", "in_", "contains", "is_set")
        used = [name for name in tests if getattr(self, name) is not None]
        groups = [name for name in ("all", "any", "not_") if getattr(self, name) is not None]
        if groups:
            if self.var is not None or used or len(groups) > 1:
                raise ValueError("use one of all/any/not alone, without var")
            return self
        if self.var is None:
            raise ValueError("a condition needs var plus one test (eq, ne, lt, le, gt, ge, "
                             "in, contains, set), or all/any/not")
        if len(used) != 1:
            raise ValueError("give exactly one test next to var: eq, ne, lt, le, gt, ge, "
                             "in, contains or set")
        return self


class Option(_Strict):
    """An answer option: a button on Telegram, a numbered line on WhatsApp."""

    id: Identifier
    label: TextKey
    next: Identifier | None = None
    link: Identifier | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Option:
        if self.next is not None and self.link is not None:
            raise ValueError("an option goes to `next` (a node) or `link` (a flow), not both")
        return self


InputType = Literal["text", "integer", "yes_no", "date", "choices", "language"]


class InputSpec(_Strict):
    """Typed input: free text, whole number in a range, yes/no, date, several choices,
    or the parent's language (options made from the shipped languages)."""

    type: InputType
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _range_fits(self) -> InputSpec:
        if self.type not in ("integer", "text", "choices") and (
            self.min is not None or self.max is not None
        ):
            raise ValueError(f"min/max do not apply to input type {self.type!r}")
        if self.type == "integer" and (self.min is None or self.max is None):
            raise ValueError("a whole-number input needs min and max (the re-prompt names them)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class OnInvalid(_Strict):
    """What to do with an answer that does not fit: re-prompt, then give up."""

    say: TextKey | None = None
    retries: int = Field(default=1, ge=1, le=5)
    then: Identifier | None = None


class _Node(_Strict):
    id: Identifier


class SayNode(_Node):
    """Send a text, then go on."""

    say: TextKey
    next: Identifier | None = None


class AskNode(_Node):
    """Ask a question with options or typed input, and wait for the answer."""

    ask: TextKey
    options: list[Option] | None = None
    input: InputSpec | None = None
    save: VarName | None = None
    next: Identifier | None = None
    on_invalid: OnInvalid | None = None

    @model_validator(mode="after")
    def _options_or_input(self) -> AskNode:
        kind = self.input.type if self.input else None
        if kind == "choices":
            if not self.options:
                raise ValueError("input type 'choices' needs a list of options")
        elif self.options is not None and self.input is not None:
            raise ValueError("an ask has options or input, not both (except input type choices)")
        elif self.options is None and self.input is None:
            raise ValueError("an ask needs options or input")
        if self.options is not None and not self.options:
            raise ValueError("options must not be empty")
        if self.input is not None and self.save is None and kind != "language":
            raise ValueError("typed input needs `save: <variable>` to keep the answer")
        return self


class ContentNode(_Node):
    """Show a content page, one phone-sized message at a time."""

    content: PageId
    next: Identifier | None = None


class BranchArm(_Strict):
    """One arm of a branch: `if` + `then`, or a final `else`."""

    if_: Condition | None = Field(default=None, alias="if")
    then: Identifier | None = None
    else_: Identifier | None = Field(default=None, alias="else")

    @model_validator(mode="after")
    def _shape(self) -> BranchArm:
        if self.else_ is not None:
            if self.if_ is not None or self.then is not None:
                raise ValueError("an `else` arm stands alone")
        elif self.if_ is None or self.then is None:
            raise ValueError("an arm needs `if` and `then`, or `else`")
        return self

    @property
    def target(self) -> str:
        """The node this arm goes to."""
        return self.then if self.then is not None else str(self.else_)


class BranchNode(_Node):
    """Go to the first arm whose condition holds."""

    branch: list[BranchArm] = Field(min_length=1)

    @model_validator(mode="after")
    def _else_last(self) -> BranchNode:
        if self.branch[-1].else_ is None:
            raise ValueError("a branch must end with an `else` arm")
        if any(arm.else_ is not None for arm in self.branch[:-1]):
            raise ValueError("only the last arm may be `else`")
        return self


class LinkNode(_Node):
    """Jump to another flow for good (the call stack is dropped)."""

    link: Identifier


class CallNode(_Node):
    """Run another flow as a subflow, then come back to `next`."""

    call: Identifier
    next: Identifier | None = None


class HandoffNode(_Node):
    """Ask a person to take over: the host opens a ticket for `handoff` (a topic)."""

    handoff: Identifier
    say: TextKey | None = None
    next: Identifier | None = None


Action = Literal["record_consent", "opt_out", "opt_in", "erase_contact", "reset_answers",
                 "accept_language_guess", "reject_language_guess", "show_helplines"]


class DoNode(_Node):
    """Perform a built-in action (record consent, opt out, erase data, ...)."""

    do: Action
    next: Identifier | None = None


class ScoreNode(_Node):
    """Add up answers with a scoring table and save the best areas, best first."""

    score: Identifier
    save: VarName
    top: int = Field(default=3, ge=1, le=10)
    next: Identifier | None = None


class EndNode(_Node):
    """End the conversation, optionally with a last text. The call stack is dropped."""

    end: TextKey | Literal[True]


Node = (
    SayNode | AskNode | ContentNode | BranchNode | LinkNode | CallNode | HandoffNode | DoNode
    | ScoreNode | EndNode
)

# The key that tells a node's kind, in the order the loader tries them. `say` comes
# after `ask` and `handoff`, which may carry a `say` of their own.
NODE_KINDS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("ask", AskNode),
    ("content", ContentNode),
    ("branch", BranchNode),
    ("link", LinkNode),
    ("call", CallNode),
    ("handoff", HandoffNode),
    ("do", DoNode),
    ("score", ScoreNode),
    ("end", EndNode),
    ("say", SayNode),
)


class FlowHeader(_Strict):
    """The top level of a flow file; its nodes are validated one kind at a time."""

    schema_version: Literal[1]
    id: Identifier
    start: Identifier
    description: str | None = None
    nodes: list[Any] = Field(min_length=1)


@dataclass(frozen=True)
class Flow:
    """One validated conversation flow: an id, a start node and its nodes by id."""

    id: str
    start: str
    nodes: Mapping[str, Node]
    source: str = ""

    def node(self, node_id: str) -> Node:
        """Return the node with this id (the loader guarantees it exists)."""
        return self.nodes[node_id]
