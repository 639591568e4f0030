"""Impact preview (issue 19, point 2): who gains and who loses what when a change is made.

The change is not simulated: it is made for real, through the same scoped services, inside one
transaction. Before it runs, the effective permissions and chat access of every user the change
*could* affect are read; after it, the same users are read again; the difference is the
impact; then the transaction is rolled back (a dry run or a console preview) or committed. No
second reading of the rules can drift from what the services really do.

Which users could be affected is said by the caller in ``Touches``: the roles, groups, users,
department groups and departments the change writes. From them:

- **permissions** can change only for members of a touched group, members of groups carrying a
  touched role, and touched users. A user's permissions depend on nothing but the set of groups
  they are in (the groups' flags, roles and policies are the same for everyone), so they are
  computed once per distinct group set, a *permission class*, and shared by its users: at
  100,000 users a change of the base operators' role is about a thousand classes, not 100,000
  users' policies.
- **chat access** (SPEC §4) depends on the user's own ``lh_userdep`` rows and flags only, so it
  is read only when the change touches users, department groups or departments: the users
  assigned to a touched department group or holding a row from it, the touched users, and for a
  touched department its readers and every user who reads all departments.

After the change only what it may have written is read again (the memberships of touched
groups and users, the department rows of touched department groups, users and departments, the
flags of touched users), and the small configuration tables (groups, roles, policies,
departments) whole; users created by the change (ids past the highest before it) are read
whole, and a user it deleted reads as nothing. ``tests/test_impact.py`` holds the preview to
the permissions and access computed user by user after really making each kind of change.

Users the actor cannot see (SPEC §3: visible users) are counted, never named.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from peewee import Select, fn

from .limitations import merge, parse_stored
from .models import (
    Department,
    DepartmentGroupUser,
    Group,
    GroupRole,
    GroupUser,
    RoleFunction,
    User,
    UserDep,
    database_proxy,
)
from .permissions import EXCLUDE
from .rules import (
    refusal_to_see_own_permissions,
    refusal_to_see_permissions_of_others,
    shown_department_groups,
    shown_departments,
)
from .schema import policy_type_column
from .userdeps import ALL_DEPARTMENTS, NOT_ALL_PLACEHOLDER

if TYPE_CHECKING:
    from .session import ActionContext, Session

IdSet = frozenset[int]
GroupSet = tuple[int, ...]  # a user's groups, sorted: the key of a permission class
Access = tuple[IdSet, IdSet]  # departments read, written
NO_ACCESS: Access = (frozenset(), frozenset())
PermissionChange = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # gained, lost, limited
CHUNK = 500  # ids per IN (...) list: far below every backend's parameter limit


def _ids(values: Iterable[int]) -> IdSet:
    return frozenset(int(v) for v in values)


@dataclass(frozen=True)
class Touches:
    """What a change writes, so the preview knows whose permissions and access to read.

    ``users`` are the users whose own rows the change writes (memberships, department rows,
    flags, the account itself); ``groups`` the groups whose flags, roles or members it
    changes; ``roles`` the roles whose policies it changes; ``department_groups`` those whose
    departments or assignments it changes; ``departments`` those it creates or removes. Users
    the change creates need not be named: every user past the highest id before it is read.
    """

    roles: IdSet = frozenset()
    groups: IdSet = frozenset()
    users: IdSet = frozenset()
    department_groups: IdSet = frozenset()
    departments: IdSet = frozenset()

    @classmethod
    def of(
        cls,
        *,
        roles: Iterable[int] = (),
        groups: Iterable[int] = (),
        users: Iterable[int] = (),
        department_groups: Iterable[int] = (),
        departments: Iterable[int] = (),
    ) -> Touches:
        return cls(
            _ids(roles), _ids(groups), _ids(users), _ids(department_groups), _ids(departments)
        )

    def __or__(self, other: Touches) -> Touches:
        return Touches(
            self.roles | other.roles,
            self.groups | other.groups,
            self.users | other.users,
            self.department_groups | other.department_groups,
            self.departments | other.departments,
        )

    @property
    def permissions_may_change(self) -> bool:
        return bool(self.roles or self.groups or self.users)

    @property
    def access_may_change(self) -> bool:
        return bool(self.users or self.department_groups or self.departments)


class ImpactEntry(NamedTuple):
    """One user's difference: permissions as ``module/function``, departments by id.

    A named tuple rather than a frozen dataclass: a change to the base operators' role lists
    100,000 of them, and a tuple is built four times faster.
    """

    user_id: int
    username: str
    gains: tuple[str, ...] = ()
    loses: tuple[str, ...] = ()
    reads_gained: tuple[int, ...] = ()
    reads_lost: tuple[int, ...] = ()
    writes_gained: tuple[int, ...] = ()
    writes_lost: tuple[int, ...] = ()
    limitations_changed: tuple[str, ...] = ()
    """Functions held before and after whose merged limitation differs (``{"group":[2]}`` to
    ``{"group":[2,5]}``): neither gained nor lost, but what they allow changed."""

    @property
    def gains_anything(self) -> bool:
        return bool(self.gains or self.reads_gained or self.writes_gained)

    @property
    def loses_anything(self) -> bool:
        return bool(self.loses or self.reads_lost or self.writes_lost)

    def as_json(self) -> dict[str, Any]:
        return {
            "user": {"id": self.user_id, "username": self.username},
            "gains": list(self.gains),
            "loses": list(self.loses),
            "reads_gained": list(self.reads_gained),
            "reads_lost": list(self.reads_lost),
            "writes_gained": list(self.writes_gained),
            "writes_lost": list(self.writes_lost),
            "limitations_changed": list(self.limitations_changed),
        }


@dataclass(frozen=True)
class Impact:
    """Who gains and who loses what: one entry per user with a difference, by user id.

    ``hidden`` counts affected users the actor cannot see (SPEC §3), who are not listed.
    """

    entries: tuple[ImpactEntry, ...] = ()
    hidden: int = 0
    department_names: dict[int, str] = field(default_factory=dict)  # those entries mention
    withheld: bool = False
    """Other users' chat access was left out: the actor may not be told all their assignments
    (SPEC §3 rule 7), and any part of it could tell how a user holds a department."""
    permissions_withheld: bool = False
    """Other users' permissions were left out: the actor may not see them (SPEC §3.1: another
    user's permissions need ``lhpermission/see_permissions_users``, one's own
    ``see_permissions``)."""

    @property
    def affects_nobody(self) -> bool:
        return not self.entries and not self.hidden

    @property
    def gaining(self) -> int:
        """Listed users who gain a permission or a department's chats."""
        return sum(1 for e in self.entries if e.gains_anything)

    @property
    def losing(self) -> int:
        """Listed users who lose a permission or a department's chats."""
        return sum(1 for e in self.entries if e.loses_anything)

    @property
    def limited(self) -> int:
        """Listed users the limitation of a function they keep changes for."""
        return sum(1 for e in self.entries if e.limitations_changed)

    def summary(self, *, brief: bool = False) -> str:
        """One line for a confirmation: ``3 users gain, 1 loses`` or ``affects nobody``;
        ``brief`` says that chats were withheld in a few words (a status line's width)."""
        held_back = [
            what
            for what, on in (
                ("permissions", self.permissions_withheld),
                ("chat access" if not brief else "chats", self.withheld),
            )
            if on
        ]
        withheld = ""
        if held_back:
            what = " and ".join(held_back)
            withheld = (
                f" (others' {what} not shown)"
                if brief
                else f" (other users' {what} not shown: you may not see {_WHY[tuple(held_back)]})"
            )
        if self.affects_nobody:
            return "affects nobody" + withheld
        parts = [
            f"{_users(self.gaining)} gain{'s' if self.gaining == 1 else ''}",
            f"{self.losing} lose{'s' if self.losing == 1 else ''}",
        ]
        if self.limited:
            parts.append(f"{self.limited:,} with a limitation changed")
        if self.hidden:
            parts.append(f"{_users(self.hidden)} you do not see affected")
        return ", ".join(parts) + withheld

    def as_json(self) -> list[dict[str, Any]]:
        """The issue's shape: a list sorted by user id of ``{"user": {"id", "username"},
        "gains", "loses", "reads_gained", "reads_lost", "writes_gained", "writes_lost"}``,
        and ``"limitations_changed"``: functions kept whose merged limitation changed."""
        return [e.as_json() for e in self.entries]


