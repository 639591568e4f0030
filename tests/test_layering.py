"""The layering holds by construction: the store knows no UI, the screens know no SQL."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> dict[str, set[str]]:
    """Top-level module names each file of ``package`` imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_store_imports_nothing_from_the_ui() -> None:
    """store/ must run headless (CLI, SSH server, tests): no Textual, screens or tui."""
    offenders = {
        file: sorted(names & {"textual", "screens", "tui", "rich"})
        for file, names in _imports("store").items()
        if names & {"textual", "screens", "tui", "rich"}
    }
    assert offenders == {}


def test_screens_import_nothing_from_tui() -> None:
    """screens/ sits under tui/ (the shell, the command line, the servers): never the reverse."""
    offenders = {file: ["tui"] for file, names in _imports("screens").items() if "tui" in names}
    assert offenders == {}


def test_screens_hold_no_sql_and_no_database_driver() -> None:
    """Screens call store services; Peewee, drivers and the models stay inside store/."""
    forbidden = {"peewee", "playhouse", "sqlite3", "pymysql", "psycopg", "psycopg2"}
    offenders = {
        file: sorted(names & forbidden)
        for file, names in _imports("screens").items()
        if names & forbidden
    }
    assert offenders == {}
    models_users = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "screens").rglob("*.py")
        if "store.models" in path.read_text(encoding="utf-8")
        or "store.scope" in path.read_text(encoding="utf-8")
    ]
    assert models_users == []


def test_the_app_shell_holds_no_sql() -> None:
    """tui/ wires screens and the CLI; queries belong to store/."""
    forbidden = {"peewee", "playhouse", "sqlite3"}
    offenders = {
        file: sorted(names & forbidden)
        for file, names in _imports("tui").items()
        if names & forbidden
    }
    assert offenders == {}
