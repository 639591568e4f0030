"""Database faults in words a team leader can act on: a file that vanished, a lock held too long.

``store.database`` turns every driver error into a ``StoreError`` ("Database error: database is
locked"). Around each session action this module adds what the driver cannot say:

- an SQLite file that was deleted or moved (or whose folder was removed) while the console ran:
  SQLite keeps writing to the unlinked file, so every change would silently vanish; the action is
  refused before it starts, naming the file;
- a lock another program holds for longer than ``busy_timeout``: the message says so, how long
  the console waited, and that nothing was changed;
- a database this process cannot write (``store.database`` opens it read-only): every write is
  refused before it starts, saying why (``ReadOnlyDatabaseError``).

Only the message changes; the transaction has rolled back either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from peewee import Database, OperationalError, SqliteDatabase

from .errors import StoreError


class DatabaseGoneError(StoreError):
    """The database file is no longer where the console opened it."""


class DatabaseBusyError(StoreError):
    """Another program held the database's lock for longer than the console waits."""


class ReadOnlyDatabaseError(StoreError):
    """A write on a database opened read-only; raised before anything is tried."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"this database is read-only: {reason}; nothing was changed")
        self.reason = reason


def read_only_reason(db: Database | None) -> str | None:
    """Why ``db`` was opened read-only (``store.database.open_database`` decides), or None."""
    return getattr(db, "console_read_only_reason", None)


def refuse_if_read_only(db: Database | None) -> None:
    """Raise ``ReadOnlyDatabaseError`` for a database opened read-only."""
    reason = read_only_reason(db)
    if reason is not None:
        raise ReadOnlyDatabaseError(reason)


def sqlite_file(db: Database) -> Path | None:
    """The file of an SQLite database, or None (in-memory, or another server)."""
    if not isinstance(db, SqliteDatabase):
        return None
    opened = getattr(db, "console_sqlite_path", None)  # a read-only one is opened by URI
    if opened is not None:
        return Path(opened)
    name = str(db.database or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def check_present(db: Database) -> None:
    """Refuse to work on an SQLite file that was deleted or moved since it was opened."""
    path = sqlite_file(db)
    if path is not None and not path.exists():
        raise DatabaseGoneError(
            f"The database file {path} is gone (deleted or moved, or its folder removed): "
            "nothing was changed. Quit and start the console again on the right database."
        )


@contextmanager
def plain_faults(db: Database) -> Iterator[None]:
    """Check the file is there, then re-word lock and file errors of what runs inside."""
    check_present(db)
    try:
        yield
    except StoreError as error:
        cause = error.__cause__
        if not isinstance(cause, OperationalError):
            raise
        text = str(cause).lower()
        if "locked" in text or "busy" in text:
            raise DatabaseBusyError(
                f"The database is locked by another program (waited {_waited(db)}): nothing "
                "was changed. Try again in a moment; if it stays locked, look for a stuck "
                "import or another tool holding the file."
            ) from cause
        if "unable to open" in text or "disk i/o" in text or "readonly" in text:
            check_present(db)  # gone meanwhile: say that rather than SQLite's words
            refuse_if_read_only(db)
            raise StoreError(
                f"The database cannot be written ({cause}): nothing was changed."
            ) from cause
        raise


def _waited(db: Database) -> str:
    """How long SQLite waited for the lock, from the connection's ``busy_timeout``."""
    try:
        millis = int(db.execute_sql("PRAGMA busy_timeout").fetchone()[0])
    except Exception:
        return "for the busy timeout"
    return f"{millis / 1000:g} s"
