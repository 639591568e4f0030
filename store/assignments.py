"""Department and department-group assignments of users (SPEC §1.1 rows, §3.1 rules).

Only the assignable sets of the actor's scope may be added, removed or toggled read-only, for
other users and for oneself alike (SPEC §3.2.5: stricter than LHC's ``editdepartaments``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import rules, userdeps
from .errors import NotFoundError, ValidationError
from .models import Department, DepartmentGroup, DepartmentGroupUser, User, UserDep
from .user_records import (
    assign_department,
    assign_department_group,
    assignable_department,
    assignable_department_group,
    check_version,
    detail,
    editable_user,
    snapshot,
    visible_user,
)
from .views import UserDetail

if TYPE_CHECKING:
    from .session import ActionContext, Session


def _dep_snapshot(user: User) -> dict[str, object]:
    data = snapshot(user)
    data["department_groups"] = [
        [a.dep_group_id, a.read_only]
        for a in DepartmentGroupUser.select()
        .where(DepartmentGroupUser.user_id == user.id)
        .order_by(DepartmentGroupUser.id)
    ]
    data["departments_ids"] = user.departments_ids
    return data


def _finish(
    ctx: ActionContext, user_id: int, action: str, before: dict[str, object], **extra: object
) -> UserDetail:
    """After a department change: recompute, bump, audit, and return the user as now."""
    userdeps.settle([user_id])
    user = User.get_by_id(user_id)
    ctx.audit("user", user.id, action, before, _dep_snapshot(user), **extra)
    return detail(ctx, user)


def _refuse_disabled(user: User) -> None:
    """A disabled user's rows are parked in the ``*_disabled`` tables; writing live rows (a
    department, a department group's rows, "all departments"'s ``dep_id`` 0 row) would give
    them chat access the moment they are enabled, beside the parked rows coming back."""
    if user.disabled:
        raise ValidationError(
            f"User {user.username!r} is disabled: enable the account before changing "
            "their departments"
        )


class AssignmentService:
    """Who works in which departments: department groups, single departments, "all".

    Each change takes an optional ``expected_version`` (the ``cache_version`` the form read):
    when the user changed meanwhile, it is refused with a ``ConflictError`` and nothing is
    written. Each returns the user as now, whose ``cache_version`` the next change expects.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def _target(
        self, ctx: ActionContext, user_id: int, verb: str, expected_version: int | None = None
    ) -> User:
        """An editable user, or oneself when the actor may edit their own departments."""
        user = visible_user(ctx, user_id)
        ctx.refuse_if(
            f"{verb} user {user.username!r}", rules.refusal_to_change_departments_of(ctx, user)
        )
        check_version(user, expected_version)
        _refuse_disabled(user)
        return user

    def assign_department_group(
        self,
        user_id: int,
        dep_group_id: int,
        *,
        read_only: bool = False,
        expected_version: int | None = None,
    ) -> UserDetail:
        """Assign (or re-assign with a new read-only flag) a department group to a user; one
        assigned already with the same flag is no change, and nothing is written."""
        with self._session.action() as ctx:
            user = self._target(ctx, user_id, "change the department groups of", expected_version)
            assignable_department_group(ctx, dep_group_id)
            existing = DepartmentGroupUser.get_or_none(
                (DepartmentGroupUser.user_id == user.id)
                & (DepartmentGroupUser.dep_group_id == dep_group_id)
            )
            if existing is not None and bool(existing.read_only) == bool(read_only):
                return detail(ctx, user)
            before = _dep_snapshot(user)
            assign_department_group(user, dep_group_id, read_only)
            return _finish(
                ctx,
                user.id,
                "user.department_group.assign",
                before,
                dep_group_id=dep_group_id,
                read_only=read_only,
            )

    def unassign_department_group(
        self, user_id: int, dep_group_id: int, *, expected_version: int | None = None
    ) -> UserDetail:
        """Remove a department-group assignment and the rows derived from it."""
        with self._session.action() as ctx:
            user = self._target(ctx, user_id, "change the department groups of", expected_version)
            assignable_department_group(ctx, dep_group_id)
            existing = DepartmentGroupUser.get_or_none(
                (DepartmentGroupUser.user_id == user.id)
                & (DepartmentGroupUser.dep_group_id == dep_group_id)
            )
            if existing is None:
                raise NotFoundError(
                    f"User {user.username!r} is not assigned department group #{dep_group_id}"
                )
            before = _dep_snapshot(user)
            DepartmentGroupUser.delete().where(
                (DepartmentGroupUser.user_id == user.id)
                & (DepartmentGroupUser.dep_group_id == dep_group_id)
            ).execute()
            userdeps.rebuild_group_rows(user, dep_group_id)
            return _finish(
                ctx, user.id, "user.department_group.unassign", before, dep_group_id=dep_group_id
            )

    def assign_department(
        self,
        user_id: int,
        department_id: int,
        *,
        read_only: bool = False,
        expected_version: int | None = None,
    ) -> UserDetail:
        """Assign one department directly (a ``type=0`` row), or change its read-only flag;
        one assigned already with the same flag is no change, and nothing is written."""
        with self._session.action() as ctx:
            user = self._target(ctx, user_id, "change the departments of", expected_version)
            department = assignable_department(ctx, department_id)
            existing = UserDep.get_or_none(
                (UserDep.user_id == user.id)
                & (UserDep.type == userdeps.DIRECT)
                & (UserDep.dep_id == department.id)
            )
            if existing is not None and bool(existing.ro) == bool(read_only):
                return detail(ctx, user)
            before = _dep_snapshot(user)
            assign_department(user, department.id, read_only)
            return _finish(
                ctx,
                user.id,
                "user.department.assign",
                before,
                department_id=department.id,
                read_only=read_only,
            )

    def unassign_department(
        self, user_id: int, department_id: int, *, expected_version: int | None = None
    ) -> UserDetail:
        """Remove a direct department assignment."""
        with self._session.action() as ctx:
            user = self._target(ctx, user_id, "change the departments of", expected_version)
            department = assignable_department(ctx, department_id)
            condition = (
                (UserDep.user_id == user.id)
                & (UserDep.type == userdeps.DIRECT)
                & (UserDep.dep_id == department.id)
            )
            if not UserDep.select().where(condition).exists():
                raise NotFoundError(
                    f"User {user.username!r} is not assigned department {department.name!r}"
                )
            before = _dep_snapshot(user)
            UserDep.delete().where(condition).execute()
            return _finish(
                ctx, user.id, "user.department.unassign", before, department_id=department.id
            )

    def set_all_departments(self, user_id: int, on: bool) -> UserDetail:
        """Turn LHC's "all departments" on or off; needs ``lhuser/edit_all_departments``.

        Setting the value it has, with its row in place (``dep_id`` 0 on, the -1 placeholder
        off), is no change: nothing is written. Without that row it is written (as LHC does).
        """
        with self._session.action() as ctx:
            ctx.refuse_if("change 'all departments'", rules.refusal_to_change_all_departments(ctx))
            user = editable_user(ctx, user_id, "change the departments of")
            _refuse_disabled(user)
            marker = userdeps.ALL_DEPARTMENTS if on else userdeps.NOT_ALL_PLACEHOLDER
            markers = UserDep.select(UserDep.dep_id).where(
                (UserDep.user_id == user.id)
                & (UserDep.type == userdeps.DIRECT)
                & UserDep.dep_id.in_([userdeps.ALL_DEPARTMENTS, userdeps.NOT_ALL_PLACEHOLDER])
            )
            if bool(user.all_departments) == bool(on) and [m.dep_id for m in markers] == [marker]:
                return detail(ctx, user)
            before = _dep_snapshot(user)
            userdeps.set_all_departments(user, on)
            userdeps.settle([user.id])
            user = User.get_by_id(user.id)
            ctx.audit("user", user.id, "user.all_departments", before, _dep_snapshot(user), on=on)
            return detail(ctx, user)

    def assignable_department_groups(self) -> list[tuple[int, str]]:
        """``(id, name)`` of the department groups the actor may hand out, for pickers."""
        with self._session.reading() as ctx:
            ids = sorted(ctx.scope.assignable_department_groups)
            if not ids:
                return []
            query = DepartmentGroup.select(DepartmentGroup.id, DepartmentGroup.name).where(
                DepartmentGroup.id.in_(ids)
            )
            return [(g.id, g.name) for g in query.order_by(DepartmentGroup.name)]

    def assignable_departments(self) -> list[tuple[int, str]]:
        """``(id, name)`` of the departments the actor may hand out, for pickers."""
        with self._session.reading() as ctx:
            ids = sorted(ctx.scope.assignable_departments)
            if not ids:
                return []
            query = Department.select(Department.id, Department.name).where(Department.id.in_(ids))
            return [(d.id, d.name) for d in query.order_by(Department.name)]
