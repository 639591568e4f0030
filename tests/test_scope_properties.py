"""Property tests: the scoping layer computes and enforces exactly what SPEC §2 and §3 say.

Hypothesis draws small random LHC configurations (groups with disabled/required flags, work-with
rows including ``-1`` flags and rows pointing at missing groups, roles whose policies come from
the functions the scope depends on, exclusion rows, department groups and assignments), writes
them into a fresh SQLite database through the Peewee models, and compares the store with
``tests/oracle.py``, an independent reading of the SPEC over plain data.

Each database is in memory and lives for one example. Password hashing is replaced by a constant
while actions run: bcrypt at LHC's cost takes most of a second per user and has nothing to do
with scoping.
"""

from __future__ import annotations

import functools
import itertools
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import oracle
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from oracle import Config
from peewee import Database

from store import (
    NotFoundError,
    PermissionSet,
    Scope,
    ScopeError,
    Session,
    StoreError,
    ValidationError,
)
from store.database import open_database
from store.dump import all_rows
from store.models import ALL_MODELS

LHUSER_FUNCTIONS = (
    "edituser",
    "createuser",
    "deleteuser",
    "editusergroupall",
    "see_all",
    "userlist",
    "editgroup",
    "grouplist",
    "assign_to_own_department_group",
    "assign_all_department_group",
    "assign_to_own_department_individual",
    "assign_all_department_individual",
    "edit_all_departments",
    "selfedit",
    "editdepartaments",
)
GRANT_POOL = (
    *(("lhuser", f) for f in LHUSER_FUNCTIONS),
    ("lhuser", "*"),
    ("*", "*"),
    ("lhpermission", "edit"),
)
EXCLUDE_POOL = (
    *(("lhuser", f) for f in LHUSER_FUNCTIONS),
    ("lhuser", "*"),  # LHC matches exclusions literally: this excludes nothing but "lhuser/*"
    ("*", "*"),
)
QUERIED_FUNCTIONS = (
    *(("lhuser", f) for f in LHUSER_FUNCTIONS),
    ("lhuser", "*"),
    ("*", "*"),
    ("lhpermission", "edit"),
    ("lhpermission", "delete"),
)
FAST_HASH = "$2y$10$" + "x" * 53

