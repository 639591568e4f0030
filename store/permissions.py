"""The permission engine: what a user may do, computed as LHC does (SPEC §2).

A user's policies are the ``lh_rolefunction`` rows of every role of every *enabled* group they
belong to. They are read with one query per user (``load_policies``), however many groups and
roles there are, and everything else here is computed in memory from those rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .limitations import Limitation, merge, parse_stored
from .models import Group, GroupRole, GroupUser, Role, RoleFunction, dict_rows
from .schema import policy_type_column

WILDCARD = "*"
GRANT = 0
EXCLUDE = 1


@dataclass(frozen=True)
class PolicyRow:
    """One ``lh_rolefunction`` row as it reaches a user: through which group and role."""

    rolefunction_id: int
    group_id: int
    group_name: str
    group_disabled: bool
    role_id: int
    role_name: str
    module: str
    function: str
    limitation_text: str
    type: int

    @property
    def is_exclusion(self) -> bool:
        return self.type == EXCLUDE

    @property
    def limitation(self) -> Limitation | None:
        return parse_stored(self.limitation_text)

    def grants(self, module: str, function: str) -> bool:
        """A grant row covers ``*/*``, ``module/*`` or exactly ``module/function``.

        Only ``type = 0`` grants, as LHC's queries read it: a row of any other type (a value
        LHC never writes, or NULL in a hand-edited table) grants nothing here either, so that
        no check that looks for ``type = 0`` rows (``*/*`` holders) can be outflanked by it.
        """
        if self.type != GRANT:
            return False
        if self.module == WILDCARD and self.function == WILDCARD:
            return True
        return self.module == module and self.function in (WILDCARD, function)

    def excludes(self, module: str, function: str) -> bool:
        """LHC matches exclusion rows literally: only the exact ``module/function``."""
        return self.is_exclusion and self.module == module and self.function == function


def load_policies(user_id: int, *, include_disabled_groups: bool = False) -> list[PolicyRow]:
    """Every policy row reaching ``user_id``, in one query (ordered by row id for determinism)."""
    query = (
        RoleFunction.select(
            RoleFunction.id,
            RoleFunction.module,
            RoleFunction.function,
            RoleFunction.limitation,
            policy_type_column(),
            GroupUser.group_id,
            Group.name.alias("group_name"),
            Group.disabled.alias("group_disabled"),
            Role.id.alias("role_id"),
            Role.name.alias("role_name"),
        )
        .join(GroupRole, on=(GroupRole.role_id == RoleFunction.role_id))
        .join(GroupUser, on=(GroupUser.group_id == GroupRole.group_id))
        .join(Group, on=(Group.id == GroupUser.group_id))
        .join(Role, on=(Role.id == RoleFunction.role_id))
        .where(GroupUser.user_id == user_id)
        .order_by(GroupUser.group_id, Role.id, RoleFunction.id)
    )
    if not include_disabled_groups:
        query = query.where(Group.disabled == 0)
    rows = []
    seen: set[tuple[int, int]] = set()
    for r in dict_rows(query):
        key = (r["group_id"], r["id"])
        if key in seen:  # duplicate membership or group-role rows give nothing more
            continue
        seen.add(key)
        rows.append(
            PolicyRow(
                rolefunction_id=r["id"],
                group_id=r["group_id"],
                group_name=r["group_name"],
                group_disabled=bool(r["group_disabled"]),
                role_id=r["role_id"],
                role_name=r["role_name"],
                module=r["module"],
                function=r["function"],
                limitation_text=r["limitation"] or "",
                type=int(r["type"] or 0),
            )
        )
    return rows


@dataclass(frozen=True)
class PermissionEntry:
    """One distinct ``module/function`` a user's grant rows name, wildcards as written."""

    module: str
    function: str
    limitation: Limitation | None
    granted_by: tuple[tuple[int, int], ...]  # (group_id, role_id) pairs, sorted


