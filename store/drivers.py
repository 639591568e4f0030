"""Load Peewee without the MySQL and PostgreSQL drivers when the console opens a SQLite file.

Peewee imports every database driver it finds installed when it is first imported. With the
``[mysql]`` and ``[postgresql]`` extras installed, PyMySQL and psycopg cost about 70 ms of a
console start of 250 ms, on every start (and on every SSH connection, which starts a console
process), for a console that usually opens its SQLite file. Peewee reads those drivers once, at
import, so they are hidden from that one import when the process is about to open SQLite; a
process that opens a server database imports Peewee with its driver, as usual.

Call ``load_peewee_for(url)`` before importing ``store.database`` (or anything that imports
Peewee); it does nothing when Peewee is already loaded.
"""

from __future__ import annotations

import importlib
import sys

SERVER_DRIVER_MODULES = ("psycopg2cffi", "psycopg2", "psycopg", "pymysql", "MySQLdb")
PEEWEE_MODULES = ("peewee", "playhouse.db_url", "playhouse.shortcuts")


def load_peewee_for(url: str) -> None:
    """Import Peewee for a database URL: without the server drivers for a SQLite one."""
    if "peewee" in sys.modules:
        return
    scheme = url.split("://", 1)[0].lower() if "://" in url else "sqlite"
    if not scheme.startswith("sqlite"):
        for name in PEEWEE_MODULES:
            importlib.import_module(name)
        return
    hidden = [name for name in SERVER_DRIVER_MODULES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        for name in PEEWEE_MODULES:
            importlib.import_module(name)
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


def peewee_lacks_driver(family: str) -> bool:
    """Whether Peewee was loaded (for SQLite) without the driver a server database needs."""
    import peewee

    # The driver modules peewee imported (None when missing): globals its stubs do not declare.
    if family == "mysql":
        return getattr(peewee, "mysql", None) is None
    return getattr(peewee, "psycopg", None) is None and getattr(peewee, "psycopg2", None) is None