# Examples per test; LHC_PROPERTY_SCALE=10 runs ten times as many (a deeper run before a release).
SCALE = max(1, int(os.environ.get("LHC_PROPERTY_SCALE", "1")))
CONFIG_SETTINGS = settings(max_examples=200 * SCALE, deadline=None)
ACTION_SETTINGS = settings(
    max_examples=100 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@functools.cache
def sometimes(one_in: int) -> st.SearchStrategy[bool]:
    """True about once in ``one_in`` draws; shrinks to False."""
    return st.integers(0, one_in - 1).map(lambda x: x == one_in - 1)


@functools.cache
def subsets(choices: tuple[int, ...], max_size: int, min_size: int = 0) -> st.SearchStrategy:
    """Sets of ``choices`` (strategies are cached: building them dominates small examples)."""
    return st.frozensets(st.sampled_from(choices), min_size=min_size, max_size=max_size)


@functools.cache
def one_of(*choices: int) -> st.SearchStrategy[int]:
    return st.sampled_from(choices)


def one_of_nonempty(*candidates: list[int]) -> st.SearchStrategy[int]:
    """One element of one of the non-empty candidate lists (each list equally likely)."""
    return st.one_of(*(one_of(*c) for c in candidates if c))


# -- configurations ------------------------------------------------------------------------

Rows = dict[str, list[dict[str, Any]]]


class Tables(dict):
    """Generated table rows, printed as a compact summary when hypothesis reports a failure."""

    def __repr__(self) -> str:
        return describe(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(describe(self))


def describe(rows: Rows) -> str:
    """One line per group, role, user and department group: what a failing example holds."""

    def ids(values: Any) -> str:
        return "{" + ",".join(str(v) for v in sorted(values)) + "}"

    def per(table: str, key: str, value: str) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        for r in rows.get(table, []):
            out.setdefault(r[key], []).append(r[value])
        return out

    work = per("lh_group_work", "group_id", "group_work_id")
    group_roles = per("lh_grouprole", "group_id", "role_id")
    memberships = per("lh_groupuser", "user_id", "group_id")
    members = per("lh_departament_group_member", "dep_group_id", "dep_id")
    lines = ["Tables("]
    for g in rows.get("lh_group", []):
        flags = "".join(f" {flag}" for flag in ("disabled", "required") if g[flag])
        lines.append(
            f"  group {g['id']}{flags}: roles {ids(group_roles.get(g['id'], []))}"
            f", works with {ids(work.get(g['id'], []))}"
        )
    for r in rows.get("lh_role", []):
        policies = [
            ("-" if p["type"] else "+") + f"{p['module']}/{p['function']}"
            for p in rows.get("lh_rolefunction", [])
            if p["role_id"] == r["id"]
        ]
        lines.append(f"  role {r['id']}: {' '.join(policies) or '(no policies)'}")
    for dg in rows.get("lh_departament_group", []):
        lines.append(f"  department group {dg['id']}: {ids(members.get(dg['id'], []))}")
    for u in rows.get("lh_users", []):
        suffix = "_disabled" if u["disabled"] else ""
        dep_groups = [
            f"{a['dep_group_id']}{' ro' if a['read_only'] else ''}"
            for a in rows.get("lh_departament_group_user" + suffix, [])
            if a["user_id"] == u["id"]
        ]
        direct = [
            d["dep_id"]
            for d in rows.get("lh_userdep" + suffix, [])
            if d["user_id"] == u["id"] and d["type"] == 0
        ]
        lines.append(
            f"  user {u['id']}{' disabled' if u['disabled'] else ''}: groups "
            f"{ids(memberships.get(u['id'], []))}, department groups [{', '.join(dep_groups)}]"
            f", departments {ids(direct)}"
        )
    return "\n".join([*lines, ")"])


WILDCARD_ODDS = {("*", "*"): 6, ("lhuser", "*"): 8}


@st.composite
def role_policies(draw: st.DrawFn) -> list[tuple[str, str, int]]:
    """A role's ``(module, function, type)`` rows: each pooled function granted about one time
    in three (``*/*`` one in six, ``lhuser/*`` one in eight), each exclusion about one in
    twelve. Independent draws make near misses common: ``edituser`` without ``deleteuser``,
    ``*/*`` taken away again, ..."""
    rows = []
    for module, function in GRANT_POOL:
        if draw(sometimes(WILDCARD_ODDS.get((module, function), 3))):
            rows.append((module, function, oracle.GRANT))
    for module, function in EXCLUDE_POOL:
        if draw(sometimes(12)):
            rows.append((module, function, oracle.EXCLUDE))
    return rows


@st.composite
def configurations(draw: st.DrawFn) -> Rows:
    """LHC table rows for a random configuration (only the columns the scope depends on)."""
    n_groups = draw(st.integers(2, 7))
    group_ids = list(range(1, n_groups + 1))
    missing_group = n_groups + 1
    n_roles = draw(st.integers(1, 5))
    role_ids = list(range(1, n_roles + 1))
    n_users = draw(st.integers(2, 8))
    user_ids = list(range(1, n_users + 1))
    n_departments = draw(st.integers(1, 3))
    department_ids = list(range(1, n_departments + 1))
    n_dep_groups = draw(st.integers(0, 3))
    dep_group_ids = list(range(1, n_dep_groups + 1))

    rows: Rows = {m._meta.table_name: [] for m in ALL_MODELS}
    for g in group_ids:
        rows["lh_group"].append(
            {
                "id": g,
                "name": f"group {g}",
                "disabled": int(draw(sometimes(5))),
                "required": int(draw(sometimes(3))),
            }
        )
        targets = set(draw(subsets((*group_ids, missing_group), 3)))
        if draw(sometimes(3)):
            targets.add(-1)
        rows["lh_group_work"].extend({"group_id": g, "group_work_id": t} for t in sorted(targets))
        rows["lh_grouprole"].extend(
            {"group_id": g, "role_id": r}
            for r in sorted(() if draw(sometimes(5)) else draw(subsets(tuple(role_ids), 2, 1)))
        )
    for r in role_ids:
        rows["lh_role"].append({"id": r, "name": f"role {r}"})
        for module, function, kind in draw(role_policies()):
            rows["lh_rolefunction"].append(
                {"role_id": r, "module": module, "function": function, "type": kind}
            )
    for d in department_ids:
        rows["lh_departament"].append({"id": d, "name": f"department {d}"})
    members: dict[int, list[int]] = {}
    for dg in dep_group_ids:
        rows["lh_departament_group"].append({"id": dg, "name": f"department group {dg}"})
        members[dg] = sorted(draw(subsets(tuple(department_ids), 3)))
        rows["lh_departament_group_member"].extend(
            {"dep_group_id": dg, "dep_id": d} for d in members[dg]
        )
    for u in user_ids:
        disabled = draw(sometimes(8))
        rows["lh_users"].append(
            {
                "id": u,
                "username": f"user{u}",
                "password": "not a hash",
                "email": f"user{u}@example.com",
                "disabled": int(disabled),
            }
        )
        rows["lh_groupuser"].extend(
            {"group_id": g, "user_id": u}
            for g in sorted(() if draw(sometimes(8)) else draw(subsets(tuple(group_ids), 3, 1)))
        )
        # A disabled user's department rows are parked, as the console itself does.
        suffix = "_disabled" if disabled else ""
        assigned = draw(subsets(tuple(dep_group_ids), 2)) if dep_group_ids else ()
        for dg in sorted(assigned):
            read_only = int(draw(st.booleans()))
            rows["lh_departament_group_user" + suffix].append(
                {"dep_group_id": dg, "user_id": u, "read_only": read_only}
            )
            rows["lh_userdep" + suffix].extend(
                {"user_id": u, "dep_id": d, "type": 1, "dep_group_id": dg, "ro": read_only}
                for d in members[dg]
            )
        direct = draw(subsets((*department_ids, 0, -1), 2))
        rows["lh_userdep" + suffix].extend(
            {
                "user_id": u,
                "dep_id": d,
                "type": 0,
                "dep_group_id": 0,
                "ro": int(draw(st.booleans())),
            }
            for d in sorted(direct)
        )
    return Tables(rows)


@functools.cache
def _schema_template() -> sqlite3.Connection:
    """An empty console schema, created once and copied into each example's database."""
    template = open_database("sqlite:///:memory:")
    return template.connection()


@contextmanager
def database_with(rows: Rows) -> Iterator[Database]:
    """A fresh in-memory database holding exactly ``rows`` (models fill LHC's defaults)."""
    template = _schema_template()
    db = open_database("sqlite:///:memory:", create_schema=False)
    template.backup(db.connection())
    try:
        with db.atomic():
            for model in ALL_MODELS:
                table_rows = rows.get(model._meta.table_name)
                if table_rows:
                    model.insert_many(table_rows).execute()
        with mock.patch("store.users.hash_password", lambda _password: FAST_HASH):
            yield db
    finally:
        db.close()


# -- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One call into a ``Session`` service, as data (so hypothesis can print and shrink it)."""

    kind: str
    actor: int
    target: int = 0
    groups: tuple[int, ...] = ()
    remove: tuple[int, ...] = ()
    dep_group: int = 0
    department: int = 0
    flag: bool = False
    username: str = ""


USER_EDITS = ("change_groups", "delete", "set_disabled", "update", "add_member")
DEPARTMENT_EDITS = ("assign_dg", "unassign_dg", "assign_dep", "unassign_dep")
KINDS = ("create", *USER_EDITS, *DEPARTMENT_EDITS)
KIND_CHOICES = st.integers(0, 100 * len(KINDS) - 1).map(lambda i: KINDS[i % len(KINDS)])
"""Every kind about equally often (``sampled_from`` favours its first element)."""
_serial = itertools.count(1)


def perform(db: Database, action: Action) -> None:
    session = Session(db, action.actor)
    match action.kind:
        case "create":
            session.users.create(
                username=action.username,
                password="pw",
                email=f"{action.username}@example.com",
                groups=list(action.groups),
            )
        case "change_groups":
            session.users.change_groups(
                action.target, add=list(action.groups), remove=list(action.remove)
            )
        case "delete":
            session.users.delete(action.target)
        case "set_disabled":
            session.users.set_disabled(action.target, action.flag)
        case "update":
            session.users.update(action.target, name=f"renamed {next(_serial)}")
        case "assign_dg":
            session.assignments.assign_department_group(
                action.target, action.dep_group, read_only=action.flag
            )
        case "unassign_dg":
            session.assignments.unassign_department_group(action.target, action.dep_group)
        case "assign_dep":
            session.assignments.assign_department(
                action.target, action.department, read_only=action.flag
            )
        case "unassign_dep":
            session.assignments.unassign_department(action.target, action.department)
        case "add_member":
            session.groups.add_member(action.groups[0], action.target)
        case _:  # pragma: no cover
            raise AssertionError(action.kind)


def spec_allows(config: Config, action: Action) -> bool:
    """Whether SPEC §3.1/§3.2 lets the actor do this (input validity aside)."""
    a, t = action.actor, action.target
    match action.kind:
        case "create":
            return oracle.may_create_user(config, a, action.groups)
        case "change_groups":
            return oracle.may_change_groups(config, a, t, action.groups, action.remove)
        case "add_member":
            return oracle.may_change_groups(config, a, t, action.groups, via_group=True)
        case "delete":
            return oracle.may_delete_user(config, a, t)
        case "set_disabled":
            return oracle.may_set_disabled(config, a, t, action.flag)
        case "update":
            return oracle.may_update_user(config, a, t)
        case "assign_dg" | "unassign_dg":
            return oracle.may_change_department_group(config, a, t, action.dep_group)
        case "assign_dep" | "unassign_dep":
            return oracle.may_change_department(config, a, t, action.department)
    raise AssertionError(action.kind)  # pragma: no cover


def self_service_permissions(kind: str) -> tuple[str, ...]:
    """Which permission lets an actor do ``kind`` to their own account without being editable
    (store/users.py ``allow_self``, store/assignments.py ``_target``)."""
    return {
        "update": ("selfedit",),
        "change_groups": ("selfedit",),
        "assign_dg": ("editdepartaments",),
        "unassign_dg": ("editdepartaments",),
        "assign_dep": ("editdepartaments",),
        "unassign_dep": ("editdepartaments",),
    }.get(kind, ())


def capable(config: Config, kind: str, actor: int) -> bool:
    """Whether ``actor`` is close to being able to do some ``kind`` action: used to pick actors
    so that both accepted actions and near misses (one permission or one group short) are
    frequent; uniformly random actors are refused nearly always, for dull reasons."""
    if not oracle.may_act(config, actor):
        return False
    match kind:
        case "create":
            return oracle.has(config, actor, "lhuser", "createuser") or bool(
                oracle.assignable_groups(config, actor)
            )
        case "assign_dg" | "unassign_dg":
            return bool(oracle.assignable_department_groups(config, actor)) or oracle.has(
                config, actor, "lhuser", "editdepartaments"
            )
        case "assign_dep" | "unassign_dep":
            return bool(oracle.assignable_departments(config, actor)) or oracle.has(
                config, actor, "lhuser", "editdepartaments"
            )
        case _:
            return bool(oracle.editable_users(config, actor) - {actor}) or oracle.has(
                config, actor, "lhuser", "selfedit"
            )


@st.composite
def actions(draw: st.DrawFn, config: Config) -> Action:
    """A random action, biased towards capable actors and towards targets and groups at the
    edge of the actor's scope, so that accepted actions and near misses are both frequent."""
    users = sorted(config.users)
    nobody = max(users, default=0) + 1
    kind = draw(KIND_CHOICES)
    able = [u for u in users if capable(config, kind, u)]
    if able and not draw(sometimes(4)):
        actor = draw(one_of(*able))
    else:
        actor = nobody if draw(sometimes(10)) or not users else draw(one_of(*users))
    all_groups = [*sorted(config.groups), max(config.groups, default=0) + 1]
    assignable = sorted(oracle.assignable_groups(config, actor))
    editable = sorted(oracle.editable_users(config, actor))
    dep_groups = [*sorted(config.department_groups), max(config.department_groups, default=0) + 1]
    assignable_dgs = sorted(oracle.assignable_department_groups(config, actor))
    departments = [*sorted(config.departments), max(config.departments, default=0) + 1]
    assignable_deps = sorted(oracle.assignable_departments(config, actor))

    usable_not_assignable = sorted(oracle.usable_groups(config, actor) - set(assignable))

    def group_set(min_size: int = 0) -> tuple[int, ...]:
        pool = draw(one_of_nonempty([0, 0, 0], [1] if usable_not_assignable else [], [2]))
        chosen = (assignable, usable_not_assignable, all_groups)[pool] or all_groups
        return tuple(sorted(draw(subsets(tuple(chosen), 3, min_size))))

    visible = oracle.visible_users(config, actor)
    near_misses = sorted(visible - set(editable))
    admins = sorted(oracle.administrators(config) - {actor})
    others = [u for u in editable if u != actor]
    target = draw(one_of_nonempty(others, others, near_misses, admins, users, [actor], [nobody]))
    match kind:
        case "create":
            if draw(sometimes(10)) and users:
                username = f"user{draw(one_of(*users))}"  # taken: a validation refusal
            else:
                username = f"new{next(_serial)}"
            return Action(kind, actor, groups=group_set(min_size=1), username=username)
        case "change_groups":
            current = sorted(config.users[target].groups) if target in config.users else []
            remove = draw(one_of_nonempty(current)) if current and draw(st.booleans()) else None
            add = set(group_set())
            required = sorted(oracle.required_groups(config, actor))
            if required and draw(st.booleans()):
                add.add(draw(one_of(*required)))  # keeps the store's required-group form rule
            groups = tuple(sorted(add - {remove}))
            return Action(kind, actor, target, groups=groups, remove=(remove,) if remove else ())
        case "add_member":
            return Action(kind, actor, target, groups=group_set(min_size=1)[:1])
        case "delete" | "update":
            return Action(kind, actor, target)
        case "set_disabled":
            return Action(kind, actor, target, flag=draw(st.booleans()))
        case "unassign_dg":
            assigned = sorted(
                (u, dg) for u, dg in config.department_group_users if u in editable or u == actor
            )
            if assigned and not draw(sometimes(4)):
                target, dep_group = draw(st.sampled_from(assigned))
            else:
                dep_group = draw(one_of_nonempty(assignable_dgs, dep_groups))
            return Action(kind, actor, target, dep_group=dep_group)
        case "assign_dep" | "unassign_dep":
            held = sorted(
                (u, d)
                for u, deps in config.direct_departments.items()
                for d in deps
                if d > 0 and (u in editable or u == actor)
            )
            if kind == "unassign_dep" and held and not draw(sometimes(4)):
                target, department = draw(st.sampled_from(held))
            else:
                department = draw(one_of_nonempty(assignable_deps, assignable_deps, departments))
            return Action(kind, actor, target, department=department, flag=draw(st.booleans()))
        case _:
            dep_group = draw(one_of_nonempty(assignable_dgs, assignable_dgs, dep_groups))
            return Action(kind, actor, target, dep_group=dep_group, flag=draw(st.booleans()))


@dataclass
class Outcome:
    """One performed action: the state before and after, and what the store said."""

    action: Action
    before: Config
    after: Config
    rows_before: Rows
    rows_after: Rows
    error: StoreError | None

    @property
    def accepted(self) -> bool:
        return self.error is None


def run_random_actions(
    data: st.DataObject, rows: Rows, check: Callable[[Outcome], None], *, steps: int = 8
) -> None:
    """Perform a few random actions on a fresh database, checking each outcome.

    Whatever the rule under test, every action must either succeed or raise a ``StoreError``
    (anything else propagates and fails the test) and a refusal must leave every row as it was.
    """
    with database_with(rows) as db:
        rows_after = all_rows()
        after = Config.from_rows(rows_after)
        for _ in range(data.draw(st.integers(1, steps), label="steps")):
            rows_before, before = rows_after, after
            action = data.draw(actions(before), label="action")
            error: StoreError | None = None
            try:
                perform(db, action)
            except StoreError as exc:
                error = exc
            note(f"{action} -> {'accepted' if error is None else repr(error)}")
            event(f"{action.kind}: {'accepted' if error is None else type(error).__name__}")
            rows_after = all_rows()
            if error is not None:
                assert rows_after == rows_before, f"refused {action} still wrote rows"
            after = Config.from_rows(rows_after)
            check(Outcome(action, before, after, rows_before, rows_after, error))


# -- what an outcome changed -----------------------------------------------------------------


def group_changes(outcome: Outcome) -> dict[int, set[int]]:
    """Per user: groups gained or lost (all groups of a created user)."""
    changes: dict[int, set[int]] = {}
    for u, after in outcome.after.users.items():
        before = outcome.before.users.get(u)
        diff = set(after.groups) if before is None else set(after.groups ^ before.groups)
        if diff:
            changes[u] = diff
    return changes


def _by_user(rows: list[dict[str, Any]], key: str = "user_id") -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(r[key], []).append(r)
    return out


def touched_users(outcome: Outcome) -> set[int]:
    """Users that existed before and whose row, memberships or department rows changed."""
    touched = set()
    tables = [
        ("lh_users", "id"),
        ("lh_groupuser", "user_id"),
        ("lh_departament_group_user", "user_id"),
        ("lh_departament_group_user_disabled", "user_id"),
        ("lh_userdep", "user_id"),
        ("lh_userdep_disabled", "user_id"),
    ]
    for table, key in tables:
        before = _by_user(outcome.rows_before[table], key)
        after = _by_user(outcome.rows_after[table], key)
        for u in set(before) | set(after):
            if u in outcome.before.users and before.get(u) != after.get(u):
                touched.add(u)
    return touched


def department_group_changes(outcome: Outcome) -> set[tuple[int, int]]:
    """``(user, dep_group)`` assignments added, removed or with a new read-only flag, for users
    that exist on both sides and were not disabled or enabled (parking is not an assignment)."""

    def keyed(rows: Rows) -> set[tuple[int, int, int]]:
        return {
            (r["user_id"], r["dep_group_id"], r["read_only"])
            for r in rows["lh_departament_group_user"]
        }

    stable = {
        u
        for u, spec in outcome.before.users.items()
        if u in outcome.after.users and outcome.after.users[u].disabled == spec.disabled
    }
    diff = keyed(outcome.rows_before) ^ keyed(outcome.rows_after)
    return {(u, dg) for u, dg, _ in diff if u in stable}


def department_changes(outcome: Outcome) -> set[tuple[int, int]]:
    """``(user, department)`` direct (``type=0``) assignments added, removed or toggled
    read-only, for users that exist on both sides and were not disabled or enabled."""

    def keyed(rows: Rows) -> set[tuple[int, int, int]]:
        return {
            (r["user_id"], r["dep_id"], r["ro"])
            for r in rows["lh_userdep"]
            if r["type"] == 0 and r["dep_id"] > 0
        }

    stable = {
        u
        for u, spec in outcome.before.users.items()
        if u in outcome.after.users and outcome.after.users[u].disabled == spec.disabled
    }
    diff = keyed(outcome.rows_before) ^ keyed(outcome.rows_after)
    return {(u, d) for u, d, _ in diff if u in stable}


def created_users(outcome: Outcome) -> set[int]:
    return set(outcome.after.users) - set(outcome.before.users)


# -- properties: the sets ------------------------------------------------------------------


@CONFIG_SETTINGS
@given(rows=configurations())
def test_scope_sets_match_the_spec_for_every_actor(rows: Rows) -> None:
    """Scope.compute reports, for every user, exactly the usable, assignable and required
    groups, visible and editable users and assignable department groups and departments that
    SPEC §3 defines (computed independently by the oracle from the same rows)."""
    config = Config.from_rows(rows)
    with database_with(rows):
        for actor in sorted(config.users):
            computed = Scope.compute(actor, PermissionSet.for_user(actor))
            expected = oracle.scope(config, actor)
            got = oracle.ScopeView(
                usable_groups=computed.usable_groups,
                assignable_groups=computed.assignable_groups,
                required_groups=computed.required_groups,
                visible_users=frozenset(computed.visible_user_ids()),
                editable_users=frozenset(computed.editable_user_ids()),
                assignable_department_groups=computed.assignable_department_groups,
                assignable_departments=computed.assignable_departments,
            )
            assert got == expected, f"scope of user {actor}"
            assert computed.is_administrator == oracle.is_administrator(config, actor)
            assert computed.administrator_users == oracle.administrators(config)
            assert computed.administration_groups == oracle.administration_groups(config)


@CONFIG_SETTINGS
@given(rows=configurations())
def test_has_agrees_with_the_spec_for_every_function_the_scope_depends_on(rows: Rows) -> None:
    """PermissionSet.has follows SPEC §2: exact exclusions win, then ``*/*``, ``module/*`` or
    an exact grant, counting only enabled groups."""
    config = Config.from_rows(rows)
    with database_with(rows):
        for user in sorted(config.users):
            permissions = PermissionSet.for_user(user)
            for module, function in QUERIED_FUNCTIONS:
                assert permissions.has(module, function) == oracle.has(
                    config, user, module, function
                ), f"user {user} {module}/{function}"


# -- properties: random actions ------------------------------------------------------------


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_refused_actions_leave_every_row_unchanged(rows: Rows, data: st.DataObject) -> None:
    """A refusal is raised before anything is written (the transaction rolls back), and no
    action fails with anything but a StoreError; ``run_random_actions`` checks both."""
    run_random_actions(data, rows, lambda outcome: None)


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_no_accepted_action_gives_or_takes_a_group_outside_the_actors_assignable_set(
    rows: Rows, data: st.DataObject
) -> None:
    """SPEC §3.1: group changes may add or remove only groups in A(actor), as of the moment
    the action starts; a non-administrator never hands out a group granting administration."""

    def check(outcome: Outcome) -> None:
        if not outcome.accepted:
            return
        actor = outcome.action.actor
        assignable = oracle.assignable_groups(outcome.before, actor)
        for user, changed in group_changes(outcome).items():
            assert changed <= assignable, (
                f"user {user}: groups {sorted(changed - assignable)} changed, "
                f"outside A({actor}) = {sorted(assignable)}"
            )
            if not oracle.is_administrator(outcome.before, actor):
                gained = (
                    outcome.after.users[user].groups
                    - outcome.before.users.get(user, oracle.UserSpec()).groups
                )
                assert not gained & oracle.administration_groups(outcome.before)

    run_random_actions(data, rows, check)


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_accepted_actions_touch_only_editable_users_or_the_actor_where_self_service_applies(
    rows: Rows, data: st.DataObject
) -> None:
    """SPEC §3.1: the target of an edit is editable. The only self-service the console allows
    is editing one's own account with ``selfedit`` (one's own groups only with
    ``editusergroupall``, §3.2.5) and one's own department groups with ``editdepartaments``
    (inside the assignable sets). Disabling or deleting oneself is never allowed."""

    def check(outcome: Outcome) -> None:
        if not outcome.accepted:
            return
        action, before = outcome.action, outcome.before
        actor = action.actor
        assert oracle.may_act(before, actor), "a disabled or missing account acted"
        editable = oracle.editable_users(before, actor)
        for user in touched_users(outcome):
            if user in editable:
                continue
            assert user == actor, f"user {user} changed but not editable by {actor}"
            allowed = self_service_permissions(action.kind)
            assert any(oracle.has(before, actor, "lhuser", p) for p in allowed), (
                f"{action.kind} on oneself without {allowed or 'any self-service'}"
            )
            if action.kind == "change_groups" and group_changes(outcome).get(actor):
                assert oracle.has(before, actor, "lhuser", "editusergroupall"), (
                    "changed own groups without lhuser/editusergroupall (SPEC §3.2.5)"
                )

    run_random_actions(data, rows, check)


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_department_groups_and_departments_change_only_within_the_actors_assignable_sets(
    rows: Rows, data: st.DataObject
) -> None:
    """SPEC §3.1 and §3.2.5: department groups and single departments may be added, removed or
    toggled read-only only when they are in the actor's assignable sets, for other users and
    for oneself alike (LHC's ``editdepartaments`` would let a user add any department)."""

    def check(outcome: Outcome) -> None:
        if not outcome.accepted:
            return
        actor = outcome.action.actor
        allowed = oracle.assignable_department_groups(outcome.before, actor)
        for user, dep_group in department_group_changes(outcome):
            assert dep_group in allowed, (
                f"department group {dep_group} of user {user} changed by {actor}, "
                f"assignable: {sorted(allowed)}"
            )
        allowed = oracle.assignable_departments(outcome.before, actor)
        for user, department in department_changes(outcome):
            assert department in allowed, (
                f"department {department} of user {user} changed by {actor}, "
                f"assignable: {sorted(allowed)}"
            )

    run_random_actions(data, rows, check)


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_only_administrators_change_disable_or_delete_administrators(
    rows: Rows, data: st.DataObject
) -> None:
    """SPEC §3.2.4: an actor without ``*/*`` never touches a user who holds ``*/*``."""

    def check(outcome: Outcome) -> None:
        if not outcome.accepted or oracle.is_administrator(outcome.before, outcome.action.actor):
            return
        admins = oracle.administrators(outcome.before)
        assert not touched_users(outcome) & admins, (
            f"non-administrator {outcome.action.actor} changed administrator(s) "
            f"{sorted(touched_users(outcome) & admins)}"
        )

    run_random_actions(data, rows, check)


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_a_created_user_has_at_least_one_group_all_assignable_and_a_required_one_if_any(
    rows: Rows, data: st.DataObject
) -> None:
    """SPEC §3.1 create: ``createuser``; groups within A(actor), at least one; when A(actor)
    holds required groups, at least one of them is chosen."""

    def check(outcome: Outcome) -> None:
        if not outcome.accepted:
            return
        before, actor = outcome.before, outcome.action.actor
        created = created_users(outcome)
        if outcome.action.kind != "create":
            assert not created
            return
        assert len(created) == 1
        assert oracle.has(before, actor, "lhuser", "createuser")
        groups = outcome.after.users[created.pop()].groups
        assignable = oracle.assignable_groups(before, actor)
        required = oracle.required_groups(before, actor)
        assert groups, "created without a group"
        assert groups <= assignable, f"created in {sorted(groups - assignable)}, outside A"
        assert not required or groups & required, f"none of the required {sorted(required)}"

    run_random_actions(data, rows, check)


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_every_accepted_action_is_one_the_spec_allows(rows: Rows, data: st.DataObject) -> None:
    """The whole of SPEC §3.1 at once: the store never accepts an action the oracle forbids
    (permission, target, self-service, protected user, assignable sets)."""

    def check(outcome: Outcome) -> None:
        if outcome.accepted:
            assert spec_allows(outcome.before, outcome.action), f"accepted {outcome.action}"

    run_random_actions(data, rows, check)


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_the_store_never_refuses_on_scope_an_action_the_spec_allows(
    rows: Rows, data: st.DataObject
) -> None:
    """The converse: scoping is not stricter than SPEC §3. An allowed action may still fail on
    its input (a taken username, a user left without groups, a missing assignment), but not
    with a ScopeError."""

    def check(outcome: Outcome) -> None:
        if spec_allows(outcome.before, outcome.action):
            assert not isinstance(outcome.error, ScopeError), (
                f"{outcome.action} refused: {outcome.error}"
            )

    run_random_actions(data, rows, check)


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_non_administrators_never_make_anyone_an_administrator(
    rows: Rows, data: st.DataObject
) -> None:
    """SPEC §3.2.4 ends "only administrators make or touch administrators": after an action by
    a non-administrator, nobody holds ``*/*`` who did not hold it before."""

    def check(outcome: Outcome) -> None:
        if not outcome.accepted or oracle.is_administrator(outcome.before, outcome.action.actor):
            return
        new_admins = oracle.administrators(outcome.after) - oracle.administrators(outcome.before)
        assert not new_admins, f"{outcome.action} made {sorted(new_admins)} administrator(s)"

    run_random_actions(data, rows, check)


# -- property: out-of-scope attempts by non-administrators ---------------------------------


@st.composite
def out_of_scope_actions(draw: st.DrawFn, config: Config, actor: int) -> Action | None:
    """An action SPEC §3 forbids to ``actor``, or None if none fits.

    A kind of violation is chosen first (a missing permission, a group outside A, a user
    outside the editable set, an administrator, making an administrator, one's own groups, a
    department group or department outside the set, oneself), then
    preferably a *sharp* attempt: one where that rule alone stands in the way (a group in U
    but not in A, a visible user, an administrator who would otherwise be editable, ...).
    """
    users = sorted(config.users)
    groups = sorted(config.groups)
    assignable = sorted(oracle.assignable_groups(config, actor))
    usable = oracle.usable_groups(config, actor)
    required = oracle.required_groups(config, actor)
    editable = oracle.editable_users(config, actor)
    visible = oracle.visible_users(config, actor)
    admins = oracle.administrators(config)
    edits_all = oracle.has(config, actor, "lhuser", "editusergroupall")
    dep_groups = sorted(config.department_groups)
    assignable_dgs = oracle.assignable_department_groups(config, actor)
    outside_dgs = [dg for dg in dep_groups if dg not in assignable_dgs]
    others = sorted(editable - {actor})

    def pick(values: list[int] | set[int]) -> int:
        return draw(one_of(*sorted(values)))

    def towards(target: int) -> list[Action]:
        """Every edit of ``target`` that would be in scope if the target were editable."""
        found = [
            Action("delete", actor, target),
            Action("set_disabled", actor, target, flag=True),
            Action("update", actor, target),
        ]
        if assignable:
            found.append(Action("change_groups", actor, target, groups=(pick(assignable),)))
        if assignable_dgs:
            found.append(Action("assign_dg", actor, target, dep_group=pick(assignable_dgs)))
        return found

    categories: dict[str, tuple[list[Action], list[Action]]] = {}  # name -> (sharp, all)

    outside = [g for g in groups if g not in assignable]
    if outside:
        sharp_groups = [g for g in outside if g in usable] or outside
        group = pick(draw(st.sampled_from([sharp_groups, outside])))
        extra = {pick(required)} if required and group not in required else set()
        attempts = [
            Action("create", actor, groups=tuple(sorted({group, *extra})), username="intruder")
        ]
        if others:
            target = pick(others)
            attempts += [
                Action("change_groups", actor, target, groups=(group,)),
                Action("change_groups", actor, target, remove=(group,)),
                Action("add_member", actor, target, groups=(group,)),
            ]
        categories["group outside A"] = (attempts, attempts)

    not_editable = [u for u in users if u not in editable and u != actor and u not in admins]
    if not_editable:
        sharp = [u for u in not_editable if u in visible]
        categories["user outside the editable set"] = (
            towards(pick(sharp)) if sharp else [],
            towards(pick(not_editable)),
        )

    admin_targets = sorted(admins - {actor})
    if admin_targets:
        sharp = [
            u
            for u in admin_targets
            if u in visible and (edits_all or config.users[u].groups <= usable)
        ]
        categories["administrator"] = (
            towards(pick(sharp)) if sharp else [],
            towards(pick(admin_targets)),
        )

    if not edits_all and groups:
        own = [Action("change_groups", actor, actor, groups=(pick(assignable or groups),))]
        categories["own groups"] = (own, own)

    if outside_dgs:
        targets = [*others, actor]
        attempts = [
            Action(kind, actor, pick(targets), dep_group=pick(outside_dgs))
            for kind in ("assign_dg", "unassign_dg")
        ]
        categories["department group outside the set"] = (attempts, attempts)

    assignable_deps = oracle.assignable_departments(config, actor)
    outside_deps = [d for d in sorted(config.departments) if d not in assignable_deps]
    if outside_deps:
        targets = [*others, actor]
        attempts = [
            Action(kind, actor, pick(targets), department=pick(outside_deps))
            for kind in ("assign_dep", "unassign_dep")
        ]
        categories["department outside the set"] = (attempts, attempts)

    lacking: list[Action] = []
    if not oracle.has(config, actor, "lhuser", "createuser") and assignable:
        chosen = {pick(assignable)} | ({pick(required)} if required else set())
        lacking.append(Action("create", actor, groups=tuple(sorted(chosen)), username="intruder"))
    if others and not oracle.has(config, actor, "lhuser", "deleteuser"):
        lacking.append(Action("delete", actor, pick(others)))
    if others and assignable and not oracle.has(config, actor, "lhuser", "editgroup"):
        lacking.append(Action("add_member", actor, pick(others), groups=(pick(assignable),)))
    if lacking:
        categories["missing permission"] = (lacking, lacking)

    escalations = [
        Action("change_groups", actor, u, remove=(g,))
        for u in sorted(editable)
        for g in sorted(config.users[u].groups & set(assignable))
        if oracle.makes_administrator(config, u, config.users[u].groups - {g})
    ]
    if escalations:
        categories["making an administrator"] = (escalations, escalations)

    oneself = [
        Action("delete", actor, actor),
        Action("set_disabled", actor, actor, flag=True),
    ]
    categories["oneself"] = (oneself, oneself)

    name = draw(st.sampled_from(sorted(categories)))
    sharp, every = categories[name]
    pool = sharp if sharp and not draw(sometimes(4)) else every
    pool = [a for a in pool if not spec_allows(config, a)]
    if not pool:
        return None
    event(f"out of scope: {name}")
    return draw(st.sampled_from(pool))


@ACTION_SETTINGS
@given(rows=configurations(), data=st.data())
def test_out_of_scope_attempts_by_non_administrators_are_refused_and_write_nothing(
    rows: Rows, data: st.DataObject
) -> None:
    """SPEC §3.2.1: every rule is enforced in the services. A non-administrator trying to
    create, delete or add a member without ``createuser``, ``deleteuser`` or ``editgroup``, hand
    out or take away a group outside A, touch a user outside the editable set or an
    administrator, make anyone an administrator, change their own groups without
    ``editusergroupall``, assign a department group or department outside their sets, or
    delete or disable themselves is refused with a ScopeError (a NotFoundError for a user they
    cannot see, a ValidationError when an input rule answers first), and nothing is written:
    not even an audit row."""
    config = Config.from_rows(rows)
    non_admins = [u for u in sorted(config.users) if not oracle.is_administrator(config, u)]
    editors = [u for u in non_admins if oracle.has(config, u, "lhuser", "edituser")]
    if not non_admins:
        return
    actor = data.draw(one_of_nonempty(editors, non_admins), label="actor")
    visible = oracle.visible_users(config, actor)
    with database_with(rows) as db:
        for _ in range(data.draw(st.integers(1, 5), label="attempts")):
            action = data.draw(out_of_scope_actions(config, actor), label="attempt")
            if action is None:
                continue
            rows_before = all_rows()
            invisible_target = action.kind != "create" and action.target not in visible
            # An invisible target is "not found" unless a missing permission is refused first;
            # neither answer reveals whether the user exists. An input rule checked before the
            # scope (a required group left out) may answer first: still a refusal.
            expected: tuple[type[StoreError], ...] = (ScopeError, ValidationError)
            if oracle.may_act(config, actor) and invisible_target:
                expected = (*expected, NotFoundError)
            try:
                perform(db, action)
            except StoreError as exc:
                assert isinstance(exc, expected), f"{action}: {exc!r}, expected {expected}"
            else:
                raise AssertionError(f"out-of-scope {action} was accepted")
            assert all_rows() == rows_before, f"refused {action} still wrote rows"


# -- §3.2.4 regression: dropping a ``*/*`` exclusion makes an administrator ---------------


def _exclusion_configuration(actor_groups: list[int], target_groups: list[int]) -> Rows:
    """Group 1 grants ``*/*``, group 2 excludes ``*/*``, group 3 holds ``edituser`` and
    ``editusergroupall``. User 1 is the actor, user 2 the target."""
    rows: Rows = {m._meta.table_name: [] for m in ALL_MODELS}
    rows["lh_group"] = [
        {"id": g, "name": f"group {g}", "disabled": 0, "required": 0} for g in (1, 2, 3)
    ]
    rows["lh_role"] = [{"id": r, "name": f"role {r}"} for r in (1, 2, 3)]
    rows["lh_rolefunction"] = [
        {"role_id": 1, "module": "*", "function": "*", "type": oracle.GRANT},
        {"role_id": 2, "module": "*", "function": "*", "type": oracle.EXCLUDE},
        {"role_id": 3, "module": "lhuser", "function": "edituser", "type": oracle.GRANT},
        {"role_id": 3, "module": "lhuser", "function": "editusergroupall", "type": oracle.GRANT},
    ]
    rows["lh_grouprole"] = [{"group_id": g, "role_id": g} for g in (1, 2, 3)]
    rows["lh_users"] = [
        {
            "id": u,
            "username": f"user{u}",
            "password": "x",
            "email": f"user{u}@example.com",
            "disabled": 0,
        }
        for u in (1, 2)
    ]
    rows["lh_groupuser"] = [{"group_id": g, "user_id": 1} for g in actor_groups] + [
        {"group_id": g, "user_id": 2} for g in target_groups
    ]
    return rows


def _assert_refused_and_nothing_written(rows: Rows, action: Action) -> None:
    config = Config.from_rows(rows)
    assert not oracle.administrators(config)
    with database_with(rows) as db:
        before = all_rows()
        try:
            perform(db, action)
        except ScopeError:
            pass
        else:
            made = oracle.administrators(Config.from_rows(all_rows()))
            raise AssertionError(f"{action} was accepted and made {sorted(made)} administrator(s)")
        assert all_rows() == before


def test_a_non_administrator_cannot_make_a_user_administrator_by_removing_an_exclusion_group():
    """SPEC §3.2.4: "only administrators make or touch administrators". User 2 is in a group
    granting ``*/*`` and in one excluding it, so is no administrator and is editable by user 1
    (``edituser`` + ``editusergroupall``, no ``*/*``); group 2 grants nothing, so it is in
    A(user 1). Removing it must still be refused: it would hand user 2 ``*/*``."""
    rows = _exclusion_configuration(actor_groups=[3], target_groups=[1, 2])
    _assert_refused_and_nothing_written(rows, Action("change_groups", 1, 2, remove=(2,)))


def test_a_non_administrator_cannot_make_themselves_administrator_by_leaving_an_exclusion_group():
    """The same path used on oneself is a privilege escalation: an actor in the ``*/*`` group
    whose ``*/*`` is excluded, holding ``editusergroupall`` (which §3.2.5 requires to change
    one's own groups), must not be able to drop the excluding group."""
    rows = _exclusion_configuration(actor_groups=[1, 2, 3], target_groups=[3])
    _assert_refused_and_nothing_written(rows, Action("change_groups", 1, 1, remove=(2,)))
