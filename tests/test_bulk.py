"""Bulk changes (issue 19, point 1): one change for many users, previewed, all or nothing.

Through the store (``session.bulk``) and the command line (several usernames, ``--users-from``).
Every rule of SPEC §3 applies to each user: a refusal for one user, wherever it falls in the
list, leaves every table as it was, and the refusal names every refused user.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from peewee import Database

from store import Session
from store.bulk import BULK_LIMIT, BulkEdit, BulkRefused
from store.dump import all_rows
from store.errors import ValidationError
from store.impact import Touches
from store.models import Audit, GroupUser, User
from tui.command_line.main import main

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
OPERATORS, US_OPERATORS, AU_OPERATORS = 2, 4, 5
DEPARTMENTS_AU, DEPARTMENTS_US = 1, 2


def groups_of(user_id: int) -> set[int]:
    return {m.group_id for m in GroupUser.select().where(GroupUser.user_id == user_id)}


# -- the store ------------------------------------------------------------------------------


def test_a_preview_reports_each_user_and_writes_nothing(sample_db: Database) -> None:
    manager = Session(sample_db, MANAGER_US)
    rows = all_rows()
    report = manager.bulk.run(
        [OPERATOR_US, OPERATOR_AU, ADMIN], BulkEdit(add_groups=(US_OPERATORS,)), dry_run=True
    )
    assert all_rows() == rows and not report.written
    by_user = {o.user_id: o for o in report.outcomes}
    assert by_user[OPERATOR_US].difference is not None
    assert not by_user[OPERATOR_US].changes  # already a member: no change
    assert by_user[OPERATOR_AU].difference.groups_added == (US_OPERATORS,)
    assert by_user[ADMIN].refused and "admin" in by_user[ADMIN].username


@pytest.mark.parametrize(
    "edit",
    [
        BulkEdit(add_groups=(AU_OPERATORS,)),
        BulkEdit(remove_groups=(US_OPERATORS,)),
        BulkEdit(assign_department_groups={DEPARTMENTS_US: True}),
        BulkEdit(unassign_department_groups=(DEPARTMENTS_US,)),
        BulkEdit(disabled=True),
    ],
)
def test_the_preview_measures_the_impact_the_written_change_has(
    sample_db: Database, edit: BulkEdit
) -> None:
    """The preview's impact is what the same change, made for real, does to the users' chats
    and permissions (``session.impact.preview`` is checked against reality in test_impact)."""
    admin = Session(sample_db, ADMIN)
    ids = [OPERATOR_US, OPERATOR_AU]
    rows = all_rows()
    previewed = admin.bulk.run(ids, edit, dry_run=True, with_impact=True)
    assert all_rows() == rows
    made = admin.impact.preview(
        Touches.of(users=ids), lambda: admin.bulk.run(ids, edit, dry_run=False)
    )
    assert previewed.impact is not None
    assert previewed.impact.as_json() == made.as_json()
    assert not made.affects_nobody


def test_the_impact_of_a_preview_leaves_out_the_users_refused(sample_db: Database) -> None:
    """Manager US may not change the administrator: the preview's impact is that of the users
    it would write, so it is Operator US's alone, and nothing is written."""
    manager = Session(sample_db, MANAGER_US)
    rows = all_rows()
    report = manager.bulk.run(
        [OPERATOR_US, ADMIN], BulkEdit(disabled=True), dry_run=True, with_impact=True
    )
    assert all_rows() == rows
    assert [o.user_id for o in report.refused] == [ADMIN]
    assert report.impact is not None
    assert [e.user_id for e in report.impact.entries] == [OPERATOR_US]
    assert report.impact.entries[0].reads_lost


@pytest.mark.parametrize("refused_at", [0, 1, 2])
def test_a_refusal_anywhere_in_the_list_writes_nothing(
    sample_db: Database, refused_at: int
) -> None:
    """Teamleader US may not change Operator AU (AU Operators is outside his work-with list):
    first, middle or last, the other users' changes are not written either."""
    leader = Session(sample_db, TEAMLEADER_US)
    others = [OPERATOR_US, TEAMLEADER_US]
    ids = [*others[:refused_at], OPERATOR_AU, *others[refused_at:]]
    rows = all_rows()
    with pytest.raises(BulkRefused) as refused:
        leader.bulk.run(
            ids, BulkEdit(assign_department_groups={DEPARTMENTS_US: True}), dry_run=False
        )
    assert all_rows() == rows
    assert [o.user_id for o in refused.value.report.refused] == [OPERATOR_AU]
    assert "'Operator AU' (#3)" in str(refused.value)


def test_an_accepted_bulk_change_writes_one_audit_row_per_user_changed(
    sample_db: Database,
) -> None:
    manager = Session(sample_db, MANAGER_US)
    before = Audit.select().count()
    report = manager.bulk.run(
        [OPERATOR_US, OPERATOR_AU, TEAMLEADER_US],
        BulkEdit(add_groups=(AU_OPERATORS,)),
        dry_run=False,
    )
    assert report.written
    assert {o.user_id for o in report.changed} == {OPERATOR_US, TEAMLEADER_US}
    assert {o.user_id for o in report.unchanged} == {OPERATOR_AU}
    assert Audit.select().count() == before + 2
    assert AU_OPERATORS in groups_of(OPERATOR_US) and AU_OPERATORS in groups_of(TEAMLEADER_US)


def test_disable_and_enable_in_bulk(sample_db: Database) -> None:
    manager = Session(sample_db, MANAGER_US)
    manager.bulk.run([OPERATOR_US, OPERATOR_AU], BulkEdit(disabled=True), dry_run=False)
    assert {u.disabled for u in User.select().where(User.id.in_([OPERATOR_US, OPERATOR_AU]))} == {1}
    manager.bulk.run([OPERATOR_US, OPERATOR_AU], BulkEdit(disabled=False), dry_run=False)
    assert {u.disabled for u in User.select().where(User.id.in_([OPERATOR_US, OPERATOR_AU]))} == {0}


