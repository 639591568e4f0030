"""Issue 15, point 2: a group whose roles give ``*/*`` is an administration group, enabled or
disabled, and only administrators make or touch the people it would make administrators.

A *latent administrator* is a user who would hold ``*/*`` if every group were enabled: a ``*/*``
grant row through any of their groups, a ``*/*`` exclusion through none. A disabled group
carrying the Administrators role gives its members nothing today, but an administrator who
enables it later makes every one of them an administrator at once; so a non-administrator may
neither put anyone there (create, add a member, drop the group that excluded ``*/*``) nor change
anyone already there (their password is the way in on the day the group is enabled).

The property draws random configurations (``test_scope_properties.configurations``) enriched
with disabled groups carrying ``*/*`` grant and exclusion roles, lets one non-administrator act
through the real ``Session`` services, and checks after every step that the set of latent
administrators (and of administrators) never grows. The plain tests play the concrete attacks
on the sample, on every backend.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import oracle
import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st
from oracle import Config
from peewee import Database
from test_scope_properties import (
    ACTION_SETTINGS,
    Rows,
    Tables,
    configurations,
    database_with,
    one_of,
    one_of_nonempty,
    sometimes,
    subsets,
)

from store import ScopeError, Session, StoreError
from store.dump import all_rows
from store.models import Group, User

# -- configurations with dormant administration groups ------------------------------------


@st.composite
def dormant_configurations(draw: st.DrawFn) -> Rows:
    """A random configuration plus: a role granting ``*/*`` on a disabled group (members
    drawn), often a role excluding ``*/*`` on another group (enabled or not, members drawn),
    and often a manager's role (``lhuser/*``, ``lhpermission/edit``) on an enabled group, so
    that the non-administrators who act can reach far."""
    rows = draw(configurations())
    groups = [g["id"] for g in rows["lh_group"]]
    users = tuple(u["id"] for u in rows["lh_users"])
    role_ids = itertools.count(max(r["id"] for r in rows["lh_role"]) + 1)

    def add_role(*policies: tuple[str, str, int]) -> int:
        role = next(role_ids)
        rows["lh_role"].append({"id": role, "name": f"role {role}"})
        rows["lh_rolefunction"].extend(
            {"role_id": role, "module": m, "function": f, "type": t} for m, f, t in policies
        )
        return role

    def attach(group: int, role: int, members: frozenset[int]) -> None:
        rows["lh_grouprole"].append({"group_id": group, "role_id": role})
        held = {(r["group_id"], r["user_id"]) for r in rows["lh_groupuser"]}
        rows["lh_groupuser"].extend(
            {"group_id": group, "user_id": u} for u in sorted(members) if (group, u) not in held
        )

    dormant = draw(one_of(*groups))
    next(g for g in rows["lh_group"] if g["id"] == dormant)["disabled"] = 1
    attach(dormant, add_role(("*", "*", oracle.GRANT)), draw(subsets(users, 3)))
    if not draw(sometimes(4)):
        excluding = draw(one_of(*groups))
        if draw(st.booleans()):
            next(g for g in rows["lh_group"] if g["id"] == excluding)["disabled"] = 1
        attach(excluding, add_role(("*", "*", oracle.EXCLUDE)), draw(subsets(users, 3)))
    if not draw(sometimes(4)):
        managers = draw(one_of(*[g for g in groups if g != dormant]))
        next(g for g in rows["lh_group"] if g["id"] == managers)["disabled"] = 0
        role = add_role(
            ("lhuser", "*", oracle.GRANT),
            ("lhpermission", "edit", oracle.GRANT),
        )
        attach(managers, role, draw(subsets(users, 2, 1)))
    return Tables(rows)


# -- steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One call into a ``Session`` service, as data (printed and shrunk by hypothesis)."""

    kind: str
    target: int = 0  # a user
    group: int = 0
    groups: tuple[int, ...] = ()
    remove: tuple[int, ...] = ()
    role: int = 0
    policy: int = 0
    policy_key: tuple[str, str] = ("", "")
    flag: bool = False
    other_flag: bool = False


