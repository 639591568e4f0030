"""The scripting commands in-process (``tui.command_line.main``) on a copy of the sample:
groups, roles, policies, department groups, names and ids, and one command = one transaction.

The subprocess acceptance tests are in ``test_script_cli.py``; these cover the rest of the
surface quickly. The actor's password comes from ``$LHC_CONSOLE_PASSWORD``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import Session
from store.dump import all_rows
from store.models import DepartmentGroupUser, Group, GroupWork, RoleFunction, User
from tui.command_line.main import main


@pytest.fixture
def url(sample_db: Database) -> str:
    return sample_db.console_url


@pytest.fixture
def run(url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """``run("admin", "group", "list")`` -> (exit code, stdout, stderr)."""

    def call(actor: str | None, *argv: str) -> tuple[int, str, str]:
        args = [*argv, "--db", url]
        if actor is not None:
            monkeypatch.setenv("LHC_CONSOLE_PASSWORD", "admin" if actor == "admin" else "demo")
            args += ["--as", actor]
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    return call


def ok(result: tuple[int, str, str]) -> dict[str, Any]:
    """The object a command printed; a write command's impact (``test_impact_cli.py``
    holds it to reality) is checked for its shape and left out."""
    code, out, err = result
    assert code == 0, err
    report = json.loads(out)
    if "impact" in report:
        assert report.pop("dry_run") is False
        assert isinstance(report.pop("impact"), list)
        assert report.pop("impact_withheld", True) is True  # rule 7: other users' chats
        assert isinstance(report.pop("impact_hidden", 0), int)
    return report


def refused(result: tuple[int, str, str], *mentions: str) -> str:
    code, out, err = result
    assert code == 2, out + err
    assert out == ""
    assert err.startswith("lhc-console: ")
    for mention in mentions:
        assert mention in err
    return err


def without_logins(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    out = dict(rows)
    out["lh_users_login"] = []
    out["lh_users"] = [{**r, "llogin": 0} for r in rows["lh_users"]]
    return out


# -- groups ---------------------------------------------------------------------------------


def test_admin_adds_edits_shows_lists_and_deletes_a_group(run: Any) -> None:
    created = ok(
        run(
            "admin",
            "group",
            "add",
            "EU Operators",
            "--works-with",
            "Operators",
            "5",
            "--role",
            "Operators AU",
            "--required",
            "yes",
            "--json",
        )
    )
    assert created == {
        "id": 11,
        "name": "EU Operators",
        "required": True,
        "disabled": False,
        "withheld": False,
        "works_with": [2, 5],
        "roles": [5],
        "member_count": 0,
        "grants_administration": False,
    }
    edited = ok(
        run(
            "admin",
            "group",
            "edit",
            "EU Operators",
            "--name",
            "EMEA Operators",
            "--works-with",
            "--withheld",
            "yes",
            "--role",
            "Operators US",
            "--json",
        )
    )
    assert (edited["name"], edited["works_with"], edited["withheld"], edited["roles"]) == (
        "EMEA Operators",
        [],
        True,
        [6],
    )
    assert [w.group_work_id for w in GroupWork.select().where(GroupWork.group_id == 11)] == [-1]
    assert ok(run("admin", "group", "show", "#11", "--json")) == edited
    listed = ok(run("admin", "group", "list", "--json"))["groups"]
    assert [g["id"] for g in listed] == list(range(1, 12))
    code, out, _ = run("admin", "group", "delete", "EMEA Operators")
    assert code == 0
    assert "Deleted group 'EMEA Operators' (#11)" in out
    assert not Group.select().where(Group.id == 11).exists()


def test_a_group_add_whose_role_is_refused_creates_no_group(run: Any) -> None:
    """Manager US may create groups (lhuser/*) but not attach roles (no lhpermission/edit):
    the group, its work-with list and the roles are one transaction."""
    before = without_logins(all_rows())
    refused(
        run(
            "Manager US",
            "group",
            "add",
            "Night shift",
            "--works-with",
            "Operators",
            "--role",
            "Operators",
        ),
        "Manager US may not attach roles to group 'Night shift'",
        "lhpermission/edit",
    )
    assert without_logins(all_rows()) == before


def test_nothing_to_change_is_said_plainly(run: Any) -> None:
    refused(run("admin", "group", "edit", "Operators"), "Nothing to change")
    refused(run("admin", "user", "edit", "Operator US"), "Nothing to change")
    refused(run("admin", "user", "groups", "Operator US"), "Nothing to change")
    refused(run("admin", "depgroup", "edit", "Departments US"), "Nothing to change")
    refused(
        run("admin", "user", "groups", "Operator US", "--add", "Operators", "--remove", "2"),
        "both added and removed",
    )


# -- names and ids --------------------------------------------------------------------------


def test_objects_are_named_by_id_or_exact_name_and_ambiguity_is_refused(
    run: Any, sample_db: Database
) -> None:
    assert ok(run("admin", "group", "show", "5", "--json"))["name"] == "AU Operators"
    assert ok(run("admin", "group", "show", "AU Operators", "--json"))["id"] == 5
    refused(
        run("admin", "group", "show", "au operators"),
        "No group named 'au operators' (give its id or its exact name)",
    )
    refused(run("admin", "group", "show", "#99"), "No group with id 99")
    Group.create(name="5")  # id 11, named like group 5's id
    refused(
        run("admin", "group", "show", "5"),
        "'5' could mean several groups (#5 'AU Operators', #11 '5'): give the one you mean as #id",
    )
    assert ok(run("admin", "group", "show", "#5", "--json"))["name"] == "AU Operators"
    refused(
        run("admin", "user", "depgroups", "Operator US", "--add", "Departments EU"),
        "No department group named 'Departments EU'",
    )
    refused(run("admin", "role", "show", "Nobody's role"), 'No role named "Nobody\'s role"')


# -- roles and policies ---------------------------------------------------------------------


def test_admin_adds_a_role_with_policies_and_removes_one_by_its_limitation(run: Any) -> None:
    role = ok(run("admin", "role", "add", "EU", "--json"))
    assert (role["id"], role["policies"], role["groups"]) == (8, [], [])
    ok(
        run(
            "admin",
            "policy",
            "add",
            "EU",
            "lhdepartment",
            "see_all",
            "--limitation",
            '{"group": [1]}',
            "--json",
        )
    )
    role = ok(
        run(
            "admin",
            "policy",
            "add",
            "EU",
            "lhdepartment",
            "see_all",
            "--limitation",
            '{"group":[2]}',
            "--json",
        )
    )
    ok(run("admin", "policy", "add", "EU", "lhuser", "deleteuser", "--exclude", "--json"))
    assert [(p["limitation"], p["type"]) for p in role["policies"]] == [
        ('{"group":[1]}', "grant"),
        ('{"group":[2]}', "grant"),
    ]
    refused(
        run("admin", "policy", "remove", "EU", "lhdepartment", "see_all"),
        "Role 'EU' has 2 grants lhdepartment/see_all",
        "--limitation",
    )
    role = ok(
        run(
            "admin",
            "policy",
            "remove",
            "EU",
            "lhdepartment",
            "see_all",
            "--limitation",
            '{ "group" : [2] }',
            "--json",
        )
    )
    assert [(p["module"], p["function"], p["limitation"], p["type"]) for p in role["policies"]] == [
        ("lhdepartment", "see_all", '{"group":[1]}', "grant"),
        ("lhuser", "deleteuser", "", "exclude"),
    ]
    refused(
        run("admin", "policy", "remove", "EU", "lhuser", "deleteuser"),
        "Role 'EU' has no grant lhuser/deleteuser",
    )
    ok(run("admin", "policy", "remove", "EU", "lhuser", "deleteuser", "--exclude", "--json"))
    assert ok(run("admin", "role", "edit", "EU", "--name", "Europe", "--json"))["name"] == "Europe"
    assert ok(run("admin", "role", "show", "Europe", "--json"))["id"] == 8
    assert len(ok(run("admin", "role", "list", "--json"))["roles"]) == 8
    code, _, err = run("admin", "role", "delete", "Europe")
    assert code == 0, err
    assert not RoleFunction.select().where(RoleFunction.role_id == 8).exists()


def test_a_non_administrator_cannot_add_a_star_star_policy(run: Any) -> None:
    RoleFunction.create(role_id=7, module="lhpermission", function="edit")  # Managers
    before = without_logins(all_rows())
    refused(
        run("Manager US", "policy", "add", "Managers", "*", "*"),
        "only administrators",
    )
    assert without_logins(all_rows()) == before


# -- department groups ----------------------------------------------------------------------


def test_manager_adds_edits_and_deletes_a_department_group(run: Any) -> None:
    created = ok(
        run(
            "Manager US",
            "depgroup",
            "add",
            "All of them",
            "--department",
            "Departments AU",
            "2",
            "--json",
        )
    )
    assert created == {"id": 3, "name": "All of them", "departments": [1, 2], "user_count": 0}
    ok(run("Manager US", "user", "depgroups", "Operator AU", "--add", "All of them", "--json"))
    edited = ok(
        run(
            "Manager US",
            "depgroup",
            "edit",
            "All of them",
            "--name",
            "US only",
            "--department",
            "Departments US",
            "--json",
        )
    )
    assert edited == {"id": 3, "name": "US only", "departments": [2], "user_count": 1}
    assert User.get_by_id(3).departments_ids == "1,2"
    listed = ok(run("Manager US", "depgroup", "list", "--json"))["department_groups"]
    assert [g["name"] for g in listed] == ["Departments AU", "Departments US", "US only"]
    shown = ok(run("Manager US", "depgroup", "show", "3", "--json"))
    assert [p["username"] for p in shown.pop("roster")["people"]] == ["Operator AU"]
    assert shown == edited
    code, _, err = run("Manager US", "depgroup", "delete", "US only")
    assert code == 0, err
    assert User.get_by_id(3).departments_ids == "1"
    refused(run("Teamleader US", "depgroup", "add", "Mine"), "lhdepartment/managegroups")


# -- one command, one transaction -----------------------------------------------------------


def test_user_edit_is_one_transaction_a_refused_disable_keeps_the_new_name_out(
    run: Any,
) -> None:
    """Teamleader US may rename himself (selfedit) but not disable himself: nothing changes."""
    before = without_logins(all_rows())
    refused(
        run(
            "Teamleader US",
            "user",
            "edit",
            "Teamleader US",
            "--name",
            "Renamed",
            "--disabled",
            "yes",
        ),
        "Teamleader US may not disable",
    )
    assert without_logins(all_rows()) == before


def test_user_depgroups_is_one_transaction(run: Any) -> None:
    """Adding read-only Departments US is allowed, removing Departments AU (outside his set)
    is not: the read-only flag is not flipped either."""
    ok(run("Manager US", "user", "depgroups", "Operator US", "--add", "Departments AU", "--json"))
    before = without_logins(all_rows())
    refused(
        run(
            "Teamleader US",
            "user",
            "depgroups",
            "Operator US",
            "--add",
            "Departments US",
            "--read-only",
            "--remove",
            "Departments AU",
        ),
        "may not assign department group 'Departments AU'",
    )
    assert without_logins(all_rows()) == before
    read_only = DepartmentGroupUser.get(
        (DepartmentGroupUser.user_id == 2) & (DepartmentGroupUser.dep_group_id == 2)
    ).read_only
    assert read_only == 0


def test_user_groups_adds_and_removes_within_the_assignable_set(run: Any) -> None:
    report = ok(
        run(
            "Manager US",
            "user",
            "groups",
            "Operator US",
            "--add",
            "AU Operators",
            "--remove",
            "US Operators",
            "--json",
        )
    )
    assert report["groups"] == [5, 2]  # by name: AU Operators, Operators


def test_user_departments_all_and_single(run: Any) -> None:
    report = ok(
        run(
            "Manager US",
            "user",
            "departments",
            "Operator US",
            "--all",
            "yes",
            "--add",
            "Departments AU",
            "--read-only",
            "--json",
        )
    )
    assert report["all_departments"] is True
    assert report["departments"] == [{"id": 1, "read_only": True}]
    report = ok(run("Manager US", "user", "departments", "Operator US", "--remove", "1", "--json"))
    assert report["departments"] == []


# -- passwords ------------------------------------------------------------------------------


def test_user_passwd_from_a_file_then_the_user_logs_in_with_it(
    run: Any, sample_db: Database, tmp_path: Path
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("brand-new-password\r\nsecond line ignored\n", encoding="utf-8")
    code, out, err = run(
        "Teamleader US", "user", "passwd", "Operator US", "--new-password-file", str(secret)
    )
    assert code == 0, err
    assert "brand-new" not in out
    assert Session.login(sample_db, "Operator US", "brand-new-password").actor_id == 2


def test_the_two_passwords_cannot_both_come_from_stdin(url: str) -> None:
    before = all_rows()
    code = main(
        [
            "user",
            "passwd",
            "Operator US",
            "--new-password-file",
            "-",
            "--password-stdin",
            "--as",
            "Teamleader US",
            "--db",
            url,
        ]
    )
    assert code == 2
    assert all_rows() == before


def test_a_new_password_is_required_from_somewhere_before_logging_in(run: Any) -> None:
    before = all_rows()
    refused(
        run("Teamleader US", "user", "add", "x", "--email", "x@example.com", "--group", "2"),
        "No new password for 'x'",
        "--generate-password",
    )
    assert all_rows() == before
