"""Plain, immutable results the services return to screens and the CLI (no ORM objects leak)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A named object, and whether the actor may change this link to it."""

    id: int
    name: str
    changeable: bool = True


@dataclass(frozen=True)
class Assignment:
    """A department or department group assigned to a user."""

    id: int
    name: str
    read_only: bool
    changeable: bool


@dataclass(frozen=True)
class UserRow:
    """One line of the users table."""

    id: int
    username: str
    name: str
    surname: str
    email: str
    disabled: bool
    groups: tuple[str, ...]
    department_groups: tuple[str, ...]
    editable: bool
    may_disable_or_delete: bool = False  # store.rules.may_disable_or_delete


@dataclass(frozen=True)
class UserPage:
    """One page of visible users; ``next_after`` continues the keyset (None at the end).

    No total: counting visits every matching user, so it is ``UserService.count``, asked for
    separately (after the page, on screen)."""

    rows: tuple[UserRow, ...]
    next_after: tuple[Any, int] | None


@dataclass(frozen=True)
class UserDetail:
    """A user as the edit form shows them."""

    id: int
    username: str
    email: str
    name: str
    surname: str
    job_title: str
    disabled: bool
    all_departments: bool
    departments_ids: str
    cache_version: int
    editable: bool
    is_administrator: bool
    groups: tuple[Ref, ...]
    department_groups: tuple[Assignment, ...]
    departments: tuple[Assignment, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "name": self.name,
            "surname": self.surname,
            "job_title": self.job_title,
            "disabled": self.disabled,
            "all_departments": self.all_departments,
            "departments_ids": self.departments_ids,
            "cache_version": self.cache_version,
            "groups": [g.id for g in self.groups],
            "department_groups": [
                {"id": a.id, "read_only": a.read_only} for a in self.department_groups
            ],
            "departments": [{"id": a.id, "read_only": a.read_only} for a in self.departments],
        }


@dataclass(frozen=True)
class GroupInfo:
    """A user group with its flags, work-with targets, roles and member count."""

    id: int
    name: str
    disabled: bool
    required: bool
    members_withheld: bool  # lh_group_work row (id, -1): own members cannot hand it out
    works_with: tuple[Ref, ...]
    roles: tuple[Ref, ...]
    member_count: int
    grants_administration: bool


@dataclass(frozen=True)
class PolicyInfo:
    """One policy row of a role."""

    id: int
    module: str
    function: str
    limitation: str
    exclude: bool


@dataclass(frozen=True)
class RoleInfo:
    """A role with its policies and the groups that carry it."""

    id: int
    name: str
    policies: tuple[PolicyInfo, ...]
    groups: tuple[Ref, ...]


@dataclass(frozen=True)
class DepartmentGroupInfo:
    """A department group with its departments and how many users it is assigned to."""

    id: int
    name: str
    departments: tuple[Ref, ...]
    user_count: int


@dataclass(frozen=True)
class ScopeSummary:
    """The actor's identity and scope by name, for the header and the home screen."""

    user_id: int
    username: str
    own_groups: tuple[Ref, ...]
    usable_groups: tuple[Ref, ...]
    assignable_department_groups: tuple[Ref, ...]
    is_administrator: bool
    sees_all_users: bool
    edits_all_groups: bool
    assigns_all_department_groups: bool

    def one_line(self) -> str:
        """E.g. "works with: Operators, US Operators · department groups: Departments US"."""
        groups = (
            "all groups"
            if self.edits_all_groups
            else ", ".join(g.name for g in self.usable_groups) or "no groups"
        )
        dep_groups = (
            "all"
            if self.assigns_all_department_groups
            else ", ".join(g.name for g in self.assignable_department_groups) or "none"
        )
        return f"works with: {groups} · department groups: {dep_groups}"


@dataclass(frozen=True)
class EditChoices:
    """What the actor may hand out to one user, as ids: the user form's choices without the
    names, which a save or a bulk change of a thousand users does not need."""

    read_only_reason: str  # "" when the actor may edit the account
    groups: frozenset[int]
    department_groups: frozenset[int]
    departments: frozenset[int]

    @property
    def read_only(self) -> bool:
        return bool(self.read_only_reason)


@dataclass(frozen=True)
class UserForm:
    """What the create/edit form offers the actor for one user (``user`` None: a new one).

    The choices are the actor's assignable sets (SPEC §3): ``groups`` and ``required_groups``
    (the form asks for at least one of the latter), department groups and departments. Each
    choice's ``changeable`` says whether the actor may toggle it for this user now; the notes
    say why not. ``locked_groups`` are the user's memberships outside the assignable set: shown,
    never offered.
    """

    user: UserDetail | None
    read_only_reason: str  # "" when the actor may edit the account (always "" for a new user)
    groups: tuple[Ref, ...]
    required_groups: tuple[Ref, ...]
    locked_groups: tuple[Ref, ...]
    groups_note: str
    department_groups: tuple[Ref, ...]
    departments: tuple[Ref, ...]
    departments_note: str

    @property
    def read_only(self) -> bool:
        return bool(self.read_only_reason)
