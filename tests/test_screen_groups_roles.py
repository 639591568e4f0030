"""The groups and roles screens, driven as a person drives them, and the store methods they use."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pilot import SIZE, log_in, settle
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, DataTable, Input, SelectionList, Static

from screens.confirm import ConfirmScreen
from screens.group_form import GroupFormScreen
from screens.groups import GroupsScreen
from screens.impact import ImpactConfirmScreen
from screens.policy_form import PolicyFormScreen
from screens.role_editor import NOT_IN_CATALOGUE, RoleEditorScreen
from screens.roles import RolesScreen
from store import NotFoundError, ScopeError, Session, ValidationError
from tui.shell.app import LhcConsole

ADMINISTRATORS, OPERATORS, TEAMLEADER_GROUP, US_OPERATORS = 1, 2, 3, 4
ADMIN_ROLE, OPERATORS_ROLE, TEAMLEADER_ROLE = 1, 2, 3


def notes(app: LhcConsole) -> list[str]:
    return [n.message for n in app._notifications]


def rendered(widget: Static) -> str:
    return str(widget.render())


async def open_as(pilot: Pilot, username: str, password: str, screen_factory) -> None:
    await settle(pilot)
    await log_in(pilot, username, password)
    await pilot.app.push_screen(screen_factory(pilot.app.session))
    await settle(pilot)


def select_option(listing: SelectionList, label: str) -> None:
    """Move the highlight onto the option with this label (the test then presses Space)."""
    for index in range(listing.option_count):
        if str(listing.get_option_at_index(index).prompt) == label:
            listing.highlighted = index
            return
    raise AssertionError(f"no option {label!r}")


def give_managers_role_editing(as_user: Callable[[str], Session]) -> None:
    """Managers get lhpermission/edit, so Manager US edits roles without being an admin."""
    as_user("admin").roles.add_policy(7, "lhpermission", "edit")


# -- store methods the screens use ---------------------------------------------------------


def test_may_change_a_group_follows_editgroup_and_the_administrator_rule(as_user) -> None:
    assert as_user("admin").groups.may_change(ADMINISTRATORS) is True
    manager = as_user("Manager US")
    assert manager.groups.may_change(US_OPERATORS) is True
    assert manager.groups.may_change(ADMINISTRATORS) is False  # grants */*: admins only
    assert as_user("Teamleader US").groups.may_change(OPERATORS) is False  # no editgroup
    with pytest.raises(NotFoundError):
        manager.groups.may_change(999)


def test_role_choices_need_editgroup_and_permission_edit(as_user) -> None:
    with pytest.raises(ScopeError, match="lhpermission/edit"):
        as_user("Manager US").groups.role_choices()
    admin_choices = as_user("admin").groups.role_choices()
    assert len(admin_choices) == 7 and all(r.changeable for r in admin_choices)


def test_role_choices_mark_administration_roles_unchangeable_for_a_non_admin(as_user) -> None:
    give_managers_role_editing(as_user)
    choices = {r.name: r.changeable for r in as_user("Manager US").groups.role_choices()}
    assert choices["Administrators"] is False
    assert choices["Operators"] is True and choices["Teamleader"] is True


def test_may_change_a_role_follows_permission_edit_and_the_administrator_rule(as_user) -> None:
    assert as_user("admin").roles.may_change(ADMIN_ROLE) is True
    assert as_user("Manager US").roles.may_change(OPERATORS_ROLE) is False  # no lhpermission/edit
    give_managers_role_editing(as_user)
    manager = as_user("Manager US")
    assert manager.roles.may_change(OPERATORS_ROLE) is True
    assert manager.roles.may_change(ADMIN_ROLE) is False  # holds */*
    with pytest.raises(NotFoundError):
        manager.roles.may_change(999)


def test_save_creates_a_group_with_its_work_with_list_in_one_go(as_user) -> None:
    admin = as_user("admin")
    info = admin.groups.save(
        None,
        name="Night shift",
        required=True,
        works_with=[OPERATORS, US_OPERATORS],
        withhold_from_members=True,
    )
    assert info.required and not info.disabled and info.members_withheld
    assert [r.id for r in info.works_with] == [OPERATORS, US_OPERATORS]


def test_save_changes_only_what_is_given(as_user) -> None:
    admin = as_user("admin")
    before = admin.groups.get(TEAMLEADER_GROUP)
    same = admin.groups.save(TEAMLEADER_GROUP)
    assert same == before
    after = admin.groups.save(TEAMLEADER_GROUP, disabled=True)
    assert after.disabled and after.name == before.name and after.works_with == before.works_with
    moved = admin.groups.save(TEAMLEADER_GROUP, withhold_from_members=True)
    assert moved.members_withheld and moved.works_with == before.works_with


def test_a_refused_step_of_save_writes_nothing(as_user) -> None:
    admin = as_user("admin")
    count = len(admin.groups.list())
    with pytest.raises(NotFoundError):
        admin.groups.save(None, name="Ghost", works_with=[999])
    assert len(admin.groups.list()) == count
    with pytest.raises(ScopeError):
        as_user("Manager US").groups.save(ADMINISTRATORS, name="Renamed admins")
    assert admin.groups.get(ADMINISTRATORS).name == "Administrators"
    with pytest.raises(ValidationError):
        admin.groups.save(None)


# -- groups screen -------------------------------------------------------------------------


async def test_admin_creates_a_group_sets_work_with_and_required_and_attaches_a_role(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", GroupsScreen)
        table = app.screen.query_one("#groups-table", DataTable)
        assert table.row_count == 10
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, GroupFormScreen)
        assert "save the group first" in str(form.query_one("#members-label").render())
        await pilot.press(*"Night shift")
        await pilot.press("tab", "space")  # Required
        assert form.query_one("#required", Checkbox).value is True
        works = form.query_one("#works-with", SelectionList)
        works.focus()
        select_option(works, "US Operators")
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Group 'Night shift' created" in notes(app)
        created = next(g for g in app.session.groups.list() if g.name == "Night shift")
        assert created.required and [r.name for r in created.works_with] == ["US Operators"]
        assert form.group_id == created.id
        assert rendered(form.query_one("#form-title", Static)) == "Group Night shift"

        roles = form.query_one("#roles-list", SelectionList)
        assert roles.display
        roles.focus()
        select_option(roles, "Operators")
        await pilot.press("space")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # with the impact: nobody, no members
        assert str(app.screen.query_one("#confirm-impact").label) == "Impact: affects nobody"
        await pilot.press("tab", "enter")  # Attach
        await settle(pilot)
        assert [r.name for r in app.session.groups.get(created.id).roles] == ["Operators"]
        assert roles.selected == [OPERATORS_ROLE]

        await pilot.press("escape")  # nothing unsaved: straight back to the list
        await settle(pilot)
        assert isinstance(app.screen, GroupsScreen)
        assert app.screen.query_one("#groups-table", DataTable).row_count == 11


async def test_manager_us_is_not_offered_role_attach_or_detach(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "Manager US", "demo", lambda s: GroupFormScreen(s, US_OPERATORS))
        form = app.screen
        assert "groups.edit" in app.capabilities and "groups.roles" not in app.capabilities
        assert form.query_one("#roles-list", SelectionList).display is False
        text = rendered(form.query_one("#roles-text", Static))
        assert "Operators US" in text and "lhpermission/edit" in text
        assert form.check_action("save", ()) is True  # the group itself is editable
        assert not form.data.role_choices


async def test_manager_us_sees_the_administrators_group_read_only(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "Manager US", "demo", lambda s: GroupFormScreen(s, ADMINISTRATORS))
        form = app.screen
        assert "read-only for you" in rendered(form.query_one("#form-title", Static))
        assert form.query_one("#name", Input).disabled
        assert form.check_action("save", ()) is False
        members = form.query_one("#members", DataTable)
        members.focus()
        await pilot.pause()
        assert form.check_action("remove_member", ()) is False  # admin: not changeable
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.session.groups.get(ADMINISTRATORS).name == "Administrators"


async def test_manager_adds_and_removes_a_member_by_username(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "Manager US", "demo", lambda s: GroupFormScreen(s, US_OPERATORS))
        form = app.screen
        form.query_one("#add-member", Input).focus()
        await pilot.press(*"Operator AU", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ImpactConfirmScreen)
        # His see_all limitation widens, but Manager US may not see others' permissions.
        assert str(app.screen.query_one("#confirm-impact", Button).label) == (
            "Impact: affects nobody (other users' permissions not shown: you may not see them)"
        )
        await pilot.press("tab", "enter")  # Add
        await settle(pilot)
        assert "Operator AU added to the group" in notes(app)
        names = [m.name for m in app.session.groups.members(US_OPERATORS)]
        assert names == ["Operator AU", "Operator US"]
        members = form.query_one("#members", DataTable)
        assert members.row_count == 2
        members.focus()
        members.move_cursor(row=0)
        await pilot.pause()
        assert form.check_action("remove_member", ()) is True
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert [m.name for m in app.session.groups.members(US_OPERATORS)] == ["Operator US"]

        form.query_one("#add-member", Input).focus()
        await pilot.press(*"nobody", "enter")
        await settle(pilot)
        assert any("No user named 'nobody'" in n for n in notes(app))


async def test_unsaved_changes_ask_before_leaving(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", lambda s: GroupFormScreen(s, TEAMLEADER_GROUP))
        form = app.screen
        await pilot.press("end", *" 2")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # Cancel is focused: stay
        await settle(pilot)
        assert app.screen is form
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.session.groups.get(TEAMLEADER_GROUP).name == "Teamleader 2"


async def test_groups_filter_narrows_as_you_type_and_escape_clears_it(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", GroupsScreen)
        screen = app.screen
        table = screen.query_one("#groups-table", DataTable)
        await pilot.press("slash", *"us ")
        await settle(pilot)
        assert table.row_count == 3  # US Managers, US Operators, US Teamleaders
        assert "3 of 10 groups" in rendered(screen.query_one("#groups-status", Static))
        await pilot.press("escape")  # one press: the filter is emptied and left (issue 18)
        assert table.row_count == 10
        assert table.has_focus
        assert app.screen is screen


async def test_deleting_the_first_group_shows_the_refusal_and_an_empty_group_goes(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", GroupsScreen)
        table = app.screen.query_one("#groups-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(ADMINISTRATORS)))
        await pilot.press("x")
        await settle(pilot)
        # The impact preview is the delete itself, rolled back: the refusal is said at once.
        assert isinstance(app.screen, GroupsScreen)
        assert any("protected first group" in n for n in notes(app)), notes(app)
        assert table.row_count == 10
        table.move_cursor(row=table.get_row_index("6"))  # AU Teamleaders, no members
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert "Group 'AU Teamleaders' deleted" in notes(app)
        assert table.row_count == 9


async def test_deleting_a_group_with_members_asks_with_what_they_lose(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", GroupsScreen)
        table = app.screen.query_one("#groups-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(US_OPERATORS)))
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ImpactConfirmScreen)
        assert str(app.screen.query_one("#confirm-impact", Button).label) == (
            "Impact: 0 users gain, 1 loses · i lists them"  # Operator US: Operators US's see_all
        )
        await pilot.press("enter")  # Cancel is focused
        await settle(pilot)
        assert table.row_count == 10
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Delete
        await settle(pilot)
        assert "Group 'US Operators' deleted" in notes(app)
        assert table.row_count == 9


# -- roles screen and editor ---------------------------------------------------------------


async def test_admin_adds_a_limited_grant_and_an_exclusion(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", lambda s: RoleEditorScreen(s, OPERATORS_ROLE))
        editor = app.screen
        before = len(app.session.roles.get(OPERATORS_ROLE).policies)

        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PolicyFormScreen)
        await pilot.press(*"lhuser", "enter", *"edituser", "enter")
        assert app.screen.query_one("#limitation", Input).has_focus
        await pilot.press(*'{"group":[2]}', "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # with the impact (test_screen_impact)
        await pilot.press("tab", "enter")  # Add
        await settle(pilot)
        assert app.screen is editor

        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"lhuser", "enter", *"deleteuser", "enter")
        app.screen.query_one("#exclude", Checkbox).focus()
        await pilot.press("space", "ctrl+s")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Add
        await settle(pilot)
        assert app.screen is editor

        policies = app.session.roles.get(OPERATORS_ROLE).policies
        assert len(policies) == before + 2
        added = {(p.module, p.function, p.limitation, p.exclude) for p in policies}
        assert ("lhuser", "edituser", '{"group":[2]}', False) in added
        assert ("lhuser", "deleteuser", "", True) in added
        table = editor.query_one("#policies", DataTable)
        assert table.row_count == before + 2
        assert "Exclusion lhuser/deleteuser added to 'Operators'" in notes(app)


async def test_an_invalid_json_limitation_shows_the_store_message_and_adds_nothing(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", lambda s: RoleEditorScreen(s, OPERATORS_ROLE))
        before = app.session.roles.get(OPERATORS_ROLE).policies
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"lhuser", "enter", *"edituser", "enter")
        await pilot.press(*'{"group":[2]', "enter")
        await settle(pilot)
        assert app.screen is form  # the form stays open
        error = rendered(form.query_one("#policy-error", Static))
        assert "Limitation is not valid JSON" in error
        assert app.session.roles.get(OPERATORS_ROLE).policies == before
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RoleEditorScreen)


async def test_deleting_a_role_in_use_shows_the_refusal(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", RolesScreen)
        table = app.screen.query_one("#roles-table", DataTable)
        assert table.row_count == 7
        table.move_cursor(row=table.get_row_index(str(TEAMLEADER_ROLE)))
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert any("still used by group(s)" in n and "Teamleader" in n for n in notes(app))
        assert table.row_count == 7
        assert app.session.roles.get(TEAMLEADER_ROLE).name == "Teamleader"


async def test_admin_creates_a_role_which_opens_in_the_editor_then_renames_it(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", RolesScreen)
        await pilot.press("n", *"Auditors", "enter")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, RoleEditorScreen)
        assert "Role Auditors · 0 policies" in rendered(editor.query_one("#role-title", Static))
        await pilot.press("r", "ctrl+u", *"Reviewers", "enter")
        await settle(pilot)
        assert app.session.roles.get(editor.role_id).name == "Reviewers"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RolesScreen)
        names = [r.name for r in app.session.roles.list()]
        assert "Reviewers" in names and "Auditors" not in names


async def test_admin_removes_a_policy_after_confirming(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", lambda s: RoleEditorScreen(s, 5))  # Operators AU
        editor = app.screen
        assert editor.query_one("#policies", DataTable).row_count == 1
        detail = rendered(editor.query_one("#policy-detail", Static))
        assert 'lhdepartment/see_all (grant) · limited to {"group":[1]}' in detail
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert app.session.roles.get(5).policies == ()
        assert "No policies." in rendered(editor.query_one("#policy-detail", Static))
        assert editor.check_action("remove", ()) is False


async def test_a_stored_policy_the_catalogue_lacks_is_shown_as_it_is(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "admin", "admin")
        app.session.roles.add_policy(4, "lhcustom", "frobnicate")  # Rest API
        await app.push_screen(RoleEditorScreen(app.session, 4))
        await settle(pilot)
        table = app.screen.query_one("#policies", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        custom = next(r for r in rows if r[0] == "lhcustom")
        assert custom[1] == "frobnicate" and custom[4].startswith("(not in")
        table.move_cursor(row=rows.index(custom))
        await pilot.pause()
        assert NOT_IN_CATALOGUE in rendered(app.screen.query_one("#policy-detail", Static))


async def test_a_non_admin_role_editor_may_not_touch_the_administrators_role(
    sample_url: str, as_user
) -> None:
    give_managers_role_editing(as_user)
    as_user("admin").roles.add_policy(7, "lhpermission", "list")
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "Manager US", "demo", lambda s: RoleEditorScreen(s, ADMIN_ROLE))
        editor = app.screen
        assert "roles.edit" in app.capabilities
        assert "read-only for you" in rendered(editor.query_one("#role-title", Static))
        assert [editor.check_action(a, ()) for a in ("add", "remove", "rename")] == [False] * 3
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is editor
        await app.push_screen(RoleEditorScreen(app.session, OPERATORS_ROLE))
        await settle(pilot)
        assert app.screen.check_action("add", ()) is True


async def test_the_policy_form_offers_catalogue_functions_and_wildcards(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", lambda s: RoleEditorScreen(s, TEAMLEADER_ROLE))
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        modules = form.query_one("#modules")
        assert modules.get_option_at_index(0).id == "*"
        functions = form.query_one("#functions")
        assert [functions.get_option_at_index(i).id for i in range(functions.option_count)] == ["*"]
        await pilot.press(*"lhpermission")
        ids = [functions.get_option_at_index(i).id for i in range(functions.option_count)]
        assert ids[0] == "*" and "see_permissions_users" in ids and len(ids) == 8
        await pilot.press("enter", *"users")
        assert functions.option_count == 1
        chosen = rendered(form.query_one("#policy-chosen", Static))
        assert "lhpermission/see_permissions_users" in chosen


async def test_names_with_brackets_are_shown_as_typed_not_read_as_markup(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "admin", "admin")
        role = app.session.roles.create("[QA] reviewers")
        app.session.groups.create("[night] shift")
        await app.push_screen(RolesScreen(app.session))
        await settle(pilot)
        table = app.screen.query_one("#roles-table", DataTable)
        assert str(table.get_row(str(role.id))[0]) == "[QA] reviewers"
        await app.push_screen(RoleEditorScreen(app.session, role.id))
        await settle(pilot)
        assert "Role [QA] reviewers" in rendered(app.screen.query_one("#role-title", Static))
        await app.push_screen(GroupsScreen(app.session))
        await settle(pilot)
        names = [str(r[0]) for r in map(app.screen.query_one(DataTable).get_row_at, range(11))]
        assert "[night] shift" in names


async def test_a_team_leader_has_no_groups_or_roles_capability(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await log_in(pilot, "Teamleader US", "demo")
        offered = {c for c in app.capabilities if c.startswith(("groups.", "roles."))}
        assert offered == set()
        await app.push_screen(GroupsScreen(app.session))  # reached anyway: the store refuses
        await settle(pilot)
        assert any("may not list groups" in n for n in notes(app))
        assert app.screen.query_one("#groups-table", DataTable).row_count == 0
        assert app.screen.check_action("new", ()) is False


# -- snapshots -----------------------------------------------------------------------------


def _opened(username: str, password: str, factory, *keys: str):
    async def run_before(pilot: Pilot) -> None:
        await open_as(pilot, username, password, factory)
        for key in keys:
            await pilot.press(key)
        await settle(pilot)

    return run_before


def test_groups_screen_snapshot_for_admin(snap_compare, sample_url: str) -> None:
    assert snap_compare(
        LhcConsole(sample_url),
        terminal_size=SIZE,
        run_before=_opened("admin", "admin", GroupsScreen),
    )


def test_role_editor_snapshot_for_teamleader_role(snap_compare, sample_url: str) -> None:
    run_before = _opened("admin", "admin", lambda s: RoleEditorScreen(s, TEAMLEADER_ROLE))
    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=run_before)


def test_policy_form_snapshot(snap_compare, sample_url: str) -> None:
    run_before = _opened(
        "admin",
        "admin",
        lambda s: RoleEditorScreen(s, TEAMLEADER_ROLE),
        "a",
        *"lhuser",
        "enter",
        *"edit",
    )
    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=run_before)
