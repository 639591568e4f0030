"""SPEC §3 edge cases on hand-made configurations: scoping sets and the rules of §3.1/§3.2."""

from __future__ import annotations

import contextlib

import pytest
from peewee import Database

from store import NotFoundError, PermissionSet, Scope, ScopeError, Session, ValidationError
from store.dump import all_rows
from store.models import (
    Department,
    DepartmentGroup,
    DepartmentGroupMember,
    DepartmentGroupUser,
    Group,
    GroupRole,
    GroupUser,
    GroupWork,
    Role,
    RoleFunction,
    User,
    UserDep,
)

# -- builders ---------------------------------------------------------------------------------


def make_role(name: str, *policies: str) -> int:
    role = Role.create(name=name)
    for policy in policies:
        module, function = policy.split("/")
        RoleFunction.create(role_id=role.id, module=module, function=function)
    return role.id


def make_group(
    name: str,
    *roles: int,
    disabled: bool = False,
    required: bool = False,
) -> int:
    group = Group.create(name=name, disabled=int(disabled), required=int(required))
    for role_id in roles:
        GroupRole.create(group_id=group.id, role_id=role_id)
    return group.id


def works_with(group_id: int, *targets: int) -> None:
    for target in targets:
        GroupWork.create(group_id=group_id, group_work_id=target)


def make_user(name: str, *groups: int) -> int:
    user = User.create(username=name, password="", email=f"{name.replace(' ', '.')}@example.com")
    for group_id in groups:
        GroupUser.create(group_id=group_id, user_id=user.id)
    return user.id


def scope_of(user_id: int) -> Scope:
    return Scope.compute(user_id, PermissionSet.for_user(user_id))


TEAMLEAD_POLICIES = (
    "lhuser/edituser",
    "lhuser/createuser",
    "lhuser/deleteuser",
    "lhuser/userlist",
    "lhuser/selfedit",
)


# -- work-with and the -1 flag ----------------------------------------------------------------


def test_an_own_group_flagged_minus_one_is_usable_but_not_handed_out_by_its_members(
    db: Database,
) -> None:
    lead = make_group("Leads", make_role("Lead", *TEAMLEAD_POLICIES))
    ops = make_group("Ops")
    works_with(lead, ops, -1)
    actor = make_user("lead", lead)
    scope = scope_of(actor)
    assert scope.usable_groups == {lead, ops}
    assert scope.assignable_groups == {ops}


def test_a_flagged_own_group_is_assignable_when_another_own_group_works_with_it(
    db: Database,
) -> None:
    lead = make_group("Leads", make_role("Lead", *TEAMLEAD_POLICIES))
    seniors = make_group("Seniors")
    works_with(lead, -1)
    works_with(seniors, lead)
    actor = make_user("lead", lead, seniors)
    scope = scope_of(actor)
    assert scope.assignable_groups == {lead, seniors}


def test_a_flagged_group_that_only_works_with_itself_stays_withheld(db: Database) -> None:
    lead = make_group("Leads", make_role("Lead", *TEAMLEAD_POLICIES))
    works_with(lead, -1)
    GroupWork.create(group_id=lead, group_work_id=lead)  # self-reference is not "another group"
    actor = make_user("lead", lead)
    assert lead not in scope_of(actor).assignable_groups


def test_a_flagged_group_the_actor_reaches_through_work_with_is_not_withheld(
    db: Database,
) -> None:
    lead = make_group("Leads", make_role("Lead", *TEAMLEAD_POLICIES))
    ops = make_group("Ops")
    works_with(lead, ops)
    works_with(ops, -1)  # withholds Ops from its own members, not from team leaders
    actor = make_user("lead", lead)
    assert scope_of(actor).assignable_groups == {lead, ops}


def test_the_minus_one_flag_does_not_limit_an_actor_with_editusergroupall(db: Database) -> None:
    boss = make_group("Bosses", make_role("Boss", "lhuser/*"))
    other = make_group("Other")
    works_with(boss, -1)
    actor = make_user("boss", boss)
    assert scope_of(actor).assignable_groups == {boss, other}


