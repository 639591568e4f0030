"""Which database the suite runs on: SQLite files by default, or a real MariaDB/PostgreSQL server.

``LHC_TEST_BACKEND=mariadb`` (or ``postgresql``) runs the database tests against the server whose
URL is in ``LHC_TEST_MARIADB`` (``LHC_TEST_POSTGRES``): an account allowed to create and drop
databases named ``lhc_test_*`` (``.ci/servers`` sets one up). Every test gets its own throwaway
database, dropped afterwards; the sample is loaded once into a template and copied per test.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

SERVER_URL_VARIABLES = {"mariadb": "LHC_TEST_MARIADB", "postgresql": "LHC_TEST_POSTGRES"}
_NUMBERS = itertools.count()  # one sequence per process, whichever backend object asks


def selected_backend() -> str:
    """``sqlite``, ``mariadb`` or ``postgresql`` from ``LHC_TEST_BACKEND``."""
    name = os.environ.get("LHC_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
    if name not in ("sqlite", *SERVER_URL_VARIABLES):
        raise RuntimeError(f"LHC_TEST_BACKEND={name!r}: use sqlite, mariadb or postgresql")
    return name


def skip_where_id_counters_stay_high() -> None:
    """Skip a test that reloads the sample over itself on MariaDB.

    InnoDB never lowers an AUTO_INCREMENT counter inside a transaction, so the sample's fixed
    ids cannot be recreated after its rows were deleted: the loader refuses (tested below).
    """
    import pytest

    if selected_backend() == "mariadb":
        pytest.skip("MariaDB keeps its id counters after DELETE; the sample needs a new database")


def server_url(name: str) -> str | None:
    """The configured server URL for ``mariadb`` or ``postgresql``, or None."""
    return os.environ.get(SERVER_URL_VARIABLES[name], "").strip() or None


@dataclass
class ServerBackend:
    """Creates, copies and drops throwaway databases on one server."""

    name: str
    url: str
    created: list[str] = field(default_factory=list)

    def new_name(self) -> str:
        return f"lhc_test_{os.getpid()}_{next(_NUMBERS)}"

    def url_for(self, database: str) -> str:
        parsed = urlparse(self.url)
        return parsed._replace(path=f"/{database}").geturl()

    def _admin(self):  # type: ignore[no-untyped-def]
        parsed = urlparse(self.url)
        if self.name == "mariadb":
            import pymysql

            return pymysql.connect(
                host=parsed.hostname, port=parsed.port or 3306, user=parsed.username,
                password=parsed.password or "", autocommit=True, charset="utf8mb4",
            )
        import psycopg

        return psycopg.connect(
            host=parsed.hostname, port=parsed.port or 5432, user=parsed.username,
            password=parsed.password or "", dbname="postgres", autocommit=True,
        )

    def create(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its name."""
        database = self.new_name()
        connection = self._admin()
        try:
            cursor = connection.cursor()
            if self.name == "mariadb":
                cursor.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
                if template:
                    cursor.execute(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema=%s",
                        (template,),
                    )
                    for (table,) in cursor.fetchall():
                        cursor.execute(f"CREATE TABLE `{database}`.`{table}` "
                                       f"LIKE `{template}`.`{table}`")
                        cursor.execute(f"INSERT INTO `{database}`.`{table}` "
                                       f"SELECT * FROM `{template}`.`{table}`")
            else:
                suffix = f' TEMPLATE "{template}"' if template else ""
                cursor.execute(f'CREATE DATABASE "{database}"{suffix}')
        finally:
            connection.close()
        self.created.append(database)
        return database

    def drop(self, database: str) -> None:
        """Drop a throwaway database; retried, since PostgreSQL's autovacuum may be in it."""
        if self.name == "mariadb":
            statement = f"DROP DATABASE IF EXISTS `{database}`"
        else:
            statement = f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
        for attempt in range(10):
            connection = self._admin()
            try:
                connection.cursor().execute(statement)
                break
            except Exception:
                if attempt == 9:
                    return  # left for the end of the run (``created`` still names it)
                time.sleep(0.3)
            finally:
                connection.close()
        if database in self.created:
            self.created.remove(database)


def copy_sqlite(template: Path, target: Path) -> None:
    """A fresh copy of an SQLite file (checkpointed, so the file alone holds everything)."""
    shutil.copyfile(template, target)
