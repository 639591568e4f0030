"""The servers never check a password they cannot record (red team F3, issues 15 and 16).

The per-account lock-out counts recorded failures, so a login checked without its record is an
unlimited guess. ``serve-ssh`` and ``serve-web`` refuse to start on a database they cannot
write (exit 2, saying why, before listening), and a database that becomes read-only while they
run (the file made immutable) gets every login refused unchecked with the one answer, and a
line for the operator. The host's own console and the CLI still open such a file read-only
(``tests/test_read_only_database.py``).

Permission bits do not stop root, so as root the file is made immutable (``chattr +i``, as the
red team did); where that is impossible the tests that need it are skipped saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest
from backends import copy_sqlite
from peewee import Database
from pilot import SIZE, log_in, settle
from test_serve import connect, logins, start_server

from screens import errors
from screens.login import LoginScreen
from store.auth import REFUSED, authenticate
from store.database import open_database
from store.errors import AuthenticationError, StoreError, UnrecordedLoginError
from store.models import UserLogin
from tui.shell.app import LhcConsole

pytestmark = pytest.mark.sqlite_only  # a file made read-only; the servers share it

ROOT = Path(__file__).resolve().parents[1]


def make_unwritable(path: Path) -> None:
    """Make ``path`` unwritable for this process, or skip: mode 0444 for a normal account,
    the immutable attribute for root (whom mode bits do not stop)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    chattr = shutil.which("chattr")
    done = chattr and subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False)
    if not done or done.returncode != 0 or os.access(path, os.W_OK):
        pytest.skip("root cannot make the file immutable here (chattr +i)")


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
    else:
        path.chmod(0o644)


@pytest.fixture
def sample_file(tmp_path: Path, sample_template: str) -> Iterator[Path]:
    database = tmp_path / "lhc.sqlite"
    copy_sqlite(Path(sample_template), database)
    yield database
    make_writable(database)


@pytest.mark.parametrize("command", ["serve-ssh", "serve-web"])
def test_the_servers_refuse_to_start_on_a_database_they_cannot_write(
    sample_file: Path, tmp_path: Path, command: str
) -> None:
    make_unwritable(sample_file)
    before = sample_file.read_bytes()
    run = subprocess.run(
        [sys.executable, "-m", "tui", "--db", f"sqlite:///{sample_file}", command, "--listen", "0"],
        env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / "cfg")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    message = run.stderr.strip()
    assert message.startswith(f"lhc-console {command}: refused: the database is read-only ("), (
        message
    )
    assert f"cannot write the file {sample_file}" in message
    assert "must record every login attempt" in message
    assert "Traceback" not in run.stderr
    assert "listening" not in run.stdout
    assert not (tmp_path / "cfg").exists()  # not even a host key was made
    assert sample_file.read_bytes() == before


def test_a_login_that_cannot_be_recorded_is_refused_unchecked(sample_file: Path) -> None:
    """In the store: the file made unwritable after it was opened; the right password is
    refused with the one answer when a record is required, nothing is written, the reason says
    why; writable again, the same connection's next login is recorded."""
    db = open_database(f"sqlite:///{sample_file}")
    try:
        rows = UserLogin.select().count()
        db.close()  # (an open connection would go on writing to the WAL file: recorded)
        make_unwritable(sample_file)
        with pytest.raises(UnrecordedLoginError) as refused:
            authenticate("admin", "admin", ip="203.0.113.9", require_record=True)
        assert str(refused.value) == REFUSED
        assert isinstance(refused.value, AuthenticationError)  # every caller's refusal path
        assert "could not be recorded" in refused.value.reason
        assert "readonly" in refused.value.reason
        # A wrong password gets the same answer as the right one: nothing was compared.
        with pytest.raises(UnrecordedLoginError):
            authenticate("admin", "wrong", require_record=True)
        # The host's CLI is not asked to record: the failing write is its own message, and
        # still nothing is checked or written.
        with pytest.raises(StoreError) as local:
            authenticate("admin", "admin")
        assert not isinstance(local.value, AuthenticationError)
        make_writable(sample_file)
        assert UserLogin.select().count() == rows
        # This thread's connection, opened while the file was unwritable, is read-only for
        # good; the login opens it afresh rather than refuse.
        assert authenticate("admin", "admin", require_record=True).username == "admin"
        assert UserLogin.select().count() == rows + 1  # recorded as always
    finally:
        db.close()


def test_a_database_opened_read_only_refuses_a_server_login_and_the_host_logs_in(
    sample_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = f"this account (tester) cannot write the file {sample_file}"
    monkeypatch.setattr("store.database.sqlite_read_only_reason", lambda path: reason)
    db = open_database(f"sqlite:///{sample_file}")
    try:
        with pytest.raises(UnrecordedLoginError) as refused:
            authenticate("admin", "admin", ip="203.0.113.9", require_record=True)
        assert str(refused.value) == REFUSED
        assert refused.value.reason == f"the database is read-only: {reason}"
        assert authenticate("admin", "admin").username == "admin"  # the host's own console
    finally:
        db.close()


async def test_a_web_console_on_a_read_only_database_refuses_the_login_and_logs_why(
    sample_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve-web's console (``require_recorded_logins``): the form gives the one answer, the
    server's console log says why; the host's console on the same file logs in."""
    log_path = tmp_path / "log" / "console.log"
    monkeypatch.setattr(errors, "log_file", lambda: log_path)
    monkeypatch.setattr(errors, "_recent", {})
    reason = f"this account (tester) cannot write the file {sample_file}"
    monkeypatch.setattr("store.database.sqlite_read_only_reason", lambda path: reason)
    url = f"sqlite:///{sample_file}"
    app = LhcConsole(url, local=False, login_ip="203.0.113.9", require_recorded_logins=True)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        assert isinstance(app.screen, LoginScreen)
        assert app.session is None
        shown = str(app.screen.query_one("#login-error").render())
        assert shown == REFUSED
    log = log_path.read_text()
    assert "login refused unchecked: the database is read-only:" in log and reason in log

    host = LhcConsole(url)
    async with host.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await settle(pilot)
        assert host.session is not None


async def test_serve_ssh_refuses_logins_once_its_database_becomes_read_only(
    sample_db: Database, tmp_path: Path
) -> None:
    """The red team's case: the file made immutable while ``serve-ssh`` runs. The right
    password is refused unchecked with the one banner, nothing is recorded, the operator's log
    says why; made writable again, logins work and are recorded."""
    path = Path(sample_db.database)
    running = start_server(sample_db, tmp_path)
    banners: list[str] = []

    class Client(asyncssh.SSHClient):
        def auth_banner_received(self, msg: str, lang: str) -> None:
            banners.append(msg)

    try:
        make_unwritable(path)
        for password in ("demo", "wrong"):
            with pytest.raises(asyncssh.PermissionDenied):
                async with connect(running, "Teamleader US", password, client_factory=Client):
                    pass
        assert set(banners) == {f"lhc-console: {REFUSED}\r\n"}, banners
        make_writable(path)
        assert logins(running.url, "Teamleader US") == []  # neither attempt was recorded
        async with connect(running, "Teamleader US", "demo") as conn:
            assert conn.get_extra_info("username") == "Teamleader US"
        assert [row[0] for row in logins(running.url, "Teamleader US")] == [1]
    finally:
        make_writable(path)
        log = running.stop()
    assert "lhc-console serve-ssh: login refused unchecked: the login could not be recorded" in log