def test_work_with_is_one_level_and_not_transitive(db: Database) -> None:
    a = make_group("A", make_role("Lead", *TEAMLEAD_POLICIES))
    b = make_group("B")
    c = make_group("C")
    works_with(a, b)
    works_with(b, c)
    member_of_c = make_user("in c", c)
    member_of_b = make_user("in b", b)
    actor = make_user("actor", a)
    scope = scope_of(actor)
    assert scope.usable_groups == {a, b}
    assert scope.visible_user_ids() == [member_of_b, actor]
    assert member_of_c not in scope.visible_user_ids()


def test_a_disabled_own_group_still_counts_for_usable_groups_and_its_work_with(
    db: Database,
) -> None:
    a = make_group("A", make_role("Lead", *TEAMLEAD_POLICIES))
    off = make_group("Off", disabled=True)
    target = make_group("Target of off")
    works_with(off, target)
    in_target = make_user("in target", target)
    actor = make_user("actor", a, off)
    scope = scope_of(actor)
    assert scope.usable_groups == {a, off, target}
    assert in_target in scope.visible_user_ids()
    assert in_target in scope.editable_user_ids()


def test_a_disabled_work_with_target_counts_like_any_other(db: Database) -> None:
    a = make_group("A", make_role("Lead", *TEAMLEAD_POLICIES))
    off = make_group("Off", disabled=True)
    works_with(a, off)
    in_off = make_user("in off", off)
    actor = make_user("actor", a)
    scope = scope_of(actor)
    assert off in scope.usable_groups
    assert off in scope.assignable_groups
    assert in_off in scope.editable_user_ids()


def test_work_with_rows_pointing_at_a_missing_group_are_ignored(db: Database) -> None:
    a = make_group("A", make_role("Lead", *TEAMLEAD_POLICIES))
    works_with(a, 999)
    actor = make_user("actor", a)
    assert scope_of(actor).usable_groups == {a}


# -- visible and editable users ---------------------------------------------------------------


def test_a_user_without_groups_is_invisible_without_see_all(db: Database) -> None:
    a = make_group("A", make_role("Lead", *TEAMLEAD_POLICIES))
    lonely = make_user("lonely")
    actor = make_user("actor", a)
    assert lonely not in scope_of(actor).visible_user_ids()
    with pytest.raises(NotFoundError) as missing:
        Session(db, actor).users.get(lonely)
    assert "lonely" not in str(missing.value)  # the name does not leak


def test_a_user_without_groups_is_visible_and_editable_with_see_all(db: Database) -> None:
    a = make_group("A", make_role("Boss", "lhuser/see_all", "lhuser/edituser"))
    lonely = make_user("lonely")
    actor = make_user("actor", a)
    scope = scope_of(actor)
    assert lonely in scope.visible_user_ids()
    assert lonely in scope.editable_user_ids()  # no group lies outside the usable ones


def test_the_actor_always_sees_himself_even_without_work_with(db: Database) -> None:
    a = make_group("A", make_role("Nothing", "lhchat/use"))
    actor = make_user("actor", a)
    other = make_user("other in a", a)
    scope = scope_of(actor)
    assert scope.visible_user_ids() == [actor, other]
    assert scope.editable_user_ids() == []  # no lhuser/edituser


def test_a_user_with_one_group_outside_the_usable_groups_is_visible_but_not_editable(
    db: Database,
) -> None:
    a = make_group("A", make_role("Lead", *TEAMLEAD_POLICIES))
    b = make_group("B")
    outside = make_group("Outside")
    works_with(a, b)
    mixed = make_user("mixed", b, outside)
    plain = make_user("plain", b)
    actor = make_user("actor", a)
    scope = scope_of(actor)
    assert mixed in scope.visible_user_ids()
    assert mixed not in scope.editable_user_ids()
    assert plain in scope.editable_user_ids()
    with pytest.raises(ScopeError) as refused:
        Session(db, actor).users.update(mixed, name="x")
    assert "'Outside'" in str(refused.value)


# -- protected users and oneself --------------------------------------------------------------


