"""The scoping layer's sets: what a logged-in actor may see, edit and hand out (SPEC §3).

``Scope.compute`` reads a fixed handful of small queries (the actor's groups, work-with rows,
all groups, the ``*/*`` groups and their members, department-group and department assignments),
independent of how many users the database holds. User sets are never materialised for
screens: ``visible_users_condition`` and ``editable_users_condition`` return SQL conditions that
page queries and checks compose with.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import JOIN, SQL, Expression, fn

from .models import (
    Department,
    DepartmentGroup,
    DepartmentGroupUser,
    Group,
    GroupRole,
    GroupUser,
    GroupWork,
    RoleFunction,
    User,
    UserDep,
    tuple_rows,
)
from .permissions import EXCLUDE, GRANT, WILDCARD, PermissionSet
from .schema import policy_type_column, policy_type_is


@dataclass(frozen=True)
class Scope:
    """Everything SPEC §3 defines for one actor, computed at one moment."""

    actor_id: int
    is_administrator: bool
    edits_all_groups: bool  # lhuser/editusergroupall
    sees_all_users: bool  # lhuser/see_all
    may_edit_users: bool  # lhuser/edituser
    own_groups: frozenset[int]
    usable_groups: frozenset[int]
    assignable_groups: frozenset[int]
    required_groups: frozenset[int]
    administration_groups: frozenset[int]  # grant */*, enabled or disabled (SPEC §3)
    administrator_users: frozenset[int]  # hold */* now
    latent_administrator_users: frozenset[int]  # would hold */* were every group enabled
    # Members of a group granting */*, enabled or not, whatever exclusions they also have: one
    # admin's routine change (enabling the group, dropping an exclusion) makes them
    # administrators, so a non-administrator may not change them (their password included).
    administration_members: frozenset[int]
    assignable_department_groups: frozenset[int]
    assignable_departments: frozenset[int]

    @classmethod
    def compute(cls, actor_id: int, permissions: PermissionSet) -> Scope:
        """Build the actor's scope from the database as it is now."""
        has = permissions.has
        edits_all = has("lhuser", "editusergroupall")
        is_admin = permissions.is_administrator
        own = frozenset(
            gu.group_id
            for gu in GroupUser.select(GroupUser.group_id).where(GroupUser.user_id == actor_id)
        )
        # Plain tuples: hundreds of groups as model instances cost a millisecond per action.
        required_by_group: dict[int, int] = dict(
            tuple_rows(Group.select(Group.id, Group.required))
        )
        holders = star_star_holders()
        # Disabled ones too: enabling one makes every member an administrator at once.
        admin_groups = holders.grant_groups

        usable: frozenset[int] | set[int]
        if edits_all:
            usable = frozenset(required_by_group)
            assignable = set(required_by_group)
        else:
            work = (
                list(
                    GroupWork.select(GroupWork.group_id, GroupWork.group_work_id).where(
                        GroupWork.group_id.in_(list(own))
                    )
                )
                if own
                else []
            )
            usable = (
                own | {w.group_work_id for w in work if w.group_work_id > 0}
            ) & required_by_group.keys()
            flagged = {w.group_id for w in work if w.group_work_id == -1}
            # An own group flagged -1 cannot be handed out by its own members, unless another
            # own group works with it.
            withheld = {
                g
                for g in flagged
                if not any(w.group_work_id == g and w.group_id != g for w in work)
            }
            assignable = set(usable) - withheld
        if not is_admin:
            assignable -= admin_groups
        assignable_frozen = frozenset(assignable)
        required = frozenset(g for g in assignable_frozen if required_by_group.get(g))

        if has("lhuser", "assign_all_department_group"):
            dep_groups = frozenset(d.id for d in DepartmentGroup.select(DepartmentGroup.id))
        elif has("lhuser", "assign_to_own_department_group"):
            dep_groups = frozenset(
                a.dep_group_id
                for a in DepartmentGroupUser.select(DepartmentGroupUser.dep_group_id).where(
                    DepartmentGroupUser.user_id == actor_id
                )
            )
        else:
            dep_groups = frozenset()

        if has("lhuser", "assign_all_department_individual"):
            departments = frozenset(d.id for d in Department.select(Department.id))
        elif has("lhuser", "assign_to_own_department_individual"):
            departments = frozenset(
                r.dep_id
                for r in UserDep.select(UserDep.dep_id).where(
                    (UserDep.user_id == actor_id) & (UserDep.type == 0) & (UserDep.dep_id > 0)
                )
            )
        else:
            departments = frozenset()

        return cls(
            actor_id=actor_id,
            is_administrator=is_admin,
            edits_all_groups=edits_all,
            sees_all_users=has("lhuser", "see_all"),
            may_edit_users=has("lhuser", "edituser"),
            own_groups=own,
            usable_groups=usable,
            assignable_groups=assignable_frozen,
            required_groups=required,
            administration_groups=admin_groups,
            administrator_users=holders.administrators,
            latent_administrator_users=holders.latent_administrators,
            administration_members=holders.members,
            assignable_department_groups=dep_groups,
            assignable_departments=departments,
        )

    # -- user sets as SQL conditions ------------------------------------------------------

    def visible_users_condition(self, *, per_user: bool = False) -> Expression:
        """Users the actor sees: all with ``see_all``; else self plus members of usable groups.

        Two equivalent forms, for two kinds of query. By default the members of the usable
        groups are collected once (``id IN (SELECT user_id ...)``): right for counts and for
        narrow scopes, where the few members drive the query. With ``per_user`` each user is
        probed through the membership index (``EXISTS``): right for queries that visit few
        users, such as a list of ids or a page walked in sort order and stopped at its size,
        which would otherwise first collect every member of a group of 100,000.
        """
        if self.sees_all_users:
            return User.id.is_null(False)
        groups = sorted(self.usable_groups)
        if per_user:
            membership = GroupUser.alias()
            member = membership.select(SQL("1")).where(
                (membership.user_id == User.id) & membership.group_id.in_(groups)
            )
            return (User.id == self.actor_id) | fn.EXISTS(member)
        members = GroupUser.select(GroupUser.user_id).where(GroupUser.group_id.in_(groups))
        return (User.id == self.actor_id) | User.id.in_(members)

    def editable_users_condition(self, *, per_user: bool = False) -> Expression:
        """Visible users whose groups all lie in the usable set, minus administrators and every
        member of a group granting ``*/*`` (enabled or not, excluded or not): a non-administrator
        who set such a member's password would hold ``*/*`` the day an administrator enabled
        that group or dropped the exclusion.

        ``per_user`` as for ``visible_users_condition``: pass it when the query names its
        users (``User.id.in_(page_ids)``), so only those are probed.
        """
        if not self.may_edit_users:
            return User.id.is_null(True)  # matches nothing: ids are never NULL
        condition = self.visible_users_condition(per_user=per_user)
        if not self.edits_all_groups:
            # Correlated, so a page checks its own users' memberships through the user_id
            # index instead of collecting every membership outside the usable groups.
            membership = GroupUser.alias()
            outside = membership.select(SQL("1")).where(
                (membership.user_id == User.id)
                & membership.group_id.not_in(sorted(self.usable_groups))
            )
            condition &= ~fn.EXISTS(outside)
        if not self.is_administrator and self.administration_members:
            condition &= User.id.not_in(sorted(self.administration_members))
        return condition

    def visible_user_ids(self) -> list[int]:
        """All visible ids (CLI reports and tests; screens page instead)."""
        query = User.select(User.id).where(self.visible_users_condition()).order_by(User.id)
        return [u.id for u in query]

    def editable_user_ids(self) -> list[int]:
        query = User.select(User.id).where(self.editable_users_condition()).order_by(User.id)
        return [u.id for u in query]

    def is_visible(self, user_id: int) -> bool:
        condition = self.visible_users_condition(per_user=True)
        return User.select().where((User.id == user_id) & condition).exists()

    def is_editable(self, user_id: int) -> bool:
        condition = self.editable_users_condition(per_user=True)
        return User.select().where((User.id == user_id) & condition).exists()