_WHY = {
    ("permissions",): "them",
    ("chat access",): "all their assignments",
    ("permissions", "chat access"): "their permissions and all their assignments",
}


def _users(count: int) -> str:
    return f"{count:,} user{'' if count == 1 else 's'}"


# -- reading the state ---------------------------------------------------------------------


def _rows(query: Any) -> list[tuple[Any, ...]]:
    """A query's rows as plain tuples, straight from the driver's cursor.

    Peewee's row wrappers cost three times the query itself on 200,000 memberships; the
    preview reads that many and needs nothing but the values.
    """
    return list(database_proxy.execute(query).fetchall())


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


@dataclass
class _Policies:
    """Groups' flags and roles and roles' policy keys: the configuration a class is read in."""

    enabled: IdSet
    roles_of: dict[int, tuple[int, ...]]
    grants: dict[int, dict[str, tuple[str, ...]]]  # role -> key -> its rows' limitation texts
    exclusions: dict[int, frozenset[str]]

    @classmethod
    def read(cls, group_ids: IdSet) -> _Policies:
        roles_of: dict[int, list[int]] = defaultdict(list)
        enabled: set[int] = set()
        for chunk in _chunks(group_ids):
            for group_id, disabled in _rows(
                Group.select(Group.id, Group.disabled).where(Group.id.in_(chunk))
            ):
                if not disabled:
                    enabled.add(group_id)
            for group_id, role_id in _rows(
                GroupRole.select(GroupRole.group_id, GroupRole.role_id).where(
                    GroupRole.group_id.in_(chunk)
                )
            ):
                roles_of[group_id].append(role_id)
        role_ids = {r for roles in roles_of.values() for r in roles}
        grants: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        exclusions: dict[int, set[str]] = defaultdict(set)
        for chunk in _chunks(role_ids):
            query = RoleFunction.select(
                RoleFunction.role_id,
                RoleFunction.module,
                RoleFunction.function,
                RoleFunction.limitation,
                policy_type_column(),
            ).where(RoleFunction.role_id.in_(chunk))
            for role_id, module, function, limitation, kind in _rows(query):
                # As ``PermissionSet.entries`` and ``excluded`` read them (``perms --json``).
                key = f"{module}/{function}"
                if int(kind or 0) == EXCLUDE:
                    exclusions[role_id].add(key)
                else:
                    grants[role_id][key].append(limitation or "")
        return cls(
            frozenset(enabled),
            {g: tuple(r) for g, r in roles_of.items()},
            {r: {k: tuple(v) for k, v in keys.items()} for r, keys in grants.items()},
            {r: frozenset(v) for r, v in exclusions.items()},
        )

    def effective(self, groups: GroupSet) -> dict[str, str]:
        """The ``module/function`` keys of the class's grant rows, less its exclusion keys,
        each with its merged limitation as canonical JSON ("" for none), as
        ``PermissionSet.entries`` merges it."""
        granted: dict[str, list[str]] = defaultdict(list)
        excluded: set[str] = set()
        for group_id in groups:
            if group_id not in self.enabled:
                continue
            for role_id in self.roles_of.get(group_id, ()):
                for key, texts in self.grants.get(role_id, {}).items():
                    granted[key].extend(texts)
                excluded |= self.exclusions.get(role_id, frozenset())
        return {
            key: _merged_limitation(texts) for key, texts in granted.items() if key not in excluded
        }


