"""One way to save a user: the caller says the state it wants, the store applies the difference.

The user form, ``apply``, the command line and bulk changes all describe a user the same way:
account fields, groups, department groups and departments (each with its read-only flag). They
used to compute the difference to the stored user themselves, each a little differently. Here
``UserSaveService.save`` reads the user and what the actor may hand out inside the save's own
transaction, computes the difference (``user_difference``), and applies it through the scoped
services in one transaction with one audit row: it lands whole or not at all.

The wanted state speaks only for what the actor may change: a group, department group or
department the user holds outside the actor's assignable sets is kept, not removed (the form
never offers it, and ``apply`` has always kept it). A part left ``None`` is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .views import EditChoices, UserDetail

if TYPE_CHECKING:
    from .session import Session


@dataclass(frozen=True)
class WantedUser:
    """The state a caller wants for one user; a part left ``None`` (or a field left out) is kept.

    ``department_groups`` and ``departments`` map an id to its read-only flag.
    ``expected_version`` is the ``cache_version`` the caller saw: a change made meanwhile by
    someone else stops the save with a conflict.
    """

    fields: Mapping[str, str] = field(default_factory=dict)
    disabled: bool | None = None
    groups: frozenset[int] | None = None
    department_groups: Mapping[int, bool] | None = None
    departments: Mapping[int, bool] | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class UserDifference:
    """What a save changes: each part sorted, so two computations compare equal."""

    fields: tuple[tuple[str, str], ...] = ()
    disabled: bool | None = None  # None: unchanged
    groups_added: tuple[int, ...] = ()
    groups_removed: tuple[int, ...] = ()
    department_groups_assigned: tuple[tuple[int, bool], ...] = ()
    department_groups_unassigned: tuple[int, ...] = ()
    departments_assigned: tuple[tuple[int, bool], ...] = ()
    departments_unassigned: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.fields
            or self.disabled is not None
            or self.groups_added
            or self.groups_removed
            or self.department_groups_assigned
            or self.department_groups_unassigned
            or self.departments_assigned
            or self.departments_unassigned
        )


@dataclass(frozen=True)
class SavedUser:
    """The user as stored after the save, and the difference that was applied."""

    user: UserDetail
    difference: UserDifference


def _comparable(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def user_difference(user: UserDetail, choices: EditChoices, wanted: WantedUser) -> UserDifference:
    """The changes that take ``user`` to ``wanted``, within what the actor may hand out.

    Fields compare as the store will store them (surrounding spaces do not count); the store
    validates them again when it writes.
    """
    fields = tuple(
        sorted(
            (key, value)
            for key, value in wanted.fields.items()
            if _comparable(getattr(user, key, None)) != _comparable(value)
        )
    )
    disabled = (
        wanted.disabled
        if wanted.disabled is not None and wanted.disabled != user.disabled
        else None
    )
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    if wanted.groups is not None:
        current = {g.id for g in user.groups}
        assignable = choices.groups
        added = tuple(sorted(set(wanted.groups) - current))
        removed = tuple(sorted((current & assignable) - set(wanted.groups)))
    dg_assigned, dg_unassigned = _assignments(
        {a.id: a.read_only for a in user.department_groups},
        choices.department_groups,
        wanted.department_groups,
    )
    dep_assigned, dep_unassigned = _assignments(
        {a.id: a.read_only for a in user.departments},
        choices.departments,
        wanted.departments,
    )
    return UserDifference(
        fields=fields,
        disabled=disabled,
        groups_added=added,
        groups_removed=removed,
        department_groups_assigned=dg_assigned,
        department_groups_unassigned=dg_unassigned,
        departments_assigned=dep_assigned,
        departments_unassigned=dep_unassigned,
    )


def _assignments(
    current: dict[int, bool], assignable: frozenset[int], wanted: Mapping[int, bool] | None
) -> tuple[tuple[tuple[int, bool], ...], tuple[int, ...]]:
    """(assign: id and read-only flag, new or with the flag changed; unassign: ids)."""
    if wanted is None:
        return (), ()
    assign = tuple(sorted((i, bool(ro)) for i, ro in wanted.items() if current.get(i) != bool(ro)))
    unassign = tuple(sorted((set(current) & assignable) - set(wanted)))
    return assign, unassign


class UserSaveService:
    """``session.user_save``: apply a wanted user state in one transaction, one audit row."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def difference(self, user_id: int, wanted: WantedUser) -> UserDifference:
        """What ``save`` would change now (read only; the save computes it again)."""
        users = self._session.users
        with self._session.reading():
            return user_difference(users.get(user_id), users.choices(user_id), wanted)

    def save(self, user_id: int, wanted: WantedUser, *, action: str = "user.save") -> SavedUser:
        """Apply the difference between the stored user and ``wanted``; nothing if none.

        Each step passes the version the previous one left, so a change made meanwhile by
        someone else stops the save with a ``ConflictError`` and the whole save rolls back.
        """
        session = self._session
        users, assignments = session.users, session.assignments
        with session.together(action):
            user = users.get(user_id)
            choices = users.choices(user_id)
            if choices.read_only:
                # Refused even when nothing would change: "unchanged" would tell the caller
                # the file matches a user they may not edit (what is kept is kept for them).
                with session.reading() as ctx:
                    ctx.refuse(f"change user {user.username!r}", choices.read_only_reason)
            difference = user_difference(user, choices, wanted)
            # The first write checks the caller's version (or the one just read, which the
            # difference was computed from) under the row lock; each later one the one before's.
            version = (
                user.cache_version if wanted.expected_version is None else wanted.expected_version
            )
            if difference.fields:
                user = users.update(user_id, expected_version=version, **dict(difference.fields))
                version = user.cache_version
            if difference.groups_added or difference.groups_removed:
                user = users.change_groups(
                    user_id,
                    add=difference.groups_added,
                    remove=difference.groups_removed,
                    expected_version=version,
                )
                version = user.cache_version
            for dg in difference.department_groups_unassigned:
                user = assignments.unassign_department_group(user_id, dg, expected_version=version)
                version = user.cache_version
            for dg, read_only in difference.department_groups_assigned:
                user = assignments.assign_department_group(
                    user_id, dg, read_only=read_only, expected_version=version
                )
                version = user.cache_version
            for dep in difference.departments_unassigned:
                user = assignments.unassign_department(user_id, dep, expected_version=version)
                version = user.cache_version
            for dep, read_only in difference.departments_assigned:
                user = assignments.assign_department(
                    user_id, dep, read_only=read_only, expected_version=version
                )
                version = user.cache_version
            if difference.disabled is not None:
                user = users.set_disabled(user_id, difference.disabled)
        return SavedUser(user, difference)
