"""The database layer: URL choice, SQLite settings, idempotent schema, LHC's exact columns."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from peewee import CharField, Database

from store import Scope, Session, StoreError
from store.database import ENV_VAR, default_database_path, open_database, resolve_database_url
from store.models import ALL_MODELS, Department, User
from store.permissions import PermissionSet

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "lhc_permission_tables.json"


def test_db_option_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "sqlite:///from-env.sqlite")
    assert resolve_database_url("sqlite:///from-option.sqlite") == "sqlite:///from-option.sqlite"
    assert resolve_database_url(None) == "sqlite:///from-env.sqlite"
    monkeypatch.delenv(ENV_VAR)
    assert resolve_database_url(None) == f"sqlite:///{default_database_path()}"
    assert default_database_path().name == "lhc-console.sqlite"


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_with_a_busy_timeout_and_foreign_keys(db: Database) -> None:
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 15000
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_schema_creation_is_idempotent_and_keeps_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite'}"
    first = open_database(url)
    Department.create(name="Kept")
    tables = sorted(first.get_tables())
    first.close()
    second = open_database(url)
    assert sorted(second.get_tables()) == tables
    assert [d.name for d in Department.select()] == ["Kept"]
    second.close()


def test_a_bare_path_is_an_sqlite_file_in_an_existing_folder(tmp_path: Path) -> None:
    """No folder is created (issue 15, point 5: tests/test_database_paths.py)."""
    path = tmp_path / "console.sqlite"
    open_database(str(path)).close()
    assert path.exists()
    with pytest.raises(StoreError, match="no folder"):
        open_database(str(tmp_path / "deep" / "folder" / "console.sqlite"))
    assert not (tmp_path / "deep").exists()


def test_an_lhc_database_missing_a_table_is_reported_by_name(tmp_path: Path) -> None:
    path = tmp_path / "partial.sqlite"
    db = open_database(f"sqlite:///{path}")
    db.execute_sql("DROP TABLE lh_group_work")
    db.close()
    with pytest.raises(StoreError, match=r"lacks table.*lh_group_work"):
        open_database(f"sqlite:///{path}")


def test_the_parking_tables_of_later_lhc_versions_are_optional(tmp_path: Path) -> None:
    """LHC versions before the ``*_disabled`` tables: the console opens them and never creates."""
    path = tmp_path / "older.sqlite"
    db = open_database(f"sqlite:///{path}")
    db.execute_sql("DROP TABLE lh_userdep_disabled")
    db.execute_sql("DROP TABLE lh_departament_group_user_disabled")
    db.close()
    db = open_database(f"sqlite:///{path}")
    assert "lh_userdep_disabled" not in db.get_tables()
    db.close()


def test_an_lhc_database_missing_a_column_the_rules_need_is_reported_by_name(
    tmp_path: Path,
) -> None:
    path = tmp_path / "partial.sqlite"
    db = open_database(f"sqlite:///{path}")
    db.execute_sql("ALTER TABLE lh_group_work DROP COLUMN group_work_id")
    db.close()
    with pytest.raises(StoreError, match=r"lacks column.*lh_group_work\.group_work_id"):
        open_database(f"sqlite:///{path}")


def test_a_file_that_is_not_a_database_gives_a_store_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not sqlite" * 500)
    with pytest.raises(StoreError, match="Cannot open database"):
        open_database(f"sqlite:///{junk}")


def test_a_new_user_row_is_valid_without_naming_any_optional_column(db: Database) -> None:
    """Every NOT NULL column of lh_users gets LHC's default, so strict MySQL would accept it."""
    user = User.create(username="x", password="y")
    row = db.execute_sql(f"SELECT * FROM lh_users WHERE id = {int(user.id)}").fetchone()
    assert None not in row


