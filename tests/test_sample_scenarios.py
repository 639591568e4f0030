"""SPEC §6 acceptance scenarios 1-4, played on the documented sample (SPEC §5).

Sample ids: users 1 admin, 2 Operator US, 3 Operator AU, 4 Teamleader US, 5 Manager US;
groups 1 Administrators, 2 Operators, 3 Teamleader, 4 US Operators, 5 AU Operators,
6 AU Teamleaders, 7 US Teamleaders, 8 Managers, 9 AU Managers, 10 US Managers;
departments and department groups 1 Departments AU, 2 Departments US.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from peewee import Database

from store import ScopeError, Session, chat_access
from store.dump import all_rows
from store.models import (
    Audit,
    DepartmentGroupUser,
    GroupRole,
    GroupUser,
    Role,
    RoleFunction,
    User,
    UserDep,
)
from store.schema import has_column

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
ALL_GROUPS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lhc_permission_tables.json"

AsUser = Callable[[str], Session]


def audit_actor(audit: Audit) -> int:
    """Who an audit row names: ``user_id``, or (older LHC schemas) the message's ``actor_id``."""
    if has_column(Audit, "user_id"):
        return audit.user_id
    return json.loads(audit.message)["actor_id"]


def scope_of(session: Session):
    return session.permissions.scope()


# -- scenario 1: Teamleader US -------------------------------------------------------------


def test_teamleader_us_works_with_groups_2_3_4_7_and_hands_out_the_same(as_user: AsUser) -> None:
    scope = scope_of(as_user("Teamleader US"))
    assert scope.usable_groups == {2, 3, 4, 7}
    assert scope.assignable_groups == {2, 3, 4, 7}
    assert scope.required_groups == {2, 3}
    assert scope.assignable_department_groups == {2}
    assert scope.assignable_departments == set()


def test_teamleader_us_sees_operators_and_himself_and_edits_operator_us_and_himself(
    as_user: AsUser,
) -> None:
    scope = scope_of(as_user("Teamleader US"))
    assert scope.visible_user_ids() == [OPERATOR_US, OPERATOR_AU, TEAMLEADER_US]
    assert scope.editable_user_ids() == [OPERATOR_US, TEAMLEADER_US]


def test_teamleader_us_users_screen_lists_three_users_and_marks_operator_au_read_only(
    as_user: AsUser,
) -> None:
    leader = as_user("Teamleader US")
    page = leader.users.page(sort="id")
    assert [(r.id, r.editable) for r in page.rows] == [
        (OPERATOR_US, True),
        (OPERATOR_AU, False),
        (TEAMLEADER_US, True),
    ]
    assert page.next_after is None
    assert leader.users.count() == 3
    assert leader.users.count(text="AU") == 1


def test_teamleader_us_can_open_operator_au_but_not_edit_him_and_the_refusal_names_au_operators(
    as_user: AsUser, sample_db: Database
) -> None:
    session = as_user("Teamleader US")
    detail = session.users.get(OPERATOR_AU)
    assert detail.editable is False
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.users.update(OPERATOR_AU, name="Changed")
    message = str(refused.value)
    assert "Operator AU" in message
    assert "'AU Operators'" in message
    assert all_rows() == before


def test_teamleader_us_new_user_form_offers_groups_4_7_and_required_2_3(as_user: AsUser) -> None:
    scope = scope_of(as_user("Teamleader US"))
    optional = scope.assignable_groups - scope.required_groups
    assert optional == {4, 7}
    assert scope.required_groups == {2, 3}


def test_teamleader_us_cannot_create_a_user_in_au_operators_and_nothing_is_written(
    as_user: AsUser,
) -> None:
    session = as_user("Teamleader US")
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.users.create(
            username="new au", password="pw", email="new.au@example.com", groups=[2, 5]
        )
    assert "'AU Operators'" in str(refused.value)
    assert all_rows() == before


def test_teamleader_us_cannot_assign_departments_au_to_operator_us_and_nothing_is_written(
    as_user: AsUser,
) -> None:
    session = as_user("Teamleader US")
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.assignments.assign_department_group(OPERATOR_US, 1)
    assert "'Departments AU'" in str(refused.value)
    assert all_rows() == before