@pytest.fixture
def admin_setup(db: Database) -> dict[str, int]:
    """User 1 is a plain operator here; user 2 is an administrator; user 3 holds lhuser/*."""
    admin_role = make_role("Administrators", "*/*")
    users_role = make_role("Users", "lhuser/*", "lhpermission/*")
    ops = make_group("Operators", make_role("Operator", "lhchat/use"))
    admins = make_group("Administrators", admin_role)
    managers = make_group("Managers", users_role)
    first = make_user("first", ops)
    admin = make_user("admin", admins)
    manager = make_user("manager", managers)
    return {
        "admin_role": admin_role,
        "users_role": users_role,
        "ops": ops,
        "admins": admins,
        "managers": managers,
        "first": first,
        "admin": admin,
        "manager": manager,
    }


def test_user_1_is_never_deleted_even_by_an_administrator(
    db: Database, admin_setup: dict[str, int]
) -> None:
    assert admin_setup["first"] == 1
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        Session(db, admin_setup["admin"]).users.delete(1)
    assert "first" in str(refused.value)
    assert all_rows() == before


def test_an_administrator_never_deletes_himself(db: Database, admin_setup: dict[str, int]) -> None:
    admin = admin_setup["admin"]
    with pytest.raises(ScopeError) as refused:
        Session(db, admin).users.delete(admin)
    assert "own account" in str(refused.value)
    assert User.get_or_none(User.id == admin) is not None


def test_a_manager_with_lhuser_star_never_deletes_himself(
    db: Database, admin_setup: dict[str, int]
) -> None:
    manager = admin_setup["manager"]
    with pytest.raises(ScopeError):
        Session(db, manager).users.delete(manager)
    assert User.get_or_none(User.id == manager) is not None


def test_a_non_administrator_cannot_edit_disable_delete_or_regroup_an_administrator(
    db: Database, admin_setup: dict[str, int]
) -> None:
    session = Session(db, admin_setup["manager"])
    admin = admin_setup["admin"]
    assert admin in session.permissions.scope().visible_user_ids()
    assert admin not in session.permissions.scope().editable_user_ids()
    before = all_rows()
    attempts = [
        lambda: session.users.update(admin, name="x"),
        lambda: session.users.set_disabled(admin, True),
        lambda: session.users.delete(admin),
        lambda: session.users.set_password(admin, "new-password"),
        lambda: session.users.change_groups(admin, add=[admin_setup["ops"]]),
        lambda: session.assignments.set_all_departments(admin, False),
    ]
    for attempt in attempts:
        with pytest.raises(ScopeError) as refused:
            attempt()
        assert "administrator" in str(refused.value)
    assert all_rows() == before


def test_an_administrator_may_edit_another_administrator(
    db: Database, admin_setup: dict[str, int]
) -> None:
    second = make_user("second admin", admin_setup["admins"])
    detail = Session(db, admin_setup["admin"]).users.update(second, name="Second")
    assert detail.name == "Second"


def test_a_non_administrator_cannot_hand_out_a_group_that_grants_administration(
    db: Database, admin_setup: dict[str, int]
) -> None:
    session = Session(db, admin_setup["manager"])
    assert admin_setup["admins"] not in session.permissions.scope().assignable_groups
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.users.change_groups(admin_setup["first"], add=[admin_setup["admins"]])
    assert "'Administrators'" in str(refused.value)
    assert "administration" in str(refused.value)
    with pytest.raises(ScopeError):
        session.users.create(
            username="sneaky",
            password="pw",
            email="sneaky@example.com",
            groups=[admin_setup["ops"], admin_setup["admins"]],
        )
    with pytest.raises(ScopeError):
        session.groups.add_member(admin_setup["admins"], admin_setup["first"])
    assert all_rows() == before


def test_a_group_whose_admin_role_is_reached_through_a_second_role_is_withheld_too(
    db: Database, admin_setup: dict[str, int]
) -> None:
    sneaky = make_group(
        "Looks harmless", make_role("Chat", "lhchat/use"), admin_setup["admin_role"]
    )
    assert sneaky not in scope_of(admin_setup["manager"]).assignable_groups
    assert sneaky in scope_of(admin_setup["admin"]).assignable_groups


