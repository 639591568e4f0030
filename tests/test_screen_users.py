"""The users screen and the user form, walked through SPEC §6 as a team leader and a manager.

Pilot tests drive the real console on a copy of the sample; what a key press wrote is checked
in the database through the models (the store's own tests cover each rule in depth). The store
methods the form needs (``users.form``, passwords typed twice, departments on create,
``expected_version`` on assignments) are tested first, without a screen.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from peewee import Database
from pilot import SIZE, log_in, settle
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, SelectionList, Static, TabbedContent

from screens.confirm import ConfirmScreen
from screens.impact import ImpactConfirmScreen
from screens.password import PasswordScreen
from screens.user_form import AssignmentList, UserFormScreen
from screens.users import PAGE_SIZE, UsersScreen
from store import Session
from store.auth import authenticate
from store.errors import AuthenticationError, ConflictError, ScopeError, ValidationError
from store.models import DepartmentGroupUser, GroupUser, User, UserDep
from tui.shell.app import LhcConsole

AsUser = Callable[[str], Session]

OPERATORS, TEAMLEADER, US_OPERATORS, AU_OPERATORS, US_TEAMLEADERS = 2, 3, 4, 5, 7
DEPARTMENTS_AU, DEPARTMENTS_US = 1, 2
OPERATOR_US, OPERATOR_AU, TEAMLEADER_US = 2, 3, 4


def ids(refs) -> list[int]:
    return [r.id for r in refs]


def groups_of(user_id: int) -> set[int]:
    return {g.group_id for g in GroupUser.select().where(GroupUser.user_id == user_id)}


def department_groups_of(user_id: int) -> dict[int, int]:
    return {
        a.dep_group_id: a.read_only
        for a in DepartmentGroupUser.select().where(DepartmentGroupUser.user_id == user_id)
    }


# -- store: what the form is offered -----------------------------------------------------


def test_new_user_form_of_teamleader_us_offers_4_7_and_required_2_3_only(as_user: AsUser) -> None:
    form = as_user("Teamleader US").users.form()
    assert form.user is None and not form.read_only
    assert ids(form.groups) == [US_OPERATORS, US_TEAMLEADERS]
    assert ids(form.required_groups) == [OPERATORS, TEAMLEADER]
    assert all(g.changeable for g in (*form.groups, *form.required_groups))
    assert form.locked_groups == ()
    assert ids(form.department_groups) == [DEPARTMENTS_US]
    assert form.departments == ()


def test_operator_au_opens_read_only_for_teamleader_us_naming_au_operators(
    as_user: AsUser,
) -> None:
    form = as_user("Teamleader US").users.form(OPERATOR_AU)
    assert form.user is not None and form.user.username == "Operator AU"
    assert form.read_only
    assert "'AU Operators', outside the groups you work with" in form.read_only_reason
    assert ids(form.locked_groups) == [AU_OPERATORS]
    assert not any(g.changeable for g in (*form.groups, *form.required_groups))
    assert not any(d.changeable for d in form.department_groups)


def test_teamleader_us_may_edit_his_account_but_not_his_own_groups(as_user: AsUser) -> None:
    form = as_user("Teamleader US").users.form(TEAMLEADER_US)
    assert not form.read_only
    assert "editusergroupall" in form.groups_note
    assert not any(g.changeable for g in (*form.groups, *form.required_groups))


def test_manager_us_may_change_operator_au_and_hand_out_both_department_groups(
    as_user: AsUser,
) -> None:
    form = as_user("Manager US").users.form(OPERATOR_AU)
    assert not form.read_only and form.groups_note == "" and form.departments_note == ""
    assert AU_OPERATORS in ids(form.groups)
    assert ids(form.department_groups) == [DEPARTMENTS_AU, DEPARTMENTS_US]
    assert form.locked_groups == ()


def test_operator_us_is_refused_the_new_user_form(as_user: AsUser) -> None:
    with pytest.raises(ScopeError, match="createuser"):
        as_user("Operator US").users.form()


# -- store: passwords twice, departments on create, versions on assignments -------------


def test_create_refuses_two_different_passwords_and_writes_nothing(as_user: AsUser) -> None:
    count = User.select().count()
    with pytest.raises(ValidationError, match="two passwords differ"):
        as_user("Teamleader US").users.create(
            username="new op",
            password="secret-1",
            password_again="secret-2",
            email="new.op@example.com",
            groups=[OPERATORS, US_OPERATORS],
        )
    assert User.select().count() == count


def test_set_password_refuses_two_different_passwords_and_keeps_the_old_one(
    as_user: AsUser,
) -> None:
    session = as_user("Teamleader US")
    with pytest.raises(ValidationError, match="two passwords differ"):
        session.users.set_password(OPERATOR_US, "new-pass", password_again="new-pasz")
    assert authenticate("Operator US", "demo").id == OPERATOR_US
    session.users.set_password(OPERATOR_US, "new-pass", password_again="new-pass")
    assert authenticate("Operator US", "new-pass").id == OPERATOR_US


def test_manager_us_creates_a_user_with_a_read_only_group_and_a_direct_department(
    as_user: AsUser,
) -> None:
    created = as_user("Manager US").users.create(
        username="Night AU",
        password="pw",
        password_again="pw",
        email="night.au@example.com",
        groups=[OPERATORS, AU_OPERATORS],
        department_groups=[DEPARTMENTS_AU, DEPARTMENTS_US],
        read_only_department_groups=[DEPARTMENTS_US],
        departments=[DEPARTMENTS_AU],
        read_only_departments=[DEPARTMENTS_AU],
    )
    assert department_groups_of(created.id) == {DEPARTMENTS_AU: 0, DEPARTMENTS_US: 1}
    direct = UserDep.get((UserDep.user_id == created.id) & (UserDep.type == 0))
    assert (direct.dep_id, direct.ro, direct.dep_group_id) == (DEPARTMENTS_AU, 1, 0)
    derived = {
        (r.dep_id, r.ro)
        for r in UserDep.select().where((UserDep.user_id == created.id) & (UserDep.type == 1))
    }
    assert derived == {(DEPARTMENTS_AU, 0), (DEPARTMENTS_US, 1)}


def test_teamleader_us_cannot_create_a_user_with_a_direct_department_and_nothing_is_written(
    as_user: AsUser,
) -> None:
    count = User.select().count()
    with pytest.raises(ScopeError, match="Departments US"):
        as_user("Teamleader US").users.create(
            username="new op",
            password="pw",
            email="new.op@example.com",
            groups=[OPERATORS, US_OPERATORS],
            departments=[DEPARTMENTS_US],
        )
    assert User.select().count() == count


def test_read_only_department_groups_must_be_among_those_assigned(as_user: AsUser) -> None:
    with pytest.raises(ValidationError, match="among those assigned"):
        as_user("Teamleader US").users.create(
            username="new op",
            password="pw",
            email="new.op@example.com",
            groups=[OPERATORS, US_OPERATORS],
            read_only_department_groups=[DEPARTMENTS_US],
        )


def test_assignments_refuse_a_stale_version_and_write_nothing(as_user: AsUser) -> None:
    session = as_user("Manager US")
    version = session.users.get(OPERATOR_AU).cache_version
    User.update(cache_version=User.cache_version + 1).where(User.id == OPERATOR_AU).execute()
    calls = [
        lambda: session.assignments.assign_department_group(
            OPERATOR_AU, DEPARTMENTS_US, expected_version=version
        ),
        lambda: session.assignments.unassign_department_group(
            OPERATOR_AU, DEPARTMENTS_AU, expected_version=version
        ),
        lambda: session.assignments.assign_department(
            OPERATOR_AU, DEPARTMENTS_US, expected_version=version
        ),
        lambda: session.assignments.unassign_department(
            OPERATOR_AU, DEPARTMENTS_AU, expected_version=version
        ),
    ]
    for call in calls:
        with pytest.raises(ConflictError, match="changed by someone else"):
            call()
    assert department_groups_of(OPERATOR_AU) == {DEPARTMENTS_AU: 0}
    fresh = session.users.get(OPERATOR_AU).cache_version
    after = session.assignments.assign_department_group(
        OPERATOR_AU, DEPARTMENTS_US, expected_version=fresh
    )
    assert after.cache_version > fresh


# -- the users screen ----------------------------------------------------------------------


async def open_users(pilot: Pilot, username: str, password: str = "demo") -> UsersScreen:
    await settle(pilot)
    await log_in(pilot, username, password)
    await pilot.app.push_screen(UsersScreen(pilot.app.session))
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, UsersScreen)
    return screen


def table_of(screen: UsersScreen) -> DataTable:
    return screen.query_one("#users-table", DataTable)


def shown_ids(screen: UsersScreen) -> list[int]:
    table = table_of(screen)
    return [int(str(row.key.value)) for row in table.ordered_rows]


async def highlight(pilot: Pilot, screen: UsersScreen, user_id: int) -> None:
    table = table_of(screen)
    table.move_cursor(row=table.get_row_index(str(user_id)))
    await settle(pilot)


def status(screen: UsersScreen) -> str:
    return str(screen.query_one("#users-status", Static).render())


async def test_teamleader_us_sees_three_users_and_operator_au_read_only(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        assert sorted(shown_ids(screen)) == [OPERATOR_US, OPERATOR_AU, TEAMLEADER_US]
        assert status(screen).startswith("3 users")
        table = table_of(screen)
        au_row = table.get_row(str(OPERATOR_AU))
        assert str(au_row[-1]) == "ro" and au_row[1].style == "dim"
        assert str(table.get_row(str(OPERATOR_US))[-1]) == ""

        await highlight(pilot, screen, OPERATOR_AU)
        for action in ("disable", "delete", "password"):
            assert screen.check_action(action, ()) is False
        assert screen.check_action("open", ()) is True
        await pilot.press("x", "d", "p")
        await settle(pilot)
        assert app.screen is screen  # nothing opened: the keys are not there

        await highlight(pilot, screen, OPERATOR_US)
        assert screen.check_action("disable", ()) is True
        assert screen.check_action("password", ()) is True
        assert screen.check_action("delete", ()) is False  # no lhuser/deleteuser
        assert screen.check_action("new", ()) is True
        footer_keys = {b.binding.key for b in screen.active_bindings.values()}
        assert {"d", "p", "n"} <= footer_keys and "x" not in footer_keys


async def test_filter_au_narrows_to_operator_au_and_esc_clears_it(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        await pilot.press("slash")
        assert screen.query_one("#users-filter", Input).has_focus
        await pilot.press("A", "U")
        await settle(pilot)
        assert shown_ids(screen) == [OPERATOR_AU]
        assert status(screen).startswith("1 user ·") and "filter: AU" in status(screen)
        await pilot.press("escape")  # one press: clears the filter and returns to the table
        await settle(pilot)
        assert app.screen is screen
        assert sorted(shown_ids(screen)) == [OPERATOR_US, OPERATOR_AU, TEAMLEADER_US]
        assert table_of(screen).has_focus


async def test_s_cycles_the_sort_column_and_shift_s_reverses_it(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        assert shown_ids(screen) == [OPERATOR_AU, OPERATOR_US, TEAMLEADER_US]
        await pilot.press("S")
        await settle(pilot)
        assert shown_ids(screen) == [TEAMLEADER_US, OPERATOR_US, OPERATOR_AU]
        assert "sort: username ↓" in status(screen)
        await pilot.press("s", "s", "s")  # username → name → e-mail → id
        await settle(pilot)
        assert "sort: id ↓" in status(screen)
        assert shown_ids(screen) == [TEAMLEADER_US, OPERATOR_AU, OPERATOR_US]


async def test_the_table_loads_the_next_page_when_the_cursor_reaches_the_end(
    sample_db: Database, sample_url: str
) -> None:
    extra = 120
    User.insert_many(
        [
            {
                "username": f"bulk {i:03d}",
                "password": "x",
                "email": f"bulk{i:03d}@example.com",
                "departments_ids": "-1",
            }
            for i in range(extra)
        ]
    ).execute()
    bulk = [u.id for u in User.select(User.id).where(User.username.startswith("bulk "))]
    GroupUser.insert_many([{"group_id": US_OPERATORS, "user_id": uid} for uid in bulk]).execute()
    sample_db.close()

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        table = table_of(screen)
        total = extra + 3
        assert table.row_count == PAGE_SIZE < total
        assert status(screen).startswith(f"{total} users") and f"{PAGE_SIZE} loaded" in status(
            screen
        )
        await pilot.press("down", "down")
        await settle(pilot)
        assert table.row_count == PAGE_SIZE  # far from the end: nothing more fetched
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert table.row_count == 2 * PAGE_SIZE
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert table.row_count == total
        assert len(set(shown_ids(screen))) == total  # no user twice across pages
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert table.row_count == total


# -- the user form -----------------------------------------------------------------------


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).focus()
    await pilot.press(*text)


async def open_tab(pilot: Pilot, tab: str, list_id: str | None = None) -> None:
    pilot.app.screen.query_one("#form-tabs", TabbedContent).active = tab
    await settle(pilot)
    if list_id:
        pilot.app.screen.query_one(list_id).focus()
        await settle(pilot)


def prompts(screen: UserFormScreen, selector: str) -> list[str]:
    widget = screen.query_one(selector, SelectionList)
    return [str(widget.get_option_at_index(i).prompt) for i in range(widget.option_count)]


async def test_teamleader_us_creates_a_us_operator_with_departments_us(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, UserFormScreen)
        assert prompts(form, "#groups") == ["US Operators", "US Teamleaders"]
        assert prompts(form, "#required-groups") == ["Operators", "Teamleader"]
        assert form.query_one("#required-groups").border_title == (
            "Required groups, choose one or more"
        )

        await type_into(pilot, "#field-username", "Night Operator")
        await type_into(pilot, "#field-email", "night.op@example.com")
        await type_into(pilot, "#field-name", "Night")
        await type_into(pilot, "#field-password", "s3cret")
        await type_into(pilot, "#field-password-again", "s3cret")
        await open_tab(pilot, "tab-groups", "#groups")
        await pilot.press("space")  # US Operators
        form.query_one("#required-groups").focus()
        await pilot.press("space")  # Operators
        await open_tab(pilot, "tab-departments", "#department-groups")
        await pilot.press("space")  # Departments US
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Asked with the impact: the new user gains what Operators and US Operators give and
        # Departments US's chats; nothing is written before the yes.
        assert isinstance(app.screen, ImpactConfirmScreen)
        assert str(app.screen.query_one("#confirm-impact", Button).label) == (
            "Impact: 1 user gains, 0 lose (other users' permissions not shown: you may not see"
            " them) · i lists them"  # Teamleader US has no lhpermission/see_permissions_users
        )
        assert not User.select().where(User.username == "Night Operator").exists()
        await pilot.press("tab", "enter")  # Create
        await settle(pilot)

        assert app.screen is users
        new = User.get(User.username == "Night Operator")
        assert new.email == "night.op@example.com" and new.name == "Night"
        assert groups_of(new.id) == {OPERATORS, US_OPERATORS}
        assert department_groups_of(new.id) == {DEPARTMENTS_US: 0}
        rows = [
            (r.dep_id, r.type, r.dep_group_id)
            for r in UserDep.select().where(UserDep.user_id == new.id)
        ]
        assert rows == [(DEPARTMENTS_US, 1, DEPARTMENTS_US)]
        assert new.departments_ids == str(DEPARTMENTS_US)
        assert authenticate("Night Operator", "s3cret").id == new.id
        assert new.id in shown_ids(users)  # the table was reloaded
        assert Session(app.session.db, new.id).users.get(new.id).username == "Night Operator"


async def test_the_new_user_form_never_offers_au_operators_to_teamleader_us(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_users(pilot, "Teamleader US")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, UserFormScreen)
        offered = prompts(form, "#groups") + prompts(form, "#required-groups")
        assert "AU Operators" not in offered and "Administrators" not in offered
        dep_groups = form.query_one("#department-groups", AssignmentList)
        assert list(dep_groups.names.values()) == ["Departments US"]


async def test_a_refused_create_keeps_the_form_and_its_input(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_users(pilot, "Teamleader US")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await type_into(pilot, "#field-username", "Operator US")  # taken
        await type_into(pilot, "#field-email", "other@example.com")
        await type_into(pilot, "#field-password", "pw")
        await type_into(pilot, "#field-password-again", "pw")
        await open_tab(pilot, "tab-groups", "#required-groups")
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        banner = str(form.query_one("#form-banner", Static).render())
        assert "Not saved" in banner and "'Operator US' is already taken" in banner
        assert form.query_one("#field-email", Input).value == "other@example.com"
        assert form.query_one("#required-groups", SelectionList).selected == [OPERATORS]
        assert User.select().where(User.email == "other@example.com").count() == 0


async def test_two_different_passwords_are_refused_next_to_the_second(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_users(pilot, "Teamleader US")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await type_into(pilot, "#field-username", "Pat")
        await type_into(pilot, "#field-email", "pat@example.com")
        await type_into(pilot, "#field-password", "one")
        await type_into(pilot, "#field-password-again", "two")
        await open_tab(pilot, "tab-groups", "#required-groups")
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "Not saved: 1 problem" in str(form.query_one("#form-banner", Static).render())
        error = str(form.query_one("#error-password-again", Static).render())
        assert "two passwords differ" in error
        assert form.query_one("#field-password-again", Input).has_focus
        assert not User.select().where(User.username == "Pat").exists()


async def test_operator_au_opens_read_only_for_teamleader_us_with_the_reason(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        await highlight(pilot, users, OPERATOR_AU)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, UserFormScreen)
        banner = str(form.query_one("#form-banner", Static).render())
        assert banner.startswith("Read-only:") and "outside the groups you work with" in banner
        assert all(i.disabled for i in form.query(Input))
        assert form.query_one("#groups", SelectionList).disabled
        assert form.query_one("#department-groups", AssignmentList).disabled
        assert "AU Operators" in str(form.query_one("#locked-groups", Static).render())
        assert form.check_action("save", ()) is False
        await pilot.press("ctrl+s")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is users


async def test_manager_us_assigns_departments_us_to_operator_au_in_the_departments_tab(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Manager US")
        await highlight(pilot, users, OPERATOR_AU)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, UserFormScreen)
        await open_tab(pilot, "tab-departments", "#department-groups")
        dep_groups = form.query_one("#department-groups", AssignmentList)
        assert dep_groups.selected == [DEPARTMENTS_AU]
        await pilot.press("down", "space", "o")  # Departments US, read-only
        assert dep_groups.state() == {(DEPARTMENTS_AU, False), (DEPARTMENTS_US, True)}
        assert "read-only" in str(dep_groups.get_option_at_index(1).prompt)
        await pilot.press("ctrl+s")
        await settle(pilot)
        impact = str(app.screen.query_one("#confirm-impact").label)  # asked with the impact
        assert impact == "Impact: 1 user gains, 0 lose · i lists them"
        await pilot.press("tab", "enter")  # Save
        await settle(pilot)
        assert app.screen is users
        assert department_groups_of(OPERATOR_AU) == {DEPARTMENTS_AU: 0, DEPARTMENTS_US: 1}
        derived = {
            (r.dep_id, r.ro)
            for r in UserDep.select().where((UserDep.user_id == OPERATOR_AU) & (UserDep.type == 1))
        }
        assert derived == {(DEPARTMENTS_AU, 0), (DEPARTMENTS_US, 1)}


async def test_teamleader_us_edits_operator_us_fields_and_groups(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        await highlight(pilot, users, OPERATOR_US)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        await type_into(pilot, "#field-job_title", "Nights")
        await open_tab(pilot, "tab-groups", "#groups")
        await pilot.press("down", "space")  # US Teamleaders
        await pilot.press("ctrl+s")
        await settle(pilot)
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert question == "Save user 'Operator US'? Their groups change."
        await pilot.press("tab", "enter")  # Save
        await settle(pilot)
        assert app.screen is users, str(form.query_one("#form-banner", Static).render())
        assert User.get_by_id(OPERATOR_US).job_title == "Nights"
        assert groups_of(OPERATOR_US) == {OPERATORS, US_OPERATORS, US_TEAMLEADERS}


async def test_an_edit_conflict_says_changed_by_someone_else_and_keeps_the_input(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        await highlight(pilot, users, OPERATOR_US)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        email = form.query_one("#field-email", Input)
        email.value = "renamed@example.com"
        User.update(cache_version=User.cache_version + 1).where(User.id == OPERATOR_US).execute()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        banner = str(form.query_one("#form-banner", Static).render())
        assert "changed by someone else" in banner and "reload" in banner
        assert email.value == "renamed@example.com"
        assert User.get_by_id(OPERATOR_US).email == "operator.us@example.com"
        await pilot.press("ctrl+r")  # reload: asks before dropping the typed change
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert app.screen is form
        assert email.value == "operator.us@example.com"


async def test_esc_with_unsaved_changes_asks_and_cancel_stays(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await type_into(pilot, "#field-username", "half")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # Cancel is focused
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#field-username", Input).value == "half"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Discard
        await settle(pilot)
        assert app.screen is users


# -- delete, disable, password from the table ---------------------------------------------


async def test_delete_asks_first_and_cancel_keeps_the_user(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Manager US")
        await highlight(pilot, users, OPERATOR_US)
        await pilot.press("x")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.focused is not None and confirm.focused.id == "cancel"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is users
        assert User.get_or_none(User.id == OPERATOR_US) is not None
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert User.get_or_none(User.id == OPERATOR_US) is None
        assert OPERATOR_US not in shown_ids(users)


async def test_disable_and_enable_ask_first_with_their_impact(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        await highlight(pilot, users, OPERATOR_US)
        assert users.check_action("enable", ()) is False
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert User.get_by_id(OPERATOR_US).disabled == 1
        assert str(table_of(users).get_row(str(OPERATOR_US))[-1]) == "off"
        await highlight(pilot, users, OPERATOR_US)
        assert users.check_action("disable", ()) is False
        await pilot.press("d")  # enable: asked too, with its impact
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert isinstance(app.screen, ImpactConfirmScreen) and app.screen.impact is not None
        assert app.screen.impact.gaining == 0  # a team leader is told no one else's chats
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert User.get_by_id(OPERATOR_US).disabled == 0


async def test_set_password_modal_needs_the_same_password_twice(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        await highlight(pilot, users, OPERATOR_US)
        await pilot.press("p")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, PasswordScreen)
        await pilot.press(*"fresh-1", "enter", *"fresh-2", "enter")
        await settle(pilot)
        assert app.screen is modal
        assert "two passwords differ" in str(modal.query_one("#password-error", Static).render())
        with pytest.raises(AuthenticationError):
            authenticate("Operator US", "fresh-1")
        await pilot.press(*"fresh-1", "enter")  # the second input was cleared and focused
        await settle(pilot)
        assert app.screen is users
        assert authenticate("Operator US", "fresh-1").id == OPERATOR_US


# -- snapshots -----------------------------------------------------------------------------


def test_users_screen_snapshot_for_teamleader_us(snap_compare, sample_url: str) -> None:
    async def opened(pilot: Pilot) -> None:
        await open_users(pilot, "Teamleader US")

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=opened)


def test_new_user_form_snapshot_for_teamleader_us(snap_compare, sample_url: str) -> None:
    async def opened(pilot: Pilot) -> None:
        await open_users(pilot, "Teamleader US")
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=opened)


def test_new_user_form_groups_tab_snapshot_for_teamleader_us(snap_compare, sample_url: str) -> None:
    async def opened(pilot: Pilot) -> None:
        await open_users(pilot, "Teamleader US")
        await pilot.press("n")
        await settle(pilot)
        await open_tab(pilot, "tab-groups", "#groups")

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=opened)


def test_departments_tab_snapshot_for_manager_us_on_operator_au(
    snap_compare, sample_url: str
) -> None:
    async def opened(pilot: Pilot) -> None:
        users = await open_users(pilot, "Manager US")
        await highlight(pilot, users, OPERATOR_AU)
        await pilot.press("enter")
        await settle(pilot)
        await open_tab(pilot, "tab-departments", "#department-groups")
        await pilot.press("down", "space", "o")

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=opened)


async def test_the_page_shows_before_the_total_which_follows_when_counted(
    sample_db: Database, sample_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count is the slow part at scale, so the rows never wait for it."""
    import threading

    from store.users import UserService

    extra = 70
    User.insert_many(
        [
            {"username": f"many {i:02d}", "password": "x", "email": f"m{i}@example.com"}
            for i in range(extra)
        ]
    ).execute()
    many = [u.id for u in User.select(User.id).where(User.username.startswith("many "))]
    GroupUser.insert_many([{"group_id": US_OPERATORS, "user_id": uid} for uid in many]).execute()
    sample_db.close()
    release = threading.Event()
    real_count = UserService.count

    def slow_count(self: UserService, *, text: str = "") -> int:
        release.wait(10)
        return real_count(self, text=text)

    monkeypatch.setattr(UserService, "count", slow_count)
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")
        await pilot.app.push_screen(UsersScreen(pilot.app.session))
        for _ in range(100):
            await pilot.pause(0.02)
            screen = app.screen
            if isinstance(screen, UsersScreen) and table_of(screen).row_count:
                break
        assert isinstance(screen, UsersScreen)
        assert table_of(screen).row_count == PAGE_SIZE
        assert status(screen).startswith(f"{PAGE_SIZE}+ users (counting…)")
        release.set()
        await settle(pilot)
        assert status(screen).startswith(f"{extra + 3} users · ")
        assert f"{PAGE_SIZE} loaded" in status(screen)