def test_teamleader_us_cannot_create_a_user_with_department_group_departments_au(
    as_user: AsUser,
) -> None:
    session = as_user("Teamleader US")
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.users.create(
            username="new us",
            password="pw",
            email="new.us@example.com",
            groups=[2, 4],
            department_groups=[1],
        )
    assert "'Departments AU'" in str(refused.value)
    assert all_rows() == before


def test_teamleader_us_cannot_give_operator_us_the_au_operators_group(as_user: AsUser) -> None:
    session = as_user("Teamleader US")
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.users.change_groups(OPERATOR_US, add=[5])
    assert "'AU Operators'" in str(refused.value)
    assert all_rows() == before


# -- scenario 2: Manager US -------------------------------------------------------------------


def test_manager_us_holds_lhuser_star_and_so_edits_all_groups(as_user: AsUser) -> None:
    session = as_user("Manager US")
    assert session.permissions.can("lhuser", "editusergroupall")
    assert session.permissions.can("lhuser", "see_all")
    assert not session.permissions.can("*", "*")


def test_manager_us_sees_every_user_and_edits_everyone_but_admin(as_user: AsUser) -> None:
    scope = scope_of(as_user("Manager US"))
    assert scope.visible_user_ids() == [1, 2, 3, 4, 5]
    assert scope.editable_user_ids() == [2, 3, 4, 5]
    assert scope.usable_groups == ALL_GROUPS


def test_manager_us_hands_out_every_group_but_administrators(as_user: AsUser) -> None:
    scope = scope_of(as_user("Manager US"))
    assert scope.assignable_groups == ALL_GROUPS - {1}
    assert scope.required_groups == {2, 3, 8}
    assert scope.assignable_department_groups == {1, 2}


def test_manager_us_cannot_edit_admin_because_only_administrators_touch_administrators(
    as_user: AsUser,
) -> None:
    session = as_user("Manager US")
    before = all_rows()
    with pytest.raises(ScopeError) as refused:
        session.users.update(ADMIN, name="Pwned")
    assert "admin" in str(refused.value)
    assert "administrator" in str(refused.value)
    assert all_rows() == before


def test_manager_us_may_move_operator_au_into_us_operators_despite_work_with_lists(
    as_user: AsUser,
) -> None:
    detail = as_user("Manager US").users.change_groups(OPERATOR_AU, add=[4])
    assert {g.id for g in detail.groups} == {2, 4, 5}


# -- scenario 3: operators and chat access ---------------------------------------------------


def test_operator_us_is_not_offered_the_users_screen_but_sees_his_own_permissions(
    as_user: AsUser,
) -> None:
    session = as_user("Operator US")
    assert not session.permissions.can("lhuser", "userlist")
    assert session.permissions.can("lhpermission", "see_permissions")
    own = session.permissions.effective()
    assert own.has("lhpermission", "see_permissions")
    assert not own.has("lhuser", "userlist")


def test_operator_us_may_not_see_the_permissions_of_operator_au(as_user: AsUser) -> None:
    with pytest.raises(ScopeError) as refused:
        as_user("Operator US").permissions.effective(OPERATOR_AU)
    assert "see_permissions_users" in str(refused.value)


def test_operator_us_sees_his_own_department_group(as_user: AsUser) -> None:
    detail = as_user("Operator US").users.get(OPERATOR_US)
    assert [a.name for a in detail.department_groups] == ["Departments US"]


def test_operator_us_does_not_see_the_department_groups_of_operator_au(as_user: AsUser) -> None:
    """SPEC §3: another user's assignments outside the actor's assignable sets need
    lhuser/see_user_assigned_departments_groups, which Operators lack."""
    session = as_user("Operator US")
    assert not session.permissions.can("lhuser", "see_user_assigned_departments_groups")
    assert session.users.get(OPERATOR_AU).department_groups == ()


def test_the_users_list_hides_department_groups_the_actor_may_not_see(
    sample_db: Database,
) -> None:
    """The users table applies the same rule as the form: a lister without
    see_user_assigned_departments_groups sees only the department groups he may assign."""
    lister = Role.create(name="Lister")
    for function in ("userlist", "see_all"):
        RoleFunction.create(role_id=lister.id, module="lhuser", function=function)
    GroupRole.create(group_id=4, role_id=lister.id)  # US Operators may now list everyone
    session = Session(sample_db, OPERATOR_US)
    rows = {r.id: r for r in session.users.page().rows}
    assert rows[OPERATOR_AU].department_groups == ()
    assert rows[OPERATOR_US].department_groups == ("Departments US",)


