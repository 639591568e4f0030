"""Keys as a person sends them: in one burst, vim keys in tables, Esc in filters, the palette."""

from __future__ import annotations

import pytest
from pilot import SIZE, log_in, settle
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from screens.home import HomeScreen
from screens.login import LoginScreen
from tui.shell.app import LhcConsole


async def burst(pilot: Pilot, *keys: str) -> None:
    """Send every key at once, as a paste, a slow link or a script does, then let them land.

    ``pilot.press`` waits for the app to go idle after each key; a terminal does not.
    """
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        character = key if len(key) == 1 else None
        name = {" ": "space"}.get(key, key)
        event = events.Key(name, character)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await settle(pilot)


async def test_a_login_typed_in_one_burst_lands_in_the_fields_it_was_typed_for(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, *"admin", "tab", *"admin")
        login = app.screen
        assert isinstance(login, LoginScreen)
        assert login.query_one("#username", Input).value == "admin"
        assert login.query_one("#password", Input).value == "admin"
        await burst(pilot, "enter")
        assert isinstance(app.screen, HomeScreen)


async def test_a_burst_with_enter_after_the_username_and_the_password_logs_in(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, *"Teamleader US", "enter", *"demo", "enter")
        assert isinstance(app.screen, HomeScreen)
        assert app.sub_title.startswith("Teamleader US")


async def test_shift_tab_in_a_burst_goes_back_to_the_username(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, *"adm", "tab", *"pw", "shift+tab", *"in")
        assert app.screen.query_one("#username", Input).value == "admin"
        assert app.screen.query_one("#password", Input).value == "pw"


async def test_esc_on_the_login_screen_asks_before_quitting(sample_url: str) -> None:
    from screens.confirm import ConfirmScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # Cancel
        assert isinstance(app.screen, LoginScreen)
        assert app.is_running


# -- tables: vim keys, Esc in the filter --------------------------------------------------


async def test_j_k_g_and_shift_g_move_the_users_tables_cursor(sample_url: str) -> None:
    from screens.users import UsersScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        table = app.screen.query_one("#users-table", DataTable)
        assert table.has_focus and table.row_count > 2
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0
        assert isinstance(app.screen, UsersScreen)  # g moved the cursor; it opened no Groups


async def test_g_on_home_still_opens_groups(sample_url: str) -> None:
    from screens.groups import GroupsScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, GroupsScreen)
        table = app.screen.table
        await pilot.press("j", "G", "g")
        assert table.cursor_row == 0 and isinstance(app.screen, GroupsScreen)


async def test_esc_in_the_users_filter_clears_it_and_the_next_s_sorts(sample_url: str) -> None:
    from screens.users import UsersScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("u")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        await pilot.press("slash", *"oper")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        filter_input = screen.query_one("#users-filter", Input)
        assert filter_input.value == ""
        assert screen.query_one("#users-table", DataTable).has_focus
        await pilot.press("s")
        await settle(pilot)
        assert filter_input.value == "" and screen.sort_index == 1


async def test_esc_in_the_groups_filter_clears_it_and_returns_to_the_table(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("g")
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"US")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert screen.filter_input.value == "" and screen.table.has_focus
        assert app.screen is screen  # one Esc: the filter, not the screen


# -- bursts through filters and forms ------------------------------------------------------

FILTERED_SCREENS = [
    # (home key, the screen's filter field id)
    ("u", "users-filter"),
    ("g", "filter"),
    ("r", "roles-filter"),
    ("p", "perm-filter"),
    ("t", "audit-filter"),
    ("v", "review-filter"),
]


@pytest.mark.parametrize(("key", "filter_id"), FILTERED_SCREENS)
async def test_slash_then_text_in_one_burst_lands_in_the_filter(
    sample_url: str, key: str, filter_id: str
) -> None:
    """``/oper`` sent at once: the text is the filter's; none of it is a table key (``p``
    opened the password dialog, ``o`` and ``e`` acted on the highlighted row)."""
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press(key)
        await settle(pilot)
        screen = app.screen
        await burst(pilot, "slash", *"oper")
        assert app.screen is screen
        assert screen.query_one(f"#{filter_id}", Input).value == "oper"


