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
A ``strict`` state is the command line's, which names each change (``user groups --remove``):
what it leaves out is removed, and each change is judged by its own service, so a refusal names
that change and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConflictError
from .views import EditChoices, UserDetail

if TYPE_CHECKING:
    from .session import Session


@dataclass(frozen=True)
class WantedUser:
    """The state a caller wants for one user; a part left ``None`` (or a field left out) is kept.

    ``department_groups`` and ``departments`` map an id to its read-only flag;
    ``all_departments`` is LHC's "all departments" flag. ``expected_version`` is the
    ``cache_version`` the caller saw: a change made meanwhile by someone else stops the save
    with a conflict.

    ``strict`` (the command line's single-user commands, which name each change): what the
    state leaves out is removed even outside the actor's assignable sets, and a user the actor
    may not edit is refused by the service of the first change, with its reason ("may not
    disable user …", "may not assign department group …"). Otherwise (the form, ``apply``,
    bulk changes) what the actor may not hand out is kept, and such a user is refused as a
    whole. Either way a user the actor may not edit is refused when nothing would change.
    """

    fields: Mapping[str, str] = field(default_factory=dict)
    disabled: bool | None = None
    groups: frozenset[int] | None = None
    department_groups: Mapping[int, bool] | None = None
    departments: Mapping[int, bool] | None = None
    expected_version: int | None = None
    all_departments: bool | None = None
    strict: bool = False


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
    all_departments: bool | None = None  # None: unchanged

    @property
    def empty(self) -> bool:
        return not (
            self.fields
            or self.disabled is not None
            or self.all_departments is not None
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
    """The changes that take ``user`` to ``wanted``, within what the actor may hand out (or,
    ``strict``, all of them: the services refuse what the actor may not do).

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
    all_departments = (
        wanted.all_departments
        if wanted.all_departments is not None and wanted.all_departments != user.all_departments
        else None
    )
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    if wanted.groups is not None:
        current = {g.id for g in user.groups}
        removable = current if wanted.strict else current & choices.groups
        added = tuple(sorted(set(wanted.groups) - current))
        removed = tuple(sorted(removable - set(wanted.groups)))
    dg_assigned, dg_unassigned = _assignments(
        {a.id: a.read_only for a in user.department_groups},
        None if wanted.strict else choices.department_groups,
        wanted.department_groups,
    )
    dep_assigned, dep_unassigned = _assignments(
        {a.id: a.read_only for a in user.departments},
        None if wanted.strict else choices.departments,
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
        all_departments=all_departments,
    )


def _assignments(
    current: dict[int, bool],
    assignable: frozenset[int] | None,
    wanted: Mapping[int, bool] | None,
) -> tuple[tuple[tuple[int, bool], ...], tuple[int, ...]]:
    """(assign: id and read-only flag, new or with the flag changed; unassign: ids, among
    ``assignable`` unless it is None)."""
    if wanted is None:
        return (), ()
    assign = tuple(sorted((i, bool(ro)) for i, ro in wanted.items() if current.get(i) != bool(ro)))
    held = set(current) if assignable is None else set(current) & assignable
    unassign = tuple(sorted(held - set(wanted)))
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
            difference = user_difference(user, choices, wanted)
            if choices.read_only and (difference.empty or not wanted.strict):
                # Refused even when nothing would change: "unchanged" would tell the caller
                # the file matches a user they may not edit (what is kept is kept for them).
                # A strict change is left to its service, whose refusal names the change.
                with session.reading() as ctx:
                    ctx.refuse(f"change user {user.username!r}", choices.read_only_reason)
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
            if difference.all_departments is not None:
                if version != user.cache_version:  # set_all_departments checks no version
                    raise ConflictError(
                        f"User {user.username!r} was changed by someone else since you opened "
                        "it; reload"
                    )
                user = assignments.set_all_departments(user_id, difference.all_departments)
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