def test_operator_us_may_not_list_users_without_userlist(as_user: AsUser) -> None:
    with pytest.raises(ScopeError, match="lhuser/userlist"):
        as_user("Operator US").users.page()


def test_teamleader_us_sees_operator_au_department_group_thanks_to_see_user_assigned(
    as_user: AsUser,
) -> None:
    session = as_user("Teamleader US")
    assert session.permissions.can("lhuser", "see_user_assigned_departments_groups")
    detail = session.users.get(OPERATOR_AU)
    assert [(a.name, a.changeable) for a in detail.department_groups] == [("Departments AU", False)]


def test_teamleader_us_does_not_see_operator_au_direct_departments(
    as_user: AsUser, sample_db: Database
) -> None:
    """Teamleaders lack lhuser/see_user_assigned_departments and assign no departments."""
    UserDep.create(user_id=OPERATOR_AU, dep_id=1, type=0, dep_group_id=0)
    assert as_user("Manager US").users.get(OPERATOR_AU).departments != ()
    assert as_user("Teamleader US").users.get(OPERATOR_AU).departments == ()


def test_operator_us_reads_and_writes_departments_us_only(sample_db: Database) -> None:
    access = chat_access(OPERATOR_US)
    assert access.read == [2]
    assert access.write == [2]
    assert access.all_departments is False


def test_operator_au_reads_and_writes_departments_au_only(sample_db: Database) -> None:
    access = chat_access(OPERATOR_AU)
    assert access.read == [1]
    assert access.write == [1]


def test_admin_reads_and_writes_every_department(sample_db: Database) -> None:
    access = chat_access(ADMIN)
    assert access.all_departments is True
    assert access.read == [1, 2]
    assert access.write == [1, 2]


def test_operator_au_see_all_limitation_does_not_limit_his_chat_reading(
    sample_db: Database,
) -> None:
    # lhdepartment/see_all {"group":[1]} shapes pickers only (SPEC §4): access follows lh_userdep.
    UserDep.update(dep_id=2).where(UserDep.user_id == OPERATOR_AU).execute()
    assert chat_access(OPERATOR_AU).read == [2]


# -- scenario 4: Teamleader US creates an operator and assigns Departments US ----------------


def _lh_users_schema() -> list[dict]:
    if not SCHEMA.exists():
        pytest.skip("shared/data/lhc_permission_tables.json is not available")
    return json.loads(SCHEMA.read_text(encoding="utf-8"))["tables"]["lh_users"]


def test_teamleader_us_creates_an_operator_with_lhc_default_columns_and_no_department_rows(
    as_user: AsUser,
) -> None:
    session = as_user("Teamleader US")
    detail = session.users.create(
        username="Operator US 2",
        password="s3cret-pass",
        email="operator.us2@example.com",
        name="Second",
        surname="Operator",
        groups=[2, 4],
    )
    row = User.select().where(User.id == detail.id).dicts().get()
    assert row["username"] == "Operator US 2"
    assert row["email"] == "operator.us2@example.com"
    assert row["name"] == "Second"
    assert row["surname"] == "Operator"
    assert row["all_departments"] == 0
    assert row["departments_ids"] == "-1"
    assert row["cache_version"] == 0
    assert row["disabled"] == 0
    assert row["password"].startswith("$2y$10$")
    assert len(row["password"]) == 60
    # Every NOT NULL column has a value; columns with an LHC default hold it.
    for column in _lh_users_schema():
        field = column["field"]
        if field not in row:  # a live LHC table of an older version: the column is not there
            assert field not in User.select().where(User.id == detail.id).dicts().get()
            continue
        assert row[field] is not None, field
        if column["default"] is not None and field not in ("cache_version",):
            assert str(row[field]) == column["default"], field
    for field in ("max_active_chats", "hide_online", "exclude_autoasign", "rec_per_req"):
        assert row[field] == 0, field
    for field in ("session_id", "operation_admin", "time_zone", "job_title", "skype"):
        assert row[field] == "", field

    memberships = GroupUser.select().where(GroupUser.user_id == detail.id)
    assert sorted(m.group_id for m in memberships) == [2, 4]
    assert not UserDep.select().where(UserDep.user_id == detail.id).exists()
    assert not DepartmentGroupUser.select().where(DepartmentGroupUser.user_id == detail.id).exists()


