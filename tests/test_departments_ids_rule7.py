"""LHC's ``departments_ids`` tells no more of another user than SPEC §3 rule 7 lets the actor see.

``lh_users.departments_ids`` caches every department a user reaches, directly or through any
department group. ``user show --json`` and every write command's ``--json`` print the user's
detail, which carried the stored list as it is: a team leader, who may not be told other users'
direct departments, read them there, and a dry run of removing a department group said in its
"after" whether the user keeps the department directly, the question the impact preview is
built not to answer (``tests/test_impact_rule7.py``). The red team's case, found in round 3.
"""

from __future__ import annotations

import json

from peewee import Database
from test_script_cli import cli

from store import Session
from store.models import User

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
DEPARTMENT_AU, DEPARTMENT_US = 1, 2
DEPARTMENTS_AU, DEPARTMENTS_US = 1, 2  # department groups
TEAMLEADER_ROLE = 3


def test_a_team_leader_is_not_told_a_direct_department_through_departments_ids(
    sample_db: Database,
) -> None:
    leader = Session(sample_db, TEAMLEADER_US)
    without = leader.users.get(OPERATOR_US)
    Session(sample_db, ADMIN).assignments.assign_department(
        OPERATOR_US, DEPARTMENT_AU, read_only=False
    )
    assert User.get_by_id(OPERATOR_US).departments_ids == "2,1"  # as stored: both
    with_direct = leader.users.get(OPERATOR_US)
    assert with_direct.departments == ()  # rule 7: not his to be told
    assert with_direct.departments_ids == without.departments_ids == "2"
    # The manager may see every assignment: the stored list; each user sees their own.
    assert Session(sample_db, MANAGER_US).users.get(OPERATOR_US).departments_ids == "2,1"
    assert Session(sample_db, OPERATOR_US).users.get(OPERATOR_US).departments_ids == "2,1"


def test_a_hidden_department_group_does_not_show_through_departments_ids(
    sample_db: Database,
) -> None:
    """Without ``see_user_assigned_departments_groups`` the department groups the actor may
    not assign are left out, and the departments they bring with them."""
    admin = Session(sample_db, ADMIN)
    policy = next(
        p
        for p in admin.roles.get(TEAMLEADER_ROLE).policies
        if (p.module, p.function) == ("lhuser", "see_user_assigned_departments_groups")
    )
    admin.roles.remove_policy(TEAMLEADER_ROLE, policy.id)
    leader = Session(sample_db, TEAMLEADER_US)
    assert leader.users.get(OPERATOR_AU).department_groups == ()
    assert leader.users.get(OPERATOR_AU).departments_ids == ""
    admin.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_AU, read_only=False)
    assert leader.users.get(OPERATOR_US).departments_ids == "2"
    assert leader.users.get(TEAMLEADER_US).departments_ids == "2"  # his own, as stored


def test_a_dry_run_json_reads_the_same_whether_or_not_a_user_holds_a_department_directly(
    sample_url: str, sample_db: Database
) -> None:
    """The red team's reproduction: ``user depgroups 'Operator US' --remove 'Departments US'
    --dry-run --json`` as Teamleader US printed ``"departments_ids": ""`` when Operator US
    had no other way to Departments US and ``"2"`` when he held it directly."""

    def dry_run() -> dict[str, object]:
        result = cli(
            sample_url,
            "user",
            "depgroups",
            "Operator US",
            "--remove",
            "Departments US",
            "--dry-run",
            "--json",
            actor="Teamleader US",
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        report.pop("cache_version")  # the admin's assignment bumped it
        return report

    without = dry_run()
    Session(sample_db, ADMIN).assignments.assign_department(
        OPERATOR_US, DEPARTMENT_US, read_only=False
    )
    with_direct = dry_run()
    assert with_direct == without
    assert without["departments_ids"] == "" and without["departments"] == []
