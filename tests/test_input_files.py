"""Input files are read with bounds and never hang (issue 17, point 3; red-team F6 and F7).

F6: ``apply`` on a TOML file of 500 nested arrays (or inline tables) ended in "internal error
(RecursionError)", exit 1, inside ``tomllib`` before anyone logged in: now a refusal, exit 2.

F7: a named pipe (FIFO) given as a password file, an apply file, an apply file's
``password_file``, or an export target hung the command forever. Every file the commands read
or write by name is opened without waiting and must be a regular file
(``store.regular_files``): a pipe, a device or a folder is refused at once with the path and
what it is; ``-`` still reads stdin where it did. Each call runs in a thread that must finish
within ``PROMPT`` seconds (the pipe's other end is opened afterwards, so a hang fails the test
instead of hanging it), and the commands of the red-team report run as subprocesses with a
timeout.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_script_cli import MANAGER_US, assert_only_the_login_was_recorded

from seed.exporter import export_dump
from seed.importer import DumpImportError, import_dump
from seed.report import Authority
from seed.sqldump import open_dump
from store import StoreError, ValidationError
from store.database import Database, open_database
from store.dump import all_rows
from store.regular_files import NotARegularFile, open_for_reading
from tui.command_line.main import main
from tui.scripting.actor import CommandError, read_password_file
from tui.scripting.apply import load
from tui.serving.ssh import ServeError, load_or_create_host_key, read_user_keys

PROJECT = Path(__file__).resolve().parents[1]
PROMPT = 10.0
PIPE = "not a regular file (a named pipe)"

NESTED = {
    "arrays": "x = " + "[" * 500 + "]" * 500 + "\n",
    "inline tables": "x = " + "{a = " * 500 + "1" + "}" * 500 + "\n",
}


@pytest.mark.parametrize("kind", list(NESTED))
def test_apply_refuses_a_deeply_nested_toml_file_with_exit_2(
    kind: str,
    sample_db: Database,
    sample_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(NESTED[kind], encoding="utf-8")
    with pytest.raises(ValidationError, match="nested too deep to read"):
        load(str(path))
    monkeypatch.setenv("LHC_CONSOLE_PASSWORD", "demo")
    before = all_rows()
    code = main(["apply", str(path), "--as", "Manager US", "--db", sample_url])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "nested too deep to read" in err and "internal error" not in err
    assert all_rows() == before  # refused before the login: not even a login row


# -- F7: only regular files ---------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path, 0o600)
    return path


def promptly(
    fifo: Path, call: Callable[..., Any], *args: Any, **options: Any
) -> BaseException | None:
    """Run ``call(*args, **options)`` in a thread; the exception it raised (None if it
    returned). Fails if it is still running after ``PROMPT`` seconds, after releasing it by
    opening the pipe's other end."""
    outcome: dict[str, BaseException | None] = {"error": None}

    def target() -> None:
        try:
            call(*args, **options)
        except BaseException as error:  # handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(PROMPT)
    if thread.is_alive():
        for flags in (os.O_WRONLY | os.O_NONBLOCK, os.O_RDONLY | os.O_NONBLOCK):
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, flags))
        thread.join(PROMPT)
        pytest.fail(f"{getattr(call, '__name__', call)} waited on the pipe")
    return outcome["error"]


def refused(error: BaseException | None, kind: type[BaseException], *words: str) -> str:
    assert isinstance(error, kind), repr(error)
    for word in words:
        assert word in str(error), str(error)
    return str(error)


def test_a_pipe_as_a_password_file_is_refused_at_once(fifo: Path) -> None:
    error = promptly(fifo, read_password_file, fifo)
    refused(error, CommandError, f"Cannot read the password file {str(fifo)!r}", PIPE)