# -- issue 18: the key column, the detail line, readable checkboxes, notifications aside ----

NARROW = (60, 20)


def add_us_operators(*usernames: str) -> None:
    """Users in US Operators, so Teamleader US sees (and may change) them; in two statements,
    so that a thousand cost little."""
    User.insert_many(
        [
            {
                "username": username,
                "password": "x",
                "email": username.lower().replace(" ", ".") + "@example.com",
                "departments_ids": "-1",
            }
            for username in usernames
        ]
    ).execute()
    added = User.select(User.id).where(User.username.in_(usernames))
    GroupUser.insert_many(
        [{"group_id": US_OPERATORS, "user_id": user.id} for user in added]
    ).execute()


def column_widths(screen: UsersScreen) -> dict[str, int]:
    table = table_of(screen)
    return {str(key.value): column.width for key, column in table.columns.items()}


async def test_operator_us_2_and_3_are_told_apart_at_80_columns(
    sample_db: Database, sample_url: str
) -> None:
    add_us_operators("Operator US 2", "Operator US 3")
    sample_db.close()
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        widths = column_widths(screen)
        assert widths["username"] >= len("Operator US 2")
        assert {"username", "name", "email", "state"} <= set(screen.shown_columns)
        table = table_of(screen)
        for user in User.select().where(User.username.startswith("Operator US ")):
            cell = table.get_cell(str(user.id), "username")
            assert cell.plain == user.username  # whole, not cut


