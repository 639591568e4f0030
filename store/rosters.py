"""Department rosters: who is in a department or a department group, and how (issue 19, 3).

LHC's users have asked since 2016 which operators are in a department (LHC issue #926); its
back office answers one user at a time. A roster answers it for one department or department
group, scoped like everything else:

- **Who.** A department's people are the users with an ``lh_userdep`` row for it (``type=0``
  a direct assignment, ``type=1`` a row derived from a department group), or for all
  departments (a ``dep_id=0`` row, or ``all_departments=1``). A department group's people are
  the users assigned to it (``lh_departament_group_user``). A disabled user's rows are parked
  in the ``*_disabled`` tables (SPEC §1.1); they are read there too and the person is marked
  disabled: enabling the account brings the assignment back.
- **Who may see whom.** Listing people needs ``lhuser/userlist``, as the users list does (SPEC
  §3.2 rule 2), and only visible users are listed. Another user's department groups and
  departments outside the actor's assignable sets are told only with
  ``lhuser/see_user_assigned_departments_groups`` / ``see_user_assigned_departments`` (SPEC
  §3.2 rule 7, ``store.rules.shown_department_groups``): a way the actor may not be told of is
  left out, and a person reached only through such ways is not listed. ``Roster.hidden`` says
  how many people were left out, never who; "all departments" is no department assignment and
  always shows, as in the access explorer.
- **Bounded.** People are paged by user id (``after``), at most ``MAX_PAGE`` at a time, and
  found in SQL through the ``dep_id``, ``dep_group_id`` and ``user_id`` indexes of
  ``lh_userdep`` and ``lh_departament_group_user``; only the page's people are read into Python.
- **Actions.** Each person says what the actor may do: open the account for editing, and
  remove each way (a direct department or a department group) the assignment services would
  accept (``store.rules.may_change_departments`` and the assignable sets). "All
  departments" is the user form's switch, never removed from one department's roster.
  ``RosterService.unassign`` removes ways through ``session.assignments``, which checks every
  rule again, in one transaction with one audit row.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from peewee import SQL, Case, Expression, fn

from . import rules, validation
from .departments import existing_group
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
    tuple_row,
    tuple_rows,
)
from .rules import may_change_departments, shown_department_groups, shown_departments
from .schema import has_table
from .userdeps import ALL_DEPARTMENTS, FROM_GROUP
from .users import text_filter
from .views import Ref

if TYPE_CHECKING:
    from .session import ActionContext, Session

DIRECT = "direct"
THROUGH_GROUP = "depgroup"
EVERYWHERE = "all"
KINDS = (DIRECT, THROUGH_GROUP, EVERYWHERE)

DEFAULT_PAGE = 100
MAX_PAGE = 1000
FILTER_MAX = 200  # characters: longer than any name a filter could match


@dataclass(frozen=True)
class RosterWay:
    """One way a person is in the department: ``direct``, through department group
    ``department_group`` (``depgroup``), or through "all departments" (``all``)."""

    kind: str
    read_only: bool
    department_group: Ref | None = None
    removable: bool = False  # the actor may remove it (the service checks again)

    def label(self) -> str:
        """``direct``, ``group 'Departments US' (#2)``, ``all departments``; ``, read-only``."""
        if self.kind == THROUGH_GROUP and self.department_group is not None:
            group = self.department_group
            text = f"group {group.name!r} (#{group.id})"
        elif self.kind == EVERYWHERE:
            text = "all departments"
        else:
            text = "direct"
        return f"{text}, read-only" if self.read_only else text

    def as_json(self) -> dict[str, Any]:
        group = self.department_group
        return {
            "kind": self.kind,
            "department_group": None if group is None else {"id": group.id, "name": group.name},
            "read_only": self.read_only,
            "removable": self.removable,
        }


@dataclass(frozen=True)
class RosterPerson:
    """A person on a roster, the ways shown to the actor, and what the actor may do.

    ``exclude_autoassign`` and ``max_chats`` are LHC's values from the person's rows for the
    department (``lh_userdep``, copies of the account's own settings): excluded when every row
    is (LHC auto-assigns through any row that is not), the highest ``max_chats``; the account's
    own values when no row carries them (a group without departments, "all departments" set on
    the account alone).
    """

    user_id: int
    username: str
    full_name: str
    disabled: bool
    ways: tuple[RosterWay, ...]
    exclude_autoassign: bool
    max_chats: int
    editable: bool  # the actor may edit the account (the user form opens read-only otherwise)
    partly_hidden: bool = False  # ways the actor may not be told of were left out: never
    # shown per person (that would say who holds it in a hidden way), only ``Roster.ways_hidden``

    @property
    def actions(self) -> tuple[str, ...]:
        """``edit`` and ``unassign``, where the actor may take them on this person."""
        return tuple(
            name
            for name, allowed in (
                ("edit", self.editable),
                ("unassign", any(w.removable for w in self.ways)),
            )
            if allowed
        )

    @property
    def removable_ways(self) -> tuple[RosterWay, ...]:
        return tuple(w for w in self.ways if w.removable)

    @property
    def read_only(self) -> bool:
        """Whether every way shown reads only (LHC writes through any writable row)."""
        return bool(self.ways) and all(w.read_only for w in self.ways)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "username": self.username,
            "full_name": self.full_name,
            "disabled": self.disabled,
            "ways": [w.as_json() for w in self.ways],
            "read_only": self.read_only,
            "exclude_autoassign": self.exclude_autoassign,
            "max_chats": self.max_chats,
            "actions": list(self.actions),
        }


