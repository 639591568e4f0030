"""Every form field refuses bad input with a specific message and writes nothing (issue 8, part 4).

One table per form: users, groups, roles and policies, departments, department groups and
assignments. Each case is acted by the admin (so the refusal is the input's, not the scope's),
names the exception class and the words the message must hold (the field and the limit or the
object), and checks that every table, audit and login logs included, is unchanged. Cases marked
"vanished" first delete the object through a second session, as another administrator would
while the form is open.

LHC's column sizes: ``lh_users.username`` 80, ``email``/``name``/``surname``/``job_title`` 100,
``lh_group.name`` and ``lh_role.name`` 50, ``lh_rolefunction.module``/``function`` 100,
``lh_departament.name`` 100, ``lh_departament_group.name`` 50.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from peewee import Database

from store import NotFoundError, Session, StoreError, ValidationError
from store.dump import all_rows

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US = 1, 2, 3, 4
MISSING = 999


@dataclass(frozen=True)
class Bad:
    call: Callable[[Session], Any]
    error: type[StoreError]
    mentions: tuple[str, ...]
    meanwhile: Callable[[Session], Any] | None = None  # another admin, before the call


def create_user(**changes: Any) -> Callable[[Session], Any]:
    fields: dict[str, Any] = {
        "username": "newbie",
        "password": "pw",
        "email": "newbie@example.com",
        "groups": [2, 4],
    }
    fields.update(changes)
    return lambda s: s.users.create(**fields)


USERS: dict[str, Bad] = {
    "username too long": Bad(
        create_user(username="u" * 81), ValidationError, ("Username", "81 characters", "80")
    ),
    "username empty": Bad(create_user(username=""), ValidationError, ("Username is required",)),
    "username blank": Bad(create_user(username="   "), ValidationError, ("Username is required",)),
    "username with a control character": Bad(
        create_user(username="new\x07bie"), ValidationError, ("Username", "control characters")
    ),
    "username not text": Bad(create_user(username=42), ValidationError, ("Username must be text",)),
    "username duplicate (any case)": Bad(
        create_user(username="operator au"), ValidationError, ("'operator au'", "taken")
    ),
    "e-mail too long": Bad(
        create_user(email="e" * 90 + "@example.com"), ValidationError, ("E-mail", "at most 100")
    ),
    "e-mail empty": Bad(create_user(email=""), ValidationError, ("E-mail is required",)),
    "e-mail invalid": Bad(create_user(email="newbie@"), ValidationError, ("'newbie@'", "valid")),
    "e-mail duplicate": Bad(
        create_user(email="OPERATOR.US@example.com"), ValidationError, ("E-mail", "already used")
    ),
    "name too long": Bad(create_user(name="n" * 101), ValidationError, ("Name", "at most 100")),
    "surname too long": Bad(
        create_user(surname="s" * 101), ValidationError, ("Surname", "at most 100")
    ),
    "job title too long": Bad(
        create_user(job_title="j" * 101), ValidationError, ("Job title", "at most 100")
    ),
    "password empty": Bad(create_user(password=""), ValidationError, ("Password is required",)),
    "password longer than bcrypt reads": Bad(
        create_user(password="p" * 73), ValidationError, ("Password is too long", "72 bytes")
    ),
    "passwords differ": Bad(
        create_user(password_again="other"), ValidationError, ("two passwords differ",)
    ),
    "no group": Bad(create_user(groups=[]), ValidationError, ("at least one group",)),
    "unknown group": Bad(create_user(groups=[2, MISSING]), NotFoundError, ("group", "999")),
    "group id not a number": Bad(create_user(groups=["2"]), ValidationError, ("Groups", "'2'")),
    "group id negative": Bad(create_user(groups=[-2]), ValidationError, ("Groups", "-2")),
    "groups not a list": Bad(create_user(groups="2,4"), ValidationError, ("list of ids",)),
    "unknown department group": Bad(
        create_user(department_groups=[MISSING]), NotFoundError, ("department group", "999")
    ),
    "unknown department": Bad(
        create_user(departments=[MISSING]), NotFoundError, ("department", "999")
    ),
    "read-only department group not assigned": Bad(
        create_user(read_only_department_groups=[1]),
        ValidationError,
        ("Read-only department groups", "among those assigned"),
    ),
    "edit: username too long": Bad(
        lambda s: s.users.update(OPERATOR_US, username="u" * 81), ValidationError, ("80",)
    ),
    "edit: username emptied": Bad(
        lambda s: s.users.update(OPERATOR_US, username=""),
        ValidationError,
        ("Username is required",),
    ),
    "edit: username of another user": Bad(
        lambda s: s.users.update(OPERATOR_US, username="Teamleader US"),
        ValidationError,
        ("'Teamleader US'", "taken"),
    ),
    "edit: e-mail invalid": Bad(
        lambda s: s.users.update(OPERATOR_US, email="nope"), ValidationError, ("'nope'",)
    ),
    "edit: unknown field": Bad(
        lambda s: s.users.update(OPERATOR_US, password="x"),
        ValidationError,
        ("Unknown user field", "password"),
    ),
    "edit: user vanished": Bad(
        lambda s: s.users.update(OPERATOR_US, name="X"),
        NotFoundError,
        ("#2",),
        meanwhile=lambda s: s.users.delete(OPERATOR_US),
    ),
    "password of a vanished user": Bad(
        lambda s: s.users.set_password(OPERATOR_US, "new"),
        NotFoundError,
        ("#2",),
        meanwhile=lambda s: s.users.delete(OPERATOR_US),
    ),
    "groups: unknown group": Bad(
        lambda s: s.users.change_groups(OPERATOR_US, add=[MISSING]), NotFoundError, ("999",)
    ),
    "groups: added and removed at once": Bad(
        lambda s: s.users.change_groups(OPERATOR_US, add=[7], remove=[7]),
        ValidationError,
        ("both added and removed", "'US Teamleaders'"),
    ),
    "groups: the last group removed": Bad(
        lambda s: s.users.change_groups(OPERATOR_US, remove=[2, 4]),
        ValidationError,
        ("'Operator US'", "at least one group"),
    ),
    "groups: the group vanished": Bad(
        lambda s: s.users.change_groups(OPERATOR_US, add=[6]),
        NotFoundError,
        ("No group with id 6",),
        meanwhile=lambda s: s.groups.delete(6),
    ),
}

GROUPS: dict[str, Bad] = {
    "name too long": Bad(
        lambda s: s.groups.create("g" * 51), ValidationError, ("Group name", "51", "50")
    ),
    "name empty": Bad(lambda s: s.groups.create(""), ValidationError, ("Group name is required",)),
    "name duplicate": Bad(
        lambda s: s.groups.create("us OPERATORS"), ValidationError, ("already exists",)
    ),
    "rename to a duplicate": Bad(
        lambda s: s.groups.update(4, name="Operators"), ValidationError, ("already exists",)
    ),
    "flag not yes/no": Bad(
        lambda s: s.groups.update(4, required=2), ValidationError, ("Required", "yes or no")
    ),
    "save without a name": Bad(
        lambda s: s.groups.save(None), ValidationError, ("Group name is required",)
    ),
    "works with an unknown group": Bad(
        lambda s: s.groups.set_work_with(7, [4, MISSING]), NotFoundError, ("999",)
    ),
    "works with itself": Bad(
        lambda s: s.groups.set_work_with(7, [7]), ValidationError, ("itself",)
    ),
    "works with a group that vanished": Bad(
        lambda s: s.groups.set_work_with(7, [6]),
        NotFoundError,
        ("No group with id 6",),
        meanwhile=lambda s: s.groups.delete(6),
    ),
    "edit a group that vanished": Bad(
        lambda s: s.groups.update(6, name="X"),
        NotFoundError,
        ("No group with id 6",),
        meanwhile=lambda s: s.groups.delete(6),
    ),
    "member who vanished": Bad(
        lambda s: s.groups.add_member(7, OPERATOR_US),
        NotFoundError,
        ("#2",),
        meanwhile=lambda s: s.users.delete(OPERATOR_US),
    ),
    "attach an unknown role": Bad(
        lambda s: s.groups.attach_role(4, MISSING), NotFoundError, ("No role with id 999",)
    ),
    "detach a role the group does not carry": Bad(
        lambda s: s.groups.detach_role(4, 2), NotFoundError, ("does not carry role #2",)
    ),
    "delete a group that vanished": Bad(
        lambda s: s.groups.delete(6),
        NotFoundError,
        ("No group with id 6",),
        meanwhile=lambda s: s.groups.delete(6),
    ),
}

ROLES: dict[str, Bad] = {
    "name too long": Bad(lambda s: s.roles.create("r" * 51), ValidationError, ("Role name", "50")),
    "name empty": Bad(lambda s: s.roles.create(" "), ValidationError, ("Role name is required",)),
    "name duplicate": Bad(
        lambda s: s.roles.create("rest api"), ValidationError, ("'rest api'", "already exists")
    ),
    "rename a role that vanished": Bad(
        lambda s: s.roles.rename(4, "X"),
        NotFoundError,
        ("No role with id 4",),
        meanwhile=lambda s: s.roles.delete(4),
    ),
    "module too long": Bad(
        lambda s: s.roles.add_policy(4, "m" * 101, "list"), ValidationError, ("Module", "100")
    ),
    "module empty": Bad(
        lambda s: s.roles.add_policy(4, "", "list"), ValidationError, ("Module is required",)
    ),
    "module with bad characters": Bad(
        lambda s: s.roles.add_policy(4, "lh user", "list"),
        ValidationError,
        ("Module 'lh user'", "letters, digits"),
    ),
    "function too long": Bad(
        lambda s: s.roles.add_policy(4, "lhuser", "f" * 101), ValidationError, ("Function", "100")
    ),
    "function empty": Bad(
        lambda s: s.roles.add_policy(4, "lhuser", ""), ValidationError, ("Function is required",)
    ),
    "module '*' with a named function": Bad(
        lambda s: s.roles.add_policy(4, "*", "list"), ValidationError, ("function must be '*'",)
    ),
    "limitation not JSON": Bad(
        lambda s: s.roles.add_policy(4, "lhdepartment", "see_all", limitation="{group:[1]"),
        ValidationError,
        ("Limitation is not valid JSON", "column"),
    ),
    "limitation with a number too long to read": Bad(  # json.loads: ValueError, not its subclass
        lambda s: s.roles.add_policy(
            4, "lhdepartment", "see_all", limitation='{"group": [' + "1" * 5000 + "]}"
        ),
        ValidationError,
        ("Limitation is not valid JSON", "more than 4,300 digits"),
    ),
    "limitation not an object": Bad(
        lambda s: s.roles.add_policy(4, "lhdepartment", "see_all", limitation="[1, 2]"),
        ValidationError,
        ("Limitation must be a JSON object",),
    ),
    "limitation nested": Bad(
        lambda s: s.roles.add_policy(
            4, "lhdepartment", "see_all", limitation='{"group": [{"id": 1}]}'
        ),
        ValidationError,
        ("'group'", "not nested objects"),
    ),
    "policy duplicate": Bad(
        lambda s: s.roles.add_policy(4, "lhdepartment", "list"),
        ValidationError,
        ("already has this policy", "lhdepartment/list"),
    ),
    "remove an unknown policy": Bad(
        lambda s: s.roles.remove_policy(4, 99999), NotFoundError, ("no policy #99999",)
    ),
    "policy of a role that vanished": Bad(
        lambda s: s.roles.add_policy(4, "lhuser", "userlist"),
        NotFoundError,
        ("No role with id 4",),
        meanwhile=lambda s: s.roles.delete(4),
    ),
}

DEPARTMENTS: dict[str, Bad] = {
    "department name too long": Bad(
        lambda s: s.departments.create_department("d" * 101),
        ValidationError,
        ("Department name", "100"),
    ),
    "department name empty": Bad(
        lambda s: s.departments.create_department(""),
        ValidationError,
        ("Department name is required",),
    ),
    "department name duplicate": Bad(
        lambda s: s.departments.create_department("departments au"),
        ValidationError,
        ("already exists",),
    ),
    "department e-mail invalid": Bad(
        lambda s: s.departments.create_department("EU", email="eu@"), ValidationError, ("'eu@'",)
    ),
    "department group name too long": Bad(
        lambda s: s.departments.create_group("g" * 51),
        ValidationError,
        ("Department group name", "50"),
    ),
    "department group name empty": Bad(
        lambda s: s.departments.create_group(""),
        ValidationError,
        ("Department group name is required",),
    ),
    "department group name duplicate": Bad(
        lambda s: s.departments.create_group("DEPARTMENTS US"),
        ValidationError,
        ("already exists",),
    ),
    "department group with an unknown department": Bad(
        lambda s: s.departments.create_group("EU", [1, MISSING]),
        NotFoundError,
        ("No department with id 999",),
    ),
    "department group departments: unknown": Bad(
        lambda s: s.departments.set_group_departments(1, [MISSING]),
        NotFoundError,
        ("No department with id 999",),
    ),
    "rename a department group that vanished": Bad(
        lambda s: s.departments.rename_group(1, "X"),
        NotFoundError,
        ("No department group with id 1",),
        meanwhile=lambda s: s.departments.delete_group(1),
    ),
    "delete a department group that vanished": Bad(
        lambda s: s.departments.delete_group(1),
        NotFoundError,
        ("No department group with id 1",),
        meanwhile=lambda s: s.departments.delete_group(1),
    ),
}

ASSIGNMENTS: dict[str, Bad] = {
    "unknown department group": Bad(
        lambda s: s.assignments.assign_department_group(OPERATOR_US, MISSING),
        NotFoundError,
        ("No department group with id 999",),
    ),
    "unknown department": Bad(
        lambda s: s.assignments.assign_department(OPERATOR_US, MISSING),
        NotFoundError,
        ("No department with id 999",),
    ),
    "department group not assigned": Bad(
        lambda s: s.assignments.unassign_department_group(OPERATOR_US, 1),
        NotFoundError,
        ("'Operator US'", "not assigned department group #1"),
    ),
    "department not assigned": Bad(
        lambda s: s.assignments.unassign_department(OPERATOR_US, 1),
        NotFoundError,
        ("'Operator US'", "not assigned department 'Departments AU'"),
    ),
    "department group that vanished": Bad(
        lambda s: s.assignments.assign_department_group(OPERATOR_US, 1),
        NotFoundError,
        ("No department group with id 1",),
        meanwhile=lambda s: s.departments.delete_group(1),
    ),
    "user who vanished": Bad(
        lambda s: s.assignments.assign_department_group(OPERATOR_US, 1),
        NotFoundError,
        ("#2",),
        meanwhile=lambda s: s.users.delete(OPERATOR_US),
    ),
    "user who was disabled": Bad(
        lambda s: s.assignments.assign_department_group(OPERATOR_US, 1),
        ValidationError,
        ("'Operator US' is disabled",),
        meanwhile=lambda s: s.users.set_disabled(OPERATOR_US, True),
    ),
}

CASES = [
    pytest.param(bad, id=f"{form}: {name}")
    for form, table in (
        ("user", USERS),
        ("group", GROUPS),
        ("role", ROLES),
        ("department", DEPARTMENTS),
        ("assignment", ASSIGNMENTS),
    )
    for name, bad in table.items()
]


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_refused_with_a_specific_message_and_writes_nothing(
    sample_db: Database, bad: Bad
) -> None:
    form_session = Session(sample_db, ADMIN)
    if bad.meanwhile is not None:
        bad.meanwhile(Session(sample_db, ADMIN))  # another admin, while the form is open
    before = all_rows()
    with pytest.raises(bad.error) as refused:
        bad.call(form_session)
    message = str(refused.value)
    for fragment in bad.mentions:
        assert fragment in message, message
    assert all_rows() == before