def test_removing_what_the_actor_may_not_hand_out_is_a_refusal_not_a_silent_no(
    sample_db: Database,
) -> None:
    admin = Session(sample_db, ADMIN)
    admin.assignments.assign_department_group(OPERATOR_US, DEPARTMENTS_AU, read_only=False)
    leader = Session(sample_db, TEAMLEADER_US)
    report = leader.bulk.run(
        [OPERATOR_US], BulkEdit(unassign_department_groups=(DEPARTMENTS_AU,)), dry_run=True
    )
    assert report.refused and "not one you may assign" in report.refused[0].refusal


def test_the_limit_and_the_empty_change_are_refused(sample_db: Database) -> None:
    admin = Session(sample_db, ADMIN)
    with pytest.raises(ValidationError, match=str(BULK_LIMIT)):
        admin.bulk.run(list(range(1, BULK_LIMIT + 2)), BulkEdit(disabled=True), dry_run=True)
    with pytest.raises(ValidationError, match="Nothing to change"):
        admin.bulk.run([OPERATOR_US], BulkEdit(), dry_run=True)


def test_a_user_the_actor_cannot_see_is_refused_without_naming_them(sample_db: Database) -> None:
    """Teamleader US cannot see admin: the refusal says '#1', never the username."""
    leader = Session(sample_db, TEAMLEADER_US)
    report = leader.bulk.run([ADMIN], BulkEdit(disabled=True), dry_run=True)
    assert report.refused[0].username == "#1"


# -- the command line -------------------------------------------------------------------------


def changeable_rows() -> dict[str, object]:
    """Every table a bulk change may write (a command's login writes the login log)."""
    rows = all_rows()
    return {
        t: rows[t] for t in ("lh_groupuser", "lh_userdep", "lh_audits", "lh_departament_group_user")
    }


def run(
    url: str, actor: str, *argv: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    os.environ["LHC_CONSOLE_PASSWORD"] = "admin" if actor == "admin" else "demo"
    try:
        code = main([*argv, "--db", url, "--as", actor])
    finally:
        os.environ.pop("LHC_CONSOLE_PASSWORD", None)
    out, err = capsys.readouterr()
    return code, out, err


def test_user_groups_takes_several_users_all_or_nothing(
    sample_url: str, sample_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = changeable_rows()
    code, _, err = run(
        sample_url,
        "Teamleader US",
        "user", "groups", "Operator US", "Operator AU", "Nobody", "--add", "US Operators",
        capsys=capsys,
    )  # fmt: skip
    assert code == 2
    assert "'Operator AU' (#3)" in err and "'Nobody'" in err
    assert changeable_rows() == rows
    code, out, _ = run(
        sample_url,
        "Manager US",
        "user", "groups", "Operator US", "Operator AU", "--add", "US Operators", "--json",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["changed"] == 1 and report["unchanged"] == 1
    assert US_OPERATORS in groups_of(OPERATOR_AU)


def test_a_user_the_actor_may_not_edit_is_refused_in_bulk_even_when_nothing_would_change(
    sample_url: str, sample_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """As one user at a time (``store.user_save``): Operator AU is out of Teamleader US's reach,
    so "already so" would answer a question about him. The red team's case, round 3: the
    single-user command refused while two names or ``--users-from`` said "unchanged"."""
    leader = Session(sample_db, TEAMLEADER_US)
    for edit in (BulkEdit(add_groups=(OPERATORS,)), BulkEdit(disabled=False)):
        report = leader.bulk.run([OPERATOR_US, OPERATOR_AU], edit, dry_run=True)
        by_user = {o.user_id: o for o in report.outcomes}
        assert by_user[OPERATOR_AU].refused, edit
        assert "they belong to 'AU Operators'" in by_user[OPERATOR_AU].refusal
        assert not by_user[OPERATOR_US].refused
    rows = changeable_rows()
    for names in (["Operator AU"], ["Operator AU", "Operator US"]):
        code, out, err = run(
            sample_url,
            "Teamleader US",
            "user", "groups", *names, "--add", "Operators",
            capsys=capsys,
        )  # fmt: skip
        assert code == 2 and "unchanged" not in out, names
        assert "may not change user 'Operator AU'" in err, names
    assert changeable_rows() == rows


def test_users_from_a_file_and_from_stdin(
    sample_url: str,
    sample_db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = tmp_path / "users.txt"
    names.write_text("# the US desk\nOperator US\n\nOperator AU\n", encoding="utf-8")
    code, out, err = run(
        sample_url,
        "Manager US",
        "user", "depgroups", "--users-from", str(names), "--add", "Departments US", "--read-only",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "Changed the department groups of 2 user(s)" in out
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("Operator US\nOperator AU\n"))
    code, out, err = run(
        sample_url, "Manager US", "user", "edit", "--users-from", "-", "--disabled", "yes",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert {u.disabled for u in User.select().where(User.id.in_([OPERATOR_US, OPERATOR_AU]))} == {1}


def test_a_users_file_that_is_not_a_regular_file_is_refused_at_once(
    sample_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, _, err = run(
        sample_url, "Manager US", "user", "edit", "--users-from", str(fifo), "--disabled", "yes",
        capsys=capsys,
    )  # fmt: skip
    assert code == 2 and "not a regular file" in err


def test_several_users_take_only_disabled_in_user_edit(
    sample_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        sample_url, "Manager US", "user", "edit", "Operator US", "Operator AU", "--name", "X",
        capsys=capsys,
    )  # fmt: skip
    assert code == 2 and "only --disabled" in err
