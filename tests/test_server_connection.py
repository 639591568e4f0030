"""A server that drops the console's connection: the next action reconnects, never a traceback.

Runs on MariaDB and PostgreSQL when configured (``.ci/servers``); skips otherwise. The
connection is killed from a second, administrative connection, as a server restart or an idle
timeout would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backends import ServerBackend, server_url
from peewee import Database

from seed.report import Authority
from seed.sample import load_sample
from store import Session, StoreError
from store.database import open_database


@pytest.fixture(params=["mariadb", "postgresql"])
def server_db(request: pytest.FixtureRequest) -> Iterator[tuple[ServerBackend, Database]]:
    root = server_url(request.param)
    if root is None:
        pytest.skip(f"no {request.param} server configured (see .ci/servers)")
    server = ServerBackend(request.param, root)
    name = server.create()
    db = open_database(server.url_for(name))
    load_sample(db, by=Authority.LOCAL)
    yield server, db
    db.close()
    server.drop(name)


def _kill_connection_of(server: ServerBackend, db: Database) -> None:
    if server.name == "mariadb":
        (own_id,) = db.execute_sql("SELECT CONNECTION_ID()").fetchone()
        statement = f"KILL {int(own_id)}"
    else:
        (own_id,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
        statement = f"SELECT pg_terminate_backend({int(own_id)})"
    admin = server._admin()
    try:
        admin.cursor().execute(statement)
    finally:
        admin.close()


def test_a_dropped_idle_connection_is_reopened_by_the_next_action(
    server_db: tuple[ServerBackend, Database],
) -> None:
    server, db = server_db
    session = Session(db, 5)  # Manager US
    assert session.users.get(2).username == "Operator US"
    _kill_connection_of(server, db)
    # The next action finds the connection dead, reconnects and works.
    detail = session.users.update(2, name="Reconnected")
    assert detail.name == "Reconnected"
    assert session.users.get(2).name == "Reconnected"


def test_a_connection_lost_inside_an_action_is_reported_and_changes_nothing(
    server_db: tuple[ServerBackend, Database],
) -> None:
    server, db = server_db
    session = Session(db, 5)
    before = session.users.get(2).name
    with pytest.raises(StoreError, match="connection to the database server was lost"), \
            session.action():
        _kill_connection_of(server, db)
        db.execute_sql("UPDATE lh_users SET name = 'half' WHERE id = 2")
    assert session.users.get(2).name == before
