"""Chat access: which departments' chats a user can read and write in LHC (SPEC §4).

LHC decides chat access from ``lh_userdep`` alone (plus ``all_departments``); department
groups matter only through the rows derived from them. ``lhdepartment/see_all`` and its
limitation do not limit chat reading: they only shape pickers and statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotFoundError
from .limitations import Limitation
from .models import Department, DepartmentGroup, User, UserDep, tuple_rows
from .permissions import PermissionSet
from .userdeps import ALL_DEPARTMENTS, FROM_GROUP, NOT_ALL_PLACEHOLDER


@dataclass(frozen=True)
class DepartmentAccess:
    """One department the user reads, whether they may write, and what gives it."""

    department_id: int
    name: str
    write: bool
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ChatAccess:
    """What LHC lets a user read and write, and why."""

    user_id: int
    disabled: bool
    all_departments: bool
    departments: tuple[DepartmentAccess, ...]
    read_other_operators_chats: bool  # lhchat/allowopenremotechat
    write_other_operators_chats: bool  # lhchat/writeremotechat
    read_closed_chats: bool  # lhchat/allowopenclosedchats
    username: str = ""
    department_see_all: bool = False  # lhdepartment/see_all: pickers and statistics only
    see_all_limitation: Limitation | None = None  # its merged limitation, e.g. {"group": [2]}
    # Another user's assignments the viewer may not see (SPEC §3, rule 7) were left out:
    hidden_department_groups: bool = False  # some department groups (and what they give)
    hidden_departments: bool = False  # some direct department assignments

    @property
    def partly_hidden(self) -> bool:
        return self.hidden_department_groups or self.hidden_departments

    @property
    def read(self) -> list[int]:
        return [d.department_id for d in self.departments]

    @property
    def write(self) -> list[int]:
        return [d.department_id for d in self.departments if d.write]

    def as_json(self) -> dict[str, object]:
        return {
            "all_departments": self.all_departments,
            "read": self.read,
            "write": self.write,
            "disabled": self.disabled,
            "other_operators_chats": {
                "read": self.read_other_operators_chats,
                "write": self.write_other_operators_chats,
                "closed": self.read_closed_chats,
            },
            "departments": [
                {"id": d.department_id, "name": d.name, "write": d.write, "sources": d.sources}
                for d in self.departments
            ],
        }


def chat_access(
    user_id: int,
    *,
    shown_department_groups: frozenset[int] | None = None,
    shown_departments: frozenset[int] | None = None,
) -> ChatAccess:
    """Compute a user's chat access in a fixed number of queries.

    ``shown_department_groups`` / ``shown_departments`` (None: all) limit what a viewer is
    told about another user (SPEC §3: seeing assignments outside the assignable sets needs
    ``see_user_assigned_departments_groups`` / ``see_user_assigned_departments``). Rows from
    other department groups and other direct departments are left out, with their names, and
    a department reached only through them is not listed; the result only says that some
    were hidden. A listed department's write flag is still LHC's answer, from all its rows.
    "All departments" (the user setting or its ``dep_id`` 0 row) is no department assignment
    and always shows.
    """
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise NotFoundError(f"No user #{user_id}")
    permissions = PermissionSet.for_user(user_id)
    remote = (
        permissions.has("lhchat", "allowopenremotechat"),
        permissions.has("lhchat", "writeremotechat"),
        permissions.has("lhchat", "allowopenclosedchats"),
    )
    see_all = permissions.grant("lhdepartment", "see_all")

    def result(
        all_departments: bool,
        departments: tuple[DepartmentAccess, ...],
        hidden_groups: bool = False,
        hidden_departments: bool = False,
    ) -> ChatAccess:
        return ChatAccess(
            user_id,
            bool(user.disabled),
            all_departments,
            departments,
            *remote,
            username=user.username,
            department_see_all=see_all is not None,
            see_all_limitation=see_all.limitation if see_all else None,
            hidden_department_groups=hidden_groups,
            hidden_departments=hidden_departments,
        )

    if user.disabled:
        return result(False, ())

    rows = list(UserDep.select().where(UserDep.user_id == user_id).order_by(UserDep.id))
    names = {d.id: d.name for d in Department.select(Department.id, Department.name)}
    group_names = {
        g.id: g.name for g in DepartmentGroup.select(DepartmentGroup.id, DepartmentGroup.name)
    }
    reads_all = bool(user.all_departments) or any(r.dep_id == ALL_DEPARTMENTS for r in rows)

    # For each department: the (source, writable) pairs that give access to it; the source
    # is None for a row the viewer may not see (it still counts for writing).
    found: dict[int, list[tuple[str | None, bool]]] = {}
    hidden_groups = hidden_departments = False
    if reads_all:
        everywhere: list[tuple[str | None, bool]] = []
        if user.all_departments:
            everywhere.append(("all departments (user setting)", True))
        for r in rows:
            if r.dep_id == ALL_DEPARTMENTS:
                everywhere.append(_label("all departments row", r.ro))
        for dep_id in names:
            found[dep_id] = list(everywhere)
    for r in rows:
        if r.dep_id in (ALL_DEPARTMENTS, NOT_ALL_PLACEHOLDER):
            continue
        if r.type == FROM_GROUP:
            shown = shown_department_groups is None or r.dep_group_id in shown_department_groups
            hidden_groups |= not shown
            group = group_names.get(r.dep_group_id, f"#{r.dep_group_id}")
            source = f"department group '{group}'"
        else:
            shown = shown_departments is None or r.dep_id in shown_departments
            hidden_departments |= not shown
            source = "direct assignment"
        label, writable = _label(source, r.ro)
        found.setdefault(r.dep_id, []).append((label if shown else None, writable))
    departments = tuple(
        DepartmentAccess(
            department_id=dep_id,
            name=names.get(dep_id, f"#{dep_id} (missing)"),
            write=any(writable for _, writable in sources),
            sources=tuple(label for label, _ in sources if label is not None),
        )
        for dep_id, sources in sorted(found.items())
        if any(label is not None for label, _ in sources)
    )
    return result(reads_all, departments, hidden_groups, hidden_departments)


def _label(source: str, ro: int) -> tuple[str, bool]:
    return (f"{source} (read-only)" if ro else source, not ro)


def readers_of(department_id: int) -> list[int]:
    """Every user whose chats in department ``department_id`` LHC lets them read (sorted ids).

    The set-based form of ``chat_access`` over all users, in one query: enabled users with
    ``all_departments`` or an ``lh_userdep`` row for all departments (``dep_id`` 0), when the
    department exists, and enabled users with a row for the department itself. Disabled users
    read nothing (their rows are parked in ``lh_userdep_disabled``).
    """
    if department_id in (ALL_DEPARTMENTS, NOT_ALL_PLACEHOLDER):
        return []
    exists = Department.select().where(Department.id == department_id).exists()
    wanted = [ALL_DEPARTMENTS, department_id] if exists else [department_id]
    rows = UserDep.select(UserDep.user_id).where(UserDep.dep_id.in_(wanted))
    condition = User.id.in_(rows)
    if exists:
        condition |= User.all_departments != 0
    query = User.select(User.id).where((User.disabled == 0) & condition).order_by(User.id)
    return [user_id for (user_id,) in tuple_rows(query)]
