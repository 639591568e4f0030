"""SQLite paths are what they look like, and only three ways in create a file (issue 15, 5).

``sqlite:///relative/x.sqlite`` is relative to the current folder, ``sqlite:////abs/x.sqlite``
absolute (SQLAlchemy's convention), a bare path a path as typed. No folder is ever created
except the embedded default's own data folder. Only the console, ``sample`` and ``import``
create a missing file, in an existing folder, and say so on stderr with its absolute path;
every other command exits 2 with "no database at PATH" and creates nothing. The commands run
as the real ``lhc-console`` in a subprocess, from a folder of their own.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pilot import SIZE, settle

import tui.shell.app
from store import StoreError
from store.database import NoDatabaseError, open_database
from store.locations import ENV_VAR, sqlite_path

PROJECT = Path(__file__).resolve().parents[1]


def lhc(cwd: Path, *argv: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``lhc-console ARGV`` run from ``cwd``, with ``home`` (default: ``cwd``) as its HOME."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "HOME": str(home or cwd)}
    for name in (ENV_VAR, "XDG_DATA_HOME", "LHC_CONSOLE_PASSWORD"):
        env.pop(name, None)
    if "--as" in argv:
        env["LHC_CONSOLE_PASSWORD"] = "admin"
    return subprocess.run(
        [sys.executable, "-m", "tui", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def everything_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


# -- the URL convention -----------------------------------------------------------------------


def test_three_slashes_are_relative_four_absolute_and_a_bare_path_is_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_path("sqlite:///relative/x.sqlite") == tmp_path / "relative" / "x.sqlite"
    assert sqlite_path("sqlite:///x.sqlite?timeout=5") == tmp_path / "x.sqlite"
    assert sqlite_path("sqlite:////srv/lhc/x.sqlite") == Path("/srv/lhc/x.sqlite")
    assert sqlite_path(f"sqlite:///{tmp_path}/x.sqlite") == tmp_path / "x.sqlite"
    assert sqlite_path("relative/x.sqlite") == tmp_path / "relative" / "x.sqlite"
    assert sqlite_path("/srv/lhc/x.sqlite") == Path("/srv/lhc/x.sqlite")
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("mysql://u:p@127.0.0.1/lhc") is None
    with pytest.raises(StoreError, match="names a host"):
        sqlite_path("sqlite://x.sqlite")  # Peewee would open an in-memory database


def test_sample_with_three_slashes_creates_the_file_in_the_current_folder_and_says_so(
    tmp_path: Path,
) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    made = lhc(work, "sample", "--db", "sqlite:///console.sqlite")
    assert made.returncode == 0, made.stderr
    created = work / "console.sqlite"
    assert f"created a new database at {created}\n" in made.stderr
    assert everything_under(elsewhere) == []
    # Four slashes name the same file from anywhere; three name another, missing one.
    absolute = lhc(elsewhere, "scope", "admin", "--json", "--db", f"sqlite:///{created}")
    assert f"sqlite:///{created}".startswith("sqlite:////")
    assert absolute.returncode == 0, absolute.stderr
    relative = lhc(elsewhere, "scope", "admin", "--db", "sqlite:///console.sqlite")
    assert relative.returncode == 2
    assert f"no database at {elsewhere / 'console.sqlite'}" in relative.stderr
    assert "four slashes" in relative.stderr
    assert everything_under(elsewhere) == []
    again = lhc(work, "scope", "admin", "--db", "console.sqlite")  # a bare path, as typed
    assert again.returncode == 0, again.stderr
    assert "created" not in again.stderr


# -- commands that may not create --------------------------------------------------------------

NOT_CREATING = [
    ["scope", "admin"],
    ["perms", "admin"],
    ["who-grants", "admin", "lhuser", "see_all"],
    ["access", "admin"],
    ["lint"],
    ["export", "out.sql"],
    ["import", "dump.sql", "--dry-run"],
    ["user", "list", "--as", "admin"],
    ["serve-ssh", "--listen", "127.0.0.1:0"],
    ["serve-web", "--listen", "127.0.0.1:0"],
]


@pytest.mark.parametrize("argv", NOT_CREATING, ids=lambda argv: " ".join(argv[:2]))
def test_a_command_on_a_missing_file_exits_2_and_creates_nothing(
    tmp_path: Path, argv: list[str]
) -> None:
    (tmp_path / "dump.sql").write_text("-- an LHC dump\n")
    before = everything_under(tmp_path)
    result = lhc(tmp_path, *argv, "--db", "sqlite:///typo.sqlite")
    assert result.returncode == 2
    assert f"lhc-console: no database at {tmp_path / 'typo.sqlite'}" in result.stderr
    assert everything_under(tmp_path) == before


def test_without_db_a_command_creates_neither_the_default_file_nor_its_folder(
    tmp_path: Path,
) -> None:
    result = lhc(tmp_path, "scope", "admin")
    assert result.returncode == 2
    default = tmp_path / ".local" / "share" / "lhc-console" / "lhc-console.sqlite"
    assert f"no database at {default}" in result.stderr
    assert everything_under(tmp_path) == []


# -- folders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["sample"], ["import", "dump.sql"]])
def test_sample_and_import_create_no_missing_folder(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "dump.sql").write_text("-- an LHC dump\n")
    before = everything_under(tmp_path)
    result = lhc(tmp_path, *command, "--db", f"sqlite:///{tmp_path}/srv/lhc/console.sqlite")
    assert result.returncode == 2
    assert "no folder" in result.stderr and "creates no folders" in result.stderr
    assert everything_under(tmp_path) == before


def test_open_database_creates_no_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(NoDatabaseError, match="no folder"):
        open_database(str(tmp_path / "deep" / "folder" / "console.sqlite"))
    assert everything_under(tmp_path) == []


def test_open_database_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.sqlite"
    with pytest.raises(NoDatabaseError, match=f"no database at {path}"):
        open_database(f"sqlite:///{path}", create=False)
    assert everything_under(tmp_path) == []


def test_sample_creates_the_default_data_folder_and_says_where(tmp_path: Path) -> None:
    result = lhc(tmp_path, "sample")
    assert result.returncode == 0, result.stderr
    default = tmp_path / ".local" / "share" / "lhc-console" / "lhc-console.sqlite"
    assert default.is_file()
    assert f"created a new database at {default}\n" in result.stderr


def test_import_on_a_new_file_creates_it_and_says_so(tmp_path: Path) -> None:
    source = lhc(tmp_path, "sample", "--db", "source.sqlite")
    assert source.returncode == 0, source.stderr
    exported = lhc(tmp_path, "export", "sample.sql", "--db", "source.sqlite")
    assert exported.returncode == 0, exported.stderr
    dry = lhc(tmp_path, "import", "sample.sql", "--dry-run", "--db", "target.sqlite")
    assert dry.returncode == 2 and "no database at" in dry.stderr
    assert not (tmp_path / "target.sqlite").exists()
    result = lhc(tmp_path, "import", "sample.sql", "--db", "target.sqlite")
    assert result.returncode == 0, result.stderr
    assert f"created a new database at {tmp_path / 'target.sqlite'}\n" in result.stderr


# -- the console ------------------------------------------------------------------------------


def _console_runs_headless(monkeypatch: pytest.MonkeyPatch) -> None:
    """``run_console`` drives the app headless until its database worker is done, then quits."""

    async def drive(app: tui.shell.app.LhcConsole) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)

    def run_console(url: str, *args: object, **kwargs: object) -> int:
        asyncio.run(drive(tui.shell.app.LhcConsole(url)))
        return 0

    monkeypatch.setattr(tui.shell.app, "run_console", run_console)


def test_the_console_creates_a_new_file_and_says_so_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.command_line.main import main

    _console_runs_headless(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["--db", "sqlite:///new.sqlite"]) == 0
    assert (tmp_path / "new.sqlite").is_file()
    assert f"created a new database at {tmp_path / 'new.sqlite'}\n" in capsys.readouterr().err
    assert main(["--db", "sqlite:///new.sqlite"]) == 0  # opened again: nothing to say
    assert "created" not in capsys.readouterr().err


def test_the_console_creates_no_missing_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.command_line.main import main

    _console_runs_headless(monkeypatch)
    assert main(["--db", f"sqlite:///{tmp_path}/srv/console.sqlite"]) == 0
    assert everything_under(tmp_path) == []
    assert "created" not in capsys.readouterr().err
