"""The risk report (SPEC §7): configurations that do not do what they seem to, or that LHC's
back office lets people get around.

Each rule reads the configuration once: the small tables (groups, roles, policy rows, work-with
rows, department groups) are loaded whole, and everything that grows with the number of users
is asked of the database as an aggregate (member counts, members holding a function, users in
two groups at once, users without a group). Nothing here loops over users, so the report costs
about the same on 100,000 users as on 10 plus a few indexed scans of the membership table.

Findings come out in a fixed order (severity, rule, objects), so two runs on the same database
print the same report and tests can compare it exactly.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any

from peewee import SQL, ColumnBase, Select, fn

from . import lookup, rules, validation
from .limitations import UNPARSED_KEY, merge, parse_stored, unreadable_reason
from .models import (
    Department,
    DepartmentGroup,
    DepartmentGroupMember,
    Group,
    GroupRole,
    GroupUser,
    GroupWork,
    Role,
    RoleFunction,
    User,
    UserDep,
    database_proxy,
    tuple_rows,
)
from .permissions import EXCLUDE, GRANT, WILDCARD, PermissionSet, PolicyRow
from .userdeps import ALL_DEPARTMENTS, NOT_ALL_PLACEHOLDER

if TYPE_CHECKING:
    from .session import Session

HIGH, MEDIUM, LOW, INFO = "high", "medium", "low", "info"
SEVERITIES: tuple[str, ...] = (HIGH, MEDIUM, LOW, INFO)
"""Most urgent first: high = someone can reach powers or chats they were not meant to have;
medium = a setting does not do what it appears to; low = dead or dangling configuration;
info = worth knowing, nothing is wrong yet."""

RULES: dict[str, str] = {
    "work-with-moot": "Work-with list has no effect",
    "privilege-path": "Privilege path via work-with",
    "self-assign-departments": "Self-assigns any department",
    "editgroup-attaches-roles": "editgroup attaches roles",
    "role-without-group": "Role attached to no group",
    "disabled-group-members": "Disabled group has members",
    "limitation-row-order": "Limitation depends on order",
    "unreadable-limitation": "Limitation cannot be read",
    "wildcard-exclusion": "Exclusion with * is literal",
    "see-all-not-chat-separation": "see_all limits no chats",
    "orphan-group-work": "Work-with row points nowhere",
    "login-name-clash": "Username is another's e-mail",
    "lookalike-usernames": "Usernames look the same",
    "user-without-group": "Users in no group",
    "department-without-group": "Departments in no dep. group",
}
"""Every rule the report checks, in report order, with the title screens show (at most 28
characters: the rule column of an 80-column screen)."""

MAX_LISTED = 50
"""Aggregated findings (users, departments) name at most this many objects; the message
gives the total."""

MAX_FUNCTIONS_NAMED = 8

POWERFUL: frozenset[tuple[str, str]] = frozenset(
    {
        ("*", "*"),
        ("lhuser", "*"),
        ("lhpermission", "*"),
        ("lhuser", "editusergroupall"),
        ("lhuser", "see_all"),
        ("lhuser", "createuser"),
        ("lhuser", "edituser"),
        ("lhuser", "deleteuser"),
        ("lhuser", "creategroup"),
        ("lhuser", "editgroup"),
        ("lhuser", "deletegroup"),
        ("lhuser", "editdepartaments"),
        ("lhuser", "edit_all_departments"),
        ("lhuser", "assign_all_department_group"),
        ("lhuser", "assign_all_department_individual"),
        ("lhuser", "import"),
        ("lhpermission", "new"),
        ("lhpermission", "edit"),
        ("lhpermission", "delete"),
        ("lhpermission", "see_permissions_users"),
        ("lhdepartment", "managegroups"),
    }
)
"""Functions that change who may do what: reaching one of them through a work-with list is
an escalation, not just an extra convenience."""


@dataclass(frozen=True)
class ObjectRef:
    """An object a finding is about: ``type`` is group, role, policy, user, department or
    group_work (an ``lh_group_work`` row)."""

    type: str
    id: int
    name: str

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "name": self.name}


@dataclass(frozen=True)
class Finding:
    """One risk: which rule, how urgent, what it is about, why it matters and what to do."""

    rule: str
    severity: str
    objects: tuple[ObjectRef, ...]
    message: str
    fix: str

    @property
    def title(self) -> str:
        return RULES.get(self.rule, self.rule)

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "objects": [o.as_json() for o in self.objects],
            "message": self.message,
            "fix": self.fix,
        }

    def sort_key(self) -> tuple[int, int, tuple[tuple[str, int], ...], str]:
        return (
            SEVERITIES.index(self.severity),
            list(RULES).index(self.rule),
            tuple((o.type, o.id) for o in self.objects),
            self.message,
        )


@dataclass(frozen=True)
class RiskReport:
    """Every finding, most urgent first."""

    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, Any]:
        return {"findings": [f.as_json() for f in self.findings]}

    def counts(self) -> dict[str, int]:
        """How many findings of each severity (every severity present, zeros included)."""
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}


def risk_report() -> RiskReport:
    """Run every rule on the bound database (call inside a read transaction for a snapshot)."""
    config = _Config.load()
    findings: list[Finding] = []
    for check in (
        _work_with_moot,
        _privilege_path,
        _self_assign_departments,
        _editgroup_attaches_roles,
        _role_without_group,
        _disabled_group_members,
        _limitation_row_order,
        _unreadable_limitation,
        _wildcard_exclusion,
        _see_all_not_chat_separation,
        _orphan_group_work,
        _login_name_clash,
        _lookalike_usernames,
        _user_without_group,
        _department_without_group,
    ):
        findings.extend(check(config))
    return RiskReport(tuple(sorted(findings, key=Finding.sort_key)))


# -- the configuration, read once --------------------------------------------------------


@dataclass(frozen=True)
class _GroupInfo:
    id: int
    name: str
    disabled: bool


@dataclass(frozen=True)
class _Row:
    id: int
    role_id: int
    module: str
    function: str
    limitation: str
    type: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.module, self.function)


@dataclass
class _Config:
    """The small tables in memory, plus per-group permission sets built from them."""

    groups: dict[int, _GroupInfo]
    roles: dict[int, str]
    rows: list[_Row]
    group_roles: dict[int, list[int]]
    role_groups: dict[int, list[int]]
    work: list[tuple[int, int, int]]  # (row id, group_id, group_work_id)
    member_counts: dict[int, int]
    permissions: dict[int, PermissionSet] = field(default_factory=dict)
    grant_keys: dict[int, frozenset[tuple[str, str]]] = field(default_factory=dict)
    exclude_keys: dict[int, frozenset[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> _Config:
        groups = {
            g.id: _GroupInfo(g.id, g.name, bool(g.disabled))
            for g in Group.select(Group.id, Group.name, Group.disabled).order_by(Group.id)
        }
        roles = {r.id: r.name for r in Role.select(Role.id, Role.name).order_by(Role.id)}
        rows = [
            _Row(r.id, r.role_id, r.module, r.function, r.limitation or "", int(r.type or 0))
            for r in RoleFunction.select().order_by(RoleFunction.id)
        ]
        group_roles: dict[int, list[int]] = {}
        role_groups: dict[int, list[int]] = {}
        pairs = GroupRole.select(GroupRole.group_id, GroupRole.role_id).order_by(
            GroupRole.group_id, GroupRole.role_id
        )
        for group_id, role_id in tuple_rows(pairs):
            if group_id not in groups or role_id not in roles:
                continue  # a dangling link gives nothing
            if role_id not in group_roles.setdefault(group_id, []):
                group_roles[group_id].append(role_id)
                role_groups.setdefault(role_id, []).append(group_id)
        work: list[tuple[int, int, int]] = list(
            tuple_rows(
                GroupWork.select(GroupWork.id, GroupWork.group_id, GroupWork.group_work_id)
                .order_by(GroupWork.id)
            )
        )
        counts: dict[int, int] = dict(
            tuple_rows(
                GroupUser.select(GroupUser.group_id, fn.COUNT(fn.DISTINCT(GroupUser.user_id)))
                .group_by(GroupUser.group_id)
            )
        )
        config = cls(groups, roles, rows, group_roles, role_groups, work, counts)
        by_role: dict[int, list[_Row]] = {}
        for row in rows:
            by_role.setdefault(row.role_id, []).append(row)
        for group in groups.values():
            policy_rows = [
                PolicyRow(
                    row.id,
                    group.id,
                    group.name,
                    group.disabled,
                    role_id,
                    roles[role_id],
                    row.module,
                    row.function,
                    row.limitation,
                    row.type,
                )
                for role_id in group_roles.get(group.id, [])
                for row in by_role.get(role_id, [])
            ]
            config.permissions[group.id] = PermissionSet(0, policy_rows)
            live = [] if group.disabled else policy_rows
            config.grant_keys[group.id] = frozenset(
                (r.module, r.function) for r in live if not r.is_exclusion
            )
            config.exclude_keys[group.id] = frozenset(
                (r.module, r.function) for r in live if r.is_exclusion
            )
        return config

    # -- small helpers ----------------------------------------------------------------

    def group(self, group_id: int) -> ObjectRef:
        info = self.groups.get(group_id)
        return ObjectRef("group", group_id, info.name if info else f"#{group_id} (missing)")

    def role(self, role_id: int) -> ObjectRef:
        return ObjectRef("role", role_id, self.roles.get(role_id, f"#{role_id} (missing)"))

    def members(self, group_id: int) -> int:
        return self.member_counts.get(group_id, 0)

    def enabled(self, group_id: int) -> bool:
        return group_id in self.groups and not self.groups[group_id].disabled

    def group_grants(self, group_id: int, module: str, function: str) -> bool:
        """Whether one of the group's grant rows covers the function (its exclusions aside)."""
        keys = self.grant_keys.get(group_id, frozenset())
        return (
            (module, function) in keys or (module, WILDCARD) in keys or (WILDCARD, WILDCARD) in keys
        )

    def group_has(self, group_id: int, module: str, function: str) -> bool:
        """Whether the group's own roles give the function (SPEC §2 on its rows; a disabled
        group gives nothing). Set lookups, as ``PermissionSet.has`` would answer."""
        if (module, function) in self.exclude_keys.get(group_id, frozenset()):
            return False
        return self.group_grants(group_id, module, function)

    def granting_rows(self, group_id: int, module: str, function: str) -> list[PolicyRow]:
        """The group's grant rows that cover the function (exact, ``module/*``, ``*/*``)."""
        permissions = self.permissions.get(group_id)
        if permissions is None or self.groups[group_id].disabled:
            return []
        return [r for r in permissions.rows if r.grants(module, function)]

    def holders(self, module: str, function: str) -> tuple[list[int], list[int]]:
        """Enabled groups granting the function, and enabled groups excluding it exactly.

        A user holds the function when they are in a granting group and in no excluding one.
        """
        granting, excluding = [], []
        for group_id in self.groups:
            if self.group_grants(group_id, module, function):
                granting.append(group_id)
            if (module, function) in self.exclude_keys.get(group_id, frozenset()):
                excluding.append(group_id)
        return granting, excluding

    def is_administration_group(self, group_id: int) -> bool:
        return self.enabled(group_id) and self.group_has(group_id, WILDCARD, WILDCARD)


