"""The ``lhc-console`` command run in-process on a copy of the sample, and logging in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backends import skip_where_id_counters_stay_high
from peewee import Database

from store import AuthenticationError, Session
from store.models import Audit, Group, User, UserLogin
from tui.command_line.main import main

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def url(sample_db: Database, sample_url: str) -> str:
    return sample_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


# -- scope ------------------------------------------------------------------------------------


def test_scope_json_of_teamleader_us_is_exactly_scenario_1(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    report = run_json(capsys, "scope", "Teamleader US", "--db", url)
    assert report == {
        "user": {"id": 4, "username": "Teamleader US"},
        "usable_groups": [2, 3, 4, 7],
        "assignable_groups": [2, 3, 4, 7],
        "required_groups": [2, 3],
        "visible_users": [2, 3, 4],
        "editable_users": [2, 4],
        "assignable_department_groups": [2],
        "assignable_departments": [],
    }
    assert list(report) == [
        "user",
        "usable_groups",
        "assignable_groups",
        "required_groups",
        "visible_users",
        "editable_users",
        "assignable_department_groups",
        "assignable_departments",
    ]


def test_scope_json_of_manager_us_is_scenario_2(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    report = run_json(capsys, "scope", "Manager US", "--db", url)
    assert report["visible_users"] == [1, 2, 3, 4, 5]
    assert report["editable_users"] == [2, 3, 4, 5]
    assert report["assignable_groups"] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert report["assignable_department_groups"] == [1, 2]


def test_scope_json_of_operator_us_shows_no_editable_users(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    report = run_json(capsys, "scope", "Operator US", "--db", url)
    assert report["usable_groups"] == [2, 4]
    assert report["visible_users"] == [2, 3]
    assert report["editable_users"] == []
    assert report["assignable_department_groups"] == []


def test_scope_without_json_prints_one_line_per_set(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, _ = run(capsys, "scope", "Teamleader US", "--db", url)
    assert code == 0
    lines = out.splitlines()  # names with their ids; the JSON keeps the ids
    assert (
        "usable_groups: Operators (#2), Teamleader (#3), US Operators (#4), US Teamleaders (#7)"
        in lines
    )
    assert "editable_users: Operator US (#2), Teamleader US (#4)" in lines


# -- perms, who-grants, can ------------------------------------------------------------------


def test_perms_json_of_operator_au_lists_his_limited_see_all(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    report = run_json(capsys, "perms", "Operator AU", "--db", url)
    assert set(report) == {"permissions", "excluded"}
    entries = {(p["module"], p["function"]): p for p in report["permissions"]}
    assert entries[("lhdepartment", "see_all")] == {
        "module": "lhdepartment",
        "function": "see_all",
        "limitation": {"group": [1]},
        "granted_by": [{"group_id": 5, "role_id": 5}],
    }
    assert entries[("lhxml", "*")]["granted_by"] == [{"group_id": 2, "role_id": 2}]
    assert entries[("lhchat", "use")]["limitation"] is None
    assert ("lhuser", "userlist") not in entries
    assert len(report["permissions"]) == 49 + 1  # the Operators role's rows and see_all
    assert report["excluded"] == []


def test_perms_json_of_manager_us_shows_each_key_with_every_group_and_role(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    report = run_json(capsys, "perms", "Manager US", "--db", url)
    entries = {(p["module"], p["function"]): p for p in report["permissions"]}
    assert entries[("lhuser", "*")]["granted_by"] == [{"group_id": 8, "role_id": 7}]
    assert entries[("lhchat", "use")]["granted_by"] == [
        {"group_id": 8, "role_id": 2},
        {"group_id": 8, "role_id": 3},
    ]
    keys = list(entries)
    assert keys == sorted(keys)


def test_perms_text_lists_functions_and_their_sources(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, _ = run(capsys, "perms", "Operator US", "--db", url)
    assert code == 0
    line = (
        """lhdepartment/see_all  {"group": [2]}  """
        "<- group 'US Operators' (#4) role 'Operators US' (#6)"
    )
    assert line in out.splitlines()  # names with their ids, as who-grants prints them


def test_who_grants_json_shows_every_matching_row_of_manager_us(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    report = run_json(capsys, "who-grants", "Manager US", "lhuser", "edituser", "--db", url)
    assert report["user"] == {"id": 5, "username": "Manager US"}
    assert report["granted"] is True
    assert report["limitation"] is None
    found = sorted((r["role_name"], r["module"], r["function"]) for r in report["rows"])
    assert found == [("Managers", "lhuser", "*"), ("Teamleader", "lhuser", "edituser")]
    assert all(r["effective"] and r["type"] == "grant" for r in report["rows"])


def test_who_grants_marks_rows_of_a_disabled_group_as_giving_nothing(
    capsys: pytest.CaptureFixture[str], url: str, sample_db: Database
) -> None:
    Group.update(disabled=1).where(Group.id == 3).execute()
    report = run_json(capsys, "who-grants", "Teamleader US", "lhuser", "edituser", "--db", url)
    assert report["granted"] is False
    assert len(report["rows"]) == 1
    row = report["rows"][0]
    assert (row["group_id"], row["group_disabled"], row["effective"]) == (3, True, False)


@pytest.mark.parametrize(
    ("username", "module", "function", "code", "answer"),
    [
        ("Teamleader US", "lhuser", "createuser", 0, "yes"),
        ("Teamleader US", "lhuser", "deleteuser", 1, "no"),
        ("Operator US", "lhuser", "userlist", 1, "no"),
        ("Operator US", "lhpermission", "see_permissions", 0, "yes"),
        ("Manager US", "lhuser", "editusergroupall", 0, "yes"),
        ("admin", "anything", "at_all", 0, "yes"),
    ],
)
def test_can_exits_0_for_yes_and_1_for_no(
    capsys: pytest.CaptureFixture[str],
    url: str,
    username: str,
    module: str,
    function: str,
    code: int,
    answer: str,
) -> None:
    got, out, _ = run(capsys, "can", username, module, function, "--db", url)
    assert (got, out.strip()) == (code, answer)


# -- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "all_departments", "read", "write"),
    [
        ("Operator US", False, [2], [2]),
        ("Operator AU", False, [1], [1]),
        ("Teamleader US", False, [2], [2]),
        ("admin", True, [1, 2], [1, 2]),
    ],
)
def test_access_json_reports_readable_and_writable_departments(
    capsys: pytest.CaptureFixture[str],
    url: str,
    username: str,
    all_departments: bool,
    read: list[int],
    write: list[int],
) -> None:
    report = run_json(capsys, "access", username, "--db", url)
    assert report["all_departments"] is all_departments
    assert report["read"] == read
    assert report["write"] == write


def test_access_of_a_disabled_user_reads_nothing(
    capsys: pytest.CaptureFixture[str], url: str, sample_db: Database
) -> None:
    User.update(disabled=1).where(User.id == 2).execute()
    report = run_json(capsys, "access", "Operator US", "--db", url)
    assert report["read"] == []
    assert report["write"] == []


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("scope", "Nobody"),
        ("perms", "Nobody"),
        ("who-grants", "Nobody", "lhuser", "edituser"),
        ("can", "Nobody", "lhuser", "edituser"),
        ("access", "Nobody"),
    ],
)
def test_an_unknown_user_exits_2_with_a_message_on_stderr(
    capsys: pytest.CaptureFixture[str], url: str, argv: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, *argv, "--db", url)
    assert code == 2
    assert out == ""
    assert "'Nobody'" in err
    assert err.startswith("lhc-console: ")


def test_sample_on_a_non_empty_database_is_refused_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], url: str, sample_db: Database
) -> None:
    audits = Audit.select().count()
    code, out, err = run(capsys, "sample", "--db", url)
    assert code == 2
    assert out == ""
    assert err.startswith("lhc-console: ")
    assert "replace" in err
    assert User.select().count() == 5
    assert Audit.select().count() == audits


def test_sample_replace_reloads_the_sample_and_keeps_the_history(
    capsys: pytest.CaptureFixture[str], url: str, sample_db: Database
) -> None:
    skip_where_id_counters_stay_high()
    User.update(name="Changed").where(User.id == 2).execute()
    Group.create(name="Extra group")
    audits = Audit.select().count()
    code, out, err = run(capsys, "sample", "--replace", "--json", "--db", url)
    assert code == 0, err
    counts = json.loads(out)["counts"]
    assert counts["lh_users"] == 5
    assert counts["lh_group"] == 10
    assert counts["lh_role"] == 7
    assert User.get_by_id(2).name == "Operator"
    assert not Group.select().where(Group.name == "Extra group").exists()
    assert Audit.select().count() > audits  # history kept, new audit rows added
    report = run_json(capsys, "scope", "Teamleader US", "--db", url)
    assert report["editable_users"] == [2, 4]


def test_python_dash_m_tui_runs_the_same_entry_point(url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    result = subprocess.run(
        [sys.executable, "-m", "tui", "scope", "admin", "--json", "--db", url],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["user"] == {"id": 1, "username": "admin"}
    assert report["visible_users"] == [1, 2, 3, 4, 5]
    assert report["editable_users"] == [1, 2, 3, 4, 5]
    assert report["assignable_groups"] == list(range(1, 11))


# -- login ------------------------------------------------------------------------------------


def test_admin_logs_in_with_the_sample_password(sample_db: Database) -> None:
    session = Session.login(sample_db, "admin", "admin")
    assert session.actor_id == 1
    event = UserLogin.select().order_by(UserLogin.id.desc()).get()
    assert (event.user_id, event.type) == (1, 1)
    assert User.get_by_id(1).llogin > 0


def test_admin_logs_in_with_his_e_mail_address(sample_db: Database) -> None:
    session = Session.login(sample_db, "admin@example.com", "admin")
    assert session.actor_id == 1


def test_a_wrong_password_is_refused_and_recorded_as_a_failed_login(sample_db: Database) -> None:
    with pytest.raises(AuthenticationError) as refused:
        Session.login(sample_db, "Teamleader US", "wrong")
    assert "password" in str(refused.value)
    failed = list(UserLogin.select().where((UserLogin.user_id == 4) & (UserLogin.type == 0)))
    assert len(failed) == 1


def test_an_unknown_account_gets_the_same_message_as_a_wrong_password(
    sample_db: Database,
) -> None:
    with pytest.raises(AuthenticationError) as unknown:
        Session.login(sample_db, "nobody", "demo")
    with pytest.raises(AuthenticationError) as wrong:
        Session.login(sample_db, "Operator US", "nope")
    assert str(unknown.value) == str(wrong.value)


def test_a_disabled_account_cannot_log_in_even_with_the_right_password(
    sample_db: Database,
) -> None:
    User.update(disabled=1).where(User.id == 2).execute()
    with pytest.raises(AuthenticationError) as refused:
        Session.login(sample_db, "Operator US", "demo")
    # The same answer as a wrong password (issue 16): the login tells nobody why.
    assert str(refused.value) == "Wrong username/e-mail or password"
    assert not UserLogin.select().where(UserLogin.user_id == 2).exists()  # not even checked


def test_after_lhc_console_sample_the_scenarios_hold_as_exact_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 4: `lhc-console sample` on an empty database, then SPEC §6 through the CLI."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    assert main(["sample", "--db", url]) == 0
    capsys.readouterr()
    assert run_json(capsys, "scope", "Teamleader US", "--db", url) == {
        "user": {"id": 4, "username": "Teamleader US"},
        "usable_groups": [2, 3, 4, 7],
        "assignable_groups": [2, 3, 4, 7],
        "required_groups": [2, 3],
        "visible_users": [2, 3, 4],
        "editable_users": [2, 4],
        "assignable_department_groups": [2],
        "assignable_departments": [],
    }
    assert run_json(capsys, "scope", "Manager US", "--db", url) == {
        "user": {"id": 5, "username": "Manager US"},
        "usable_groups": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        "assignable_groups": [2, 3, 4, 5, 6, 7, 8, 9, 10],
        "required_groups": [2, 3, 8],
        "visible_users": [1, 2, 3, 4, 5],
        "editable_users": [2, 3, 4, 5],
        "assignable_department_groups": [1, 2],
        "assignable_departments": [1, 2],
    }
    assert main(["can", "Operator US", "lhuser", "userlist", "--db", url]) == 1
    assert main(["can", "Operator US", "lhpermission", "see_permissions", "--db", url]) == 0
    capsys.readouterr()
    for username, everything, read, write in (
        ("Operator US", False, [2], [2]),
        ("Operator AU", False, [1], [1]),
        ("admin", True, [1, 2], [1, 2]),
    ):
        access = run_json(capsys, "access", username, "--db", url)
        assert (access["all_departments"], access["read"], access["write"]) == (
            everything,
            read,
            write,
        )
