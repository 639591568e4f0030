"""A read-only database still reads (issue 17, point 8).

On a SQLite file the process cannot write (the file, or its folder), the store opens it
read-only: the report commands work, every write is refused before it starts with "this
database is read-only: <reason>; nothing was changed", and nothing is written beside or into
the file (no switch to WAL, no -wal or -shm files that would then block the owner's writes).

Permission bits do not stop root, and the tests run as root in CI: there, the commands run as
the unprivileged user ``nobody`` (``setpriv``), on files that user owns, so the kernel refuses
the writes exactly as it would for a team leader's account. Where that is impossible (root
without ``setpriv``, or ``nobody`` unable to run this Python), those tests are skipped saying
why; the in-process test needs no privileges and always runs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import copy_sqlite

from store import Session, StoreError
from store.database import open_database, read_transaction
from store.faults import ReadOnlyDatabaseError, plain_faults, read_only_reason
from store.models import Group

pytestmark = pytest.mark.sqlite_only

PROJECT = Path(__file__).resolve().parents[1]
NOBODY = 65534
ADMIN = 1


def unprivileged_prefix() -> tuple[list[str] | None, str]:
    """The command prefix that runs a process subject to permission bits, or None and why."""
    if os.geteuid() != 0:
        return [], ""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None, "running as root without setpriv: permission bits would not apply"
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import store.database"],
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return None, f"uid {NOBODY} cannot run this Python: {probe.stderr.strip()[-200:]}"
    return prefix, ""


PREFIX, WHY_NOT = unprivileged_prefix()
needs_unprivileged = pytest.mark.skipif(PREFIX is None, reason=WHY_NOT)


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder the unprivileged user owns, reachable by it (pytest's tmp_path is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="lhc-read-only-"))
    root.chmod(0o755)
    folder = root / "data"
    folder.mkdir()
    home = root / "home"
    home.mkdir()
    yield root
    for path in (folder, home, *folder.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(root)


def own(*paths: Path) -> None:
    """Hand the paths to the unprivileged user (when the tests run as root)."""
    if os.geteuid() == 0:
        for path in paths:
            os.chown(path, NOBODY, NOBODY)


def lhc(root: Path, *argv: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """``lhc-console ARGV`` as the unprivileged user, its home and logs in ``root/home``."""
    home = str(root / "home")
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "HOME": home,
        "XDG_DATA_HOME": home,
        "XDG_STATE_HOME": home,
        "XDG_CACHE_HOME": home,
    }
    env.pop("LHC_CONSOLE_PASSWORD", None)
    if password is not None:
        env["LHC_CONSOLE_PASSWORD"] = password
    return subprocess.run(
        [*(PREFIX or []), sys.executable, "-m", "tui", *argv],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of the folder and a hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def journal_mode(path: Path) -> str:
    """What the file's header says (bytes 18-19: 2 for WAL, 1 for a rollback journal)."""
    header = path.read_bytes()[:20]
    return "wal" if header[18] == 2 else "rollback"


REPORTS = [
    (("scope", "admin"), "usable_groups"),
    (("perms", "admin"), "*/*"),
    (("lint",), "findings"),
    (("access", "admin"), "Departments US"),
]


