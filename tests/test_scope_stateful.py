"""Scope proof over sequences of actions (issue 8, part 6): a stateful hypothesis test.

A random non-administrator of the sample (Operator US or AU, Teamleader US, Manager US) performs
a random sequence of actions through the ``Session`` services: memberships, department-group and
department assignments, user create/edit/disable/enable/delete/password, group edits (flags,
work-with lists, roles), role policy edits and department-group edits, with ids drawn from the
existing objects plus one that does not exist. Whatever the store accepts or refuses, after every
step, judged by ``tests/oracle.py`` (an independent reading of SPEC §3) on the state *before*
the step, which is what the store reads inside its transaction:

- no user gained a group outside the actor's assignable groups A(actor);
- no department-group assignment appeared (live or parked) outside the actor's assignable
  department groups;
- no administrator's account changed (their ``lh_users`` row apart from ``cache_version``, which
  every group or role change bumps for everyone, their memberships and their department rows),
  and nobody became an administrator;
- a refusal is a ``StoreError`` and wrote nothing at all.

Passwords are hashed with real bcrypt (user creation and password changes are a small share of
the steps). ``LHC_PROPERTY_SCALE`` multiplies the number of sequences.
"""

from __future__ import annotations

import functools
import itertools
import os
import sqlite3
from typing import Any

import oracle
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from oracle import Config

from seed.report import Authority
from seed.sample import load_sample
from store import Session, StoreError
from store.database import open_database
from store.dump import all_rows

SCALE = max(1, int(os.environ.get("LHC_PROPERTY_SCALE", "1")))
SEQUENCES = 50 * SCALE
STEPS = 20
NON_ADMINS = (2, 3, 4, 5)  # Operator US, Operator AU, Teamleader US, Manager US
ACTORS = (4, 5, 4, 5, 2, 3)  # those who may change something, twice as often
POLICY_POOL = (
    ("lhuser", "editusergroupall"),
    ("lhuser", "assign_all_department_group"),
    ("lhuser", "*"),
    ("*", "*"),
    ("lhpermission", "edit"),
    ("lhdepartment", "see_all"),
)
_serial = itertools.count(1)

Rows = dict[str, list[dict[str, Any]]]


@functools.cache
def sample_template() -> sqlite3.Connection:
    """The sample loaded once in memory; each sequence starts from a copy."""
    db = open_database("sqlite:///:memory:")
    load_sample(db, by=Authority.LOCAL)
    return db.connection()


def groups_gained(before: Config, after: Config) -> dict[int, set[int]]:
    """Per user, the groups they hold now and did not hold before (all of a new user's)."""
    gained = {}
    for user, spec in after.users.items():
        previous = before.users[user].groups if user in before.users else frozenset()
        if spec.groups - previous:
            gained[user] = set(spec.groups - previous)
    return gained


def department_group_assignments(rows: Rows) -> set[tuple[int, int]]:
    """(user, department group) pairs, live or parked (disabling moves, it does not grant)."""
    return {
        (r["user_id"], r["dep_group_id"])
        for table in ("lh_departament_group_user", "lh_departament_group_user_disabled")
        for r in rows[table]
    }


def account_of(rows: Rows, user: int) -> dict[str, Any]:
    """Everything that makes up a user's account, ``cache_version`` aside."""

    def mine(table: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in r.items() if k != "id"} for r in rows[table] if r["user_id"] == user
        ]

    row = next((r for r in rows["lh_users"] if r["id"] == user), None)
    return {
        "user": None if row is None else {k: v for k, v in row.items() if k != "cache_version"},
        **{
            table: mine(table)
            for table in (
                "lh_groupuser",
                "lh_userdep",
                "lh_userdep_disabled",
                "lh_departament_group_user",
                "lh_departament_group_user_disabled",
            )
        },
    }


