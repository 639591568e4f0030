"""A second, independent reading of SPEC §2 and §3, in plain Python over plain data.

The property tests compare the store against this module. It deliberately imports nothing from
``store`` (no models, no ``store.scope``, no ``store.permissions``): a configuration is a handful
of dataclasses, loaded either from a hypothesis strategy or from ``store.dump.all_rows()``-shaped
dictionaries (table name -> list of row dicts), so that a mistake in the store's queries cannot
be copied into the expectation.

Everything here is written from the SPEC's words; where the console adds a detail of its own
(usable groups only count groups that exist), the docstring says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

WILDCARD = "*"
GRANT = 0
EXCLUDE = 1


@dataclass(frozen=True)
class Policy:
    """One ``lh_rolefunction`` row: ``type`` 0 grants, 1 excludes."""

    module: str
    function: str
    type: int = GRANT


@dataclass(frozen=True)
class GroupSpec:
    disabled: bool = False
    required: bool = False


@dataclass(frozen=True)
class UserSpec:
    groups: frozenset[int] = frozenset()
    disabled: bool = False


@dataclass
class Config:
    """The permission-relevant content of an LHC database, as plain values.

    ``work`` holds ``lh_group_work`` rows as ``(group_id, group_work_id)`` (``-1`` flags, and
    rows pointing at groups that do not exist, included as written). ``direct_departments``
    holds the ``dep_id`` of each user's ``type=0`` ``lh_userdep`` rows (0 and -1 included).
    """

    groups: dict[int, GroupSpec] = field(default_factory=dict)
    work: list[tuple[int, int]] = field(default_factory=list)
    roles: dict[int, list[Policy]] = field(default_factory=dict)
    group_roles: set[tuple[int, int]] = field(default_factory=set)
    users: dict[int, UserSpec] = field(default_factory=dict)
    departments: set[int] = field(default_factory=set)
    department_groups: dict[int, frozenset[int]] = field(default_factory=dict)
    department_group_users: set[tuple[int, int]] = field(default_factory=set)  # (user, dg)
    direct_departments: dict[int, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Mapping[str, Iterable[Mapping[str, Any]]]) -> Config:
        """Read a configuration from LHC's tables given as row dictionaries."""
        memberships: dict[int, set[int]] = {}
        for r in rows["lh_groupuser"]:
            memberships.setdefault(r["user_id"], set()).add(r["group_id"])
        roles: dict[int, list[Policy]] = {r["id"]: [] for r in rows["lh_role"]}
        for r in rows["lh_rolefunction"]:
            roles.setdefault(r["role_id"], []).append(
                Policy(r["module"], r["function"], int(r["type"] or 0))
            )
        dep_groups: dict[int, set[int]] = {r["id"]: set() for r in rows["lh_departament_group"]}
        for r in rows["lh_departament_group_member"]:
            dep_groups.setdefault(r["dep_group_id"], set()).add(r["dep_id"])
        direct: dict[int, set[int]] = {}
        for r in rows["lh_userdep"]:
            if r["type"] == 0:
                direct.setdefault(r["user_id"], set()).add(r["dep_id"])
        return cls(
            groups={
                r["id"]: GroupSpec(bool(r["disabled"]), bool(r["required"]))
                for r in rows["lh_group"]
            },
            work=[(r["group_id"], r["group_work_id"]) for r in rows["lh_group_work"]],
            roles=roles,
            group_roles={(r["group_id"], r["role_id"]) for r in rows["lh_grouprole"]},
            users={
                r["id"]: UserSpec(frozenset(memberships.get(r["id"], ())), bool(r["disabled"]))
                for r in rows["lh_users"]
            },
            departments={r["id"] for r in rows["lh_departament"]},
            department_groups={k: frozenset(v) for k, v in dep_groups.items()},
            department_group_users={
                (r["user_id"], r["dep_group_id"]) for r in rows["lh_departament_group_user"]
            },
            direct_departments={k: frozenset(v) for k, v in direct.items()},
        )