@needs_unprivileged
@pytest.mark.parametrize(
    ("case", "journal"),
    [("file 0444", "wal"), ("folder 0555", "wal"), ("file 0444", "rollback")],
)
def test_reports_work_writes_are_refused_and_nothing_is_written(
    place: Path, sample_template: str, case: str, journal: str
) -> None:
    folder = place / "data"
    database = folder / "lhc.sqlite"
    copy_sqlite(Path(sample_template), database)
    if journal == "rollback":
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA journal_mode=delete")
    database.chmod(0o644)
    own(folder, database, place / "home")
    if case == "file 0444":
        database.chmod(0o444)
        expected_reason = f"cannot write the file {database}"
    else:
        folder.chmod(0o555)
        expected_reason = f"cannot write the folder {folder}"
    url = f"sqlite:///{database}"
    before = snapshot(folder)

    for argv, shows in REPORTS:
        result = lhc(place, *argv, "--db", url)
        assert result.returncode == 0, (argv, result.stderr)
        assert shows in result.stdout
    exported = place / "home" / "export.sql"
    result = lhc(place, "export", str(exported), "--db", url)
    assert result.returncode == 0, result.stderr
    assert "INSERT INTO `lh_users`" in exported.read_text(encoding="utf-8")

    # A scripting read logs in without recording the login (nothing can be written), and a
    # wrong password gets the one answer, unrecorded too.
    result = lhc(place, "user", "list", "--as", "admin", "--db", url, password="admin")
    assert result.returncode == 0 and "Operator US" in result.stdout, result.stderr
    result = lhc(place, "user", "list", "--as", "admin", "--db", url, password="wrong")
    assert result.returncode == 2
    assert "Wrong username/e-mail or password" in result.stderr

    for argv in (("unlock", "admin"), ("import", str(exported), "--replace")):
        result = lhc(place, *argv, "--db", url)
        assert result.returncode == 2, (argv, result.stdout, result.stderr)
        message = result.stderr.strip()
        assert message.startswith("lhc-console: this database is read-only: "), message
        assert expected_reason in message
        assert message.endswith("; nothing was changed")
        assert "Traceback" not in result.stderr

    assert snapshot(folder) == before  # not a byte, and no -wal, -shm or -journal file
    assert journal_mode(database) == journal  # nothing switched it to WAL

    # The owner, once the file is writable again, writes as before: nothing was left behind
    # that would make its next write fail.
    database.chmod(0o644)
    folder.chmod(0o755)
    result = lhc(place, "unlock", "admin", "--db", url)
    assert result.returncode == 0, result.stderr


def test_the_store_says_why_and_refuses_writes_before_they_start(
    tmp_path: Path, sample_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flag and reason the console's banner shows, and a service's refusal (no privilege
    needed: the store is told the file is not writable, and opens it read-only)."""
    database = tmp_path / "lhc.sqlite"
    copy_sqlite(Path(sample_template), database)
    writable = open_database(f"sqlite:///{database}")
    assert (writable.console_read_only, read_only_reason(writable)) == (False, None)
    writable.close()
    before = snapshot(tmp_path)

    reason = f"this account (tester) cannot write the file {database}"
    monkeypatch.setattr("store.database.sqlite_read_only_reason", lambda path: reason)
    db = open_database(f"sqlite:///{database}")
    try:
        assert db.console_read_only is True
        assert db.console_read_only_reason == reason == read_only_reason(db)
        assert db.execute_sql("PRAGMA query_only").fetchone() == (1,)
        session = Session(db, ADMIN)
        names = [g.name for g in session.groups.list()]
        assert names  # reads work
        with pytest.raises(ReadOnlyDatabaseError) as refused:
            session.groups.create("Read-only test")
        assert str(refused.value) == f"this database is read-only: {reason}; nothing was changed"
        assert refused.value.reason == reason
        assert isinstance(refused.value, StoreError)  # shown as a message, never a traceback
        # A write slipped into a read is refused by SQLite itself (query_only), same message.
        refusal = pytest.raises(ReadOnlyDatabaseError, match="nothing was changed")
        with refusal, plain_faults(db), read_transaction(db):
            Group.insert(name="bypassing the services").execute()
        assert [g.name for g in session.groups.list()] == names
    finally:
        db.close()
    assert snapshot(tmp_path) == before


def test_an_empty_read_only_file_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    monkeypatch.setattr("store.database.sqlite_read_only_reason", lambda path: "a test reason")
    with pytest.raises(ReadOnlyDatabaseError, match="read-only: a test reason, and it holds no"):
        open_database(f"sqlite:///{empty}")
    assert empty.stat().st_size == 0


async def test_the_console_opens_read_only_with_a_banner_saying_why(
    tmp_path: Path, sample_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console on a database it cannot write: it says so in a notification and in the
    header, logging in works (nothing is recorded), and a change is refused with the reason."""
    from pilot import SIZE, log_in, settle

    from tui.shell.app import LhcConsole

    database = tmp_path / "lhc.sqlite"
    copy_sqlite(Path(sample_template), database)
    before = snapshot(tmp_path)
    reason = f"this account (tester) cannot write the file {database}"
    monkeypatch.setattr("store.database.sqlite_read_only_reason", lambda path: reason)
    app = LhcConsole(f"sqlite:///{database}")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        shown = [n.message for n in app._notifications]
        assert any("read-only" in m and reason in m for m in shown), shown
        await log_in(pilot, "admin", "admin")
        assert app.sub_title.startswith("READ-ONLY · admin")
        assert app.screen.__class__.__name__ == "HomeScreen"
    assert snapshot(tmp_path) == before
