"""Impact preview (issue 19, point 2) held to reality.

Every check makes the change twice: once as a preview (``session.impact.preview``: done, measured,
rolled back), once for real. The preview must leave every row as it was, and its answer must
equal the difference between the permissions (``PermissionSet.for_user``, as ``perms --json``
lists them, less the excluded ones) and chat access (``chat_access``) of *every* user, computed
one by one before and after the real change: nothing the preview does not read can hide an
effect from this oracle. The table covers each kind of change the issue names on the sample;
the property test draws random changes on random generated help desks
(``tests/perf/generate.py``), several in a row.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from peewee import Database

from store import Session, StoreError, chat_access
from store.database import open_database
from store.dump import all_rows
from store.impact import Impact, Touches
from store.models import Department, DepartmentGroup, Group, GroupRole, Role, RoleFunction, User
from store.permissions import PermissionSet

PERF = Path(__file__).resolve().parent / "perf"
if str(PERF) not in sys.path:
    sys.path.insert(0, str(PERF))

from generate import generate  # noqa: E402

SCALE = max(1, int(os.environ.get("LHC_PROPERTY_SCALE", "1")))
KEYS = (
    "gains",
    "loses",
    "reads_gained",
    "reads_lost",
    "writes_gained",
    "writes_lost",
    "limitations_changed",
)
# Per user: effective permission -> its merged limitation, chats read, chats written, name.
State = dict[int, tuple[dict[str, object], frozenset[int], frozenset[int], str]]
FAST_HASH = "$2y$10$" + "x" * 53


def truth() -> State:
    """Every user's effective permissions and chat access, one user at a time."""
    out: State = {}
    for user in User.select(User.id, User.username):
        permissions = PermissionSet.for_user(user.id)
        granted = {f"{e.module}/{e.function}": e.limitation for e in permissions.entries()}
        excluded = {f"{m}/{f}" for m, f in permissions.excluded()}
        access = chat_access(user.id)
        out[user.id] = (
            {key: limitation for key, limitation in granted.items() if key not in excluded},
            frozenset(access.read),
            frozenset(access.write),
            user.username,
        )
    return out


def expected(before: State, after: State) -> list[dict[str, Any]]:
    """The issue's JSON shape, from two states computed user by user."""
    nothing: tuple[dict[str, object], frozenset[int], frozenset[int], str] = (
        {},
        frozenset(),
        frozenset(),
        "",
    )
    out = []
    for user_id in sorted(before.keys() | after.keys()):
        old, new = before.get(user_id, nothing), after.get(user_id, nothing)
        entry: dict[str, Any] = {
            "user": {"id": user_id, "username": new[3] or old[3]},
            "gains": sorted(new[0].keys() - old[0].keys()),
            "loses": sorted(old[0].keys() - new[0].keys()),
            "reads_gained": sorted(new[1] - old[1]),
            "reads_lost": sorted(old[1] - new[1]),
            "writes_gained": sorted(new[2] - old[2]),
            "writes_lost": sorted(old[2] - new[2]),
            "limitations_changed": sorted(
                key for key in old[0].keys() & new[0].keys() if old[0][key] != new[0][key]
            ),
        }
        if any(entry[k] for k in KEYS):
            out.append(entry)
    return out


def check(session: Session, touches: Touches, change: Callable[[], object]) -> Impact:
    """Preview, then really make, the change; both must equal the oracle's difference."""
    rows = all_rows()
    before = truth()
    known = ({u.id for u in User.select(User.id)}, {d.id for d in Department.select(Department.id)})
    preview = session.impact.preview(touches, change)
    assert all_rows() == rows, "the preview left a change behind"
    with session.impact.measuring(touches) as measurement:
        change()
    real = measurement.impact
    want = expected(before, truth())
    # A row the change creates gets its id from a counter that MariaDB and PostgreSQL do not
    # roll back: the preview's new department or user is #n, the real one #n+1. Ids that did
    # not exist before the change compare as "new".
    assert new_ids_named(preview.as_json(), *known) == new_ids_named(want, *known)
    assert real.as_json() == want
    assert preview.hidden == real.hidden == 0
    return preview


