"""SPEC §1.1: the rows department changes write, exactly as LHC writes them.

A hand-made world: departments 1 D1, 2 D2, 3 D3; department groups 1 "Group D1" = {1},
2 "Group D2" = {2}, 3 "Group D1+D3" = {1, 3}; an administrator (user 1) acts on operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from peewee import Database

from store import Session, chat_access
from store.models import (
    DepartmentGroupMember,
    DepartmentGroupUser,
    DepartmentGroupUserDisabled,
    Group,
    GroupRole,
    GroupUser,
    Role,
    RoleFunction,
    User,
    UserDep,
    UserDepDisabled,
)

D1, D2, D3 = 1, 2, 3
G_D1, G_D2, G_D13 = 1, 2, 3


@dataclass
class World:
    admin: Session
    admin_id: int
    ops_group: int
    op: int
    other: int


def make_user(name: str, group_id: int, **columns: Any) -> int:
    user = User.create(
        username=name, password="", email=f"{name}@example.com", departments_ids="-1", **columns
    )
    GroupUser.create(group_id=group_id, user_id=user.id)
    return user.id


@pytest.fixture
def world(db: Database) -> World:
    installer = Session.installer(db)
    for name in ("D1", "D2", "D3"):
        installer.departments.create_department(name)
    installer.departments.create_group("Group D1", [D1])
    installer.departments.create_group("Group D2", [D2])
    installer.departments.create_group("Group D1+D3", [D1, D3])
    admin_role = Role.create(name="Administrators")
    RoleFunction.create(role_id=admin_role.id, module="*", function="*")
    admins = Group.create(name="Administrators")
    GroupRole.create(group_id=admins.id, role_id=admin_role.id)
    ops = Group.create(name="Operators")
    admin_id = make_user("admin", admins.id)
    op = make_user(
        "op", ops.id, max_active_chats=4, hide_online=1, exclude_autoasign=0, always_on=1
    )
    other = make_user("other", ops.id)
    return World(Session(db, admin_id), admin_id, ops.id, op, other)


def rows_of(user_id: int, model: type = UserDep) -> list[dict[str, Any]]:
    return list(model.select().where(model.user_id == user_id).order_by(model.id).dicts())


def keys(user_id: int) -> list[tuple[int, int, int, int]]:
    """``(type, dep_id, dep_group_id, ro)`` of the user's rows in row id order."""
    return [(r["type"], r["dep_id"], r["dep_group_id"], r["ro"]) for r in rows_of(user_id)]


def user(user_id: int) -> User:
    return User.get_by_id(user_id)


def assignments(user_id: int) -> list[tuple[int, int]]:
    return [(a["dep_group_id"], a["read_only"]) for a in rows_of(user_id, DepartmentGroupUser)]


# -- department groups ------------------------------------------------------------------------


def test_assigning_a_department_group_writes_the_assignment_and_one_row_per_department(
    world: World,
) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D13)
    assert assignments(world.op) == [(G_D13, 0)]
    rows = rows_of(world.op)
    assert [(r["type"], r["dep_id"], r["dep_group_id"], r["ro"]) for r in rows] == [
        (1, D1, G_D13, 0),
        (1, D3, G_D13, 0),
    ]
    for row in rows:
        assert (row["max_chats"], row["hide_online"], row["exclude_autoasign"]) == (4, 1, 0)
        assert row["always_on"] == 1
        assert row["active_chats"] == row["pending_chats"] == row["inactive_chats"] == 0
        assert row["last_accepted"] == row["last_activity"] == 0
    assert user(world.op).departments_ids == "1,3"
    assert user(world.op).cache_version == 1
    assert keys(world.other) == []
    assert user(world.other).cache_version == 0


def test_departments_ids_follow_row_order_2_then_2_1(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D2)
    assert user(world.op).departments_ids == "2"
    world.admin.assignments.assign_department_group(world.op, G_D1)
    assert user(world.op).departments_ids == "2,1"
    assert user(world.op).cache_version == 2


