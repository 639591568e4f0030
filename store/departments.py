"""Departments and department groups (``lhdepartment``).

Changing which departments a department group holds rewrites the derived ``lh_userdep`` rows
of every user assigned to it, as LHC does (SPEC §1.1), in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from peewee import fn

from . import rules, userdeps, validation
from .errors import NotFoundError, ValidationError
from .models import (
    Department,
    DepartmentGroup,
    DepartmentGroupMember,
    DepartmentGroupUser,
    DepartmentGroupUserDisabled,
    User,
    UserDep,
    UserDepDisabled,
    tuple_rows,
)
from .schema import has_table
from .views import DepartmentGroupInfo, Ref

if TYPE_CHECKING:
    from .session import Session

PROTECTED_DEPARTMENT_ID = 1


def _members(dep_group_id: int) -> list[int]:
    query = DepartmentGroupMember.select(DepartmentGroupMember.dep_id).where(
        DepartmentGroupMember.dep_group_id == dep_group_id
    )
    return [m.dep_id for m in query.order_by(DepartmentGroupMember.id)]


def _snapshot(group: DepartmentGroup) -> dict[str, Any]:
    return {"name": group.name, "departments": sorted(_members(group.id))}


class DepartmentService:
    """Departments (list, create) and department groups (``managegroups``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # -- departments ---------------------------------------------------------------------

    def list_departments(self) -> list[Ref]:
        with self._session.reading() as ctx:
            ctx.refuse_if("list departments", rules.refusal_to_list_departments(ctx))
            return [Ref(d.id, d.name) for d in Department.select().order_by(Department.name)]

    def create_department(self, name: str, *, email: str = "") -> Ref:
        """A department with every LHC column at its default."""
        with self._session.action() as ctx:
            ctx.refuse_if("create departments", rules.refusal_to_create_departments(ctx))
            name = validation.text(name, "Department name", 100)
            email = validation.email(email, required=False)
            if Department.select().where(fn.LOWER(Department.name) == name.lower()).exists():
                raise ValidationError(f"A department named {name!r} already exists")
            department = Department.create(name=name, email=email)
            ctx.audit("department", department.id, "department.create", None, {"name": name})
            return Ref(department.id, department.name)

    # -- department groups ---------------------------------------------------------------

    def list_groups(self) -> list[DepartmentGroupInfo]:
        """Department groups with departments and assignment counts."""
        with self._session.reading() as ctx:
            ctx.refuse_if("list department groups", rules.refusal_to_list_department_groups(ctx))
            return _infos(None)

    def get_group(self, dep_group_id: int) -> DepartmentGroupInfo:
        with self._session.reading() as ctx:
            ctx.refuse_if("list department groups", rules.refusal_to_list_department_groups(ctx))
            infos = _infos([validation.one_id(dep_group_id, "Department group")])
            if not infos:
                raise NotFoundError(f"No department group with id {dep_group_id}")
            return infos[0]

    def create_group(self, name: str, departments: Sequence[int] = ()) -> DepartmentGroupInfo:
        with self._session.action() as ctx:
            ctx.refuse_if(
                "create department groups", rules.refusal_to_manage_department_groups(ctx)
            )
            name = _unique_name(name, None)
            dep_ids = _existing_departments(departments)
            group = DepartmentGroup.create(name=name)
            if dep_ids:
                DepartmentGroupMember.insert_many(
                    [{"dep_id": d, "dep_group_id": group.id} for d in dep_ids]
                ).execute()
            userdeps.bump_everyone()
            ctx.audit(
                "department_group", group.id, "department_group.create", None, _snapshot(group)
            )
            return _infos([group.id])[0]

    def rename_group(self, dep_group_id: int, name: str) -> DepartmentGroupInfo:
        with self._session.action() as ctx:
            ctx.refuse_if(
                "rename department groups", rules.refusal_to_manage_department_groups(ctx)
            )
            group = _dep_group(dep_group_id)
            name = _unique_name(name, group.id)
            if name == group.name:
                return _infos([group.id])[0]  # its name already: nothing to write
            before = _snapshot(group)
            DepartmentGroup.update(name=name).where(DepartmentGroup.id == group.id).execute()
            userdeps.bump_everyone()
            group = DepartmentGroup.get_by_id(group.id)
            ctx.audit(
                "department_group", group.id, "department_group.rename", before, _snapshot(group)
            )
            return _infos([group.id])[0]

    def set_group_departments(
        self, dep_group_id: int, departments: Sequence[int]
    ) -> DepartmentGroupInfo:
        """Make the group hold exactly these departments; assigned users' rows follow. The
        departments it holds already (in any order) are no change: nothing is written."""
        with self._session.action() as ctx:
            ctx.refuse_if(
                "change department groups", rules.refusal_to_manage_department_groups(ctx)
            )
            group = _dep_group(dep_group_id)
            wanted = _existing_departments(departments)
            current = _members(group.id)
            removed = [d for d in current if d not in wanted]
            added = [d for d in wanted if d not in current]
            if not removed and not added:
                return _infos([group.id])[0]
            before = _snapshot(group)
            if removed:
                DepartmentGroupMember.delete().where(
                    (DepartmentGroupMember.dep_group_id == group.id)
                    & DepartmentGroupMember.dep_id.in_(removed)
                ).execute()
            if added:
                DepartmentGroupMember.insert_many(
                    [{"dep_id": d, "dep_group_id": group.id} for d in added]
                ).execute()
            _rebuild_assigned(group.id)
            userdeps.bump_everyone()
            ctx.audit(
                "department_group",
                group.id,
                "department_group.departments",
                before,
                _snapshot(group),
            )
            return _infos([group.id])[0]

    def delete_group(self, dep_group_id: int) -> None:
        """Delete a department group, its assignments and the rows derived from them."""
        with self._session.action() as ctx:
            ctx.refuse_if(
                "delete department groups", rules.refusal_to_manage_department_groups(ctx)
            )
            group = _dep_group(dep_group_id)
            before = _snapshot(group)
            assigned = _assigned_users(group.id)
            before["assigned_users"] = assigned
            DepartmentGroupUser.delete().where(
                DepartmentGroupUser.dep_group_id == group.id
            ).execute()
            UserDep.delete().where(UserDep.dep_group_id == group.id).execute()
            if has_table(UserDepDisabled):
                DepartmentGroupUserDisabled.delete().where(
                    DepartmentGroupUserDisabled.dep_group_id == group.id
                ).execute()
                UserDepDisabled.delete().where(UserDepDisabled.dep_group_id == group.id).execute()
            DepartmentGroupMember.delete().where(
                DepartmentGroupMember.dep_group_id == group.id
            ).execute()
            DepartmentGroup.delete().where(DepartmentGroup.id == group.id).execute()
            userdeps.recompute_departments_ids(assigned)
            userdeps.bump_everyone()
            ctx.audit("department_group", group.id, "department_group.delete", before, None)


def _dep_group(dep_group_id: int) -> DepartmentGroup:
    dep_group_id = validation.one_id(dep_group_id, "Department group")
    group = DepartmentGroup.get_or_none(DepartmentGroup.id == dep_group_id)
    if group is None:
        raise NotFoundError(f"No department group with id {dep_group_id}")
    return group


def existing_group(dep_group_id: int) -> DepartmentGroup:
    """The department group with this id, or the store's "No department group" refusal (for
    other store modules naming one, such as rosters)."""
    return _dep_group(dep_group_id)


def existing_department(department_id: int) -> Department:
    """The department with this id, or the store's "No department" refusal."""
    department_id = validation.one_id(department_id, "Department")
    department = Department.get_or_none(Department.id == department_id)
    if department is None:
        raise NotFoundError(f"No department with id {department_id}")
    return department


def _existing_departments(departments: Sequence[int]) -> list[int]:
    dep_ids = validation.ids(departments, "Departments")
    if dep_ids:
        found = {d.id for d in Department.select(Department.id).where(Department.id.in_(dep_ids))}
        missing = [d for d in dep_ids if d not in found]
        if missing:
            raise NotFoundError(f"No department with id {', '.join(map(str, missing))}")
    return dep_ids


def _unique_name(name: str, dep_group_id: int | None) -> str:
    name = validation.text(name, "Department group name", 50)
    clash = DepartmentGroup.select().where(fn.LOWER(DepartmentGroup.name) == name.lower())
    if dep_group_id is not None:
        clash = clash.where(DepartmentGroup.id != dep_group_id)
    if clash.exists():
        raise ValidationError(f"A department group named {name!r} already exists")
    return name


def _assigned_users(dep_group_id: int) -> list[int]:
    query = DepartmentGroupUser.select(DepartmentGroupUser.user_id).where(
        DepartmentGroupUser.dep_group_id == dep_group_id
    )
    return sorted({a.user_id for a in query})


def _rebuild_assigned(dep_group_id: int) -> None:
    """Rebuild the derived rows of every user assigned to the group."""
    user_ids = _assigned_users(dep_group_id)
    for start in range(0, len(user_ids), 500):
        for user in User.select().where(User.id.in_(user_ids[start : start + 500])):
            userdeps.rebuild_group_rows(user, dep_group_id)
    userdeps.recompute_departments_ids(user_ids)


def _infos(ids: list[int] | None) -> list[DepartmentGroupInfo]:
    query = DepartmentGroup.select().order_by(DepartmentGroup.name)
    if ids is not None:
        query = query.where(DepartmentGroup.id.in_(ids))
    groups = list(query)
    names = {d.id: d.name for d in Department.select(Department.id, Department.name)}
    members: dict[int, list[int]] = {}
    for m in DepartmentGroupMember.select().order_by(DepartmentGroupMember.id):
        members.setdefault(m.dep_group_id, []).append(m.dep_id)
    counts: dict[int, int] = dict(
        tuple_rows(
            DepartmentGroupUser.select(
                DepartmentGroupUser.dep_group_id, fn.COUNT(DepartmentGroupUser.id)
            ).group_by(DepartmentGroupUser.dep_group_id)
        )
    )
    return [
        DepartmentGroupInfo(
            id=g.id,
            name=g.name,
            departments=tuple(
                Ref(d, names.get(d, f"#{d} (missing)")) for d in members.get(g.id, [])
            ),
            user_count=counts.get(g.id, 0),
        )
        for g in groups
    ]
