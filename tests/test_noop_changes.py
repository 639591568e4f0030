"""A change that changes nothing writes nothing (issue 17, point 6).

Every write service called with what the database already holds (the same values, a group the
user already has, a list in another order) leaves every table byte-identical
(``store.dump.all_rows``: ``lh_audits`` and ``lh_users.cache_version`` included) and does not
count as a change (``Session.changes``). The scripting commands say "Unchanged" and exit 0, and
the console's user form saves nothing when nothing changed. A real change still leaves exactly
one audit row (``test_audit_completeness``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from pilot import SIZE, settle
from test_audit_completeness import write_methods
from test_screen_users import highlight, open_users, type_into
from textual.widgets import Input

from store import Session
from store.dump import all_rows
from store.impact import Touches
from store.models import User
from tui.command_line.main import main
from tui.scripting.output import UNCHANGED
from tui.shell.app import LhcConsole

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US = 1, 2, 3, 4
OPERATORS, US_OPERATORS, AU_OPERATORS, US_TEAMLEADERS = 2, 4, 5, 7
DEPARTMENTS_AU, DEPARTMENTS_US = 1, 2


@dataclass(frozen=True)
class NoOp:
    """A call that asks for what is already so (after ``setup``, by ``actor``)."""

    call: Callable[[Session], Any]
    setup: Callable[[Session], Any] | None = None
    actor: int = ADMIN


def same_fields(user_id: int, *fields: str) -> Callable[[Session], Any]:
    def call(s: Session) -> Any:
        user = User.get_by_id(user_id)
        return s.users.update(user_id, **{f: getattr(user, f) for f in fields})

    return call


def measured_noop(s: Session) -> Any:
    """A measured command (``--json``, ``--dry-run``) around a change that changes nothing."""
    with s.impact.measuring(Touches.of(users=[OPERATOR_US])):
        return s.users.set_disabled(OPERATOR_US, False)


NOOPS: dict[str, list[NoOp]] = {
    "impact.measuring": [NoOp(measured_noop)],
    "users.update": [
        NoOp(same_fields(OPERATOR_US, "email")),
        NoOp(same_fields(OPERATOR_US, "username", "email", "name", "surname", "job_title")),
        NoOp(lambda s: s.users.update(OPERATOR_US, email="  operator.us@example.com ")),
        NoOp(same_fields(TEAMLEADER_US, "name"), actor=TEAMLEADER_US),  # his own account
    ],
    "users.set_disabled": [
        NoOp(lambda s: s.users.set_disabled(OPERATOR_US, False)),
        NoOp(
            lambda s: s.users.set_disabled(OPERATOR_US, True),
            setup=lambda s: s.users.set_disabled(OPERATOR_US, True),
        ),
    ],
    "users.change_groups": [
        NoOp(lambda s: s.users.change_groups(OPERATOR_US, add=[US_OPERATORS])),
        NoOp(lambda s: s.users.change_groups(OPERATOR_US, remove=[AU_OPERATORS])),
        NoOp(
            lambda s: s.users.change_groups(
                OPERATOR_US, add=[OPERATORS, US_OPERATORS], remove=[US_TEAMLEADERS]
            ),
            actor=TEAMLEADER_US,
        ),
    ],
    "groups.update": [
        NoOp(lambda s: s.groups.update(US_OPERATORS, name="US Operators")),
        NoOp(
            lambda s: s.groups.update(
                US_OPERATORS, name="US Operators", required=False, disabled=False
            )
        ),
        NoOp(lambda s: s.groups.update(OPERATORS, required=True)),
    ],
    "groups.set_work_with": [
        NoOp(lambda s: s.groups.set_work_with(US_TEAMLEADERS, [US_OPERATORS])),
        NoOp(lambda s: s.groups.set_work_with(9, [6, 5])),  # AU Managers, in another order
        NoOp(lambda s: s.groups.set_work_with(US_OPERATORS, [])),
        NoOp(
            lambda s: s.groups.set_work_with(7, [4], withhold_from_members=True),
            setup=lambda s: s.groups.set_work_with(7, [4], withhold_from_members=True),
        ),
    ],
    "groups.save": [
        NoOp(lambda s: s.groups.save(US_OPERATORS)),
        NoOp(
            lambda s: s.groups.save(
                US_TEAMLEADERS,
                name="US Teamleaders",
                required=False,
                disabled=False,
                works_with=[US_OPERATORS],
                withhold_from_members=False,
            )
        ),
        NoOp(lambda s: s.groups.save(US_TEAMLEADERS, works_with=[US_OPERATORS])),
    ],
    "groups.add_member": [NoOp(lambda s: s.groups.add_member(US_OPERATORS, OPERATOR_US))],
    "groups.remove_member": [NoOp(lambda s: s.groups.remove_member(AU_OPERATORS, OPERATOR_US))],
    "groups.attach_role": [NoOp(lambda s: s.groups.attach_role(US_OPERATORS, 6))],
    "roles.rename": [NoOp(lambda s: s.roles.rename(4, "Rest API"))],
    "departments.rename_group": [
        NoOp(lambda s: s.departments.rename_group(DEPARTMENTS_AU, "Departments AU"))
    ],
    "departments.set_group_departments": [
        NoOp(lambda s: s.departments.set_group_departments(DEPARTMENTS_US, [2])),
        NoOp(
            lambda s: s.departments.set_group_departments(DEPARTMENTS_US, [2, 1]),
            setup=lambda s: s.departments.set_group_departments(DEPARTMENTS_US, [1, 2]),
        ),
    ],
    "assignments.assign_department_group": [
        NoOp(lambda s: s.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_US)),
        NoOp(
            lambda s: s.assignments.assign_department_group(
                OPERATOR_US, DEPARTMENTS_AU, read_only=True
            ),
            setup=lambda s: s.assignments.assign_department_group(
                OPERATOR_US, DEPARTMENTS_AU, read_only=True
            ),
        ),
    ],
    "assignments.assign_department": [
        NoOp(
            lambda s: s.assignments.assign_department(OPERATOR_US, 1, read_only=True),
            setup=lambda s: s.assignments.assign_department(OPERATOR_US, 1, read_only=True),
        )
    ],
    "assignments.set_all_departments": [
        NoOp(
            lambda s: s.assignments.set_all_departments(OPERATOR_US, False),
            setup=lambda s: s.assignments.set_all_departments(OPERATOR_US, False),
        ),
        NoOp(
            lambda s: s.assignments.set_all_departments(OPERATOR_US, True),
            setup=lambda s: s.assignments.set_all_departments(OPERATOR_US, True),
        ),
    ],
}

ALWAYS_A_CHANGE = {
    # Creating and deleting always change rows.
    "users.create": "creates a user",
    "users.delete": "deletes a user",
    "groups.create": "creates a group",
    "groups.delete": "deletes a group",
    "roles.create": "creates a role",
    "roles.delete": "deletes a role",
    "departments.create_department": "creates a department",
    "departments.create_group": "creates a department group",
    "departments.delete_group": "deletes a department group",
    # Setting a password, even the same one, is a new hash (new salt) and a new pswd_updated.
    "users.set_password": "a new hash every time",
    # Asked for what is not there, these refuse (and write nothing: test_validation_fields).
    "groups.detach_role": "refuses a role the group does not carry",
    "roles.add_policy": "refuses a policy the role already has",
    "roles.remove_policy": "refuses a policy the role does not have",
    "assignments.unassign_department_group": "refuses a department group not assigned",
    "assignments.unassign_department": "refuses a department not assigned",
    "rosters.unassign": "refuses no ways, and each way through the two services above",
}


def test_every_write_service_has_a_no_op_case_or_always_changes() -> None:
    found = write_methods()
    covered = set(NOOPS) | set(ALWAYS_A_CHANGE)
    assert not set(NOOPS) & set(ALWAYS_A_CHANGE)
    assert not sorted(found - covered), "add a no-op case for these write services"
    assert not sorted(covered - found), "no such write services"


CASES = [
    pytest.param(noop, id=f"{method}[{i}]")
    for method, noops in NOOPS.items()
    for i, noop in enumerate(noops)
]


@pytest.mark.parametrize("noop", CASES)
def test_a_no_op_call_leaves_every_row_byte_identical(sample_db: Database, noop: NoOp) -> None:
    session = Session(sample_db, noop.actor)
    if noop.setup is not None:
        noop.setup(Session(sample_db, ADMIN))
    before = all_rows()
    changes = session.changes
    noop.call(session)
    after = all_rows()
    assert after["lh_audits"] == before["lh_audits"]
    assert [(u["id"], u["cache_version"]) for u in after["lh_users"]] == [
        (u["id"], u["cache_version"]) for u in before["lh_users"]
    ]
    assert after == before
    assert session.changes == changes


def test_a_no_op_returns_the_object_as_it_is(sample_db: Database) -> None:
    session = Session(sample_db, ADMIN)
    user = session.users.change_groups(OPERATOR_US, add=[US_OPERATORS])
    assert user == session.users.get(OPERATOR_US)
    group = session.groups.save(US_TEAMLEADERS, works_with=[US_OPERATORS])
    assert group == session.groups.get(US_TEAMLEADERS)


def test_a_real_change_counts_and_audits_once(sample_db: Database) -> None:
    session = Session(sample_db, ADMIN)
    audits = len(all_rows()["lh_audits"])
    session.users.update(OPERATOR_US, email="operator.us@example.com", name="Changed")
    assert session.changes == 1
    rows = all_rows()["lh_audits"]
    assert len(rows) == audits + 1
    message = json.loads(rows[-1]["message"])
    assert message["before"]["email"] == message["after"]["email"]  # not in the change...
    assert message["after"]["name"] == "Changed"  # ...but what changed is


def test_a_save_of_several_no_op_steps_writes_nothing(sample_db: Database) -> None:
    session = Session(sample_db, ADMIN)
    before = all_rows()
    with session.together("user.save"):
        session.users.update(OPERATOR_US, email="operator.us@example.com")
        session.users.change_groups(OPERATOR_US, add=[US_OPERATORS])
        session.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_US)
    assert all_rows() == before
    assert session.changes == 0


# -- the scripting commands ------------------------------------------------------------------


@pytest.fixture
def run(sample_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> Any:
    """``run("admin", "user", "edit", ...)`` in-process -> (exit code, stdout, stderr)."""

    def call(actor: str, *argv: str) -> tuple[int, str, str]:
        monkeypatch.setenv("LHC_CONSOLE_PASSWORD", "admin" if actor == "admin" else "demo")
        code = main([*argv, "--db", sample_db.console_url, "--as", actor])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def without_logins(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows without the trace of logging in (the login log and ``llogin``)."""
    out = dict(rows)
    out["lh_users_login"] = []
    out["lh_users"] = [{**r, "llogin": 0} for r in rows["lh_users"]]
    return out


