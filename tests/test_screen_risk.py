"""The risk report screen, driven as a person does: real app, real SQLite copy of the sample."""

from __future__ import annotations

import pytest
from pilot import SIZE, log_in, settle
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static

from screens.home import HomeScreen
from screens.insight_detail import InsightDetailScreen
from screens.risk import RiskScreen
from store import ScopeError
from tui.shell.app import LhcConsole


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _menu(app: LhcConsole) -> list[str]:
    menu = app.screen.query_one("#menu", OptionList)
    return [menu.get_option_at_index(i).id or "" for i in range(menu.option_count)]


async def test_admin_opens_the_risk_report_from_home_and_sees_the_managers_finding(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "admin", "admin")
        assert "k" in _menu(app)
        await pilot.press("k")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RiskScreen)
        assert _text(screen, "#risk-summary").startswith("13 findings: 2 high, 3 medium")
        rows = _rows(screen.query_one("#risk-table", DataTable))
        assert rows[2][:2] == ["medium", "Work-with list has no effect"]
        assert rows[2][2].startswith("US Managers, Managers, role Manag")
        # The pane explains the highlighted finding; the arrow keys move it.
        assert "lhuser/editdepartaments" in _text(screen, "#risk-detail")
        await pilot.press("down", "down")
        detail = _text(screen, "#risk-detail")
        assert "'US Managers'" in detail and "lhuser/*" in detail and "Fix:" in detail
        # Enter shows the whole finding; Esc comes back.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InsightDetailScreen)
        body = str(app.screen.query_one("#detail-body", Static).render())
        assert "group #10 US Managers" in body and "How to fix it" in body
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_the_filter_narrows_as_you_type_and_esc_clears_it(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "admin", "admin")
        await pilot.press("k")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#risk-table", DataTable)
        await pilot.press("slash", *"rest api")
        await settle(pilot)
        assert screen.query_one("#risk-filter", Input).has_focus
        assert [r[:2] for r in _rows(table)] == [["low", "Role attached to no group"]]
        assert "1 match" in _text(screen, "#risk-summary")
        await pilot.press("enter")  # back to the table
        assert table.has_focus
        await pilot.press("slash", "escape")  # Esc clears the filter first
        await settle(pilot)
        assert table.row_count == 13
        await pilot.press("escape", "escape")  # leaves the field, then the screen
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_a_team_leader_is_not_offered_the_report_and_the_store_refuses_it(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")
        assert isinstance(app.screen, HomeScreen)
        assert "k" not in _menu(app)
        assert "risk.report" not in app.capabilities
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.session is not None
        with pytest.raises(ScopeError, match="lhpermission/list"):
            app.session.risk.report()
        # Even a screen opened by hand shows the store's refusal, never findings.
        await app.push_screen(RiskScreen(app.session))
        await settle(pilot)
        assert "may not see the risk report" in _text(app.screen, "#risk-summary")
        assert app.screen.query_one("#risk-table", DataTable).row_count == 0


def test_risk_report_snapshot_admin(snap_compare, sample_url: str) -> None:
    async def opened(pilot: Pilot) -> None:
        await settle(pilot)
        await log_in(pilot, "admin", "admin")
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("down", "down")
        await settle(pilot)

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=opened)
