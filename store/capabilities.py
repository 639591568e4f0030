"""Which screens and actions an actor is offered, named once, decided by the rulebook.

Screens hide what the actor may not do (the footer never shows a key that would be refused);
the services refuse it anyway. Each name here is offered exactly when its rule in
``store.rules`` gives no refusal, the same rule the service asks, so "offered" and "allowed"
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import rules

if TYPE_CHECKING:
    from .session import ActionContext

Rule = Callable[["ActionContext"], bool]
Refusal = Callable[["ActionContext"], "str | None"]


def _allowed(refusal: Refusal) -> Rule:
    return lambda ctx: refusal(ctx) is None


CAPABILITIES: dict[str, Rule] = {
    "users.list": _allowed(rules.refusal_to_list_users),
    "users.create": _allowed(rules.refusal_to_create_users),
    "users.edit": _allowed(rules.refusal_to_edit_users),
    "users.delete": _allowed(rules.refusal_to_delete_users),
    "groups.list": _allowed(rules.refusal_to_list_groups),
    "groups.create": _allowed(rules.refusal_to_create_groups),
    "groups.edit": _allowed(rules.refusal_to_edit_groups),
    "groups.delete": _allowed(rules.refusal_to_delete_groups),
    "groups.roles": _allowed(rules.refusal_to_change_roles_of_groups),
    "roles.list": _allowed(rules.refusal_to_list_roles),
    "roles.create": _allowed(rules.refusal_to_create_roles),
    "roles.edit": _allowed(rules.refusal_to_edit_roles),
    "roles.delete": _allowed(rules.refusal_to_delete_roles),
    "risk.report": _allowed(rules.refusal_to_see_risk_report),
    "departments.list": _allowed(rules.refusal_to_list_department_groups),
    "departments.create": _allowed(rules.refusal_to_create_departments),
    "department_groups.manage": _allowed(rules.refusal_to_manage_department_groups),
    "permissions.own": _allowed(rules.refusal_to_see_own_permissions),
    "permissions.others": _allowed(rules.refusal_to_see_permissions_of_others),
    "access.own": _allowed(rules.refusal_to_see_own_access),
    "review": _allowed(rules.refusal_to_review_access),
    "audit.own": _allowed(rules.refusal_to_read_own_audit),
    "audit.all": _allowed(rules.refusal_to_read_whole_audit_log),
    # Replacing the configuration makes administrators: */* only (SPEC §3.2 rule 4); LHC's
    # lhuser/import is its CSV user import, and lhuser/* does not open this either.
    "import": _allowed(rules.refusal_to_import),
}


def capabilities_of(ctx: ActionContext) -> frozenset[str]:
    """The names of everything the actor is offered now."""
    return frozenset(name for name, rule in CAPABILITIES.items() if rule(ctx))