def test_departments_ids_list_a_department_reached_twice_once(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D1)
    world.admin.assignments.assign_department_group(world.op, G_D13)
    assert keys(world.op) == [(1, D1, G_D1, 0), (1, D1, G_D13, 0), (1, D3, G_D13, 0)]
    assert user(world.op).departments_ids == "1,3"


def test_a_read_only_department_group_gives_read_only_rows_and_no_writing(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D2, read_only=True)
    assert assignments(world.op) == [(G_D2, 1)]
    assert keys(world.op) == [(1, D2, G_D2, 1)]
    access = chat_access(world.op)
    assert access.read == [D2]
    assert access.write == []


def test_toggling_read_only_flips_the_flag_and_rebuilds_the_rows(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D13)
    version = user(world.op).cache_version
    world.admin.assignments.assign_department_group(world.op, G_D13, read_only=True)
    assert assignments(world.op) == [(G_D13, 1)]
    assert keys(world.op) == [(1, D1, G_D13, 1), (1, D3, G_D13, 1)]
    assert user(world.op).cache_version == version + 1
    world.admin.assignments.assign_department_group(world.op, G_D13, read_only=False)
    assert assignments(world.op) == [(G_D13, 0)]
    assert keys(world.op) == [(1, D1, G_D13, 0), (1, D3, G_D13, 0)]


def test_a_department_writable_through_one_row_stays_writable_beside_a_read_only_one(
    world: World,
) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D1)
    world.admin.assignments.assign_department_group(world.op, G_D13, read_only=True)
    access = chat_access(world.op)
    assert access.read == [D1, D3]
    assert access.write == [D1]


def test_removing_a_department_group_deletes_its_assignment_and_only_its_rows(
    world: World,
) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D2)
    world.admin.assignments.assign_department_group(world.op, G_D13)
    world.admin.assignments.assign_department(world.op, D1)
    version = user(world.op).cache_version
    world.admin.assignments.unassign_department_group(world.op, G_D13)
    assert assignments(world.op) == [(G_D2, 0)]
    assert keys(world.op) == [(1, D2, G_D2, 0), (0, D1, 0, 0)]
    assert user(world.op).departments_ids == "2,1"
    assert user(world.op).cache_version == version + 1


def test_removing_the_last_department_group_leaves_an_empty_departments_ids(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D2)
    world.admin.assignments.unassign_department_group(world.op, G_D2)
    assert keys(world.op) == []
    assert assignments(world.op) == []
    assert user(world.op).departments_ids == ""
    assert chat_access(world.op).read == []


# -- direct departments -----------------------------------------------------------------------


def test_assigning_a_department_directly_writes_one_type_0_row(world: World) -> None:
    world.admin.assignments.assign_department(world.op, D3)
    rows = rows_of(world.op)
    assert [(r["type"], r["dep_id"], r["dep_group_id"], r["ro"]) for r in rows] == [(0, D3, 0, 0)]
    assert (rows[0]["max_chats"], rows[0]["hide_online"], rows[0]["always_on"]) == (4, 1, 1)
    assert user(world.op).departments_ids == "3"
    assert user(world.op).cache_version == 1
    assert chat_access(world.op).write == [D3]


def test_a_direct_department_read_only_and_back(world: World) -> None:
    world.admin.assignments.assign_department(world.op, D3, read_only=True)
    assert keys(world.op) == [(0, D3, 0, 1)]
    assert chat_access(world.op).write == []
    world.admin.assignments.assign_department(world.op, D3, read_only=False)
    assert keys(world.op) == [(0, D3, 0, 0)]
    assert chat_access(world.op).write == [D3]
    assert user(world.op).cache_version == 2


def test_removing_a_direct_department_keeps_the_group_row_for_the_same_department(
    world: World,
) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D2)
    world.admin.assignments.assign_department(world.op, D2)
    assert user(world.op).departments_ids == "2"
    world.admin.assignments.unassign_department(world.op, D2)
    assert keys(world.op) == [(1, D2, G_D2, 0)]
    assert user(world.op).departments_ids == "2"
    assert user(world.op).cache_version == 3


