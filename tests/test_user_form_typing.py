"""The user form never eats typing (issue 18, point 2): no invisible focus stop, Tab into a
filled field keeps its text, and one save reports every problem, each next to its field."""

from __future__ import annotations

import pytest
from pilot import SIZE, log_in, settle
from textual.pilot import Pilot
from textual.widgets import Input, Static, Tabs

from screens.user_form import UserFormScreen
from screens.users import UsersScreen
from store.models import User
from tui.shell.app import LhcConsole

OPERATOR_US = 2
SIZES = [SIZE, (60, 20)]


async def open_form(pilot: Pilot, user_id: int | None = None) -> UserFormScreen:
    await settle(pilot)
    await log_in(pilot, "Teamleader US", "demo")
    await pilot.app.push_screen(UsersScreen(pilot.app.session))
    await settle(pilot)
    await pilot.app.push_screen(UserFormScreen(pilot.app.session, user_id))
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, UserFormScreen)
    return form


def focused_id(pilot: Pilot) -> str | None:
    focused = pilot.app.focused
    return None if focused is None else focused.id


@pytest.mark.parametrize("size", SIZES)
async def test_one_shift_tab_from_username_reaches_the_tab_bar(
    sample_url: str, size: tuple[int, int]
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=size) as pilot:
        form = await open_form(pilot)
        assert focused_id(pilot) == "field-username"
        await pilot.press("shift+tab")
        assert isinstance(app.focused, Tabs)
        assert form.query_one("#account").can_focus is False


@pytest.mark.parametrize("size", SIZES)
async def test_tabbing_into_a_filled_field_adds_to_it_instead_of_replacing(
    sample_url: str, size: tuple[int, int]
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=size) as pilot:
        form = await open_form(pilot, OPERATOR_US)
        username = form.query_one("#field-username", Input)
        assert username.value == "Operator US" and username.has_focus
        assert username.selection.is_empty
        for _ in range(3):  # Username → E-mail → Name → Surname
            await pilot.press("tab")
        surname = form.query_one("#field-surname", Input)
        assert surname.has_focus and surname.selection.is_empty
        assert surname.cursor_position == len(surname.value)
        await pilot.press("shift+tab", "shift+tab", "shift+tab", "space", "2")
        assert username.value == "Operator US 2"
        assert surname.value == User.get_by_id(OPERATOR_US).surname


async def test_one_save_reports_every_problem_next_to_its_field(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot)
        count = User.select().count()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        errors = {
            key: str(form.query_one(f"#error-{key}", Static).render())
            for key in ("username", "email", "password", "password-again", "name")
        }
        assert errors["username"] == "Username is required"
        assert errors["email"] == "E-mail is required"
        assert errors["password"] == "Password is required"
        assert errors["name"] == ""  # optional
        banner = str(form.query_one("#form-banner", Static).render())
        assert banner.startswith("Not saved: 4 problems, marked at their fields")
        assert "Choose at least one" in banner  # the groups have no field on this tab
        assert focused_id(pilot) == "field-username"  # the first field in error
        assert User.select().count() == count
        assert not list(app.screen.query("Toast"))  # no toast over the fields

        await pilot.press(*"Pat")  # a corrected field loses its mark
        assert str(form.query_one("#error-username", Static).render()) == ""


async def test_an_edit_checks_only_the_fields_it_changes(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, OPERATOR_US)
        form.query_one("#field-email", Input).focus()
        await pilot.press("ctrl+u", *"not-an-address")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "not a valid address" in str(form.query_one("#error-email", Static).render())
        assert str(form.query_one("#error-username", Static).render()) == ""
        assert User.get_by_id(OPERATOR_US).email == "operator.us@example.com"


def test_new_user_form_with_every_problem_snapshot(snap_compare, sample_url: str) -> None:
    async def saved_empty(pilot: Pilot) -> None:
        await open_form(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=saved_empty)
