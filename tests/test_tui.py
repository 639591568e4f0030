"""The console driven as a person drives it: real app, real SQLite file, Pilot key presses."""

from __future__ import annotations

from pathlib import Path

import pytest
from backends import skip_where_id_counters_stay_high
from pilot import SIZE, log_in, settle
from textual.pilot import Pilot
from textual.widgets import Static

from screens.empty import EmptyDatabaseScreen
from screens.home import HomeScreen
from screens.login import LoginScreen
from screens.problem import ProblemScreen
from tui.shell.app import LhcConsole


async def test_empty_database_offers_the_sample_and_s_loads_it(tmp_path: Path) -> None:
    app = LhcConsole(f"sqlite:///{tmp_path / 'new.sqlite'}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, EmptyDatabaseScreen)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        await log_in(pilot, "admin", "admin")
        assert isinstance(app.screen, HomeScreen)


async def test_teamleader_logs_in_and_sees_who_and_their_scope(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")
        assert isinstance(app.screen, HomeScreen)
        scope = str(app.screen.query_one("#scope", Static).render())
        assert "Operators, Teamleader, US Operators, US Teamleaders" in scope
        assert "department groups: Departments US" in scope
        assert app.sub_title.startswith("Teamleader US · works with:")


async def test_wrong_password_is_refused_with_a_message_and_stays_on_login(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "nope")
        assert isinstance(app.screen, LoginScreen)
        error = str(app.screen.query_one("#login-error", Static).render())
        assert "Wrong username/e-mail or password" in error
        assert app.session is None


async def test_login_by_email_then_log_out_returns_to_login(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "manager.us@example.com", "demo")
        assert isinstance(app.screen, HomeScreen)
        assert "works with: all groups" in app.sub_title
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.session is None


async def test_the_login_form_keeps_no_password_and_log_out_from_anywhere_empties_it(
    sample_url: str,
) -> None:
    """The form stays at the bottom of the stack under home: it must not hold the password."""
    from textual.widgets import Input

    from screens.users import UsersScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")
        login = app.screen_stack[0]
        assert isinstance(login, LoginScreen)
        assert login.query_one("#password", Input).value == ""
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        app.log_out()  # what the palette's "session: Log out" calls, from any screen
        await settle(pilot)
        assert app.screen_stack == [login] and app.session is None
        assert login.query_one("#username", Input).value == ""
        assert login.query_one("#username", Input).has_focus
        await log_in(pilot, "Operator US", "demo")
        assert isinstance(app.screen, HomeScreen)
        assert app.sub_title.startswith("Operator US")


async def test_an_unopenable_database_shows_a_message_not_a_traceback(tmp_path: Path) -> None:
    not_a_db = tmp_path / "junk.sqlite"
    not_a_db.write_bytes(b"this is not an sqlite file at all" * 100)
    app = LhcConsole(f"sqlite:///{not_a_db}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        message = str(app.screen.query_one("#problem-message", Static).render())
        assert message


async def test_the_login_form_is_there_before_the_database_and_a_password_waits_for_it(
    sample_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form shows at once; credentials typed while the database opens are checked after."""
    import threading

    import store.database

    opened = threading.Event()
    real_open = store.database.open_database

    def slow_open(url: str):
        opened.wait(10)
        return real_open(url)

    monkeypatch.setattr(store.database, "open_database", slow_open)
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert app.db is None and app.sub_title == "opening database…"
        app.screen.query_one("#username").focus()
        await pilot.press(*"Teamleader US", "enter", *"demo", "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, LoginScreen)  # still waiting for the database
        hint = str(app.screen.query_one("#login-hint", Static).render())
        assert hint == "Checking…"
        checks = [w for w in app.screen.workers if w.group == "login"]
        await pilot.press("enter")  # a second Enter while the first is checked starts nothing
        assert [w for w in app.screen.workers if w.group == "login"] == checks
        opened.set()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.sub_title.startswith("Teamleader US")


def test_login_screen_snapshot(snap_compare, sample_url: str) -> None:
    async def ready(pilot: Pilot) -> None:
        await settle(pilot)

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=ready)


def test_home_screen_snapshot_for_teamleader_us(snap_compare, sample_url: str) -> None:
    async def logged_in(pilot: Pilot) -> None:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=logged_in)


async def test_admin_replaces_the_configuration_from_the_import_screen(sample_url: str) -> None:
    from textual.widgets import Checkbox

    from screens.confirm import ConfirmScreen
    from screens.sample_import import SampleImportScreen

    skip_where_id_counters_stay_high()
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "admin", "admin")
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, SampleImportScreen)
        await pilot.press("ctrl+r")
        await settle(pilot)
        preview = str(app.screen.query_one("#preview", Static).render())
        assert "Would write" in preview and "Conflict" in preview
        app.screen.query_one("#replace", Checkbox).focus()
        await pilot.press("space")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)  # everyone logs in again after a replace
        assert app.session is None
        # Nothing of the old session is left underneath for Esc to go back to.
        assert app.screen_stack == [app.screen]
        await log_in(pilot, "admin", "admin")
        home = app.screen
        assert isinstance(home, HomeScreen) and home.session is app.session
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is home


async def test_a_team_leader_is_not_offered_the_import_screen(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")
        home = app.screen
        assert home.check_action("go", ("i",)) is False
        await pilot.press("i")
        await settle(pilot)
        assert app.screen is home


async def test_first_run_imports_lhcs_dump_then_offers_login(tmp_path: Path) -> None:
    from textual.widgets import Input

    from screens.sample_import import SampleImportScreen

    dump = Path(__file__).resolve().parents[2] / "shared" / "data" / "livehelperchat_install.sql"
    if not dump.exists():
        pytest.skip(f"LHC's sample dump is not at {dump}")
    app = LhcConsole(f"sqlite:///{tmp_path / 'first.sqlite'}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, SampleImportScreen)
        await pilot.press("down", "enter")
        path = app.screen.query_one("#path", Input)
        assert not path.disabled
        path.value = str(dump)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        await log_in(pilot, "admin", "admin")
        assert isinstance(app.screen, HomeScreen)


def test_import_screen_snapshot(snap_compare, sample_url: str) -> None:
    async def opened(pilot: Pilot) -> None:
        await settle(pilot)
        await log_in(pilot, "admin", "admin")
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=opened)


async def test_palette_offers_the_screens_and_actions_the_actor_may_use(sample_url: str) -> None:
    from screens.user_form import UserFormScreen
    from screens.users import UsersScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "Teamleader US", "demo")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"open: Users", "open: My permissions", "session: Log out"} <= titles
        assert "open: Groups" not in titles and "open: Import" not in titles
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        new_user = next(c for title, c in commands.items() if title.startswith("users: New"))
        await new_user.callback()
        await settle(pilot)
        assert isinstance(app.screen, UserFormScreen)


async def test_operator_us_has_no_users_screen_but_sees_his_permissions(sample_url: str) -> None:
    """SPEC §6 scenario 3 through the UI: no lhuser/userlist, so no Users entry or key."""
    from screens.permissions import PermissionsScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "Operator US", "demo")
        home = app.screen
        offered = [d.title for d in home.destinations]
        assert "Users" not in offered and "My permissions" in offered
        await pilot.press("u")
        await settle(pilot)
        assert app.screen is home
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PermissionsScreen)


async def test_help_lists_the_keys_the_current_screen_offers(sample_url: str) -> None:
    from screens.help import HelpScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "Teamleader US", "demo")
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = dict((what, key) for key, what in app.screen.keys)
        assert "New" in keys and "Filter" in keys
        assert "Delete" not in keys  # Operator AU, the first row, is read-only for him
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


# -- issue 18: import focus, home after a second login, truncation, wording ---------------


async def test_d_on_the_empty_database_opens_the_import_with_the_path_ready_to_type(
    tmp_path: Path,
) -> None:
    from textual.widgets import Input, RadioButton

    from screens.sample_import import SampleImportScreen

    app = LhcConsole(f"sqlite:///{tmp_path / 'new.sqlite'}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SampleImportScreen)
        assert screen.query_one("#source-dump", RadioButton).value
        path = screen.query_one("#path", Input)
        assert path.has_focus
        await pilot.press(*"/tmp/x.sql")
        assert path.value == "/tmp/x.sql"


async def test_tab_reaches_the_path_and_typing_a_path_chooses_the_dump(sample_url: str) -> None:
    from textual.widgets import Input, RadioButton

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        await pilot.press("down", "enter")  # choose "LHC dump file"
        path = screen.query_one("#path", Input)
        assert path.has_focus
        await pilot.press("shift+tab", "tab")
        assert path.has_focus
        await pilot.press("shift+tab", "up", "enter")  # back to the sample
        assert not screen.query_one("#source-dump", RadioButton).value
        await pilot.press("tab", *"/tmp/dump.sql")
        assert path.value == "/tmp/dump.sql"
        assert screen.query_one("#source-dump", RadioButton).value


async def test_home_keeps_its_layout_after_log_out_and_a_second_login(sample_url: str) -> None:
    """groups.tcss's ``#groups`` rule once applied to home's groups line after a visit."""
    from textual.widgets import OptionList

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("escape", "l")
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")
        home = app.screen
        assert isinstance(home, HomeScreen)
        groups = home.query_one("#home-groups", Static)
        assert groups.region.height == 1 and groups.region.x == 2
        menu = home.query_one("#menu", OptionList)
        entries = menu.option_count
        assert menu.region.height == entries + 2
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert menu.region.height == entries + 2  # entries cut with "…", never wrapped
        assert menu.region.bottom <= 19


def test_home_after_a_second_login_snapshot(snap_compare, sample_url: str) -> None:
    async def relogged(pilot: Pilot) -> None:
        await settle(pilot)
        await log_in(pilot, "admin", "admin")
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("escape", "l")
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=relogged)


def test_first_run_import_of_a_dump_snapshot(snap_compare, tmp_path: Path) -> None:
    async def opened(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)

    app = LhcConsole(f"sqlite:///{tmp_path / 'new.sqlite'}")
    assert snap_compare(app, terminal_size=SIZE, run_before=opened)


async def test_my_permissions_marks_a_cut_function_name_with_an_ellipsis(
    sample_url: str,
) -> None:
    from rich.text import Text
    from textual.widgets import DataTable

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "Teamleader US", "demo")
        await pilot.press("p")
        await settle(pilot)
        table = app.screen.query_one("#perm-table", DataTable)
        cells = [table.get_row_at(i)[1] for i in range(table.row_count)]
        long = [c for c in cells if isinstance(c, Text) and c.plain == "administratecannedmsg"]
        assert long and all(c.overflow == "ellipsis" and c.no_wrap for c in long)
        rendered = "\n".join(
            "".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()
        )
        assert "administratecannedm…" in rendered  # 20 columns: cut, and it says so
        assert "administratecannedms" not in rendered


async def test_the_users_status_line_is_never_cut_mid_word(sample_url: str) -> None:
    from screens.users import UsersScreen

    app = LhcConsole(sample_url)
    async with app.run_test(size=(60, 20)) as pilot:
        await log_in(pilot, "admin", "admin")
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        status = app.screen.query_one("#users-status", Static)
        line = "".join(segment.text for segment in status.render_line(0)).rstrip()
        text = str(status.render())
        assert line.endswith("…") or text.rstrip().endswith(line.split()[-1])
        assert "\n" not in text


async def test_the_empty_database_lists_every_sample_login(tmp_path: Path) -> None:
    from seed.sample import read_sample

    app = LhcConsole(f"sqlite:///{tmp_path / 'new.sqlite'}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, EmptyDatabaseScreen)
        shown = "\n".join(str(s.render()) for s in app.screen.query(Static))
        for user in read_sample()["users"]:
            assert f"{user['username']} / {user['password']}" in shown


def test_the_import_conflict_names_the_option_and_the_console_the_box() -> None:
    from seed.report import console_wording, not_empty_message

    message = not_empty_message({"lh_users": 5})
    assert "--replace" in message
    assert "tick Replace" in console_wording(message) and "--" not in console_wording(message)


def test_the_command_lines_help_cites_no_document_a_user_does_not_have() -> None:
    from tui.command_line.main import build_parser

    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        texts += [sub.format_help() for sub in action.choices.values()]
    assert not any("SPEC" in text for text in texts)
