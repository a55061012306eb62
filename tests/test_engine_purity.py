"""The engine is pure: it imports only a small part of the standard library, pydantic,
itself and `bot.messages`, and it never touches files, the clock, randomness or the
network. These checks read the source with `ast`; nothing is imported or run.
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

import bot.engine

ROOT = Path(__file__).parents[1]
ENGINE = Path(bot.engine.__file__).parent
MESSAGES = ROOT / "bot" / "messages.py"

STDLIB_ALLOWED = frozenset({
    "__future__", "collections", "collections.abc", "copy", "dataclasses", "datetime", "enum",
    "hashlib", "re", "typing", "unicodedata", "functools", "itertools", "math",
})
THIRD_PARTY_ALLOWED = frozenset({"pydantic"})

# Calls and names that mean I/O, the clock, randomness or the network.
FORBIDDEN_CALLS = frozenset({"open", "input", "print", "exec", "eval", "__import__"})
FORBIDDEN_NAMES = frozenset({"random", "os", "socket", "time", "sys", "subprocess",
                             "secrets", "uuid", "pathlib", "io", "shutil", "urllib"})
# Reading the clock: datetime.now(), date.today(), time.time() and friends.
CLOCK_ATTRIBUTES = frozenset({"now", "utcnow", "today", "fromtimestamp", "time", "monotonic",
                              "perf_counter", "time_ns"})
CLOCK_OWNERS = frozenset({"datetime", "date", "time"})


def engine_modules() -> list[tuple[str, Path]]:
    """Every module of the bot.engine package, as (dotted name, file)."""
    modules = [("bot.engine", ENGINE / "__init__.py")]
    for info in pkgutil.walk_packages([str(ENGINE)], prefix="bot.engine."):
        relative = info.name.removeprefix("bot.engine.").replace(".", "/")
        path = ENGINE / relative / "__init__.py" if info.ispkg else ENGINE / f"{relative}.py"
        modules.append((info.name, path))
    return modules


def imports(tree: ast.AST, module: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import in `tree`, relative ones resolved."""
    found: list[tuple[str, int]] = []
    package = module if module == "bot.engine" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            if node.module is None:  # `from . import inputs`: the names are modules
                found.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names)
            else:
                found.append((f"{base}.{node.module}" if base else node.module, node.lineno))
    return found


def allowed(name: str) -> bool:
    if name in STDLIB_ALLOWED or name == "bot.messages" or name == "bot.engine":
        return True
    if name.startswith("bot.engine."):
        return True
    return name.split(".")[0] in THIRD_PARTY_ALLOWED


def owner(node: ast.expr) -> str | None:
    """The last name in `datetime` or `datetime.datetime`, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


MODULES = engine_modules()


def test_the_walk_finds_the_engine_modules() -> None:
    names = {name for name, _ in MODULES}
    assert {"bot.engine", "bot.engine.model", "bot.engine.runner", "bot.engine.state",
            "bot.engine.matching", "bot.engine.inputs", "bot.engine.conditions",
            "bot.engine.effects", "bot.engine.library"} <= names
    assert all(path.is_file() for _, path in MODULES)


# Modules that break the allow-list today; each is a reported bug (strict: fixing it
# makes the xfail fail, so remove the entry then).
KNOWN_IMPORT_VIOLATIONS: dict[str, str] = {}
IMPORT_CASES = [
    pytest.param(name, path, id=name, marks=[pytest.mark.xfail(
        strict=True, reason=KNOWN_IMPORT_VIOLATIONS[name])] if name in KNOWN_IMPORT_VIOLATIONS
        else [])
    for name, path in MODULES
]


@pytest.mark.parametrize(("module", "path"), IMPORT_CASES)
def test_engine_module_imports_only_allowed_modules(module: str, path: Path) -> None:
    bad = [f"{path.name}:{line}: {name}" for name, line in imports(parse(path), module)
           if not allowed(name)]
    assert bad == []


def forbidden_uses(tree: ast.AST, file: str) -> list[str]:
    """Every use of a forbidden call, name or clock read in `tree`."""
    bad: list[str] = []
    for node in ast.walk(tree):
        where = f"{file}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in FORBIDDEN_CALLS:
            bad.append(f"{where}: calls {node.func.id}()")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            bad.append(f"{where}: uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in CLOCK_ATTRIBUTES \
                and owner(node.value) in CLOCK_OWNERS:
            bad.append(f"{where}: reads the clock with {owner(node.value)}.{node.attr}")
        elif isinstance(node, ast.alias) and node.name.split(".")[0] in FORBIDDEN_NAMES:
            bad.append(f"{where}: imports {node.name}")
        elif isinstance(node, ast.ImportFrom) and not node.level \
                and str(node.module).split(".")[0] in FORBIDDEN_NAMES:
            bad.append(f"{where}: imports from {node.module}")
    return bad


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[name for name, _ in MODULES])
def test_engine_module_does_no_io_clock_randomness_or_network(module: str, path: Path) -> None:
    assert forbidden_uses(parse(path), path.name) == []


@pytest.mark.parametrize("source", [
    "open('x')\n", "datetime.now()\n", "datetime.datetime.now()\n", "date.today()\n",
    "time.time()\n", "random.choice([1])\n", "os.environ['X']\n", "os.getenv('X')\n",
    "socket.socket()\n", "from random import choice\n", "import os.path\n",
])
def test_the_scan_catches_impure_code(source: str) -> None:
    assert forbidden_uses(ast.parse(source), "example.py") != []


def test_the_scan_allows_the_clock_value_passed_in() -> None:
    source = "self.now = now\nyear = self.now.year\nfrom datetime import datetime, date\n"
    assert forbidden_uses(ast.parse(source), "example.py") == []


def test_messages_module_imports_only_the_allow_list() -> None:
    bad = [f"messages.py:{line}: {name}" for name, line in imports(parse(MESSAGES), "bot.messages")
           if name not in STDLIB_ALLOWED]
    assert bad == []


@pytest.mark.parametrize(("source", "reason"), [
    ("import os\n", "imports os"),
    ("from pathlib import Path\n", "imports pathlib"),
    ("import requests\n", "imports requests"),
    ("from bot.flows import load_flows\n", "imports bot.flows"),
    ("from ..flows import loader\n", "imports bot.flows (relative)"),
])
def test_the_import_check_catches_forbidden_imports(source: str, reason: str) -> None:
    names = [name for name, _ in imports(ast.parse(source), "bot.engine.runner")]
    assert not all(allowed(name) for name in names), reason


@pytest.mark.parametrize("source", [
    "from .model import Flow\n", "from . import inputs\n", "from bot.engine import inputs\n",
    "from bot.messages import Choice\n", "from pydantic import BaseModel\n",
    "import collections.abc\n", "from __future__ import annotations\n",
])
def test_the_import_check_allows_what_the_engine_may_use(source: str) -> None:
    names = [name for name, _ in imports(ast.parse(source), "bot.engine.runner")]
    assert all(allowed(name) for name in names)
