"""YAML to plain Python values, remembering where every value and key came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from bot.flows.errors import FlowError, FlowErrors, Location

Path = tuple[str | int, ...]


@dataclass
class Located:
    """A YAML document as plain values plus the location of each path in it."""

    value: Any
    file: str
    values: dict[Path, Location] = field(default_factory=dict)
    keys: dict[Path, Location] = field(default_factory=dict)

    def at(self, path: Sequence[str | int], *, key: bool = False) -> Location:
        """Where `path` is written: its key if asked and known, else its value, else its
        nearest known parent."""
        trail = tuple(path)
        while True:
            if key and trail in self.keys:
                return self.keys[trail]
            if trail in self.values:
                return self.values[trail]
            if not trail:
                return Location(self.file)
            trail = trail[:-1]


def _location(file: str, mark: yaml.Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def parse_yaml(text: str, file: str) -> Located:
    """Parse one YAML document; syntax errors and duplicate keys raise FlowErrors."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (e.g. a control character): it knows where.
        where = _offset_location(file, text, exc.position)
        raise FlowErrors([FlowError(where, f"character {exc.character!r} is not allowed "
                                    "here: remove it")]) from exc
    except RecursionError as exc:
        raise FlowErrors([FlowError(Location(file), "the file nests too deeply to be a "
                                    "flow")]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _location(file, mark) if mark is not None else Location(file)
        problem = exc.problem or exc.context or "invalid YAML"
        raise FlowErrors([FlowError(where, f"YAML syntax error: {problem}")]) from exc
    except yaml.YAMLError as exc:
        raise FlowErrors([FlowError(Location(file), f"YAML error: {exc}")]) from exc
    located = Located(None, file)
    if node is None:
        return located
    errors: list[FlowError] = []
    try:
        located.value = _convert(node, (), located, errors, SafeConstructor(), set())
    except RecursionError as exc:
        raise FlowErrors([FlowError(Location(file), "the file nests too deeply to be a "
                                    "flow")]) from exc
    if errors:
        raise FlowErrors(errors)
    return located


def _offset_location(file: str, text: str, offset: int) -> Location:
    line = text.count("\n", 0, offset) + 1
    return Location(file, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _convert(node: yaml.Node, path: Path, located: Located, errors: list[FlowError],
             constructor: SafeConstructor, open_nodes: set[int]) -> Any:
    located.values[path] = _location(located.file, node.start_mark)
    if id(node) in open_nodes:
        errors.append(FlowError(located.values[path], "an alias refers to itself: remove it"))
        return None
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        open_nodes = open_nodes | {id(node)}
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_where = _location(located.file, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append(FlowError(key_where, "a key must be plain text"))
                continue
            key = str(key_node.value)
            if key in result:
                errors.append(FlowError(key_where, f"duplicate key {key!r}: remove one of them"))
                continue
            located.keys[(*path, key)] = key_where
            result[key] = _convert(value_node, (*path, key), located, errors, constructor,
                                   open_nodes)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, index), located, errors, constructor, open_nodes)
                for index, item in enumerate(node.value)]
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        where = _location(located.file, node.start_mark)
        errors.append(FlowError(where, f"cannot read this value: {exc}"))
        return None


def read_text(path: str) -> str:
    """A file's text as UTF-8; unreadable files raise FlowErrors with a location."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise FlowErrors([FlowError(Location(path), f"cannot read file: {exc.strerror}")]) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FlowErrors([FlowError(Location(path, line, column),
                                    "the file is not UTF-8 text: save it as UTF-8")]) from exc
