"""One rulebook's structure holds, read from the source: ``pytest tests/test_import_rules.py``.

- No ``_private`` name of one of our modules is imported (or reached as ``module._name``) by
  another module of ``store/``, ``seed/``, ``screens/`` or ``tui/``: what modules share is public.
- No import circle among ``store/`` modules, counting imports inside functions (a local import
  that dodges a circle is still a circle); only ``if TYPE_CHECKING:`` blocks are left out.
- SPEC §3 decisions live in ``store/rules.py``: elsewhere in ``store/`` a refusal's reason is
  never written out (``ctx.refuse``/``refuse_if`` get it from the rulebook); no module outside
  the rulebook asks for a §3 permission (``lhuser``, ``lhpermission``, ``lhdepartment``,
  ``lhaudit``) by name; and every capability offered is a rulebook answer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("store", "seed", "screens", "tui")
RULEBOOK = ROOT / "store" / "rules.py"
SCOPE_MODULES = ("lhuser", "lhpermission", "lhdepartment", "lhaudit")  # SPEC §3's permissions


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    """Whether ``dotted`` names one of our modules or packages (not a name inside one)."""
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _sources() -> Iterator[tuple[str, Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield _module_name(path), path, ast.parse(path.read_text(encoding="utf-8"))


def _type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import at any depth (functions included), ``if TYPE_CHECKING:`` bodies left out."""
    for child in ast.iter_child_nodes(node):
        if _type_checking_block(child):
            assert isinstance(child, ast.If)
            for other in child.orelse:
                yield from _imports_in(other)
            continue
        yield from _imports_in(child)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    yield from _imports(node)


def _source_of(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` reads from."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Our modules an import loads: ``from pkg import mod`` loads ``pkg.mod``."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    source = _source_of(module, path, node)
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        yield submodule if _is_module(submodule) else source


def test_no_private_name_is_imported_across_modules() -> None:
    offenders: list[str] = []
    for module, path, tree in _sources():
        where = str(path.relative_to(ROOT))
        bound: set[str] = set()  # local names of our modules this file imported
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _source_of(module, path, node)
                if source.split(".")[0] not in PACKAGES:
                    continue
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offenders.append(f"{where}:{node.lineno} imports {source}.{alias.name}")
                    if _is_module(f"{source}.{alias.name}"):
                        bound.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] not in PACKAGES:
                        continue
                    if any(
                        part.startswith("_") and part != "__init__"
                        for part in alias.name.split(".")
                    ):
                        offenders.append(f"{where}:{node.lineno} imports {alias.name}")
                    bound.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                offenders.append(f"{where}:{node.lineno} reaches {node.value.id}.{node.attr}")
    assert offenders == [], "private names used across modules:\n" + "\n".join(offenders)


def _store_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path, tree in _sources():
        if not module.startswith("store"):
            continue
        edges = graph.setdefault(module, set())
        for node in _imports(tree):
            for target in _targets(module, path, node):
                if target.split(".")[0] == "store" and target != module:
                    edges.add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle through each strongly connected group of modules (Tarjan), as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)

    circles = []
    for group in groups:
        start = min(group)
        path, seen = [start], {start}
        while True:  # walk inside the group until a module repeats
            following = sorted(graph[path[-1]] & group)
            step = start if start in following else next(m for m in following if m not in seen)
            path.append(step)
            if step == start:
                break
            seen.add(step)
        circles.append(path)
    return circles


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert _circles(graph) == [["a", "b", "c", "a"]]


def test_no_import_circle_inside_store() -> None:
    graph = _store_graph()
    assert len(graph) > 30 and "store.rules" in graph  # the scan itself works
    circles = _circles(graph)
    assert circles == [], "import circles in store/:\n" + "\n".join(" -> ".join(c) for c in circles)


def _is_literal_text(node: ast.AST) -> bool:
    """Text written out in the source: a string, an f-string, or text glued to either."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_literal_text(node.left) or _is_literal_text(node.right)
    if isinstance(node, ast.IfExp):
        return _is_literal_text(node.body) or _is_literal_text(node.orelse)
    if isinstance(node, ast.BoolOp):
        return any(_is_literal_text(value) for value in node.values)
    return False


def _calls(tree: ast.AST, *names: str) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in names
        ):
            yield node


def test_refusal_reasons_come_from_the_rulebook() -> None:
    refusals = 0
    offenders: list[str] = []
    for module, path, tree in _sources():
        if not module.startswith("store") or path == RULEBOOK:
            continue
        for call in _calls(tree, "refuse", "refuse_if"):
            refusals += 1
            reasons = call.args[1:2] + [k.value for k in call.keywords if k.arg == "reason"]
            if any(_is_literal_text(reason) for reason in reasons):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert refusals > 40  # the scan itself works
    assert offenders == [], (
        "refusal reasons written outside store/rules.py (add a rule there and ask it):\n"
        + "\n".join(offenders)
    )


def test_only_the_rulebook_asks_for_a_scope_permission_by_name() -> None:
    offenders: list[str] = []
    for _module, path, tree in _sources():
        if path == RULEBOOK:
            continue
        for call in _calls(tree, "has", "can", "require"):
            first = call.args[0] if call.args else None
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value in SCOPE_MODULES
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno} asks {first.value}/…")
    assert offenders == [], "SPEC §3 permissions asked outside store/rules.py:\n" + "\n".join(
        offenders
    )


def test_every_capability_offered_is_a_rulebook_answer() -> None:
    tree = ast.parse((ROOT / "store" / "capabilities.py").read_text(encoding="utf-8"))
    table = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "CAPABILITIES"
    )
    assert isinstance(table, ast.Dict) and len(table.values) > 20
    for key, value in zip(table.keys, table.values, strict=True):
        assert (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "_allowed"
            and len(value.args) == 1
            and isinstance(value.args[0], ast.Attribute)
            and isinstance(value.args[0].value, ast.Name)
            and value.args[0].value.id == "rules"
        ), f"capability {ast.unparse(key) if key else '?'} is not _allowed(rules.…)"
