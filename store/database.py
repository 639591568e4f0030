"""Opening the database a URL names, and creating LHC's schema where the console owns it.

The URL comes from ``--db``, else ``LHC_CONSOLE_DB``, else an SQLite file in the platformdirs
user data directory. SQLite settings, chosen deliberately:

- ``journal_mode=wal``: readers (other consoles over SSH) never block the writer and vice versa.
- ``busy_timeout=15000``: a second writer waits up to 15 s for the lock instead of failing at once
  with "database is locked".
- ``synchronous=normal``: durable at every checkpoint, and safe with WAL (no corruption on
  power loss, at most the last transactions lost), much faster than ``full``.
- ``foreign_keys=on``: LHC's schema declares no foreign keys (integrity is the services' job),
  so this changes nothing today; it is on so that any key a later schema declares is enforced.

Write transactions on SQLite start with ``BEGIN IMMEDIATE`` (see ``write_transaction``) so two
consoles never deadlock upgrading a read lock to a write lock.

A SQLite file this process cannot write (the file, its folder, or a read-only mount:
``store.locations.sqlite_read_only_reason``) is opened read-only instead (``mode=ro`` URI,
``query_only``, none of the settings above that write, so nothing tries to switch it to WAL):
reports and reads work, and ``write_transaction`` refuses every write before it starts with
``store.faults.ReadOnlyDatabaseError`` ("this database is read-only: <reason>; nothing was
changed"). The database says so in ``console_read_only`` and ``console_read_only_reason``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from peewee import (
    Database,
    InterfaceError,
    Model,
    MySQLDatabase,
    OperationalError,
    PeeweeException,
    PostgresqlDatabase,
    SqliteDatabase,
)
from playhouse.db_url import parseresult_to_dict
from playhouse.shortcuts import ReconnectMixin

from .drivers import peewee_lacks_driver
from .errors import StoreError
from .faults import ReadOnlyDatabaseError, read_only_reason, refuse_if_read_only
from .locations import APP_NAME as APP_NAME  # re-exported: their home before store.locations
from .locations import ENV_VAR as ENV_VAR
from .locations import NoDatabaseError as NoDatabaseError
from .locations import default_database_path as default_database_path
from .locations import describe_url as describe_url
from .locations import normalise_url as _normalise
from .locations import resolve_database_url as resolve_database_url
from .locations import sqlite_file, sqlite_read_only_reason
from .models import ALL_MODELS, database_proxy
from .regular_files import open_for_reading
from .schema import adapt_models, restore_all_models

SQLITE_PRAGMAS: dict[str, object] = {
    "journal_mode": "wal",
    "busy_timeout": 15000,
    "synchronous": "normal",
    "foreign_keys": 1,
}

SQLITE_READ_ONLY_PRAGMAS: dict[str, object] = {
    "busy_timeout": 15000,
    "foreign_keys": 1,
    "query_only": 1,
}
"""For a file this process cannot write: nothing that writes (no ``journal_mode``), and
``query_only`` so that even a stray write fails inside SQLite rather than reaching the file."""


DRIVERS: dict[str, tuple[tuple[str, ...], str]] = {
    "mysql": (("pymysql", "MySQLdb"), "pip install 'lhc-console[mysql]' (the PyMySQL driver)"),
    "postgresql": (
        ("psycopg", "psycopg2"),
        "pip install 'lhc-console[postgresql]' (the psycopg driver)",
    ),
}
"""Per server family: the driver modules Peewee can use, and what to install when none is."""

SCHEME_FAMILIES = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgres": "postgresql",
    "postgresql": "postgresql",
}


POSTGRES_FIELD_TYPES = {"LONGTEXT": "TEXT", "TINYINT": "SMALLINT"}
"""MySQL column types of LHC's schema that PostgreSQL spells differently."""


class ServerMySQLDatabase(ReconnectMixin, MySQLDatabase):
    """MySQL/MariaDB that reconnects a dropped idle connection (never inside a transaction)."""


class ServerPostgresqlDatabase(ReconnectMixin, PostgresqlDatabase):
    """PostgreSQL that reconnects a dropped idle connection (never inside a transaction)."""

    reconnect_errors = (
        (OperationalError, "server closed the connection"),
        (OperationalError, "terminating connection"),
        (OperationalError, "the connection is closed"),
        (OperationalError, "connection is lost"),
        (InterfaceError, "connection already closed"),
        (InterfaceError, "the connection is closed"),
    )


