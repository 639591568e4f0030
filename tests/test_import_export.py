"""Importing LHC dumps (all or nothing) and exporting them back: SPEC §6 scenario 5, issue 4."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import Database

from seed.exporter import export_dump, sql_literal
from seed.importer import DumpImportError, import_dump
from seed.report import Authority
from seed.sample import load_sample
from store import PermissionSet, Scope, ScopeError, Session
from store.database import open_database
from store.dump import HISTORY_TABLE_NAMES, all_rows, table_counts
from store.models import (
    Group,
    GroupRole,
    GroupUser,
    GroupWork,
    Role,
    RoleFunction,
    User,
    UserDep,
)
from tui.command_line.main import main

DUMP = Path(__file__).resolve().parents[2] / "shared" / "data" / "livehelperchat_install.sql"
needs_dump = pytest.mark.skipif(
    not DUMP.exists(), reason=f"LHC's sample dump is not at {DUMP} (../shared/data)"
)

DUMP_COUNTS = {
    "lh_users": 5,
    "lh_group": 10,
    "lh_groupuser": 9,
    "lh_group_work": 7,
    "lh_role": 7,
    "lh_grouprole": 8,
    "lh_rolefunction": 131,
    "lh_departament": 2,
    "lh_departament_group": 2,
    "lh_departament_group_member": 2,
    "lh_departament_group_user": 4,
    "lh_userdep": 9,
    "lh_users_login": 5,
}


def permission_rows() -> dict[str, list[dict]]:
    return {t: rows for t, rows in all_rows().items() if t not in HISTORY_TABLE_NAMES}


# -- the real LHC dump -----------------------------------------------------------------------


@needs_dump
def test_importing_lhcs_sample_dump_keeps_its_rows_and_admin_logs_in(db: Database) -> None:
    report = import_dump(db, DUMP, by=Authority.LOCAL)
    assert report.counts == DUMP_COUNTS
    counts = table_counts()
    for table, count in DUMP_COUNTS.items():
        assert counts[table] == count, table
    # spot checks, one per permission table, against the dump's own values
    admin = User.get_by_id(1)
    assert (admin.username, admin.all_departments, admin.cache_version) == ("admin", 1, 102)
    assert admin.password.startswith("$2y$10$")
    assert User.get_by_id(3).departments_ids == "-1,1"
    assert Group.get_by_id(8).required == 1
    assert sorted(g.group_id for g in GroupUser.select().where(GroupUser.user_id == 5)) == [8, 9]
    assert GroupWork.get_by_id(9).group_work_id == 7
    assert Role.get_by_id(4).name == "Rest API"
    assert (GroupRole.get_by_id(8).group_id, GroupRole.get_by_id(8).role_id) == (8, 7)
    see_all = RoleFunction.get_by_id(118)
    assert (see_all.module, see_all.function) == ("lhdepartment", "see_all")
    assert json.loads(see_all.limitation) == {"group": [1]}
    assert see_all.type == 0  # the dump's schema has no type column: a grant
    placeholder = UserDep.get_by_id(22)
    assert (placeholder.user_id, placeholder.dep_id, placeholder.ro) == (5, -1, 1)
    assert Session.login(db, "admin", "admin").actor_id == 1


@needs_dump
def test_the_imported_dump_answers_scenario_1_for_teamleader_us(db: Database) -> None:
    import_dump(db, DUMP, by=Authority.LOCAL)
    scope = Scope.compute(4, PermissionSet.for_user(4))
    assert sorted(scope.usable_groups) == [2, 3, 4, 7]
    assert scope.visible_user_ids() == [2, 3, 4]
    assert scope.editable_user_ids() == [2, 4]
    assert sorted(scope.assignable_department_groups) == [2]


@needs_dump
def test_importing_twice_without_replace_is_refused_and_changes_nothing(db: Database) -> None:
    import_dump(db, DUMP, by=Authority.LOCAL)
    before = all_rows()
    with pytest.raises(DumpImportError, match=r"already holds .* --replace"):
        import_dump(db, DUMP, by=Authority.LOCAL)
    assert all_rows() == before


@needs_dump
def test_importing_with_replace_swaps_the_sample_for_the_dump(db: Database) -> None:
    load_sample(db, by=Authority.LOCAL)
    import_dump(db, DUMP, replace=True, by=Authority.LOCAL)
    assert sorted(g.group_id for g in GroupUser.select().where(GroupUser.user_id == 5)) == [8, 9]
    assert table_counts()["lh_audits"] > 171  # the sample's history is kept, not thrown away


@needs_dump
@pytest.mark.parametrize("fraction", [0.35, 0.62, 0.81, 0.97])
def test_a_truncated_dump_is_refused_naming_a_line_and_changes_nothing(
    db: Database, tmp_path: Path, fraction: float
) -> None:
    text = DUMP.read_text(encoding="utf-8")
    cut = text[: int(len(text) * fraction)]
    cut = (
        cut[: cut.rindex("INSERT INTO")]
        + "INSERT INTO `lh_users` (`id`, `username`) VALUES\n(9, 'half"
    )
    broken = tmp_path / "truncated.sql"
    broken.write_text(cut, encoding="utf-8")
    load_sample(db, by=Authority.LOCAL)
    before = all_rows()
    with pytest.raises(DumpImportError, match=r"line \d+") as refused:
        import_dump(db, broken, replace=True, by=Authority.LOCAL)
    assert "nothing was imported" in str(refused.value)
    assert all_rows() == before


@needs_dump
def test_a_value_too_long_for_lhcs_column_is_refused_naming_table_row_and_column(
    db: Database, tmp_path: Path
) -> None:
    text = DUMP.read_text(encoding="utf-8").replace("'Teamleader US'", "'" + "T" * 90 + "'", 1)
    bad = tmp_path / "long.sql"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(DumpImportError) as refused:
        import_dump(db, bad, by=Authority.LOCAL)
    message = str(refused.value)
    assert "lh_users" in message and "row id 4" in message and "username" in message
    assert "80" in message
    assert table_counts()["lh_users"] == 0


def test_null_in_a_required_column_is_refused(db: Database, tmp_path: Path) -> None:
    dump = tmp_path / "null.sql"
    dump.write_text(
        "INSERT INTO `lh_group` (`id`, `name`, `disabled`, `required`) VALUES (1, NULL, 0, 0);\n"
    )
    with pytest.raises(DumpImportError, match=r"line 1: lh_group row id 1: column name: NULL"):
        import_dump(db, dump, by=Authority.LOCAL)
    assert table_counts()["lh_group"] == 0


def test_a_duplicate_id_is_refused_naming_the_line(db: Database, tmp_path: Path) -> None:
    dump = tmp_path / "dup.sql"
    dump.write_text(
        "INSERT INTO `lh_role` (`id`, `name`) VALUES\n(1, 'A'),\n(1, 'B');\n", encoding="utf-8"
    )
    with pytest.raises(DumpImportError, match=r"line 3: lh_role: id 1 appears twice"):
        import_dump(db, dump, by=Authority.LOCAL)
    assert table_counts()["lh_role"] == 0


def test_an_older_schema_imports_with_lhc_defaults(db: Database, tmp_path: Path) -> None:
    """No lh_rolefunction.type (all grants), few lh_users columns, an unknown column ignored."""
    dump = tmp_path / "old.sql"
    dump.write_text(
        "CREATE TABLE `lh_rolefunction` (`id` int(11) NOT NULL AUTO_INCREMENT, `role_id` int(11)"
        " NOT NULL, `module` varchar(100) NOT NULL, `function` varchar(100) NOT NULL,"
        " `limitation` text NOT NULL, PRIMARY KEY (`id`));\n"
        "INSERT INTO `lh_rolefunction` VALUES (7, 2, 'lhuser', 'userlist', '');\n"
        "INSERT INTO `lh_users` (`id`, `username`, `password`, `email`, `legacy_flag`)"
        " VALUES (3, 'old', 'x', 'old@example.com', 1);\n"
        "INSERT INTO `lh_chat` (`id`) VALUES (1);\n",
        encoding="utf-8",
    )
    report = import_dump(db, dump, by=Authority.LOCAL)
    assert report.counts == {"lh_rolefunction": 1, "lh_users": 1}
    assert report.ignored_columns == {"lh_users": ["legacy_flag"]}
    policy = RoleFunction.get_by_id(7)
    assert (policy.type, policy.limitation) == (0, "")
    old = User.get_by_id(3)
    assert (old.disabled, old.max_active_chats, old.departments_ids, old.avatar) == (0, 0, "", "")


def test_a_dry_run_reports_and_changes_nothing(db: Database, tmp_path: Path) -> None:
    load_sample(db, by=Authority.LOCAL)
    path = tmp_path / "export.sql"
    export_dump(path)
    before = all_rows()
    report = import_dump(db, path, dry_run=True, by=Authority.LOCAL)
    assert report.conflicts and "already holds" in report.conflicts[0]
    assert report.counts["lh_users"] == 5
    assert "Teamleader US" in report.usernames
    assert all_rows() == before


def test_a_team_leader_may_not_import_and_nothing_changes(
    sample_db: Database, tmp_path: Path
) -> None:
    teamleader = Session(sample_db, 4)
    path = tmp_path / "export.sql"
    export_dump(path)
    before = all_rows()
    with pytest.raises(ScopeError, match=r"only administrators"):
        import_dump(sample_db, path, replace=True, by=teamleader)
    with pytest.raises(ScopeError, match=r"only administrators"):
        load_sample(sample_db, replace=True, by=teamleader)
    assert all_rows() == before


def test_an_admin_import_is_audited_under_the_admins_id(
    sample_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "export.sql"
    export_dump(path)
    import_dump(sample_db, path, replace=True, by=Session(sample_db, 1))
    from store.models import Audit

    last = Audit.select().order_by(Audit.id.desc()).get()
    assert (last.category, last.user_id) == ("import", 1)
    assert json.loads(last.message)["counts"]["lh_users"] == 5


# -- export → import round trip --------------------------------------------------------------


def test_exporting_the_sample_and_importing_it_gives_identical_rows(
    sample_db: Database, tmp_path: Path
) -> None:
    original = permission_rows()
    path = tmp_path / "sample-export.sql"
    counts = export_dump(path)
    assert counts["lh_rolefunction"] == 131
    fresh = open_database(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    import_dump(fresh, path, by=Authority.LOCAL)
    assert permission_rows() == original
    fresh.close()


def test_the_cli_exports_and_imports(tmp_path: Path, sample_url: str, capsys) -> None:
    url = sample_url
    out = tmp_path / "cli.sql"
    assert main(["export", str(out), "--db", url]) == 0
    target_file = tmp_path / "target.sqlite"
    target = f"sqlite:///{target_file}"
    # A dry run creates no database (issue 15, point 5); on an empty one it checks the dump.
    assert main(["import", str(out), "--dry-run", "--db", target]) == 2
    assert "no database at" in capsys.readouterr().err and not target_file.exists()
    open_database(target).close()
    assert main(["import", str(out), "--dry-run", "--db", target]) == 0
    assert "Dry run: nothing was changed" in capsys.readouterr().out
    assert main(["import", str(out), "--db", target]) == 0
    assert main(["import", str(out), "--db", target]) == 2
    assert "already holds" in capsys.readouterr().err


TRICKY_TEXT = st.text(
    alphabet=st.sampled_from([*string.ascii_letters, *"'\"\\;,()\n\r\t\x1a%_ éü中😀", "\0"]),
    max_size=30,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    names=st.lists(TRICKY_TEXT.filter(lambda s: 0 < len(s.strip()) <= 50), min_size=1, max_size=6),
    limitations=st.lists(TRICKY_TEXT, max_size=5),
    flags=st.lists(st.integers(min_value=-1, max_value=1), max_size=8),
)
def test_export_then_import_round_trips_random_configurations(
    tmp_path_factory: pytest.TempPathFactory,
    names: list[str],
    limitations: list[str],
    flags: list[int],
) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    source = open_database(f"sqlite:///{folder / 'source.sqlite'}")
    for i, name in enumerate(names):
        group = Group.create(name=name[:50], disabled=abs(flags[i % len(flags)]) if flags else 0)
        user = User.create(
            username=f"u{i}{name}"[:80],
            password="$2y$10$x",
            email=f"u{i}@example.com",
            name=name,
            max_active_chats=flags[i % len(flags)] if flags else 0,
        )
        GroupUser.create(group_id=group.id, user_id=user.id)
        GroupWork.create(group_id=group.id, group_work_id=-1 if i % 2 else group.id)
    role = Role.create(name="R")
    for i, limitation in enumerate(limitations):
        RoleFunction.create(
            role_id=role.id, module=f"m{i}", function="*", limitation=limitation, type=i % 2
        )
    UserDep.create(user_id=1, dep_id=-1, ro=1, exc_indv_autoasign=1)
    original = permission_rows()
    path = folder / "dump.sql"
    export_dump(path)
    source.close()
    target = open_database(f"sqlite:///{folder / 'target.sqlite'}")
    import_dump(target, path, by=Authority.LOCAL)
    assert permission_rows() == original
    target.close()


def test_sql_literals_escape_like_mysqldump() -> None:
    assert sql_literal(None) == "NULL"
    assert sql_literal(-1) == "-1"
    assert sql_literal('it\'s "x"\\\n') == "'it\\'s \\\"x\\\"\\\\\\n'"
    assert sql_literal("\0\x1a\r") == "'\\0\\Z\\r'"
