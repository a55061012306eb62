"""Loading flow files: schema and graph validation with file:line:col for every error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.engine.model import NODE_KINDS, Flow, FlowHeader, Node
from bot.flows.errors import FlowError, FlowErrors, Location
from bot.flows.located import Located, parse_yaml, read_text

# Fields whose string value names another node, a flow, a text key or a content page.
NODE_FIELDS = frozenset({"next", "then", "else"})
FLOW_FIELDS = frozenset({"link", "call"})
TEXT_FIELDS = frozenset({"say", "ask", "label", "end"})
PAGE_FIELDS = frozenset({"content"})
SCORING_FIELDS = frozenset({"score"})
KIND_KEYS = ", ".join(kind for kind, _ in NODE_KINDS)
DataPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Reference:
    """A flow's use of something defined elsewhere: a flow, a text key or a page."""

    kind: str  # "flow", "text", "page" or "scoring"
    name: str
    location: Location
    flow: str
    node: str | None


@dataclass(frozen=True)
class LoadedFlows:
    """Flows by id, plus what they refer to outside themselves (checked by the caller)."""

    flows: dict[str, Flow]
    references: list[Reference]


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named by `paths` (folders are searched recursively), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return sorted(found)


def load_flows(paths: Iterable[Path]) -> LoadedFlows:
    """Load and check every flow file; raise FlowErrors listing all problems found."""
    flows: dict[str, Flow] = {}
    references: list[Reference] = []
    errors: list[FlowError] = []
    for path in flow_files(paths):
        try:
            flow, refs = load_flow_file(path)
        except FlowErrors as exc:
            errors.extend(exc.errors)
            continue
        if flow.id in flows:
            errors.append(FlowError(Location(str(path)), f"duplicate flow id {flow.id!r}: it "
                                    f"is also used in {flows[flow.id].source}", flow.id))
            continue
        flows[flow.id] = flow
        references.extend(refs)
    if errors:
        raise FlowErrors(errors)
    return LoadedFlows(flows, references)


def load_flow_file(path: Path) -> tuple[Flow, list[Reference]]:
    """Load one flow file: YAML, schema, node kinds, duplicate ids and graph."""
    file = str(path)
    doc = parse_yaml(read_text(file), file)
    if not isinstance(doc.value, dict):
        raise FlowErrors([FlowError(doc.at(()), "a flow file must be a mapping with "
                                    "schema_version, id, start and nodes")])
    errors: list[FlowError] = []
    header = _validate(FlowHeader, doc.value, doc, (), errors, None, None)
    if header is None:
        raise FlowErrors(errors)
    assert isinstance(header, FlowHeader)
    nodes: dict[str, Node] = {}
    raw_by_id: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, raw in enumerate(header.nodes):
        node = _node(raw, index, doc, header.id, errors)
        if node is None:
            continue
        if node.id in nodes:
            errors.append(FlowError(doc.at(("nodes", index, "id")),
                                    f"duplicate node id {node.id!r}: give each node its own id",
                                    header.id, node.id))
            continue
        nodes[node.id] = node
        raw_by_id[node.id] = (index, raw)
    if errors:
        raise FlowErrors(errors)
    references = _check_graph(header, raw_by_id, doc, errors)
    if errors:
        raise FlowErrors(errors)
    return Flow(id=header.id, start=header.start, nodes=nodes, source=file), references


def _node(raw: Any, index: int, doc: Located, flow_id: str,
          errors: list[FlowError]) -> Node | None:
    path = ("nodes", index)
    if not isinstance(raw, dict):
        errors.append(FlowError(doc.at(path), "a node must be a mapping with an id and "
                                f"one of: {KIND_KEYS}", flow_id))
        return None
    node_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    model = next((model for kind, model in NODE_KINDS if kind in raw), None)
    if model is None:
        errors.append(FlowError(doc.at(path), f"this node has no kind: add one of {KIND_KEYS}",
                                flow_id, node_id))
        return None
    return _validate(model, raw, doc, path, errors, flow_id, node_id)  # type: ignore[return-value]


def _validate(model: type[BaseModel], raw: dict[str, Any], doc: Located,
              path: tuple[str | int, ...], errors: list[FlowError], flow_id: str | None,
              node_id: str | None) -> BaseModel | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        seen: set[tuple[str | int, ...]] = set()
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if part in _keys_along(raw, error["loc"]))
            if loc in seen:
                continue  # one message per place is enough (unions repeat themselves)
            seen.add(loc)
            full = (*path, *loc)
            kind = error["type"]
            if kind == "extra_forbidden":
                message = f"unknown field {loc[-1]!r}: check its spelling or remove it"
                where = doc.at(full, key=True)
            elif kind == "missing":
                message = f"missing field {loc[-1]!r}: add it"
                where = doc.at(full[:-1])
            else:
                text = str(error["msg"]).removeprefix("Value error, ")
                field = f"{loc[-1]}: " if loc and isinstance(loc[-1], str) else ""
                message = f"{field}{text}"
                where = doc.at(full)
            errors.append(FlowError(where, message, flow_id, node_id))
        return None


def _keys_along(raw: Any, loc: tuple[str | int, ...]) -> set[str | int]:
    """The parts of a pydantic error location that exist in the data (drops union tags)."""
    present: set[str | int] = set()
    value = raw
    for part in loc:
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if in_list or (isinstance(value, dict) and part in value):
            present.add(part)
            value = value[part]
        elif isinstance(value, dict) and isinstance(part, str) and part not in value:
            present.add(part)  # a missing or unknown field: keep its name for the message
            break
        else:
            break
    return present


def _walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, str, DataPath]]:
    """(field, value, path) for every string field in a node's data."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield key, item, (*path, key)
            else:
                yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def _check_graph(header: FlowHeader, raw_by_id: dict[str, tuple[int, dict[str, Any]]],
                 doc: Located, errors: list[FlowError]) -> list[Reference]:
    references: list[Reference] = []
    edges: dict[str, list[str]] = {}
    for node_id, (index, raw) in raw_by_id.items():
        edges[node_id] = []
        for field, value, path in _walk(raw, ("nodes", index)):
            where = doc.at(path)
            if field in NODE_FIELDS:
                if value not in raw_by_id:
                    errors.append(FlowError(where, f"unknown target {value!r}: no node in this "
                                            "flow has that id", header.id, node_id))
                edges[node_id].append(value)
            elif field in FLOW_FIELDS:
                references.append(Reference("flow", value, where, header.id, node_id))
            elif field in TEXT_FIELDS:
                references.append(Reference("text", value, where, header.id, node_id))
            elif field in PAGE_FIELDS:
                references.append(Reference("page", value, where, header.id, node_id))
            elif field in SCORING_FIELDS:
                references.append(Reference("scoring", value, where, header.id, node_id))
    if header.start not in raw_by_id:
        errors.append(FlowError(doc.at(("start",)), f"unknown start node {header.start!r}",
                                header.id))
        return references
    reached = {header.start}
    todo = [header.start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target in raw_by_id and target not in reached:
                reached.add(target)
                todo.append(target)
    for node_id, (index, _) in raw_by_id.items():
        if node_id not in reached:
            errors.append(FlowError(doc.at(("nodes", index)), f"node {node_id!r} is never "
                                    "reached: point a next/option/branch at it, or remove it",
                                    header.id, node_id))
    return references