def test_teamleader_us_assigns_departments_us_to_a_new_operator_and_rows_match_lhc(
    as_user: AsUser,
) -> None:
    session = as_user("Teamleader US")
    created = session.users.create(
        username="Operator US 2",
        password="s3cret-pass",
        email="operator.us2@example.com",
        groups=[2, 4],
    )
    uid = created.id
    # Values LHC's back office may have set on the account: the derived row must copy them.
    User.update(max_active_chats=7, hide_online=1, exclude_autoasign=1, always_on=1).where(
        User.id == uid
    ).execute()
    audits_before = Audit.select().count()

    detail = session.assignments.assign_department_group(uid, 2)

    assignment = list(
        DepartmentGroupUser.select().where(DepartmentGroupUser.user_id == uid).dicts()
    )
    assert len(assignment) == 1
    assert assignment[0]["dep_group_id"] == 2
    assert assignment[0]["read_only"] == 0

    rows = list(UserDep.select().where(UserDep.user_id == uid).dicts())
    assert len(rows) == 1
    row = rows[0]
    assert (row["type"], row["dep_id"], row["dep_group_id"], row["ro"]) == (1, 2, 2, 0)
    assert row["max_chats"] == 7
    assert row["hide_online"] == 1
    assert row["exclude_autoasign"] == 1
    assert row["always_on"] == 1
    for counter in (
        "active_chats",
        "pending_chats",
        "inactive_chats",
        "active_mails",
        "pending_mails",
        "last_accepted",
        "last_accepted_mail",
        "last_activity",
        "lastd_activity",
        "hide_online_ts",
        "max_mails",
    ):
        if counter in row or has_column(UserDep, counter):  # older LHC tables lack a few
            assert row[counter] == 0, counter

    user = User.get_by_id(uid)
    assert user.departments_ids == "2"
    assert user.cache_version == 1
    assert user.all_departments == 0
    assert detail.departments_ids == "2"
    assert [(a.id, a.read_only) for a in detail.department_groups] == [(2, False)]

    new_audits = list(Audit.select().where(Audit.id > audits_before).order_by(Audit.id))
    assert len(new_audits) == 1
    audit = new_audits[0]
    assert audit.category == "user"
    assert audit.object_id == uid
    assert audit_actor(audit) == TEAMLEADER_US
    message = json.loads(audit.message)
    assert isinstance(message, dict)
    assert "$2y$" not in audit.message
    assert "password" not in audit.message


def test_teamleader_us_create_audit_names_him_and_holds_no_password_hash(
    as_user: AsUser,
) -> None:
    created = as_user("Teamleader US").users.create(
        username="Operator US 2",
        password="s3cret-pass",
        email="operator.us2@example.com",
        groups=[2, 4],
        department_groups=[2],
    )
    audit = Audit.select().order_by(Audit.id.desc()).get()
    assert audit.category == "user"
    assert audit_actor(audit) == TEAMLEADER_US
    assert audit.object_id == created.id
    message = json.loads(audit.message)
    assert message["after"]["username"] == "Operator US 2"
    assert "$2y$" not in audit.message
    assert "s3cret-pass" not in audit.message
    assert "password" not in audit.message
    # Created with the department group in one go: same rows as assigning it afterwards.
    rows = list(UserDep.select().where(UserDep.user_id == created.id))
    assert [(r.type, r.dep_id, r.dep_group_id, r.ro) for r in rows] == [(1, 2, 2, 0)]
    assert User.get_by_id(created.id).departments_ids == "2"


def test_the_new_operator_reads_and_writes_departments_us_and_teamleader_us_may_edit_him(
    as_user: AsUser,
) -> None:
    session = as_user("Teamleader US")
    created = session.users.create(
        username="Operator US 2",
        password="s3cret-pass",
        email="operator.us2@example.com",
        groups=[2, 4],
        department_groups=[2],
    )
    assert chat_access(created.id).read == [2]
    assert chat_access(created.id).write == [2]
    assert created.id in scope_of(session).editable_user_ids()
    assert created.id in scope_of(as_user("Operator US")).visible_user_ids()
