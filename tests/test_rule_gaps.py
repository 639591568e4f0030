"""Direct tests for the rules that planted mistakes slipped past (issue 20, point 6).

Forty-six deliberate rule mistakes were planted in ``store/``; these were caught by no test, or
only by a full run or a lucky hypothesis draw. Each gets a deterministic test here, so that
restructuring the rules cannot lose them unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from peewee import Database

from store import Session
from store.dump import all_rows
from store.errors import ConflictError, ScopeError
from store.models import Role

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
OPERATORS, US_OPERATORS = 2, 4
DEPARTMENTS_US = 2
DEPARTMENT_US = 2


# -- group members need lhuser/editgroup -------------------------------------------------------


@pytest.mark.parametrize("change", ["add_member", "remove_member"])
def test_changing_a_groups_members_needs_editgroup(sample_db: Database, change: str) -> None:
    """Teamleader US edits Operator US's groups from the user's side, but holds no
    ``lhuser/editgroup``: from the group's side, adding or removing a member is refused."""
    leader = Session(sample_db, TEAMLEADER_US)
    group = OPERATORS if change == "remove_member" else US_OPERATORS
    if change == "add_member":
        Session(sample_db, ADMIN).users.change_groups(OPERATOR_US, remove=[US_OPERATORS])
    rows = all_rows()
    with pytest.raises(ScopeError, match="editgroup"):
        getattr(leader.groups, change)(group, OPERATOR_US)
    assert all_rows() == rows


def test_with_editgroup_the_same_member_change_is_accepted(sample_db: Database) -> None:
    manager = Session(sample_db, MANAGER_US)
    manager.groups.remove_member(US_OPERATORS, OPERATOR_US)
    assert US_OPERATORS not in {g.id for g in manager.users.get(OPERATOR_US).groups}


# -- the optimistic-concurrency check, on every versioned write ------------------------------

STALE_WRITES: dict[str, Callable[[Session, int], Any]] = {
    "users.update": lambda s, v: s.users.update(OPERATOR_US, expected_version=v, name="Late"),
    "users.change_groups": lambda s, v: s.users.change_groups(
        OPERATOR_US, remove=[US_OPERATORS], expected_version=v
    ),
    "assignments.assign_department_group": lambda s, v: s.assignments.assign_department_group(
        OPERATOR_US, DEPARTMENTS_US, read_only=True, expected_version=v
    ),
    "assignments.unassign_department_group": (
        lambda s, v: s.assignments.unassign_department_group(
            OPERATOR_US, DEPARTMENTS_US, expected_version=v
        )
    ),
    "assignments.assign_department": lambda s, v: s.assignments.assign_department(
        OPERATOR_US, DEPARTMENT_US, read_only=False, expected_version=v
    ),
}


@pytest.mark.parametrize("write", sorted(STALE_WRITES))
def test_a_write_with_a_version_someone_else_moved_on_is_a_conflict(
    sample_db: Database, write: str
) -> None:
    """The form read version v; someone else saved meanwhile (v+1); the form's save with v is
    refused as a conflict and writes nothing. With the current version it is accepted."""
    admin = Session(sample_db, ADMIN)
    seen = admin.users.get(OPERATOR_US).cache_version
    admin.users.update(OPERATOR_US, surname="Meanwhile")
    rows = all_rows()
    with pytest.raises(ConflictError):
        STALE_WRITES[write](admin, seen)
    assert all_rows() == rows
    STALE_WRITES[write](admin, admin.users.get(OPERATOR_US).cache_version)


# -- one's own departments need lhuser/editdepartaments -----------------------------------------


def test_ones_own_department_groups_need_editdepartaments(sample_db: Database) -> None:
    """Operator US may edit no account, his own included; ``lhuser/editdepartaments`` alone
    (with ``assign_to_own_department_group``) lets him change his own department-group
    assignments. Without
    it the same call is refused, with it accepted."""
    operator = Session(sample_db, OPERATOR_US)
    admin = Session(sample_db, ADMIN)
    operators_role = Role.get(Role.name == "Operators").id
    admin.roles.add_policy(operators_role, "lhuser", "assign_to_own_department_group")
    assert [a.id for a in operator.users.get(OPERATOR_US).department_groups] == [DEPARTMENTS_US]
    rows = all_rows()
    with pytest.raises(ScopeError):
        operator.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_US, read_only=True)
    assert all_rows() == rows

    admin.roles.add_policy(operators_role, "lhuser", "editdepartaments")
    user = operator.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_US, read_only=True)
    assert [(a.id, a.read_only) for a in user.department_groups] == [(DEPARTMENTS_US, True)]


# -- lists offer disable, enable and delete as the store decides ---------------------------------


def test_lists_are_told_which_accounts_may_be_disabled_or_deleted(sample_db: Database) -> None:
    """The users list and the access review ask the store (``rules.may_disable_or_delete``),
    not the screen, whether to offer disabling, enabling and deleting: never one's own account,
    never a user the actor may not edit, and the service refuses exactly those."""
    manager = Session(sample_db, MANAGER_US)
    offered = {r.id: r.may_disable_or_delete for r in manager.users.page(limit=50).rows}
    assert offered == {
        ADMIN: False,
        OPERATOR_US: True,
        OPERATOR_AU: True,
        TEAMLEADER_US: True,
        MANAGER_US: False,
    }
    reviewed = {r.id: r.may_disable_or_delete for r in manager.review.page(limit=50).rows}
    assert reviewed[MANAGER_US] is False and reviewed[OPERATOR_US] is True
    with pytest.raises(ScopeError):
        manager.users.set_disabled(MANAGER_US, True)
    with pytest.raises(ScopeError):
        manager.users.set_disabled(ADMIN, True)