# -- set-based queries over the membership table --------------------------------------------


def _holds(config: _Config, user_id: Any, module: str, function: str) -> ColumnBase | None:
    """An SQL condition: the user ``user_id`` (a column) holds ``module/function`` (SPEC §2).

    They do when one of their groups grants it and none excludes it exactly; ``None`` when no
    enabled group grants it at all.
    """
    granting, excluding = config.holders(module, function)
    if not granting:
        return None
    granted, excluded = GroupUser.alias(), GroupUser.alias()
    condition: ColumnBase = fn.EXISTS(
        granted.select(SQL("1")).where(
            (granted.user_id == user_id) & granted.group_id.in_(granting)
        )
    )
    if excluding:
        condition &= ~fn.EXISTS(
            excluded.select(SQL("1")).where(
                (excluded.user_id == user_id) & excluded.group_id.in_(excluding)
            )
        )
    return condition


def _members_holding(
    targets: Iterable[int],
    config: _Config,
    wanted: Sequence[tuple[str, str]],
    *,
    unless: tuple[str, str] | None = None,
) -> dict[int, int]:
    """For each target group, how many members hold one of ``wanted`` (and not ``unless``).

    One aggregate query over the targets' memberships, whatever the number of users.
    """
    targets = sorted(set(targets))
    member = GroupUser.alias("m")
    holding = [c for m, f in wanted if (c := _holds(config, member.user_id, m, f)) is not None]
    if not targets or not holding:
        return {}
    condition = member.group_id.in_(targets) & reduce(operator.or_, holding)
    if unless is not None:
        other = _holds(config, member.user_id, *unless)
        if other is not None:
            condition &= ~other
    query = (
        member.select(member.group_id, fn.COUNT(fn.DISTINCT(member.user_id)))
        .where(condition)
        .group_by(member.group_id)
    )
    return dict(tuple_rows(query))


