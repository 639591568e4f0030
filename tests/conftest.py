"""Shared fixtures: a fresh SQLite database per test, optionally holding the sample."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from peewee import Database

from seed.sample import load_sample
from store import Session
from store.database import open_database
from store.models import User

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""Reference data beside the project root (``../shared/data``); tests needing it skip without."""


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """An empty console-created SQLite database (a file, so worker threads share it)."""
    database = open_database(f"sqlite:///{tmp_path / 'lhc.sqlite'}")
    yield database
    database.close()


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample loaded once per test run; each test gets a copy (bcrypt is slow on purpose)."""
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    database = open_database(f"sqlite:///{path}")
    load_sample(database)
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def sample_db(tmp_path: Path, sample_template: Path) -> Iterator[Database]:
    """A fresh copy of the sample configuration (SPEC §5)."""
    path = tmp_path / "sample.sqlite"
    path.write_bytes(sample_template.read_bytes())
    database = open_database(f"sqlite:///{path}")
    yield database
    database.close()


@pytest.fixture
def as_user(sample_db: Database) -> Callable[[str], Session]:
    """``as_user("Teamleader US")``: a session acting as that sample user (no password)."""

    def make(username: str) -> Session:
        return Session(sample_db, User.get(User.username == username).id)

    return make


@pytest.fixture
def sample_url(sample_db: Database) -> str:
    """The URL of a fresh sample copy, for driving the real app (connection released)."""
    sample_db.close()
    return f"sqlite:///{sample_db.database}"