async def test_at_60_columns_lower_columns_give_way_and_ro_stays_visible(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=NARROW) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        table = table_of(screen)
        shown = screen.shown_columns
        assert shown[:2] == ["mark", "username"] and shown[-1] == "state"  # mark: issue 19
        assert "dep_groups" not in shown and "id" not in shown  # the lowest priorities went
        used = sum(width + 2 for width in column_widths(screen).values())
        assert used <= table.size.width
        assert str(table.get_row(str(OPERATOR_AU))[-1]) == "ro"
        assert column_widths(screen)["username"] >= len("Teamleader US")


async def test_the_detail_line_shows_the_highlighted_user_in_full(
    sample_db: Database, sample_url: str
) -> None:
    long_name = "Operator with a very long name indeed"  # longer than any column
    add_us_operators(long_name)
    sample_db.close()
    app = LhcConsole(sample_url)
    async with app.run_test(size=NARROW) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        await highlight(pilot, screen, OPERATOR_US)
        detail = str(screen.query_one("#users-detail", Static).render())
        assert "Operator US <operator.us@example.com> · #2" in detail
        assert "groups: Operators, US Operators" in detail
        assert "dep. groups: Departments US" in detail
        user = User.get(User.username == long_name)
        await highlight(pilot, screen, user.id)
        assert long_name in str(screen.query_one("#users-detail", Static).render())
        await highlight(pilot, screen, OPERATOR_AU)
        assert "· ro" in str(screen.query_one("#users-detail", Static).render())


