"""The impact preview tells an actor no permission of another user they may not see.

SPEC §3.1: another user's permissions are seen with ``lhpermission/see_permissions_users``, one's
own with ``lhpermission/see_permissions``. What a change makes someone gain or lose is part of
what they hold, so an actor without the right is told none of it for other users (new users
included): such users are neither named nor counted for their permissions alone, and the
summary says permissions were left out whenever the change alters what permissions are made of
(memberships, groups' roles and flags, policies): a fact of the actor's own change, not of
anyone's permissions. Chats follow rule 7 (``tests/test_impact_rule7.py``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import Database

from store import Session, StoreError
from store.impact import Impact, Touches

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
TEAMLEADER_GROUP, US_OPERATORS, AU_OPERATORS = 3, 4, 5
TEAMLEADER_ROLE, OPERATORS_AU_ROLE = 3, 5


def adding_operator_us_to_teamleader(actor: Session) -> Impact:
    return actor.impact.preview(
        Touches.of(users=[OPERATOR_US]),
        lambda: actor.users.change_groups(OPERATOR_US, add=[TEAMLEADER_GROUP]),
    )


def test_the_administrator_is_told_what_operator_us_gains(sample_db: Database) -> None:
    impact = adding_operator_us_to_teamleader(Session(sample_db, ADMIN))
    [entry] = impact.entries
    assert entry.user_id == OPERATOR_US and entry.gains
    assert not impact.permissions_withheld


def test_a_team_leader_without_the_right_is_told_nothing_and_told_so(
    sample_db: Database,
) -> None:
    impact = adding_operator_us_to_teamleader(Session(sample_db, TEAMLEADER_US))
    assert impact.entries == () and impact.hidden == 0
    assert impact.permissions_withheld
    assert impact.summary() == (  # nor, by rule 7, other users' chats
        "affects nobody (other users' permissions and chat access not shown: you may not see"
        " their permissions and all their assignments)"
    )


def test_with_see_permissions_users_the_team_leader_is_told(sample_db: Database) -> None:
    Session(sample_db, ADMIN).roles.add_policy(
        TEAMLEADER_ROLE, "lhpermission", "see_permissions_users"
    )
    leader = Session(sample_db, TEAMLEADER_US)
    impact = adding_operator_us_to_teamleader(leader)
    assert [e.user_id for e in impact.entries] == [OPERATOR_US]
    assert impact.entries[0].gains and not impact.permissions_withheld


def test_a_change_that_alters_no_membership_or_policy_does_not_say_so(
    sample_db: Database,
) -> None:
    """A department group assigned changes chats, never permissions: nothing to leave out."""
    manager = Session(sample_db, MANAGER_US)
    impact = manager.impact.preview(
        Touches.of(users=[OPERATOR_AU]),
        lambda: manager.assignments.assign_department_group(OPERATOR_AU, 2, read_only=True),
    )
    assert not impact.permissions_withheld
    assert [e.user_id for e in impact.entries] == [OPERATOR_AU]


def test_ones_own_permissions_are_told_with_see_permissions(sample_db: Database) -> None:
    """Manager US (``lhuser/*``: may change his own groups) holds ``see_permissions``: what he
    gains himself is told, though other users' permissions are not."""
    Session(sample_db, ADMIN).roles.add_policy(OPERATORS_AU_ROLE, "lhfaq", "x")
    manager = Session(sample_db, MANAGER_US)
    impact = manager.impact.preview(
        Touches.of(users=[MANAGER_US]),
        lambda: manager.users.change_groups(MANAGER_US, add=[AU_OPERATORS]),
    )
    [entry] = impact.entries
    assert entry.user_id == MANAGER_US and "lhfaq/x" in entry.gains


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    actor=st.sampled_from([TEAMLEADER_US, MANAGER_US]),
    target=st.sampled_from([OPERATOR_US, OPERATOR_AU, TEAMLEADER_US]),
    group=st.sampled_from([2, 3, 4, 5, 6, 7, 8]),
    adding=st.booleans(),
)
def test_no_other_users_permission_is_ever_told_without_the_right(
    sample_db: Database, actor: int, target: int, group: int, adding: bool
) -> None:
    session = Session(sample_db, actor)
    change = {"add": [group]} if adding else {"remove": [group]}
    try:
        impact = session.impact.preview(
            Touches.of(users=[target], groups=[group]),
            lambda: session.users.change_groups(target, **change),
        )
    except StoreError:
        return  # refused: nothing told
    for entry in impact.entries:
        if entry.user_id != actor:
            assert not (entry.gains or entry.loses or entry.limitations_changed), entry


@pytest.mark.parametrize("actor", [TEAMLEADER_US, MANAGER_US])
def test_the_json_of_a_dry_run_flags_the_permissions_left_out(
    sample_db: Database, actor: int
) -> None:
    from tui.scripting.output import impact_json

    report = impact_json(adding_operator_us_to_teamleader(Session(sample_db, actor)), dry_run=True)
    assert report["impact_permissions_withheld"] is True
    assert all(not e["gains"] and not e["loses"] for e in report["impact"])


REST_API_ROLE, AU_TEAMLEADERS = 4, 6  # a role no group carries; a group nobody is in


def test_whether_a_role_reaches_anyone_is_not_told_by_the_flag(sample_db: Database) -> None:
    """The red team's question, round 3: is anybody in the groups carrying a role? A team
    leader who may edit roles (not list groups, not see other users' permissions) added a
    policy to it: the flag said "permissions not shown" only when someone was. It says so
    whenever his change alters a role, a group or a membership, whoever is in them."""
    admin = Session(sample_db, ADMIN)
    for function in ("edit", "list"):
        admin.roles.add_policy(TEAMLEADER_ROLE, "lhpermission", function)
    leader = Session(sample_db, TEAMLEADER_US)

    def adding_a_policy() -> Impact:
        return leader.impact.preview(
            Touches.of(roles=[REST_API_ROLE]),
            lambda: leader.roles.add_policy(REST_API_ROLE, "lhfaq", "x"),
        )

    carried_by_nobody = adding_a_policy()
    admin.groups.attach_role(AU_TEAMLEADERS, REST_API_ROLE)
    carried_by_an_empty_group = adding_a_policy()
    admin.groups.add_member(AU_TEAMLEADERS, OPERATOR_AU)
    carried_to_someone = adding_a_policy()
    summaries = {
        i.summary() for i in (carried_by_nobody, carried_by_an_empty_group, carried_to_someone)
    }
    withheld = "affects nobody (other users' permissions not shown: you may not see them)"
    assert summaries == {withheld}
    assert carried_by_nobody.permissions_withheld and carried_to_someone.permissions_withheld


def test_whether_a_group_has_members_is_not_told_by_the_flag(sample_db: Database) -> None:
    """The same for a group's flags: disabling AU Teamleaders, with and without a member."""
    admin = Session(sample_db, ADMIN)
    manager = Session(sample_db, MANAGER_US)  # lhuser/*: may edit groups; no see_permissions_users

    def disabling() -> Impact:
        return manager.impact.preview(
            Touches.of(groups=[AU_TEAMLEADERS]),
            lambda: manager.groups.update(AU_TEAMLEADERS, disabled=True),
        )

    empty = disabling()
    admin.groups.add_member(AU_TEAMLEADERS, OPERATOR_AU)
    with_a_member = disabling()
    assert empty.summary() == with_a_member.summary()
    assert empty.permissions_withheld and with_a_member.permissions_withheld