def _shared_members(first: Iterable[int], second: Iterable[int]) -> dict[tuple[int, int], int]:
    """Users in both groups, for each pair (a in ``first``, b in ``second``, a != b): one query.

    When both sides are the same set only pairs with a < b are counted (half the join).
    """
    first, second = sorted(set(first)), sorted(set(second))
    if not first or not second:
        return {}
    a, b = GroupUser.alias("a"), GroupUser.alias("b")
    other = b.group_id > a.group_id if first == second else b.group_id != a.group_id
    query = (
        a.select(a.group_id, b.group_id, fn.COUNT(fn.DISTINCT(a.user_id)))
        .join(b, on=((b.user_id == a.user_id) & other))
        .where(a.group_id.in_(first) & b.group_id.in_(second))
        .group_by(a.group_id, b.group_id)
    )
    return {(x, y): n for x, y, n in tuple_rows(query)}


# -- wording helpers -------------------------------------------------------------------------


def _quoted(names: Iterable[str]) -> str:
    items = [f"'{n}'" for n in names]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _keys_text(keys: Sequence[tuple[str, str]]) -> str:
    shown = ", ".join(f"{m}/{f}" for m, f in keys[:MAX_FUNCTIONS_NAMED])
    more = len(keys) - MAX_FUNCTIONS_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def _members_text(count: int) -> str:
    return f"{count} member" + ("" if count == 1 else "s")


def _how_many(part: int, total: int) -> str:
    """'its only member', 'all 3 of its members', '2 of its 5 members'."""
    if total == 1:
        return "its only member"
    if part == total:
        return f"all {total} of its members"
    return f"{part} of its {total} members"


def _how_granted(rows: Sequence[PolicyRow]) -> str:
    """'role 'Managers' (lhuser/*)' for the rows giving a function."""
    by_role: dict[str, list[str]] = {}
    for row in rows:
        by_role.setdefault(row.role_name, [])
        key = f"{row.module}/{row.function}"
        if key not in by_role[row.role_name]:
            by_role[row.role_name].append(key)
    return ", ".join(f"role '{role}' ({', '.join(keys)})" for role, keys in by_role.items())


def _gives_all_groups(config: _Config, group_id: int) -> str:
    return _how_granted(config.granting_rows(group_id, "lhuser", "editusergroupall"))


def _role_refs(config: _Config, rows: Iterable[PolicyRow]) -> list[ObjectRef]:
    return [config.role(r) for r in sorted({row.role_id for row in rows})]


def _all_groups_role_refs(config: _Config, groups: Iterable[int]) -> list[ObjectRef]:
    """The roles through which ``groups`` give ``lhuser/editusergroupall`` (every group)."""
    rows = [r for g in groups for r in config.granting_rows(g, "lhuser", "editusergroupall")]
    return _role_refs(config, rows)


# -- the rules ----------------------------------------------------------------------------------


def _work_with_moot(config: _Config) -> list[Finding]:
    """A work-with list means nothing to members who hold ``lhuser/editusergroupall``.

    With that function (through ``lhuser/*``, ``*/*`` or by name) every group is usable and
    assignable (SPEC §3), so the list (and its ``-1`` flag) limits nobody who holds it. Checked
    three ways: the group's own roles give it (moot for every member, present and future); some
    members get it from another group (counted in SQL); the group has no members yet, and other
    groups give it (its list will be moot for anyone added from them).
    """
    listing: dict[int, list[int]] = {}
    for _, group_id, target in config.work:
        if group_id in config.groups and (target == -1 or target in config.groups):
            listing.setdefault(group_id, []).append(target)
    if not listing:
        return []
    granting, excluding = config.holders("lhuser", "editusergroupall")
    findings: list[Finding] = []
    others: list[int] = []
    for group_id in sorted(listing):
        own_rows = config.granting_rows(group_id, "lhuser", "editusergroupall")
        if own_rows and config.group_has(group_id, "lhuser", "editusergroupall"):
            name = config.groups[group_id].name
            findings.append(
                Finding(
                    "work-with-moot",
                    MEDIUM,
                    (config.group(group_id), *_role_refs(config, own_rows)),
                    f"Group '{name}' has a work-with list, but its own {_how_granted(own_rows)} "
                    "gives lhuser/editusergroupall: its members use and hand out every group, so "
                    "the list limits none of them.",
                    f"If members of '{name}' should only work with the listed groups, take "
                    "lhuser/editusergroupall (or lhuser/*) out of that role and grant the lhuser "
                    "functions they need one by one; otherwise drop the list, which only "
                    "misleads.",
                )
            )
        else:
            others.append(group_id)
    holding = _members_holding(others, config, [("lhuser", "editusergroupall")])
    shared = _shared_members(others, set(granting) - set(excluding))
    outside_admin = [g for g in granting if g not in excluding]
    for group_id in others:
        name = config.groups[group_id].name
        total = config.members(group_id)
        through = sorted(g for (w, g), n in shared.items() if w == group_id and n)
        moot_for = holding.get(group_id, 0)
        if total and moot_for:
            plain = [g for g in through if not config.is_administration_group(g)]
            sources = "; ".join(
                f"'{config.groups[g].name}' by {_gives_all_groups(config, g)}" for g in through
            )
            findings.append(
                Finding(
                    "work-with-moot",
                    MEDIUM if plain else LOW,
                    (
                        config.group(group_id),
                        *[config.group(g) for g in through],
                        *_all_groups_role_refs(config, through),
                    ),
                    f"The work-with list of '{name}' has no effect for "
                    f"{_how_many(moot_for, total)}: they also belong to {sources}, which gives "
                    "lhuser/editusergroupall, so they use and hand out every group whatever the "
                    "list says.",
                    f"Decide which is meant: if they should be limited to the list of '{name}', "
                    "replace lhuser/* (or editusergroupall) in that role by the lhuser functions "
                    "they need; if not, the list only misleads whoever reads it.",
                )
            )
        elif not total:
            candidates = [g for g in outside_admin if not config.is_administration_group(g)]
            if not candidates:
                continue
            sources = "; ".join(
                f"'{config.groups[g].name}' ({_gives_all_groups(config, g)})" for g in candidates
            )
            findings.append(
                Finding(
                    "work-with-moot",
                    INFO,
                    (
                        config.group(group_id),
                        *[config.group(g) for g in candidates],
                        *_all_groups_role_refs(config, candidates),
                    ),
                    f"Group '{name}' has a work-with list but no members yet. Anyone added to it "
                    f"who is also in {sources} holds lhuser/editusergroupall, and for them the "
                    "list will have no effect.",
                    f"Before adding members of those groups to '{name}', decide whether they "
                    "should be limited to its list; if so, replace lhuser/* (or "
                    "editusergroupall) by the lhuser functions they need.",
                )
            )
    return findings


