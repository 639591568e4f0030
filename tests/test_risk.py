"""The risk report (SPEC §7): each rule on small hand-built configurations, then the sample.

Every rule has a case where it must fire and one where it must stay quiet; the sample's
expectations come from issue 8 and SPEC §6 scenario 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from builders import EXCLUDE
from builders import make_role as role
from peewee import Database

from store import ScopeError, Session
from store.models import (
    Department,
    DepartmentGroup,
    DepartmentGroupMember,
    Group,
    GroupRole,
    GroupUser,
    GroupWork,
    User,
    UserDep,
)
from store.risk import RULES, SEVERITIES, Finding, risk_report
from tui.command_line.main import main

# -- builders ---------------------------------------------------------------------------------


def group(name: str, *roles: int, works_with: tuple[int, ...] = (), disabled: bool = False) -> int:
    made = Group.create(name=name, disabled=int(disabled))
    for role_id in roles:
        GroupRole.create(group_id=made.id, role_id=role_id)
    for target in works_with:
        GroupWork.create(group_id=made.id, group_work_id=target)
    return made.id


def user(name: str, *groups: int, disabled: bool = False) -> int:
    made = User.create(
        username=name, password="", email=f"{name}@example.com", disabled=int(disabled)
    )
    for group_id in groups:
        GroupUser.create(group_id=group_id, user_id=made.id)
    return made.id


def findings(rule: str) -> list[Finding]:
    assert rule in RULES
    return [f for f in risk_report().findings if f.rule == rule]


def ids(finding: Finding, kind: str) -> list[int]:
    return [o.id for o in finding.objects if o.type == kind]


# -- work-with lists made moot by lhuser/editusergroupall ---------------------------------------


def test_a_group_whose_own_role_gives_editusergroupall_has_a_moot_work_with_list(
    db: Database,
) -> None:
    ops = group("Ops")
    boss = group("Bosses", role("Boss", "lhuser/*"), works_with=(ops,))
    [found] = findings("work-with-moot")
    assert found.severity == "medium"
    assert ids(found, "group") == [boss]
    assert "lhuser/*" in found.message and "every group" in found.message


def test_an_excluded_editusergroupall_keeps_the_work_with_list_meaningful(db: Database) -> None:
    ops = group("Ops")
    boss = group(
        "Bosses",
        role("Boss", "lhuser/*", ("lhuser", "editusergroupall", "", EXCLUDE)),
        works_with=(ops,),
    )
    user("b", boss)
    assert findings("work-with-moot") == []


def test_members_holding_editusergroupall_through_another_group_make_the_list_moot_for_them(
    db: Database,
) -> None:
    ops = group("Ops")
    managers = group("Managers", role("Managers", "lhuser/*"))
    regional = group("Regional managers", works_with=(ops,))
    user("m1", managers, regional)
    user("m2", regional)
    [found] = findings("work-with-moot")
    assert found.severity == "medium"
    assert ids(found, "group") == [regional, managers]
    assert "1 of its 2 members" in found.message


def test_a_list_whose_members_lack_editusergroupall_is_not_reported(db: Database) -> None:
    ops = group("Ops")
    managers = group(
        "Managers",
        role("Managers", "lhuser/*"),
        role("No all", ("lhuser", "editusergroupall", "", 1)),
    )
    leaders = group("Leaders", role("Leader", "lhuser/edituser"), works_with=(ops,))
    user("l1", leaders)
    user("l2", leaders, managers)  # lhuser/* but editusergroupall excluded
    assert findings("work-with-moot") == []


def test_an_empty_group_with_a_list_is_flagged_only_when_a_non_admin_group_gives_editusergroupall(
    db: Database,
) -> None:
    ops = group("Ops")
    group("Admins", role("All", "*/*"))
    empty = group("Regional", works_with=(ops,))
    assert findings("work-with-moot") == []  # only administrators hold it: nothing to say
    managers = group("Managers", role("Managers", "lhuser/editusergroupall"))
    [found] = findings("work-with-moot")
    assert found.severity == "info"
    assert ids(found, "group") == [empty, managers]


# -- privilege paths through work-with lists ----------------------------------------------------


def test_working_with_a_stronger_group_is_a_privilege_path(db: Database) -> None:
    strong = group("Strong", role("Strong", "lhchat/use", "lhuser/deleteuser"))
    leaders = group(
        "Leaders", role("Leader", "lhuser/createuser", "lhchat/use"), works_with=(strong,)
    )
    user("l", leaders)
    [found] = findings("privilege-path")
    assert found.severity == "high"  # open (createuser) and lhuser/deleteuser is a power
    assert ids(found, "group") == [leaders, strong]
    assert "lhuser/deleteuser" in found.message and "lhchat/use" not in found.message


def test_a_privilege_path_nobody_can_use_yet_is_low(db: Database) -> None:
    strong = group("Strong", role("Strong", "lhchat/use"))
    leaders = group("Leaders", works_with=(strong,))
    user("l", leaders)
    [found] = findings("privilege-path")
    assert found.severity == "low"


def test_a_member_who_may_use_every_group_does_not_open_the_path(db: Database) -> None:
    strong = group("Strong", role("Strong", "lhchat/use"))
    regional = group("Regional", works_with=(strong,))
    managers = group("Managers", role("Managers", "lhuser/*"))
    user("m", managers, regional)
    [found] = findings("privilege-path")
    assert found.severity == "low"


def test_no_privilege_path_to_a_weaker_or_disabled_group(db: Database) -> None:
    weak = group("Weak", role("Weak", "lhchat/use"))
    off = group("Off", role("Off", "lhuser/deleteuser"), disabled=True)
    leaders = group(
        "Leaders", role("Leader", "lhuser/createuser", "lhchat/*"), works_with=(weak, off)
    )
    user("l", leaders)
    assert findings("privilege-path") == []


# -- editdepartaments: self-assignment in LHC --------------------------------------------------


def test_editdepartaments_without_assign_all_is_a_self_assignment_path(db: Database) -> None:
    leaders = group("Leaders", role("Leader", "lhuser/editdepartaments"))
    user("l", leaders)
    [found] = findings("self-assign-departments")
    assert found.severity == "high"
    assert ids(found, "group") == [leaders]


@pytest.mark.parametrize(
    "policies",
    [
        ("lhuser/*",),  # includes both assign_all_department_* functions
        (
            "lhuser/editdepartaments",
            "lhuser/assign_all_department_group",
            "lhuser/assign_all_department_individual",
        ),
        ("lhuser/*", ("lhuser", "editdepartaments", "", EXCLUDE)),
    ],
)
def test_editdepartaments_is_not_reported_when_it_opens_nothing_more(
    db: Database, policies: tuple
) -> None:
    user("l", group("Leaders", role("Leader", *policies)))
    assert findings("self-assign-departments") == []


def test_a_disabled_group_gives_no_editdepartaments(db: Database) -> None:
    user("l", group("Leaders", role("Leader", "lhuser/editdepartaments"), disabled=True))
    assert findings("self-assign-departments") == []


# -- editgroup without lhpermission/edit -------------------------------------------------------


def test_editgroup_without_lhpermission_edit_can_attach_roles_in_lhc(db: Database) -> None:
    managers = group("Managers", role("Managers", "lhuser/*"))
    [found] = findings("editgroup-attaches-roles")
    assert ids(found, "group") == [managers]
    assert found.severity == "medium"  # no members yet
    user("m", managers)
    assert findings("editgroup-attaches-roles")[0].severity == "high"


@pytest.mark.parametrize("policies", [("lhuser/editgroup", "lhpermission/edit"), ("*/*",)])
def test_editgroup_with_lhpermission_edit_or_administrators_is_quiet(
    db: Database, policies: tuple
) -> None:
    user("m", group("Managers", role("Managers", *policies)))
    assert findings("editgroup-attaches-roles") == []


# -- roles without a group, disabled groups with members --------------------------------------


def test_a_role_no_group_carries_is_reported_and_an_attached_one_is_not(db: Database) -> None:
    lonely = role("Rest API", "lhdepartment/list")
    group("Ops", role("Ops", "lhchat/use"))
    [found] = findings("role-without-group")
    assert ids(found, "role") == [lonely] and found.severity == "low"


def test_a_disabled_group_with_members_is_reported(db: Database) -> None:
    paused = group("Paused", role("Ops", "lhchat/use"), disabled=True)
    dormant = group("Dormant admins", role("All", "*/*"), disabled=True)
    group("Empty and off", disabled=True)
    user("a", paused)
    user("b", dormant)
    user("c", group("Live", role("Live", "lhchat/use")))
    found = findings("disabled-group-members")
    assert [(ids(f, "group"), f.severity) for f in found] == [
        ([dormant], "medium"),
        ([paused], "low"),
    ]
    assert "administrators" in found[0].message


# -- limitations whose LHC outcome depends on row order ---------------------------------------


def test_two_rows_of_one_role_with_different_limitations(db: Database) -> None:
    r = role(
        "Ops",
        ("lhdepartment", "see_all", '{"group":[1]}'),
        ("lhdepartment", "see_all", '{"group":[2]}'),
    )
    g = group("Ops", r)
    user("o", g)
    [found] = findings("limitation-row-order")
    assert found.severity == "medium"
    assert ids(found, "group") == [g] and ids(found, "role") == [r]
    assert "lhdepartment/see_all" in found.message


def test_rows_of_two_groups_conflict_only_for_users_in_both(db: Database) -> None:
    limited = group("Limited", role("L", ("lhchat", "use", '{"group":[1]}')))
    free = group("Free", role("F", "lhchat/use"))
    user("a", limited)
    user("b", free)
    assert findings("limitation-row-order") == []
    user("c", limited, free)
    [found] = findings("limitation-row-order")
    assert ids(found, "group") == [limited, free]
    assert "(none)" in found.message and "(1)" in found.message


def test_the_same_limitation_written_differently_is_no_conflict(db: Database) -> None:
    g = group(
        "Ops",
        role("A", ("lhchat", "use", '{"group":[1,2]}')),
        role("B", ("lhchat", "use", '{"group": [2, 1]}')),
    )
    user("o", g)
    assert findings("limitation-row-order") == []


def test_a_conflicting_role_attached_nowhere_is_a_latent_low_finding(db: Database) -> None:
    r = role("Spare", ("lhchat", "use", '{"group":[1]}'), "lhchat/use")
    [found] = findings("limitation-row-order")
    assert found.severity == "low" and ids(found, "role") == [r]


# -- exclusion rows with * ----------------------------------------------------------------------


def test_wildcard_exclusions_are_reported_and_exact_ones_are_not(db: Database) -> None:
    r = role(
        "Ops",
        "lhchat/*",
        ("lhchat", "*", "", EXCLUDE),
        ("*", "*", "", EXCLUDE),
        ("lhchat", "use", "", EXCLUDE),
    )
    group("Ops", r)
    found = findings("wildcard-exclusion")
    assert sorted(o.name for f in found for o in f.objects if o.type == "policy") == [
        "*/* (exclude)",
        "lhchat/* (exclude)",
    ]
    by_policy = {next(o.name for o in f.objects if o.type == "policy"): f for f in found}
    assert "administrators" in by_policy["*/* (exclude)"].message
    assert "none of lhchat's functions" in by_policy["lhchat/* (exclude)"].message


# -- see_all is not chat separation -----------------------------------------------------------


def _departments() -> tuple[int, int, int]:
    au, us = Department.create(name="AU"), Department.create(name="US")
    dg = DepartmentGroup.create(name="AU group")
    DepartmentGroupMember.create(dep_group_id=dg.id, dep_id=au.id)
    return au.id, us.id, dg.id


def test_see_all_with_a_limitation_is_reported_and_counts_who_reads_beyond_it(
    db: Database,
) -> None:
    au, us, dg = _departments()
    r = role("Operators AU", ("lhdepartment", "see_all", json.dumps({"group": [dg]})))
    g = group("AU Operators", r)
    inside = user("inside", g)
    UserDep.create(user_id=inside, dep_id=au, type=1, dep_group_id=dg)
    [found] = findings("see-all-not-chat-separation")
    assert found.severity == "info" and ids(found, "role") == [r] and ids(found, "group") == [g]
    assert "AU group" in found.message
    beyond = user("beyond", g)
    UserDep.create(user_id=beyond, dep_id=us, type=0)
    User.create(username="everywhere", password="", all_departments=1)
    GroupUser.create(group_id=g, user_id=User.get(User.username == "everywhere").id)
    [found] = findings("see-all-not-chat-separation")
    assert found.severity == "medium"
    assert "Right now 2 of them" in found.message


def test_see_all_without_a_limitation_is_not_reported(db: Database) -> None:
    group("Ops", role("Ops", "lhdepartment/see_all"))
    assert findings("see-all-not-chat-separation") == []


# -- dangling rows, lonely users and departments ----------------------------------------------


def test_work_with_rows_pointing_nowhere_are_reported(db: Database) -> None:
    ops = group("Ops")
    leaders = group("Leaders", works_with=(ops, -1, 999, 0))
    GroupWork.create(group_id=777, group_work_id=ops)
    found = findings("orphan-group-work")
    names = sorted(o.name for f in found for o in f.objects if o.type == "group_work")
    assert names == ["#777 (missing) → Ops", "Leaders → #0 (missing)", "Leaders → #999 (missing)"]
    assert all(f.severity == "low" for f in found)
    assert [ids(f, "group") for f in found] == [[leaders], [leaders], [ops]]


def test_users_in_no_existing_group_are_counted_in_one_finding(db: Database) -> None:
    ops = group("Ops", role("Ops", "lhchat/use"))
    user("fine", ops)
    assert findings("user-without-group") == []
    loner = user("loner")
    ghost = user("ghost")
    GroupUser.create(group_id=4242, user_id=ghost)  # a membership of a deleted group
    user("retired", disabled=True)
    [found] = findings("user-without-group")
    assert ids(found, "user") == [loner, ghost, ghost + 1]
    assert found.message.startswith("3 user(s) belong to no group (2 of them enabled)")


def test_departments_in_no_department_group_are_reported(db: Database) -> None:
    _, us, _ = _departments()
    [found] = findings("department-without-group")
    assert ids(found, "department") == [us] and found.severity == "info"
    dg = DepartmentGroup.create(name="US group")
    DepartmentGroupMember.create(dep_group_id=dg.id, dep_id=us)
    assert findings("department-without-group") == []


def test_an_empty_database_has_no_findings(db: Database) -> None:
    assert risk_report().findings == ()


# -- set-based: the work does not grow with the number of users --------------------------------


def _queries_of_report(db: Database) -> int:
    count = 0
    original = db.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        nonlocal count
        count += 1
        return original(sql, params, *args, **kwargs)

    db.execute_sql = counting  # type: ignore[method-assign]
    try:
        risk_report()
    finally:
        del db.execute_sql
    return count


def test_the_number_of_queries_does_not_depend_on_the_number_of_users(db: Database) -> None:
    ops = group("Ops", role("Ops", ("lhchat", "use", '{"group":[1]}')))
    free = group("Free", role("Free", "lhchat/use", "lhuser/editdepartaments"))
    managers = group("Managers", role("Managers", "lhuser/*"))
    regional = group("Regional", works_with=(ops,))
    _departments()
    for i in range(5):
        user(f"u{i}", ops, free, regional)
    user("lonely")
    few = _queries_of_report(db)
    with db.atomic():
        for i in range(5, 400):
            user(f"u{i}", ops, free, regional, managers if i % 3 else ops)
        for i in range(50):
            user(f"lonely{i}")
    assert _queries_of_report(db) == few


# -- the sample (issue 8's expectations, SPEC §6 scenario 2) -----------------------------------


def test_the_sample_findings(sample_db: Database) -> None:
    report = risk_report()
    summary = [(f.severity, f.rule, [(o.type, o.id) for o in f.objects]) for f in report.findings]
    # Managers' lhuser/* makes the work-with lists of US Managers (its member Manager US) and
    # AU Managers (no members yet) moot.
    assert ("medium", "work-with-moot", [("group", 10), ("group", 8), ("role", 7)]) in summary
    assert ("info", "work-with-moot", [("group", 9), ("group", 8), ("role", 7)]) in summary
    # Team leaders' editdepartaments: they can add any department to themselves in LHC.
    assert ("high", "self-assign-departments", [("group", 3), ("role", 3)]) in summary
    # Role Rest API is attached to no group.
    assert ("low", "role-without-group", [("role", 4)]) in summary
    # The see_all limitations of Operators AU/US do not separate chats (and nobody reads
    # beyond them today).
    assert ("info", "see-all-not-chat-separation", [("role", 5), ("group", 5)]) in summary
    assert ("info", "see-all-not-chat-separation", [("role", 6), ("group", 4)]) in summary
    # Managers' lhuser/* includes editgroup without lhpermission/edit.
    assert ("high", "editgroup-attaches-roles", [("group", 8), ("role", 7)]) in summary
    rules = {rule for _, rule, _ in summary}
    for quiet in (
        "disabled-group-members",
        "limitation-row-order",
        "wildcard-exclusion",
        "orphan-group-work",
        "user-without-group",
        "department-without-group",
    ):
        assert quiet not in rules
    moot = next(f for f in report.findings if f.rule == "work-with-moot" and f.severity == "medium")
    assert "'US Managers'" in moot.message and "'Managers'" in moot.message
    assert "lhuser/*" in moot.message


def test_the_report_is_sorted_and_the_same_every_time(sample_db: Database) -> None:
    first, second = risk_report(), risk_report()
    assert first == second
    ranks = [SEVERITIES.index(f.severity) for f in first.findings]
    assert ranks == sorted(ranks)
    assert all(f.message and f.fix and f.objects for f in first.findings)


# -- the service: lhpermission/list, checked in the store ------------------------------------


def test_the_risk_service_needs_lhpermission_list(as_user: Callable[[str], Session]) -> None:
    admin = as_user("admin")
    assert "risk.report" in admin.permissions.capabilities()
    assert admin.risk.report() == risk_report()
    leader = as_user("Teamleader US")
    assert "risk.report" not in leader.permissions.capabilities()
    with pytest.raises(ScopeError, match="lhpermission/list"):
        leader.risk.report()


# -- the command line ---------------------------------------------------------------------------


def test_lint_json_has_the_issue_shape_and_exit_code_0(
    capsys: pytest.CaptureFixture[str], sample_db: Database
) -> None:
    code = main(["lint", "--json", "--db", sample_db.console_url])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert list(report) == ["findings"]
    assert report == risk_report().as_json()
    for finding in report["findings"]:
        assert list(finding) == ["rule", "severity", "objects", "message", "fix"]
        assert finding["rule"] in RULES and finding["severity"] in SEVERITIES
        for obj in finding["objects"]:
            assert list(obj) == ["type", "id", "name"]


def test_lint_text_names_each_finding_and_exits_0(
    capsys: pytest.CaptureFixture[str], sample_db: Database
) -> None:
    code = main(["lint", "--db", sample_db.console_url])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith(f"{len(risk_report().findings)} findings (2 high")
    assert "[high] self-assign-departments" in out
    assert "role Rest API (#4)" in out
    assert "  fix: " in out


def test_lint_on_an_empty_database_says_so(
    capsys: pytest.CaptureFixture[str], db: Database
) -> None:
    assert main(["lint", "--db", db.console_url]) == 0
    assert capsys.readouterr().out.strip() == "No risks found."


def test_lint_on_a_database_lacking_lhc_tables_exits_2_with_a_message(
    capsys: pytest.CaptureFixture[str], db: Database
) -> None:
    db.execute_sql("DROP TABLE lh_group_work")
    db.close()
    assert main(["lint", "--db", db.console_url]) == 2
    err = capsys.readouterr().err
    assert "lh_group_work" in err and "Traceback" not in err