def open_database(url: str, *, create_schema: bool = True, create: bool = True) -> Database:
    """Connect to ``url``, bind the models to it and make sure LHC's tables exist.

    On a database with no ``lh_users`` table the console creates LHC's schema (it owns that
    database). On one that has it, tables are used as they are (see ``store.schema``): the
    console never creates, drops or alters tables on a database LHC made.

    A missing SQLite file is created (mode 0600, in an existing folder: see
    ``store.locations.sqlite_file``) only with ``create``; without it, it is a
    ``NoDatabaseError`` and nothing is created. The commands pass ``create=False`` except
    ``sample`` and ``import``. The database's ``console_created`` is the path of a file this
    call created, else None; ``console_url`` is the URL it opened, a SQLite one with its
    absolute path (``sqlite:////abs/path``). An existing SQLite file this process cannot
    write is opened read-only: ``console_read_only`` is then True and
    ``console_read_only_reason`` says why (``store.faults.read_only_reason(db)``), and every
    ``write_transaction`` on it is refused with ``ReadOnlyDatabaseError``.
    """
    created = None
    read_only = None
    try:
        path, new_file = sqlite_file(url, create=create)
        raw, url = url, _normalise(url)
        scheme = url.split("://", 1)[0].lower()
        if scheme == "sqlite":
            read_only = sqlite_read_only_reason(path) if path is not None else None
            db: Database = _sqlite_database(raw, path, read_only)
            query = urlparse(raw).query if "://" in raw else ""
            url = f"sqlite:///{path or ':memory:'}" + (f"?{query}" if query else "")
            created = path if new_file else None
        elif scheme in SCHEME_FAMILIES:
            db = _server_database(url, SCHEME_FAMILIES[scheme])
        else:
            raise StoreError(
                f"Unknown database URL scheme {scheme!r}: use sqlite:///FILE, "
                "mysql://USER:PASSWORD@HOST:PORT/NAME or postgresql://USER:PASSWORD@HOST:PORT/NAME"
            )
    except (RuntimeError, ValueError, OSError) as exc:
        raise StoreError(f"Cannot open database {_redact(url)}: {exc}") from exc
    db.console_url = url  # type: ignore[attr-defined]  # where it came from (tests, headers)
    db.console_created = created  # type: ignore[attr-defined]  # a new SQLite file, or None
    db.console_read_only = read_only is not None  # type: ignore[attr-defined]
    db.console_read_only_reason = read_only  # type: ignore[attr-defined]  # why, or None
    db.console_sqlite_path = path if scheme == "sqlite" else None  # type: ignore[attr-defined]
    database_proxy.initialize(db)
    if create_schema:
        try:
            with database_errors(f"Cannot open database {_redact(url)}"):
                ensure_schema(db)
        except StoreError:
            db.close()
            raise
    else:
        restore_all_models()
    return db


def _sqlite_database(url: str, path: Path | None, read_only: str | None) -> Database:
    """The SQLite database at ``path`` (None: in memory), with the URL's query options;
    opened read-only when ``read_only`` says why it must be."""
    options: dict[str, Any] = parseresult_to_dict(urlparse(url)) if "://" in url else {}
    options.pop("database", None)
    if path is None or read_only is None:
        options["pragmas"] = SQLITE_PRAGMAS
        return SqliteDatabase(str(path) if path is not None else ":memory:", **options)
    options["pragmas"] = SQLITE_READ_ONLY_PRAGMAS
    options["uri"] = True
    location = "file:" + quote(str(path), safe="/") + "?mode=ro"
    if not _is_wal_without_shm(path):
        db = SqliteDatabase(location, **options)
        if _readable(db):
            return db
        db.close()
    # A WAL database no one has open (no -shm file): SQLite would create its -wal and -shm
    # files beside it, owned by this process, and the owner's next write would fail on them
    # ("attempt to write a readonly database"); where the folder is not writable, it cannot
    # read at all. So the file is read as it is, creating nothing: ``immutable``. A writer that
    # starts later is not seen (or makes a read fail, "malformed") until it is opened again.
    db = SqliteDatabase(location + "&immutable=1", **options)
    with database_errors(f"Cannot open database {path}"):
        db.connect(reuse_if_open=True)
    return db


def _is_wal_without_shm(path: Path) -> bool:
    """An SQLite file in WAL mode (header bytes 18-19) with no ``-shm`` file beside it."""
    try:
        with open_for_reading(path) as handle:  # a pipe is never waited on
            header = handle.read(20)
    except OSError:
        return False
    wal = len(header) == 20 and header[18] == 2 and header[19] == 2
    return wal and not Path(f"{path}-shm").exists()