def _privilege_path(config: _Config) -> list[Finding]:
    """Members of A can put accounts into B; B's roles give functions A's roles do not.

    Working with B lets A's members create a user in B (whose password they set) or add B to a
    user they edit, so B's extra functions are one step away. The comparison is between the two
    groups' own roles, which is what an administrator changes; the severity uses the members:
    the path is open when some member of A holds ``lhuser/createuser`` or ``lhuser/edituser``.
    Groups whose own roles give ``editusergroupall`` are left to ``work-with-moot``.
    """
    pairs: list[tuple[int, int, list[tuple[str, str]]]] = []
    for _, group_id, target in config.work:
        if target <= 0 or target == group_id:
            continue
        if group_id not in config.groups or not config.enabled(target):
            continue
        if config.group_has(group_id, "lhuser", "editusergroupall"):
            continue
        if config.is_administration_group(group_id):
            continue
        extra = [
            key
            for key in sorted(config.grant_keys[target])
            if config.group_has(target, *key) and not config.group_has(group_id, *key)
        ]
        if extra and (group_id, target) not in {(a, b) for a, b, _ in pairs}:
            pairs.append((group_id, target, extra))
    if not pairs:
        return []
    sources = {a for a, _, _ in pairs}
    # Members with editusergroupall reach every group anyway: the list opens nothing for them.
    able = _members_holding(
        sources,
        config,
        [("lhuser", "createuser"), ("lhuser", "edituser")],
        unless=("lhuser", "editusergroupall"),
    )
    findings = []
    for group_id, target, extra in pairs:
        name, other = config.groups[group_id].name, config.groups[target].name
        open_path = bool(able.get(group_id))
        powerful = [k for k in extra if k in POWERFUL]
        severity = (HIGH if powerful else MEDIUM) if open_path else LOW
        ordered = powerful + [k for k in extra if k not in POWERFUL]
        roles = [
            config.role(r)
            for r in config.group_roles.get(target, [])
            if any(
                row.role_id == r and (row.module, row.function) in extra and not row.is_exclusion
                for row in config.permissions[target].rows
            )
        ]
        who = (
            "Some of its members can create or edit users and are held to this list"
            if open_path
            else "No member uses this list to create or edit users today (none can, or they "
            "may use every group anyway), but anyone who gets lhuser/createuser or "
            "lhuser/edituser without editusergroupall can"
        )
        findings.append(
            Finding(
                "privilege-path",
                severity,
                (config.group(group_id), config.group(target), *roles),
                f"Group '{name}' works with '{other}', whose roles give {len(extra)} "
                f"function(s) the roles of '{name}' do not: {_keys_text(ordered)}. {who}: by "
                f"putting an account into '{other}' (a new one whose password they choose, or "
                "one they edit) they reach those functions. LHC's back office allows it.",
                f"If members of '{name}' should not hold these functions, take '{other}' off "
                f"the work-with list of '{name}' or move the extra functions out of the roles "
                f"of '{other}'; if they may, grant them to '{name}' so the list shows it.",
            )
        )
    return findings


def _self_assign_departments(config: _Config) -> list[Finding]:
    """``lhuser/editdepartaments`` lets a member add any department to their own account in
    LHC's back office (its form checks the list, its endpoint does not), and so read its chats.

    Groups whose roles also give both ``assign_all_department_*`` functions (or ``*/*``) could
    assign every department anyway; they are not reported.
    """
    findings = []
    for group_id in sorted(config.groups):
        if not config.enabled(group_id) or not config.group_has(
            group_id, "lhuser", "editdepartaments"
        ):
            continue
        if config.group_has(group_id, WILDCARD, WILDCARD) or (
            config.group_has(group_id, "lhuser", "assign_all_department_group")
            and config.group_has(group_id, "lhuser", "assign_all_department_individual")
        ):
            continue
        rows = config.granting_rows(group_id, "lhuser", "editdepartaments")
        name, members = config.groups[group_id].name, config.members(group_id)
        findings.append(
            Finding(
                "self-assign-departments",
                HIGH if members else MEDIUM,
                (config.group(group_id), *_role_refs(config, rows)),
                f"Members of '{name}' ({_members_text(members)}) get lhuser/editdepartaments "
                f"from {_how_granted(rows)}. In LHC's back office that lets each of them add any "
                "department or department group to their own account, and so read every "
                "department's chats. The console limits them to their assignable departments; "
                "LHC does not.",
                "Remove lhuser/editdepartaments from the role if members need not change their "
                "own departments (a team leader or manager with lhuser/edituser can assign them); "
                "keep it only for people trusted with every department.",
            )
        )
    return findings


