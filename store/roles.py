"""Role services: list, create, rename, delete, and the policies of a role.

Policies are ``module / function / limitation`` rows; ``exclude`` rows take a function away.
Only administrators add a ``*/*`` grant or change a role that holds one (SPEC §3.2.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peewee import fn

from . import rules, userdeps, validation
from .errors import NotFoundError, ValidationError
from .limitations import validate_input
from .models import Group, GroupRole, Role, RoleFunction
from .permissions import EXCLUDE, GRANT, WILDCARD
from .schema import policy_type_is, supports_exclusions
from .views import PolicyInfo, Ref, RoleInfo

if TYPE_CHECKING:
    from .session import ActionContext, Session

NAME_PATTERN_HELP = "ASCII letters, digits, '_' or '*'"


def _policies(role_id: int) -> list[PolicyInfo]:
    query = RoleFunction.select().where(RoleFunction.role_id == role_id)
    return [
        PolicyInfo(r.id, r.module, r.function, r.limitation or "", r.type == EXCLUDE)
        for r in query.order_by(RoleFunction.module, RoleFunction.function, RoleFunction.id)
    ]


def _snapshot(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "policies": [
            [p.module, p.function, p.limitation, "exclude" if p.exclude else "grant"]
            for p in _policies(role.id)
        ],
    }


def _info(role: Role) -> RoleInfo:
    groups = (
        Group.select(Group.id, Group.name)
        .join(GroupRole, on=(GroupRole.group_id == Group.id))
        .where(GroupRole.role_id == role.id)
        .order_by(Group.name)
    )
    return RoleInfo(
        id=role.id,
        name=role.name,
        policies=tuple(_policies(role.id)),
        groups=tuple(Ref(g.id, g.name) for g in groups),
    )


def _identifier(value: str, label: str) -> str:
    value = validation.text(value, label, 100)
    # ASCII only, as LHC's module and function names are: "lhuser" with a Cyrillic e would be a
    # policy that looks right and grants nothing.
    if value != WILDCARD and not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in value):
        raise ValidationError(f"{label} {value!r} may hold only {NAME_PATTERN_HELP}")
    return value


class RoleService:
    """Roles and their policies, as the actor's ``lhpermission`` functions allow."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def list(self) -> list[RoleInfo]:
        with self._session.reading() as ctx:
            ctx.refuse_if("list roles", rules.refusal_to_list_roles(ctx))
            return [_info(r) for r in Role.select().order_by(Role.name)]

    def get(self, role_id: int) -> RoleInfo:
        with self._session.reading() as ctx:
            ctx.refuse_if("see roles", rules.refusal_to_list_roles(ctx))
            return _info(_role(role_id))

    def may_change(self, role_id: int) -> bool:
        """Whether the actor may rename this role or change its policies now (the editor offers
        those keys only then). The same check the writes make, answered instead of raised."""
        with self._session.reading() as ctx:
            return rules.refusal_to_edit_role(ctx, _role(role_id)) is None

    def create(self, name: str) -> RoleInfo:
        with self._session.action() as ctx:
            ctx.refuse_if("create roles", rules.refusal_to_create_roles(ctx))
            role = Role.create(name=_unique_name(name, None))
            userdeps.bump_everyone()
            ctx.audit("role", role.id, "role.create", None, _snapshot(role))
            return _info(role)

    def rename(self, role_id: int, name: str) -> RoleInfo:
        with self._session.action() as ctx:
            role = self._changeable(ctx, role_id, "rename role")
            name = _unique_name(name, role.id)
            if name == role.name:
                return _info(role)  # its name already: nothing to write
            before = _snapshot(role)
            Role.update(name=name).where(Role.id == role.id).execute()
            userdeps.bump_everyone()
            role = Role.get_by_id(role.id)
            ctx.audit("role", role.id, "role.rename", before, _snapshot(role))
            return _info(role)

    def delete(self, role_id: int) -> None:
        """Delete a role no group uses (never role 1)."""
        with self._session.action() as ctx:
            ctx.refuse_if("delete roles", rules.refusal_to_delete_roles(ctx))
            role = _role(role_id)
            ctx.refuse_if(f"delete role {role.name!r}", rules.refusal_to_delete_role(ctx, role))
            in_use = rules.refusal_to_delete_role_in_use(role)
            if in_use:
                raise ValidationError(in_use)
            before = _snapshot(role)
            RoleFunction.delete().where(RoleFunction.role_id == role.id).execute()
            Role.delete().where(Role.id == role.id).execute()
            userdeps.bump_everyone()
            ctx.audit("role", role.id, "role.delete", before, None)

    def add_policy(
        self,
        role_id: int,
        module: str,
        function: str,
        *,
        limitation: str = "",
        exclude: bool = False,
    ) -> RoleInfo:
        """Add a grant (or exclusion) row; a limitation must be a JSON object."""
        with self._session.action() as ctx:
            role = self._changeable(ctx, role_id, "edit role")
            module = _identifier(module, "Module")
            function = _identifier(function, "Function")
            limitation = validate_input(limitation or "")
            if module == WILDCARD and function != WILDCARD:
                raise ValidationError("With module '*' the function must be '*' too")
            ctx.refuse_if(
                f"add a '*/*' {'exclusion' if exclude else 'grant'} to role {role.name!r}",
                rules.refusal_to_add_or_remove_policy(ctx, module),
            )
            if exclude and not supports_exclusions():
                raise ValidationError(
                    "This LHC database cannot hold exclusion policies: its lh_rolefunction "
                    "table has no 'type' column (a later LHC version added it)"
                )
            row_type = EXCLUDE if exclude else GRANT
            duplicate = RoleFunction.select().where(
                (RoleFunction.role_id == role.id)
                & (RoleFunction.module == module)
                & (RoleFunction.function == function)
                & policy_type_is(row_type)
                & (RoleFunction.limitation == limitation)
            )
            if duplicate.exists():
                raise ValidationError(
                    f"Role {role.name!r} already has this policy: {module}/{function}"
                )
            before = _snapshot(role)
            RoleFunction.create(
                role_id=role.id,
                module=module,
                function=function,
                limitation=limitation,
                type=row_type,
            )
            userdeps.bump_everyone()
            ctx.audit("role", role.id, "role.policy.add", before, _snapshot(role))
            return _info(role)

    def remove_policy(self, role_id: int, policy_id: int) -> RoleInfo:
        with self._session.action() as ctx:
            role = self._changeable(ctx, role_id, "edit role")
            condition = (RoleFunction.id == policy_id) & (RoleFunction.role_id == role.id)
            policy = RoleFunction.get_or_none(condition)
            if policy is None:
                raise NotFoundError(f"Role {role.name!r} has no policy #{policy_id}")
            ctx.refuse_if(
                f"remove the '*/*' policy of role {role.name!r}",
                rules.refusal_to_add_or_remove_policy(ctx, policy.module),
            )
            before = _snapshot(role)
            RoleFunction.delete().where(condition).execute()
            userdeps.bump_everyone()
            ctx.audit("role", role.id, "role.policy.remove", before, _snapshot(role))
            return _info(role)

    @staticmethod
    def _changeable(ctx: ActionContext, role_id: int, doing: str) -> Role:
        """The role, or a refusal unless the actor may rename it or change its policies."""
        role = _role(role_id)
        ctx.refuse_if(f"{doing} {role.name!r}", rules.refusal_to_edit_role(ctx, role))
        return role


def _role(role_id: int) -> Role:
    role_id = validation.one_id(role_id, "Role")
    role = Role.get_or_none(Role.id == role_id)
    if role is None:
        raise NotFoundError(f"No role with id {role_id}")
    return role


def _unique_name(name: str, role_id: int | None) -> str:
    name = validation.text(name, "Role name", 50)
    clash = Role.select().where(fn.LOWER(Role.name) == name.lower())
    if role_id is not None:
        clash = clash.where(Role.id != role_id)
    if clash.exists():
        raise ValidationError(f"A role named {name!r} already exists")
    return name
