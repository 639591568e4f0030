"""The rulebook: every decision of SPEC §3, each a function named for the decision.

``store.scope`` computes the actor's sets (visible, editable and assignable ...). This module
turns them into answers to "may this actor do this to that?": each ``refusal_to_…`` function
returns the reason the actor may not (a sentence a team leader understands; it completes
"<actor> may not <do this>: …"), or None when they may. The few answers that are not refusals
say so in their names (``sees_user``, ``may_change_departments``, ``shown_departments``).

It decides and reads, never writes. The services ask it, then refuse (``ActionContext.refuse_if``)
or write; ``store.capabilities`` offers exactly the actions whose actor-level rule here says
None, so what a screen offers and what a service allows are the same decision. A rule whose
breach is an invalid request rather than a missing right (at least one group, a required group,
a role still in use) returns the message the service raises as a ``ValidationError``.

Sections: what the actor may open at all (the capabilities), users, their groups, their
department groups and departments, groups, roles, configuration import.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from .lookup import names_of
from .models import Group, GroupRole, GroupUser, RoleFunction, User
from .permissions import WILDCARD
from .scope import star_star_group_ids, would_be_administrator

if TYPE_CHECKING:
    from .models import Role
    from .session import ActionContext
    from .views import EditChoices, UserDetail

PROTECTED_USER_ID = 1
"""The super-admin: never deleted, never disabled."""
PROTECTED_GROUP_ID = 1
"""The first group: never deleted."""
PROTECTED_ROLE_ID = 1
"""The first role: never deleted."""


def _needs(ctx: ActionContext, module: str, function: str) -> str | None:
    """The one reason for a missing permission, worded as every refusal words it."""
    if ctx.has(module, function):
        return None
    return f"it needs the {module}/{function} permission"


def _needs_all(ctx: ActionContext, *functions: tuple[str, str]) -> str | None:
    """The first of these permissions the actor lacks, or None when they hold them all."""
    for module, function in functions:
        reason = _needs(ctx, module, function)
        if reason:
            return reason
    return None


def describe_groups(ids: Iterable[int]) -> str:
    """Groups as reasons name them: ``'Operators', 'US Operators'`` (by id; ``'#7'`` if gone)."""
    ids = set(ids)
    names = names_of("group", ids)
    return ", ".join(f"'{names.get(i, f'#{i}')}'" for i in sorted(ids))


# -- what the actor may open at all (``store.capabilities`` offers by these) ----------------


def refusal_to_list_users(ctx: ActionContext) -> str | None:
    """The users list (and anything listing people: rosters) needs ``lhuser/userlist``."""
    return _needs(ctx, "lhuser", "userlist")


def refusal_to_create_users(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhuser", "createuser")


def refusal_to_edit_users(ctx: ActionContext) -> str | None:
    """Editing any user needs ``lhuser/edituser``; which ones: ``refusal_to_edit_user``."""
    return _needs(ctx, "lhuser", "edituser")


def refusal_to_delete_users(ctx: ActionContext) -> str | None:
    """Deleting any user needs ``lhuser/deleteuser``; which ones: ``refusal_to_delete_user``."""
    return _needs(ctx, "lhuser", "deleteuser")


def refusal_to_list_groups(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhuser", "grouplist")


def refusal_to_create_groups(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhuser", "creategroup")


def refusal_to_edit_groups(ctx: ActionContext) -> str | None:
    """Name, flags, work-with and members need ``lhuser/editgroup``; which groups:
    ``refusal_to_edit_group``."""
    return _needs(ctx, "lhuser", "editgroup")


def refusal_to_delete_groups(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhuser", "deletegroup")


def refusal_to_change_roles_of_groups(ctx: ActionContext) -> str | None:
    """Attaching or detaching roles needs ``lhuser/editgroup`` and ``lhpermission/edit``."""
    return _needs_all(ctx, ("lhuser", "editgroup"), ("lhpermission", "edit"))


def refusal_to_list_roles(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhpermission", "list")


def refusal_to_create_roles(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhpermission", "new")


def refusal_to_edit_roles(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhpermission", "edit")


def refusal_to_delete_roles(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhpermission", "delete")


def refusal_to_see_risk_report(ctx: ActionContext) -> str | None:
    """The risk report reads every role and group: the role list's permission."""
    return _needs(ctx, "lhpermission", "list")


