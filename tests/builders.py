"""Small builders of LHC rows shared by the engine and risk-report tests."""

from __future__ import annotations

from store.models import Role, RoleFunction

GRANT, EXCLUDE = 0, 1


def make_role(name: str, *policies: str | tuple) -> int:
    """A role with policies ``"module/function"`` or ``(module, function, limitation, type)``."""
    role = Role.create(name=name)
    for policy in policies:
        if isinstance(policy, str):
            module, function = policy.split("/")
            limitation, kind = "", GRANT
        else:
            module, function, limitation, kind = [*policy, *["", GRANT][len(policy) - 2 :]]
        RoleFunction.create(
            role_id=role.id, module=module, function=function, limitation=limitation, type=kind
        )
    return role.id
