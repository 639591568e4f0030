"""Which screens and actions an actor is offered, named once, decided by the store.

Screens hide what the actor may not do (the footer never shows a key that would be refused);
the services refuse it anyway. Both read the same rules from here, so "offered" and "allowed"
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .session import ActionContext

Rule = Callable[["ActionContext"], bool]


def _has(module: str, function: str) -> Rule:
    return lambda ctx: ctx.has(module, function)


def _any(*rules: Rule) -> Rule:
    return lambda ctx: any(rule(ctx) for rule in rules)


CAPABILITIES: dict[str, Rule] = {
    "users.list": _has("lhuser", "userlist"),
    "users.create": _has("lhuser", "createuser"),
    "users.edit": _has("lhuser", "edituser"),
    "users.delete": _has("lhuser", "deleteuser"),
    "groups.list": _has("lhuser", "grouplist"),
    "groups.create": _has("lhuser", "creategroup"),
    "groups.edit": _has("lhuser", "editgroup"),
    "groups.delete": _has("lhuser", "deletegroup"),
    "groups.roles": lambda ctx: ctx.has("lhuser", "editgroup") and ctx.has("lhpermission", "edit"),
    "roles.list": _has("lhpermission", "list"),
    "roles.create": _has("lhpermission", "new"),
    "roles.edit": _has("lhpermission", "edit"),
    "roles.delete": _has("lhpermission", "delete"),
    "risk.report": _has("lhpermission", "list"),
    "departments.list": _any(_has("lhdepartment", "list"), _has("lhdepartment", "managegroups")),
    "departments.create": _has("lhdepartment", "create"),
    "department_groups.manage": _has("lhdepartment", "managegroups"),
    "permissions.own": _has("lhpermission", "see_permissions"),
    "permissions.others": _has("lhpermission", "see_permissions_users"),
    "access.own": lambda ctx: True,
    "review": lambda ctx: ctx.has("lhuser", "userlist") and ctx.has("lhuser", "edituser"),
    "audit.own": lambda ctx: True,
    "audit.all": lambda ctx: ctx.has("lhaudit", "*"),
    # Replacing the configuration makes administrators: */* only (SPEC §3.2 rule 4); LHC's
    # lhuser/import is its CSV user import, and lhuser/* does not open this either.
    "import": lambda ctx: ctx.scope.is_administrator,
}


def capabilities_of(ctx: ActionContext) -> frozenset[str]:
    """The names of everything the actor is offered now."""
    return frozenset(name for name, rule in CAPABILITIES.items() if rule(ctx))