def _merged_limitation(texts: list[str]) -> str:
    """The limitation the rows of one key give together, as text that compares equal exactly
    when the merged limitations do (an unreadable one compares as its own text)."""
    if all(not text for text in texts):
        return ""
    parsed = [parse_stored(text) for text in texts]
    merged = merge(parsed)
    return "" if merged is None else json.dumps(merged, sort_keys=True, default=str)


@dataclass
class _DepRows:
    """Users' department rows and flags: everything chat access is computed from."""

    rows: dict[int, list[tuple[int, int, int]]]  # user -> (dep_id, ro, dep_group_id)
    flags: dict[int, tuple[bool, bool]]  # user -> (disabled, all_departments); absent: gone


def _access(
    rows: list[tuple[int, int, int]], flags: tuple[bool, bool] | None, all_deps: IdSet
) -> Access:
    """SPEC §4 as ``store.access.chat_access`` computes it: departments read and written."""
    if flags is None or flags[0]:
        return NO_ACCESS  # gone, or disabled: reads nothing
    all_setting = flags[1]
    read: set[int] = set()
    write: set[int] = set()
    everywhere_read = all_setting
    everywhere_write = all_setting
    for dep_id, ro, _group in rows:
        if dep_id == ALL_DEPARTMENTS:
            everywhere_read = True
            everywhere_write |= not ro
        elif dep_id != NOT_ALL_PLACEHOLDER:
            read.add(dep_id)
            if not ro:
                write.add(dep_id)
    if everywhere_read:
        read |= all_deps
        if everywhere_write:
            write |= all_deps
    return frozenset(read), frozenset(write)


