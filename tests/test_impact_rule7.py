"""The impact preview tells an actor nothing SPEC §3 rule 7 keeps from them.

Rule 7 is about the way a user holds a department (directly, or through a department group):
an actor without ``lhuser/see_user_assigned_departments_groups`` and
``lhuser/see_user_assigned_departments`` may not be told all of another user's assignments.
A change in what someone reads can hang on a way the actor may not see (a department group
removed changes nothing for a user who also holds its department directly), so for such an
actor the impact leaves other users' chat access out entirely, and says so; it neither names
nor counts users changed only there. Permissions follow their own right
(``tests/test_impact_permissions_told.py``).
"""

from __future__ import annotations

from peewee import Database

from store import Session
from store.impact import Impact, Touches

ADMIN, OPERATOR_US, TEAMLEADER_US, MANAGER_US = 1, 2, 4, 5
DEPARTMENTS_US = 2
DEPARTMENT_AU, DEPARTMENT_US = 1, 2


def disabling_operator_us(actor: Session) -> Impact:
    return actor.impact.preview(
        Touches.of(users=[OPERATOR_US]), lambda: actor.users.set_disabled(OPERATOR_US, True)
    )


def unassigning_departments_us(actor: Session) -> Impact:
    return actor.impact.preview(
        Touches.of(users=[OPERATOR_US]),
        lambda: actor.assignments.unassign_department_group(OPERATOR_US, DEPARTMENTS_US),
    )


def test_an_actor_who_sees_every_assignment_is_told_every_department(
    sample_db: Database,
) -> None:
    Session(sample_db, ADMIN).assignments.assign_department(
        OPERATOR_US, DEPARTMENT_AU, read_only=False
    )
    impact = disabling_operator_us(Session(sample_db, MANAGER_US))
    (entry,) = impact.entries
    assert set(entry.reads_lost) == {DEPARTMENT_AU, DEPARTMENT_US} and not impact.withheld


def test_a_team_leader_is_told_nothing_of_other_users_chats(sample_db: Database) -> None:
    """The sample's Teamleader role may see others' department groups but not their direct
    departments: the direct Departments AU assignment must not show, nor anything else of
    Operator US's chats, and Operator US is not counted either."""
    Session(sample_db, ADMIN).assignments.assign_department(
        OPERATOR_US, DEPARTMENT_AU, read_only=False
    )
    impact = disabling_operator_us(Session(sample_db, TEAMLEADER_US))
    assert impact.entries == () and impact.hidden == 0 and impact.withheld
    assert "chat access not shown" in impact.summary()


def test_a_dry_run_cannot_tell_whether_a_user_holds_a_department_directly(
    sample_db: Database,
) -> None:
    """The red team's question: does Operator US hold Departments US directly? Removing the
    department group answers it for an actor told the chats; a team leader's preview reads the
    same with and without the direct row."""
    leader = Session(sample_db, TEAMLEADER_US)
    without = unassigning_departments_us(leader)
    Session(sample_db, ADMIN).assignments.assign_department(
        OPERATOR_US, DEPARTMENT_US, read_only=False
    )
    with_direct = unassigning_departments_us(leader)
    assert without.as_json() == with_direct.as_json() == []
    assert without.summary() == with_direct.summary()
    assert without.hidden == with_direct.hidden == 0