KINDS = (
    "change_groups",
    "add_member",
    "remove_member",
    "create",
    "update",
    "set_password",
    "set_disabled",
    "delete",
    "group_flags",
    "work_with",
    "attach_role",
    "detach_role",
    "add_policy",
    "remove_policy",
)
POLICY_KEYS = (("lhuser", "*"), ("lhuser", "edituser"), ("lhchat", "use"), ("*", "*"))
_serial = itertools.count(1)


def perform(session: Session, step: Step) -> None:
    match step.kind:
        case "change_groups":
            session.users.change_groups(step.target, add=step.groups, remove=step.remove)
        case "add_member":
            session.groups.add_member(step.group, step.target)
        case "remove_member":
            session.groups.remove_member(step.group, step.target)
        case "create":
            name = f"new{next(_serial)}"
            session.users.create(
                username=name, password="pw", email=f"{name}@example.com", groups=step.groups
            )
        case "update":
            session.users.update(step.target, name=f"renamed {next(_serial)}")
        case "set_password":
            session.users.set_password(step.target, "another password")
        case "set_disabled":
            session.users.set_disabled(step.target, step.flag)
        case "delete":
            session.users.delete(step.target)
        case "group_flags":
            session.groups.update(step.group, disabled=step.flag, required=step.other_flag)
        case "work_with":
            targets = [g for g in step.groups if g != step.group]
            session.groups.set_work_with(step.group, targets, withhold_from_members=step.flag)
        case "attach_role":
            session.groups.attach_role(step.group, step.role)
        case "detach_role":
            session.groups.detach_role(step.group, step.role)
        case "add_policy":
            module, function = step.policy_key
            session.roles.add_policy(step.role, module, function, exclude=step.flag)
        case "remove_policy":
            session.roles.remove_policy(step.role, step.policy)
        case _:  # pragma: no cover
            raise AssertionError(step.kind)


@st.composite
def steps(draw: st.DrawFn, rows: Rows, config: Config, actor: int) -> Step:
    """A step aimed at the edge: latent administrators and members of dormant administration
    groups as targets, administration groups (enabled or not) among the groups, roles and
    policies carrying ``*/*`` among the roles."""
    users = sorted(config.users)
    latent = sorted(oracle.latent_administrators(config) - {actor})
    admin_groups = sorted(oracle.administration_groups(config))
    dormant_members = sorted(
        u for u, spec in config.users.items() if spec.groups & set(admin_groups)
    )
    editable = sorted(oracle.editable_users(config, actor) - {actor})
    groups = sorted(config.groups)
    assignable = sorted(oracle.assignable_groups(config, actor))
    roles = sorted(r["id"] for r in rows["lh_role"])
    star_roles = sorted(
        {r["role_id"] for r in rows["lh_rolefunction"] if r["module"] == "*"} & set(roles)
    )
    policies = [(r["role_id"], r["id"]) for r in rows["lh_rolefunction"]]

    def user() -> int:
        return draw(one_of_nonempty(latent, dormant_members, editable, editable, editable, users))

    def group() -> int:
        return draw(one_of_nonempty(admin_groups, assignable, groups))

    def some_groups(min_size: int = 0) -> tuple[int, ...]:
        pool = draw(st.sampled_from([admin_groups, assignable, groups])) or groups
        return tuple(sorted(draw(subsets(tuple(pool), 3, min_size))))

    kind = draw(st.sampled_from(KINDS))
    match kind:
        case "change_groups":
            target = user()
            current = sorted(config.users[target].groups)
            remove = tuple(sorted(draw(subsets(tuple(current), 2)))) if current else ()
            add = tuple(g for g in some_groups() if g not in remove)
            return Step(kind, target=target, groups=add, remove=remove)
        case "add_member" | "remove_member":
            return Step(kind, target=user(), group=group())
        case "create":
            return Step(kind, groups=some_groups(min_size=1))
        case "update" | "set_password" | "delete":
            return Step(kind, target=user())
        case "set_disabled":
            return Step(kind, target=user(), flag=draw(st.booleans()))
        case "group_flags":
            return Step(
                kind, group=group(), flag=draw(st.booleans()), other_flag=draw(st.booleans())
            )
        case "work_with":
            return Step(kind, group=group(), groups=some_groups(), flag=draw(st.booleans()))
        case "attach_role" | "detach_role":
            return Step(kind, group=group(), role=draw(one_of_nonempty(star_roles, roles)))
        case "add_policy":
            return Step(
                kind,
                role=draw(one_of_nonempty(star_roles, roles)),
                policy_key=draw(st.sampled_from(POLICY_KEYS)),
                flag=draw(st.booleans()),
            )
        case _:
            role, policy = draw(st.sampled_from(policies)) if policies else (roles[0], 0)
            return Step(kind, role=role, policy=policy)


