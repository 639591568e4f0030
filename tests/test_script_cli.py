"""Issue 10's acceptance: the scripting CLI run as a real subprocess on a copy of the sample.

Every command runs ``python -m tui … --db sqlite:///copy --as USER`` and logs in like the login
screen (so each leaves one ``lh_users_login`` row and the actor's ``llogin``). A refused command
must leave every other row of every table (``store.dump.all_rows``) as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store.auth import verify_password
from store.dump import all_rows

PROJECT = Path(__file__).resolve().parents[1]
ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
PASSWORDS = {"admin": "admin"}  # every other sample user: "demo"
Rows = dict[str, list[dict[str, Any]]]


def cli(
    url: str,
    *argv: str,
    actor: str | None = None,
    password: str | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``lhc-console ARGV --db URL [--as ACTOR]`` in a subprocess; the actor's password comes
    from ``$LHC_CONSOLE_PASSWORD`` unless ``stdin`` is given (then ``--password-stdin``)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    env.pop("LHC_CONSOLE_PASSWORD", None)
    args = [sys.executable, "-m", "tui", *argv, "--db", url]
    if actor is not None:
        args += ["--as", actor]
        if stdin is None:
            env["LHC_CONSOLE_PASSWORD"] = password or PASSWORDS.get(actor, "demo")
        else:
            args.append("--password-stdin")
    return subprocess.run(
        args,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env=env,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The object a command printed; a write command's impact (``test_impact_cli.py``
    holds it to reality) is checked for its shape and left out."""
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    if "impact" in report:
        assert report.pop("dry_run") is False
        assert isinstance(report.pop("impact"), list)
        assert report.pop("impact_withheld", True) is True  # rule 7: other users' chats
        # SPEC §3.1: other users' permissions, without see_permissions_users
        assert report.pop("impact_permissions_withheld", True) is True
        assert isinstance(report.pop("impact_hidden", 0), int)
    return report


def changed_tables(before: Rows, after: Rows) -> set[str]:
    return {table for table in before if before[table] != after[table]}


def without_login_of(rows: Rows, actor_id: int) -> Rows:
    """The rows with the trace of a login removed: the login log, and the actor's ``llogin``."""
    out = {table: list(table_rows) for table, table_rows in rows.items()}
    out["lh_users_login"] = []
    out["lh_users"] = [
        {**r, "llogin": None} if r["id"] == actor_id else r for r in rows["lh_users"]
    ]
    return out


def assert_only_the_login_was_recorded(before: Rows, after: Rows, actor_id: int) -> None:
    """A refused command: one successful login of the actor, and not one other row changed."""
    logins = after["lh_users_login"]
    assert logins[: len(before["lh_users_login"])] == before["lh_users_login"]
    new = logins[len(before["lh_users_login"]) :]
    assert [(r["user_id"], r["type"], r["ip"]) for r in new] == [(actor_id, 1, "cli")]
    assert without_login_of(after, actor_id) == without_login_of(before, actor_id)


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "new-password.txt"
    path.write_text("s3cret-onboarding\n", encoding="utf-8")
    return path


# -- Teamleader US onboards an operator (SPEC §6 scenarios 1 and 4, rows of §1.1) ------------