def test_stdin_is_still_read_for_a_dash_and_a_long_regular_file_still_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin\n"))
    assert read_password_file("-") == "from stdin"
    long = tmp_path / "long.txt"
    long.write_text("x" * 5000, encoding="utf-8")
    with pytest.raises(CommandError, match="longer than 4096 characters"):
        read_password_file(long)


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a character device"), (".", "a folder")])
def test_devices_and_folders_are_refused_as_files(path: str, kind: str) -> None:
    with pytest.raises(NotARegularFile, match=f"not a regular file \\({kind}\\)"):
        open_for_reading(path)
    with pytest.raises(CommandError, match=kind):
        read_password_file(path)


def test_a_pipe_as_an_apply_file_or_its_password_file_is_refused_at_once(
    fifo: Path, tmp_path: Path
) -> None:
    refused(promptly(fifo, load, str(fifo)), StoreError, f"Cannot read {str(fifo)!r}", PIPE)
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'[[users]]\nusername = "Operator AU"\npassword_file = "{fifo.name}"\n', encoding="utf-8"
    )
    message = refused(promptly(fifo, load, str(plan)), ValidationError, PIPE)
    assert "user 'Operator AU' (line 1)" in message and str(fifo) in message


def test_a_pipe_as_a_dump_or_a_database_is_refused_at_once(
    fifo: Path, sample_db: Database, sample_url: str
) -> None:
    before = all_rows()
    error = promptly(fifo, import_dump, sample_db, fifo, by=Authority.LOCAL, dry_run=True)
    refused(error, DumpImportError, f"Cannot read {fifo}", PIPE)
    refused(promptly(fifo, open_dump, fifo), NotARegularFile, PIPE)
    refused(promptly(fifo, open_database, str(fifo)), StoreError, f"The database {fifo}", PIPE)
    assert all_rows() == before


def test_a_pipe_or_a_device_as_the_export_target_is_refused_and_a_new_file_is_written(
    fifo: Path, sample_db: Database, tmp_path: Path
) -> None:
    refused(promptly(fifo, export_dump, fifo), NotARegularFile, PIPE)
    refused(promptly(fifo, export_dump, "/dev/null"), NotARegularFile, "a character device")
    target = tmp_path / "out.sql"
    assert export_dump(target)["lh_users"] == 5
    assert target.stat().st_mode & 0o777 == 0o600


def test_the_ssh_server_skips_a_pipe_as_keys_and_refuses_it_as_its_host_key(
    fifo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "authorized_keys"
    keys.mkdir()
    os.mkfifo(keys / "Teamleader US", 0o600)
    outcome: list[Any] = []
    assert promptly(fifo, lambda: outcome.append(read_user_keys(keys, "Teamleader US"))) is None
    assert outcome == [None] and PIPE in capsys.readouterr().err
    refused(promptly(fifo, load_or_create_host_key, fifo), ServeError, "cannot read", PIPE)


def lhc(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *argv],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **env},
        stdin=subprocess.DEVNULL,
        timeout=60,  # a hang fails here
        check=False,
    )


def test_the_commands_of_the_report_refuse_a_pipe_with_exit_2(
    fifo: Path, sample_db: Database, sample_url: str, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'[[users]]\nusername = "Operator AU"\npassword_file = "{fifo}"\n', encoding="utf-8"
    )
    before = all_rows()
    actor = ("--as", "Manager US", "--db", sample_url)
    for argv in (
        ("apply", str(fifo), *actor),
        ("apply", str(plan), *actor),
        ("export", str(fifo), "--db", sample_url),
        ("import", str(fifo), "--dry-run", "--db", sample_url),
        ("user", "passwd", "Operator AU", "--new-password-file", str(fifo), *actor),
    ):
        done = lhc(*argv, env={"LHC_CONSOLE_PASSWORD": "demo"})
        assert done.returncode == 2, (argv, done.stderr)
        assert PIPE in done.stderr and str(fifo) in done.stderr, (argv, done.stderr)
    # apply checks its files before the login; passwd reads the file once it found the user
    assert_only_the_login_was_recorded(before, all_rows(), MANAGER_US)
