"""The impact of a save in the console's confirmations (issue 19, point 2), driven with Pilot.

The count comes from the store's preview (``session.impact.preview``), worked out in a worker
while the question is on screen; the list (``i``, or Enter on the impact line) names the users
and what each gains and loses; nothing is written until the person confirms.
"""

from __future__ import annotations

from pilot import SIZE, settle
from test_screen_groups_roles import open_as
from test_screen_users import highlight, open_tab, open_users
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, SelectionList, Static

from screens.group_form import GroupFormScreen
from screens.impact import ImpactConfirmScreen
from screens.insight_detail import InsightDetailScreen
from screens.role_editor import RoleEditorScreen
from store.dump import all_rows
from store.models import Group, GroupRole, RoleFunction, User
from tui.shell.app import LhcConsole

OPERATOR_US = 2
OPERATORS_GROUP, US_OPERATORS_GROUP = 2, 4
REST_API_ROLE, OPERATORS_US_ROLE, MANAGERS_ROLE = 4, 6, 7


def impact_line(app: LhcConsole) -> str:
    return str(app.screen.query_one("#confirm-impact", Button).label)


def detail_body(app: LhcConsole) -> str:
    return str(app.screen.query_one("#detail-body", Static).render())


async def test_disabling_a_user_says_who_loses_which_chats_and_lists_them(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "admin", "admin")
        await highlight(pilot, users, OPERATOR_US)
        rows = all_rows()
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ImpactConfirmScreen)
        assert impact_line(app) == "Impact: 0 users gain, 1 loses · i lists them"
        assert all_rows() == rows  # the preview was rolled back
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InsightDetailScreen)
        body = detail_body(app)
        assert "Operator US (#2)" in body
        assert "reads -Departments US (#2)" in body
        assert "writes -Departments US (#2)" in body
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ImpactConfirmScreen)
        await pilot.press("enter")  # Cancel is focused
        await settle(pilot)
        assert app.screen is users
        assert User.get_by_id(OPERATOR_US).disabled == 0
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Disable
        await settle(pilot)
        assert User.get_by_id(OPERATOR_US).disabled == 1


async def open_role(pilot: Pilot, role_id: int, module: str, function: str) -> None:
    await open_as(pilot, "admin", "admin", lambda s: RoleEditorScreen(s, role_id))
    editor = pilot.app.screen
    table = editor.query_one("#policies")
    wanted = RoleFunction.get(
        (RoleFunction.role_id == role_id)
        & (RoleFunction.module == module)
        & (RoleFunction.function == function)
    )
    table.move_cursor(row=table.get_row_index(str(wanted.id)))
    table.focus()
    await settle(pilot)


async def test_removing_a_policy_of_a_role_no_group_carries_affects_nobody(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_role(pilot, REST_API_ROLE, "lhdepartment", "list")
        await pilot.press("x")
        await settle(pilot)
        assert impact_line(app) == "Impact: affects nobody"
        assert app.screen.query_one("#confirm-impact", Button).disabled
        await pilot.press("i")  # nothing to list: the dialog stays
        await settle(pilot)
        assert isinstance(app.screen, ImpactConfirmScreen)


async def test_removing_a_policy_lists_who_loses_it_on_enter(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_role(pilot, OPERATORS_US_ROLE, "lhdepartment", "see_all")
        await pilot.press("x")
        await settle(pilot)
        assert impact_line(app) == "Impact: 0 users gain, 1 loses · i lists them"
        await pilot.press("shift+tab", "enter")  # onto the impact line, Enter
        await settle(pilot)
        assert isinstance(app.screen, InsightDetailScreen)
        assert "Operator US (#2)\n  loses lhdepartment/see_all" in detail_body(app)


def test_impact_confirmation_snapshot(snap_compare, sample_url: str) -> None:
    async def run_before(pilot: Pilot) -> None:
        users = await open_users(pilot, "admin", "admin")
        await highlight(pilot, users, OPERATOR_US)
        await pilot.press("d")
        await settle(pilot)

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=run_before)


async def test_adding_a_policy_asks_with_who_gains_it_and_cancel_adds_nothing(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", lambda s: RoleEditorScreen(s, MANAGERS_ROLE))
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        rows = all_rows()
        await pilot.press(*"lhuser", "enter", *"assign_to_own_department_group", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ImpactConfirmScreen)
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert question == "Add the grant lhuser/assign_to_own_department_group to role 'Managers'?"
        # Only the Managers group carries the role, and it carries Teamleader's, which has it.
        assert impact_line(app) == "Impact: affects nobody"
        await pilot.press("enter")  # Cancel: back to the form, nothing added
        await settle(pilot)
        assert app.screen is form
        assert all_rows() == rows
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"lhfaq", "enter", *"*", "enter", "enter")
        await settle(pilot)
        assert impact_line(app) == "Impact: 1 user gains, 0 lose · i lists them"  # lhfaq/*


async def test_saving_a_group_as_disabled_asks_with_who_loses_and_cancel_keeps_it(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", lambda s: GroupFormScreen(s, OPERATORS_GROUP))
        form = app.screen
        form.query_one("#disabled", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ImpactConfirmScreen)
        assert impact_line(app) == "Impact: 0 users gain, 2 lose · i lists them"
        await pilot.press("enter")  # Cancel: the form keeps the unsaved change
        await settle(pilot)
        assert app.screen is form
        assert Group.get_by_id(OPERATORS_GROUP).disabled == 0
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Save
        await settle(pilot)
        assert app.screen is form
        assert Group.get_by_id(OPERATORS_GROUP).disabled == 1


async def test_detaching_a_role_cancelled_shows_the_role_still_attached(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await open_as(pilot, "admin", "admin", lambda s: GroupFormScreen(s, US_OPERATORS_GROUP))
        form = app.screen
        roles = form.query_one("#roles-list", SelectionList)
        roles.focus()
        roles.highlighted = next(
            i
            for i in range(roles.option_count)
            if roles.get_option_at_index(i).value == OPERATORS_US_ROLE
        )
        await pilot.press("space")
        await settle(pilot)
        question = str(app.screen.query_one("#confirm-question", Static).render())
        assert question == "Detach role 'Operators US' from group 'US Operators'?"
        assert impact_line(app) == "Impact: 0 users gain, 1 loses · i lists them"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
        assert OPERATORS_US_ROLE in roles.selected
        assert GroupRole.get_or_none(group_id=US_OPERATORS_GROUP, role_id=OPERATORS_US_ROLE)


async def test_a_user_save_the_store_would_refuse_says_so_without_asking(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        users = await open_users(pilot, "Teamleader US")
        await highlight(pilot, users, OPERATOR_US)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        await open_tab(pilot, "tab-groups", "#groups")
        await pilot.press("down", "space")  # US Teamleaders
        User.update(cache_version=User.cache_version + 1).where(User.id == OPERATOR_US).execute()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # the preview was refused: nothing to confirm
        assert "changed by someone else" in str(form.query_one("#form-banner", Static).render())
