"""Shared fixtures: a fresh SQLite database per test, optionally holding the sample."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backends import (
    SERVER_URL_VARIABLES,
    ServerBackend,
    copy_sqlite,
    selected_backend,
    server_url,
)
from peewee import Database
from pilot import steady_cursor
from quick_idle import install as install_quick_idle

from seed.report import Authority
from seed.sample import load_sample
from store import Session
from store.database import open_database
from store.models import User

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""Reference data beside the project root (``../shared/data``); tests needing it skip without."""


install_quick_idle()  # Pilot sleeps in 5 ms steps and waits for a quiet app (see quick_idle)
steady_cursor()  # snapshots do not depend on the cursor's blink phase

BACKEND = selected_backend()
BACKEND_FIXTURES = frozenset({"db", "sample_db", "as_user", "sample_url", "backend_url"})


def pytest_report_header() -> str:
    return f"lhc-console database backend: {BACKEND} (LHC_TEST_BACKEND)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On a server backend, run only the tests that use the database fixtures.

    The rest (parsers, SQLite-specific behaviour, SVG snapshots naming the SQLite file) does not
    depend on the backend and already runs in the SQLite pass.
    """
    if BACKEND == "sqlite":
        return
    skip = pytest.mark.skip(reason=f"backend-independent; runs in the SQLite pass, not {BACKEND}")
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        independent = not fixtures & BACKEND_FIXTURES or "snap_compare" in fixtures
        if independent or item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one and a half workers per core (3 on 2 cores).

    Many tests wait rather than compute: a console in a real terminal, SSH and web servers,
    subprocesses, a login throttle's clock. With one worker per core a waiting test leaves its
    core idle; a third worker on two cores fills that time (the suite took 5 min 16 s with two
    workers and 4 min 20 s with three on the same machine, 2026-12-03).
    """
    return max(1, (os.cpu_count() or 1) * 3 // 2)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: behaviour of the embedded SQLite file only")


@pytest.fixture(scope="session")
def db_server() -> Iterator[ServerBackend | None]:
    """The MariaDB/PostgreSQL server the run uses, or None for SQLite."""
    if BACKEND == "sqlite":
        yield None
        return
    url = server_url(BACKEND)
    if url is None:
        pytest.exit(
            f"LHC_TEST_BACKEND={BACKEND} needs {SERVER_URL_VARIABLES[BACKEND]} "
            "(run .ci/servers to start one)",
            returncode=2,
        )
    backend = ServerBackend(BACKEND, url)
    yield backend
    for name in list(backend.created):
        backend.drop(name)


@pytest.fixture
def backend_url(tmp_path: Path, db_server: ServerBackend | None) -> Iterator[str]:
    """The URL of a new, empty database on the selected backend (dropped afterwards)."""
    if db_server is None:
        yield f"sqlite:///{tmp_path / 'lhc.sqlite'}"
        return
    name = db_server.create()
    yield db_server.url_for(name)
    db_server.drop(name)


@pytest.fixture
def db(backend_url: str) -> Iterator[Database]:
    """An empty console-created database (a file on SQLite, so worker threads share it)."""
    database = open_database(backend_url)
    yield database
    database.close()


@pytest.fixture(scope="session")
def sample_template(
    tmp_path_factory: pytest.TempPathFactory, db_server: ServerBackend | None
) -> str:
    """The sample loaded once per run; each test gets a copy (bcrypt is slow on purpose).

    SQLite: the template file's path; a server: the template database's name.
    """
    if db_server is None:
        path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
        database = open_database(f"sqlite:///{path}")
        load_sample(database, by=Authority.LOCAL)
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.close()
        return str(path)
    name = db_server.create()
    database = open_database(db_server.url_for(name))
    load_sample(database, by=Authority.LOCAL)
    database.close()
    return name


@pytest.fixture
def sample_url(
    tmp_path: Path, sample_template: str, db_server: ServerBackend | None
) -> Iterator[str]:
    """The URL of a fresh copy of the sample configuration (SPEC §5), for apps and processes."""
    if db_server is None:
        path = tmp_path / "sample.sqlite"
        copy_sqlite(Path(sample_template), path)
        yield f"sqlite:///{path}"
        return
    name = db_server.create(template=sample_template)
    yield db_server.url_for(name)
    db_server.drop(name)


@pytest.fixture
def sample_db(sample_url: str) -> Iterator[Database]:
    """A fresh copy of the sample configuration (SPEC §5), open and bound to the models."""
    database = open_database(sample_url)
    yield database
    database.close()


@pytest.fixture
def as_user(sample_db: Database) -> Callable[[str], Session]:
    """``as_user("Teamleader US")``: a session acting as that sample user (no password)."""

    def make(username: str) -> Session:
        return Session(sample_db, User.get(User.username == username).id)

    return make
