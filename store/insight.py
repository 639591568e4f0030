"""Reading permissions and chat access, for oneself or (with the right) for others."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .access import ChatAccess, chat_access
from .capabilities import capabilities_of
from .models import DepartmentGroup, Group
from .permissions import PermissionSet, WhoGrants, who_grants
from .users import _visible_user
from .views import Ref, ScopeSummary

if TYPE_CHECKING:
    from .scope import Scope
    from .session import ActionContext, Session


class PermissionService:
    """My permissions, another user's (``see_permissions_users``), who grants, chat access."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _check(self, ctx: ActionContext, user_id: int) -> None:
        if user_id == ctx.actor_id:
            ctx.require("lhpermission", "see_permissions", "see their permissions")
        else:
            user = _visible_user(ctx, user_id)
            ctx.require(
                "lhpermission",
                "see_permissions_users",
                f"see the permissions of {user.username!r}",
            )

    def effective(self, user_id: int | None = None) -> PermissionSet:
        with self._session.reading() as ctx:
            target = ctx.actor_id if user_id is None else user_id
            self._check(ctx, target)
            return PermissionSet.for_user(target)

    def who_grants(self, user_id: int | None, module: str, function: str) -> WhoGrants:
        with self._session.reading() as ctx:
            target = ctx.actor_id if user_id is None else user_id
            self._check(ctx, target)
            return who_grants(target, module, function)

    def access(self, user_id: int | None = None) -> ChatAccess:
        """Chat access of oneself, or of a visible user."""
        with self._session.reading() as ctx:
            target = ctx.actor_id if user_id is None else user_id
            if target != ctx.actor_id:
                _visible_user(ctx, target)
            return chat_access(target)

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
                assigns_all_department_groups=ctx.has("lhuser", "assign_all_department_group"),
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


def _groups(ids: frozenset[int]) -> list[Group]:
    return list(
        Group.select(Group.id, Group.name).where(Group.id.in_(sorted(ids))).order_by(Group.name)
    )