def test_a_non_administrator_cannot_make_himself_administrator_through_a_disabled_admin_group(
    db: Database, admin_setup: dict[str, int]
) -> None:
    """SPEC §3.2.4: only administrators make administrators. A disabled group carrying a */*
    role grants nothing today, but handing it out and then enabling it must not be a way in."""
    dormant = make_group("Dormant admins", admin_setup["admin_role"], disabled=True)
    manager = admin_setup["manager"]
    session = Session(db, manager)
    for step in (
        lambda: session.users.change_groups(manager, add=[dormant]),
        lambda: session.groups.update(dormant, disabled=False),
    ):
        with contextlib.suppress(ScopeError):
            step()
    assert not PermissionSet.for_user(manager).is_administrator


def test_a_non_administrator_cannot_attach_a_role_containing_star_star(
    db: Database, admin_setup: dict[str, int]
) -> None:
    session = Session(db, admin_setup["manager"])
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.groups.attach_role(admin_setup["ops"], admin_setup["admin_role"])
    assert "'Administrators'" in str(refused.value)
    assert all_rows() == before
    # an administrator may
    Session(db, admin_setup["admin"]).groups.attach_role(
        admin_setup["ops"], admin_setup["admin_role"]
    )
    assert GroupRole.select().where(GroupRole.group_id == admin_setup["ops"]).count() == 2


def test_a_non_administrator_cannot_add_a_star_star_grant_to_any_role(
    db: Database, admin_setup: dict[str, int]
) -> None:
    session = Session(db, admin_setup["manager"])
    harmless = make_role("Harmless", "lhchat/use")
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.roles.add_policy(harmless, "*", "*")
    assert "*/*" in str(refused.value)
    assert all_rows() == before
    Session(db, admin_setup["admin"]).roles.add_policy(harmless, "*", "*")
    assert (
        RoleFunction.select()
        .where((RoleFunction.role_id == harmless) & (RoleFunction.module == "*"))
        .exists()
    )


def test_a_non_administrator_cannot_change_or_delete_the_administrators_role_or_group(
    db: Database, admin_setup: dict[str, int]
) -> None:
    session = Session(db, admin_setup["manager"])
    policy = RoleFunction.get(RoleFunction.role_id == admin_setup["admin_role"])
    before = all_rows()
    for attempt in (
        lambda: session.roles.remove_policy(admin_setup["admin_role"], policy.id),
        lambda: session.roles.add_policy(admin_setup["admin_role"], "lhchat", "use"),
        lambda: session.roles.rename(admin_setup["admin_role"], "Renamed"),
        lambda: session.groups.update(admin_setup["admins"], disabled=True),
        lambda: session.groups.detach_role(admin_setup["admins"], admin_setup["admin_role"]),
    ):
        with pytest.raises(ScopeError) as refused:
            attempt()
        assert "administration" in str(refused.value)
    assert all_rows() == before


# -- own groups, required groups, at least one group -----------------------------------------


def test_changing_ones_own_groups_needs_editusergroupall(db: Database) -> None:
    lead = make_group("Leads", make_role("Lead", *TEAMLEAD_POLICIES))
    ops = make_group("Ops")
    works_with(lead, ops)
    actor = make_user("lead", lead)
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        Session(db, actor).users.change_groups(actor, add=[ops])
    assert "editusergroupall" in str(refused.value)
    assert all_rows() == before


def test_an_actor_with_editusergroupall_may_change_his_own_groups(db: Database) -> None:
    boss = make_group("Bosses", make_role("Boss", "lhuser/*"))
    ops = make_group("Ops")
    actor = make_user("boss", boss)
    detail = Session(db, actor).users.change_groups(actor, add=[ops])
    assert {g.id for g in detail.groups} == {boss, ops}


def test_creating_a_user_needs_one_of_the_required_assignable_groups(db: Database) -> None:
    lead = make_group("Leads", make_role("Lead", *TEAMLEAD_POLICIES))
    ops = make_group("Ops", required=True)
    extra = make_group("Extra")
    works_with(lead, ops, extra)
    actor = make_user("lead", lead)
    before = all_rows()
    with pytest.raises(ValidationError) as refused:
        Session(db, actor).users.create(
            username="new", password="pw", email="new@example.com", groups=[extra]
        )
    assert "'Ops'" in str(refused.value)
    assert "required" in str(refused.value)
    assert all_rows() == before
    created = Session(db, actor).users.create(
        username="new", password="pw", email="new@example.com", groups=[extra, ops]
    )
    assert sorted(g.id for g in created.groups) == sorted([extra, ops])


