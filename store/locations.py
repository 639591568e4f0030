"""Where the database is and what to call it: URL resolution and display, without Peewee.

Kept apart from ``store.database`` so that the console can name its database in the title of
the first screen before Peewee (and the MySQL/PostgreSQL drivers Peewee imports with it, when
installed) are loaded; ``store.database`` re-exports these names.

SQLite URLs follow SQLAlchemy's (and Peewee's) convention: what follows ``sqlite:///`` is the
path, so ``sqlite:///relative/x.sqlite`` is relative to the current folder and
``sqlite:////abs/x.sqlite`` (four slashes) absolute. A bare path (no ``://``) is a path as typed.

A missing SQLite file is created only where the caller allows it (``sqlite_file``), owner-only
(0600: it holds password hashes; SQLite gives its ``-wal`` and ``-shm`` files the database
file's mode), and only in an existing folder: the one folder the console creates is the
embedded default's own data folder (0700).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from .errors import StoreError
from .regular_files import check_regular

ENV_VAR = "LHC_CONSOLE_DB"
APP_NAME = "lhc-console"


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


class NoDatabaseError(StoreError):
    """The SQLite file a command names does not exist (and the command may not create it)."""


FILE_MODE = 0o600
"""New database files (and exports): owner-only, they hold password hashes."""
FOLDER_MODE = 0o700
"""The embedded default's data folder, when the console creates it."""


def sqlite_path(url: str) -> Path | None:
    """The absolute path of the SQLite file ``url`` names; None for in-memory or a server.

    ``sqlite:///x.sqlite`` is ``x.sqlite`` in the current folder, ``sqlite:////srv/x.sqlite``
    is ``/srv/x.sqlite``; a bare path is taken as typed (``~`` expanded). A query string
    (``?timeout=5``) is not part of the path. ``sqlite://NAME`` (two slashes) is refused:
    Peewee would read ``NAME`` as a host and quietly open an in-memory database.
    """
    if "://" not in url:
        if not url.strip():
            raise StoreError("The database path is empty")
        return Path(os.path.abspath(Path(url).expanduser()))
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite":
        return None
    if parts.netloc:
        raise StoreError(
            f"The SQLite URL {url!r} names a host ({parts.netloc!r}): use sqlite:///FILE for a "
            "file relative to the current folder, sqlite:////PATH for an absolute path"
        )
    path = parts.path[1:]
    if path == ":memory:":
        return None
    if not path:
        raise StoreError(f"The SQLite URL {url!r} names no file (sqlite:///FILE)")
    return Path(os.path.abspath(path))


def sqlite_file(url: str, *, create: bool) -> tuple[Path | None, bool]:
    """The SQLite file ``url`` names, checked: ``(path, created)``; ``(None, False)`` otherwise.

    A missing file is a ``NoDatabaseError`` unless ``create``; with it, the file is created
    empty, mode 0600, in its existing folder (no folder is ever created, except the embedded
    default's own data folder, mode 0700). An existing file is used as it is: its mode is not
    changed.
    """
    path = sqlite_path(url)
    if path is not None and path.exists():
        try:
            check_regular(path)  # SQLite on a pipe or device would fail late, or wait
        except OSError as error:
            raise StoreError(
                f"The database {path} is {error.strerror}: give an SQLite file"
            ) from error
        return path, False
    if path is None:
        return path, False
    if not create:
        raise NoDatabaseError(f"no database at {path}{_relative_hint(url)}")
    folder = path.parent
    if not folder.is_dir():
        if path != Path(os.path.abspath(default_database_path())):
            raise NoDatabaseError(
                f"no database at {path}, and no folder {folder} to create it in (the console "
                f"creates no folders){_relative_hint(url)}"
            )
        _make_private_folders(folder)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:  # another process created it meanwhile: use theirs
        return path, False
    except OSError as error:
        raise StoreError(f"Cannot create the database {path}: {error.strerror or error}") from error
    os.close(descriptor)
    return path, True


def sqlite_read_only_reason(path: Path) -> str | None:
    """Why this process cannot write the SQLite file at ``path`` (an existing file), or None.

    Asked of the system (``os.access``, ``statvfs``), not guessed from mode bits, so root, ACLs
    and read-only mounts are answered as the kernel would. SQLite writes beside the file too
    (its ``-journal``, or ``-wal`` and ``-shm``), so a folder this process cannot write makes
    the database read-only as well.
    """
    try:
        read_only_mount = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): os.access still answers
        read_only_mount = False
    if read_only_mount:
        return f"{path} is on a read-only file system"
    if not os.access(path, os.W_OK):
        return f"this account ({_account()}) cannot write the file {path}"
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"this account ({_account()}) cannot write the folder {folder}, where SQLite keeps "
            "its journal"
        )
    return None


def _account() -> str:
    """The process's user name (or uid), for messages."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        return f"uid {os.geteuid()}" if hasattr(os, "geteuid") else "this user"


def _relative_hint(url: str) -> str:
    if url.lower().startswith("sqlite:///") and not url.lower().startswith("sqlite:////"):
        return (
            f" ({url.split('?', 1)[0]} is relative to the current folder; an absolute path "
            "takes four slashes: sqlite:////PATH)"
        )
    return ""


def _make_private_folders(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each owner-only."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        try:
            each.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            pass
        except OSError as error:
            raise StoreError(
                f"Cannot create the folder {each}: {error.strerror or error}"
            ) from error


def normalise_url(url: str) -> str:
    """Accept a bare file path as SQLite, the way a user would type it."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    return url


def describe_url(url: str) -> str:
    """A short name of the database for headers: the SQLite file name, or host/database."""
    try:
        path = sqlite_path(url)
    except StoreError:
        return url
    if path is not None:
        return path.name or url
    scheme, rest = normalise_url(url).split("://", 1)
    if scheme.lower().startswith("sqlite"):
        return ":memory:"
    return rest.rsplit("@", 1)[-1]