@dataclass(frozen=True)
class Roster:
    """One page of a department's (``kind`` "department") or a department group's
    (``"department_group"``) people, by user id.

    ``total``: the people shown to the actor that match the filter; ``hidden``: the people
    assigned whom the actor's scope leaves out (filter or not); ``next_after``: the user id the
    next page continues after (None at the end).
    """

    kind: str
    subject: Ref
    people: tuple[RosterPerson, ...]
    total: int
    hidden: int
    next_after: int | None
    filter_text: str = ""
    departments: tuple[Ref, ...] = ()  # a department group's departments

    @property
    def ways_hidden(self) -> bool:
        """Some people shown may hold it in ways the actor may not be told of (SPEC §3 rule
        7): said of the page, never of a person."""
        return any(p.partly_hidden for p in self.people)

    def as_json(self) -> dict[str, Any]:
        return {
            "people": [p.as_json() for p in self.people],
            "total": self.total,
            "hidden": self.hidden,
            "ways_hidden": self.ways_hidden,
            "next_after": self.next_after,
        }


class RosterService:
    """``session.rosters``: department and department-group rosters, and unassigning from them."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def department(
        self,
        department_id: int,
        *,
        text: str = "",
        after: int | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> Roster:
        """The people of a department the actor may see, by user id, ``limit`` at a time."""

        def members(ctx: ActionContext) -> _Members:
            department = _department(department_id)
            return _DepartmentMembers(ctx, Ref(department.id, department.name))

        return self._roster(members, text, after, limit)

    def department_group(
        self,
        dep_group_id: int,
        *,
        text: str = "",
        after: int | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> Roster:
        """The people assigned a department group the actor may see, by user id."""

        def members(ctx: ActionContext) -> _Members:
            group = existing_group(dep_group_id)
            return _GroupMembers(ctx, Ref(group.id, group.name))

        return self._roster(members, text, after, limit)

    def _roster(
        self,
        members: Callable[[ActionContext], _Members],
        text: str,
        after: int | None,
        limit: int,
    ) -> Roster:
        text, limit = _checked_page(text, after, limit)
        with self._session.reading() as ctx:
            ctx.refuse_if("see department rosters", rules.refusal_to_list_users(ctx))
            return _page(ctx, members(ctx), text, after, limit)

    def unassign(
        self, user_id: int, ways: Sequence[RosterWay], *, department_id: int | None = None
    ) -> int:
        """Remove these ways (shown on a roster) from a person, all or nothing: a direct way
        unassigns ``department_id``, a group way its department group. Each goes through
        ``session.assignments``, which checks the actor's scope again; one transaction and one
        audit row for all. Returns how many changed."""
        if not ways:
            raise ValidationError("Nothing to unassign")
        session = self._session
        mark = session.changes
        with self._session.action(), session.one_audit("user.roster.unassign"):
            for way in ways:
                if way.kind == THROUGH_GROUP and way.department_group is not None:
                    session.assignments.unassign_department_group(user_id, way.department_group.id)
                elif way.kind == DIRECT and department_id is not None:
                    session.assignments.unassign_department(user_id, department_id)
                else:
                    raise ValidationError(
                        "'All departments' is switched off in the user form, not from a roster"
                    )
        return session.changes - mark


# -- who is in it --------------------------------------------------------------------------


class _Members:
    """Who is in one department or department group, as SQL conditions on ``lh_users``."""

    kind: str  # "department" or "department_group"
    subject: Ref

    def everyone(self) -> Expression:
        """Everyone in it, whatever the actor may be told: ``id IN (a compound SELECT)``, each
        part on an index (so that SQLite builds the set once and visits only its users)."""
        raise NotImplementedError

    def shown_among(self) -> Expression:
        """Of ``everyone``, those in it through a way the actor may be told of (SPEC §3.2
        rule 7), oneself through any way: a condition probed per user, through indexes."""
        raise NotImplementedError

    def ways(self, users: list[Any], editable: set[int]) -> dict[int, _Found]:
        """The page's people: their ways and values, read through ``user_id`` indexes."""
        raise NotImplementedError


