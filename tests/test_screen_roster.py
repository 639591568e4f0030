"""The roster screen (issue 19, point 3), opened with Enter on the Departments screen, driven
with Pilot at 80x24 on a copy of the sample (SPEC §5).

Departments US (department 2 and department group 2) holds Operator US, Teamleader US and
Manager US through the group, and admin through "all departments".
"""

from __future__ import annotations

from peewee import Database
from pilot import SIZE, log_in, settle
from test_hostile_names import Painted
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from screens.confirm import ConfirmScreen
from screens.departments import DepartmentsScreen
from screens.help import HelpScreen
from screens.roster import RosterScreen
from screens.user_form import UserFormScreen
from store.models import DepartmentGroup, DepartmentGroupUser, GroupRole
from store.views import Ref
from tui.shell.app import LhcConsole

HOSTILE = "[b]x[/b] [@click=app.quit]"


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _notes(app: LhcConsole) -> list[str]:
    return [n.message for n in app._notifications]


async def _departments(pilot: Pilot, username: str, password: str) -> DepartmentsScreen:
    await settle(pilot)
    await log_in(pilot, username, password)
    await pilot.app.push_screen(DepartmentsScreen(pilot.app.session))
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DepartmentsScreen)
    return screen


async def _press(pilot: Pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def _group_roster(pilot: Pilot) -> tuple[DepartmentsScreen, RosterScreen]:
    """Manager US opens the roster of department group Departments US (the second row)."""
    departments = await _departments(pilot, "Manager US", "demo")
    departments.query_one("#dg-table", DataTable).move_cursor(row=1)
    await _press(pilot, "enter")
    screen = pilot.app.screen
    assert isinstance(screen, RosterScreen)
    return departments, screen


async def test_enter_on_a_department_group_opens_its_roster(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        departments, screen = await _group_roster(pilot)
        assert "Roster of department group Departments US (#2)" in _text(screen, "#roster-title")
        table = screen.query_one("#roster-table", DataTable)
        assert [r[:3] for r in _rows(table)] == [
            ["Operator US", "grp Departments US", "2"],
            ["Teamleader US", "grp Departments US", "4"],
            ["Manager US", "grp Departments US", "5"],
        ]
        assert _text(screen, "#roster-status").startswith("3 people")
        detail = _text(screen, "#roster-detail")
        assert "Operator US" in detail and "you may: edit, unassign" in detail
        assert "how: group 'Departments US' (#2)" in detail
        await _press(pilot, "escape")
        assert app.screen is departments


async def test_enter_on_a_department_opens_its_roster_and_enter_opens_a_person(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        departments = await _departments(pilot, "Manager US", "demo")
        departments.query_one("#dep-table", DataTable).focus()
        await _press(pilot, "down", "enter")  # Departments US
        screen = app.screen
        assert isinstance(screen, RosterScreen)
        table = screen.query_one("#roster-table", DataTable)
        assert [r[:2] for r in _rows(table)] == [
            ["admin", "all"],
            ["Operator US", "grp Departments US"],
            ["Teamleader US", "grp Departments US"],
            ["Manager US", "grp Departments US"],
        ]
        # Manager US may not change admin: nothing to unassign, the row is dim, the form is
        # read-only; Operator US opens editable.
        assert not screen.check_action("unassign", ())
        assert "nothing (read-only for you)" in _text(screen, "#roster-detail")
        await _press(pilot, "down", "enter")
        form = app.screen
        assert isinstance(form, UserFormScreen) and form.user_id == 2
        await _press(pilot, "escape")
        assert app.screen is screen


async def test_u_unassigns_the_group_after_a_question(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        departments, screen = await _group_roster(pilot)
        assert screen.check_action("unassign", ())
        await _press(pilot, "u")
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        assert question.question == (
            "Unassign from 'Operator US' (#2):\n"
            "  - department group 'Departments US' (#2): every department it holds"
        )
        await _press(pilot, "escape")  # Cancel: nothing changes
        assert DepartmentGroupUser.select().where(DepartmentGroupUser.user_id == 2).exists()
        await _press(pilot, "u", "tab", "enter")
        assert app.screen is screen
        assert not DepartmentGroupUser.select().where(DepartmentGroupUser.user_id == 2).exists()
        table = screen.query_one("#roster-table", DataTable)
        assert [r[0] for r in _rows(table)] == ["Teamleader US", "Manager US"]
        assert "Unassigned from 'Operator US'" in _notes(app)
        await _press(pilot, "escape")
        counts = [r[2] for r in _rows(departments.query_one("#dg-table", DataTable))]
        assert counts == ["1", "2"]  # the Departments screen reloaded its counts


async def test_a_team_leader_sees_his_people_and_how_many_are_hidden(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")
        await app.push_screen(RosterScreen(app.session, department=Ref(2, "Departments US")))
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#roster-table", DataTable)
        assert [r[0] for r in _rows(table)] == ["Operator US", "Teamleader US"]
        assert "2 people · 2 hidden from you" in _text(screen, "#roster-status")


async def test_the_filter_narrows_and_one_esc_clears_it(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        departments, screen = await _group_roster(pilot)
        table = screen.query_one("#roster-table", DataTable)
        await _press(pilot, "slash", *"leader")
        assert [r[0] for r in _rows(table)] == ["Teamleader US"]
        assert "filter: leader" in _text(screen, "#roster-status")
        await _press(pilot, "escape")
        assert screen.query_one("#roster-filter", Input).value == ""
        assert table.row_count == 3 and app.screen is screen
        await _press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.keys)
        assert keys["Enter"] == "Open" and keys["u"] == "Unassign" and keys["/"] == "Filter"
        await _press(pilot, "escape", "escape")
        assert app.screen is departments


async def test_without_userlist_enter_says_why_and_stays(
    sample_db: Database, sample_url: str
) -> None:
    GroupRole.create(group_id=2, role_id=4)  # Operators carry Rest API: lhdepartment/list
    sample_db.close()
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        departments = await _departments(pilot, "Operator US", "demo")
        departments.query_one("#dg-table", DataTable).focus()
        await _press(pilot, "enter")
        assert app.screen is departments
        assert any("lhuser/userlist" in note for note in _notes(app))


async def test_a_hostile_department_group_name_shows_literally(
    sample_db: Database, sample_url: str
) -> None:
    DepartmentGroup.update(name=HOSTILE).where(DepartmentGroup.id == 2).execute()
    sample_db.close()
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        departments = await _departments(pilot, "Manager US", "demo")
        table = departments.query_one("#dg-table", DataTable)
        table.move_cursor(row=[r[0] for r in _rows(table)].index(HOSTILE))
        await _press(pilot, "enter")
        assert isinstance(app.screen, RosterScreen)
        paint = Painted(app)
        painted = paint.shows(f"Roster of department group {HOSTILE} (#2)", f"grp {HOSTILE}")
        assert f"how: group '{HOSTILE}' (#2)" in painted
        await _press(pilot, "u")
        assert isinstance(app.screen, ConfirmScreen)
        paint.shows(f"department group '{HOSTILE}'")
        await _press(pilot, "escape")
        assert app.is_running and isinstance(app.screen, RosterScreen)


def _roster_of_departments_us(pilot: Pilot):
    async def run_before(pilot: Pilot) -> None:
        departments = await _departments(pilot, "Manager US", "demo")
        departments.query_one("#dep-table", DataTable).focus()
        await _press(pilot, "down", "enter")
        await _press(pilot, "down")  # Operator US: editable, a group he may unassign

    return run_before


def test_roster_snapshot_manager_us(snap_compare, sample_url: str) -> None:
    assert snap_compare(
        LhcConsole(sample_url),
        terminal_size=SIZE,
        run_before=_roster_of_departments_us(None),  # type: ignore[arg-type]
    )
