"""The impact preview tells an actor only the departments SPEC §3 rule 7 lets them be told.

Without ``lhuser/see_user_assigned_departments_groups`` an actor is told of another user's
department groups only where they may assign them; the impact of disabling a user must not
name the chats that user reads through a department group the actor may not be told of
(``tests/test_access_rule7.py`` holds the chat access explorer to the same rule).
"""

from __future__ import annotations

from peewee import Database

from store import Session, lookup
from store.impact import Touches
from store.models import Role

ADMIN, OPERATOR_US, TEAMLEADER_US = 1, 2, 4
DEPARTMENTS_AU, DEPARTMENTS_US = 1, 2
DEPARTMENT_AU, DEPARTMENT_US = 1, 2


def disabling_operator_us(actor: Session) -> tuple[int, ...]:
    impact = actor.impact.preview(
        Touches.of(users=[OPERATOR_US]), lambda: actor.users.set_disabled(OPERATOR_US, True)
    )
    (entry,) = impact.entries
    assert entry.user_id == OPERATOR_US
    return entry.reads_lost


def test_a_team_leader_is_told_only_the_department_groups_rule_7_shows(
    sample_db: Database,
) -> None:
    admin = Session(sample_db, ADMIN)
    admin.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_AU, read_only=False)
    leader = Session(sample_db, TEAMLEADER_US)
    # The sample's Teamleader role may see every assignment: both departments are named.
    assert set(disabling_operator_us(leader)) == {DEPARTMENT_AU, DEPARTMENT_US}

    role = Role.get(Role.name == "Teamleader").id
    policy = lookup.policy_id(role, "lhuser", "see_user_assigned_departments_groups")
    admin.roles.remove_policy(role, policy)
    assert disabling_operator_us(leader) == (DEPARTMENT_US,)
    # The administrator is told everything.
    assert set(disabling_operator_us(admin)) == {DEPARTMENT_AU, DEPARTMENT_US}