@dataclass
class _Found:
    ways: list[RosterWay]
    partly_hidden: bool
    rows: list[tuple[int, int]]  # (exclude_autoasign, max_chats) of the rows counted


def _rows_of(table: Any, ids: list[int], columns: Sequence[Any]) -> list[tuple[Any, ...]]:
    """``(user_id, *columns)`` of the page's users' rows of ``table``, in row order.

    Selected by ``user_id`` alone, and narrowed by the caller: a page's few users have a few
    rows each, while the department's or group's own index would visit all of theirs (SQLite,
    without statistics, picks that one when both are in the condition).
    """
    if not ids:
        return []
    query = table.select(table.user_id, *columns).where(table.user_id.in_(ids))
    return list(tuple_rows(query.order_by(table.id)))


def _any_of(conditions: Iterable[Expression]) -> Expression | None:
    found = list(conditions)
    return functools.reduce(operator.or_, found) if found else None


def _row_tables() -> list[type[UserDep | UserDepDisabled]]:
    """``lh_userdep`` and, where the LHC version has it, the disabled users' parked rows."""
    return [UserDep, UserDepDisabled] if has_table(UserDepDisabled) else [UserDep]


def _assignment_tables() -> list[type[DepartmentGroupUser | DepartmentGroupUserDisabled]]:
    if has_table(DepartmentGroupUserDisabled):
        return [DepartmentGroupUser, DepartmentGroupUserDisabled]
    return [DepartmentGroupUser]