# -- SPEC §2: effective permissions --------------------------------------------------------


def policies(config: Config, user_id: int) -> list[Policy]:
    """Every policy row of every role of every *enabled* group the user is in."""
    user = config.users.get(user_id)
    if user is None:
        return []
    out: list[Policy] = []
    for group_id in user.groups:
        group = config.groups.get(group_id)
        if group is None or group.disabled:
            continue
        for g, role_id in config.group_roles:
            if g == group_id:
                out.extend(config.roles.get(role_id, []))
    return out


def has(config: Config, user_id: int, module: str, function: str) -> bool:
    """False on an exact exclusion; else true on a ``*/*``, ``module/*`` or exact grant."""
    rows = policies(config, user_id)
    for p in rows:
        if p.type == EXCLUDE and p.module == module and p.function == function:
            return False
    for p in rows:
        if p.type != GRANT:
            continue
        if p.module == WILDCARD and p.function == WILDCARD:
            return True
        if p.module == module and p.function == WILDCARD:
            return True
        if p.module == module and p.function == function:
            return True
    return False


def is_administrator(config: Config, user_id: int) -> bool:
    return has(config, user_id, WILDCARD, WILDCARD)


def administrators(config: Config) -> set[int]:
    return {u for u in config.users if is_administrator(config, u)}


def grants_administration(config: Config, group_id: int) -> bool:
    """One of its roles has a ``*/*`` grant row, whether the group is enabled or disabled
    (enabling a disabled one makes every member an administrator at once)."""
    if group_id not in config.groups:
        return False
    for g, role_id in config.group_roles:
        if g != group_id:
            continue
        for p in config.roles.get(role_id, []):
            if p.type == GRANT and p.module == WILDCARD and p.function == WILDCARD:
                return True
    return False


def administration_groups(config: Config) -> set[int]:
    return {g for g in config.groups if grants_administration(config, g)}


def every_group_enabled(config: Config) -> Config:
    """The same configuration with no group disabled."""
    return Config(
        groups={g: GroupSpec(False, spec.required) for g, spec in config.groups.items()},
        work=config.work,
        roles=config.roles,
        group_roles=config.group_roles,
        users=config.users,
    )


def latent_administrators(config: Config) -> set[int]:
    """Users who would hold ``*/*`` if every group were enabled: a ``*/*`` grant row through
    any of their groups and a ``*/*`` exclusion through none. Only administrators make or
    touch them (§3.2.4: the day their disabled group is enabled, they are administrators)."""
    return administrators(every_group_enabled(config))


def administration_members(config: Config) -> set[int]:
    """Members of any group granting ``*/*`` (enabled or not), exclusions ignored: only
    administrators change them (an admin's routine enable, or dropping an exclusion, would
    make them administrators; a non-administrator must not hold their password then)."""
    grant_groups = {g for g in config.groups if grants_administration(config, g)}
    return {u for u, user in config.users.items() if user.groups & grant_groups}


# -- SPEC §3: scope ------------------------------------------------------------------------


def own_groups(config: Config, actor: int) -> set[int]:
    user = config.users.get(actor)
    return set(user.groups) if user else set()


def usable_groups(config: Config, actor: int) -> set[int]:
    """All groups with ``editusergroupall``; else own groups plus their positive work-with
    targets, one level deep. (Console detail: only groups that exist count.)"""
    if has(config, actor, "lhuser", "editusergroupall"):
        return set(config.groups)
    own = own_groups(config, actor)
    targets = {w for g, w in config.work if g in own and w > 0}
    return (own | targets) & set(config.groups)