def administration_group_ids(*, include_disabled: bool = False) -> frozenset[int]:
    """Enabled groups one of whose roles has a ``*/*`` grant row (SPEC §3).

    With ``include_disabled``, disabled ones too: a dormant administrators' group becomes one
    the moment it is enabled, so only administrators may change it.
    """
    query = (
        GroupRole.select(GroupRole.group_id)
        .join(Group, on=(Group.id == GroupRole.group_id))
        .join(RoleFunction, on=(RoleFunction.role_id == GroupRole.role_id))
        .where(
            (RoleFunction.module == WILDCARD)
            & (RoleFunction.function == WILDCARD)
            & policy_type_is(GRANT)
        )
        .distinct()
    )
    if not include_disabled:
        query = query.where(Group.disabled == 0)
    return frozenset(r.group_id for r in query)


def star_star_group_ids() -> frozenset[int]:
    """Groups, enabled or not, one of whose roles has any ``*/*`` row (grant or exclusion).

    Changing such a group (enabling, disabling, deleting it, its roles) makes or unmakes
    administrators, so only administrators may (SPEC §3.2.4).
    """
    query = (
        GroupRole.select(GroupRole.group_id)
        .join(RoleFunction, on=(RoleFunction.role_id == GroupRole.role_id))
        .where((RoleFunction.module == WILDCARD) & (RoleFunction.function == WILDCARD))
    )
    return frozenset(group_id for (group_id,) in tuple_rows(query))