def test_a_required_group_outside_the_assignable_groups_is_not_demanded(db: Database) -> None:
    lead = make_group("Leads", make_role("Lead", *TEAMLEAD_POLICIES))
    ops = make_group("Ops")
    make_group("Elsewhere", required=True)
    works_with(lead, ops)
    actor = make_user("lead", lead)
    assert scope_of(actor).required_groups == set()
    created = Session(db, actor).users.create(
        username="new", password="pw", email="new@example.com", groups=[ops]
    )
    assert [g.id for g in created.groups] == [ops]


def test_creating_a_user_needs_at_least_one_group(db: Database) -> None:
    boss = make_group("Bosses", make_role("Boss", "lhuser/*"))
    actor = make_user("boss", boss)
    before = all_rows()
    with pytest.raises(ValidationError) as refused:
        Session(db, actor).users.create(
            username="new", password="pw", email="new@example.com", groups=[]
        )
    assert "at least one group" in str(refused.value)
    assert all_rows() == before


def test_removing_every_group_of_a_user_is_refused(db: Database) -> None:
    boss = make_group("Bosses", make_role("Boss", "lhuser/*"))
    ops = make_group("Ops")
    target = make_user("target", ops)
    actor = make_user("boss", boss)
    before = all_rows()
    with pytest.raises(ValidationError) as refused:
        Session(db, actor).users.change_groups(target, remove=[ops])
    assert "at least one group" in str(refused.value)
    assert all_rows() == before


def test_group_changes_keep_the_memberships_outside_the_actors_reach(db: Database) -> None:
    boss = make_group("Bosses", make_role("Boss", "lhuser/see_all", *TEAMLEAD_POLICIES))
    ops = make_group("Ops")
    extra = make_group("Extra")
    works_with(boss, ops, extra)
    target = make_user("target", ops)
    actor = make_user("boss", boss)
    detail = Session(db, actor).users.change_groups(target, add=[extra], remove=[ops])
    assert [g.id for g in detail.groups] == [extra]
    assert User.get_by_id(target).cache_version == 1


# -- roles on groups, protected role/group, roles in use --------------------------------------


@pytest.mark.parametrize(
    ("policies", "missing"),
    [
        (("lhuser/editgroup",), "lhpermission/edit"),
        (("lhpermission/edit",), "lhuser/editgroup"),
    ],
)
def test_attaching_a_role_needs_both_editgroup_and_lhpermission_edit(
    db: Database, policies: tuple[str, ...], missing: str
) -> None:
    actor_group = make_group("Half", make_role("Half", *policies))
    target = make_group("Target")
    chat = make_role("Chat", "lhchat/use")
    actor = make_user("half", actor_group)
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        Session(db, actor).groups.attach_role(target, chat)
    assert missing in str(refused.value)
    GroupRole.create(group_id=target, role_id=chat)
    with pytest.raises(ScopeError) as refused:
        Session(db, actor).groups.detach_role(target, chat)
    assert missing in str(refused.value)
    GroupRole.delete().where(GroupRole.group_id == target).execute()
    assert all_rows() == before


def test_editgroup_with_lhpermission_edit_attaches_and_detaches_a_role(db: Database) -> None:
    actor_group = make_group("Both", make_role("Both", "lhuser/editgroup", "lhpermission/edit"))
    target = make_group("Target")
    chat = make_role("Chat", "lhchat/use")
    actor = make_user("both", actor_group)
    info = Session(db, actor).groups.attach_role(target, chat)
    assert [r.id for r in info.roles] == [chat]
    info = Session(db, actor).groups.detach_role(target, chat)
    assert info.roles == ()


def test_role_1_is_never_deleted_even_when_no_group_uses_it(db: Database) -> None:
    first = make_role("First role", "lhchat/use")
    admins = make_group("Admins", make_role("All", "*/*"))
    actor = make_user("admin", admins)
    assert first == 1
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        Session(db, actor).roles.delete(1)
    assert "'First role'" in str(refused.value)
    assert all_rows() == before