# -- all departments --------------------------------------------------------------------------


def test_all_departments_on_replaces_the_placeholder_by_one_dep_id_0_row(world: World) -> None:
    world.admin.assignments.set_all_departments(world.op, False)
    assert keys(world.op) == [(0, -1, 0, 1)]
    world.admin.assignments.assign_department(world.op, D2)
    world.admin.assignments.set_all_departments(world.op, True)
    assert user(world.op).all_departments == 1
    assert keys(world.op) == [(0, D2, 0, 0), (0, 0, 0, 0)]
    assert user(world.op).departments_ids == "2,0"
    access = chat_access(world.op)
    assert access.all_departments is True
    assert access.read == [D1, D2, D3]
    assert access.write == [D1, D2, D3]


def test_all_departments_on_twice_leaves_one_dep_id_0_row(world: World) -> None:
    world.admin.assignments.set_all_departments(world.op, True)
    world.admin.assignments.set_all_departments(world.op, True)
    assert keys(world.op) == [(0, 0, 0, 0)]
    assert user(world.op).cache_version == 1  # the second call changed nothing: no bump


def test_all_departments_off_writes_the_minus_1_placeholder(world: World) -> None:
    world.admin.assignments.set_all_departments(world.op, True)
    world.admin.assignments.assign_department_group(world.op, G_D2)
    world.admin.assignments.set_all_departments(world.op, False)
    assert user(world.op).all_departments == 0
    assert keys(world.op) == [(1, D2, G_D2, 0), (0, -1, 0, 1)]
    placeholder = rows_of(world.op)[-1]
    assert placeholder["exc_indv_autoasign"] == 1
    assert user(world.op).departments_ids == "2,-1"
    access = chat_access(world.op)
    assert access.all_departments is False
    assert access.read == [D2]  # the placeholder matches nothing


# -- department group membership --------------------------------------------------------------


def test_adding_a_department_to_a_group_adds_rows_for_every_assigned_user(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D2)
    world.admin.assignments.assign_department_group(world.other, G_D2, read_only=True)
    world.admin.departments.set_group_departments(G_D2, [D2, D3])
    assert keys(world.op) == [(1, D2, G_D2, 0), (1, D3, G_D2, 0)]
    assert keys(world.other) == [(1, D2, G_D2, 1), (1, D3, G_D2, 1)]
    assert user(world.op).departments_ids == "2,3"
    assert user(world.other).departments_ids == "2,3"
    assert [
        m.dep_id
        for m in DepartmentGroupMember.select()
        .where(DepartmentGroupMember.dep_group_id == G_D2)
        .order_by(DepartmentGroupMember.id)
    ] == [D2, D3]


def test_removing_a_department_from_a_group_removes_the_derived_rows(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D13)
    world.admin.assignments.assign_department(world.op, D3)
    world.admin.departments.set_group_departments(G_D13, [D1])
    assert keys(world.op) == [(0, D3, 0, 0), (1, D1, G_D13, 0)]
    assert chat_access(world.op).read == [D1, D3]
    world.admin.departments.set_group_departments(G_D13, [])
    assert keys(world.op) == [(0, D3, 0, 0)]
    assert user(world.op).departments_ids == "3"
    assert assignments(world.op) == [(G_D13, 0)]  # the assignment itself stays


def test_changing_a_group_leaves_users_not_assigned_to_it_alone(world: World) -> None:
    world.admin.assignments.assign_department_group(world.other, G_D1)
    before = rows_of(world.other)
    world.admin.departments.set_group_departments(G_D2, [D1, D2])
    assert rows_of(world.other) == before


def test_deleting_a_department_group_removes_assignments_and_derived_rows(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D13)
    world.admin.assignments.assign_department_group(world.op, G_D2)
    world.admin.assignments.assign_department_group(world.other, G_D13)
    world.admin.departments.delete_group(G_D13)
    assert assignments(world.op) == [(G_D2, 0)]
    assert keys(world.op) == [(1, D2, G_D2, 0)]
    assert assignments(world.other) == []
    assert keys(world.other) == []
    assert user(world.op).departments_ids == "2"
    assert user(world.other).departments_ids == ""
    assert (
        not DepartmentGroupMember.select()
        .where(DepartmentGroupMember.dep_group_id == G_D13)
        .exists()
    )


