"""The ``lh_userdep`` bookkeeping LHC does on every department change (SPEC §1.1).

These functions write rows only; callers check permissions and scope first and run them inside
one transaction. They keep ``lh_userdep`` (the table chat access reads), ``departments_ids`` (a
display cache) and ``cache_version`` (LHC's signal to drop cached permissions) in step.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import (
    DepartmentGroupMember,
    DepartmentGroupUser,
    DepartmentGroupUserDisabled,
    User,
    UserDep,
    UserDepDisabled,
    dict_rows,
    tuple_rows,
)
from .schema import has_table

DIRECT = 0
FROM_GROUP = 1
ALL_DEPARTMENTS = 0
NOT_ALL_PLACEHOLDER = -1


def _user_copies(user: User) -> dict[str, int]:
    """The user-level values LHC copies into each of the user's department rows."""
    return {
        "max_chats": user.max_active_chats,
        "hide_online": user.hide_online,
        "exclude_autoasign": user.exclude_autoasign,
        "always_on": user.always_on,
    }


def rebuild_group_rows(user: User, dep_group_id: int) -> None:
    """Replace the user's rows derived from one department group by fresh ones."""
    UserDep.delete().where(
        (UserDep.user_id == user.id) & (UserDep.dep_group_id == dep_group_id)
    ).execute()
    assignment = DepartmentGroupUser.get_or_none(
        (DepartmentGroupUser.user_id == user.id)
        & (DepartmentGroupUser.dep_group_id == dep_group_id)
    )
    if assignment is None:
        return
    members = (
        DepartmentGroupMember.select(DepartmentGroupMember.dep_id)
        .where(DepartmentGroupMember.dep_group_id == dep_group_id)
        .order_by(DepartmentGroupMember.id)
    )
    copies = _user_copies(user)
    rows = [
        dict(
            user_id=user.id,
            dep_id=m.dep_id,
            type=FROM_GROUP,
            dep_group_id=dep_group_id,
            ro=assignment.read_only,
            exc_indv_autoasign=assignment.exc_indv_autoasign,
            last_activity=0,
            **copies,
        )
        for m in members
    ]
    if rows:
        UserDep.insert_many(rows).execute()


def departments_ids_text(dep_ids: Iterable[int]) -> str:
    """LHC's ``departments_ids`` column from a user's rows' ``dep_id`` in ascending row id:
    each department once, in the order first met, comma-separated."""
    return ",".join(str(d) for d in dict.fromkeys(dep_ids))


def recompute_departments_ids(user_ids: Iterable[int]) -> None:
    """Set each user's ``departments_ids`` from their rows (distinct, ascending row id)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    found: dict[int, list[int]] = {uid: [] for uid in ids}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        rows = tuple_rows(
            UserDep.select(UserDep.user_id, UserDep.dep_id)
            .where(UserDep.user_id.in_(chunk))
            .order_by(UserDep.id)
        )
        for uid, dep_id in rows:
            found[uid].append(dep_id)
    for uid, deps in found.items():
        User.update(departments_ids=departments_ids_text(deps)).where(User.id == uid).execute()


def bump(user_ids: Iterable[int]) -> None:
    """Bump ``cache_version`` of the given users (LHC drops their cached permissions)."""
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), 500):
        User.update(cache_version=User.cache_version + 1).where(
            User.id.in_(ids[start : start + 500])
        ).execute()


def bump_everyone() -> None:
    """Any change to groups, roles, policies or department groups bumps every user."""
    User.update(cache_version=User.cache_version + 1).execute()


def settle(user_ids: Iterable[int]) -> None:
    """After a department change: recompute ``departments_ids`` and bump, for these users."""
    ids = sorted(set(user_ids))
    recompute_departments_ids(ids)
    bump(ids)


def set_all_departments(user: User, on: bool) -> None:
    """LHC's "all departments" switch: a ``dep_id=0`` row on, a ``-1`` placeholder off."""
    User.update(all_departments=int(on)).where(User.id == user.id).execute()
    UserDep.delete().where(
        (UserDep.user_id == user.id)
        & (UserDep.type == DIRECT)
        & UserDep.dep_id.in_([ALL_DEPARTMENTS, NOT_ALL_PLACEHOLDER])
    ).execute()
    copies = _user_copies(user)
    if on:
        UserDep.create(user_id=user.id, dep_id=ALL_DEPARTMENTS, type=DIRECT, **copies)
    else:
        UserDep.create(
            user_id=user.id,
            dep_id=NOT_ALL_PLACEHOLDER,
            type=DIRECT,
            ro=1,
            exc_indv_autoasign=1,
            **copies,
        )


def park(user_id: int) -> None:
    """Disable: move the user's department rows and assignments to the ``*_disabled`` tables."""
    if not has_table(UserDepDisabled):  # older LHC: a disabled user's rows stay where they are
        return
    _move(UserDep, UserDepDisabled, user_id)
    _move(DepartmentGroupUser, DepartmentGroupUserDisabled, user_id)


def unpark(user_id: int) -> None:
    """Enable: move the parked rows back, in their original order.

    A department group whose departments changed while the user was disabled has its derived
    rows rebuilt from the group as it is now; the others come back exactly as they were.
    """
    if not has_table(UserDepDisabled):
        return
    _move(UserDepDisabled, UserDep, user_id)
    _move(DepartmentGroupUserDisabled, DepartmentGroupUser, user_id)
    user = User.get_by_id(user_id)
    assignments = DepartmentGroupUser.select(DepartmentGroupUser.dep_group_id).where(
        DepartmentGroupUser.user_id == user_id
    )
    for assignment in assignments.order_by(DepartmentGroupUser.id):
        group_id = assignment.dep_group_id
        members = DepartmentGroupMember.select(DepartmentGroupMember.dep_id).where(
            DepartmentGroupMember.dep_group_id == group_id
        )
        derived = UserDep.select(UserDep.dep_id).where(
            (UserDep.user_id == user_id) & (UserDep.dep_group_id == group_id)
        )
        if sorted(m.dep_id for m in members) != sorted(r.dep_id for r in derived):
            rebuild_group_rows(user, group_id)


_ParkingTable = type[UserDep | UserDepDisabled | DepartmentGroupUser | DepartmentGroupUserDisabled]
"""A table of a user's department rows or assignments, or its ``_disabled`` parking table."""


def _move(source: _ParkingTable, target: _ParkingTable, user_id: int) -> None:
    """Copy rows to ``target`` (fresh ids, same order and values), then delete them."""
    query = source.select().where(source.user_id == user_id).order_by(source.id)
    rows = list(dict_rows(query))
    for row in rows:
        row.pop("id")
    if rows:
        target.insert_many(rows).execute()
    source.delete().where(source.user_id == user_id).execute()


def forget_user(user_id: int) -> None:
    """Delete: remove every department row and assignment of the user, parked ones too."""
    for model in (UserDep, UserDepDisabled, DepartmentGroupUser, DepartmentGroupUserDisabled):
        if has_table(model):
            model.delete().where(model.user_id == user_id).execute()