def test_group_1_is_never_deleted(db: Database) -> None:
    first = make_group("First", make_role("Chat", "lhchat/use"))
    admins = make_group("Admins", make_role("All", "*/*"))
    actor = make_user("admin", admins)
    assert first == 1
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        Session(db, actor).groups.delete(1)
    assert "'First'" in str(refused.value)
    assert all_rows() == before


def test_a_role_still_used_by_a_group_is_not_deleted(
    db: Database, admin_setup: dict[str, int]
) -> None:
    before = all_rows()
    with pytest.raises(ValidationError) as refused:
        Session(db, admin_setup["admin"]).roles.delete(admin_setup["users_role"])
    assert "'Managers'" in str(refused.value)
    assert all_rows() == before


def test_an_unused_role_is_deleted_with_its_policies(
    db: Database, admin_setup: dict[str, int]
) -> None:
    spare = make_role("Spare", "lhchat/use", "lhchat/open_all")
    Session(db, admin_setup["admin"]).roles.delete(spare)
    assert Role.get_or_none(Role.id == spare) is None
    assert not RoleFunction.select().where(RoleFunction.role_id == spare).exists()


# -- assignable department groups and departments ---------------------------------------------


def _departments_world() -> tuple[int, int]:
    """Departments 1-3, department groups 1 = {1}, 2 = {2}, 3 = {3}; returns (lead, ops)."""
    for dep_id in (1, 2, 3):
        Department.create(name=f"D{dep_id}")
        DepartmentGroup.create(name=f"G{dep_id}")
        DepartmentGroupMember.create(dep_id=dep_id, dep_group_id=dep_id)
    lead = make_group(
        "Leads",
        make_role(
            "Lead",
            *TEAMLEAD_POLICIES,
            "lhuser/assign_to_own_department_group",
            "lhuser/assign_to_own_department_individual",
        ),
    )
    ops = make_group("Ops")
    works_with(lead, ops)
    return lead, ops


def test_own_department_groups_are_assignable_read_only_ones_included(db: Database) -> None:
    lead, _ = _departments_world()
    actor = make_user("lead", lead)
    DepartmentGroupUser.create(dep_group_id=1, user_id=actor, read_only=0)
    DepartmentGroupUser.create(dep_group_id=2, user_id=actor, read_only=1)
    assert scope_of(actor).assignable_department_groups == {1, 2}


def test_own_departments_come_from_direct_rows_only(db: Database) -> None:
    lead, _ = _departments_world()
    actor = make_user("lead", lead)
    UserDep.create(user_id=actor, dep_id=1, type=0, dep_group_id=0)
    UserDep.create(user_id=actor, dep_id=2, type=1, dep_group_id=2)  # from a group
    UserDep.create(user_id=actor, dep_id=0, type=0, dep_group_id=0)  # "all departments"
    UserDep.create(user_id=actor, dep_id=-1, type=0, dep_group_id=0, ro=1)  # placeholder
    assert scope_of(actor).assignable_departments == {1}


def test_a_lead_assigns_only_his_own_department_group_to_an_operator(db: Database) -> None:
    lead, ops = _departments_world()
    actor = make_user("lead", lead)
    target = make_user("op", ops)
    DepartmentGroupUser.create(dep_group_id=1, user_id=actor)
    session = Session(db, actor)
    session.assignments.assign_department_group(target, 1)
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.assignments.assign_department_group(target, 3)
    assert "'G3'" in str(refused.value)
    assert all_rows() == before


def test_without_the_assign_permissions_nothing_is_assignable(db: Database) -> None:
    a = make_group("A", make_role("Lead", *TEAMLEAD_POLICIES))
    actor = make_user("actor", a)
    _departments_world()
    DepartmentGroupUser.create(dep_group_id=1, user_id=actor)
    UserDep.create(user_id=actor, dep_id=1, type=0, dep_group_id=0)
    scope = scope_of(actor)
    assert scope.assignable_department_groups == set()
    assert scope.assignable_departments == set()


