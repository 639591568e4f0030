"""Reading permissions and chat access, for oneself or (with the right) for others."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import rules
from .access import ChatAccess, chat_access
from .capabilities import capabilities_of
from .limitations import Limitation
from .models import DepartmentGroup, Group, User
from .permissions import PermissionSet, PolicyRow, WhoGrants, who_grants
from .user_records import visible_user
from .views import Ref, ScopeSummary

if TYPE_CHECKING:
    from .scope import Scope
    from .session import ActionContext, Session


@dataclass(frozen=True)
class GrantSource:
    """A group and one of its roles, by id and name: where a policy row reaches a user from."""

    group_id: int
    group_name: str
    role_id: int
    role_name: str

    def label(self) -> str:
        return f"{self.group_name} / {self.role_name}"


@dataclass(frozen=True)
class NamedEntry:
    """A ``PermissionEntry`` (or an exclusion key) with the names of the groups and roles."""

    module: str
    function: str
    limitation: Limitation | None
    sources: tuple[GrantSource, ...]  # sorted by (group_id, role_id)
    excluded: bool = False  # an exclusion row: takes the function away


@dataclass(frozen=True)
class PermissionReport:
    """Everything the permissions screen shows for one user (grants first, then exclusions)."""

    user_id: int
    username: str
    is_administrator: bool
    entries: tuple[NamedEntry, ...]
    exclusions: tuple[NamedEntry, ...]


class PermissionService:
    """My permissions, another user's (``see_permissions_users``), who grants, chat access."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _check(self, ctx: ActionContext, user_id: int) -> None:
        if user_id == ctx.actor_id:
            ctx.refuse_if("see their permissions", rules.refusal_to_see_own_permissions(ctx))
        else:
            user = visible_user(ctx, user_id)
            ctx.refuse_if(
                f"see the permissions of {user.username!r}",
                rules.refusal_to_see_permissions_of_others(ctx),
            )

    def effective(self, user_id: int | None = None) -> PermissionSet:
        with self._session.reading() as ctx:
            target = ctx.actor_id if user_id is None else user_id
            self._check(ctx, target)
            return PermissionSet.for_user(target)

    def named_entries(self, user_id: int | None = None) -> PermissionReport:
        """``effective(...).entries()`` and ``excluded()`` with group and role names (SPEC §2)."""
        with self._session.reading() as ctx:
            target = ctx.actor_id if user_id is None else user_id
            self._check(ctx, target)
            user = User.get_by_id(target)
            permissions = PermissionSet.for_user(target)
            sources = {(r.group_id, r.role_id): _source(r) for r in permissions.rows}
            entries = tuple(
                NamedEntry(
                    module=e.module,
                    function=e.function,
                    limitation=e.limitation,
                    sources=tuple(sources[pair] for pair in e.granted_by),
                )
                for e in permissions.entries()
            )
            exclusions = tuple(
                NamedEntry(
                    module=module,
                    function=function,
                    limitation=None,
                    sources=_sources_of(
                        r
                        for r in permissions.rows
                        if r.is_exclusion and (r.module, r.function) == (module, function)
                    ),
                    excluded=True,
                )
                for module, function in permissions.excluded()
            )
            return PermissionReport(
                user_id=target,
                username=user.username,
                is_administrator=permissions.is_administrator,
                entries=entries,
                exclusions=exclusions,
            )

    def who_grants(self, user_id: int | None, module: str, function: str) -> WhoGrants:
        with self._session.reading() as ctx:
            target = ctx.actor_id if user_id is None else user_id
            self._check(ctx, target)
            return who_grants(target, module, function)

    def access(self, user_id: int | None = None) -> ChatAccess:
        """Chat access of oneself, or of a visible user.

        Another user's department groups and departments outside the actor's assignable sets
        are left out unless the actor holds ``lhuser/see_user_assigned_departments_groups`` /
        ``see_user_assigned_departments`` (SPEC §3), as in the user form; the result says
        that some were hidden (``ChatAccess.partly_hidden``), never which.
        """
        with self._session.reading() as ctx:
            target = ctx.actor_id if user_id is None else user_id
            if target == ctx.actor_id:
                return chat_access(target)
            visible_user(ctx, target)
            return chat_access(
                target,
                shown_department_groups=rules.shown_department_groups(ctx),
                shown_departments=rules.shown_departments(ctx),
            )

    def scope(self) -> Scope:
        """The actor's own scope (for the header and the home screen)."""
        with self._session.reading() as ctx:
            return ctx.scope

    def summary(self) -> ScopeSummary:
        """Who is logged in and their scope by name (a handful of small queries)."""
        with self._session.reading() as ctx:
            scope = ctx.scope
            own = [Ref(g.id, g.name) for g in _groups(scope.own_groups)]
            usable = [Ref(g.id, g.name) for g in _groups(scope.usable_groups)]
            dep_groups = [
                Ref(g.id, g.name)
                for g in DepartmentGroup.select(DepartmentGroup.id, DepartmentGroup.name)
                .where(DepartmentGroup.id.in_(sorted(scope.assignable_department_groups)))
                .order_by(DepartmentGroup.name)
            ]
            return ScopeSummary(
                user_id=ctx.actor_id,
                username=ctx.actor_name,
                own_groups=tuple(own),
                usable_groups=tuple(usable),
                assignable_department_groups=tuple(dep_groups),
                is_administrator=scope.is_administrator,
                sees_all_users=scope.sees_all_users,
                edits_all_groups=scope.edits_all_groups,
                assigns_all_department_groups=rules.assigns_all_department_groups(ctx),
            )

    def may_import(self) -> bool:
        """Whether the actor may load samples and dumps (``*/*`` or ``lhuser/import``)."""
        return "import" in self.capabilities()

    def capabilities(self) -> frozenset[str]:
        """Named screens and actions the actor is offered (see ``store.capabilities``)."""
        with self._session.reading() as ctx:
            return capabilities_of(ctx)

    def can(self, module: str, function: str) -> bool:
        """Whether the actor holds a function now (screens use it to offer actions)."""
        with self._session.reading() as ctx:
            return ctx.has(module, function)


def _source(row: PolicyRow) -> GrantSource:
    return GrantSource(row.group_id, row.group_name, row.role_id, row.role_name)


def _sources_of(rows: Iterable[PolicyRow]) -> tuple[GrantSource, ...]:
    found = {(r.group_id, r.role_id): _source(r) for r in rows}
    return tuple(found[key] for key in sorted(found))


def _groups(ids: frozenset[int]) -> list[Group]:
    return list(
        Group.select(Group.id, Group.name).where(Group.id.in_(sorted(ids))).order_by(Group.name)
    )
