"""Loading flow files: every problem is reported with file, line, column, flow and node.

The tables below write a small flow file into tmp_path and compare the FlowErrors it
raises with what is expected. Line and column count from 1; for an unknown field the
location is the misspelt key itself, for everything else the value at fault.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from bot.engine.runner import ENGINE_KEYS, REQUIRED_FLOWS
from bot.flows import FlowError, FlowErrors, Location, load_flow_file, load_flows
from bot.library import ContentRoot, load_library

ROOT = Path(__file__).parents[1]

# Four header lines, so the first node starts on line 5.
HEAD = "schema_version: 1\nid: demo\nstart: a\nnodes:\n"


class Expected(NamedTuple):
    line: int
    column: int
    flow: str | None
    node: str | None
    fragment: str


def errors_of(path: Path) -> list[FlowError]:
    with pytest.raises(FlowErrors) as info:
        load_flow_file(path)
    return info.value.errors


def check(errors: list[FlowError], path: Path, expected: list[Expected]) -> None:
    got = [(e.location.file, e.location.line, e.location.column, e.flow, e.node)
           for e in errors]
    assert got == [(str(path), x.line, x.column, x.flow, x.node) for x in expected], errors
    for error, want in zip(errors, expected, strict=True):
        assert want.fragment in error.message


# -- YAML and file level ------------------------------------------------------------------------

FILE_CASES = [
    pytest.param(HEAD + "  - id: a\n   say: demo.hello\n",
                 [Expected(6, 4, None, None, "YAML syntax error")], id="yaml-syntax-indent"),
    pytest.param(HEAD + "  - id: a\n    say: demo.hello\n    next: [b\n",
                 [Expected(8, 1, None, None, "YAML syntax error")], id="yaml-syntax-unclosed"),
    pytest.param(HEAD + "  - id: a\n\tsay: demo.hello\n",
                 [Expected(6, 1, None, None, "YAML syntax error")], id="yaml-syntax-tab"),
    pytest.param("schema_version: 1\n---\nid: demo\n",
                 [Expected(2, 1, None, None, "YAML syntax error")], id="two-documents"),
    pytest.param(HEAD + "  - id: a\n    say: demo.hello\n    say: demo.other\n",
                 [Expected(7, 5, None, None, "duplicate key 'say'")], id="duplicate-key"),
    pytest.param("schema_version: 1\nid: demo\nid: other\nstart: a\n",
                 [Expected(3, 1, None, None, "duplicate key 'id'")], id="duplicate-top-key"),
    pytest.param(b"schema_version: 1\nid: d\xffemo\n",
                 [Expected(2, 6, None, None, "not UTF-8")], id="not-utf8"),
    pytest.param(b"\xfe\xff\x00s\x00c",
                 [Expected(1, 1, None, None, "not UTF-8")], id="utf16-bom"),
    pytest.param("- id: a\n- id: b\n",
                 [Expected(1, 1, None, None, "must be a mapping")], id="top-level-list"),
    pytest.param("just some text\n",
                 [Expected(1, 1, None, None, "must be a mapping")], id="top-level-scalar"),
    pytest.param("", [Expected(1, 1, None, None, "must be a mapping")], id="empty-file"),
    pytest.param("id: demo\nstart: a\nnodes:\n  - id: a\n    end: true\n",
                 [Expected(1, 1, None, None, "missing field 'schema_version'")],
                 id="missing-schema-version"),
    pytest.param("schema_version: 2\nid: demo\nstart: a\nnodes:\n  - id: a\n    end: true\n",
                 [Expected(1, 17, None, None, "schema_version: Input should be 1")],
                 id="schema-version-2"),
    pytest.param("schema_version: 1\nid: demo\nnodes:\n  - id: a\n    end: true\n",
                 [Expected(1, 1, None, None, "missing field 'start'")], id="missing-start"),
    pytest.param("schema_version: 1\nid: demo\nstart: a\nnodes: []\n",
                 [Expected(4, 8, None, None, "at least 1 item")], id="no-nodes"),
    pytest.param("schema_version: 1\nid: Demo Flow\nstart: a\nnodes:\n  - id: a\n    end: true\n",
                 [Expected(2, 5, None, None, "id: String should match pattern")],
                 id="bad-flow-id"),
    pytest.param("schema_version: 1\nid: demo\nstrat: a\nstart: a\nnodes:\n  - id: a\n"
                 "    end: true\n",
                 [Expected(3, 1, None, None, "unknown field 'strat'")],
                 id="unknown-field-flow-level"),
]


@pytest.mark.parametrize(("text", "expected"), FILE_CASES)
def test_file_level_errors(tmp_path: Path, text: str | bytes, expected: list[Expected]) -> None:
    path = tmp_path / "demo.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    check(errors_of(path), path, expected)


# -- nodes --------------------------------------------------------------------------------------

NODE_CASES = [
    pytest.param("  - id: a\n    say: demo.hello\n    nxt: b\n",
                 [Expected(7, 5, "demo", "a", "unknown field 'nxt'")],
                 id="unknown-field-in-node"),
    pytest.param("  - id: a\n    ask: demo.q\n    options:\n      - id: one\n"
                 "        lable: demo.one\n        label: demo.one\n",
                 [Expected(9, 9, "demo", "a", "unknown field 'lable'")],
                 id="unknown-field-in-option"),
    pytest.param("  - id: a\n    ask: demo.q\n    options:\n"
                 "      - {id: one, label: demo.one, nxet: a}\n",
                 [Expected(8, 36, "demo", "a", "unknown field 'nxet'")],
                 id="unknown-field-in-flow-style-option"),
    pytest.param("  - id: a\n    ask: demo.q\n    input: {type: text, mni: 1}\n    save: x\n",
                 [Expected(7, 25, "demo", "a", "unknown field 'mni'")],
                 id="unknown-field-in-input"),
    pytest.param("  - id: a\n    next: a\n",
                 [Expected(5, 5, "demo", "a", "has no kind: add one of ask")], id="no-kind"),
    pytest.param("  - just text\n",
                 [Expected(5, 5, "demo", None, "a node must be a mapping")], id="node-not-mapping"),
    pytest.param("  - id: A\n    end: true\n",
                 [Expected(5, 9, "demo", "A", "id: String should match pattern")],
                 id="bad-node-id"),
    pytest.param("  - id: a\n    say: demo.hello\n    next: a\n  - id: a\n    end: true\n",
                 [Expected(8, 9, "demo", "a", "duplicate node id 'a'")], id="duplicate-node-id"),
    pytest.param("  - id: a\n    say: Hello there\n",
                 [Expected(6, 10, "demo", "a", "say: String should match pattern")],
                 id="text-instead-of-key"),
    pytest.param("  - id: a\n    do: launch_rockets\n",
                 [Expected(6, 9, "demo", "a", "do: Input should be 'record_consent'")],
                 id="unknown-action"),
    pytest.param("  - id: a\n    ask: demo.q\n    options:\n      - id: one\n        next: a\n",
                 [Expected(8, 9, "demo", "a", "missing field 'label'")], id="option-without-label"),
    pytest.param("  - id: a\n    ask: demo.q\n    options:\n"
                 "      - {id: one, label: demo.one, next: a, link: menu}\n",
                 [Expected(8, 9, "demo", "a", "`next` (a node) or `link` (a flow), not both")],
                 id="option-next-and-link"),
    pytest.param("  - id: a\n    ask: demo.q\n    options:\n      - {id: yes, label: demo.yes}\n",
                 [Expected(8, 14, "demo", "a", "id: Input should be a valid string")],
                 id="option-id-yes-is-a-boolean"),
    pytest.param("  - id: a\n    ask: demo.q\n    options: []\n",
                 [Expected(5, 5, "demo", "a", "options must not be empty")], id="empty-options"),
    pytest.param("  - id: a\n    ask: demo.q\n",
                 [Expected(5, 5, "demo", "a", "an ask needs options or input")],
                 id="ask-without-answers"),
    pytest.param("  - id: a\n    ask: demo.q\n    options:\n      - {id: one, label: demo.one}\n"
                 "    input: {type: text}\n    save: x\n",
                 [Expected(5, 5, "demo", "a", "options or input, not both")],
                 id="options-and-input"),
    pytest.param("  - id: a\n    ask: demo.q\n    input: {type: integer, min: 5, max: 1}\n"
                 "    save: n\n",
                 [Expected(7, 12, "demo", "a", "input: min (5) is greater than max (1)")],
                 id="input-min-greater-than-max"),
    pytest.param("  - id: a\n    ask: demo.q\n    input: {type: yes_no, min: 1}\n    save: n\n",
                 [Expected(7, 12, "demo", "a", "min/max do not apply to input type 'yes_no'")],
                 id="input-min-on-yes-no"),
    pytest.param("  - id: a\n    ask: demo.q\n    input: {type: date}\n",
                 [Expected(5, 5, "demo", "a", "typed input needs `save: <variable>`")],
                 id="typed-input-without-save"),
    pytest.param("  - id: a\n    ask: demo.q\n    input: {type: choices}\n    save: n\n",
                 [Expected(5, 5, "demo", "a", "input type 'choices' needs a list of options")],
                 id="choices-without-options"),
    pytest.param("  - id: a\n    ask: demo.q\n    input: {type: number}\n    save: n\n",
                 [Expected(7, 19, "demo", "a", "type: Input should be 'text'")],
                 id="unknown-input-type"),
    pytest.param("  - id: a\n    ask: demo.q\n    input: {type: text}\n    save: x\n"
                 "    on_invalid: {retries: 0}\n",
                 [Expected(9, 27, "demo", "a", "retries: Input should be greater than or equal")],
                 id="retries-zero"),
]

BRANCH_TAIL = "  - id: b\n    end: true\n"

BRANCH_CASES = [
    pytest.param("      - if: {var: x}\n        then: b\n      - else: b\n",
                 [Expected(7, 13, "demo", "a", "if: give exactly one test next to var")],
                 id="condition-var-without-test"),
    pytest.param("      - if: {var: x, eq: 1, ne: 2}\n        then: b\n      - else: b\n",
                 [Expected(7, 13, "demo", "a", "if: give exactly one test next to var")],
                 id="condition-two-tests"),
    pytest.param("      - if: {eq: 1}\n        then: b\n      - else: b\n",
                 [Expected(7, 13, "demo", "a", "a condition needs var plus one test")],
                 id="condition-test-without-var"),
    pytest.param("      - if: {var: x, not: {var: y, set: true}}\n        then: b\n"
                 "      - else: b\n",
                 [Expected(7, 13, "demo", "a", "use one of all/any/not alone, without var")],
                 id="condition-group-with-var"),
    pytest.param("      - if: {all: [{var: x}]}\n        then: b\n      - else: b\n",
                 [Expected(7, 20, "demo", "a", "give exactly one test")],
                 id="condition-nested-without-test"),
    pytest.param("      - if: {var: x, lt: soon}\n        then: b\n      - else: b\n",
                 [Expected(7, 26, "demo", "a", "lt: Input should be a valid integer")],
                 id="condition-lt-not-a-number"),
    pytest.param("      - if: {var: x, eq: 1}\n        then: b\n",
                 [Expected(5, 5, "demo", "a", "a branch must end with an `else` arm")],
                 id="branch-without-else"),
    pytest.param("      - else: b\n      - if: {var: x, eq: 1}\n        then: b\n",
                 [Expected(5, 5, "demo", "a", "a branch must end with an `else` arm")],
                 id="branch-else-not-last"),
    pytest.param("      - if: {var: x, eq: 1}\n      - else: b\n",
                 [Expected(7, 9, "demo", "a", "an arm needs `if` and `then`, or `else`")],
                 id="arm-without-then"),
]


@pytest.mark.parametrize(("nodes", "expected"), NODE_CASES)
def test_node_errors(tmp_path: Path, nodes: str, expected: list[Expected]) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(HEAD + nodes, encoding="utf-8")
    check(errors_of(path), path, expected)


@pytest.mark.parametrize(("arms", "expected"), BRANCH_CASES)
def test_branch_errors(tmp_path: Path, arms: str, expected: list[Expected]) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(HEAD + "  - id: a\n    branch:\n" + arms + BRANCH_TAIL, encoding="utf-8")
    check(errors_of(path), path, expected)


# -- the graph ------------------------------------------------------------------------------------

GRAPH_CASES = [
    pytest.param(HEAD + "  - id: a\n    say: demo.hello\n    next: nowhere\n",
                 [Expected(7, 11, "demo", "a", "unknown target 'nowhere'")], id="next"),
    pytest.param(HEAD + "  - id: a\n    ask: demo.q\n    options:\n"
                 "      - {id: one, label: demo.one, next: nowhere}\n",
                 [Expected(8, 42, "demo", "a", "unknown target 'nowhere'")], id="option-next"),
    pytest.param(HEAD + "  - id: a\n    branch:\n      - if: {var: x, eq: 1}\n"
                 "        then: nowhere\n      - else: b\n" + BRANCH_TAIL,
                 [Expected(8, 15, "demo", "a", "unknown target 'nowhere'")], id="branch-then"),
    pytest.param(HEAD + "  - id: a\n    branch:\n      - if: {var: x, eq: 1}\n"
                 "        then: b\n      - else: nowhere\n" + BRANCH_TAIL,
                 [Expected(9, 15, "demo", "a", "unknown target 'nowhere'")], id="branch-else"),
    pytest.param(HEAD + "  - id: a\n    ask: demo.q\n"
                 "    input: {type: integer, min: 0, max: 9}\n    save: n\n"
                 "    on_invalid: {then: nowhere}\n",
                 [Expected(9, 24, "demo", "a", "unknown target 'nowhere'")],
                 id="on-invalid-then"),
    pytest.param(HEAD + "  - id: a\n    call: other\n    next: nowhere\n",
                 [Expected(7, 11, "demo", "a", "unknown target 'nowhere'")], id="call-next"),
    pytest.param("schema_version: 1\nid: demo\nstart: nowhere\nnodes:\n  - id: a\n    end: true\n",
                 [Expected(3, 8, "demo", None, "unknown start node 'nowhere'")],
                 id="unknown-start"),
    pytest.param(HEAD + "  - id: a\n    end: true\n  - id: b\n    say: demo.hello\n",
                 [Expected(7, 5, "demo", "b", "node 'b' is never reached")], id="unreachable"),
    pytest.param(HEAD + "  - id: a\n    end: true\n  - id: b\n    say: demo.hello\n    next: c\n"
                 "  - id: c\n    say: demo.hello\n    next: b\n",
                 [Expected(7, 5, "demo", "b", "never reached"),
                  Expected(10, 5, "demo", "c", "never reached")], id="unreachable-cycle"),
    pytest.param(HEAD + "  - id: a\n    say: demo.hello\n    next: nowhere\n  - id: b\n"
                 "    say: demo.x\n    next: gone\n",
                 [Expected(7, 11, "demo", "a", "unknown target 'nowhere'"),
                  Expected(8, 5, "demo", "b", "never reached"),
                  Expected(10, 11, "demo", "b", "unknown target 'gone'")],
                 id="several-graph-errors-in-order"),
]


@pytest.mark.parametrize(("text", "expected"), GRAPH_CASES)
def test_graph_errors(tmp_path: Path, text: str, expected: list[Expected]) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    check(errors_of(path), path, expected)


def test_a_node_reached_only_through_on_invalid_is_reached(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(HEAD + "  - id: a\n    ask: demo.q\n"
                    "    input: {type: integer, min: 0, max: 9}\n    save: n\n"
                    "    on_invalid: {then: b}\n  - id: b\n    end: true\n", encoding="utf-8")
    flow, references = load_flow_file(path)
    assert set(flow.nodes) == {"a", "b"}
    assert [(r.kind, r.name) for r in references] == [("text", "demo.q")]


def test_a_valid_file_loads_with_its_references(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(HEAD + "  - id: a\n    ask: demo.q\n    options:\n"
                    "      - {id: one, label: demo.one, next: b}\n"
                    "      - {id: two, label: demo.two, link: other}\n"
                    "  - id: b\n    content: flanders/first-grade\n    next: c\n"
                    "  - id: c\n    call: helper\n    next: d\n"
                    "  - id: d\n    end: demo.bye\n", encoding="utf-8")
    flow, references = load_flow_file(path)
    assert flow.id == "demo"
    assert flow.start == "a"
    assert flow.source == str(path)
    assert list(flow.nodes) == ["a", "b", "c", "d"]
    assert [(r.kind, r.name, r.location.line, r.location.column, r.flow, r.node)
            for r in references] == [
        ("text", "demo.q", 6, 10, "demo", "a"),
        ("text", "demo.one", 8, 26, "demo", "a"),
        ("text", "demo.two", 9, 26, "demo", "a"),
        ("flow", "other", 9, 42, "demo", "a"),
        ("page", "flanders/first-grade", 11, 14, "demo", "b"),
        ("flow", "helper", 14, 11, "demo", "c"),
        ("text", "demo.bye", 17, 10, "demo", "d"),
    ]


def test_a_byte_order_mark_and_windows_line_ends_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    text = "\ufeff" + HEAD + "  - id: a\n    end: true\n"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert load_flow_file(path)[0].id == "demo"


# -- several errors, several files ----------------------------------------------------------------


def test_load_flows_collects_every_error_from_every_file_sorted(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    (folder / "sub").mkdir(parents=True)
    b = folder / "b.yaml"
    b.write_text("schema_version: 1\nid: bee\nstart: a\nnodes:\n"
                 "  - id: a\n    say: demo.hello\n    next: nowhere\n"
                 "  - id: c\n    say: demo.hello\n    next: a\n", encoding="utf-8")
    a = folder / "a.yaml"
    a.write_text("schema_version: 1\nid: ay\nstart: a\nnodes:\n"
                 "  - id: a\n    end: true\n    colour: red\n", encoding="utf-8")
    c = folder / "sub" / "c.yml"
    c.write_text("schema_version: 1\nid: [\n", encoding="utf-8")
    good = folder / "good.yaml"
    good.write_text("schema_version: 1\nid: bee\nstart: a\nnodes:\n  - id: a\n    end: true\n",
                    encoding="utf-8")
    (folder / "notes.txt").write_text("not a flow: [", encoding="utf-8")
    with pytest.raises(FlowErrors) as info:
        load_flows([folder])
    errors = info.value.errors
    assert [(e.location.file, e.location.line) for e in errors] == [
        (str(a), 7), (str(b), 7), (str(b), 8), (str(c), 3)]
    assert "unknown field 'colour'" in errors[0].message
    assert "unknown target 'nowhere'" in errors[1].message
    assert "never reached" in errors[2].message
    assert "YAML syntax error" in errors[3].message
    # One line per error, in the documented format.
    lines = str(info.value).splitlines()
    assert lines[0] == (f"{a}:7:5: unknown field 'colour': check its spelling or remove it "
                        "[flow 'ay', node 'a']")
    assert lines[3].startswith(f"{c}:3:1: YAML syntax error")
    assert len(lines) == 4


def test_duplicate_flow_ids_across_files(tmp_path: Path) -> None:
    for name in ("one.yaml", "two.yaml"):
        (tmp_path / name).write_text(HEAD + "  - id: a\n    end: true\n", encoding="utf-8")
    with pytest.raises(FlowErrors) as info:
        load_flows([tmp_path])
    [error] = info.value.errors
    assert error.location == Location(str(tmp_path / "two.yaml"))
    assert error.flow == "demo"
    assert "duplicate flow id 'demo'" in error.message
    assert str(tmp_path / "one.yaml") in error.message


def test_an_unreadable_path_is_an_error_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(FlowErrors) as info:
        load_flows([missing])
    [error] = info.value.errors
    assert error.location == Location(str(missing), 1, 1)
    assert "cannot read file" in error.message


def test_flow_errors_sort_by_file_line_and_column() -> None:
    errors = FlowErrors([
        FlowError(Location("b.yaml", 2, 1), "third"),
        FlowError(Location("a.yaml", 10, 1), "second"),
        FlowError(Location("a.yaml", 9, 7), "first"),
        FlowError(Location("b.yaml", 2, 3), "fourth", "flow", "node"),
    ])
    assert [e.message for e in errors.errors] == ["first", "second", "third", "fourth"]
    assert str(errors).splitlines() == [
        "a.yaml:9:7: first", "a.yaml:10:1: second", "b.yaml:2:1: third",
        "b.yaml:2:3: fourth [flow 'flow', node 'node']",
    ]


# -- known bugs in the loader ----------------------------------------------------------------------


def test_python_field_names_are_not_yaml_keys(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(HEAD + "  - id: a\n    branch:\n      - else_: nowhere\n", encoding="utf-8")
    errors = errors_of(path)
    assert errors[0].location.line == 7


def test_a_recursive_alias_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("schema_version: 1\nid: demo\nstart: a\nnodes: &x [*x]\n", encoding="utf-8")
    errors_of(path)


def test_a_deeply_nested_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("a: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    errors_of(path)


def test_a_control_character_is_reported_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(HEAD + "  - id: a\n    say: demo.he\x07llo\n", encoding="utf-8")
    [error] = errors_of(path)
    assert (error.location.line, error.location.column) == (6, 17)


# -- load_library: cross-checks against texts, pages and the other flows ----------------------


@pytest.fixture
def content_root(tmp_path: Path) -> ContentRoot:
    """A copy of the real locales, content and flows under tmp_path."""
    for folder in ("locales", "content", "flows"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return ContentRoot.at(tmp_path)


def library_errors(root: ContentRoot, flow_paths: list[Path] | None = None) -> list[FlowError]:
    with pytest.raises(FlowErrors) as info:
        load_library(root, flow_paths)
    return info.value.errors


def in_file(errors: list[FlowError], path: Path) -> list[FlowError]:
    return [e for e in errors if e.location.file == str(path)]


def test_the_real_repository_loads_without_errors() -> None:
    library = load_library(ContentRoot.at(ROOT))
    assert set(REQUIRED_FLOWS) <= set(library.flows)
    assert set(ENGINE_KEYS) <= set(library.texts["en"])
    assert "en" in library.languages


def test_the_required_flows_exist_in_the_real_flows_folder() -> None:
    loaded = load_flows([ROOT / "flows"])
    assert set(REQUIRED_FLOWS) <= set(loaded.flows)


CROSS_CHECK = """schema_version: 1
id: demo
start: a
nodes:
  - id: a
    say: demo.missing_key
    next: b
  - id: b
    content: flanders/no-such-page
    next: c
  - id: c
    ask: menu.question
    options:
      - {id: one, label: common.yes, link: no_such_flow}
      - {id: two, label: demo.missing_label}
    next: d
  - id: d
    call: menu