def _editgroup_attaches_roles(config: _Config) -> list[Finding]:
    """``lhuser/editgroup`` alone lets LHC's back office attach any role to a group.

    The console asks for ``lhpermission/edit`` too (SPEC §3.1); LHC does not, so a member can
    attach a stronger role (the administrators' one) to a group they are in.
    """
    findings = []
    for group_id in sorted(config.groups):
        if not config.enabled(group_id) or config.group_has(group_id, WILDCARD, WILDCARD):
            continue
        if not config.group_has(group_id, "lhuser", "editgroup"):
            continue
        if config.group_has(group_id, "lhpermission", "edit"):
            continue
        rows = config.granting_rows(group_id, "lhuser", "editgroup")
        name, members = config.groups[group_id].name, config.members(group_id)
        findings.append(
            Finding(
                "editgroup-attaches-roles",
                HIGH if members else MEDIUM,
                (config.group(group_id), *_role_refs(config, rows)),
                f"Members of '{name}' ({_members_text(members)}) get lhuser/editgroup from "
                f"{_how_granted(rows)} but not lhpermission/edit. LHC's back office lets group "
                "editors attach any role to any group, including their own, so they can give "
                "themselves any role (the administrators' one too). The console refuses it "
                "without lhpermission/edit.",
                "If they should not manage roles, replace lhuser/* (or editgroup) by the lhuser "
                "functions they need; if they should, grant lhpermission/edit openly so the "
                "roles say what they can do.",
            )
        )
    return findings


def _role_without_group(config: _Config) -> list[Finding]:
    """A role no group carries gives nothing to anyone: often a leftover, or a forgotten step."""
    findings = []
    for role_id, name in config.roles.items():
        if config.role_groups.get(role_id):
            continue
        count = sum(1 for row in config.rows if row.role_id == role_id)
        findings.append(
            Finding(
                "role-without-group",
                LOW,
                (config.role(role_id),),
                f"Role '{name}' ({count} polic{'y' if count == 1 else 'ies'}) is attached to no "
                "group, so it gives nothing to anyone. Attaching it later grants all of it at "
                "once.",
                f"Attach '{name}' to the group meant to have it, or delete it if it is a leftover.",
            )
        )
    return findings


def _disabled_group_members(config: _Config) -> list[Finding]:
    """A disabled group gives nothing, but its members and work-with list stay.

    Members may believe they hold its roles; enabling it hands them every one at once; and its
    work-with list still widens what its members reach (SPEC §3: disabled groups count).
    """
    findings = []
    for group_id, info in config.groups.items():
        members = config.members(group_id)
        if not info.disabled or not members:
            continue
        admin = any(  # its rows, though they give nothing while it is disabled
            r.module == WILDCARD and r.function == WILDCARD and not r.is_exclusion
            for r in config.permissions[group_id].rows
        )
        listing = any(g == group_id and t > 0 for _, g, t in config.work)
        findings.append(
            Finding(
                "disabled-group-members",
                MEDIUM if admin else LOW,
                (config.group(group_id),),
                f"Group '{info.name}' is disabled but still has {_members_text(members)}. Its "
                "roles give them nothing now, yet enabling it grants them all again"
                + (" (including */*: they become administrators)" if admin else "")
                + (", and its work-with list still counts for them." if listing else "."),
                f"Remove the members from '{info.name}' if the group is retired (or delete it); "
                "if it is only paused, note why, so nobody enables it by surprise.",
            )
        )
    return findings


def _canonical(text: str) -> str:
    """A limitation as one comparable string ('' for none): same meaning, same string."""
    merged = merge([parse_stored(text)])
    return "" if merged is None else json.dumps(merged, sort_keys=True, ensure_ascii=False)


def _limitation_row_order(config: _Config) -> list[Finding]:
    """Several grant rows for one exact ``module/function`` with different limitations.

    LHC keeps one limitation per exact key, whichever row the database returns last, so such a
    user's limitation in LHC depends on row order (the console unites them, SPEC §2). It happens
    inside one role, between roles of one group, or between groups a user is in at once; the
    last case is counted in SQL (users in both groups).
    """
    per_key: dict[tuple[str, str], dict[int, set[str]]] = {}  # key -> group -> limitations
    role_values: dict[tuple[str, str], dict[int, set[str]]] = {}  # key -> role -> limitations
    for row in config.rows:
        if row.type != GRANT:
            continue
        role_values.setdefault(row.key, {}).setdefault(row.role_id, set()).add(
            _canonical(row.limitation)
        )
    for key, by_role in role_values.items():
        values = set().union(*by_role.values())
        if len(values) < 2:
            continue
        for role_id, role_set in by_role.items():
            for group_id in config.role_groups.get(role_id, []):
                if config.enabled(group_id):
                    per_key.setdefault(key, {}).setdefault(group_id, set()).update(role_set)
    candidates = {g for groups in per_key.values() for g in groups}
    shared = _shared_members(candidates, candidates)
    findings = []
    for key in sorted(role_values):
        by_role = role_values[key]
        values = set().union(*by_role.values())
        if len(values) < 2:
            continue
        groups = per_key.get(key, {})
        inside = sorted(g for g, v in groups.items() if len(v) > 1)
        across = sorted(
            (a, b, shared[(a, b)])
            for a in groups
            for b in groups
            if a < b and shared.get((a, b)) and len(groups[a] | groups[b]) > 1
        )
        latent_roles = sorted(
            r for r, v in by_role.items() if len(v) > 1 and not config.role_groups.get(r)
        )
        affected = sum(config.members(g) for g in inside) + sum(n for _, _, n in across)
        if not (inside or across or latent_roles):
            continue
        involved_groups = sorted(
            set(inside) | {a for a, _, _ in across} | {b for _, b, _ in across}
        )
        involved_roles = sorted(
            r
            for r in by_role
            if r in latent_roles or any(g in involved_groups for g in config.role_groups.get(r, []))
        )
        shown = sorted(values, key=lambda v: (v != "", v))
        limits = ", ".join(v if v else "(none)" for v in shown)
        where = []
        if inside:
            where.append(
                "within "
                + ", ".join(
                    f"group '{config.groups[g].name}' ({_members_text(config.members(g))})"
                    for g in inside
                )
            )
        if across:
            where.append(
                ", ".join(
                    f"users in both '{config.groups[a].name}' and '{config.groups[b].name}' ({n})"
                    for a, b, n in across
                )
            )
        if latent_roles:
            where.append(
                "role "
                + _quoted(config.roles[r] for r in latent_roles)
                + " on its own (attached to no group yet)"
            )
        module, function = key
        findings.append(
            Finding(
                "limitation-row-order",
                MEDIUM if affected else LOW,
                (
                    *[config.group(g) for g in involved_groups],
                    *[config.role(r) for r in involved_roles],
                ),
                f"{module}/{function} is granted by several rows with different limitations "
                f"({limits}): {'; '.join(where)}. LHC keeps one of them, whichever row the "
                "database returns last, so what these users may do in LHC depends on row order "
                "(the console merges them).",
                f"Give every row granting {module}/{function} to the same people the same "
                "limitation, or keep a single row with the limitation you mean.",
            )
        )
    return findings