def would_be_administrator(group_ids: set[int], *, every_group_enabled: bool = False) -> bool:
    """Whether membership of exactly these groups holds ``*/*`` (SPEC §2 over enabled groups).

    With ``every_group_enabled``, whether it would once every group is enabled: a ``*/*`` grant
    row through any of them and a ``*/*`` exclusion through none (a latent administrator).
    """
    if not group_ids:
        return False

    def carrying(row_type: int) -> bool:
        query = (
            GroupRole.select()
            .join(Group, on=(Group.id == GroupRole.group_id))
            .join(RoleFunction, on=(RoleFunction.role_id == GroupRole.role_id))
            .where(
                GroupRole.group_id.in_(sorted(group_ids))
                & (RoleFunction.module == WILDCARD)
                & (RoleFunction.function == WILDCARD)
                & policy_type_is(row_type)
            )
        )
        if not every_group_enabled:
            query = query.where(Group.disabled == 0)
        return query.exists()

    return carrying(GRANT) and not carrying(EXCLUDE)


@dataclass(frozen=True)
class StarStarHolders:
    """Who ``*/*`` rows reach, read in two queries (SPEC §3).

    ``grant_groups``: groups granting ``*/*``, enabled or disabled. ``administrators``: users
    with a grant through an enabled group and no exclusion through an enabled group.
    ``latent_administrators``: users who would be administrators were every group enabled (a
    grant through any group, an exclusion through none). ``members``: every member of a group
    granting ``*/*``, exclusions ignored (an exclusion in a disabled group excludes nothing, and
    an administrator may drop an enabled one): the users only administrators may change.
    """

    grant_groups: frozenset[int]
    administrators: frozenset[int]
    latent_administrators: frozenset[int]
    members: frozenset[int] = frozenset()


def star_star_holders() -> StarStarHolders:
    """The groups carrying ``*/*`` rows, then their members through the ``group_id`` index."""
    grant: dict[int, bool] = {}  # group -> enabled
    exclude: dict[int, bool] = {}
    rows = tuple_rows(
        GroupRole.select(GroupRole.group_id, Group.disabled, policy_type_column())
        .join(Group, JOIN.INNER, on=(Group.id == GroupRole.group_id))
        .join(RoleFunction, on=(RoleFunction.role_id == GroupRole.role_id))
        .where((RoleFunction.module == WILDCARD) & (RoleFunction.function == WILDCARD))
    )
    for group_id, disabled, row_type in rows:
        if row_type == GRANT:
            grant[group_id] = not disabled
        elif row_type == EXCLUDE:
            exclude[group_id] = not disabled
    if not grant:
        return StarStarHolders(frozenset(), frozenset(), frozenset())
    # Every member of these few groups (a grant group's members are the candidates, an
    # exclusion group's members are needed to rule them out). No DISTINCT: it would lead
    # SQLite to walk the user_id index over every membership.
    memberships = GroupUser.select(GroupUser.group_id, GroupUser.user_id).where(
        GroupUser.group_id.in_(sorted(grant.keys() | exclude.keys()))
    )
    granted_now: set[int] = set()
    granted_ever: set[int] = set()
    excluded_now: set[int] = set()
    excluded_ever: set[int] = set()
    for group_id, user_id in tuple_rows(memberships):
        if group_id in grant:
            granted_ever.add(user_id)
            if grant[group_id]:
                granted_now.add(user_id)
        if group_id in exclude:
            excluded_ever.add(user_id)
            if exclude[group_id]:
                excluded_now.add(user_id)
    return StarStarHolders(
        grant_groups=frozenset(grant),
        administrators=frozenset(granted_now - excluded_now),
        latent_administrators=frozenset(granted_ever - excluded_ever),
        members=frozenset(granted_ever),
    )


def administrator_user_ids() -> frozenset[int]:
    """Users holding ``*/*``: a grant through an enabled group, and no ``*/*`` exclusion."""
    return star_star_holders().administrators


def count_users(condition: Expression) -> int:
    """How many users match a scope condition (for page footers)."""
    return User.select(fn.COUNT(User.id)).where(condition).scalar() or 0