@dataclass(frozen=True)
class Grant:
    """The answer to "may this user do module/function?" when it is yes."""

    module: str
    function: str
    limitation: Limitation | None


@dataclass
class PermissionSet:
    """A user's effective permissions, from the policy rows of their enabled groups."""

    user_id: int
    rows: list[PolicyRow] = field(default_factory=list)

    @classmethod
    def for_user(cls, user_id: int) -> PermissionSet:
        return cls(user_id, load_policies(user_id))

    def has(self, module: str, function: str) -> bool:
        """True when a grant row covers the function and no exclusion row names it exactly."""
        return self.grant(module, function) is not None

    def grant(self, module: str, function: str) -> Grant | None:
        """The grant with its merged limitation, or ``None`` when the function is not granted."""
        active = [r for r in self.rows if not r.group_disabled]
        if any(r.excludes(module, function) for r in active):
            return None
        granting = [r for r in active if r.grants(module, function)]
        if not granting:
            return None
        return Grant(module, function, merge(r.limitation for r in granting))

    @property
    def is_administrator(self) -> bool:
        """An administrator holds ``*/*`` (and no exclusion names ``*/*`` exactly)."""
        return self.has(WILDCARD, WILDCARD)

    def entries(self) -> list[PermissionEntry]:
        """One entry per distinct key of the grant rows; limitations merged per exact key."""
        by_key: dict[tuple[str, str], list[PolicyRow]] = {}
        for row in self.rows:
            if not row.group_disabled and not row.is_exclusion:
                by_key.setdefault((row.module, row.function), []).append(row)
        return [
            PermissionEntry(
                module=module,
                function=function,
                limitation=merge(r.limitation for r in rows),
                granted_by=tuple(sorted({(r.group_id, r.role_id) for r in rows})),
            )
            for (module, function), rows in sorted(by_key.items())
        ]

    def excluded(self) -> list[tuple[str, str]]:
        """The exclusion keys reaching this user, sorted."""
        return sorted(
            {(r.module, r.function) for r in self.rows if r.is_exclusion and not r.group_disabled}
        )


@dataclass(frozen=True)
class WhoGrantsRow:
    """One policy row that matches a function, and whether it counts."""

    row: PolicyRow
    effective: bool
    note: str


@dataclass(frozen=True)
class WhoGrants:
    """Why a user has (or lacks) ``module/function``: every matching row, disabled groups too."""

    module: str
    function: str
    granted: bool
    limitation: Limitation | None
    rows: tuple[WhoGrantsRow, ...]


def who_grants(user_id: int, module: str, function: str) -> WhoGrants:
    """Every row matching ``module/function`` for the user, each marked as counting or not."""
    all_rows = load_policies(user_id, include_disabled_groups=True)
    permissions = PermissionSet(user_id, [r for r in all_rows if not r.group_disabled])
    grant = permissions.grant(module, function)
    excluded = any(r.excludes(module, function) for r in permissions.rows)
    matches: list[WhoGrantsRow] = []
    for row in all_rows:
        if not (row.grants(module, function) or row.excludes(module, function)):
            continue
        if row.group_disabled:
            matches.append(WhoGrantsRow(row, False, "group is disabled: gives nothing"))
        elif row.is_exclusion:
            matches.append(WhoGrantsRow(row, True, "exclusion: takes the function away"))
        elif excluded:
            matches.append(WhoGrantsRow(row, False, "overridden by an exclusion"))
        else:
            matches.append(WhoGrantsRow(row, True, "grants"))
    return WhoGrants(
        module=module,
        function=function,
        granted=grant is not None,
        limitation=grant.limitation if grant else None,
        rows=tuple(matches),
    )


def rows_grant_administration(rows: Iterable[tuple[str, str, int]]) -> bool:
    """Whether ``(module, function, type)`` rows of a role include a ``*/*`` grant."""
    return any(m == WILDCARD and f == WILDCARD and t == GRANT for m, f, t in rows)