def reach(config: Config, actor: int) -> int:
    """How much an actor may change: picked more often the more they may (a plain operator is
    refused everything, which proves little)."""
    return sum(
        oracle.has(config, actor, module, function)
        for module, function in (
            ("lhuser", "edituser"),
            ("lhuser", "editgroup"),
            ("lhuser", "createuser"),
            ("lhuser", "editusergroupall"),
            ("lhpermission", "edit"),
        )
    )


@ACTION_SETTINGS
@given(rows=dormant_configurations(), data=st.data())
def test_no_sequence_of_a_non_administrators_actions_grows_the_latent_administrators(
    rows: Rows, data: st.DataObject
) -> None:
    """Issue 15 point 2: whatever a non-administrator does, accepted or refused, the users who
    would be administrators if every group were enabled are never more than before the step
    (and nobody becomes an administrator now). A refusal writes nothing."""
    config = Config.from_rows(rows)
    candidates = [u for u in sorted(config.users) if not oracle.is_administrator(config, u)]
    candidates = [u for u in candidates if oracle.may_act(config, u)]
    if not candidates:
        return
    strong = [u for u in candidates if reach(config, u) >= 3]
    actor = data.draw(one_of_nonempty(strong, strong, strong, candidates), label="actor")
    with database_with(rows) as db:
        session = Session(db, actor)
        rows_after = all_rows()
        after = Config.from_rows(rows_after)
        for _ in range(data.draw(st.integers(1, 10), label="steps")):
            rows_before, before = rows_after, after
            step = data.draw(steps(rows_before, before, actor), label="step")
            error: StoreError | None = None
            try:
                perform(session, step)
            except StoreError as exc:
                error = exc
            note(f"{step} -> {'accepted' if error is None else repr(error)}")
            event(f"{step.kind}: {'accepted' if error is None else type(error).__name__}")
            rows_after = all_rows()
            if error is not None:
                assert rows_after == rows_before, f"refused {step} still wrote rows"
            after = Config.from_rows(rows_after)
            grown = oracle.latent_administrators(after) - oracle.latent_administrators(before)
            assert not grown, f"{step} made {sorted(grown)} latent administrator(s)"
            made = oracle.administrators(after) - oracle.administrators(before)
            assert not made, f"{step} made {sorted(made)} administrator(s)"


# -- the concrete attacks, on the sample -------------------------------------------------------

ADMIN, OPERATOR_US, MANAGER_US = 1, 2, 5
ADMINISTRATORS_ROLE, OPERATORS_GROUP, US_OPERATORS_GROUP = 1, 2, 4


@pytest.fixture
def dormant(sample_db: Database) -> int:
    """A disabled group carrying the Administrators role, made by the administrator."""
    group = Session(sample_db, ADMIN).groups.create("Dormant admins", disabled=True)
    Session(sample_db, ADMIN).groups.attach_role(group.id, ADMINISTRATORS_ROLE)
    return group.id


def refused(attempt: Callable[[], Any], *expected: str) -> str:
    """Run an attempt that must be refused with a ScopeError naming ``expected`` and writing
    nothing at all; return the message."""
    before = all_rows()
    with pytest.raises(ScopeError) as caught:
        attempt()
    message = str(caught.value)
    for text in expected:
        assert text in message, message
    assert all_rows() == before
    return message


