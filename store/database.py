"""Opening the database a URL names, and creating LHC's schema where the console owns it.

The URL comes from ``--db``, else ``LHC_CONSOLE_DB``, else an SQLite file in the platformdirs
user data directory. SQLite settings, chosen deliberately:

- ``journal_mode=wal``: readers (other consoles over SSH) never block the writer and vice versa.
- ``busy_timeout=5000``: a second writer waits up to 5 s for the lock instead of failing at once
  with "database is locked".
- ``synchronous=normal``: durable at every checkpoint, and safe with WAL (no corruption on
  power loss, at most the last transactions lost), much faster than ``full``.
- ``foreign_keys=on``: LHC's schema declares no foreign keys (integrity is the services' job),
  so this changes nothing today; it is on so that any key a later schema declares is enforced.

Write transactions on SQLite start with ``BEGIN IMMEDIATE`` (see ``write_transaction``) so two
consoles never deadlock upgrading a read lock to a write lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from peewee import Database, PeeweeException, SqliteDatabase
from playhouse.db_url import connect

from .errors import SchemaError, StoreError
from .models import ALL_MODELS, database_proxy

ENV_VAR = "LHC_CONSOLE_DB"
APP_NAME = "lhc-console"

SQLITE_PRAGMAS: dict[str, object] = {
    "journal_mode": "wal",
    "busy_timeout": 5000,
    "synchronous": "normal",
    "foreign_keys": 1,
}


def default_database_path() -> Path:
    """The embedded SQLite file: ``<user data dir>/lhc-console/lhc-console.sqlite``."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "lhc-console.sqlite"


def resolve_database_url(cli_value: str | None = None) -> str:
    """``--db`` wins, then ``LHC_CONSOLE_DB``, then the embedded default file."""
    if cli_value:
        return cli_value
    env_value = os.environ.get(ENV_VAR, "").strip()
    if env_value:
        return env_value
    return f"sqlite:///{default_database_path()}"


def _normalise(url: str) -> str:
    """Accept a bare file path as SQLite, the way a user would type it."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    return url


def open_database(url: str, *, create_schema: bool = True) -> Database:
    """Connect to ``url``, bind the models to it and make sure LHC's tables exist.

    On a database with no ``lh_users`` table the console creates LHC's schema (it owns that
    database). On one that has it, tables are used as they are and a missing one is an error
    naming it: the console never creates, drops or alters tables on a database LHC made.
    """
    url = _normalise(url)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        if url.startswith("sqlite"):
            db = connect(url, pragmas=SQLITE_PRAGMAS)
        else:
            db = connect(url)
    except ImportError as exc:  # pragma: no cover - depends on installed drivers
        raise StoreError(f"No database driver for {url.split('://')[0]}: {exc}") from exc
    except (RuntimeError, ValueError) as exc:
        raise StoreError(f"Cannot open database {_redact(url)}: {exc}") from exc
    database_proxy.initialize(db)
    if create_schema:
        try:
            ensure_schema(db)
        except PeeweeException as exc:
            db.close()
            raise StoreError(f"Cannot open database {_redact(url)}: {exc}") from exc
    return db


def describe_url(url: str) -> str:
    """A short name of the database for headers: the SQLite file name, or host/database."""
    url = _normalise(url)
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).name or url
    rest = url.split("://", 1)[1]
    return rest.rsplit("@", 1)[-1]


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def ensure_schema(db: Database) -> None:
    """Create LHC's tables on a console-owned database; check them on an existing LHC one."""
    existing = set(db.get_tables())
    if "lh_users" not in existing:
        with db.atomic():
            db.create_tables(ALL_MODELS, safe=True)
        return
    missing = [m._meta.table_name for m in ALL_MODELS if m._meta.table_name not in existing]
    if missing:
        raise SchemaError(
            "This LHC database lacks table(s) the console needs: " + ", ".join(missing)
        )


@contextmanager
def write_transaction(db: Database) -> Iterator[None]:
    """One transaction for one user action; on SQLite it takes the write lock up front.

    Database failures (locked, gone, disk full) become a ``StoreError`` with a plain message;
    the transaction is rolled back either way.
    """
    with database_errors():
        if isinstance(db, SqliteDatabase) and not db.in_transaction():
            with db.atomic("IMMEDIATE"):
                yield
        else:
            with db.atomic():
                yield


@contextmanager
def read_transaction(db: Database) -> Iterator[None]:
    """A consistent snapshot for a read; failures become a ``StoreError``."""
    with database_errors(), db.atomic():
        yield


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn driver exceptions into the store's error family (never a traceback for a user)."""
    try:
        yield
    except PeeweeException as exc:
        raise StoreError(f"Database error: {exc}") from exc