@dataclass
class _State:
    """The part of the database the preview compares, for the candidate users."""

    memberships: dict[int, GroupSet]  # permission candidates (absent: user gone)
    policies: _Policies | None
    deps: _DepRows | None
    departments: IdSet


class _Measure:
    """The state before a change, and the candidates it names; ``after()`` reads it again."""

    def __init__(self, touches: Touches) -> None:
        self.touches = touches
        self.highest_user = _highest_user_id()
        self.usernames: dict[int, str] = {}
        if touches.users:
            for chunk in _chunks(touches.users):
                self.usernames.update(
                    _rows(User.select(User.id, User.username).where(User.id.in_(chunk)))
                )
        self.permission_users: IdSet = frozenset()
        self.access_users: IdSet = frozenset()
        self.before = self._read_before()
        self.configuration_before = self._configuration()

    # -- before ----------------------------------------------------------------------------

    def _read_before(self) -> _State:
        t = self.touches
        memberships: dict[int, GroupSet] = {}
        policies = None
        if t.permissions_may_change:
            carrying = set(t.groups)
            if t.roles:
                carrying |= {
                    g
                    for chunk in _chunks(t.roles)
                    for (g,) in _rows(
                        GroupRole.select(GroupRole.group_id).where(GroupRole.role_id.in_(chunk))
                    )
                }
            conditions = []
            if carrying:
                members = GroupUser.select(GroupUser.user_id).where(
                    GroupUser.group_id.in_(sorted(carrying))
                )
                conditions.append(GroupUser.user_id.in_(members))
            conditions += [GroupUser.user_id.in_(chunk) for chunk in _chunks(t.users)]
            memberships = _memberships(_any(conditions)) if conditions else {}
            for user_id in self.usernames:  # touched users in no group have no permissions
                memberships.setdefault(user_id, ())
            self.permission_users = frozenset(memberships)
            policies = _Policies.read(_groups_of(memberships))
        deps = None
        if t.access_may_change:
            candidates: list[Select] = [
                UserDep.select(UserDep.user_id).where(c) for c in self._dep_slice()
            ]
            candidates += [
                DepartmentGroupUser.select(DepartmentGroupUser.user_id).where(
                    DepartmentGroupUser.dep_group_id.in_(chunk)
                )
                for chunk in _chunks(t.department_groups)
            ]
            conditions = [User.id.in_(q) for q in candidates]
            conditions += [User.id.in_(chunk) for chunk in _chunks(t.users)]
            deps = _dep_rows_of(_any(conditions))
            self.access_users = frozenset(deps.flags)
        return _State(memberships, policies, deps, _departments())

    def _dep_slice(self) -> list[Any]:
        """Conditions on ``lh_userdep`` for the rows this change may write."""
        t = self.touches
        return [
            *(UserDep.user_id.in_(chunk) for chunk in _chunks(t.users)),
            *(UserDep.dep_group_id.in_(chunk) for chunk in _chunks(t.department_groups)),
            *(UserDep.dep_id.in_(chunk) for chunk in _chunks(t.departments)),
        ]

    def _configuration(self) -> tuple[list[tuple[Any, ...]], ...]:
        """What permissions are made of that the change may write, whoever holds it: the
        policy rows of touched roles, and the flags and roles of touched groups. Compared
        before and after, it says whether the change altered them without asking who is in
        the groups (``Impact.permissions_withheld``)."""
        t = self.touches
        policies: list[tuple[Any, ...]] = []
        for chunk in _chunks(t.roles):
            policies += _rows(
                RoleFunction.select(
                    RoleFunction.id,
                    RoleFunction.role_id,
                    RoleFunction.module,
                    RoleFunction.function,
                    RoleFunction.limitation,
                    policy_type_column(),
                ).where(RoleFunction.role_id.in_(chunk))
            )
        groups: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        for chunk in _chunks(t.groups):
            groups += _rows(Group.select(Group.id, Group.disabled).where(Group.id.in_(chunk)))
            links += _rows(
                GroupRole.select(GroupRole.group_id, GroupRole.role_id).where(
                    GroupRole.group_id.in_(chunk)
                )
            )
        return sorted(policies), sorted(groups), sorted(links)

    # -- after -----------------------------------------------------------------------------

    def after(self) -> _State:
        """Read again what the change may have written; keep what it cannot have."""
        t, before = self.touches, self.before
        new_users = (
            frozenset(u for (u,) in _rows(User.select(User.id).where(User.id > self.highest_user)))
            if _highest_user_id() > self.highest_user
            else frozenset()
        )
        memberships = before.memberships
        policies = None
        if t.permissions_may_change or new_users:
            if t.groups or t.users or new_users:
                memberships = self._memberships_after(new_users)
            policies = _Policies.read(_groups_of(memberships))
        deps = before.deps
        if t.access_may_change or new_users:
            deps = self._dep_rows_after(new_users)
        departments = _departments()
        if departments != before.departments:
            # A department created or removed changes what every reader of all departments
            # reads. Those the change did not write (the others are candidates already) have
            # the same rows and flags before and after: read them now, for both sides.
            known = deps.flags.keys() if deps is not None else set()
            readers = _dep_rows_of(
                (User.all_departments != 0)
                | User.id.in_(
                    UserDep.select(UserDep.user_id).where(UserDep.dep_id == ALL_DEPARTMENTS)
                )
            )
            extra = _DepRows(
                {u: r for u, r in readers.rows.items() if u not in known},
                {u: f for u, f in readers.flags.items() if u not in known},
            )
            before.deps = _merged(before.deps, extra)
            deps = _merged(deps, extra)
        return _State(memberships, policies, deps, departments)

    def _dep_rows_after(self, new_users: IdSet) -> _DepRows:
        """The candidates' department rows and flags after the change: the rows of touched
        department groups, departments and users (and new users) are read again, with the
        flags of touched and new users; the others are as they were."""
        t = self.touches
        old = self.before.deps or _DepRows({}, {})
        slice_conditions = self._dep_slice()
        slice_conditions += [UserDep.user_id.in_(chunk) for chunk in _chunks(new_users)]
        fresh = _dep_rows_where(_any(slice_conditions)) if slice_conditions else {}
        rewritten = t.users | new_users
        flags = {u: f for u, f in old.flags.items() if u not in rewritten}
        for chunk in _chunks(rewritten):
            query = User.select(User.id, User.disabled, User.all_departments)
            for user_id, disabled, all_departments in _rows(query.where(User.id.in_(chunk))):
                flags[user_id] = (bool(disabled), bool(all_departments))
        rows: dict[int, list[tuple[int, int, int]]] = {}
        for user_id in self.access_users | new_users:
            if user_id in rewritten:
                rows[user_id] = fresh.get(user_id, [])
            else:
                kept = [r for r in old.rows.get(user_id, []) if not self._in_slice(user_id, r)]
                rows[user_id] = kept + fresh.get(user_id, [])
        return _DepRows(rows, {u: flags[u] for u in rows if u in flags})

    def _memberships_after(self, new_users: IdSet) -> dict[int, GroupSet]:
        """The candidates' groups after the change: only the memberships of touched groups
        and of touched and new users are read again; the others are as they were."""
        t, before = self.touches, self.before
        conditions = [GroupUser.group_id.in_(chunk) for chunk in _chunks(t.groups)]
        conditions += [GroupUser.user_id.in_(chunk) for chunk in _chunks(t.users | new_users)]
        fresh = _memberships(_any(conditions))
        rewritten = t.users | new_users
        memberships = dict(before.memberships)
        for user_id in rewritten:
            memberships.pop(user_id, None)
        for user_id in self._existing(rewritten):
            memberships[user_id] = fresh.get(user_id, ())
        if t.groups:
            # Members of a touched group, before or after: their other groups are as they were.
            in_touched = {u for u, groups in before.memberships.items() if t.groups & set(groups)}
            in_touched |= fresh.keys()
            for user_id in in_touched - rewritten:
                if user_id not in before.memberships:
                    continue  # joined a touched group unnamed: Touches.users must name them
                kept = [g for g in before.memberships[user_id] if g not in t.groups]
                kept += [g for g in fresh.get(user_id, ()) if g in t.groups]
                memberships[user_id] = tuple(sorted(set(kept)))
        return memberships

    def _in_slice(self, user_id: int, row: tuple[int, int, int]) -> bool:
        t = self.touches
        dep_id, _ro, dep_group_id = row
        return user_id in t.users or dep_group_id in t.department_groups or dep_id in t.departments

    @staticmethod
    def _existing(user_ids: IdSet) -> IdSet:
        found: set[int] = set()
        for chunk in _chunks(user_ids):
            found.update(u for (u,) in _rows(User.select(User.id).where(User.id.in_(chunk))))
        return frozenset(found)

    # -- the difference --------------------------------------------------------------------

    def impact(
        self,
        visible: Callable[[IdSet], IdSet] | None = None,
        told: Callable[[int, tuple[int, ...]], tuple[int, ...]] | None = None,
        permissions_told: Callable[[int], bool] | None = None,
    ) -> Impact:
        """Read the state after the change and compare; ``visible`` filters whom to name,
        ``told`` which of a user's departments the actor may be told about (rule 7), and
        ``permissions_told`` whose permissions (SPEC §3.1). What may not be told is left out
        before anyone is named or counted: a user changed only there is neither."""
        after = self.after()
        before = self.before
        permissions: dict[int, PermissionChange] = {}
        if before.policies is not None or after.policies is not None:
            permissions = _permission_changes(before, after)
        access: dict[int, tuple[tuple[int, ...], ...]] = {}
        if before.deps is not None or after.deps is not None:
            access = _access_changes(before, after)
        # Said whenever existing users' chats could change, not only when they did: that they
        # did is itself an answer about the ways the actor may not see. A change that touches
        # no existing user, department group or department (a user created) changes only the
        # new users' chats, which are told.
        withheld = told is not None and self.touches.access_may_change
        # Said whenever what permissions are made of changed (memberships, groups' flags and
        # roles, policies): the actor's own change, which they know; not whether anyone's
        # permissions changed, which is the answer withheld, nor whether anyone is in the
        # groups it changed (the touched roles and groups are compared whoever holds them).
        permissions_withheld = permissions_told is not None and (
            before.memberships != after.memberships
            or before.policies != after.policies
            or self.configuration_before != self._configuration()
        )
        empty: tuple[Any, ...] = ()
        changes: dict[int, tuple[tuple[Any, ...], ...]] = {}
        for user_id in permissions.keys() | access.keys():
            gains, loses, limited = permissions.get(user_id, (empty, empty, empty))
            if permissions_told is not None and not permissions_told(user_id):
                gains = loses = limited = empty
            reads_gained, reads_lost, writes_gained, writes_lost = (
                departments if told is None else told(user_id, departments)
                for departments in access.get(user_id, (empty, empty, empty, empty))
            )
            change = (
                gains,
                loses,
                reads_gained,
                reads_lost,
                writes_gained,
                writes_lost,
                limited,
            )
            if any(change):  # changed only in what may not be told: not even counted
                changes[user_id] = change
        if not changes:
            return Impact(withheld=withheld, permissions_withheld=permissions_withheld)
        affected = frozenset(changes)
        shown = affected if visible is None else visible(affected)
        names = self._names(shown)
        entries = [
            ImpactEntry(user_id, names.get(user_id, ""), *changes[user_id])
            for user_id in sorted(shown)
        ]
        return Impact(
            tuple(entries),
            len(affected) - len(shown),
            _department_names(entries),
            withheld,
            permissions_withheld,
        )

    def _names(self, user_ids: IdSet) -> dict[int, str]:
        """Usernames now (a user the change deleted: as it was named before)."""
        names = {u: n for u, n in self.usernames.items() if u in user_ids}
        if len(user_ids) > 20 * CHUNK:  # most users: one pass over the table is cheaper
            names.update(
                (u, n) for u, n in _rows(User.select(User.id, User.username)) if u in user_ids
            )
        else:
            for chunk in _chunks(user_ids):
                names.update(_rows(User.select(User.id, User.username).where(User.id.in_(chunk))))
        return names


