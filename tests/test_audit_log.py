"""The audit log as the store serves it: who sees which rows, paging, and no secrets."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from backends import selected_backend
from peewee import Database

from store import Session
from store.audit import write_audit
from store.audit_log import AuditService, scrub_deep
from store.models import Audit, User

BCRYPT = "$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"


def _all_ids(service: AuditService, text: str = "", limit: int = 50) -> list[int]:
    ids: list[int] = []
    before = None
    while True:
        page = service.page(text=text, before_id=before, limit=limit)
        ids.extend(r.id for r in page.rows)
        if page.next_before is None:
            return ids
        before = page.next_before


def test_a_team_leader_sees_only_his_own_actions(as_user: Callable[[str], Session]) -> None:
    leader = as_user("Teamleader US")
    assert leader.audit.page().rows == ()  # the sample was loaded by the installer
    created = leader.users.create(
        username="New Op", password="secret-pass-1", email="new.op@example.com", groups=[2, 4]
    )
    page = leader.audit.page()
    assert page.sees_all is False
    assert [r.actor for r in page.rows] == ["Teamleader US"] * len(page.rows)
    assert page.rows[0].category == "user" and page.rows[0].object_id == created.id
    assert page.rows[0].action == "user.create"
    # someone else's action stays out of his log
    as_user("Manager US").departments.create_group("Elsewhere", [1])
    assert all(r.actor_id == leader.actor_id for r in leader.audit.page().rows)


def test_manager_us_with_lhaudit_star_sees_every_row(as_user: Callable[[str], Session]) -> None:
    manager = as_user("Manager US")
    page = manager.audit.page(limit=500)
    assert page.sees_all is True
    assert len(page.rows) == Audit.select().count()
    assert {r.actor for r in page.rows} == {"installer"}
    assert "audit.all" in manager.permissions.capabilities()
    assert "audit.all" not in as_user("Teamleader US").permissions.capabilities()


def test_rows_come_newest_first_and_pages_follow_without_gaps(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    first = admin.audit.page(limit=7)
    ids = [r.id for r in first.rows]
    assert ids == sorted(ids, reverse=True) and len(ids) == 7
    assert first.next_before == ids[-1]
    second = admin.audit.page(before_id=first.next_before, limit=7)
    assert second.rows[0].id < ids[-1]
    everything = _all_ids(admin.audit, limit=7)
    assert everything == sorted((a.id for a in Audit.select(Audit.id)), reverse=True)
    last = admin.audit.page(before_id=everything[-1])
    assert last.rows == () and last.next_before is None


def test_the_text_filter_matches_category_message_and_actor(
    as_user: Callable[[str], Session],
) -> None:
    manager = as_user("Manager US")
    manager.departments.create_group("Night shift", [2])
    rows = manager.audit.page(text="Night shift").rows
    assert len(rows) == 1 and rows[0].action == "department_group.create"
    assert rows[0].actor == "Manager US"
    matching = manager.audit.page(text="department_group", limit=500).rows
    assert "department_group" in {r.category for r in matching}
    assert all("department_group" in r.category + r.message for r in matching)
    by_actor = manager.audit.page(text="Manager US").rows
    assert rows[0].id in {r.id for r in by_actor}
    assert _all_ids(manager.audit, text="no such thing anywhere") == []


def test_no_password_hash_reaches_any_row(
    sample_db: Database, as_user: Callable[[str], Session]
) -> None:
    admin = as_user("admin")
    target = User.get(User.username == "Operator US")
    admin.users.set_password(target.id, "another-secret-9")
    target = User.get_by_id(target.id)
    # rows not written by the console (e.g. imported from LHC) may carry anything
    Audit.create(
        category="user",
        object_id=target.id,
        user_id=1,
        message=json.dumps(
            {"action": "lhc.edit", "before": {"password": target.password}, "nested": [BCRYPT]}
        ),
        severity="info",
        source="lhc",
        time=dt.datetime(2026, 1, 1),
    )
    Audit.create(
        category="raw",
        object_id=0,
        user_id=1,
        message=f"changed password to {BCRYPT}",
        severity="info",
        source="lhc",
        time=dt.datetime(2026, 1, 1),
    )
    hashes = [u.password for u in User.select(User.password)] + [BCRYPT]
    rows = admin.audit.page(limit=500).rows
    assert rows[0].category == "raw" and "[hidden]" in rows[0].message
    assert json.loads(rows[1].message)["before"]["password"] == "[hidden]"
    assert rows[2].action == "user.set_password"
    for row in rows:
        for secret in hashes:
            assert secret not in row.message
        assert "$2y$" not in row.message


def test_scrub_deep_hides_secret_keys_and_hashes_at_any_depth() -> None:
    cleaned = scrub_deep({"a": [{"password": "x", "note": f"was {BCRYPT}"}], "session_id": 3})
    assert cleaned == {
        "a": [{"password": "[hidden]", "note": "was [hidden]"}],
        "session_id": "[hidden]",
    }


def test_the_actor_of_a_deleted_user_is_named_by_id(as_user: Callable[[str], Session]) -> None:
    write_audit(category="user", object_id=1, actor_id=999, action="user.edit")
    row = as_user("admin").audit.page(limit=1).rows[0]
    assert row.actor == "#999 (deleted)" and row.action == "user.edit"


@pytest.mark.skipif(
    selected_backend() == "postgresql", reason="PostgreSQL has no zero date; MySQL data only"
)
def test_an_imported_zero_date_shows_no_time(as_user: Callable[[str], Session]) -> None:
    Audit.create(
        category="lhc",
        object_id=0,
        user_id=1,
        message="{}",
        severity="info",
        source="lhc",
        time="0000-00-00 00:00:00",  # MySQL's zero date, kept as text by an import
    )
    row = as_user("admin").audit.page(limit=1).rows[0]
    assert row.time is None and row.actor == "admin" and row.action == ""


# -- SPEC §3 rule 7 in one's own actions (red team, round 3) ---------------------------------

OPERATOR_US, TEAMLEADER_US = 2, 4
DEPARTMENT_AU, DEPARTMENTS_AU, DEPARTMENTS_US = 1, 1, 2
TEAMLEADER_ROLE = 3


def test_ones_own_actions_tell_no_direct_department_rule_7_hides(
    as_user: Callable[[str], Session],
) -> None:
    """The audit row of Teamleader US's change held Operator US's ``departments_ids``,
    ``"2,1"``: the direct Departments AU his user form leaves out. He reads it hidden, and a
    search cannot find what he may not read; the manager (``lhaudit/*``) reads it all."""
    as_user("admin").assignments.assign_department(OPERATOR_US, DEPARTMENT_AU, read_only=False)
    leader = as_user("Teamleader US")
    leader.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_US, read_only=True)
    (row,) = leader.audit.page().rows
    details = row.details()
    assert isinstance(details, dict)
    assert details["before"]["departments_ids"] == details["after"]["departments_ids"] == "[hidden]"
    assert "2,1" not in row.message and "1,2" not in row.message
    for text in ('"departments_ids": "2,1"', "2,1", "1,2"):
        assert leader.audit.page(text=text).rows == (), text
    assert [r.id for r in leader.audit.page(text="department_group").rows] == [row.id]
    manager_row = next(r for r in as_user("Manager US").audit.page().rows if r.id == row.id)
    assert '"2,1"' in manager_row.message


def test_ones_own_actions_tell_no_department_group_rule_7_hides(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    policy = next(
        p
        for p in admin.roles.get(TEAMLEADER_ROLE).policies
        if (p.module, p.function) == ("lhuser", "see_user_assigned_departments_groups")
    )
    admin.roles.remove_policy(TEAMLEADER_ROLE, policy.id)
    admin.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_AU, read_only=False)
    leader = as_user("Teamleader US")
    leader.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_US, read_only=True)
    (row,) = leader.audit.page().rows
    details = row.details()
    assert isinstance(details, dict)
    assert details["before"]["department_groups"] == [[DEPARTMENTS_US, 0]]
    assert details["after"]["department_groups"] == [[DEPARTMENTS_US, 1]]
    assert leader.audit.page(text="[1, 0]").rows == ()


def test_ones_own_account_in_ones_own_actions_is_told(as_user: Callable[[str], Session]) -> None:
    leader = as_user("Teamleader US")
    leader.assignments.assign_department_group(TEAMLEADER_US, DEPARTMENTS_US, read_only=True)
    (row,) = leader.audit.page().rows
    details = row.details()
    assert isinstance(details, dict) and details["after"]["departments_ids"] == "2"


def test_a_search_that_matches_only_withheld_text_pages_on(
    as_user: Callable[[str], Session],
) -> None:
    """Rows matched only in what is withheld are skipped, and the pages go on past them."""
    as_user("admin").assignments.assign_department(OPERATOR_US, DEPARTMENT_AU, read_only=False)
    leader = as_user("Teamleader US")
    for read_only in (True, False, True, False, True):
        leader.assignments.assign_department_group(
            OPERATOR_US, DEPARTMENTS_US, read_only=read_only
        )
    assert _all_ids(leader.audit, text="2,1", limit=2) == []
    everything = _all_ids(leader.audit, limit=2)
    assert len(everything) == 5
    assert _all_ids(leader.audit, text="department_group", limit=2) == everything