# -- disable, enable, delete ------------------------------------------------------------------


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "id"} for r in rows]


def test_disabling_parks_every_department_row_and_enabling_brings_them_back_in_order(
    world: World,
) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D13, read_only=True)
    world.admin.assignments.assign_department(world.op, D2)
    world.admin.assignments.assign_department_group(world.op, G_D1)
    world.admin.assignments.assign_department_group(world.other, G_D2)
    userdep = _without_ids(rows_of(world.op))
    dgu = _without_ids(rows_of(world.op, DepartmentGroupUser))
    others = rows_of(world.other)
    departments_ids = user(world.op).departments_ids

    world.admin.users.set_disabled(world.op, True)
    assert user(world.op).disabled == 1
    assert rows_of(world.op) == []
    assert rows_of(world.op, DepartmentGroupUser) == []
    assert _without_ids(rows_of(world.op, UserDepDisabled)) == userdep
    assert _without_ids(rows_of(world.op, DepartmentGroupUserDisabled)) == dgu
    assert rows_of(world.other) == others
    access = chat_access(world.op)
    assert access.disabled and access.read == []

    world.admin.users.set_disabled(world.op, False)
    assert user(world.op).disabled == 0
    assert _without_ids(rows_of(world.op)) == userdep
    assert _without_ids(rows_of(world.op, DepartmentGroupUser)) == dgu
    assert rows_of(world.op, UserDepDisabled) == []
    assert rows_of(world.op, DepartmentGroupUserDisabled) == []
    assert user(world.op).departments_ids == departments_ids
    assert chat_access(world.op).read == [D1, D2, D3]


def test_disabling_and_enabling_bump_cache_version(world: World) -> None:
    world.admin.users.set_disabled(world.op, True)
    assert user(world.op).cache_version == 1
    world.admin.users.set_disabled(world.op, False)
    assert user(world.op).cache_version == 2


def test_deleting_a_user_removes_every_row_of_theirs(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D13)
    world.admin.assignments.assign_department(world.op, D2)
    world.admin.assignments.assign_department_group(world.other, G_D13)
    others = (rows_of(world.other), rows_of(world.other, DepartmentGroupUser))
    world.admin.users.delete(world.op)
    assert User.get_or_none(User.id == world.op) is None
    for model in (
        GroupUser,
        UserDep,
        UserDepDisabled,
        DepartmentGroupUser,
        DepartmentGroupUserDisabled,
    ):
        assert rows_of(world.op, model) == [], model._meta.table_name
    assert (rows_of(world.other), rows_of(world.other, DepartmentGroupUser)) == others


def test_deleting_a_disabled_user_removes_the_parked_rows_too(world: World) -> None:
    world.admin.assignments.assign_department_group(world.op, G_D13)
    world.admin.users.set_disabled(world.op, True)
    assert rows_of(world.op, UserDepDisabled)
    world.admin.users.delete(world.op)
    assert rows_of(world.op, UserDepDisabled) == []
    assert rows_of(world.op, DepartmentGroupUserDisabled) == []


@pytest.mark.parametrize("on", [True, False])
def test_all_departments_of_a_disabled_user_is_refused_and_writes_no_live_row(
    world: World, on: bool
) -> None:
    """As a department or department group is (red team, round 3): "all departments" wrote
    its ``dep_id`` 0 (or -1) row live beside the parked ones, so the enabled account came back
    with every department as well as its own rows."""
    from store.errors import ValidationError

    world.admin.assignments.assign_department_group(world.op, G_D1)
    world.admin.users.set_disabled(world.op, True)
    parked = rows_of(world.op, UserDepDisabled)
    assert rows_of(world.op) == [] and parked
    flags = User.get_by_id(world.op).all_departments
    with pytest.raises(ValidationError, match="is disabled: enable the account"):
        world.admin.assignments.set_all_departments(world.op, on)
    assert rows_of(world.op) == [] and rows_of(world.op, UserDepDisabled) == parked
    assert User.get_by_id(world.op).all_departments == flags
    world.admin.users.set_disabled(world.op, False)
    assert keys(world.op) == [(1, D1, G_D1, 0)]