def _unreadable_limitation(config: _Config) -> list[Finding]:
    """A policy row whose limitation is not a JSON object the console reads: not JSON, not an
    object, longer than LHC's column or nested deeper than ``bounded_json.MAX_DEPTH``. The
    console keeps it as text (``limitations.UNPARSED_KEY``), so nobody can tell from either
    program what it limits. The message names why, never the text itself (it may be huge)."""
    findings = []
    for row in config.rows:
        reason = unreadable_reason(row.limitation)
        if reason is None:
            continue
        kind = "exclusion" if row.type == EXCLUDE else "grant"
        objects = (
            config.role(row.role_id),
            ObjectRef("policy", row.id, f"{row.module}/{row.function} ({kind})"),
            *[config.group(g) for g in config.role_groups.get(row.role_id, [])],
        )
        findings.append(
            Finding(
                "unreadable-limitation",
                MEDIUM,
                objects,
                f"Role '{config.roles.get(row.role_id, row.role_id)}' has the {kind} "
                f"{row.module}/{row.function} with a limitation that {reason}. The console "
                f'keeps it as text (the key "{UNPARSED_KEY}") and LHC reads limitations as JSON, '
                "so neither shows what it was meant to limit.",
                'Replace it with a JSON object such as {"group":[2]} (remove the policy and add '
                "it again with the limitation), or remove the limitation.",
            )
        )
    return findings


def _wildcard_exclusion(config: _Config) -> list[Finding]:
    """Exclusion rows with ``*`` look like they take a whole module away; LHC compares
    exclusions with the exact function being checked, so they take away almost nothing."""
    findings = []
    for row in config.rows:
        if row.type != EXCLUDE or WILDCARD not in (row.module, row.function):
            continue
        role = config.roles.get(row.role_id)
        groups = config.role_groups.get(row.role_id, [])
        objects = (
            config.role(row.role_id),
            ObjectRef("policy", row.id, f"{row.module}/{row.function} (exclude)"),
            *[config.group(g) for g in groups],
        )
        if row.module == WILDCARD and row.function == WILDCARD:
            effect = (
                "only stops members counting as administrators; every function a grant gives "
                "them stays granted"
            )
        elif row.function == WILDCARD:
            effect = (
                f"takes away none of {row.module}'s functions (each is checked by its own "
                f"name); only a check of {row.module}/* itself is affected"
            )
        else:
            effect = "matches only a function literally named '*', so it takes nothing away"
        findings.append(
            Finding(
                "wildcard-exclusion",
                MEDIUM,
                objects,
                f"Role '{role or row.role_id}' has the exclusion {row.module}/{row.function}. "
                f"LHC matches exclusions literally, so it {effect}.",
                "Exclude the functions one by one (module/function), or remove the grant that "
                "gives them instead of excluding them.",
            )
        )
    return findings


def _see_all_not_chat_separation(config: _Config) -> list[Finding]:
    """``lhdepartment/see_all`` with a limitation (``{"group":[1]}``) looks like it keeps
    members to some departments; in LHC it only shapes department pickers and statistics
    (SPEC §4). Chats are read through ``lh_userdep``. The members who read chats outside the
    limited department groups right now are counted in SQL."""
    dep_groups = {
        d.id: d.name for d in DepartmentGroup.select(DepartmentGroup.id, DepartmentGroup.name)
    }
    per_role: dict[int, list[_Row]] = {}
    for row in config.rows:
        if (
            row.type == GRANT
            and row.key == ("lhdepartment", "see_all")
            and parse_stored(row.limitation)
        ):
            per_role.setdefault(row.role_id, []).append(row)
    findings = []
    for role_id in sorted(per_role):
        limitation = merge(parse_stored(r.limitation) for r in per_role[role_id]) or {}
        text = json.dumps(limitation, separators=(",", ":"), ensure_ascii=False)
        group_ids = sorted(
            {
                int(v)
                for v in limitation.get("group", [])
                if validation.is_id_text(str(v).removeprefix("-"))
                and abs(int(v)) <= validation.MAX_ID  # ASCII digits only: int() takes others
            }
        )
        named = _quoted(dep_groups.get(g, f"#{g} (missing)") for g in group_ids)
        carrying = [g for g in config.role_groups.get(role_id, []) if config.enabled(g)]
        role = config.roles.get(role_id, f"#{role_id}")
        outside = _readers_outside(carrying, group_ids) if carrying and group_ids else 0
        where = f" department group(s) {named}" if group_ids else " the limited departments"
        message = (
            f"Role '{role}' grants lhdepartment/see_all limited to {text}. That limitation only "
            "narrows department lists and statistics; which chats someone reads comes from "
            "their assigned departments and department groups, so it does not keep "
            + (
                "members of " + _quoted(config.groups[g].name for g in carrying)
                if carrying
                else "anyone"
            )
            + f" out of chats beyond{where}."
        )
        if outside:
            message += f" Right now {outside} of them read chats outside{where}."
        findings.append(
            Finding(
                "see-all-not-chat-separation",
                MEDIUM if outside else INFO,
                (config.role(role_id), *[config.group(g) for g in carrying]),
                message,
                "Separate chats by assigning departments or department groups (read-only "
                "where needed) and check with the chat access explorer or "
                "'lhc-console access USER'; keep the see_all limitation for what it does, "
                "pickers and statistics.",
            )
        )
    return findings