def latent_administrators() -> set[int]:
    return oracle.latent_administrators(Config.from_rows(all_rows()))


def test_a_disabled_group_granting_administration_is_not_assignable(
    sample_db: Database, dormant: int
) -> None:
    manager = Session(sample_db, MANAGER_US).permissions.scope()
    assert dormant in manager.administration_groups
    assert dormant not in manager.assignable_groups
    form = Session(sample_db, MANAGER_US).users.form()
    assert dormant not in {g.id for g in (*form.groups, *form.required_groups)}
    assert dormant in Session(sample_db, ADMIN).permissions.scope().assignable_groups


def test_the_manager_cannot_add_himself_to_a_disabled_administration_group(
    sample_db: Database, dormant: int
) -> None:
    session = Session(sample_db, MANAGER_US)
    for attempt in (
        lambda: session.users.change_groups(MANAGER_US, add=[dormant]),
        lambda: session.groups.add_member(dormant, MANAGER_US),
    ):
        refused(attempt, "'Dormant admins'", "grants administration", "even while disabled")
    assert MANAGER_US not in latent_administrators()


def test_the_manager_cannot_create_a_user_in_a_disabled_administration_group(
    sample_db: Database, dormant: int
) -> None:
    session = Session(sample_db, MANAGER_US)
    refused(
        lambda: session.users.create(
            username="sleeper",
            password="Pass-1234",
            email="sleeper@example.com",
            groups=[OPERATORS_GROUP, dormant],
        ),
        "'Dormant admins'",
        "grants administration",
        "even while disabled",
    )
    assert not User.select().where(User.username == "sleeper").exists()


def test_the_manager_cannot_add_an_existing_user_to_a_disabled_administration_group(
    sample_db: Database, dormant: int
) -> None:
    session = Session(sample_db, MANAGER_US)
    for attempt in (
        lambda: session.users.change_groups(OPERATOR_US, add=[dormant]),
        lambda: session.groups.add_member(dormant, OPERATOR_US),
    ):
        refused(attempt, "'Dormant admins'", "grants administration", "even while disabled")


def test_the_manager_cannot_enable_a_disabled_administration_group(
    sample_db: Database, dormant: int
) -> None:
    session = Session(sample_db, MANAGER_US)
    for attempt in (
        lambda: session.groups.update(dormant, disabled=False),
        lambda: session.groups.save(dormant, disabled=False),
    ):
        refused(attempt, "'Dormant admins'", "'*/*'", "only administrators")
    assert Group.get_by_id(dormant).disabled == 1
    assert not Session(sample_db, MANAGER_US).groups.may_change(dormant)


def test_the_manager_cannot_change_a_member_of_a_disabled_administration_group(
    sample_db: Database, dormant: int
) -> None:
    """Setting a latent administrator's password would let the manager log in as an
    administrator the day the group is enabled: every edit of them is refused."""
    Session(sample_db, ADMIN).groups.add_member(dormant, OPERATOR_US)
    assert OPERATOR_US in latent_administrators()
    session = Session(sample_db, MANAGER_US)
    assert OPERATOR_US not in session.permissions.scope().editable_user_ids()
    assert not session.users.get(OPERATOR_US).editable
    assert "group granting administration" in (session.users.form(OPERATOR_US).read_only_reason)
    for attempt in (
        lambda: session.users.set_password(OPERATOR_US, "Pass-1234"),
        lambda: session.users.update(OPERATOR_US, email="mine@example.com"),
        lambda: session.users.set_disabled(OPERATOR_US, True),
        lambda: session.users.delete(OPERATOR_US),
        lambda: session.users.change_groups(OPERATOR_US, remove=[US_OPERATORS_GROUP]),
        lambda: session.groups.remove_member(US_OPERATORS_GROUP, OPERATOR_US),
        lambda: session.assignments.unassign_department_group(OPERATOR_US, 2),
    ):
        refused(attempt, "'Operator US'", "group granting administration")
    # an administrator still may
    Session(sample_db, ADMIN).users.set_password(OPERATOR_US, "Pass-1234")