@pytest.mark.parametrize(("key", "filter_id"), FILTERED_SCREENS)
async def test_enter_or_esc_in_the_filter_then_a_key_in_one_burst_is_the_tables(
    sample_url: str, key: str, filter_id: str
) -> None:
    """Enter keeps the filter, Esc clears it; either way the ``j`` sent right behind moves
    the table's cursor instead of being typed into the filter."""
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press(key)
        await settle(pilot)
        screen = app.screen
        field = screen.query_one(f"#{filter_id}", Input)
        await burst(pilot, "slash", *"o", "enter", "j")
        assert field.value == "o" and not field.has_focus
        assert screen.query_one(DataTable).has_focus
        await burst(pilot, "slash", *"x", "escape", "j")
        assert field.value == "" and screen.query_one(DataTable).has_focus
        assert app.screen is screen  # one Esc: the filter, not the screen


async def test_ctrl_s_right_after_typing_saves_what_was_typed(sample_url: str) -> None:
    """Ctrl+S waits for the keys typed before it: a name typed and saved in one burst is the
    saved name (a priority binding saved the form as it was before the typing)."""
    from screens.users import UsersScreen
    from store.models import User

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("u")
        await settle(pilot)
        await burst(pilot, "slash", *"Manager US", "enter")
        await settle(pilot)  # the filtered page is in: Enter opens Manager US on every backend
        await burst(pilot, "enter")
        await settle(pilot)
        assert app.screen.query_one("#field-username", Input).value == "Manager US"
        await burst(pilot, "tab", "tab", *"Z", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert User.get(User.username == "Manager US").name == "ManagerZ"


# -- the palette and help ------------------------------------------------------------------


async def test_the_palette_lists_each_screen_once_and_no_screenshot(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any("screenshot" in t.lower() for t in titles)
        await log_in(pilot, "Teamleader US", "demo")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any("screenshot" in t.lower() for t in titles)
        assert [t for t in titles if t.endswith(": Users")] == ["open: Users"]


async def test_homes_help_does_not_offer_esc(sample_url: str) -> None:
    from screens.help import HelpScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "Teamleader US", "demo")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = [key.lower() for key, _ in app.screen.keys]
        assert "esc" not in keys and "escape" not in keys
        assert "l" in keys


async def test_the_empty_databases_help_has_a_title_not_a_class_name(tmp_path) -> None:
    from screens.help import HelpScreen

    app = LhcConsole(f"sqlite:///{tmp_path / 'new.sqlite'}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.title_text == "First run"


def test_the_help_paragraph_is_not_broken_by_hand() -> None:
    """The sentence wraps where the box ends, not at a newline typed mid-sentence."""
    from screens.help import GLOBAL_KEYS

    assert "Actions you may not take are not offered" in GLOBAL_KEYS


async def test_tab_in_a_burst_moves_to_the_next_field_of_any_form(sample_url: str) -> None:
    """Not only the login: the user form's fields get what was typed for them."""
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "Teamleader US", "demo")
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await burst(pilot, *"daytest", "tab", *"day@example.com", "tab", *"Day")
        form = app.screen
        assert form.query_one("#field-username", Input).value == "daytest"
        assert form.query_one("#field-email", Input).value == "day@example.com"
        assert form.query_one("#field-name", Input).value == "Day"


async def test_the_users_help_says_enter_opens_a_user(sample_url: str) -> None:
    from screens.help import HelpScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "Teamleader US", "demo")
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert ("Enter", "Open") in list(app.screen.keys)


async def test_the_groups_help_lists_enter_once(sample_url: str) -> None:
    from screens.help import HelpScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert [what for _, what in app.screen.keys].count("Open") == 1
