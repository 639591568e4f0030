"""One user-save path (issue 20, point 2): the caller says the wanted state, the store applies it.

``session.user_save.save`` computes the difference to the stored user inside its transaction and
applies it through the scoped services: one transaction, one audit row, what the actor may not
hand out kept, a refusal anywhere leaving every table as it was.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import Database

from store import Session
from store.dump import all_rows
from store.errors import ConflictError, ScopeError
from store.models import Audit
from store.user_save import WantedUser

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
OPERATORS, TEAMLEADER, US_OPERATORS, AU_OPERATORS = 2, 3, 4, 5
DEPARTMENTS_AU, DEPARTMENTS_US = 1, 2


def audit_count() -> int:
    return Audit.select().count()


def test_a_save_applies_fields_groups_and_department_groups_in_one_audit_row(
    sample_db: Database,
) -> None:
    session = Session(sample_db, ADMIN)
    before = audit_count()
    saved = session.user_save.save(
        OPERATOR_US,
        WantedUser(
            fields={"name": "Olive", "surname": "US"},
            groups=frozenset({OPERATORS, AU_OPERATORS}),
            department_groups={DEPARTMENTS_AU: True},
        ),
    )
    user = saved.user
    assert user.name == "Olive"
    assert {g.id for g in user.groups} == {OPERATORS, AU_OPERATORS}
    assert [(a.id, a.read_only) for a in user.department_groups] == [(DEPARTMENTS_AU, True)]
    assert saved.difference.groups_added == (AU_OPERATORS,)
    assert saved.difference.groups_removed == (US_OPERATORS,)
    assert saved.difference.fields == (("name", "Olive"),)  # surname was already "US"
    assert audit_count() == before + 1
    again = session.user_save.difference(OPERATOR_US, WantedUser(fields={"name": "Olive"}))
    assert again.empty


def test_a_save_that_changes_nothing_writes_nothing(sample_db: Database) -> None:
    session = Session(sample_db, ADMIN)
    current = session.users.get(OPERATOR_US)
    rows = all_rows()
    saved = session.user_save.save(
        OPERATOR_US,
        WantedUser(
            fields={"name": f"  {current.name} "},
            groups=frozenset(g.id for g in current.groups),
            department_groups={a.id: a.read_only for a in current.department_groups},
            departments={a.id: a.read_only for a in current.departments},
        ),
    )
    assert saved.difference.empty
    assert all_rows() == rows


def test_what_the_actor_may_not_hand_out_is_kept(sample_db: Database) -> None:
    """Teamleader US hands out only Departments US: a wanted state without any department
    group takes that one away and keeps Departments AU, which an administrator assigned."""
    admin = Session(sample_db, ADMIN)
    admin.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_AU, read_only=True)
    admin.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_US, read_only=False)
    leader = Session(sample_db, TEAMLEADER_US)
    saved = leader.user_save.save(OPERATOR_US, WantedUser(department_groups={}))
    assert [(a.id, a.read_only) for a in saved.user.department_groups] == [(DEPARTMENTS_AU, True)]
    assert saved.difference.department_groups_unassigned == (DEPARTMENTS_US,)


def test_a_refused_step_takes_the_earlier_steps_back(sample_db: Database) -> None:
    """The name would be written first; the department group outside the team leader's scope
    is refused later; the name is not changed and no audit row is left."""
    leader = Session(sample_db, TEAMLEADER_US)
    rows = all_rows()
    with pytest.raises(ScopeError):
        leader.user_save.save(
            OPERATOR_US,
            WantedUser(fields={"name": "Changed"}, department_groups={DEPARTMENTS_AU: False}),
        )
    assert all_rows() == rows


def test_a_stale_version_is_a_conflict_and_writes_nothing(sample_db: Database) -> None:
    session = Session(sample_db, ADMIN)
    seen = session.users.get(OPERATOR_US).cache_version
    session.users.update(OPERATOR_US, name="Someone else")
    rows = all_rows()
    with pytest.raises(ConflictError):
        session.user_save.save(
            OPERATOR_US, WantedUser(fields={"surname": "Mine"}, expected_version=seen)
        )
    assert all_rows() == rows


GROUP_IDS = st.frozensets(st.sampled_from([2, 3, 4, 5, 6, 7]), min_size=1)
DEP_GROUPS = st.dictionaries(st.sampled_from([DEPARTMENTS_AU, DEPARTMENTS_US]), st.booleans())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    actor=st.sampled_from([ADMIN, TEAMLEADER_US, MANAGER_US]),
    target=st.sampled_from([OPERATOR_US, OPERATOR_AU, TEAMLEADER_US]),
    groups=st.none() | GROUP_IDS,
    dep_groups=st.none() | DEP_GROUPS,
    name=st.none() | st.sampled_from(["Ann", "Bob"]),
)
def test_a_save_lands_whole_or_not_at_all(
    sample_db: Database,
    actor: int,
    target: int,
    groups: frozenset[int] | None,
    dep_groups: dict[int, bool] | None,
    name: str | None,
) -> None:
    """After an accepted save nothing is left to change (the difference is empty); after a
    refusal every table is as it was."""
    session = Session(sample_db, actor)
    wanted = WantedUser(
        fields={} if name is None else {"name": name},
        groups=groups,
        department_groups=dep_groups,
    )
    rows = all_rows()
    try:
        session.user_save.save(target, wanted)
    except (ScopeError, ConflictError) as refused:
        assert all_rows() == rows, refused
        return
    except Exception as error:  # a validation refusal (say, no required group left)
        from store.errors import StoreError

        assert isinstance(error, StoreError)
        assert all_rows() == rows
        return
    assert session.user_save.difference(target, wanted).empty


def test_a_user_the_actor_may_not_edit_is_refused_even_when_nothing_would_change(
    sample_db: Database,
) -> None:
    """Operator AU is outside Teamleader US's work-with list: a wanted state that matches him
    is refused, not reported unchanged (which would tell the caller what he holds)."""
    leader = Session(sample_db, TEAMLEADER_US)
    current = Session(sample_db, ADMIN).users.get(OPERATOR_AU)
    rows = all_rows()
    with pytest.raises(ScopeError, match="they belong to 'AU Operators'"):
        leader.user_save.save(
            OPERATOR_AU, WantedUser(groups=frozenset(g.id for g in current.groups))
        )
    assert all_rows() == rows