def assignable_groups(config: Config, actor: int) -> set[int]:
    """U(a), minus own ``-1`` groups no *other* own group works with (without
    ``editusergroupall``), minus administration groups for non-administrators."""
    if has(config, actor, "lhuser", "editusergroupall"):
        result = set(config.groups)
    else:
        own = own_groups(config, actor)
        result = usable_groups(config, actor)
        for g in own:
            flagged = (g, -1) in config.work
            if not flagged:
                continue
            worked_with_by_other_own = any(
                src in own and src != g and dst == g for src, dst in config.work
            )
            if not worked_with_by_other_own:
                result.discard(g)
    if not is_administrator(config, actor):
        result -= administration_groups(config)
    return result


def required_groups(config: Config, actor: int) -> set[int]:
    return {g for g in assignable_groups(config, actor) if config.groups[g].required}


def visible_users(config: Config, actor: int) -> set[int]:
    """All users with ``see_all``; else the actor plus members of a usable group."""
    if has(config, actor, "lhuser", "see_all"):
        return set(config.users)
    usable = usable_groups(config, actor)
    return {actor} | {u for u, spec in config.users.items() if spec.groups & usable}


def editable_users(config: Config, actor: int) -> set[int]:
    """None without ``edituser``; else visible users with all groups usable (every visible user
    with ``editusergroupall``), minus administrators, now or latent, unless the actor is one."""
    if not has(config, actor, "lhuser", "edituser"):
        return set()
    visible = visible_users(config, actor)
    if has(config, actor, "lhuser", "editusergroupall"):
        result = set(visible)
    else:
        usable = usable_groups(config, actor)
        result = {u for u in visible if config.users[u].groups <= usable}
    if not is_administrator(config, actor):
        result -= administration_members(config)
    return result & set(config.users)


def assignable_department_groups(config: Config, actor: int) -> set[int]:
    if has(config, actor, "lhuser", "assign_all_department_group"):
        return set(config.department_groups)
    if has(config, actor, "lhuser", "assign_to_own_department_group"):
        return {dg for u, dg in config.department_group_users if u == actor}
    return set()


def assignable_departments(config: Config, actor: int) -> set[int]:
    if has(config, actor, "lhuser", "assign_all_department_individual"):
        return set(config.departments)
    if has(config, actor, "lhuser", "assign_to_own_department_individual"):
        return {d for d in config.direct_departments.get(actor, frozenset()) if d > 0}
    return set()


@dataclass(frozen=True)
class ScopeView:
    """Everything ``lhc-console scope USER --json`` reports, per the oracle."""

    usable_groups: frozenset[int]
    assignable_groups: frozenset[int]
    required_groups: frozenset[int]
    visible_users: frozenset[int]
    editable_users: frozenset[int]
    assignable_department_groups: frozenset[int]
    assignable_departments: frozenset[int]


def scope(config: Config, actor: int) -> ScopeView:
    return ScopeView(
        usable_groups=frozenset(usable_groups(config, actor)),
        assignable_groups=frozenset(assignable_groups(config, actor)),
        required_groups=frozenset(required_groups(config, actor)),
        visible_users=frozenset(visible_users(config, actor)),
        editable_users=frozenset(editable_users(config, actor)),
        assignable_department_groups=frozenset(assignable_department_groups(config, actor)),
        assignable_departments=frozenset(assignable_departments(config, actor)),
    )


# -- SPEC §3.1 / §3.2: may the actor do this? ---------------------------------------------

PROTECTED_USER_ID = 1


def may_act(config: Config, actor: int) -> bool:
    """A disabled or deleted account cannot log in, so it does nothing (SPEC §1)."""
    user = config.users.get(actor)
    return user is not None and not user.disabled


def may_edit(config: Config, actor: int, target: int, *, self_service: str | None = None) -> bool:
    """The target is editable, or it is the actor and ``self_service`` names the permission
    that lets a user do this to their own account."""
    if target in editable_users(config, actor):
        return True
    return (
        self_service is not None and target == actor and has(config, actor, "lhuser", self_service)
    )