def test_teamleader_us_adds_an_operator_in_us_operators_with_departments_us_rows_as_spec(
    sample_db: Database, password_file: Path
) -> None:
    url = sample_db.console_url
    before = all_rows()
    started = int(time.time())
    result = cli(
        url,
        "user",
        "add",
        "Operator US 2",
        "--email",
        "operator.us2@example.com",
        "--name",
        "Jane",
        "--surname",
        "Doe",
        "--group",
        "Operators",
        "US Operators",
        "--department-group",
        "Departments US",
        "--new-password-file",
        str(password_file),
        "--json",
        actor="Teamleader US",
    )
    report = ok(result)
    assert "s3cret" not in result.stdout
    after = all_rows()
    new_id = report["id"]
    assert new_id == 6
    assert report == {
        "id": 6,
        "username": "Operator US 2",
        "email": "operator.us2@example.com",
        "name": "Jane",
        "surname": "Doe",
        "job_title": "",
        "disabled": False,
        "all_departments": False,
        "departments_ids": "2",
        "cache_version": 1,
        "groups": [2, 4],
        "department_groups": [{"id": 2, "read_only": False}],
        "departments": [],
    }

    # lh_users: the new row, every column (LHC's defaults where the form gives nothing).
    new_user = after["lh_users"][-1]
    assert verify_password("s3cret-onboarding", new_user["password"])
    assert new_user["password"].startswith("$2y$10$")
    assert started <= new_user["pswd_updated"] <= int(time.time())
    assert {k: v for k, v in new_user.items() if k not in ("password", "pswd_updated")} == {
        "id": 6,
        "username": "Operator US 2",
        "avatar": "",
        "session_id": "",
        "operation_admin": "",
        "email": "operator.us2@example.com",
        "time_zone": "",
        "name": "Jane",
        "surname": "Doe",
        "chat_nickname": "",
        "filepath": "",
        "filename": "",
        "job_title": "",
        "xmpp_username": "",
        "skype": "",
        "departments_ids": "2",  # recomputed after the department group (created as "-1")
        "disabled": 0,
        "force_logout": 0,
        "offline_reason_id": 0,
        "llogin": 0,
        "rec_per_req": 0,
        "hide_online": 0,
        "auto_accept": 0,
        "exclude_autoasign": 0,
        "exclude_autoasign_mails": 0,
        "max_active_chats": 0,
        "max_active_mails": 0,
        "all_departments": 0,
        "invisible_mode": 0,
        "inactive_mode": 0,
        "cache_version": 1,  # 0 on creation, bumped once by the department group
        "attr_int_1": 0,
        "attr_int_2": 0,
        "attr_int_3": 0,
        "always_on": 0,
    }
    # lh_groupuser: exactly the two memberships.
    new_memberships = after["lh_groupuser"][len(before["lh_groupuser"]) :]
    assert [(r["group_id"], r["user_id"]) for r in new_memberships] == [(2, 6), (4, 6)]
    # lh_departament_group_user: the assignment, not read-only.
    new_assignments = after["lh_departament_group_user"][len(before["lh_departament_group_user"]) :]
    assert [{k: v for k, v in r.items() if k != "id"} for r in new_assignments] == [
        {
            "dep_group_id": 2,
            "user_id": 6,
            "read_only": 0,
            "exc_indv_autoasign": 0,
            "only_priority": 0,
            "assign_priority": 0,
            "chat_min_priority": 0,
            "chat_max_priority": 0,
        }
    ]
    # lh_userdep: one type 1 row for department 2, user-level copies and zero counters.
    new_userdeps = after["lh_userdep"][len(before["lh_userdep"]) :]
    assert [{k: v for k, v in r.items() if k != "id"} for r in new_userdeps] == [
        {
            "user_id": 6,
            "dep_id": 2,
            "exclude_autoasign": 0,
            "exclude_autoasign_mails": 0,
            "only_priority": 0,
            "exc_indv_autoasign": 0,
            "ro": 0,
            "last_activity": 0,
            "lastd_activity": 0,
            "hide_online_ts": 0,
            "hide_online": 0,
            "last_accepted": 0,
            "last_accepted_mail": 0,
            "active_mails": 0,
            "pending_mails": 0,
            "active_chats": 0,
            "pending_chats": 0,
            "inactive_chats": 0,
            "max_chats": 0,
            "max_mails": 0,
            "type": 1,
            "dep_group_id": 2,
            "always_on": 0,
            "assign_priority": 0,
            "chat_max_priority": 0,
            "chat_min_priority": 0,
        }
    ]
    # lh_audits: one row by Teamleader US about the new user, holding no password hash.
    new_audits = after["lh_audits"][len(before["lh_audits"]) :]
    assert [(a["category"], a["object_id"], a["user_id"]) for a in new_audits] == [
        ("user", 6, TEAMLEADER_US)
    ]
    assert "$2y$" not in new_audits[0]["message"]
    assert json.loads(new_audits[0]["message"])["action"] == "user.create"
    # Nothing else: the login of Teamleader US is the only other trace.
    assert changed_tables(before, after) == {
        "lh_users",
        "lh_groupuser",
        "lh_departament_group_user",
        "lh_userdep",
        "lh_audits",
        "lh_users_login",
    }
    assert after["lh_users"][:5] == [
        {**r, "llogin": after["lh_users"][i]["llogin"]} if r["id"] == TEAMLEADER_US else r
        for i, r in enumerate(before["lh_users"])
    ]
    # And the new operator reads and writes Departments US only.
    access = ok(cli(url, "access", "Operator US 2", "--json"))
    assert (access["read"], access["write"]) == ([2], [2])