def _readers_outside(groups: list[int], dep_group_ids: list[int]) -> int:
    """Enabled members of ``groups`` who read a department outside ``dep_group_ids`` (SPEC §4)."""
    allowed = sorted(
        {
            dep_id
            for (dep_id,) in tuple_rows(
                DepartmentGroupMember.select(DepartmentGroupMember.dep_id).where(
                    DepartmentGroupMember.dep_group_id.in_(dep_group_ids)
                )
            )
        }
    )
    members = GroupUser.select(GroupUser.user_id).where(GroupUser.group_id.in_(groups))
    beyond = UserDep.dep_id != NOT_ALL_PLACEHOLDER
    if allowed:
        beyond &= (UserDep.dep_id == ALL_DEPARTMENTS) | UserDep.dep_id.not_in(allowed)
    rows = UserDep.select(SQL("1")).where((UserDep.user_id == User.id) & beyond)
    return (
        User.select(fn.COUNT(User.id))
        .where(
            User.id.in_(members)
            & (User.disabled == 0)
            & ((User.all_departments != 0) | fn.EXISTS(rows))
        )
        .scalar()
        or 0
    )


def _orphan_group_work(config: _Config) -> list[Finding]:
    """``lh_group_work`` rows naming a group that no longer exists (or an id no group can have)
    do nothing today, and start doing something if a group gets that id again."""
    findings = []
    for row_id, group_id, target in config.work:
        owner_missing = group_id not in config.groups
        target_missing = target > 0 and target not in config.groups
        invalid = target == 0 or target < -1
        if not (owner_missing or target_missing or invalid):
            continue
        owner = config.group(group_id).name
        goal = "itself (-1 flag)" if target == -1 else config.group(target).name
        problems = []
        if owner_missing:
            problems.append(f"group #{group_id} does not exist")
        if target_missing:
            problems.append(f"group #{target} does not exist")
        if invalid:
            problems.append(f"{target} is not a group id (only -1 has a meaning)")
        objects = [ObjectRef("group_work", row_id, f"{owner} → {goal}")]
        objects += [config.group(g) for g in (group_id, target) if g in config.groups]
        findings.append(
            Finding(
                "orphan-group-work",
                LOW,
                tuple(objects),
                f"Work-with row #{row_id} ({owner} → {goal}) points nowhere: "
                + "; ".join(problems)
                + ". It does nothing now, but would apply to a group created later with that id.",
                "Delete the row (editing the group's work-with list in the console rewrites them).",
            )
        )
    return findings


def _login_name_clash(config: _Config) -> list[Finding]:
    """A username that is another account's e-mail (case-insensitively): login by it names two
    accounts, so the console refuses it; before that, one account's failed logins counted
    against the other. The console refuses to create such clashes; older data may hold them.
    Then the usernames that only look the same as another account's e-mail
    (``_lookalike_login_names``).

    One aggregate over every username and e-mail (grouped, lower-cased), never a loop over
    users; the accounts are then read for the few clashing identifiers only.
    """
    exact = _exact_login_name_clashes()
    reported = {frozenset(o.id for o in finding.objects) for finding in exact}
    return exact + _lookalike_login_names(reported)


def _exact_login_name_clashes() -> list[Finding]:
    """``_login_name_clash``'s identical (case aside) usernames and e-mails."""
    usernames = User.select(
        User.id.alias("uid"), fn.LOWER(User.username).alias("login"), SQL("0").alias("kind")
    )
    emails = User.select(
        User.id.alias("uid"), fn.LOWER(User.email).alias("login"), SQL("1").alias("kind")
    ).where(User.email != "")
    logins = (usernames + emails).alias("logins")  # UNION ALL
    # A login shared by two accounts, at least one of them by username and one by e-mail.
    clashing = (
        Select([logins], [logins.c.login])
        .group_by(logins.c.login)
        .having(
            (fn.COUNT(fn.DISTINCT(logins.c.uid)) > 1)
            & (fn.MIN(logins.c.kind) == 0)
            & (fn.MAX(logins.c.kind) == 1)
        )
    )
    found = sorted(login for (login,) in clashing.bind(database_proxy).tuples())
    if not found:
        return []
    listed = found[:MAX_LISTED]
    more = (
        f" ({len(found)} logins clash in all; the first {len(listed)} are listed)"
        if len(found) > len(listed)
        else ""
    )
    # Who holds each listed login, as the database lower-cases it (no second reading here).
    holders = Select([logins], [logins.c.login, logins.c.uid, logins.c.kind]).where(
        logins.c.login.in_(listed)
    )
    by_login: dict[str, tuple[set[int], set[int]]] = {login: (set(), set()) for login in listed}
    for login, user_id, kind in holders.bind(database_proxy).tuples():
        if login in by_login:
            by_login[login][int(kind)].add(user_id)
    involved = sorted({u for pair in by_login.values() for side in pair for u in side})
    names: dict[int, str] = dict(
        tuple_rows(User.select(User.id, User.username).where(User.id.in_(involved)))
    )
    findings = []
    for login in listed:
        by_name, by_email = by_login[login]
        named = _quoted(names.get(u, f"#{u}") for u in sorted(by_name))
        mailed = _quoted(names.get(u, f"#{u}") for u in sorted(by_email))
        findings.append(
            Finding(
                "login-name-clash",
                MEDIUM,
                tuple(
                    ObjectRef("user", u, names.get(u, f"#{u}")) for u in sorted(by_name | by_email)
                ),
                f"'{login}' is the username of {named} and the e-mail of {mailed}{more}. "
                "Logging in with it can name two accounts, which the console refuses rather "
                "than guess: whoever logs in with it may be turned away, and an account named "
                "after another's e-mail may have been made to catch that person's logins.",
                "Change the username or the e-mail of one of the accounts, so that no username "
                "is another account's e-mail (the console refuses new clashes).",
            )
        )
    return findings