def _permission_changes(before: _State, after: _State) -> dict[int, PermissionChange]:
    """Per user whose effective permissions differ: (gained, lost, limitation changed), each
    sorted.

    Computed per pair of (class before, class after), which most users share.
    """
    effective_before: dict[GroupSet, dict[str, str]] = {}
    effective_after: dict[GroupSet, dict[str, str]] = {}
    pairs: dict[tuple[GroupSet | None, GroupSet | None], PermissionChange] = {}
    out: dict[int, PermissionChange] = {}
    nothing: dict[str, str] = {}

    def effective(
        state: _State, cache: dict[GroupSet, dict[str, str]], key: GroupSet | None
    ) -> dict[str, str]:
        if key is None or state.policies is None:
            return nothing
        if key not in cache:
            cache[key] = state.policies.effective(key)
        return cache[key]

    for user_id in before.memberships.keys() | after.memberships.keys():
        pair = (before.memberships.get(user_id), after.memberships.get(user_id))
        if pair not in pairs:
            old = effective(before, effective_before, pair[0])
            new = effective(after, effective_after, pair[1])
            pairs[pair] = (
                tuple(sorted(new.keys() - old.keys())),
                tuple(sorted(old.keys() - new.keys())),
                tuple(sorted(k for k in old.keys() & new.keys() if old[k] != new[k])),
            )
        change = pairs[pair]
        if any(change):
            out[user_id] = change
    return out