class NonAdministratorActs(RuleBasedStateMachine):
    """One non-administrator acting on a copy of the sample, checked after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.db = open_database("sqlite:///:memory:", create_schema=False)
        sample_template().backup(self.db.connection())
        self.rows: Rows = all_rows()
        self.config = Config.from_rows(self.rows)
        self.admins = oracle.administrators(self.config)
        self.admin_accounts = {u: account_of(self.rows, u) for u in self.admins}
        self.actor = 0
        self.session: Session | None = None
        self.accepted = 0

    def teardown(self) -> None:
        self.db.close()

    # -- choosing ids: the existing ones and one that does not exist --------------------

    def ids(self, table: str) -> list[int]:
        existing = sorted(r["id"] for r in self.rows[table])
        return [*existing, (existing[-1] if existing else 0) + 1]

    def reach(self, table: str) -> list[int]:
        """The ids of ``table`` within the actor's scope now (per the oracle), so that picks
        favour actions the store may accept: refusals alone would prove little."""
        config, actor = self.config, self.actor
        if table == "lh_users":
            found = oracle.editable_users(config, actor) - {actor}
        elif table == "lh_group":
            found = oracle.assignable_groups(config, actor)
        elif table == "lh_departament_group":
            found = oracle.assignable_department_groups(config, actor)
        elif table == "lh_departament":
            found = oracle.assignable_departments(config, actor)
        else:
            found = set()
        return sorted(found)

    def pick(self, data: st.DataObject, table: str, label: str) -> int:
        """Usually an id in the actor's reach, else any id (or one that does not exist)."""
        near = self.reach(table)
        pool = near if near and data.draw(st.integers(0, 3), label=f"{label} near") else None
        return data.draw(st.sampled_from(pool or self.ids(table)), label=label)

    def pick_some(self, data: st.DataObject, table: str, label: str) -> list[int]:
        near = self.reach(table)
        pool = near if near and data.draw(st.integers(0, 3), label=f"{label} near") else None
        return sorted(
            data.draw(st.sets(st.sampled_from(pool or self.ids(table)), max_size=3), label=label)
        )

    # -- one step ---------------------------------------------------------------------------

    def act(self, description: str, call: Any) -> None:
        """Run one action and check what it did against the oracle's reading of before."""
        assert self.session is not None
        before_rows, before = self.rows, self.config
        try:
            call(self.session)
        except StoreError as refused:
            event(f"refused: {type(refused).__name__}")
            assert str(refused), f"{description}: refusal without a message"
            assert all_rows() == before_rows, f"{description} refused but wrote: {refused}"
            return
        self.accepted += 1
        event(f"accepted (actor {self.actor})")
        after_rows = all_rows()
        after = Config.from_rows(after_rows)
        assignable = oracle.assignable_groups(before, self.actor)
        for user, gained in groups_gained(before, after).items():
            outside = gained - assignable
            assert not outside, (
                f"{description}: user {user} gained group(s) {sorted(outside)} outside "
                f"A(actor {self.actor}) = {sorted(assignable)}"
            )
        assignable_dgs = oracle.assignable_department_groups(before, self.actor)
        appeared = department_group_assignments(after_rows) - department_group_assignments(
            before_rows
        )
        outside_dgs = {(u, dg) for u, dg in appeared if dg not in assignable_dgs}
        assert not outside_dgs, (
            f"{description}: department-group assignment(s) {sorted(outside_dgs)} outside "
            f"the actor's {sorted(assignable_dgs)}"
        )
        self.rows, self.config = after_rows, after

    # -- rules ------------------------------------------------------------------------------

    @initialize(actor=st.sampled_from(ACTORS))
    def log_in(self, actor: int) -> None:
        self.actor = actor
        self.session = Session(self.db, actor)

    @rule(data=st.data())
    def create_user(self, data: st.DataObject) -> None:
        groups = self.pick_some(data, "lh_group", "groups")
        dep_groups = self.pick_some(data, "lh_departament_group", "department groups")
        name = f"new{next(_serial)}"
        self.act(
            f"create {name} in {groups} with department groups {dep_groups}",
            lambda s: s.users.create(
                username=name,
                password="Pass-1234",
                email=f"{name}@example.com",
                groups=groups,
                department_groups=dep_groups,
            ),
        )

    @rule(data=st.data())
    def change_groups(self, data: st.DataObject) -> None:
        user = self.pick(data, "lh_users", "user")
        add = self.pick_some(data, "lh_group", "add")
        remove = self.pick_some(data, "lh_group", "remove")
        self.act(
            f"change groups of {user}: +{add} -{remove}",
            lambda s: s.users.change_groups(user, add=add, remove=remove),
        )

    @rule(data=st.data(), adding=st.booleans())
    def group_member(self, data: st.DataObject, adding: bool) -> None:
        group = self.pick(data, "lh_group", "group")
        user = self.pick(data, "lh_users", "user")
        if adding:
            self.act(f"add {user} to group {group}", lambda s: s.groups.add_member(group, user))
        else:
            self.act(
                f"remove {user} from group {group}", lambda s: s.groups.remove_member(group, user)
            )

    @rule(data=st.data(), assign=st.booleans(), read_only=st.booleans())
    def department_group(self, data: st.DataObject, assign: bool, read_only: bool) -> None:
        user = self.pick(data, "lh_users", "user")
        dep_group = self.pick(data, "lh_departament_group", "department group")
        if assign:
            self.act(
                f"assign department group {dep_group} to {user}",
                lambda s: s.assignments.assign_department_group(
                    user, dep_group, read_only=read_only
                ),
            )
        else:
            self.act(
                f"unassign department group {dep_group} from {user}",
                lambda s: s.assignments.unassign_department_group(user, dep_group),
            )

    @rule(data=st.data(), assign=st.booleans())
    def department(self, data: st.DataObject, assign: bool) -> None:
        user = self.pick(data, "lh_users", "user")
        department = self.pick(data, "lh_departament", "department")
        if assign:
            self.act(
                f"assign department {department} to {user}",
                lambda s: s.assignments.assign_department(user, department),
            )
        else:
            self.act(
                f"unassign department {department} from {user}",
                lambda s: s.assignments.unassign_department(user, department),
            )

    @rule(data=st.data(), kind=st.sampled_from(["update", "disable", "enable", "delete", "pw"]))
    def edit_user(self, data: st.DataObject, kind: str) -> None:
        user = self.pick(data, "lh_users", "user")
        calls = {
            "update": lambda s: s.users.update(user, name=f"renamed {next(_serial)}"),
            "disable": lambda s: s.users.set_disabled(user, True),
            "enable": lambda s: s.users.set_disabled(user, False),
            "delete": lambda s: s.users.delete(user),
            "pw": lambda s: s.users.set_password(user, "Other-5678"),
        }
        self.act(f"{kind} user {user}", calls[kind])

    @rule(data=st.data(), required=st.booleans(), disabled=st.booleans())
    def edit_group_flags(self, data: st.DataObject, required: bool, disabled: bool) -> None:
        group = self.pick(data, "lh_group", "group")
        self.act(
            f"group {group}: required={required} disabled={disabled}",
            lambda s: s.groups.update(group, required=required, disabled=disabled),
        )

    @rule(data=st.data(), withhold=st.booleans())
    def edit_work_with(self, data: st.DataObject, withhold: bool) -> None:
        group = self.pick(data, "lh_group", "group")
        targets = [t for t in self.pick_some(data, "lh_group", "targets") if t != group]
        self.act(
            f"group {group} works with {targets} (withheld={withhold})",
            lambda s: s.groups.set_work_with(group, targets, withhold_from_members=withhold),
        )

    @rule(data=st.data(), attach=st.booleans())
    def group_role(self, data: st.DataObject, attach: bool) -> None:
        group = self.pick(data, "lh_group", "group")
        role = self.pick(data, "lh_role", "role")
        if attach:
            self.act(f"attach role {role} to {group}", lambda s: s.groups.attach_role(group, role))
        else:
            self.act(
                f"detach role {role} from {group}", lambda s: s.groups.detach_role(group, role)
            )

    @rule(data=st.data(), policy=st.sampled_from(POLICY_POOL), exclude=st.booleans())
    def add_policy(self, data: st.DataObject, policy: tuple[str, str], exclude: bool) -> None:
        role = self.pick(data, "lh_role", "role")
        module, function = policy
        self.act(
            f"add {'-' if exclude else '+'}{module}/{function} to role {role}",
            lambda s: s.roles.add_policy(role, module, function, exclude=exclude),
        )

    @rule(data=st.data())
    def remove_policy(self, data: st.DataObject) -> None:
        policies = [(r["role_id"], r["id"]) for r in self.rows["lh_rolefunction"]]
        role, policy = data.draw(st.sampled_from(policies), label="policy")
        self.act(
            f"remove policy {policy} of role {role}", lambda s: s.roles.remove_policy(role, policy)
        )

    @rule(data=st.data())
    def edit_department_group(self, data: st.DataObject) -> None:
        dep_group = self.pick(data, "lh_departament_group", "department group")
        departments = [
            d
            for d in self.pick_some(data, "lh_departament", "departments")
            if d in self.ids("lh_departament")[:-1]
        ]
        self.act(
            f"department group {dep_group} holds {departments}",
            lambda s: s.departments.set_group_departments(dep_group, departments),
        )

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def no_administrator_is_touched_and_nobody_becomes_one(self) -> None:
        if self.session is None:
            return
        assert oracle.administrators(self.config) == self.admins
        for admin, account in self.admin_accounts.items():
            assert account_of(self.rows, admin) == account, f"administrator {admin} changed"


NonAdministratorActs.TestCase.settings = settings(
    max_examples=SEQUENCES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_a_non_administrator_never_steps_outside_their_scope = NonAdministratorActs.TestCase
