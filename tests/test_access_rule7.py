"""The chat-access explorer follows SPEC §3's rule on another user's assignments (issue 15, 8).

Seeing another user's department groups and departments outside the viewer's assignable sets
needs ``lhuser/see_user_assigned_departments_groups`` / ``see_user_assigned_departments``, as in
the user form. The store's ``permissions.access`` leaves the others out (names included) and
says that some were hidden; the screen shows what the store returns.

Sample (SPEC §5): Operator US (no ``see_user_assigned_*``, assigns nothing) sees Operator AU,
who reads department 1 through department group 1, both named 'Departments AU'. Teamleader US
holds ``see_user_assigned_departments_groups`` but not ``see_user_assigned_departments`` and
assigns no department; Manager US holds both.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database
from pilot import SIZE, log_in, settle
from textual.widgets import DataTable, Static

from screens.access import AccessScreen
from store import Session
from tui.shell.app import LhcConsole

OPERATOR_AU = 3
HIDDEN_NAME = "Departments AU"  # Operator AU's department group and its department


def test_operator_us_is_not_told_operator_aus_department_group(
    as_user: Callable[[str], Session],
) -> None:
    access = as_user("Operator US").permissions.access(OPERATOR_AU)
    assert access.username == "Operator AU"
    assert access.departments == ()
    assert access.read == [] and access.write == []
    assert access.hidden_department_groups and not access.hidden_departments
    assert access.partly_hidden
    assert HIDDEN_NAME not in repr(access)


def test_operator_us_sees_his_own_department_group(as_user: Callable[[str], Session]) -> None:
    access = as_user("Operator US").permissions.access()
    assert [d.sources for d in access.departments] == [("department group 'Departments US'",)]
    assert not access.partly_hidden


def test_see_user_assigned_departments_groups_shows_them(
    as_user: Callable[[str], Session],
) -> None:
    access = as_user("Teamleader US").permissions.access(OPERATOR_AU)
    assert [(d.name, d.sources) for d in access.departments] == [
        (HIDDEN_NAME, ("department group 'Departments AU'",))
    ]
    assert not access.partly_hidden


def test_a_direct_department_outside_the_viewers_set_is_hidden_but_writing_stays_true(
    sample_db: Database, as_user: Callable[[str], Session]
) -> None:
    """Teamleader US sees the group (read-only now) but not the direct assignment (writable):
    the direct row is left out, and the department's write flag is still LHC's answer."""
    admin = as_user("admin")
    admin.assignments.assign_department_group(OPERATOR_AU, 1, read_only=True)
    admin.assignments.assign_department(OPERATOR_AU, 1)
    access = as_user("Teamleader US").permissions.access(OPERATOR_AU)
    assert [(d.name, d.write, d.sources) for d in access.departments] == [
        (HIDDEN_NAME, True, ("department group 'Departments AU' (read-only)",))
    ]
    assert access.hidden_departments and not access.hidden_department_groups
    assert "direct assignment" not in repr(access)
    full = as_user("Manager US").permissions.access(OPERATOR_AU)
    assert not full.partly_hidden
    assert [d.sources for d in full.departments] == [
        ("department group 'Departments AU' (read-only)", "direct assignment")
    ]


def test_administrators_and_holders_of_both_functions_see_everything(
    as_user: Callable[[str], Session],
) -> None:
    for viewer in ("admin", "Manager US"):
        access = as_user(viewer).permissions.access(OPERATOR_AU)
        assert [d.name for d in access.departments] == [HIDDEN_NAME]
        assert not access.partly_hidden


async def test_operator_us_explores_operator_au_without_seeing_his_department_group(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Operator US", "demo")
        await pilot.app.push_screen(AccessScreen(pilot.app.session))
        await settle(pilot)
        screen = app.screen
        await pilot.press("u", *"Operator AU", "enter")
        await settle(pilot)
        who = str(screen.query_one("#access-who", Static).render())
        assert "Chat access of Operator AU" in who
        assert "reads no department shown to you" in who
        assert "Hidden:" in who and "lhuser/see_user_assigned_departments_groups" in who
        table = screen.query_one("#access-table", DataTable)
        assert table.row_count == 0 and not table.display
        shown = " ".join(str(w.render()) for w in screen.query(Static))
        assert HIDDEN_NAME not in shown
