"""Department rosters through the store (issue 19, point 3): who is in a department or a
department group, how, and what the actor may do about each person.

Sample (SPEC §5): admin has "all departments"; Operator AU is assigned department group 1
(Departments AU = {1}); Operator US, Teamleader US and Manager US department group 2
(Departments US = {2}). Teamleader US sees users 2, 3 and 4, edits 2 and 4, assigns
department group 2, holds ``see_user_assigned_departments_groups`` but not
``see_user_assigned_departments``; Operator US has no ``lhuser/userlist``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from peewee import Database

from store import NotFoundError, ScopeError, Session, ValidationError
from store.models import Audit, DepartmentGroupUser, User, UserDep
from store.rosters import DIRECT, EVERYWHERE, THROUGH_GROUP, Roster, RosterPerson

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
AU, US = 1, 2  # department ids; the department groups of the same names have the same ids


def people(roster: Roster) -> list[tuple[str, list[str]]]:
    """``[(username, [way labels])]`` in roster order."""
    return [(p.username, [w.label() for w in p.ways]) for p in roster.people]


def by_name(roster: Roster) -> dict[str, RosterPerson]:
    return {p.username: p for p in roster.people}


# -- the sample, as SPEC §5 sets it up --------------------------------------------------------


def test_admin_sees_every_person_of_each_sample_department(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    au = admin.rosters.department(AU)
    assert (au.kind, au.subject.id, au.subject.name) == ("department", AU, "Departments AU")
    assert people(au) == [
        ("admin", ["all departments"]),
        ("Operator AU", ["group 'Departments AU' (#1)"]),
    ]
    us = admin.rosters.department(US)
    assert people(us) == [
        ("admin", ["all departments"]),
        ("Operator US", ["group 'Departments US' (#2)"]),
        ("Teamleader US", ["group 'Departments US' (#2)"]),
        ("Manager US", ["group 'Departments US' (#2)"]),
    ]
    assert (us.total, us.hidden, us.next_after) == (4, 0, None)
    operator = by_name(us)["Operator US"]
    assert operator.full_name == "Operator US" and not operator.disabled
    assert operator.actions == ("edit", "unassign")
    # "All departments" is the user form's switch: never removed from one department's roster.
    assert by_name(us)["admin"].ways[0].kind == EVERYWHERE
    assert by_name(us)["admin"].actions == ("edit",)


def test_department_group_rosters_list_the_assigned_users(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    us = admin.rosters.department_group(US)
    assert us.kind == "department_group" and us.subject.name == "Departments US"
    assert [d.name for d in us.departments] == ["Departments US"]
    assert [p.user_id for p in us.people] == [OPERATOR_US, TEAMLEADER_US, MANAGER_US]
    assert {w.kind for p in us.people for w in p.ways} == {THROUGH_GROUP}
    # "All departments" is no department-group assignment: admin is not on it.
    assert [p.username for p in admin.rosters.department_group(AU).people] == ["Operator AU"]


def test_json_shape(as_user: Callable[[str], Session]) -> None:
    def person(user_id: int, username: str) -> dict[str, object]:
        return {
            "id": user_id,
            "username": username,
            "full_name": username,  # the sample's names and surnames spell the username
            "disabled": False,
            "ways": [
                {
                    "kind": "depgroup",
                    "department_group": {"id": 2, "name": "Departments US"},
                    "read_only": False,
                    "removable": True,
                }
            ],
            "read_only": False,
            "exclude_autoassign": False,
            "max_chats": 0,
            "actions": ["edit", "unassign"],
        }

    assert as_user("Teamleader US").rosters.department(US).as_json() == {
        "people": [person(OPERATOR_US, "Operator US"), person(TEAMLEADER_US, "Teamleader US")],
        "total": 2,
        "hidden": 2,
        "ways_hidden": False,
        "next_after": None,
    }


# -- scoping: visible users and SPEC §3.2 rule 7 ----------------------------------------------


def test_a_team_leader_sees_the_people_in_scope_and_how_many_are_hidden(
    as_user: Callable[[str], Session],
) -> None:
    leader = as_user("Teamleader US")
    us = leader.rosters.department(US)
    assert [p.user_id for p in us.people] == [OPERATOR_US, TEAMLEADER_US]
    assert (us.total, us.hidden) == (2, 2)  # admin and Manager US are not his to see
    au = leader.rosters.department(AU)
    # Operator AU is visible, read-only for him, and his group shows (he holds
    # see_user_assigned_departments_groups) but is not his to hand out: nothing to do.
    assert people(au) == [("Operator AU", ["group 'Departments AU' (#1)"])]
    assert au.people[0].actions == () and not au.people[0].editable
    assert au.hidden == 1  # admin
    assert "admin" not in repr(au) and "Manager US" not in repr(us)
    group = leader.rosters.department_group(US)
    assert ([p.username for p in group.people], group.hidden) == (
        ["Operator US", "Teamleader US"],
        1,
    )


def test_a_direct_department_he_may_not_be_told_of_is_left_out_and_counted(
    as_user: Callable[[str], Session],
) -> None:
    """Teamleader US lacks see_user_assigned_departments and assigns no department: Operator
    AU's direct assignment is left out (his group way stays, marked partly hidden), and Operator
    US, in department 1 only directly, is not listed at all but counted."""
    admin = as_user("admin")
    admin.assignments.assign_department(OPERATOR_AU, AU, read_only=True)
    admin.assignments.assign_department(OPERATOR_US, AU)
    au = as_user("Teamleader US").rosters.department(AU)
    assert people(au) == [("Operator AU", ["group 'Departments AU' (#1)"])]
    assert au.ways_hidden and "partly_hidden" not in au.people[0].as_json()
    assert (au.total, au.hidden) == (1, 2)  # admin, and Operator US reached only directly
    full = as_user("Manager US").rosters.department(AU)
    assert people(full) == [
        ("admin", ["all departments"]),
        ("Operator US", ["direct"]),
        ("Operator AU", ["direct, read-only", "group 'Departments AU' (#1)"]),
    ]
    assert not full.ways_hidden and full.hidden == 0


def test_a_depgroup_the_actor_may_not_be_told_of_hides_its_whole_roster(
    as_user: Callable[[str], Session],
) -> None:
    """A desk viewer (``lhuser/userlist`` only, works with Operators) sees Operator US and
    Operator AU but may not be told of their department groups: both rosters are empty for
    him, with everyone counted as hidden."""
    admin = as_user("admin")
    role = admin.roles.create("Viewers")
    admin.roles.add_policy(role.id, "lhuser", "userlist")
    group = admin.groups.save(None, name="Desk viewers", required=True, works_with=[2])
    admin.groups.attach_role(group.id, role.id)
    viewer = admin.users.create(
        username="Viewer", password="Viewer-pass-1", email="viewer@example.com", groups=[group.id]
    )
    session = Session(admin.db, viewer.id)
    dg = session.rosters.department_group(US)
    assert (dg.people, dg.total, dg.hidden) == ((), 0, 3)
    department = session.rosters.department(US)
    assert (department.people, department.hidden) == ((), 4)


def test_a_person_sees_themselves_through_any_way(sample_db: Database) -> None:
    """The actor is always told of their own assignments (rule 7 is about others)."""
    from store.models import GroupUser

    # Operator US becomes a user lister, without see_user_assigned_*.
    admin = Session(sample_db, ADMIN)
    role = admin.roles.create("Listers")
    admin.roles.add_policy(role.id, "lhuser", "userlist")
    lister = admin.groups.save(None, name="Listers")
    admin.groups.attach_role(lister.id, role.id)
    GroupUser.create(group_id=lister.id, user_id=OPERATOR_US)
    admin.assignments.assign_department(OPERATOR_US, AU)
    mine = Session(sample_db, OPERATOR_US).rosters.department(AU)
    assert people(mine) == [("Operator US", ["direct"])]
    assert mine.hidden == 2  # admin (not visible), Operator AU (through a hidden group)


def test_listing_people_needs_userlist(as_user: Callable[[str], Session]) -> None:
    operator = as_user("Operator US")
    for call in (
        lambda: operator.rosters.department(US),
        lambda: operator.rosters.department_group(US),
    ):
        with pytest.raises(ScopeError, match="lhuser/userlist"):
            call()


def test_unknown_and_invalid_subjects_are_refused(as_user: Callable[[str], Session]) -> None:
    admin = as_user("admin")
    with pytest.raises(NotFoundError, match="No department with id 99"):
        admin.rosters.department(99)
    with pytest.raises(NotFoundError, match="No department group with id 99"):
        admin.rosters.department_group(99)
    for bad in (0, -1, True, "2"):
        with pytest.raises(ValidationError):
            admin.rosters.department(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="page size"):
        admin.rosters.department(US, limit=0)
    with pytest.raises(ValidationError, match="too long"):
        admin.rosters.department(US, text="x" * 201)


# -- ways, values, disabled people, paging and the filter ------------------------------------


def test_direct_group_and_all_departments_ways_side_by_side(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    admin.assignments.assign_department(OPERATOR_US, US, read_only=True)
    admin.assignments.set_all_departments(OPERATOR_AU, True)
    admin.assignments.assign_department_group(MANAGER_US, US, read_only=True)
    roster = as_user("Manager US").rosters.department(US)
    assert people(roster) == [
        ("admin", ["all departments"]),
        ("Operator US", ["direct, read-only", "group 'Departments US' (#2)"]),
        ("Operator AU", ["all departments"]),
        ("Teamleader US", ["group 'Departments US' (#2)"]),
        ("Manager US", ["group 'Departments US' (#2), read-only"]),
    ]
    rows = by_name(roster)
    assert rows["Manager US"].read_only and not rows["Operator US"].read_only
    direct = rows["Operator US"].ways[0]
    assert direct.kind == DIRECT and direct.department_group is None and direct.removable
    assert [w.removable for w in rows["Operator AU"].ways] == [False]


def test_exclude_autoassign_and_max_chats_come_from_the_department_rows(
    as_user: Callable[[str], Session],
) -> None:
    User.update(max_active_chats=4, exclude_autoasign=1).where(User.id == OPERATOR_US).execute()
    admin = as_user("admin")
    admin.assignments.assign_department(OPERATOR_US, US)  # a row copying 4 and 1
    UserDep.update(max_chats=6, exclude_autoasign=0).where(
        (UserDep.user_id == OPERATOR_US) & (UserDep.type == 1)
    ).execute()  # as LHC's department form may set per department
    person = by_name(admin.rosters.department(US))["Operator US"]
    assert (person.max_chats, person.exclude_autoassign) == (6, False)  # any row auto-assigns
    UserDep.update(exclude_autoasign=1).where(UserDep.user_id == OPERATOR_US).execute()
    person = by_name(admin.rosters.department(US))["Operator US"]
    assert (person.max_chats, person.exclude_autoassign) == (6, True)
    # A group without departments has no rows: the account's own values.
    User.update(max_active_chats=3).where(User.id == TEAMLEADER_US).execute()
    admin.departments.set_group_departments(US, [])
    leader = by_name(admin.rosters.department_group(US))["Teamleader US"]
    assert (leader.max_chats, leader.exclude_autoassign) == (3, False)


def test_a_disabled_persons_parked_assignment_is_listed_and_not_removable(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    admin.users.set_disabled(OPERATOR_US, True)
    assert not UserDep.select().where(UserDep.user_id == OPERATOR_US).exists()
    for roster in (admin.rosters.department(US), admin.rosters.department_group(US)):
        person = by_name(roster)["Operator US"]
        assert person.disabled and person.actions == ("edit",)
        assert [w.label() for w in person.ways] == ["group 'Departments US' (#2)"]


def test_pages_by_user_id_and_filters(as_user: Callable[[str], Session]) -> None:
    admin = as_user("admin")
    first = admin.rosters.department(US, limit=3)
    assert [p.user_id for p in first.people] == [ADMIN, OPERATOR_US, TEAMLEADER_US]
    assert (first.total, first.next_after) == (4, TEAMLEADER_US)
    second = admin.rosters.department(US, limit=3, after=first.next_after)
    assert [p.user_id for p in second.people] == [MANAGER_US] and second.next_after is None
    found = admin.rosters.department(US, text="  leader ")
    assert [p.username for p in found.people] == ["Teamleader US"]
    assert (found.total, found.hidden, found.filter_text) == (1, 0, "leader")
    assert admin.rosters.department(US, text="%").people == ()  # literal, not a wildcard


# -- unassigning from a roster ----------------------------------------------------------------


def test_a_team_leader_unassigns_a_department_group_from_a_roster(
    as_user: Callable[[str], Session],
) -> None:
    leader = as_user("Teamleader US")
    person = by_name(leader.rosters.department(US))["Operator US"]
    last = Audit.select().order_by(Audit.id.desc()).get().id
    assert leader.rosters.unassign(OPERATOR_US, person.removable_ways, department_id=US) == 1
    assert "Operator US" not in by_name(leader.rosters.department(US))
    assert (
        not DepartmentGroupUser.select().where(DepartmentGroupUser.user_id == OPERATOR_US).exists()
    )
    audits = list(Audit.select().where(Audit.id > last))
    assert len(audits) == 1 and audits[0].object_id == OPERATOR_US


def test_an_unassign_the_store_refuses_changes_nothing(
    as_user: Callable[[str], Session],
) -> None:
    """The roster says Operator AU's group is not his to remove; asked anyway, the assignment
    service refuses, and a refusal in the middle rolls back what came before it."""
    admin = as_user("admin")
    admin.assignments.assign_department_group(OPERATOR_US, AU)
    leader = as_user("Teamleader US")
    person = by_name(leader.rosters.department(AU))["Operator AU"]
    assert person.ways and not person.removable_ways
    with pytest.raises(ScopeError, match="Teamleader US may not"):
        leader.rosters.unassign(OPERATOR_AU, person.ways, department_id=AU)
    ways = by_name(admin.rosters.department(US))["Operator US"].ways
    au_way = by_name(admin.rosters.department(AU))["Operator US"].ways
    before = list(DepartmentGroupUser.select().dicts())
    with pytest.raises(ScopeError):
        leader.rosters.unassign(OPERATOR_US, (*ways, *au_way), department_id=US)
    assert list(DepartmentGroupUser.select().dicts()) == before
    with pytest.raises(ValidationError, match="Nothing to unassign"):
        leader.rosters.unassign(OPERATOR_US, ())
    everywhere = by_name(admin.rosters.department(US))["admin"].ways
    with pytest.raises(ValidationError, match="user form"):
        admin.rosters.unassign(ADMIN, everywhere, department_id=US)
