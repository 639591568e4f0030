"""Faults (issue 8, part 5): a killed process leaves the database as before; a vanished or
locked database gives a clear message and the console keeps running.

The kills are real: a child Python process runs the import (or the assignment) on a real SQLite
file and is sent SIGKILL while its transaction is open. The child tells the parent when it is
there (the importer's progress callback, or SQLite's statement trace after a few ``lh_userdep``
inserts) and then waits, so the kill always lands mid-transaction. The parent then reopens the
file (SQLite recovers from the WAL) and compares every table with the rows before.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pilot import SIZE, log_in, settle
from textual.widgets import DataTable

from screens.users import UsersScreen
from store import Session, StoreError
from store.database import SQLITE_PRAGMAS, open_database
from store.dump import all_rows
from store.faults import DatabaseBusyError, DatabaseGoneError
from store.models import User
from tui.shell.app import LhcConsole

ROOT = Path(__file__).resolve().parents[1]
OPERATOR_US = 2
pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
    pytest.mark.sqlite_only,  # the SQLite file itself is part of the test
]



def snapshot(path: Path) -> dict:
    """Every row of every table of the file, read through a fresh connection."""
    db = open_database(f"sqlite:///{path}")
    try:
        return all_rows()
    finally:
        db.close()


def run_until_marker(script: str, marker: str = "MID") -> None:
    """Start ``script`` in a child Python, wait for it to print ``marker``, then SIGKILL it."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if marker not in line:
        child.kill()
        _, err = child.communicate(timeout=30)
        raise AssertionError(f"child never reached the middle: {line!r} {err}")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def big_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dump of 6,000 users (tests/perf/import_users.py's shape)."""
    spec = importlib.util.spec_from_file_location(
        "import_users", ROOT / "tests" / "perf" / "import_users.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.FOLDER = tmp_path_factory.mktemp("big-dump")
    dump = module.build_dump(6000)
    open_database("sqlite:///:memory:")  # rebind the models away from the builder's file
    return dump


def test_killing_an_import_midway_leaves_every_table_as_before(
    sample_url: str, big_dump: Path
) -> None:
    path = Path(sample_url.removeprefix("sqlite:///"))
    before = snapshot(path)
    run_until_marker(
        f"""
        import sys, time
        from store.database import open_database
        from seed.importer import import_dump
        from seed.report import Authority

        def progress(done, total):
            print("MID", done, total, flush=True)
            time.sleep(60)  # hold the open transaction until the parent kills us

        db = open_database({str(path)!r})
        import_dump(
            db, {str(big_dump)!r}, replace=True, progress=progress, by=Authority.LOCAL
        )
        print("FINISHED", flush=True)
        """
    )
    assert snapshot(path) == before


def test_killing_a_multi_row_assignment_midway_leaves_every_table_as_before(
    sample_url: str,
) -> None:
    """Adding a department to Departments US rebuilds the derived rows of its three users;
    the child is killed after the second ``lh_userdep`` insert of that rebuild."""
    path = Path(sample_url.removeprefix("sqlite:///"))
    before = snapshot(path)
    run_until_marker(
        f"""
        import time
        from store import Session
        from store.database import open_database

        db = open_database({str(path)!r})
        inserts = 0

        def trace(statement):
            global inserts
            if statement.startswith('INSERT INTO "lh_userdep"'):
                inserts += 1
                if inserts == 2:
                    print("MID", statement[:60], flush=True)
                    time.sleep(60)

        db.connection().set_trace_callback(trace)
        Session(db, 1).departments.set_group_departments(2, [2, 1])
        print("FINISHED", flush=True)
        """
    )
    assert snapshot(path) == before


# -- a database that disappears or is locked: the store ------------------------------------


def test_a_deleted_database_file_is_refused_by_name_and_nothing_is_written_anywhere(
    sample_db,
) -> None:
    session = Session(sample_db, 1)
    path = Path(sample_db.database)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    for attempt in (
        lambda: session.users.update(OPERATOR_US, name="Lost"),
        lambda: session.users.page(),
        lambda: Session.login(sample_db, "admin", "admin"),
    ):
        with pytest.raises(DatabaseGoneError) as refused:
            attempt()
        assert str(path) in str(refused.value) and "nothing was changed" in str(refused.value)
    assert not path.exists()  # and no empty database was created in its place


def test_a_removed_database_folder_is_refused_by_name(tmp_path: Path, sample_template) -> None:
    folder = tmp_path / "lhc"
    folder.mkdir()
    shutil.copy(sample_template, folder / "console.sqlite")
    db = open_database(f"sqlite:///{folder / 'console.sqlite'}")
    session = Session(db, 1)
    session.users.update(OPERATOR_US, name="Before")
    shutil.rmtree(folder)
    with pytest.raises(DatabaseGoneError, match="is gone"):
        session.users.update(OPERATOR_US, name="After")
    db.close()


def test_a_lock_held_beyond_the_busy_timeout_is_refused_clearly_and_writes_nothing(
    sample_db,
) -> None:
    path = Path(sample_db.database)
    sample_db.execute_sql("PRAGMA busy_timeout = 300")  # the default waits 15 s
    before = all_rows()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseBusyError) as refused:
            Session(sample_db, 1).users.update(OPERATOR_US, name="Blocked")
        message = str(refused.value)
        assert "locked by another program" in message and "0.3 s" in message
        assert "nothing was changed" in message
    finally:
        holder.rollback()
        holder.close()
    assert all_rows() == before
    # Once the lock is gone the same action goes through.
    Session(sample_db, 1).users.update(OPERATOR_US, name="Unblocked")
    assert User.get_by_id(OPERATOR_US).name == "Unblocked"


def test_store_errors_keep_their_class_for_refusals_unrelated_to_faults(sample_db) -> None:
    with pytest.raises(StoreError) as refused:
        Session(sample_db, 4).users.update(3, name="X")
    assert not isinstance(refused.value, (DatabaseBusyError, DatabaseGoneError))


# -- the same in the real console ---------------------------------------------------------


def notifications(app: LhcConsole) -> list[str]:
    return [n.message for n in app._notifications]


async def open_users_as_admin(pilot) -> UsersScreen:
    await settle(pilot)
    await log_in(pilot, "admin", "admin")
    await pilot.app.push_screen(UsersScreen(pilot.app.session))
    await settle(pilot)
    assert isinstance(pilot.app.screen, UsersScreen)
    return pilot.app.screen


async def test_the_console_says_the_database_is_gone_and_keeps_running(sample_url: str) -> None:
    path = Path(sample_url.removeprefix("sqlite:///"))
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users_as_admin(pilot)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        await pilot.press("r")  # refresh the list
        await settle(pilot)
        assert any("is gone" in m and str(path) in m for m in notifications(app))
        assert app.is_running and app.screen is users
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running


async def test_the_console_says_the_database_is_locked_and_keeps_running(
    sample_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SQLITE_PRAGMAS, "busy_timeout", 300)  # the default waits 15 s
    path = Path(sample_url.removeprefix("sqlite:///"))
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users_as_admin(pilot)
        table = users.query_one("#users-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(OPERATOR_US)))
        await settle(pilot)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            await pilot.press("d")  # disable: asks first
            await settle(pilot)
            await pilot.press("tab", "enter")
            await settle(pilot)
        finally:
            holder.rollback()
            holder.close()
        assert any("locked by another program" in m for m in notifications(app))
        assert app.is_running
        assert User.get_by_id(OPERATOR_US).disabled == 0
        # The lock released, the same key works.
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert User.get_by_id(OPERATOR_US).disabled == 1
