"""One user's records as the user, group, assignment and insight services share them.

Loading the target user as far as the actor may reach it (``visible_user``, ``editable_user``:
the rulebook decides, these raise), a department group or department the actor may hand out,
the optimistic-concurrency check, the user's detail view, its audit snapshot, and writing one
department or department-group assignment row. No decisions of their own: those are in
``store.rules``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import rules, userdeps, validation
from .database import is_server
from .departments import existing_department, existing_group
from .errors import ConflictError, NotFoundError
from .models import (
    Department,
    DepartmentGroup,
    DepartmentGroupUser,
    Group,
    GroupUser,
    User,
    UserDep,
    database_proxy,
    tuple_rows,
)
from .views import Assignment, Ref, UserDetail

if TYPE_CHECKING:
    from .session import ActionContext


def snapshot(user: User) -> dict[str, Any]:
    """The audit view of a user row (secrets are scrubbed by the audit writer)."""
    return {
        "username": user.username,
        "email": user.email,
        "name": user.name,
        "surname": user.surname,
        "job_title": user.job_title,
        "disabled": user.disabled,
        "all_departments": user.all_departments,
        "groups": sorted(
            g.group_id for g in GroupUser.select().where(GroupUser.user_id == user.id)
        ),
    }


def visible_user(ctx: ActionContext, user_id: int) -> User:
    """The user, if the actor sees them; else "not found" (never a refusal, which would tell
    that the account exists)."""
    user_id = validation.one_id(user_id, "User")
    user = User.get_or_none(User.id == user_id)
    if user is None or not rules.sees_user(ctx, user_id):
        raise NotFoundError(f"No user #{user_id} among the users you can see")
    return user


def editable_user(ctx: ActionContext, user_id: int, verb: str, *, allow_self: bool = False) -> User:
    """The target user, or a refusal saying precisely why it is out of reach
    (``rules.refusal_to_edit_user``)."""
    user = visible_user(ctx, user_id)
    reason = rules.refusal_to_edit_user(ctx, user, allow_self=allow_self)
    if reason:
        ctx.refuse(f"{verb} user {user.username!r}", reason)
    return user


def assignable_department_group(ctx: ActionContext, dep_group_id: int) -> DepartmentGroup:
    """The department group, or a refusal unless the actor may hand it out."""
    group = existing_group(dep_group_id)
    ctx.refuse_if(
        f"assign department group '{group.name}'",
        rules.refusal_to_assign_department_group(ctx, group.id),
    )
    return group


def assignable_department(ctx: ActionContext, department_id: int) -> Department:
    """The department, or a refusal unless the actor may hand it out."""
    department = existing_department(department_id)
    ctx.refuse_if(
        f"assign department {department.name!r}",
        rules.refusal_to_assign_department(ctx, department.id),
    )
    return department


def check_version(user: User, expected: int | None) -> None:
    """Optimistic concurrency: refuse when the user changed since the form read ``expected``.

    SQLite's write transaction already holds the database's write lock, so the row read is
    current. On a server the row is re-read with ``FOR UPDATE``: that waits for any other
    transaction writing it and sees its committed result, so two consoles saving the same form
    cannot both pass this check (the second gets the conflict, nothing is overwritten).
    """
    if expected is None:
        return
    current = user.cache_version
    if is_server(database_proxy.obj):
        current = User.select(User.cache_version).where(User.id == user.id).for_update().scalar()
    if current != expected:
        raise ConflictError(
            f"User {user.username!r} was changed by someone else since you opened it; reload"
        )


def assign_department(user: User, department_id: int, read_only: bool) -> None:
    """A direct (``type=0``) department row, or a new read-only flag on the existing one."""
    row = UserDep.get_or_none(
        (UserDep.user_id == user.id)
        & (UserDep.type == userdeps.DIRECT)
        & (UserDep.dep_id == department_id)
    )
    if row is None:
        UserDep.create(
            user_id=user.id,
            dep_id=department_id,
            type=userdeps.DIRECT,
            dep_group_id=0,
            ro=int(read_only),
            max_chats=user.max_active_chats,
            hide_online=user.hide_online,
            exclude_autoasign=user.exclude_autoasign,
            always_on=user.always_on,
        )
    else:
        UserDep.update(ro=int(read_only)).where(UserDep.id == row.id).execute()


def assign_department_group(user: User, dep_group_id: int, read_only: bool) -> None:
    """A department-group assignment (or a new read-only flag on it), and its derived rows."""
    existing = DepartmentGroupUser.get_or_none(
        (DepartmentGroupUser.user_id == user.id)
        & (DepartmentGroupUser.dep_group_id == dep_group_id)
    )
    if existing is None:
        DepartmentGroupUser.create(
            dep_group_id=dep_group_id, user_id=user.id, read_only=int(read_only)
        )
    else:
        DepartmentGroupUser.update(read_only=int(read_only)).where(
            DepartmentGroupUser.id == existing.id
        ).execute()
    userdeps.rebuild_group_rows(user, dep_group_id)


def detail(ctx: ActionContext, user: User) -> UserDetail:
    """A visible user with their groups and department assignments, each marked changeable
    where the rulebook lets the actor change it; other users' assignments only as far as the
    actor may be told of them (SPEC §3 rule 7)."""
    scope = ctx.scope
    editable = scope.is_editable(user.id)
    may_change_groups = rules.may_change_groups_of(ctx, user.id, editable=editable)
    group_rows = (
        Group.select(Group.id, Group.name)
        .join(GroupUser, on=(GroupUser.group_id == Group.id))
        .where(GroupUser.user_id == user.id)
        .order_by(Group.name)
    )
    groups = tuple(
        Ref(g.id, g.name, may_change_groups and g.id in scope.assignable_groups) for g in group_rows
    )
    dg_rows = (
        DepartmentGroupUser.select(
            DepartmentGroupUser.dep_group_id, DepartmentGroup.name, DepartmentGroupUser.read_only
        )
        .join(DepartmentGroup, on=(DepartmentGroup.id == DepartmentGroupUser.dep_group_id))
        .where(DepartmentGroupUser.user_id == user.id)
        .order_by(DepartmentGroup.name)
    )
    may_change_deps = rules.may_change_departments(ctx, user.id, editable=editable)
    own = user.id == ctx.actor_id
    shown_groups = None if own else rules.shown_department_groups(ctx)
    shown_departments = None if own else rules.shown_departments(ctx)
    department_groups = tuple(
        Assignment(
            dgid, name, bool(ro), may_change_deps and dgid in scope.assignable_department_groups
        )
        for dgid, name, ro in tuple_rows(dg_rows)
        if shown_groups is None or dgid in shown_groups
    )
    dep_rows = (
        UserDep.select(UserDep.dep_id, UserDep.ro, Department.name)
        .join(Department, on=(Department.id == UserDep.dep_id))
        .where((UserDep.user_id == user.id) & (UserDep.type == userdeps.DIRECT))
        .order_by(Department.name)
    )
    departments = tuple(
        Assignment(
            dep_id, name, bool(ro), may_change_deps and dep_id in scope.assignable_departments
        )
        for dep_id, ro, name in tuple_rows(dep_rows)
        if shown_departments is None or dep_id in shown_departments
    )
    return UserDetail(
        id=user.id,
        username=user.username,
        email=user.email,
        name=user.name,
        surname=user.surname,
        job_title=user.job_title,
        disabled=bool(user.disabled),
        all_departments=bool(user.all_departments),
        departments_ids=(
            user.departments_ids
            if shown_groups is None and shown_departments is None
            else _shown_departments_ids(user.id, shown_groups, shown_departments)
        ),
        cache_version=user.cache_version,
        editable=editable,
        is_administrator=user.id in scope.administrator_users,
        groups=groups,
        department_groups=department_groups,
        departments=departments,
    )


def _shown_departments_ids(
    user_id: int, shown_groups: frozenset[int] | None, shown_departments: frozenset[int] | None
) -> str:
    """LHC's ``departments_ids`` as an actor who may not be told all of another user's
    assignments (SPEC §3 rule 7) may see it: worked out as ``userdeps`` stores it (the distinct
    ``dep_id`` of the rows, in ascending row id), from the rows of the assignments shown only.

    The stored list holds every department the user reaches, directly or through any group, so
    showing it as stored would tell the direct departments ``departments`` leaves out (and a
    dry run's "after" would tell whether the user keeps a department another way). It is worked
    out whenever the actor is so limited, whatever this user holds, so that whether it was
    filtered tells nothing either. The "all departments" rows (``dep_id`` 0 and -1) always show,
    as the flag does.
    """
    rows = (
        UserDep.select(UserDep.dep_id, UserDep.type, UserDep.dep_group_id)
        .where(UserDep.user_id == user_id)
        .order_by(UserDep.id)
    )

    def told(dep_id: int, kind: int | None, dep_group_id: int) -> bool:
        if int(kind or 0) == userdeps.FROM_GROUP:
            return shown_groups is None or dep_group_id in shown_groups
        return dep_id <= 0 or shown_departments is None or dep_id in shown_departments

    return userdeps.departments_ids_text(
        dep_id
        for dep_id, kind, dep_group_id in tuple_rows(rows)
        if told(dep_id, kind, dep_group_id)
    )
