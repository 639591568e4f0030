"""``lhc-console`` paints its login screen before the store is loaded, and never loads a server
driver for a SQLite file.

The console script imports ``tui.command_line.main``, which builds the whole command-line
parser on every start; if that pulled in the store, Peewee and the MySQL/PostgreSQL drivers,
every start (and every SSH connection) would pay for them before the first paint. Each case runs
in a fresh interpreter, since what a process imported cannot be undone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("peewee", "playhouse", "store.models", "store.session", "bcrypt", "asyncssh", "aiohttp")
DRIVERS = ("pymysql", "psycopg", "psycopg2", "MySQLdb")


def run_probe(code: str, tmp_path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


LOADED = f"""
def loaded():
    return sorted(m for m in {HEAVY + DRIVERS!r} if sys.modules.get(m) is not None)
"""


def test_the_command_line_module_imports_no_store_peewee_or_driver(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        + LOADED
        + "import tui.command_line.main\nprint(json.dumps(loaded()))"
    )
    assert run_probe(code, tmp_path) == []


def test_the_console_paints_its_login_form_before_loading_peewee_and_then_no_driver(
    tmp_path: Path,
) -> None:
    """``lhc-console`` (``tui.command_line.main``) without a command, the app driven headless
    in place of ``run()``."""
    url = f"sqlite:///{tmp_path / 'start.sqlite'}"
    code = (
        "import asyncio, json, sys\n"
        + LOADED
        + f"""
import tui.shell.app, tui.command_line.main
report = {{}}

async def drive(app):
    original = app._display
    def display(screen, *args, **kwargs):
        original(screen, *args, **kwargs)
        if type(screen).__name__ == "LoginScreen" and "at_first_paint" not in report:
            report["at_first_paint"] = loaded()
            report["form"] = [w.id for w in screen.query("Input")]
    app._display = display
    async with app.run_test(size=(80, 24)) as pilot:
        while app.db is None:
            await pilot.pause(0.01)
        await pilot.pause()
        report["screen"] = type(app.screen).__name__
        report["after_open"] = loaded()

def run_console(url, actor_id=None):
    report["at_start"] = loaded()
    asyncio.run(drive(tui.shell.app.LhcConsole(url, actor_id)))
    return 0

tui.shell.app.run_console = run_console
report["exit"] = tui.command_line.main.main(["--db", {url!r}])
print(json.dumps(report))
"""
    )
    report = run_probe(code, tmp_path)
    assert report["exit"] == 0
    assert report["at_start"] == []
    assert report["at_first_paint"] == []
    assert report["form"] == ["username", "password"]
    # A new empty file: the first-run screen replaces the form once the database is open.
    assert report["screen"] == "EmptyDatabaseScreen"
    assert "peewee" in report["after_open"] and "store.models" in report["after_open"]
    assert not set(report["after_open"]) & set(DRIVERS)


def test_a_command_on_a_sqlite_file_loads_no_server_driver(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    code = (
        "import contextlib, io, json, sys\n"
        + LOADED
        + f"""
import tui.command_line.main
with contextlib.redirect_stdout(io.StringIO()):
    sample = tui.command_line.main.main(["--db", {url!r}, "sample"])
    scope = tui.command_line.main.main(["--db", {url!r}, "scope", "Teamleader US", "--json"])
print(json.dumps({{"exits": [sample, scope], "loaded": loaded()}}))
"""
    )
    report = run_probe(code, tmp_path)
    assert report["exits"] == [0, 0]
    assert "peewee" in report["loaded"]
    assert not set(report["loaded"]) & set(DRIVERS)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], (True, None)),
        (["--db", "sqlite:///a.sqlite"], (True, "sqlite:///a.sqlite")),
        (["--db=mysql://u:p@h/lhc"], (True, "mysql://u:p@h/lhc")),
        (["--db", "-h"], (False, None)),  # the full parser says --db needs a value
        (["--d", "x.sqlite"], (False, None)),  # abbreviations: argparse's to accept
        (["-h"], (False, None)),
        (["scope", "admin"], (False, None)),
        (["--db", "x.sqlite", "lint"], (False, None)),
    ],
)
def test_only_plain_console_arguments_skip_the_full_parser(
    argv: list[str], expected: tuple[bool, str | None]
) -> None:
    from tui.command_line.main import console_database

    assert console_database(argv) == expected


def test_the_full_parser_still_answers_what_the_shortcut_passes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.command_line.main import main

    with pytest.raises(SystemExit) as help_exit:
        main(["-h"])
    assert help_exit.value.code == 0
    assert "serve-ssh" in capsys.readouterr().out
    with pytest.raises(SystemExit) as missing:
        main(["--db"])
    assert missing.value.code == 2
    assert "--db: expected one argument" in capsys.readouterr().err
    started: list[str] = []
    monkeypatch.setattr(
        "tui.shell.app.run_console", lambda url, actor_id=None: started.append(url) or 0
    )
    assert main(["--d", str(tmp_path / "abbreviated.sqlite")]) == 0
    assert main(["--db=" + str(tmp_path / "plain.sqlite")]) == 0
    assert started == [str(tmp_path / "abbreviated.sqlite"), str(tmp_path / "plain.sqlite")]


def test_every_scripting_subcommand_names_a_handler_that_exists() -> None:
    """Parsers name their handlers as strings (so the store loads late): a typo must fail here."""
    import argparse

    from tui.command_line.main import build_parser
    from tui.scripting import commands as scripting

    def leaves(parser: argparse.ArgumentParser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield child
                    yield from leaves(child)

    names = [p.get_default("handler") for p in leaves(build_parser()) if p.get_default("handler")]
    assert len(names) >= 25
    for name in names:
        assert callable(scripting.resolve_handler(name)), name