def new_ids_named(
    entries: list[dict[str, Any]], users: set[int], departments: set[int]
) -> list[dict[str, Any]]:
    """``entries`` with every user or department id unknown before the change as "new"."""

    def named(ids: list[int]) -> list[int | str]:
        return [d if d in departments else "new" for d in ids]

    return [
        {
            **entry,
            "user": {
                **entry["user"],
                "id": entry["user"]["id"] if entry["user"]["id"] in users else "new",
            },
            **{key: named(entry[key]) for key in KEYS if key.startswith(("reads", "writes"))},
        }
        for entry in entries
    ]


def only_names(impact: Impact) -> list[str]:
    return [e.username for e in impact.entries]


# -- each kind of change, on the sample ------------------------------------------------------


def test_adding_a_policy_to_the_operators_role_shows_its_three_carriers_gaining_it(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    impact = check(admin, Touches.of(roles=[2]), lambda: admin.roles.add_policy(2, "lhfaq", "x"))
    assert only_names(impact) == ["Operator US", "Operator AU", "Manager US"]
    assert {e.gains for e in impact.entries} == {("lhfaq/x",)}
    assert impact.summary() == "3 users gain, 0 lose"
    assert impact.as_json()[0] == {
        "user": {"id": 2, "username": "Operator US"},
        "gains": ["lhfaq/x"],
        "loses": [],
        "reads_gained": [],
        "reads_lost": [],
        "writes_gained": [],
        "writes_lost": [],
        "limitations_changed": [],
    }


def test_an_exclusion_takes_a_function_away_and_removing_a_policy_loses_it(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    impact = check(
        admin,
        Touches.of(roles=[6]),
        lambda: admin.roles.add_policy(6, "lhchat", "use", exclude=True),
    )
    assert only_names(impact) == ["Operator US"]
    assert impact.entries[0].loses == ("lhchat/use",)
    policy = RoleFunction.get(
        (RoleFunction.role_id == 2)
        & (RoleFunction.module == "lhchat")
        & (RoleFunction.function == "use")
    )
    impact = check(admin, Touches.of(roles=[2]), lambda: admin.roles.remove_policy(2, policy.id))
    assert "Operator AU" in only_names(impact)


def test_a_policy_already_granted_by_another_role_affects_nobody(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    # Managers carry roles 2, 3 and 7; Teamleader's role 3 has lhchat/use, and so has role 2.
    impact = check(admin, Touches.of(roles=[7]), lambda: admin.roles.add_policy(7, "lhchat", "use"))
    assert impact.affects_nobody
    assert impact.summary() == "affects nobody"
    assert impact.as_json() == []


def test_a_function_kept_with_another_limitation_is_a_limitation_change(
    as_user: Callable[[str], Session],
) -> None:
    """Operators AU's ``lhdepartment/see_all {"group":[1]}`` on top of Operator US's own
    ``{"group":[2]}``: nothing gained or lost, yet the function now covers both groups."""
    admin = as_user("admin")
    impact = check(admin, Touches.of(users=[2]), lambda: admin.users.change_groups(2, add=[5]))
    [entry] = [e for e in impact.entries if e.user_id == 2]
    assert "lhdepartment/see_all" in entry.limitations_changed
    assert "lhdepartment/see_all" not in entry.gains
    assert "with a limitation changed" in impact.summary()
    widened = check(
        admin,
        Touches.of(roles=[5]),
        lambda: admin.roles.add_policy(5, "lhdepartment", "see_all", limitation='{"group":[2]}'),
    )
    assert [e.user_id for e in widened.entries] == [3]
    assert widened.entries[0].limitations_changed == ("lhdepartment/see_all",)
    assert widened.as_json()[0]["limitations_changed"] == ["lhdepartment/see_all"]


def test_attaching_and_detaching_roles_and_disabling_and_deleting_groups(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    impact = check(admin, Touches.of(groups=[7]), lambda: admin.groups.attach_role(7, 7))
    assert only_names(impact) == ["Teamleader US"]
    check(admin, Touches.of(groups=[8]), lambda: admin.groups.detach_role(8, 3))
    impact = check(admin, Touches.of(groups=[2]), lambda: admin.groups.update(2, disabled=True))
    assert only_names(impact) == ["Operator US", "Operator AU"]
    assert all(e.loses and not e.gains for e in impact.entries)
    check(admin, Touches.of(groups=[2]), lambda: admin.groups.update(2, disabled=False))
    check(admin, Touches.of(groups=[10]), lambda: admin.groups.save(10, works_with=[4]))
    admin.groups.add_member(6, 4)
    check(admin, Touches.of(groups=[7]), lambda: admin.groups.delete(7))


def test_memberships_added_and_removed(as_user: Callable[[str], Session]) -> None:
    admin = as_user("admin")
    impact = check(
        admin,
        Touches.of(users=[3]),
        lambda: admin.users.change_groups(3, add=[3], remove=[5]),
    )
    assert only_names(impact) == ["Operator AU"]
    check(admin, Touches.of(groups=[8], users=[2]), lambda: admin.groups.add_member(8, 2))
    check(admin, Touches.of(groups=[8], users=[2]), lambda: admin.groups.remove_member(8, 2))


def test_department_groups_departments_and_all_departments(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    impact = check(
        admin,
        Touches.of(users=[2]),
        lambda: admin.assignments.assign_department_group(2, 1, read_only=True),
    )
    assert impact.entries[0].reads_gained == (1,)
    assert impact.entries[0].writes_gained == ()
    check(
        admin,
        Touches.of(users=[2]),
        lambda: admin.assignments.assign_department_group(2, 1, read_only=False),
    )
    check(admin, Touches.of(users=[2]), lambda: admin.assignments.unassign_department_group(2, 2))
    check(
        admin,
        Touches.of(users=[3]),
        lambda: admin.assignments.assign_department(3, 2, read_only=True),
    )
    check(admin, Touches.of(users=[3]), lambda: admin.assignments.unassign_department(3, 2))
    check(admin, Touches.of(users=[4]), lambda: admin.assignments.set_all_departments(4, True))
    impact = check(
        admin,
        Touches.of(department_groups=[2]),
        lambda: admin.departments.set_group_departments(2, [1, 2]),
    )
    # Teamleader US reads every department by now, Operator US left the group: one user.
    assert only_names(impact) == ["Manager US"]
    assert impact.entries[0].reads_gained == impact.entries[0].writes_gained == (1,)
    check(admin, Touches.of(department_groups=[1]), lambda: admin.departments.delete_group(1))


def test_a_new_department_is_read_by_every_reader_of_all_departments(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    existing = {d.id for d in Department.select(Department.id)}
    impact = check(admin, Touches(), lambda: admin.departments.create_department("EU"))
    assert only_names(impact) == ["admin"]
    (previewed,) = impact.entries[0].reads_gained  # its id: see ``check`` on id counters
    assert impact.entries[0].writes_gained == (previewed,) and previewed not in existing


def test_disabling_enabling_creating_and_deleting_users(as_user: Callable[[str], Session]) -> None:
    admin = as_user("admin")
    impact = check(admin, Touches.of(users=[2]), lambda: admin.users.set_disabled(2, True))
    assert impact.entries[0].reads_lost == (2,) and impact.entries[0].gains == ()
    check(admin, Touches.of(users=[2]), lambda: admin.users.set_disabled(2, False))
    with mock.patch("store.users.hash_password", return_value=FAST_HASH):
        impact = check(
            admin,
            Touches(),
            lambda: admin.users.create(
                username="Operator EU",
                password="a long enough password 1",
                email="eu@example.com",
                groups=[2, 4],
                department_groups=[2],
            ),
        )
    assert only_names(impact) == ["Operator EU"]
    assert impact.entries[0].reads_gained == (2,)
    impact = check(admin, Touches.of(users=[3]), lambda: admin.users.delete(3))
    assert only_names(impact) == ["Operator AU"]
    assert impact.entries[0].gains == () and impact.entries[0].reads_lost == (1,)


def test_a_refused_dry_run_raises_as_the_real_one_and_changes_nothing(
    as_user: Callable[[str], Session],
) -> None:
    leader = as_user("Teamleader US")
    rows = all_rows()
    with pytest.raises(StoreError, match="lhpermission/edit"):
        leader.impact.preview(Touches.of(roles=[2]), lambda: leader.roles.add_policy(2, "a", "b"))
    assert all_rows() == rows


def test_users_the_actor_cannot_see_are_counted_not_named(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    admin.roles.add_policy(3, "lhpermission", "edit")
    admin.roles.add_policy(3, "lhpermission", "see_permissions_users")
    leader = as_user("Teamleader US")
    impact = leader.impact.preview(
        Touches.of(roles=[2]), lambda: leader.roles.add_policy(2, "lhfaq", "x")
    )
    assert only_names(impact) == ["Operator US", "Operator AU"]  # not Manager US
    assert impact.hidden == 1
    assert impact.summary() == "2 users gain, 0 lose, 1 user you do not see affected"


# -- random changes on random help desks ------------------------------------------------------


def _pick(values: list[int], index: int) -> int:
    return values[index % len(values)] if values else 0


def _change(kind: str, n: list[int], session: Session) -> tuple[Touches, Callable[[], object]]:
    """A change of ``kind`` with objects picked by the drawn numbers ``n``."""
    roles = [r.id for r in Role.select(Role.id).order_by(Role.id)]
    groups = [g.id for g in Group.select(Group.id).order_by(Group.id)]
    users = [u.id for u in User.select(User.id).order_by(User.id)]
    dep_groups = [d.id for d in DepartmentGroup.select(DepartmentGroup.id)]
    departments = [d.id for d in Department.select(Department.id)]
    role, group, user = _pick(roles, n[0]), _pick(groups, n[1]), _pick(users, n[2])
    other_group, dep_group = _pick(groups, n[3]), _pick(dep_groups, n[4])
    department, flag = _pick(departments, n[5]), bool(n[6] % 2)
    if kind == "policy_add":
        pool = sorted(
            {(p.module, p.function) for p in RoleFunction.select() if p.function not in TOLD_BY}
            | {("lhx", "y")}
        )
        module, function = pool[n[3] % len(pool)]
        limitation = ("", '{"group":[2]}', '{"group":[1,2]}')[n[4] % 3] if not flag else ""
        return Touches.of(roles=[role]), lambda: session.roles.add_policy(
            role, module, function, limitation=limitation, exclude=flag
        )
    if kind == "policy_remove":
        policies = [p.id for p in RoleFunction.select().where(RoleFunction.role_id == role)]
        policy = _pick(policies, n[3])
        return Touches.of(roles=[role]), lambda: session.roles.remove_policy(role, policy)
    if kind == "attach_role":
        return Touches.of(groups=[group]), lambda: session.groups.attach_role(group, role)
    if kind == "detach_role":
        carried = [r.role_id for r in GroupRole.select().where(GroupRole.group_id == group)]
        detached = _pick(carried, n[0])
        return Touches.of(groups=[group]), lambda: session.groups.detach_role(group, detached)
    if kind == "group_disabled":
        return Touches.of(groups=[group]), lambda: session.groups.update(group, disabled=flag)
    if kind == "group_delete":
        return Touches.of(groups=[group]), lambda: session.groups.delete(group)
    if kind == "user_groups":
        return Touches.of(users=[user]), lambda: session.users.change_groups(
            user, add=[group], remove=[other_group] if other_group != group else []
        )
    if kind == "add_member":
        return Touches.of(groups=[group], users=[user]), lambda: session.groups.add_member(
            group, user
        )
    if kind == "user_disabled":
        return Touches.of(users=[user]), lambda: session.users.set_disabled(user, flag)
    if kind == "user_delete":
        return Touches.of(users=[user]), lambda: session.users.delete(user)
    if kind == "depgroup_assign":
        return Touches.of(users=[user]), lambda: session.assignments.assign_department_group(
            user, dep_group, read_only=flag
        )
    if kind == "depgroup_unassign":
        return Touches.of(users=[user]), lambda: session.assignments.unassign_department_group(
            user, dep_group
        )
    if kind == "department_assign":
        return Touches.of(users=[user]), lambda: session.assignments.assign_department(
            user, department, read_only=flag
        )
    if kind == "department_unassign":
        return Touches.of(users=[user]), lambda: session.assignments.unassign_department(
            user, department
        )
    if kind == "all_departments":
        return Touches.of(users=[user]), lambda: session.assignments.set_all_departments(user, flag)
    if kind == "depgroup_departments":
        chosen = [d for i, d in enumerate(departments) if (n[5] >> i) & 1]
        return Touches.of(department_groups=[dep_group]), (
            lambda: session.departments.set_group_departments(dep_group, chosen)
        )
    if kind == "depgroup_delete":
        return Touches.of(department_groups=[dep_group]), (
            lambda: session.departments.delete_group(dep_group)
        )
    assert kind == "department_create"
    return Touches(), lambda: session.departments.create_department(f"New {n[0]}")


KINDS = (
    "policy_add",
    "policy_remove",
    "attach_role",
    "detach_role",
    "group_disabled",
    "group_delete",
    "user_groups",
    "add_member",
    "user_disabled",
    "user_delete",
    "depgroup_assign",
    "depgroup_unassign",
    "department_assign",
    "department_unassign",
    "all_departments",
    "depgroup_departments",
    "depgroup_delete",
    "department_create",
)
TOLD_BY = (
    "see_user_assigned_departments",
    "see_user_assigned_departments_groups",
    "see_permissions",
    "see_permissions_users",
    "*",
)
CHANGE = st.tuples(st.sampled_from(KINDS), st.lists(st.integers(0, 2**16), min_size=7, max_size=7))


@pytest.fixture
def memory_db() -> Any:
    """A fresh in-memory database per call (hypothesis runs many examples in one test)."""

    def make() -> Database:
        return open_database("sqlite:///:memory:")

    return make


@settings(
    max_examples=40 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**16),
    users=st.integers(10, 30),
    groups=st.integers(6, 12),
    departments=st.integers(2, 6),
    changes=st.lists(CHANGE, min_size=1, max_size=4),
)
def test_random_changes_preview_exactly_what_they_do(
    memory_db: Callable[[], Database],
    seed: int,
    users: int,
    groups: int,
    departments: int,
    changes: list[tuple[str, list[int]]],
) -> None:
    db = memory_db()
    try:
        generate(db, users=users, groups=groups, departments=departments, seed=seed)
        # The oracle tells everything: the generator's occasional exclusion rows must not take
        # from the administrator a right to be told (test_impact_rule7 and
        # test_impact_permissions_told hold what is withheld without them).
        RoleFunction.delete().where(
            RoleFunction.function.in_(TOLD_BY)
            & (RoleFunction.module.in_(["lhuser", "lhpermission", "*"]))
            & (RoleFunction.type == 1)
        ).execute()
        admin = Session(db, 1)
        for kind, numbers in changes:
            touches, change = _change(kind, numbers, admin)
            rows = all_rows()
            try:
                check(admin, touches, change)
            except StoreError as refusal:  # refused (the preview first): nothing changed
                event(f"refused: {kind}")
                note(f"{kind} {numbers}: {refusal}")
                assert all_rows() == rows
                continue
            event(f"made: {kind}")
    finally:
        db.close()
