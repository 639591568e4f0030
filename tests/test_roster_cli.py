"""``lhc-console department show|list`` and the roster of ``depgroup show`` (issue 19, point 3),
in-process on a copy of the sample, as the actor named by ``--as``.

Sample (SPEC §5): Departments US (department 2, and department group 2) holds Operator US,
Teamleader US and Manager US through the group, and admin through "all departments".
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from peewee import Database

from store.models import GroupRole
from tui.command_line.main import main


@pytest.fixture
def run(sample_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> Any:
    """``run("admin", "department", "show", "2")`` -> (exit code, stdout, stderr)."""

    def call(actor: str, *argv: str) -> tuple[int, str, str]:
        monkeypatch.setenv("LHC_CONSOLE_PASSWORD", "admin" if actor == "admin" else "demo")
        code = main([*argv, "--db", sample_db.console_url, "--as", actor])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, err
    return out


def test_department_show_as_a_manager_lists_everyone_with_names_and_ids(run: Any) -> None:
    out = ok(run("Manager US", "department", "show", "Departments US"))
    assert out.splitlines() == [
        "'Departments US' (#2)  roster:",
        "  'admin' (#1) 'Admin': all departments  [max chats 0]",
        "  'Operator US' (#2) 'Operator US': group 'Departments US' (#2)  [max chats 0]"
        "  you may: edit, unassign",
        "  'Teamleader US' (#4) 'Teamleader US': group 'Departments US' (#2)  [max chats 0]"
        "  you may: edit, unassign",
        "  'Manager US' (#5) 'Manager US': group 'Departments US' (#2)  [max chats 0]"
        "  you may: edit, unassign",
        "  4 of 4 people",
    ]


def test_department_show_json_follows_the_as_users_scope(run: Any) -> None:
    manager = json.loads(ok(run("Manager US", "department", "show", "#2", "--json")))
    assert manager["department"] == {"id": 2, "name": "Departments US"}
    assert [p["id"] for p in manager["roster"]["people"]] == [1, 2, 4, 5]
    assert manager["roster"]["hidden"] == 0
    leader = json.loads(ok(run("Teamleader US", "department", "show", "2", "--json")))
    roster = leader["roster"]
    assert [p["username"] for p in roster["people"]] == ["Operator US", "Teamleader US"]
    assert (roster["total"], roster["hidden"], roster["next_after"]) == (2, 2, None)
    assert roster["people"][0]["ways"] == [
        {
            "kind": "depgroup",
            "department_group": {"id": 2, "name": "Departments US"},
            "read_only": False,
            "removable": True,
        }
    ]
    assert roster["people"][0]["actions"] == ["edit", "unassign"]
    text = ok(run("Teamleader US", "department", "show", "2"))
    assert "2 more hidden from you" in text and "Manager US" not in text


def test_department_show_pages_and_filters(run: Any) -> None:
    first = json.loads(ok(run("admin", "department", "show", "2", "--limit", "2", "--json")))
    assert [p["id"] for p in first["roster"]["people"]] == [1, 2]
    assert first["roster"]["next_after"] == 2
    assert "more with --after 2" in ok(run("admin", "department", "show", "2", "--limit", "2"))
    rest = json.loads(ok(run("admin", "department", "show", "2", "--after", "2", "--json")))
    assert [p["id"] for p in rest["roster"]["people"]] == [4, 5]
    found = json.loads(ok(run("admin", "department", "show", "2", "--filter", "manager", "--json")))
    assert [p["username"] for p in found["roster"]["people"]] == ["Manager US"]


def test_unknown_department_and_refusals_exit_2(run: Any) -> None:
    code, out, err = run("admin", "department", "show", "Departments EU")
    assert (code, out) == (2, "")
    assert (
        err == "lhc-console: No department named 'Departments EU' (give its id or its exact name)\n"
    )
    code, out, err = run("Operator US", "department", "show", "2")
    assert (code, out) == (2, "") and "lhuser/userlist" in err


def test_a_page_size_out_of_bounds_is_a_usage_error(run: Any, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        run("admin", "department", "show", "2", "--limit", "1001")
    assert exited.value.code == 2
    assert "expected 1 to 1000, not 1001" in capsys.readouterr().err


def test_department_list(run: Any) -> None:
    listed = json.loads(ok(run("Manager US", "department", "list", "--json")))
    assert listed == {
        "departments": [{"id": 1, "name": "Departments AU"}, {"id": 2, "name": "Departments US"}]
    }
    assert ok(run("Manager US", "department", "list")).splitlines() == [
        "'Departments AU' (#1)",
        "'Departments US' (#2)",
    ]


def test_depgroup_show_keeps_its_keys_and_adds_the_roster(run: Any) -> None:
    shown = json.loads(ok(run("Manager US", "depgroup", "show", "Departments US", "--json")))
    roster = shown.pop("roster")
    assert shown == {"id": 2, "name": "Departments US", "departments": [2], "user_count": 3}
    assert [p["id"] for p in roster["people"]] == [2, 4, 5]
    text = ok(run("Manager US", "depgroup", "show", "Departments US")).splitlines()
    assert text[:3] == [
        "Departments US (#2)  assigned to 3 users",
        "  departments: 'Departments US' (#2)",
        "  roster:",
    ]
    assert text[-1] == "    3 of 3 people"


def test_depgroup_show_without_userlist_shows_the_group_and_says_why_no_roster(
    run: Any,
) -> None:
    GroupRole.create(group_id=2, role_id=4)  # Operators carry Rest API: lhdepartment/list
    shown = json.loads(ok(run("Operator US", "depgroup", "show", "2", "--json")))
    assert shown["roster"] is None and shown["user_count"] == 3
    text = ok(run("Operator US", "depgroup", "show", "2"))
    assert "roster: not shown: Operator US may not see department rosters" in text