def test_the_assign_all_permissions_make_every_group_and_department_assignable(
    db: Database,
) -> None:
    _departments_world()
    a = make_group(
        "A",
        make_role(
            "All",
            "lhuser/assign_all_department_group",
            "lhuser/assign_all_department_individual",
        ),
    )
    actor = make_user("actor", a)
    scope = scope_of(actor)
    assert scope.assignable_department_groups == {1, 2, 3}
    assert scope.assignable_departments == {1, 2, 3}


def test_a_withheld_own_group_cannot_be_removed_from_a_colleague_either(db: Database) -> None:
    lead = make_group("Leads", make_role("Lead", *TEAMLEAD_POLICIES))
    ops = make_group("Ops")
    works_with(lead, ops, -1)
    colleague = make_user("colleague", lead, ops)
    actor = make_user("lead", lead)
    assert colleague in scope_of(actor).editable_user_ids()
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        Session(db, actor).users.change_groups(colleague, remove=[lead])
    assert "'Leads'" in str(refused.value)
    assert "own members" in str(refused.value)
    assert all_rows() == before


# -- '*/*' rows: only administrators make or unmake administrators ---------------------------


def test_a_non_administrator_cannot_add_a_star_star_exclusion_that_demotes_administrators(
    db: Database,
) -> None:
    """An exclusion of */* on a role an admin group carries would unmake its administrators."""
    admin_role = make_role("Admin", "*/*")
    shared = make_role("Shared", "lhchat/use")
    editor_role = make_role("Editor", "lhpermission/edit", "lhpermission/list")
    admins = make_group("Admins", admin_role, shared)
    editors = make_group("Editors", editor_role)
    make_user("root", admins)
    editor = make_user("editor", editors)
    before = all_rows()
    with pytest.raises(ScopeError, match=r"\*/\*"):
        Session(db, editor).roles.add_policy(shared, "*", "*", exclude=True)
    assert all_rows() == before


def test_a_non_administrator_cannot_remove_a_star_star_exclusion(db: Database) -> None:
    """Removing a */* exclusion from a role would promote the members of a */* group."""
    admin_role = make_role("Admin", "*/*")
    blocker = make_role("Blocker")
    row = RoleFunction.create(role_id=blocker, module="*", function="*", type=1)
    editor = make_user("editor", make_group("Editors", make_role("E", "lhpermission/edit")))
    make_user("dormant admin", make_group("Held", admin_role, blocker))
    before = all_rows()
    with pytest.raises(ScopeError, match=r"\*/\*"):
        Session(db, editor).roles.remove_policy(blocker, row.id)
    assert all_rows() == before


def test_a_non_administrator_cannot_enable_a_disabled_group_that_carries_star_star(
    db: Database,
) -> None:
    """Enabling a dormant administrators' group would make its members administrators."""
    dormant = make_group("Dormant", make_role("Admin", "*/*"), disabled=True)
    manager = make_user("mgr", make_group("Managers", make_role("M", "lhuser/*")))
    before = all_rows()
    with pytest.raises(ScopeError, match="only administrators"):
        Session(db, manager).groups.update(dormant, disabled=False)
    assert all_rows() == before


def test_a_non_administrator_cannot_unblock_an_administrator_by_removing_an_exclusion_group(
    db: Database,
) -> None:
    """A member of a */* group held back by a group whose role excludes */* is no
    administrator; removing the excluding group would make them one."""
    admins = make_group("Admins", make_role("Admin", "*/*"))
    blocker = make_role("Blocker")
    RoleFunction.create(role_id=blocker, module="*", function="*", type=1)
    held = make_group("Held back", blocker)
    target = make_user("held", admins, held)
    manager = make_user("mgr", make_group("Managers", make_role("M", "lhuser/*")))
    session = Session(db, manager)
    assert not PermissionSet.for_user(target).is_administrator
    before = all_rows()
    # Refused even before the change is judged: a member of a */* group is out of reach.
    with pytest.raises(ScopeError, match="group granting administration"):
        session.users.change_groups(target, remove=[held])
    with pytest.raises(ScopeError, match="decides administration"):
        session.groups.update(held, disabled=True)
    with pytest.raises(ScopeError, match="decides administration"):
        session.groups.detach_role(held, blocker)
    assert all_rows() == before
