"""Where a scripting command's passwords come from (issues 16 point 7 and 17 point 3).

An empty password from any source is refused before anything is tried (five runs with an
empty ``$LHC_CONSOLE_PASSWORD`` used to lock the account), and a password line is read with a
bound: ``/dev/zero`` as a password source is refused at once instead of filling memory.
Real subprocesses of the installed command.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from peewee import Database

from store.dump import all_rows
from store.models import User


def lhc(*argv: str, stdin: object = subprocess.DEVNULL, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "tui", *argv],
        stdin=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_an_empty_password_variable_is_refused_and_never_tried(
    sample_db: Database, sample_url: str
) -> None:
    before = all_rows()
    for _ in range(6):  # more than max_attempts: still nobody is locked
        done = lhc(
            "user", "list", "--as", "admin", "--db", sample_url, env={"LHC_CONSOLE_PASSWORD": ""}
        )
        assert done.returncode == 2
        assert "LHC_CONSOLE_PASSWORD is set but empty" in done.stderr
    assert all_rows() == before


def test_an_empty_stdin_line_is_refused_and_never_tried(
    sample_db: Database, sample_url: str
) -> None:
    before = all_rows()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "user",
            "list",
            "--as",
            "admin",
            "--password-stdin",
            "--db",
            sample_url,
        ],
        input="\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "No password on the first line of stdin" in done.stderr
    assert all_rows() == before


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("how", "refusal"),
    [
        (("--password-stdin",), "longer than 4096 characters"),
        (("--new-password-file", "/dev/zero"), "not a regular file (a character device)"),
    ],
)
def test_an_endless_password_source_is_refused_at_once(
    sample_db: Database, sample_url: str, how: tuple[str, ...], refusal: str
) -> None:
    """Endless stdin stops at the line bound; a device as a password file is not even read
    (only regular files are: ``tests/test_input_files.py``)."""
    hash_before = User.get_by_id(2).password
    with open("/dev/zero", "rb") as zero:
        if how[0] == "--password-stdin":
            argv = ("user", "list", "--as", "admin", *how)
            env = None
        else:
            argv = ("user", "passwd", "Operator US", "--as", "admin", *how)
            env = {"LHC_CONSOLE_PASSWORD": "admin"}
        done = lhc(*argv, "--db", sample_url, stdin=zero, env=env)
    assert done.returncode == 2
    assert refusal in done.stderr
    assert User.get_by_id(2).password == hash_before  # Operator US keeps his password