def _access_changes(before: _State, after: _State) -> dict[int, tuple[tuple[int, ...], ...]]:
    """Per user whose chat access differs: reads gained, lost, writes gained, lost."""
    old = before.deps or _DepRows({}, {})
    new = after.deps or _DepRows({}, {})
    out: dict[int, tuple[tuple[int, ...], ...]] = {}
    for user_id in old.flags.keys() | new.flags.keys() | old.rows.keys() | new.rows.keys():
        read0, write0 = _access(
            old.rows.get(user_id, []), old.flags.get(user_id), before.departments
        )
        read1, write1 = _access(
            new.rows.get(user_id, []), new.flags.get(user_id), after.departments
        )
        if read0 == read1 and write0 == write1:
            continue
        out[user_id] = (
            tuple(sorted(read1 - read0)),
            tuple(sorted(read0 - read1)),
            tuple(sorted(write1 - write0)),
            tuple(sorted(write0 - write1)),
        )
    return out


def _any(conditions: list[Any]) -> Any:
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


def _memberships(condition: Any) -> dict[int, GroupSet]:
    """Each matching user's groups, sorted, duplicate rows once; equal sets share one tuple
    (sorted here rather than in SQL: Python's sort of 200,000 pairs is the cheaper)."""
    rows = _rows(GroupUser.select(GroupUser.user_id, GroupUser.group_id).where(condition))
    rows.sort()
    found: dict[int, GroupSet] = {}
    shared: dict[GroupSet, GroupSet] = {}
    current: list[int] = []
    previous = None
    for user_id, group_id in rows:
        if user_id != previous:
            if previous is not None:
                groups = tuple(current)
                found[previous] = shared.setdefault(groups, groups)
            previous, current = user_id, [group_id]
        elif group_id != current[-1]:
            current.append(group_id)
    if previous is not None:
        groups = tuple(current)
        found[previous] = shared.setdefault(groups, groups)
    return found