@pytest.mark.skipif(not SCHEMA_FILE.exists(), reason=f"LHC schema file absent: {SCHEMA_FILE}")
def test_models_have_lhcs_columns_varchar_lengths_and_defaults() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())["tables"]
    models = {m._meta.table_name: m for m in ALL_MODELS}
    checked = 0
    for table, columns in schema.items():
        if table in ("lh_audits", "lh_users_login"):
            continue  # described only partly there; checked against the CREATE statements below
        fields = models[table]._meta.columns
        for column in columns:
            name = column["field"]
            assert name in fields, f"{table}.{name} missing"
            field = fields[name]
            varchar = re.fullmatch(r"varchar\((\d+)\)", column["type"])
            if varchar:
                assert isinstance(field, CharField)
                assert field.max_length == int(varchar.group(1)), f"{table}.{name} length"
            if column["default"] not in (None, "") and column["field"] != "id":
                assert str(field.default) == str(column["default"]).strip("'"), f"{table}.{name}"
            checked += 1
    assert checked > 150


@pytest.mark.skipif(not SCHEMA_FILE.exists(), reason=f"LHC schema file absent: {SCHEMA_FILE}")
def test_audit_and_login_tables_have_lhcs_columns() -> None:
    creates = json.loads(SCHEMA_FILE.read_text())["tables_create"]
    for model in (m for m in ALL_MODELS if m._meta.table_name in ("lh_audits", "lh_users_login")):
        declared = set(
            re.findall(
                r"`(\w+)` (?:bigint|int|varchar|longtext|timestamp)",
                creates[model._meta.table_name],
            )
        )
        assert declared == set(model._meta.columns)


def _count_queries(db: Database, action) -> int:
    calls = 0
    original = db.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        nonlocal calls
        calls += 1
        return original(sql, params, *args, **kwargs)

    db.execute_sql = counting  # type: ignore[method-assign]
    try:
        action()
    finally:
        db.execute_sql = original  # type: ignore[method-assign]
    return calls


def _config(installer: Session, groups: int) -> int:
    """An actor in ``groups`` groups, each with its own role of 5 policies and a work-with row."""
    actor = installer.users.create(
        username="actor",
        password="pw",
        email="actor@example.com",
        groups=[installer.groups.create("G0").id],
    ).id
    previous = None
    for i in range(1, groups + 1):
        group = installer.groups.create(f"G{i}")
        role = installer.roles.create(f"R{i}")
        for function in ("edituser", "createuser", "userlist", "grouplist", f"f{i}"):
            installer.roles.add_policy(role.id, "lhuser", function)
        installer.groups.attach_role(group.id, role.id)
        if previous is not None:
            installer.groups.set_work_with(group.id, [previous])
        installer.groups.add_member(group.id, actor)
        previous = group.id
    return actor


def _scope_cost(tmp_path: Path, groups: int) -> int:
    db = open_database(f"sqlite:///{tmp_path / f'cost{groups}.sqlite'}")
    try:
        actor = _config(Session.installer(db), groups)
        return _count_queries(db, lambda: Scope.compute(actor, PermissionSet.for_user(actor)))
    finally:
        db.close()


def test_permissions_and_scope_cost_a_fixed_number_of_queries(tmp_path: Path) -> None:
    """No query per group or per role: an actor in 2 groups and one in 25 cost the same."""
    few, many = _scope_cost(tmp_path, 2), _scope_cost(tmp_path, 25)
    assert few == many
    assert many <= 10


@pytest.mark.parametrize(
    ("url", "modules", "package"),
    [
        ("mysql://u:p@127.0.0.1:1/lhc", ("pymysql", "MySQLdb"), "lhc-console[mysql]"),
        ("mariadb://u:p@127.0.0.1:1/lhc", ("pymysql", "MySQLdb"), "lhc-console[mysql]"),
        ("postgresql://u:p@127.0.0.1:1/lhc", ("psycopg", "psycopg2"), "lhc-console[postgresql]"),
    ],
)
def test_a_missing_driver_names_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch, url: str, modules: tuple[str, ...], package: str
) -> None:
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(StoreError, match=re.escape(package)):
        open_database(url)


def test_a_server_that_does_not_answer_is_a_plain_message_without_the_password() -> None:
    with pytest.raises(StoreError) as raised:
        open_database("mysql://someone:hunter2@127.0.0.1:1/lhc")
    message = str(raised.value)
    assert "Cannot open database mysql://someone:***@127.0.0.1:1/lhc" in message
    assert "hunter2" not in message


def test_an_unknown_url_scheme_says_which_ones_work() -> None:
    with pytest.raises(StoreError, match=r"Unknown database URL scheme 'oracle'.*mysql://"):
        open_database("oracle://x@y/z")