# -- cache_version: changes to groups, roles, policies, department groups bump everyone -------


def _versions() -> dict[int, int]:
    return {u.id: u.cache_version for u in User.select()}


CHANGES = {
    "group create": lambda w: w.admin.groups.create("New group"),
    "group rename": lambda w: w.admin.groups.update(w.ops_group, name="Ops"),
    "group disable": lambda w: w.admin.groups.update(w.ops_group, disabled=True),
    "group work-with": lambda w: w.admin.groups.set_work_with(w.ops_group, [1]),
    "group attach role": lambda w: w.admin.groups.attach_role(
        w.ops_group, Role.create(name="Chat").id
    ),
    "group detach role": lambda w: (
        GroupRole.create(group_id=w.ops_group, role_id=Role.create(name="Chat").id),
        w.admin.groups.detach_role(w.ops_group, Role.get(Role.name == "Chat").id),
    ),
    "group delete": lambda w: w.admin.groups.delete(w.admin.groups.create("Spare").id),
    "role rename": lambda w: w.admin.roles.rename(Role.create(name="Chat").id, "Chats"),
    "role delete": lambda w: w.admin.roles.delete(Role.create(name="Chat").id),
    "policy add": lambda w: w.admin.roles.add_policy(Role.create(name="Chat").id, "lhchat", "use"),
    "policy remove": lambda w: w.admin.roles.remove_policy(
        1, RoleFunction.create(role_id=1, module="lhchat", function="use").id
    ),
    "department group create": lambda w: w.admin.departments.create_group("New", [D1]),
    "department group rename": lambda w: w.admin.departments.rename_group(G_D1, "Renamed"),
    "department group departments": lambda w: w.admin.departments.set_group_departments(
        G_D1, [D1, D2]
    ),
    "department group delete": lambda w: w.admin.departments.delete_group(G_D1),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_to_groups_roles_policies_or_department_groups_bumps_every_user(
    world: World, change: str
) -> None:
    before = _versions()
    CHANGES[change](world)
    after = _versions()
    assert set(after) == set(before)
    for uid, version in before.items():
        assert after[uid] > version, (change, uid)


def test_creating_a_role_bumps_every_user(world: World) -> None:
    """SPEC §1.1: "any change to groups, roles, policies or department groups" bumps everyone."""
    before = _versions()
    world.admin.roles.create("Brand new")
    after = _versions()
    assert all(after[uid] > version for uid, version in before.items())


def test_deleting_a_department_group_also_drops_a_disabled_users_parked_assignment(
    world: World,
) -> None:
    """SPEC §1.1: deleting a group removes its assignments and derived rows, parked ones too;
    otherwise enabling the user brings back rows of a group that no longer exists."""
    world.admin.assignments.assign_department_group(world.op, G_D13)
    world.admin.assignments.assign_department_group(world.op, G_D2)
    world.admin.users.set_disabled(world.op, True)
    world.admin.departments.delete_group(G_D13)
    world.admin.users.set_disabled(world.op, False)
    assert assignments(world.op) == [(G_D2, 0)]
    assert keys(world.op) == [(1, D2, G_D2, 0)]
    assert chat_access(world.op).read == [D2]


def test_a_disabled_users_departments_cannot_be_changed_until_enabled(sample_db) -> None:
    """Parked rows stay parked: no live lh_userdep row appears for a disabled user."""
    import pytest

    from store import Session, ValidationError
    from store.dump import all_rows
    from store.models import User

    User.update(disabled=1).where(User.id == 2).execute()
    before = all_rows()
    with pytest.raises(ValidationError, match="enable the account"):
        Session(sample_db, 5).assignments.assign_department_group(2, 1)
    assert all_rows() == before