def test_the_password_can_come_from_stdin_and_a_generated_one_is_printed_once(
    sample_db: Database,
) -> None:
    url = sample_db.console_url
    result = cli(
        url,
        "user",
        "add",
        "Operator US 3",
        "--email",
        "operator.us3@example.com",
        "--group",
        "Operators",
        "--generate-password",
        actor="Teamleader US",
        stdin="demo\n",
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "password" in line.lower()]
    assert len(lines) == 1
    generated = lines[0].rsplit(": ", 1)[1]
    assert len(generated) >= 16
    assert result.stdout.count(generated) == 1
    shown = ok(
        cli(
            url,
            "user",
            "show",
            "Operator US 3",
            "--json",
            actor="Operator US 3",
            password=generated,
        )
    )
    assert shown["groups"] == [2]


# -- refusals: exit 2, the store's message, nothing written but the login ---------------------

REFUSALS = {
    "teamleader adds an operator in AU Operators": (
        "Teamleader US",
        [
            "user",
            "add",
            "Op AU",
            "--email",
            "op.au@example.com",
            "--group",
            "Operators",
            "AU Operators",
            "--generate-password",
        ],
        ("Teamleader US may not assign group 'AU Operators'", "not among the groups you work with"),
    ),
    "teamleader adds an operator with Departments AU": (
        "Teamleader US",
        [
            "user",
            "add",
            "Op AU",
            "--email",
            "op.au@example.com",
            "--group",
            "Operators",
            "US Operators",
            "--department-group",
            "Departments AU",
            "--generate-password",
        ],
        ("Teamleader US may not assign department group 'Departments AU'",),
    ),
    "teamleader assigns Departments AU to Operator US": (
        "Teamleader US",
        ["user", "depgroups", "Operator US", "--add", "Departments AU"],
        (
            "may not assign department group 'Departments AU'",
            "only the department groups you belong to",
        ),
    ),
    "teamleader assigns department Departments AU to Operator US": (
        "Teamleader US",
        ["user", "departments", "Operator US", "--add", "Departments AU"],
        ("may not assign department 'Departments AU'",),
    ),
    "teamleader puts Operator US in AU Operators": (
        "Teamleader US",
        ["user", "groups", "Operator US", "--add", "AU Operators"],
        ("may not assign group 'AU Operators'",),
    ),
    "teamleader edits Operator AU": (
        "Teamleader US",
        ["user", "edit", "Operator AU", "--name", "Changed"],
        ("Teamleader US may not edit user 'Operator AU'", "'AU Operators'"),
    ),
    "teamleader disables Operator AU": (
        "Teamleader US",
        ["user", "edit", "Operator AU", "--disabled", "yes"],
        ("may not disable user 'Operator AU'",),
    ),
    "teamleader sets the password of Operator AU": (
        "Teamleader US",
        ["user", "passwd", "Operator AU", "--generate-password"],
        ("may not change the password of user 'Operator AU'",),
    ),
    "teamleader edits Manager US": (
        "Teamleader US",
        ["user", "edit", "Manager US", "--name", "Changed"],
        ("No user named 'Manager US' among the users you can see",),
    ),
    "teamleader deletes admin": (
        "Teamleader US",
        ["user", "delete", "admin"],
        ("No user named 'admin' among the users you can see",),
    ),
    "teamleader deletes Operator US": (
        "Teamleader US",
        ["user", "delete", "Operator US"],
        ("Teamleader US may not delete users", "lhuser/deleteuser"),
    ),
    "teamleader creates a group": (
        "Teamleader US",
        ["group", "add", "Night shift"],
        ("lhuser/creategroup",),
    ),
    "manager edits admin": (
        "Manager US",
        ["user", "edit", "admin", "--name", "Changed"],
        ("Manager US may not edit user 'admin'", "only administrators"),
    ),
    "manager deletes admin": (
        "Manager US",
        ["user", "delete", "admin"],
        ("Manager US may not delete user 'admin'",),
    ),
    "manager puts Operator US in Administrators": (
        "Manager US",
        ["user", "groups", "Operator US", "--add", "Administrators"],
        ("may not assign group 'Administrators'", "administration"),
    ),
    "manager disables the Administrators group": (
        "Manager US",
        ["group", "edit", "Administrators", "--disabled", "yes"],
        ("Manager US may not edit group 'Administrators'",),
    ),
    "operator lists users": (
        "Operator US",
        ["user", "list"],
        ("Operator US may not list users", "lhuser/userlist"),
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refused_command_exits_2_with_the_stores_message_and_writes_nothing(
    sample_db: Database, name: str
) -> None:
    actor, argv, mentions = REFUSALS[name]
    actor_id = {"Teamleader US": TEAMLEADER_US, "Manager US": MANAGER_US}.get(actor, OPERATOR_US)
    url = sample_db.console_url
    before = all_rows()
    result = cli(url, *argv, actor=actor)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("lhc-console: ")
    assert result.stderr.count("\n") == 1, "one message, no traceback"
    for mention in mentions:
        assert mention in result.stderr
    assert_only_the_login_was_recorded(before, all_rows(), actor_id)


def test_a_write_without_as_is_refused_before_anything_is_read_or_written(
    sample_db: Database,
) -> None:
    url = sample_db.console_url
    before = all_rows()
    result = cli(url, "user", "delete", "Operator US")
    assert result.returncode == 2
    assert "--as USERNAME" in result.stderr
    assert all_rows() == before


def test_a_wrong_password_is_refused_and_recorded_as_a_failed_login_only(
    sample_db: Database,
) -> None:
    url = sample_db.console_url
    before = all_rows()
    result = cli(url, "user", "delete", "Operator US", actor="Manager US", password="wrong")
    assert result.returncode == 2
    assert "Wrong username/e-mail or password" in result.stderr
    after = all_rows()
    new = after["lh_users_login"][len(before["lh_users_login"]) :]
    assert [(r["user_id"], r["type"]) for r in new] == [(MANAGER_US, 0)]
    assert changed_tables(before, after) == {"lh_users_login"}


def test_without_a_terminal_and_without_a_password_source_it_says_where_to_put_one(
    sample_db: Database,
) -> None:
    url = sample_db.console_url
    before = all_rows()
    env = {k: v for k, v in os.environ.items() if k != "LHC_CONSOLE_PASSWORD"}
    result = subprocess.run(
        [sys.executable, "-m", "tui", "user", "list", "--as", "Manager US", "--db", url],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={**env, "PYTHONPATH": str(PROJECT)},
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "--password-stdin" in result.stderr
    assert "LHC_CONSOLE_PASSWORD" in result.stderr
    assert all_rows() == before


# -- Manager US assigns Departments AU --------------------------------------------------------


def test_manager_us_assigns_departments_au_to_an_operator(sample_db: Database) -> None:
    url = sample_db.console_url
    before = all_rows()
    report = ok(
        cli(
            url,
            "user",
            "depgroups",
            "Operator US",
            "--add",
            "Departments AU",
            "--json",
            actor="Manager US",
        )
    )
    assert report["department_groups"] == [
        {"id": 1, "read_only": False},
        {"id": 2, "read_only": False},
    ]
    assert report["departments_ids"] == "2,1"
    after = all_rows()
    new_assignments = after["lh_departament_group_user"][len(before["lh_departament_group_user"]) :]
    assert [(r["dep_group_id"], r["user_id"], r["read_only"]) for r in new_assignments] == [
        (1, OPERATOR_US, 0)
    ]
    new_rows = after["lh_userdep"][len(before["lh_userdep"]) :]
    assert [
        (r["user_id"], r["dep_id"], r["type"], r["dep_group_id"], r["ro"]) for r in new_rows
    ] == [(OPERATOR_US, 1, 1, 1, 0)]
    audits = after["lh_audits"][len(before["lh_audits"]) :]
    assert [(a["object_id"], a["user_id"]) for a in audits] == [(OPERATOR_US, MANAGER_US)]
    access = ok(cli(url, "access", "Operator US", "--json"))
    assert access["read"] == [1, 2]

    # The single department too, read-only: a type 0 row.
    report = ok(
        cli(
            url,
            "user",
            "departments",
            "Operator AU",
            "--add",
            "Departments US",
            "--read-only",
            "--json",
            actor="Manager US",
        )
    )
    assert report["departments"] == [{"id": 2, "read_only": True}]


# -- reading needs --as too, and is scoped ----------------------------------------------------


def test_user_list_shows_the_actors_visible_users_paged_by_id(sample_db: Database) -> None:
    url = sample_db.console_url
    first = ok(cli(url, "user", "list", "--limit", "2", "--json", actor="Teamleader US"))
    assert [u["id"] for u in first["users"]] == [2, 3]
    assert (first["total"], first["next_after"]) == (3, 3)
    assert [u["editable"] for u in first["users"]] == [True, False]
    rest = ok(cli(url, "user", "list", "--after", "3", "--json", actor="Teamleader US"))
    assert [u["id"] for u in rest["users"]] == [4]
    assert rest["next_after"] is None
    refused = cli(url, "user", "show", "Operator AU", "--json")
    assert refused.returncode == 2
    assert "--as" in refused.stderr


# -- apply: one transaction ---------------------------------------------------------------------

ONBOARDING = """\
# Teamleader US onboards two operators and makes Operator US read-only in Departments US
[[users]]
username = "Operator US 2"
email = "operator.us2@example.com"
name = "Jane"
groups = ["Operators", "US Operators"]
department_groups = ["Departments US"]
generate_password = true

[[users]]
username = "Operator US"
department_groups = ["Departments US"]
read_only_department_groups = ["Departments US"]
"""


def test_apply_dry_run_then_apply_then_apply_again_changes_nothing_more(
    sample_db: Database, tmp_path: Path
) -> None:
    url = sample_db.console_url
    plan = tmp_path / "onboarding.toml"
    plan.write_text(ONBOARDING, encoding="utf-8")
    before = all_rows()
    dry = cli(url, "apply", str(plan), "--dry-run", actor="Teamleader US")
    assert dry.returncode == 0, dry.stderr
    assert "would create 'Operator US 2'" in dry.stdout
    assert "would update 'Operator US'" in dry.stdout
    assert "password" not in dry.stdout.replace("generate_password", "")
    assert_only_the_login_was_recorded(before, all_rows(), TEAMLEADER_US)

    report = ok(cli(url, "apply", str(plan), "--json", actor="Teamleader US"))
    created, updated = report["users"]
    assert (created["action"], updated["action"]) == ("create", "update")
    assert created["user"]["groups"] == [2, 4]
    assert created["user"]["department_groups"] == [{"id": 2, "read_only": False}]
    assert len(created["generated_password"]) >= 16
    assert updated["user"]["department_groups"] == [{"id": 2, "read_only": True}]

    again = ok(cli(url, "apply", str(plan), "--json", actor="Teamleader US"))
    assert [u["action"] for u in again["users"]] == ["unchanged", "unchanged"]


def test_apply_is_all_or_nothing_a_refused_user_rolls_back_the_others(
    sample_db: Database, tmp_path: Path
) -> None:
    url = sample_db.console_url
    plan = tmp_path / "onboarding.toml"
    plan.write_text(
        ONBOARDING + '\n[[users]]\nusername = "Op AU"\nemail = "op.au@example.com"\n'
        'groups = ["Operators", "AU Operators"]\ngenerate_password = true\n',
        encoding="utf-8",
    )
    before = all_rows()
    result = cli(url, "apply", str(plan), actor="Teamleader US")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "user 'Op AU' (line 15)" in result.stderr
    assert "Teamleader US may not assign group 'AU Operators'" in result.stderr
    assert_only_the_login_was_recorded(before, all_rows(), TEAMLEADER_US)


def test_apply_reports_every_problem_of_the_file_before_logging_in(
    sample_db: Database, tmp_path: Path
) -> None:
    url = sample_db.console_url
    plan = tmp_path / "bad.toml"
    plan.write_text(
        '[[users]]\nusername = "A"\nemial = "a@example.com"\ngroups = []\n\n'
        '[[users]]\nusername = "B"\ngroups = "Operators"\npassword_file = "missing.txt"\n'
        "generate_password = true\n",
        encoding="utf-8",
    )
    before = all_rows()
    result = cli(url, "apply", str(plan), actor="Teamleader US")
    assert result.returncode == 2
    errors = result.stderr.removeprefix("lhc-console: ").splitlines()
    assert [e.split(": ", 2)[1:] for e in errors] == [
        ["user 'A' (line 1)", "unknown key 'emial' (did you mean 'email'?)"],
        ["user 'A' (line 1)", "'groups' must not be empty: a user stays in at least one group"],
        ["user 'B' (line 6)", "'groups' must be a list of names or ids"],
        ["user 'B' (line 6)", "give either 'password_file' or 'generate_password', not both"],
        [
            "user 'B' (line 6)",
            f"Cannot read the password file '{tmp_path / 'missing.txt'}': No such file or "
            "directory",
        ],
    ]
    assert all_rows() == before  # not even a login