def _lookalike_login_names(reported: set[frozenset[int]]) -> list[Finding]:
    """A username that looks the same as another account's e-mail without being it
    (``validation.skeleton``: ``adm\u0456n@example.com``, with a Cyrillic i, for admin's
    address); pairs of accounts the exact comparison ``reported`` are left out.
    ``lookup.lookalike_logins`` reads only the usernames and e-mails that are not plain ASCII,
    so this loops over those only."""
    pairs = [
        pair
        for pair in lookup.lookalike_logins()
        if not any({pair[0][0], pair[1][0]} <= accounts for accounts in reported)
    ]
    more = (
        f" ({len(pairs)} usernames look like another account's e-mail in all; the first "
        f"{MAX_LISTED} are listed)"
        if len(pairs) > MAX_LISTED
        else ""
    )
    involved = sorted({user_id for pair in pairs[:MAX_LISTED] for user_id, _ in pair})
    names: dict[int, str] = dict(
        tuple_rows(User.select(User.id, User.username).where(User.id.in_(involved)))
    )
    findings = []
    for (user_id, username), (other_id, email) in pairs[:MAX_LISTED]:
        findings.append(
            Finding(
                "login-name-clash",
                MEDIUM,
                (
                    ObjectRef("user", user_id, username),
                    ObjectRef("user", other_id, names.get(other_id, f"#{other_id}")),
                ),
                f"The username '{username}' of #{user_id} looks the same as the e-mail "
                f"'{email}' of '{names.get(other_id, f'#{other_id}')}' (#{other_id}) but is "
                f"a different account ({username!a} and {email!a}){more}. Whoever reads a "
                "login, a list or an audit row can take one account for the other, which is "
                "how an account is made to pass for someone else's.",
                "Rename the account (or change the other's e-mail) so that no username reads "
                "like another account's e-mail (the console refuses new ones).",
            )
        )
    return findings


def _lookalike_usernames(config: _Config) -> list[Finding]:
    """Accounts whose usernames look the same (``validation.skeleton``: case, compatibility
    forms, letters of other scripts drawn like Latin ones, invisible characters, spacing):
    ``admin`` and the same word with a Cyrillic A. The console refuses new ones; older data or an
    import may hold them.

    ``lookup.lookalike_usernames`` groups the plain ASCII usernames in SQL and reads only the
    others (other scripts, odd spacing), so this rule loops over those usernames only.
    """
    sets = lookup.lookalike_usernames()
    more = (
        f" ({len(sets)} sets of lookalike usernames in all; the first {MAX_LISTED} are listed)"
        if len(sets) > MAX_LISTED
        else ""
    )
    findings = []
    for accounts in sets[:MAX_LISTED]:
        shown = _quoted(name for _, name in accounts)
        spelled = "; ".join(f"#{user_id} is {name!a}" for user_id, name in accounts)
        findings.append(
            Finding(
                "lookalike-usernames",
                MEDIUM,
                tuple(ObjectRef("user", user_id, name) for user_id, name in accounts),
                f"The usernames {shown} look the same on screen but are different accounts "
                f"({spelled}){more}. Whoever reads a list, an audit row or a chat transcript "
                "can take one for the other, which is how an account is made to pass for "
                "someone else's.",
                "Rename all but one of them so that each reads differently (the console "
                "refuses new lookalikes).",
            )
        )
    return findings


def _user_without_group(config: _Config) -> list[Finding]:
    """Accounts in no (existing) group hold no permissions and are out of every team leader's
    reach; usually a half-finished or half-removed account. Counted in SQL."""
    membership = (
        GroupUser.select(SQL("1"))
        .join(Group, on=(Group.id == GroupUser.group_id))
        .where(GroupUser.user_id == User.id)
    )
    lonely = ~fn.EXISTS(membership)
    total, listed, shown = _first_matching(User, User.username, lonely, "user")
    if not total:
        return []
    enabled = User.select(fn.COUNT(User.id)).where(lonely & (User.disabled == 0)).scalar() or 0
    return [
        Finding(
            "user-without-group",
            LOW if enabled else INFO,
            tuple(listed),
            f"{total} user(s) belong to no group ({enabled} of them enabled){shown}. They hold "
            "no permissions, and only holders of lhuser/see_all see them, so no team leader "
            "looks after them.",
            "Add each to the group it belongs in (at least one required group), or disable or "
            "delete accounts that are no longer used.",
        )
    ]


def _first_matching(
    model: Any, name: Any, condition: Any, kind: str
) -> tuple[int, list[ObjectRef], str]:
    """How many rows match, the first ``MAX_LISTED`` of them, and the message's note on that.

    Counted in SQL and listed up to a bound, so a finding about 100,000 users stays small.
    """
    total = model.select(fn.COUNT(model.id)).where(condition).scalar() or 0
    if not total:
        return 0, [], ""
    listed = [
        ObjectRef(kind, row_id, row_name)
        for row_id, row_name in model.select(model.id, name)
        .where(condition)
        .order_by(model.id)
        .limit(MAX_LISTED)
        .tuples()
    ]
    shown = f" (the first {len(listed)} are listed)" if total > len(listed) else ""
    return total, listed, shown


def _department_without_group(config: _Config) -> list[Finding]:
    """A department in no department group is reached only by direct assignment or "all
    departments"; teams built from department groups never see its chats."""
    grouped = (
        DepartmentGroupMember.select(SQL("1"))
        .join(DepartmentGroup, on=(DepartmentGroup.id == DepartmentGroupMember.dep_group_id))
        .where(DepartmentGroupMember.dep_id == Department.id)
    )
    lonely = ~fn.EXISTS(grouped)
    total, listed, shown = _first_matching(Department, Department.name, lonely, "department")
    if not total:
        return []
    return [
        Finding(
            "department-without-group",
            INFO,
            tuple(listed),
            f"{total} department(s) belong to no department group{shown}. Only users assigned "
            "to them one by one (or to all departments) read their chats; whoever manages by "
            "department group will miss them.",
            "Add each department to the department group of the team that answers its chats, "
            "or assign it individually on purpose.",
        )
    ]


# -- the service screens call ------------------------------------------------------------------


class RiskService:
    """``session.risk``: the report, for actors who may read roles (``lhpermission/list``).

    The report names every group, role and policy, which is what ``lhpermission/list`` already
    shows, so that is the permission it needs; the check is here, not only in the menu.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def report(self) -> RiskReport:
        """Every finding now, or a ``ScopeError`` without ``lhpermission/list``."""
        with self._session.reading() as ctx:
            ctx.refuse_if("see the risk report", rules.refusal_to_see_risk_report(ctx))
            return risk_report()