class _DepartmentMembers(_Members):
    kind = "department"

    def __init__(self, ctx: ActionContext, department: Ref) -> None:
        self.ctx = ctx
        self.subject = department
        self.department_id = department_id = department.id
        self.groups_shown = shown_department_groups(ctx)
        departments = shown_departments(ctx)
        self.direct_shown = departments is None or department_id in departments

    def _row_condition(self, table: Any, shown_only: bool) -> Expression:
        """Rows of ``table`` for the department or for all of them (only those the actor
        may be told of, with ``shown_only``)."""
        here = table.dep_id == self.department_id
        if not shown_only:
            return table.dep_id.in_([self.department_id, ALL_DEPARTMENTS])
        parts = [table.dep_id == ALL_DEPARTMENTS]
        if self.direct_shown:
            parts.append(here & (table.type != FROM_GROUP))
        if self.groups_shown is None:
            parts.append(here & (table.type == FROM_GROUP))
        elif self.groups_shown:
            parts.append(
                here
                & (table.type == FROM_GROUP)
                & table.dep_group_id.in_(sorted(self.groups_shown))
            )
        condition = _any_of(parts)
        assert condition is not None
        return condition

    def everyone(self) -> Expression:
        parts: list[Any] = [User.select(User.id).where(User.all_departments != 0)]
        parts += [
            table.select(table.user_id).where(self._row_condition(table, False))
            for table in _row_tables()
        ]
        return User.id.in_(functools.reduce(operator.or_, parts))

    def shown_among(self) -> Expression:
        probes = []
        for table in _row_tables():
            row = table.alias()
            probes.append(
                fn.EXISTS(
                    row.select(SQL("1")).where(
                        (row.user_id == User.id) & self._row_condition(row, True)
                    )
                )
            )
        condition = (User.all_departments != 0) | (User.id == self.ctx.actor_id)
        return functools.reduce(operator.or_, probes, condition)

    def ways(self, users: list[Any], editable: set[int]) -> dict[int, _Found]:
        ctx, department_id = self.ctx, self.department_id
        ids = [u.id for u in users]
        rows: dict[int, list[tuple[Any, ...]]] = {}
        for table in _row_tables():
            columns = (
                table.dep_id,
                table.type,
                table.dep_group_id,
                table.ro,
                table.exclude_autoasign,
                table.max_chats,
            )
            for user_id, *row in _rows_of(table, ids, columns):
                if row[0] in (department_id, ALL_DEPARTMENTS):
                    rows.setdefault(user_id, []).append(tuple(row))
        group_ids = {r[2] for found in rows.values() for r in found if r[1] == FROM_GROUP}
        names = _group_names(group_ids)
        scope = ctx.scope
        out: dict[int, _Found] = {}
        for user in users:
            own = user.id == ctx.actor_id
            may_change = may_change_departments(
                ctx, user.id, editable=user.id in editable, disabled=bool(user.disabled)
            )
            mine = rows.get(user.id, [])
            ways: list[RosterWay] = []
            hidden = False
            direct = [r for r in mine if r[0] == department_id and r[1] != FROM_GROUP]
            if direct:
                if own or self.direct_shown:
                    ways.append(
                        RosterWay(
                            DIRECT,
                            all(r[3] for r in direct),
                            removable=may_change and department_id in scope.assignable_departments,
                        )
                    )
                else:
                    hidden = True
            through: dict[int, bool] = {}
            for r in mine:
                if r[0] == department_id and r[1] == FROM_GROUP:
                    through[r[2]] = through.get(r[2], True) and bool(r[3])
            for group_id, read_only in sorted(
                through.items(), key=lambda item: (names.get(item[0], "").lower(), item[0])
            ):
                if not (own or self.groups_shown is None or group_id in self.groups_shown):
                    hidden = True
                    continue
                ways.append(
                    RosterWay(
                        THROUGH_GROUP,
                        read_only,
                        Ref(group_id, names.get(group_id, f"#{group_id} (missing)")),
                        removable=may_change and group_id in scope.assignable_department_groups,
                    )
                )
            everywhere = [r for r in mine if r[0] == ALL_DEPARTMENTS]
            if user.all_departments or everywhere:
                writable = bool(user.all_departments) or any(not r[3] for r in everywhere)
                ways.append(RosterWay(EVERYWHERE, not writable))
            out[user.id] = _Found(ways, hidden, [(r[4], r[5]) for r in mine])
        return out


class _GroupMembers(_Members):
    kind = "department_group"

    def __init__(self, ctx: ActionContext, group: Ref) -> None:
        self.ctx = ctx
        self.subject = self.group = group
        shown = shown_department_groups(ctx)
        self.group_shown = shown is None or group.id in shown

    def everyone(self) -> Expression:
        parts = [
            table.select(table.user_id).where(table.dep_group_id == self.group.id)
            for table in _assignment_tables()
        ]
        return User.id.in_(functools.reduce(operator.or_, parts))

    def shown_among(self) -> Expression:
        if self.group_shown:
            return User.id.is_null(False)  # every one of them
        return User.id == self.ctx.actor_id

    def ways(self, users: list[Any], editable: set[int]) -> dict[int, _Found]:
        ctx, group_id = self.ctx, self.group.id
        ids = [u.id for u in users]
        read_only: dict[int, bool] = {}
        for assignments in _assignment_tables():
            for user_id, dep_group_id, ro in _rows_of(
                assignments, ids, (assignments.dep_group_id, assignments.read_only)
            ):
                if dep_group_id == group_id:
                    read_only[user_id] = read_only.get(user_id, True) and bool(ro)
        values: dict[int, list[tuple[int, int]]] = {}
        for table in _row_tables():
            columns = (table.dep_group_id, table.exclude_autoasign, table.max_chats)
            for user_id, dep_group_id, exclude, max_chats in _rows_of(table, ids, columns):
                if dep_group_id == group_id:
                    values.setdefault(user_id, []).append((exclude, max_chats))
        assignable = group_id in ctx.scope.assignable_department_groups
        out: dict[int, _Found] = {}
        for user in users:
            may_change = may_change_departments(
                ctx, user.id, editable=user.id in editable, disabled=bool(user.disabled)
            )
            way = RosterWay(
                THROUGH_GROUP,
                read_only.get(user.id, False),
                self.group,
                removable=may_change and assignable,
            )
            out[user.id] = _Found([way], False, values.get(user.id, []))
        return out


