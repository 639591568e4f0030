"""The first-run screen (load the sample: admin/admin) is for the host's own console only.

``serve-ssh`` and ``serve-web`` refuse to start on a database without users, and a console the
servers start (``local=False``, or started as an account) shows "no users yet" instead of the
first-run screen if the database is emptied while they run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from peewee import Database
from pilot import SIZE, settle
from textual.widgets import Static

from screens.empty import EmptyDatabaseScreen
from tui.shell.app import (
    NO_USERS_MESSAGE,
    SSH_SESSION_VARIABLES,
    LhcConsole,
    NoUsersScreen,
    run_console,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", ["serve-ssh", "serve-web"])
def test_the_servers_refuse_to_start_on_a_database_without_users(
    db: Database, backend_url: str, command: str, tmp_path: Path
) -> None:
    db.close()
    run = subprocess.run(
        [sys.executable, "-m", "tui", "--db", backend_url, command, "--listen", "127.0.0.1:0"],
        env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "has no users yet" in run.stderr
    assert "'lhc-console sample'" in run.stderr and "'lhc-console import FILE'" in run.stderr
    assert "listening" not in run.stdout
    assert not (tmp_path / "lhc-console").exists()  # not even a host key was made


@pytest.mark.parametrize(
    ("options", "remote"),
    [
        ({"local": False}, True),  # serve-web's consoles
        ({"actor_id": 1}, True),  # serve-ssh's consoles (started as an account)
        ({"actor_id": 1, "local": True}, True),  # an account handed over is never local
        ({}, False),  # the host's own console
    ],
)
async def test_only_a_local_console_offers_the_first_run_screen(
    db: Database, backend_url: str, options: dict[str, object], remote: bool
) -> None:
    app = LhcConsole(backend_url, **options)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        if remote:
            assert isinstance(app.screen, NoUsersScreen)
            assert not any(isinstance(s, EmptyDatabaseScreen) for s in app.screen_stack)
            message = str(app.screen.query_one("#no-users", Static).render())
            assert "no users yet" in message and "locally" in message
            assert message == NO_USERS_MESSAGE
            await pilot.press("s")  # the first-run screen's key: nothing loads
            await settle(pilot)
            assert isinstance(app.screen, NoUsersScreen)
            await pilot.press("q")
            await settle(pilot)
            assert not app.is_running
        else:
            assert isinstance(app.screen, EmptyDatabaseScreen)


def test_a_console_in_a_session_of_the_hosts_sshd_is_not_local(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``ForceCommand lhc-console``: leaders who may run nothing else get no first run."""
    started: list[tuple[bool, int | None]] = []
    monkeypatch.setattr(LhcConsole, "run", lambda app: started.append((app.local, app.actor_id)))
    for name in SSH_SESSION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    run_console("sqlite:///unused.sqlite")
    monkeypatch.setenv("SSH_CONNECTION", "203.0.113.7 51532 192.0.2.1 22")
    run_console("sqlite:///unused.sqlite")
    run_console("sqlite:///unused.sqlite", local=False)
    assert started == [(True, None), (False, None), (False, None)]


def test_the_web_console_entry_needs_the_servers_client_address() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tui.serving.web"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2 and "serve-web's console process" in run.stderr