"""


def test_cross_check_errors_point_at_the_reference(content_root: ContentRoot) -> None:
    path = content_root.flows / "demo.yaml"
    path.write_text(CROSS_CHECK, encoding="utf-8")
    errors = in_file(library_errors(content_root), path)
    check(errors, path, [
        Expected(6, 10, "demo", "a", "text key 'demo.missing_key' is missing in the source "
                                     "language"),
        Expected(9, 14, "demo", "b", "no content page 'flanders/no-such-page'"),
        Expected(14, 44, "demo", "c", "unknown flow 'no_such_flow'"),
        Expected(15, 26, "demo", "c", "text key 'demo.missing_label' is missing"),
    ])


def test_a_text_key_only_in_a_translation_is_missing(content_root: ContentRoot) -> None:
    (content_root.locales / "nl" / "demo.yaml").write_text('demo.only_dutch: "Hallo"\n',
                                                           encoding="utf-8")
    path = content_root.flows / "demo.yaml"
    path.write_text(HEAD + "  - id: a\n    say: demo.only_dutch\n", encoding="utf-8")
    [error] = in_file(library_errors(content_root), path)
    assert (error.location.line, error.location.column) == (6, 10)
    assert "text key 'demo.only_dutch' is missing in the source language" in error.message


def test_a_missing_required_flow(content_root: ContentRoot) -> None:
    stuck = [p for p in content_root.flows.rglob("*.yaml")
             if "\nid: stuck\n" in p.read_text(encoding="utf-8")]
    assert len(stuck) == 1
    stuck[0].unlink()
    errors = library_errors(content_root)
    assert FlowError(Location(str(content_root.flows)),
                     "the flow 'stuck' is required: the engine starts it itself") in errors


def test_a_missing_engine_text(content_root: ContentRoot) -> None:
    common = content_root.locales / "en" / "common.yaml"
    lines = common.read_text(encoding="utf-8").splitlines(keepends=True)
    common.write_text("".join(line for line in lines if not line.startswith("common.error:")),
                      encoding="utf-8")
    errors = library_errors(content_root)
    assert FlowError(Location(str(content_root.locales / "en")),
                     "text key 'common.error' is required by the engine: add it") in errors


def test_checking_some_flow_files_skips_flow_links_and_required_flows(
        content_root: ContentRoot) -> None:
    path = content_root.flows / "demo.yaml"
    path.write_text(CROSS_CHECK, encoding="utf-8")
    errors = library_errors(content_root, [path])
    assert [e.message.split(":")[0] for e in errors if e.location.file == str(path)] == [
        "text key 'demo.missing_key' is missing in the source language",
        "no content page 'flanders/no-such-page'",
        "text key 'demo.missing_label' is missing in the source language",
    ]
    assert not any("required" in e.message for e in errors)


def test_load_library_reports_flow_and_locale_errors_together(
        content_root: ContentRoot) -> None:
    broken_texts = content_root.locales / "en" / "zz_broken.yaml"
    broken_texts.write_text('demo.a: "one"\ndemo.b: [\n', encoding="utf-8")
    broken_flow = content_root.flows / "demo.yaml"
    broken_flow.write_text(HEAD + "  - id: a\n    say: demo.hello\n    next: nowhere\n",
                           encoding="utf-8")
    errors = library_errors(content_root)
    [text_error] = in_file(errors, broken_texts)
    assert text_error.location.line == 3
    assert "YAML syntax error" in text_error.message
    [flow_error] = in_file(errors, broken_flow)
    assert (flow_error.location.line, flow_error.location.column) == (7, 11)
    files = [e.location.file for e in errors]
    assert files == sorted(files)


def test_a_missing_page_title_key_points_at_the_title(content_root: ContentRoot) -> None:
    page = next(p for p in sorted(content_root.content.glob("*/*.md")) if "." not in p.stem)
    text = page.read_text(encoding="utf-8")
    title_line = next(n for n, line in enumerate(text.splitlines(), start=1)
                      if line.startswith("title:"))
    page.write_text(text.replace("title: ", "title: content.no_such.title  # ", 1),
                    encoding="utf-8")
    [error] = in_file(library_errors(content_root), page)
    assert "title key 'content.no_such.title'" in error.message
    assert error.location.line == title_line