def refusal_to_list_departments(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhdepartment", "list")


def refusal_to_list_department_groups(ctx: ActionContext) -> str | None:
    """The departments screen: ``lhdepartment/list`` or ``managegroups``."""
    if ctx.has("lhdepartment", "list") or ctx.has("lhdepartment", "managegroups"):
        return None
    return "it needs lhdepartment/list or managegroups"


def refusal_to_create_departments(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhdepartment", "create")


def refusal_to_manage_department_groups(ctx: ActionContext) -> str | None:
    """Creating, renaming, filling and deleting department groups."""
    return _needs(ctx, "lhdepartment", "managegroups")


def refusal_to_see_own_permissions(ctx: ActionContext) -> str | None:
    return _needs(ctx, "lhpermission", "see_permissions")


def refusal_to_see_permissions_of_others(ctx: ActionContext) -> str | None:
    """Another (visible) user's permissions."""
    return _needs(ctx, "lhpermission", "see_permissions_users")


def refusal_to_see_own_access(ctx: ActionContext) -> str | None:
    """One's own chat access: everyone may see it."""
    return None


def refusal_to_review_access(ctx: ActionContext) -> str | None:
    """The access review lists users to change: the users list and the right to edit users."""
    return _needs_all(ctx, ("lhuser", "userlist"), ("lhuser", "edituser"))


def refusal_to_read_own_audit(ctx: ActionContext) -> str | None:
    """One's own actions in the audit log: everyone may read them."""
    return None


def refusal_to_read_whole_audit_log(ctx: ActionContext) -> str | None:
    """Everyone's actions in the audit log."""
    return _needs(ctx, "lhaudit", "*")


def refusal_to_import(ctx: ActionContext) -> str | None:
    """Loading the sample or a dump makes and unmakes administrators: ``*/*`` only (SPEC §3.2
    rule 4). ``lhuser/import`` is LHC's CSV user import and opens nothing here."""
    if ctx.scope.is_administrator:
        return None
    return (
        "only administrators (*/*) may; lhuser/import is LHC's CSV user import and does not open it"
    )


# -- users ---------------------------------------------------------------------------------


def sees_user(ctx: ActionContext, user_id: int) -> bool:
    """Whether the user is among those the actor sees (SPEC §3 "visible users"). A user out of
    sight is not found, never refused: a refusal would tell that the account exists."""
    return ctx.scope.is_visible(user_id)


def refusal_to_edit_user(ctx: ActionContext, user: User, *, allow_self: bool = False) -> str | None:
    """Why the actor may not change this visible user, or None when they may.

    The user is editable (SPEC §3); with ``allow_self``, oneself is too when holding
    ``lhuser/selfedit`` (one's own name, e-mail and password). Only administrators change an
    administrator, or a member of a group granting ``*/*`` (an administrator in waiting).
    """
    scope = ctx.scope
    if allow_self and user.id == ctx.actor_id and ctx.has("lhuser", "selfedit"):
        return None
    if scope.is_editable(user.id):
        return None
    if not scope.may_edit_users:
        return "it needs the lhuser/edituser permission"
    if user.id in scope.administrator_users and not scope.is_administrator:
        return "only administrators may change an administrator"
    if user.id in scope.administration_members and not scope.is_administrator:
        return (
            "they are in a group granting administration (*/*), which makes them an "
            "administrator once it is enabled or their exclusion is dropped, and only "
            "administrators may change them"
        )
    theirs = {g.group_id for g in GroupUser.select().where(GroupUser.user_id == user.id)}
    outside = sorted(theirs - scope.usable_groups)
    return f"they belong to {describe_groups(outside)}, outside the groups you work with"


def refusal_to_delete_or_disable_super_admin(user: User) -> str | None:
    """User 1 is never deleted and never disabled."""
    if user.id == PROTECTED_USER_ID:
        return "it is the protected super-admin"
    return None


def refusal_to_disable_or_delete_oneself(ctx: ActionContext, user: User) -> str | None:
    """Nobody deletes, disables or enables their own account."""
    if user.id == ctx.actor_id:
        return "ask another administrator"
    return None


def may_disable_or_delete(ctx: ActionContext, user_id: int, *, editable: bool) -> bool:
    """Whether lists offer disabling, enabling or deleting a user: an editable user who is not
    the actor (``refusal_to_disable_or_delete_oneself``); the services judge the rest."""
    return editable and user_id != ctx.actor_id


# -- a user's groups -----------------------------------------------------------------------


def refusal_to_change_own_groups(ctx: ActionContext, user: User) -> str | None:
    """Changing one's own groups needs ``lhuser/editusergroupall`` (SPEC §3.2 rule 5)."""
    if user.id == ctx.actor_id and not ctx.scope.edits_all_groups:
        return "it needs the lhuser/editusergroupall permission"
    return None


def refusal_to_change_groups_of(ctx: ActionContext, user: User) -> str | None:
    """The user form's note on the groups of this visible user: why none may be toggled."""
    reason = refusal_to_edit_user(ctx, user, allow_self=True)
    if reason:
        return reason
    if user.id == ctx.actor_id and not ctx.scope.edits_all_groups:
        return "changing your own groups needs lhuser/editusergroupall"
    return None


def may_change_groups_of(ctx: ActionContext, user_id: int, *, editable: bool) -> bool:
    """Whether the groups of a user may change at all (each one then only if assignable):
    the user is editable (``editable``, from the scope's editable set) and, for oneself, the
    actor holds ``lhuser/editusergroupall``."""
    return editable and not (user_id == ctx.actor_id and not ctx.scope.edits_all_groups)


def refusal_to_assign_group(ctx: ActionContext, group_id: int) -> str | None:
    """Adding or removing this group (for anyone): it must be in the assignable set (SPEC §3)."""
    scope = ctx.scope
    if group_id in scope.assignable_groups:
        return None
    if group_id in scope.administration_groups and not scope.is_administrator:
        dormant = Group.select(Group.disabled).where(Group.id == group_id).scalar()
        while_disabled = (
            ", even while disabled (enabling it makes every member an administrator),"
            if dormant
            else ""
        )
        return f"it grants administration (*/*){while_disabled} and only administrators hand it out"
    if group_id in scope.usable_groups:
        return "its own members may not hand it out"
    return "not among the groups you work with"


def refusal_without_groups(
    group_ids: Collection[int], *, username: str | None = None
) -> str | None:
    """At least one group in all: for a new user (``username`` None) or after a change.
    A ``ValidationError``'s message."""
    if group_ids:
        return None
    if username is None:
        return "Choose at least one group"
    return f"User {username!r} must stay in at least one group"


def refusal_without_required_group(ctx: ActionContext, group_ids: Collection[int]) -> str | None:
    """When the actor's assignable groups include required ones, the groups a user ends up in
    (created or changed) include at least one required group, as LHC's form asks. The installer
    loads documented data and is not asked. A ``ValidationError``'s message."""
    required = ctx.scope.required_groups
    if not required or ctx.installing:
        return None
    chosen_required = Group.select(Group.id).where(
        Group.id.in_(list(group_ids)) & (Group.required == 1)
    )
    if chosen_required.exists():
        return None
    return f"Choose at least one of the required groups: {describe_groups(required)}"


def refusal_to_make_administrator(
    ctx: ActionContext, current: Collection[int], final: Collection[int]
) -> str | None:
    """Only administrators make administrators (SPEC §3.2 rule 4): a non-administrator may not
    leave a user in groups that hold ``*/*``, nor newly in a disabled group that would (an
    administrator the day that group is enabled)."""
    if ctx.scope.is_administrator:
        return None
    if would_be_administrator(set(final)):
        return "it would make them an administrator (*/*), and only administrators do that"
    if would_be_administrator(set(final), every_group_enabled=True) and not (
        would_be_administrator(set(current), every_group_enabled=True)
    ):
        return (
            "it would leave them in a disabled group granting administration (*/*) with "
            "nothing excluding it, an administrator the day that group is enabled; only "
            "administrators do that"
        )
    return None


# -- a user's department groups and departments ----------------------------------------------


def refusal_to_change_departments_of(ctx: ActionContext, user: User) -> str | None:
    """The user is editable, or is the actor holding ``lhuser/editdepartaments``; which
    department groups and departments may change is ``refusal_to_assign_department_group``'s
    and ``refusal_to_assign_department``'s answer, for oneself too (SPEC §3.2 rule 5)."""
    if user.id == ctx.actor_id and ctx.has("lhuser", "editdepartaments"):
        return None
    return refusal_to_edit_user(ctx, user)


def may_change_departments(
    ctx: ActionContext, user_id: int, *, editable: bool, disabled: bool = False
) -> bool:
    """``refusal_to_change_departments_of`` as a yes or no, for screens and reports that offer
    the change (the user form, rosters), cheaply: ``editable`` is from the scope's editable
    set. A ``disabled`` user's rows are parked, so their departments change only once they are
    enabled again."""
    if disabled:
        return False
    return editable or (user_id == ctx.actor_id and ctx.has("lhuser", "editdepartaments"))


def refusal_to_assign_department_group(ctx: ActionContext, dep_group_id: int) -> str | None:
    """Assigning, unassigning or toggling this department group for anyone (SPEC §3)."""
    if dep_group_id in ctx.scope.assignable_department_groups:
        return None
    if ctx.has("lhuser", "assign_to_own_department_group"):
        return "you may assign only the department groups you belong to"
    return "it needs lhuser/assign_to_own_department_group or assign_all_department_group"


def refusal_to_assign_department(ctx: ActionContext, department_id: int) -> str | None:
    """Assigning, unassigning or toggling this department directly for anyone (SPEC §3)."""
    if department_id in ctx.scope.assignable_departments:
        return None
    if ctx.has("lhuser", "assign_to_own_department_individual"):
        return "you may assign only your own departments"
    return "it needs lhuser/assign_to_own_department_individual or assign_all_department_individual"


def assigns_all_department_groups(ctx: ActionContext) -> bool:
    """Whether every department group is the actor's to hand out (the header says "all")."""
    return ctx.has("lhuser", "assign_all_department_group")


def refusal_to_change_all_departments(ctx: ActionContext) -> str | None:
    """LHC's "all departments" of another (editable) user."""
    return _needs(ctx, "lhuser", "edit_all_departments")


def shown_department_groups(ctx: ActionContext) -> frozenset[int] | None:
    """SPEC §3 rule 7: the other users' department groups the actor may be told about (all:
    None; else the assignable ones). One's own are always shown."""
    if ctx.has("lhuser", "see_user_assigned_departments_groups"):
        return None
    return ctx.scope.assignable_department_groups


def shown_departments(ctx: ActionContext) -> frozenset[int] | None:
    """SPEC §3 rule 7: the other users' direct departments the actor may be told about (all:
    None; else the assignable ones). One's own are always shown."""
    if ctx.has("lhuser", "see_user_assigned_departments"):
        return None
    return ctx.scope.assignable_departments


def refusal_to_take_away_kept(
    user: UserDetail,
    choices: EditChoices,
    *,
    groups: Collection[int] = (),
    department_groups: Collection[int] = (),
    departments: Collection[int] = (),
) -> str | None:
    """A removal asked of a user (a bulk change) that the actor may not make: the group,
    department group or department is held, and outside what the actor may hand out.

    The wanted state of a save keeps such a one silently (the form never offers it); a change
    that asks to take it away must say so instead of reporting the user as unchanged."""
    held = {g.id: g.name for g in user.groups}
    for group in groups:
        if group in held and group not in choices.groups:
            return f"group {held[group]!r} is not one you may hand out"
    for assignment in user.department_groups:
        if assignment.id in department_groups and assignment.id not in choices.department_groups:
            return f"department group {assignment.name!r} is not one you may assign"
    for assignment in user.departments:
        if assignment.id in departments and assignment.id not in choices.departments:
            return f"department {assignment.name!r} is not one you may assign"
    return None


# -- groups --------------------------------------------------------------------------------


def _refusal_to_change_administration_group(ctx: ActionContext, group: Group) -> str | None:
    """A group whose roles hold ``*/*`` (grant or exclusion, enabled or not) makes or unmakes
    administrators: only administrators change or delete it (SPEC §3.2 rule 4)."""
    if not ctx.scope.is_administrator and group.id in star_star_group_ids():
        return (
            "its roles hold '*/*', which decides administration, and only administrators change it"
        )
    return None


def refusal_to_edit_group(ctx: ActionContext, group: Group) -> str | None:
    """Renaming, flags, work-with list: ``lhuser/editgroup``, and administrators' groups only
    for administrators."""
    return refusal_to_edit_groups(ctx) or _refusal_to_change_administration_group(ctx, group)


def refusal_to_change_roles_of_group(ctx: ActionContext, group: Group) -> str | None:
    """Attaching or detaching a role: the group is editable and the actor holds
    ``lhpermission/edit``."""
    return refusal_to_edit_group(ctx, group) or refusal_to_edit_roles(ctx)


def refusal_to_attach_role(ctx: ActionContext, role_id: int) -> str | None:
    """A role with a ``*/*`` row decides administration: only administrators attach it."""
    if ctx.scope.is_administrator or not role_decides_administration(role_id):
        return None
    return (
        "it holds a '*/*' policy, which decides administration, and only administrators attach it"
    )


def refusal_to_delete_group(ctx: ActionContext, group: Group) -> str | None:
    """Deleting this group (``lhuser/deletegroup`` aside): never an administrators' group for
    a non-administrator, never group 1."""
    reason = _refusal_to_change_administration_group(ctx, group)
    if reason:
        return reason
    if group.id == PROTECTED_GROUP_ID:
        return "it is the protected first group"
    return None


def refusal_to_delete_only_group(group: Group) -> str | None:
    """A group that is some user's only group stays until they are moved (every user keeps at
    least one group). A ``ValidationError``'s message."""
    in_other_groups = GroupUser.select(GroupUser.user_id).where(GroupUser.group_id != group.id)
    stranded = GroupUser.select(GroupUser.user_id).where(
        (GroupUser.group_id == group.id) & GroupUser.user_id.not_in(in_other_groups)
    )
    if not stranded.exists():
        return None
    names = [u.username for u in User.select(User.username).where(User.id.in_(stranded)).limit(3)]
    return (
        f"Group {group.name!r} is the only group of {', '.join(names)}: "
        "move them to another group first"
    )


# -- roles ---------------------------------------------------------------------------------


def role_decides_administration(role_id: int) -> bool:
    """Whether the role has a ``*/*`` row: a grant makes administrators, an exclusion unmakes
    them, so attaching, detaching or changing it is for administrators only."""
    return (
        RoleFunction.select()
        .where(
            (RoleFunction.role_id == role_id)
            & (RoleFunction.module == WILDCARD)
            & (RoleFunction.function == WILDCARD)
        )
        .exists()
    )


def _refusal_to_change_administration_role(ctx: ActionContext, role: Role) -> str | None:
    if role_decides_administration(role.id) and not ctx.scope.is_administrator:
        return (
            "it holds a '*/*' policy, which decides administration, and only "
            "administrators change it"
        )
    return None


def refusal_to_edit_role(ctx: ActionContext, role: Role) -> str | None:
    """Renaming a role or changing its policies: ``lhpermission/edit``, and a role holding
    ``*/*`` only for administrators."""
    return refusal_to_edit_roles(ctx) or _refusal_to_change_administration_role(ctx, role)


def refusal_to_add_or_remove_policy(ctx: ActionContext, module: str) -> str | None:
    """A ``*/*`` row (grant or exclusion) makes or unmakes administrators."""
    if module == WILDCARD and not ctx.scope.is_administrator:
        return "'*/*' makes or unmakes administrators, and only administrators do that"
    return None


def refusal_to_delete_role(ctx: ActionContext, role: Role) -> str | None:
    """Deleting this role (``lhpermission/delete`` aside): never a role holding ``*/*`` for a
    non-administrator, never role 1."""
    reason = _refusal_to_change_administration_role(ctx, role)
    if reason:
        return reason
    if role.id == PROTECTED_ROLE_ID:
        return "it is the protected first role"
    return None


def refusal_to_delete_role_in_use(role: Role) -> str | None:
    """A role still used by a group stays until it is detached. A ``ValidationError``'s
    message."""
    users = (
        Group.select(Group.name)
        .join(GroupRole, on=(GroupRole.group_id == Group.id))
        .where(GroupRole.role_id == role.id)
    )
    if not users.exists():
        return None
    names = ", ".join(repr(g.name) for g in users)
    return f"Role {role.name!r} is still used by group(s) {names}: detach it first"