COMMANDS = {
    "user edit same e-mail": (
        "admin",
        "user",
        "edit",
        "Operator US",
        "--email",
        "operator.us@example.com",
    ),
    "user edit same e-mail, enabled": (
        "admin",
        "user",
        "edit",
        "Operator US",
        "--email",
        "operator.us@example.com",
        "--disabled",
        "no",
    ),
    "user groups add one held": (
        "Teamleader US",
        "user",
        "groups",
        "Operator US",
        "--add",
        "US Operators",
    ),
    "user groups remove one not held": (
        "admin",
        "user",
        "groups",
        "Operator US",
        "--remove",
        "AU Operators",
    ),
    "user depgroups add one assigned": (
        "admin",
        "user",
        "depgroups",
        "Operator US",
        "--add",
        "Departments US",
    ),
    "user departments all yes": ("admin", "user", "departments", "admin", "--all", "yes"),
    "group edit same flags": (
        "admin",
        "group",
        "edit",
        "US Teamleaders",
        "--name",
        "US Teamleaders",
        "--required",
        "no",
        "--disabled",
        "no",
        "--works-with",
        "US Operators",
        "--withheld",
        "no",
    ),
    "group edit same roles": ("admin", "group", "edit", "US Operators", "--role", "Operators US"),
    "role edit same name": ("admin", "role", "edit", "Rest API", "--name", "Rest API"),
    "depgroup edit same contents": (
        "admin",
        "depgroup",
        "edit",
        "Departments US",
        "--name",
        "Departments US",
        "--department",
        "2",
    ),
}


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_command_that_changes_nothing_says_unchanged_and_writes_nothing(
    run: Any, argv: tuple[str, ...]
) -> None:
    before = all_rows()
    code, out, err = run(*argv)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == UNCHANGED
    assert without_logins(all_rows()) == without_logins(before)
    code, out, err = run(*argv, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["unchanged"] is True
    assert without_logins(all_rows()) == without_logins(before)


def test_a_command_that_changes_something_does_not_say_unchanged(run: Any) -> None:
    code, out, _ = run("admin", "user", "edit", "Operator US", "--name", "Jane", "--json")
    assert code == 0
    assert "unchanged" not in json.loads(out)
    code, out, _ = run("admin", "group", "edit", "US Operators", "--required", "yes")
    assert code == 0
    assert out.splitlines()[0] == "Changed group"


MATCHING_PLAN = """\
[[users]]
username = "Operator US"
email = "operator.us@example.com"
groups = ["Operators", "US Operators"]
department_groups = ["Departments US"]

[[users]]
username = "Operator AU"
groups = ["Operators", "AU Operators"]
"""


def test_apply_of_a_file_that_matches_the_database_says_unchanged(run: Any, tmp_path: Path) -> None:
    plan = tmp_path / "same.toml"
    plan.write_text(MATCHING_PLAN, encoding="utf-8")
    before = all_rows()
    code, out, err = run("admin", "apply", str(plan))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "unchanged 'Operator US'",
        "unchanged 'Operator AU'",
        "Unchanged: all 2 users already are as the file says; nothing written.",
    ]
    code, out, err = run("admin", "apply", str(plan), "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["unchanged"] is True
    assert [u["action"] for u in report["users"]] == ["unchanged", "unchanged"]
    assert without_logins(all_rows()) == without_logins(before)


# -- the console's user form -----------------------------------------------------------------


async def test_saving_the_user_form_without_a_change_writes_nothing(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        before = without_logins(all_rows())
        await highlight(pilot, users, OPERATOR_US)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # "Nothing changed": the form stays, nothing was saved
        assert without_logins(all_rows()) == before
        # A space typed after the job title is no change either once the store strips it:
        # the form saves, and the store writes nothing.
        await type_into(pilot, "#field-job_title", " ")
        assert form.query_one("#field-job_title", Input).value.endswith(" ")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is users
        assert without_logins(all_rows()) == before
