"""The command line's single-user changes through the one user-save path (issue 20, point 2).

``user groups``, ``user depgroups``, ``user departments`` and ``user edit`` name each change, so
their wanted state is ``strict``: what it leaves out is removed even outside the actor's sets,
and each change is refused by its own service, with its reason. The form, ``apply`` and bulk
changes keep what the actor may not hand out (``tests/test_user_save.py``).
"""

from __future__ import annotations

import pytest
from peewee import Database

from store import Session
from store.dump import all_rows
from store.errors import ScopeError
from store.user_save import WantedUser

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US = 1, 2, 3, 4
DEPARTMENTS_AU, DEPARTMENTS_US = 1, 2


def test_a_strict_removal_outside_the_actors_set_is_refused_not_kept(
    sample_db: Database,
) -> None:
    Session(sample_db, ADMIN).assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_AU)
    leader = Session(sample_db, TEAMLEADER_US)
    kept = WantedUser(department_groups={DEPARTMENTS_US: False})
    assert leader.user_save.difference(OPERATOR_US, kept).empty
    rows = all_rows()
    strict = WantedUser(department_groups={DEPARTMENTS_US: False}, strict=True)
    assert leader.user_save.difference(OPERATOR_US, strict).department_groups_unassigned == (
        DEPARTMENTS_AU,
    )
    with pytest.raises(ScopeError, match="may not assign department group 'Departments AU'"):
        leader.user_save.save(OPERATOR_US, strict)
    assert all_rows() == rows


def test_a_strict_change_of_a_user_out_of_reach_is_refused_by_its_service(
    sample_db: Database,
) -> None:
    leader = Session(sample_db, TEAMLEADER_US)
    rows = all_rows()
    with pytest.raises(ScopeError, match="may not disable user 'Operator AU'"):
        leader.user_save.save(OPERATOR_AU, WantedUser(disabled=True, strict=True))
    with pytest.raises(ScopeError, match="may not change user 'Operator AU'"):  # the form's way
        leader.user_save.save(OPERATOR_AU, WantedUser(disabled=True))
    with pytest.raises(ScopeError, match="may not change user 'Operator AU'"):  # nothing to do
        leader.user_save.save(OPERATOR_AU, WantedUser(disabled=False, strict=True))
    assert all_rows() == rows


def test_all_departments_is_part_of_the_wanted_state(sample_db: Database) -> None:
    admin = Session(sample_db, ADMIN)
    wanted = WantedUser(all_departments=True, departments={DEPARTMENTS_AU: True})
    saved = admin.user_save.save(OPERATOR_US, wanted)
    assert saved.user.all_departments
    assert saved.difference.all_departments is True
    assert [(a.id, a.read_only) for a in saved.user.departments] == [(DEPARTMENTS_AU, True)]
    assert admin.user_save.difference(OPERATOR_US, wanted).empty
    saved = admin.user_save.save(OPERATOR_US, WantedUser(all_departments=False))
    assert not saved.user.all_departments
