"""Files holding password hashes are private (issue 15, point 9).

A SQLite file the console creates is 0600, and so are its ``-wal`` and ``-shm`` files (SQLite
gives them the database file's mode); the embedded default's data folder, the one folder the
console creates, is 0700; an ``export`` file is 0600. Each test runs under umask 022, the usual
one, so a private mode comes from the console and not from the umask. Existing files keep the
mode they have.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from peewee import Database

from seed.exporter import export_dump
from store.database import open_database
from store.locations import ENV_VAR
from store.models import Department

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def lhc(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "HOME": str(cwd)}
    for name in (ENV_VAR, "XDG_DATA_HOME"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "tui", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_new_database_and_its_wal_and_shm_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "console.sqlite"
    db = open_database(f"sqlite:///{path}")
    try:
        Department.create(name="Written")  # a write: the -wal and -shm files exist now
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        assert wal.exists() and shm.exists()
        assert [mode(p) for p in (path, wal, shm)] == [0o600, 0o600, 0o600]
    finally:
        db.close()


def test_sample_creates_the_default_data_folder_0700_and_its_file_0600(tmp_path: Path) -> None:
    result = lhc(tmp_path, "sample")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / ".local" / "share" / "lhc-console"
    assert mode(folder) == 0o700
    assert mode(folder / "lhc-console.sqlite") == 0o600
    # The missing parents it created on the way are owner-only too.
    assert mode(tmp_path / ".local") == 0o700 and mode(tmp_path / ".local" / "share") == 0o700


def test_an_export_file_is_owner_only(sample_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "export.sql"
    export_dump(path)
    assert mode(path) == 0o600
    assert "$2y$" in path.read_text() or "$2b$" in path.read_text()  # it holds hashes


@pytest.mark.sqlite_only
def test_the_export_command_writes_an_owner_only_file(tmp_path: Path) -> None:
    assert lhc(tmp_path, "sample", "--db", "console.sqlite").returncode == 0
    result = lhc(tmp_path, "export", "out.sql", "--db", "console.sqlite")
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "out.sql") == 0o600


def test_existing_files_keep_their_mode(sample_db: Database, tmp_path: Path) -> None:
    """Not changed silently: a file someone made readable stays as they made it."""
    shared = tmp_path / "shared.sql"
    shared.write_text("old\n")
    shared.chmod(0o640)
    export_dump(shared)
    assert mode(shared) == 0o640 and "old" not in shared.read_text()
    database = tmp_path / "group.sqlite"
    open_database(f"sqlite:///{database}").close()
    database.chmod(0o660)
    open_database(f"sqlite:///{database}").close()
    assert mode(database) == 0o660