async def test_checked_and_unchecked_differ_in_glyph_not_only_colour(sample_url: str) -> None:
    from textual.widgets import Checkbox, RadioButton

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_users(pilot, "Teamleader US")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await open_tab(pilot, "tab-groups", "#required-groups")
        await pilot.press("space")
        await settle(pilot)
        required = form.query_one("#required-groups", SelectionList)
        lines = [required.render_line(y).text for y in range(required.option_count)]
        assert lines[0].startswith("[x] Operators") and lines[1].startswith("[ ] Teamleader")
        buttons = [Checkbox(value=True), Checkbox(), RadioButton(value=True), RadioButton()]
        await form.mount_all(buttons)  # group form flags, import screen: same classes
        await settle(pilot)
        assert [b._button.plain for b in buttons] == ["[x]", "[ ]", "(•)", "( )"]


async def test_a_notification_never_covers_the_status_or_detail_line(sample_url: str) -> None:
    from textual.widgets._toast import Toast

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        await highlight(pilot, screen, OPERATOR_US)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Cancel is focused; Tab to Disable
        await settle(pilot)
        await pilot.pause(0.1)
        assert app.screen is screen
        toasts = list(screen.query(Toast))
        assert toasts and "Disabled user 'Operator US'" in str(toasts[0].render())
        below = min(
            screen.query_one("#users-detail", Static).region.y,
            screen.query_one("#users-status", Static).region.y,
        )
        assert all(toast.region.bottom <= below for toast in toasts)


def test_users_screen_snapshot_at_60_columns(snap_compare, sample_url: str) -> None:
    async def opened(pilot: Pilot) -> None:
        await open_users(pilot, "Teamleader US")

    assert snap_compare(LhcConsole(sample_url), terminal_size=NARROW, run_before=opened)
