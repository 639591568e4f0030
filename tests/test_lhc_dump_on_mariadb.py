"""SPEC §6 on a live LHC database: the real dump loaded into MariaDB with the ``mysql`` client.

Every scenario test of ``test_sample_scenarios`` runs again here, unchanged, against a MariaDB
database holding LHC's own tables as the dump created them (an older schema: no
``lh_rolefunction.type``, no ``lh_audits.user_id``, no ``*_disabled`` tables). The fixtures below
override the suite's ``sample_db``/``sample_url`` for this module only, so the very same
assertions (rows of SPEC §1.1 column by column included) are made on the live schema.

Needs ``LHC_TEST_MARIADB`` (see ``.ci/servers``), the ``mysql`` client and the dump in
``../shared/data``; skips with the reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from backends import ServerBackend, selected_backend, server_url
from peewee import Database

from store.database import open_database
from store.models import ALL_MODELS, Audit, GroupUser, RoleFunction, User, UserDepDisabled
from store.schema import has_column, has_table

DUMP = __import__("conftest").SHARED_DATA / "livehelperchat_install.sql"
MARIADB = server_url("mariadb")

pytestmark = [
    pytest.mark.skipif(MARIADB is None, reason="no MariaDB configured (LHC_TEST_MARIADB)"),
    pytest.mark.skipif(shutil.which("mysql") is None, reason="the mysql client is not installed"),
    pytest.mark.skipif(not DUMP.is_file(), reason=f"the LHC dump is absent ({DUMP})"),
    pytest.mark.skipif(selected_backend() != "sqlite", reason="runs once, in the plain pass"),
]


@pytest.fixture(scope="module")
def mariadb() -> Iterator[ServerBackend]:
    backend = ServerBackend("mariadb", MARIADB or "")
    yield backend
    for name in list(backend.created):
        backend.drop(name)


@pytest.fixture(scope="module")
def dump_template(mariadb: ServerBackend) -> str:
    """The dump loaded once, exactly as an admin would: ``mysql NAME < dump.sql``."""
    name = mariadb.create()
    parsed = urlparse(mariadb.url)
    with DUMP.open("rb") as dump:
        subprocess.run(
            ["mysql", f"--host={parsed.hostname}", f"--port={parsed.port or 3306}",
             f"--user={parsed.username}", name],
            stdin=dump, check=True, timeout=300,
            env={"MYSQL_PWD": parsed.password or "", "PATH": "/usr/bin:/bin"},
        )
    return name


@pytest.fixture
def sample_url(mariadb: ServerBackend, dump_template: str) -> Iterator[str]:
    """A fresh copy of the dump's tables (LHC's own DDL, copied with CREATE TABLE ... LIKE)."""
    name = mariadb.create(template=dump_template)
    yield mariadb.url_for(name)
    mariadb.drop(name)


@pytest.fixture
def sample_db(sample_url: str) -> Iterator[Database]:
    database = open_database(sample_url)
    yield database
    database.close()


def test_the_console_adapts_to_the_older_schema_and_creates_nothing(sample_db: Database) -> None:
    tables_before = set(sample_db.get_tables())
    assert not has_column(RoleFunction, "type")
    assert not has_column(Audit, "user_id")
    assert not has_table(UserDepDisabled)
    assert not has_column(User, "offline_reason_id")
    assert set(sample_db.get_tables()) == tables_before
    assert "lh_userdep_disabled" not in tables_before
    assert {m._meta.table_name for m in ALL_MODELS} - tables_before == {
        "lh_userdep_disabled", "lh_departament_group_user_disabled",
    }
    assert GroupUser.select().count() > 0


from test_sample_scenarios import *  # noqa: E402, F403  (the scenarios, on this module's fixtures)