# -- one page ------------------------------------------------------------------------------


def _page(
    ctx: ActionContext, members: _Members, text: str, after: int | None, limit: int
) -> Roster:
    """The page's people in a fixed number of queries, and the two counts."""
    scope = ctx.scope
    shown = members.shown_among() & scope.visible_users_condition(per_user=True)
    matching = text_filter(text)
    query = User.select(
        User.id,
        User.username,
        User.name,
        User.surname,
        User.disabled,
        User.all_departments,
        User.exclude_autoasign,
        User.max_active_chats,
    ).where(members.everyone() & shown & matching)
    if after is not None:
        query = query.where(User.id > after)
    users = list(query.order_by(User.id).limit(limit + 1))
    more = len(users) > limit
    users = users[:limit]
    ids = [u.id for u in users]
    editable = (
        {
            u.id
            for u in User.select(User.id).where(
                User.id.in_(ids) & scope.editable_users_condition(per_user=True)
            )
        }
        if ids
        else set()
    )
    found = members.ways(users, editable)
    people = tuple(_person(u, found[u.id], u.id in editable) for u in users)
    # The three figures in one statement: the member set is built once.
    everyone, shown_count, matching = tuple_row(
        User.select(
            fn.COUNT(User.id),
            fn.SUM(Case(None, [(shown, 1)], 0)),
            fn.SUM(Case(None, [(shown & matching, 1)], 0)),
        ).where(members.everyone())
    )
    total = int(matching or 0)
    hidden = int(everyone or 0) - int(shown_count or 0)
    departments: tuple[Ref, ...] = ()
    if members.kind == "department_group":
        departments = _group_departments(members.subject.id)
    return Roster(
        kind=members.kind,
        subject=members.subject,
        people=people,
        total=total,
        hidden=hidden,
        next_after=users[-1].id if more and users else None,
        filter_text=text,
        departments=departments,
    )


def _person(user: Any, found: _Found, editable: bool) -> RosterPerson:
    if found.rows:
        exclude = all(bool(e) for e, _ in found.rows)
        max_chats = max(m for _, m in found.rows)
    else:
        exclude, max_chats = bool(user.exclude_autoasign), user.max_active_chats
    return RosterPerson(
        user_id=user.id,
        username=user.username,
        full_name=" ".join(part for part in (user.name, user.surname) if part),
        disabled=bool(user.disabled),
        ways=tuple(found.ways),
        exclude_autoassign=exclude,
        max_chats=int(max_chats or 0),
        editable=editable,
        partly_hidden=found.partly_hidden,
    )


# -- checks and lookups --------------------------------------------------------------------


def _checked_page(text: str, after: int | None, limit: int) -> tuple[str, int]:
    if not isinstance(text, str):
        raise ValidationError("Roster filter must be text")
    text = text.strip()
    if len(text) > FILTER_MAX:
        raise ValidationError(f"Roster filter is too long: at most {FILTER_MAX} characters")
    if after is not None:
        validation.one_id(after, "Roster page after user")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"Roster page size: {limit!r} is not from 1 to {MAX_PAGE}")
    return text, limit


def _department(department_id: int) -> Department:
    department_id = validation.one_id(department_id, "Department")
    department = Department.get_or_none(Department.id == department_id)
    if department is None:
        raise NotFoundError(f"No department with id {department_id}")
    return department


def _group_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = DepartmentGroup.select(DepartmentGroup.id, DepartmentGroup.name).where(
        DepartmentGroup.id.in_(wanted)
    )
    return dict(tuple_rows(query))


def _group_departments(dep_group_id: int) -> tuple[Ref, ...]:
    query = (
        Department.select(Department.id, Department.name)
        .join(DepartmentGroupMember, on=(DepartmentGroupMember.dep_id == Department.id))
        .where(DepartmentGroupMember.dep_group_id == dep_group_id)
        .order_by(Department.name, Department.id)
    )
    return tuple(Ref(d.id, d.name) for d in query)