def _readable(db: Database) -> bool:
    """Whether a read-only SQLite database can be read as it is (see ``_sqlite_database``)."""
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()
    except OperationalError as error:
        text = str(error).lower()
        if "readonly" in text or "unable to open" in text:
            return False
        raise StoreError(f"Cannot open database {db.database}: {_plain(error)}") from error
    return True


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _server_database(url: str, family: str) -> Database:
    """A MySQL/MariaDB or PostgreSQL database from a URL, after checking its driver is there."""
    modules, install = DRIVERS[family]
    if not any(_importable(m) for m in modules):
        raise StoreError(f"No driver for {url.split('://', 1)[0]} databases: {install}")
    if peewee_lacks_driver(family):
        raise StoreError(
            f"This process loaded Peewee for a SQLite file without the {family} driver "
            "(store.drivers); open server databases in a process of their own"
        )
    parsed = urlparse(url)
    options = parseresult_to_dict(parsed, unquote_password=True, unquote_user=True)
    if not options.get("database"):
        raise StoreError(f"The URL {_redact(url)} names no database (…/NAME at the end)")
    if family == "mysql":
        if "passwd" in options:
            options["password"] = options.pop("passwd")
        options.setdefault("charset", "utf8mb4")
        # LHC's columns are utf8mb4 and MariaDB's strict mode is the norm: the session is put in
        # strict mode so an invalid write fails here instead of being silently truncated.
        options.setdefault("sql_mode", "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION")
        return ServerMySQLDatabase(**options)
    return ServerPostgresqlDatabase(field_types=POSTGRES_FIELD_TYPES, **options)


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def ensure_schema(db: Database) -> None:
    """Create LHC's tables on a console-owned database; adapt to them on an existing LHC one."""
    if "lh_users" not in set(db.get_tables()):
        reason = read_only_reason(db)
        if reason is not None:
            raise ReadOnlyDatabaseError(f"{reason}, and it holds no LHC tables to read")
        restore_all_models()
        with db.atomic():
            db.create_tables(ALL_MODELS, safe=True)
        return
    adapt_models(db)


def is_server(db: Database) -> bool:
    """A MySQL/MariaDB or PostgreSQL server rather than the embedded SQLite file."""
    return not isinstance(db, SqliteDatabase)


def reset_id_sequences(db: Database, models: Iterable[type[Model]] = ALL_MODELS) -> None:
    """After rows were written with explicit ids, move PostgreSQL's id sequences past them.

    MySQL and SQLite continue after the largest id by themselves; PostgreSQL's ``SERIAL``
    sequence does not, and the next insert would collide with an imported row.
    """
    if not isinstance(db, PostgresqlDatabase):
        return
    for model in models:
        table = model._meta.table_name
        db.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


@contextmanager
def write_transaction(db: Database) -> Iterator[None]:
    """One transaction for one user action; on SQLite it takes the write lock up front.

    Database failures (locked, gone, disk full) become a ``StoreError`` with a plain message;
    the transaction is rolled back either way. On a database opened read-only it is refused
    before anything starts (``ReadOnlyDatabaseError``).
    """
    refuse_if_read_only(db)
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
def database_errors(doing: str = "Database error") -> Iterator[None]:
    """Turn driver exceptions into the store's error family (never a traceback for a user).

    A lost server connection is closed here so the next action opens a fresh one, and the
    message says so; the action itself was rolled back and changed nothing.
    """
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        db = database_proxy.obj
        if db is not None and is_server(db) and _connection_lost(exc):
            with suppress(Exception):
                db.close()
            raise StoreError(
                f"{doing}: the connection to the database server was lost; nothing was "
                "changed, try again"
            ) from exc
        raise StoreError(f"{doing}: {_plain(exc)}") from exc
    except PeeweeException as exc:
        raise StoreError(f"{doing}: {_plain(exc)}") from exc


_LOST_CONNECTION_HINTS = (
    "2006",
    "2013",
    "gone away",
    "lost connection",
    "server closed the connection",
    "connection already closed",
    "the connection is closed",
    "terminating connection",
    "(0, '')",
)


def _connection_lost(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(hint in text for hint in _LOST_CONNECTION_HINTS)


def _plain(exc: Exception) -> str:
    """A driver message on one line (psycopg's carry a multi-line context)."""
    return " ".join(str(exc).split())