def test_the_manager_cannot_drop_the_exclusion_that_keeps_a_dormant_member_no_administrator(
    sample_db: Database, dormant: int
) -> None:
    """Operator US is in the dormant group and in one whose role excludes ``*/*``: no latent
    administrator, but one admin's routine change (enabling the dormant group once the
    exclusion is gone) would make him one: the manager may not touch him at all."""
    admin = Session(sample_db, ADMIN)
    no_admin = admin.roles.create("No administration")
    admin.roles.add_policy(no_admin.id, "*", "*", exclude=True)
    excluding = admin.groups.create("Never admins")
    admin.groups.attach_role(excluding.id, no_admin.id)
    admin.groups.add_member(dormant, OPERATOR_US)
    admin.groups.add_member(excluding.id, OPERATOR_US)
    assert OPERATOR_US not in latent_administrators()
    session = Session(sample_db, MANAGER_US)
    for attempt in (
        lambda: session.users.update(OPERATOR_US, name="Not editable"),
        lambda: session.users.change_groups(OPERATOR_US, remove=[excluding.id]),
        lambda: session.groups.remove_member(excluding.id, OPERATOR_US),
    ):
        refused(attempt, "'Operator US'", "group granting administration")
    assert OPERATOR_US not in latent_administrators()


@pytest.mark.parametrize("exclusion_enabled", [False, True])
def test_an_exclusion_does_not_put_a_member_of_an_administration_group_in_reach(
    sample_db: Database, dormant: int, exclusion_enabled: bool
) -> None:
    """Red team: the dormant group grants ``*/*``, a second group excludes it. Disabled, the
    exclusion excludes nothing once the admin enables only the first group; enabled, an
    admin may drop it. Either way the manager must not set the member's password."""
    admin = Session(sample_db, ADMIN)
    no_admin = admin.roles.create("No administration")
    admin.roles.add_policy(no_admin.id, "*", "*", exclude=True)
    excluding = admin.groups.create("Never admins", disabled=not exclusion_enabled)
    admin.groups.attach_role(excluding.id, no_admin.id)
    held = admin.users.create(
        username="held",
        password="Held-1234",
        email="held@example.com",
        groups=[2, dormant, excluding.id],
    )
    before = all_rows()
    refused(
        lambda: Session(sample_db, MANAGER_US).users.set_password(held.id, "Mine-1234"),
        "'held'",
        "group granting administration",
    )
    assert all_rows() == before


def test_a_star_row_of_another_type_grants_nothing_and_opens_nothing(sample_db: Database) -> None:
    """Red team: a ``*/*`` row with a type LHC never writes (2) is no grant, as in LHC (which
    reads ``type = 0``): a manager who joins its group does not become an administrator."""
    from store.models import GroupRole, RoleFunction
    from store.permissions import PermissionSet

    admin = Session(sample_db, ADMIN)
    odd = admin.roles.create("Odd")
    RoleFunction.create(role_id=odd.id, module="*", function="*", limitation="", type=2)
    group = admin.groups.create("Odd group")
    GroupRole.create(group_id=group.id, role_id=odd.id)
    Session(sample_db, MANAGER_US).users.change_groups(MANAGER_US, add=[group.id])
    assert not PermissionSet.for_user(MANAGER_US).is_administrator
    refused(
        lambda: Session(sample_db, MANAGER_US).users.set_password(ADMIN, "Mine-1234"),
        "'admin'",
        "administrator",
    )


def test_the_group_list_marks_a_disabled_administration_group(
    sample_db: Database, dormant: int
) -> None:
    info = Session(sample_db, MANAGER_US).groups.get(dormant)
    assert info.disabled and info.grants_administration


def test_scope_reports_latent_administrators_apart_from_administrators(
    sample_db: Database, dormant: int
) -> None:
    Session(sample_db, ADMIN).groups.add_member(dormant, OPERATOR_US)
    scope = Session(sample_db, MANAGER_US).permissions.scope()
    assert scope.administrator_users == {ADMIN}
    assert scope.latent_administrator_users == {ADMIN, OPERATOR_US}
