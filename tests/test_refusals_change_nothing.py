"""Refused actions on the sample write nothing, and the error says what was refused and why.

Every row of every table (``store.dump.all_rows``, audit and login logs included) is compared
before and after each refused action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from peewee import Database

from store import NotFoundError, ScopeError, Session, StoreError, ValidationError
from store.dump import all_rows
from store.models import User

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Refusal:
    actor: str
    action: Callable[[Session], Any]
    error: type[StoreError]
    mentions: tuple[str, ...]


def new_user(**extra: Any) -> Callable[[Session], Any]:
    fields = {"username": "newbie", "password": "pw", "email": "newbie@example.com"}
    fields.update(extra)
    return lambda s: s.users.create(**fields)


REFUSALS: dict[str, Refusal] = {
    # Teamleader US (scenario 1 and around it)
    "teamleader creates a user in AU Operators": Refusal(
        "Teamleader US", new_user(groups=[2, 5]), ScopeError, ("'AU Operators'", "work with")
    ),
    "teamleader creates a user in Administrators": Refusal(
        "Teamleader US", new_user(groups=[2, 1]), ScopeError, ("'Administrators'",)
    ),
    "teamleader creates a user with department group AU": Refusal(
        "Teamleader US",
        new_user(groups=[2, 4], department_groups=[1]),
        ScopeError,
        ("'Departments AU'", "department group"),
    ),
    "teamleader creates a user without a required group": Refusal(
        "Teamleader US", new_user(groups=[4]), ValidationError, ("required", "'Operators'")
    ),
    "teamleader creates a user in no group": Refusal(
        "Teamleader US", new_user(groups=[]), ValidationError, ("at least one group",)
    ),
    "teamleader creates a user with a taken username": Refusal(
        "Teamleader US",
        new_user(username="Operator AU", groups=[2]),
        ValidationError,
        ("'Operator AU'", "taken"),
    ),
    "teamleader assigns Departments AU to Operator US": Refusal(
        "Teamleader US",
        lambda s: s.assignments.assign_department_group(OPERATOR_US, 1),
        ScopeError,
        ("'Departments AU'", "Teamleader US"),
    ),
    "teamleader assigns Departments AU to himself": Refusal(
        "Teamleader US",
        lambda s: s.assignments.assign_department_group(TEAMLEADER_US, 1),
        ScopeError,
        ("'Departments AU'",),
    ),
    "teamleader assigns department US directly to Operator US": Refusal(
        "Teamleader US",
        lambda s: s.assignments.assign_department(OPERATOR_US, 2),
        ScopeError,
        ("'Departments US'", "assign_to_own_department_individual"),
    ),
    "teamleader turns on all departments for Operator US": Refusal(
        "Teamleader US",
        lambda s: s.assignments.set_all_departments(OPERATOR_US, True),
        ScopeError,
        ("all departments", "edit_all_departments"),
    ),
    "teamleader edits Operator AU": Refusal(
        "Teamleader US",
        lambda s: s.users.update(OPERATOR_AU, name="X"),
        ScopeError,
        ("'Operator AU'", "'AU Operators'"),
    ),
    "teamleader changes the password of Operator AU": Refusal(
        "Teamleader US",
        lambda s: s.users.set_password(OPERATOR_AU, "new-password"),
        ScopeError,
        ("'Operator AU'", "'AU Operators'"),
    ),
    "teamleader disables Operator AU": Refusal(
        "Teamleader US",
        lambda s: s.users.set_disabled(OPERATOR_AU, True),
        ScopeError,
        ("'Operator AU'", "'AU Operators'"),
    ),
    "teamleader removes Departments AU from Operator AU": Refusal(
        "Teamleader US",
        lambda s: s.assignments.unassign_department_group(OPERATOR_AU, 1),
        ScopeError,
        ("'Operator AU'", "'AU Operators'"),
    ),
    "teamleader deletes Operator US": Refusal(
        "Teamleader US",
        lambda s: s.users.delete(OPERATOR_US),
        ScopeError,
        ("delete users", "lhuser/deleteuser"),
    ),
    "teamleader changes his own groups": Refusal(
        "Teamleader US",
        lambda s: s.users.change_groups(TEAMLEADER_US, add=[4]),
        ScopeError,
        ("own groups", "editusergroupall"),
    ),
    "teamleader gives Operator US the AU Operators group": Refusal(
        "Teamleader US",
        lambda s: s.users.change_groups(OPERATOR_US, add=[5]),
        ScopeError,
        ("'AU Operators'",),
    ),
    "teamleader adds Operator US to a missing group": Refusal(
        "Teamleader US",
        lambda s: s.users.change_groups(OPERATOR_US, add=[99]),
        NotFoundError,
        ("99",),
    ),
    "teamleader edits a missing user": Refusal(
        "Teamleader US",
        lambda s: s.users.update(999, name="X"),
        NotFoundError,
        ("999",),
    ),
    "teamleader edits Manager US, whom he cannot see": Refusal(
        "Teamleader US",
        lambda s: s.users.update(MANAGER_US, name="X"),
        NotFoundError,
        ("#5",),
    ),
    "teamleader adds a member through the groups screen": Refusal(
        "Teamleader US",
        lambda s: s.groups.add_member(4, OPERATOR_US),
        ScopeError,
        ("lhuser/editgroup",),
    ),
    "teamleader creates a group": Refusal(
        "Teamleader US",
        lambda s: s.groups.create("Night shift"),
        ScopeError,
        ("create groups", "lhuser/creategroup"),
    ),
    "teamleader adds a policy to his own role": Refusal(
        "Teamleader US",
        lambda s: s.roles.add_policy(3, "lhuser", "deleteuser"),
        ScopeError,
        ("'Teamleader'", "lhpermission/edit"),
    ),
    # Operator US
    "operator edits Operator AU": Refusal(
        "Operator US",
        lambda s: s.users.update(OPERATOR_AU, name="X"),
        ScopeError,
        ("'Operator AU'", "lhuser/edituser"),
    ),
    "operator creates a user": Refusal(
        "Operator US", new_user(groups=[2]), ScopeError, ("create users", "lhuser/createuser")
    ),
    "operator reads the permissions of Operator AU": Refusal(
        "Operator US",
        lambda s: s.permissions.effective(OPERATOR_AU),
        ScopeError,
        ("'Operator AU'", "see_permissions_users"),
    ),
    "operator creates a department group": Refusal(
        "Operator US",
        lambda s: s.departments.create_group("Night", [1]),
        ScopeError,
        ("department groups", "lhdepartment/managegroups"),
    ),
    "operator lists roles": Refusal(
        "Operator US", lambda s: s.roles.list(), ScopeError, ("list roles", "lhpermission/list")
    ),
    # Manager US (scenario 2: everyone but admin)
    "manager edits admin": Refusal(
        "Manager US",
        lambda s: s.users.update(ADMIN, name="X"),
        ScopeError,
        ("'admin'", "administrator"),
    ),
    "manager disables admin": Refusal(
        "Manager US",
        lambda s: s.users.set_disabled(ADMIN, True),
        ScopeError,
        ("'admin'", "administrator"),
    ),
    "manager deletes admin": Refusal(
        "Manager US", lambda s: s.users.delete(ADMIN), ScopeError, ("'admin'", "administrator")
    ),
    "manager removes admin from Administrators": Refusal(
        "Manager US",
        lambda s: s.groups.remove_member(1, ADMIN),
        ScopeError,
        ("'admin'", "administrator"),
    ),
    "manager creates a user in Administrators": Refusal(
        "Manager US",
        new_user(groups=[2, 1]),
        ScopeError,
        ("'Administrators'", "administration"),
    ),
    "manager gives Operator US the Administrators group": Refusal(
        "Manager US",
        lambda s: s.users.change_groups(OPERATOR_US, add=[1]),
        ScopeError,
        ("'Administrators'", "administration"),
    ),
    "manager changes the work-with list of Administrators": Refusal(
        "Manager US",
        lambda s: s.groups.set_work_with(1, [2]),
        ScopeError,
        ("'Administrators'", "administration"),
    ),
    "manager deletes the Administrators group": Refusal(
        "Manager US",
        lambda s: s.groups.delete(1),
        ScopeError,
        ("'Administrators'",),
    ),
    "manager attaches the Administrators role to Operators": Refusal(
        "Manager US",
        lambda s: s.groups.attach_role(2, 1),
        ScopeError,
        ("'Operators'", "lhpermission/edit"),
    ),
    "manager deletes a role": Refusal(
        "Manager US",
        lambda s: s.roles.delete(4),
        ScopeError,
        ("delete roles", "lhpermission/delete"),
    ),
    "manager deletes himself": Refusal(
        "Manager US", lambda s: s.users.delete(MANAGER_US), ScopeError, ("own account",)
    ),
    "manager assigns a missing department group": Refusal(
        "Manager US",
        lambda s: s.assignments.assign_department_group(OPERATOR_US, 99),
        NotFoundError,
        ("99",),
    ),
    # admin: the protected objects
    "admin deletes user 1": Refusal(
        "admin", lambda s: s.users.delete(ADMIN), ScopeError, ("'admin'", "protected")
    ),
    "admin disables himself": Refusal(
        "admin", lambda s: s.users.set_disabled(ADMIN, True), ScopeError, ("own account",)
    ),
    "admin deletes group 1": Refusal(
        "admin", lambda s: s.groups.delete(1), ScopeError, ("'Administrators'", "protected")
    ),
    "admin deletes role 1": Refusal(
        "admin", lambda s: s.roles.delete(1), ScopeError, ("'Administrators'", "protected")
    ),
    "admin deletes a role still used by groups": Refusal(
        "admin",
        lambda s: s.roles.delete(2),
        ValidationError,
        ("'Operators'", "'Managers'", "still used"),
    ),
    "admin adds a malformed limitation": Refusal(
        "admin",
        lambda s: s.roles.add_policy(4, "lhdepartment", "see_all", limitation="{group:1"),
        ValidationError,
        ("Limitation", "JSON"),
    ),
    "admin renames a group to an existing name": Refusal(
        "admin",
        lambda s: s.groups.update(4, name="au operators"),
        ValidationError,
        ("already exists",),
    ),
    "admin makes a group work with itself": Refusal(
        "admin",
        lambda s: s.groups.set_work_with(4, [4]),
        ValidationError,
        ("'US Operators'", "itself"),
    ),
    "admin creates a user with a bad e-mail": Refusal(
        "admin", new_user(groups=[2], email="not-an-address"), ValidationError, ("E-mail",)
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refused_action_writes_nothing_and_says_why(
    name: str, as_user: Callable[[str], Session], sample_db: Database
) -> None:
    refusal = REFUSALS[name]
    session = as_user(refusal.actor)
    before = all_rows()
    with pytest.raises(refusal.error) as raised:
        refusal.action(session)
    message = str(raised.value)
    for fragment in refusal.mentions:
        assert fragment in message, (name, message)
    assert all_rows() == before


def test_scope_refusals_name_the_actor(as_user: Callable[[str], Session]) -> None:
    with pytest.raises(ScopeError) as raised:
        as_user("Teamleader US").users.create(
            username="x", password="pw", email="x@example.com", groups=[2, 5]
        )
    assert str(raised.value).startswith("Teamleader US may not ")


def test_a_disabled_actor_is_refused_everything_and_nothing_is_written(
    sample_db: Database,
) -> None:
    User.update(disabled=1).where(User.id == TEAMLEADER_US).execute()
    session = Session(sample_db, TEAMLEADER_US)
    before = all_rows()
    for attempt in (
        lambda: session.users.update(OPERATOR_US, name="X"),
        lambda: session.assignments.assign_department_group(OPERATOR_US, 2),
        lambda: session.users.page(),
    ):
        with pytest.raises(ScopeError) as raised:
            attempt()
        assert "disabled" in str(raised.value)
    assert all_rows() == before


def test_an_actor_whose_account_was_deleted_meanwhile_is_refused(sample_db: Database) -> None:
    session = Session(sample_db, 999)
    before = all_rows()
    with pytest.raises(ScopeError) as raised:
        session.users.update(OPERATOR_US, name="X")
    assert "no longer exists" in str(raised.value)
    assert all_rows() == before


def test_a_form_save_is_one_action_so_a_later_refusal_undoes_the_earlier_steps(
    as_user,
) -> None:
    """``Session.together``: the users form saves fields, then groups; a refused group change
    takes the name change back with it and leaves no audit row."""
    from store import ScopeError
    from store.dump import all_rows

    teamleader = as_user("Teamleader US")
    before = all_rows()
    with pytest.raises(ScopeError, match="AU Operators"), teamleader.together("user.save"):
        teamleader.users.update(2, name="Renamed")
        teamleader.users.change_groups(2, add=[5])  # AU Operators: outside his scope
    assert all_rows() == before


def test_a_form_save_that_lands_leaves_one_audit_row_naming_its_steps(as_user) -> None:
    import json

    from store.models import Audit

    manager = as_user("Manager US")
    last = Audit.select().order_by(Audit.id.desc()).get().id
    with manager.together("user.save"):
        version = manager.users.update(2, name="Renamed").cache_version
        manager.users.change_groups(2, add=[5], expected_version=version)
    rows = list(Audit.select().where(Audit.id > last))
    assert len(rows) == 1
    assert json.loads(rows[0].message)["steps"] == ["user.update", "user.groups"]