def _groups_of(memberships: dict[int, GroupSet]) -> IdSet:
    return frozenset(g for groups in set(memberships.values()) for g in groups)


def _merged(rows: _DepRows | None, extra: _DepRows) -> _DepRows:
    if rows is None:
        return extra
    return _DepRows({**rows.rows, **extra.rows}, {**rows.flags, **extra.flags})


def _dep_rows_of(users: Any) -> _DepRows:
    """Department rows and flags of the users ``users`` (a condition on ``lh_users``) selects."""
    flags = {
        u: (bool(disabled), bool(all_departments))
        for u, disabled, all_departments in _rows(
            User.select(User.id, User.disabled, User.all_departments).where(users)
        )
    }
    return _DepRows(_dep_rows_where(UserDep.user_id.in_(User.select(User.id).where(users))), flags)


def _dep_rows_where(condition: Any) -> dict[int, list[tuple[int, int, int]]]:
    """The ``lh_userdep`` rows matching ``condition``, per user: (dep_id, ro, dep_group_id)."""
    rows: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    query = UserDep.select(UserDep.user_id, UserDep.dep_id, UserDep.ro, UserDep.dep_group_id)
    for user_id, dep_id, ro, dep_group_id in _rows(query.where(condition)):
        rows[user_id].append((int(dep_id), int(ro or 0), int(dep_group_id or 0)))
    return dict(rows)


def _department_names(entries: list[ImpactEntry]) -> dict[int, str]:
    mentioned = {
        d
        for e in entries
        for ids in (e.reads_gained, e.reads_lost, e.writes_gained, e.writes_lost)
        for d in ids
    }
    names: dict[int, str] = {}
    for chunk in _chunks(mentioned):
        query = Department.select(Department.id, Department.name).where(Department.id.in_(chunk))
        names.update(_rows(query))
    return names


def _departments() -> IdSet:
    return frozenset(d for (d,) in _rows(Department.select(Department.id)))


def _highest_user_id() -> int:
    return int(User.select(fn.MAX(User.id)).scalar() or 0)