def may_create_user(config: Config, actor: int, groups: Iterable[int]) -> bool:
    """``createuser``; at least one group, all assignable; a required group when A has any."""
    chosen = set(groups)
    if not may_act(config, actor) or not has(config, actor, "lhuser", "createuser"):
        return False
    if not chosen or not chosen <= assignable_groups(config, actor):
        return False
    required = required_groups(config, actor)
    return not required or bool(chosen & required)


def may_change_groups(
    config: Config,
    actor: int,
    target: int,
    add: Iterable[int] = (),
    remove: Iterable[int] = (),
    *,
    via_group: bool = False,
) -> bool:
    """The target is editable (self-service with ``selfedit`` from the user form), one's own
    groups need ``editusergroupall`` (§3.2.5), and every changed group is assignable. Through
    the group screen (``via_group``) it also needs ``editgroup``.

    §3.2.4, "only administrators make or touch administrators": a non-administrator may not
    make the target an administrator either. The groups that grant administration are outside
    A already, but dropping a group whose role *excludes* ``*/*`` from a member of such a group
    makes them one just as well; and dropping it while the grant comes from a disabled group
    makes them a latent administrator (an administrator once that group is enabled).
    """
    add, remove = set(add), set(remove)
    if not may_act(config, actor) or target not in config.users:
        return False
    if via_group and not has(config, actor, "lhuser", "editgroup"):
        return False
    if not may_edit(config, actor, target, self_service=None if via_group else "selfedit"):
        return False
    if target == actor and not has(config, actor, "lhuser", "editusergroupall"):
        return False
    if not (add | remove) <= assignable_groups(config, actor):
        return False
    final = (config.users[target].groups | add) - remove
    return is_administrator(config, actor) or not (
        makes_administrator(config, target, final)
        or makes_latent_administrator(config, target, final)
    )


def makes_administrator(config: Config, user: int, groups: Iterable[int]) -> bool:
    """Whether giving ``user`` exactly ``groups`` turns a non-administrator into one."""
    if is_administrator(config, user):
        return False
    changed = Config(
        groups=config.groups,
        work=config.work,
        roles=config.roles,
        group_roles=config.group_roles,
        users={**config.users, user: UserSpec(frozenset(groups), config.users[user].disabled)},
    )
    return is_administrator(changed, user)


def makes_latent_administrator(config: Config, user: int, groups: Iterable[int]) -> bool:
    """Whether giving ``user`` exactly ``groups`` turns them into a latent administrator."""
    return makes_administrator(every_group_enabled(config), user, groups)


def may_update_user(config: Config, actor: int, target: int) -> bool:
    return may_act(config, actor) and may_edit(config, actor, target, self_service="selfedit")


def may_set_disabled(config: Config, actor: int, target: int, disabled: bool) -> bool:
    if not may_act(config, actor) or target == actor:
        return False
    if target == PROTECTED_USER_ID and disabled:
        return False
    return may_edit(config, actor, target)


def may_delete_user(config: Config, actor: int, target: int) -> bool:
    if not may_act(config, actor) or not has(config, actor, "lhuser", "deleteuser"):
        return False
    if target in (actor, PROTECTED_USER_ID):
        return False
    return may_edit(config, actor, target)


def may_change_department_group(config: Config, actor: int, target: int, dep_group: int) -> bool:
    """An editable target, or oneself with ``editdepartaments``; either way only the actor's
    assignable department groups (§3.2.5)."""
    if not may_act(config, actor):
        return False
    if not may_edit(config, actor, target, self_service="editdepartaments"):
        return False
    return dep_group in assignable_department_groups(config, actor)


def may_change_department(config: Config, actor: int, target: int, department: int) -> bool:
    """The same rule for single departments (``type=0`` rows) and the assignable departments."""
    if not may_act(config, actor):
        return False
    if not may_edit(config, actor, target, self_service="editdepartaments"):
        return False
    return department in assignable_departments(config, actor)