# -- the service ---------------------------------------------------------------------------


class _RolledBack(Exception):
    """Raised at the end of a dry run's transaction so that it rolls back."""


class Measurement:
    """An action being measured: the state before it was read when the action began.

    ``finish()`` reads the state after the change and compares (once; later calls return the
    same ``Impact``). The action's transaction is still open then, so a command can print the
    impact before its dry run rolls back.
    """

    def __init__(self, ctx: ActionContext, touches: Touches) -> None:
        self._ctx = ctx
        self._measure = _Measure(touches)
        self._impact: Impact | None = None

    def finish(self) -> Impact:
        if self._impact is None:
            self._impact = self._measure.impact(
                self._visible, self._told(), self._permissions_told()
            )
        return self._impact

    def _permissions_told(self) -> Callable[[int], bool] | None:
        """SPEC §3.1: another user's permissions are seen with
        ``lhpermission/see_permissions_users``, one's own with ``see_permissions``. What
        someone gains or loses is part of what they hold (and, for a user the change creates,
        of what the chosen groups give, which the same right guards), so an actor without the
        right is told none of it. None: nothing to hold back."""
        ctx = self._ctx
        if ctx.installing:
            return None
        own = refusal_to_see_own_permissions(ctx) is None
        others = refusal_to_see_permissions_of_others(ctx) is None
        if own and others:
            return None
        actor = ctx.actor_id
        return lambda user_id: own if user_id == actor else others

    def _told(self) -> Callable[[int, tuple[int, ...]], tuple[int, ...]] | None:
        """SPEC §3 rule 7: an actor who may not be told all of another user's department
        assignments (no ``see_user_assigned_departments_groups`` or no
        ``see_user_assigned_departments``) is told nothing of other users' chat access here.

        Rule 7 is about the way a user holds a department (directly or through a department
        group), and a change in what someone reads can hang on a way the actor may not see: a
        department removed from a group changes nothing for a user who also holds it directly.
        Naming some departments, or counting the users changed only there, would answer "does
        X hold D directly?". Their own chats are theirs to see. None: nothing to hold back.
        """
        ctx = self._ctx
        groups, departments = shown_department_groups(ctx), shown_departments(ctx)
        if ctx.installing or (groups is None and departments is None):
            return None
        actor, highest = ctx.actor_id, self._measure.highest_user

        def filtered(user_id: int, ids: tuple[int, ...]) -> tuple[int, ...]:
            # One's own chats, and those of a user the change creates (every assignment of
            # theirs is the actor's own doing), are told; nobody else's.
            return ids if user_id == actor or user_id > highest else ()

        return filtered

    @property
    def impact(self) -> Impact:
        """The impact (after the block ended; ``finish()`` inside it)."""
        return self.finish()

    def _visible(self, user_ids: IdSet) -> IdSet:
        """The users the actor sees (SPEC §3), as the action began: only they are named.

        A user the change created is judged as they are now, and one it deleted was a user
        the actor could edit, so visible.
        """
        scope = self._ctx.scope
        if scope.sees_all_users or self._ctx.installing:
            return user_ids
        usable = sorted(scope.usable_groups)
        seen = {self._ctx.actor_id} | (self._measure.touches.users & user_ids)
        for chunk in _chunks(user_ids - seen):
            seen.update(
                u
                for (u,) in _rows(
                    GroupUser.select(GroupUser.user_id).where(
                        GroupUser.user_id.in_(chunk) & GroupUser.group_id.in_(usable)
                    )
                )
            )
        return user_ids & seen


class ImpactService:
    """``session.impact``: do a change, say who gains and loses what, roll back or keep it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @contextmanager
    def measuring(self, touches: Touches, *, dry_run: bool = False) -> Iterator[Measurement]:
        """One action (one transaction) around the block, its impact measured.

        With ``dry_run`` the transaction is rolled back at the end whatever the block did, so
        nothing it wrote stays (audit rows included); a refusal inside the block still raises,
        as it would for real. The service calls inside nest in this transaction.
        """
        try:
            with self._session.action() as ctx:
                measurement = Measurement(ctx, touches)
                yield measurement
                measurement.finish()
                if dry_run:
                    raise _RolledBack
        except _RolledBack:
            pass

    def preview(self, touches: Touches, change: Callable[[], object]) -> Impact:
        """Make ``change`` (service calls) for real, measure it, and roll it back."""
        with self.measuring(touches, dry_run=True) as measurement:
            change()
        return measurement.impact
