"""Departments, permissions, the access explorer and the audit log, driven as a person does.

Also the store methods these screens added: ``permissions.named_entries`` and the username and
``see_all`` fields of ``ChatAccess``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from peewee import Database
from pilot import SIZE, log_in, settle
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from screens.access import AccessScreen
from screens.audit import AuditScreen
from screens.confirm import ConfirmScreen
from screens.department_group_form import DepartmentGroupForm
from screens.departments import DepartmentsScreen
from screens.insight_detail import InsightDetailScreen
from screens.permissions import PermissionsScreen
from store import NotFoundError, ScopeError, Session
from store.models import Audit, DepartmentGroup
from tui.shell.app import LhcConsole


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _plain(renderable) -> str:
    console = Console(width=76, color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def _notes(app: LhcConsole) -> list[str]:
    return [n.message for n in app._notifications]


async def _open(pilot: Pilot, username: str, password: str, make) -> None:
    await settle(pilot)
    await log_in(pilot, username, password)
    await pilot.app.push_screen(make(pilot.app.session))
    await settle(pilot)


# -- store methods added for these screens ----------------------------------------------------


def test_named_entries_name_the_group_and_role_of_every_grant(
    as_user: Callable[[str], Session],
) -> None:
    report = as_user("Operator US").permissions.named_entries()
    assert report.username == "Operator US" and not report.is_administrator
    by_key = {(e.module, e.function): e for e in report.entries}
    use = by_key[("lhchat", "use")]
    assert [(s.group_name, s.role_name) for s in use.sources] == [("Operators", "Operators")]
    see_all = by_key[("lhdepartment", "see_all")]
    assert see_all.limitation == {"group": [2]}
    assert [s.label() for s in see_all.sources] == ["US Operators / Operators US"]
    plain = as_user("Operator US").permissions.effective()
    assert [(e.module, e.function) for e in plain.entries()] == list(by_key)
    assert report.exclusions == ()


def test_named_entries_of_others_need_see_permissions_users(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    leader = as_user("Teamleader US")
    report = admin.permissions.named_entries(leader.actor_id)
    assert report.username == "Teamleader US"
    with pytest.raises(ScopeError, match="see_permissions_users"):
        as_user("Manager US").permissions.named_entries(leader.actor_id)
    with pytest.raises(NotFoundError):
        leader.permissions.named_entries(admin.actor_id)  # admin is not visible to him


def test_named_entries_list_exclusions_with_their_sources(
    as_user: Callable[[str], Session],
) -> None:
    admin = as_user("admin")
    role = admin.roles.create("No transfer")
    admin.roles.add_policy(role.id, "lhchat", "allowtransfer", exclude=True)
    admin.groups.attach_role(4, role.id)  # US Operators
    report = as_user("Operator US").permissions.named_entries()
    assert [(e.module, e.function, e.excluded) for e in report.exclusions] == [
        ("lhchat", "allowtransfer", True)
    ]
    assert [s.role_name for s in report.exclusions[0].sources] == ["No transfer"]


def test_chat_access_names_the_user_and_their_see_all_limitation(
    as_user: Callable[[str], Session],
) -> None:
    access = as_user("admin").permissions.access(3)
    assert access.username == "Operator AU"
    assert access.department_see_all and access.see_all_limitation == {"group": [1]}
    admin_access = as_user("admin").permissions.access()
    assert admin_access.department_see_all and admin_access.see_all_limitation is None
    leader = as_user("Teamleader US").permissions.access()
    assert not leader.department_see_all and leader.see_all_limitation is None


# -- permissions ----------------------------------------------------------------------------


async def test_operator_us_sees_who_grants_lhchat_use_and_the_see_all_limitation(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "Operator US", "demo", PermissionsScreen)
        screen = app.screen
        assert "Permissions of Operator US" in _text(screen, "#perm-who")
        rows = _rows(screen.query_one("#perm-table", DataTable))
        by_function = {}
        module = ""
        for row in rows:
            module = row[0] or module  # the module is shown once, on its first row
            by_function[(module, row[1])] = row
        assert by_function[("lhchat", "use")][3] == "Operators / Operators"
        see_all = by_function[("lhdepartment", "see_all")]
        assert see_all[2] == '{"group":[2]}' and see_all[3] == "US Operators / Operators US"
        assert sum(1 for row in rows if row[0] == "lhchat") == 1

        await pilot.press("slash", *"lhchat/use")
        await settle(pilot)
        assert [row[1] for row in _rows(screen.query_one("#perm-table", DataTable))] == [
            "use",
            "use_onlineusers",
        ]
        await pilot.press("enter")  # leaves the filter for the table
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InsightDetailScreen)
        detail = _text(app.screen, "#detail-body")
        assert "Granted" in detail and "Operators / Operators" in detail and "grants" in detail
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("slash", "escape")  # Esc in the filter clears it first
        await settle(pilot)
        assert screen.query_one("#perm-filter", Input).value == ""
        assert len(_rows(screen.query_one("#perm-table", DataTable))) == len(rows)


async def test_operator_us_is_not_offered_another_users_permissions(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "Operator US", "demo", PermissionsScreen)
        screen = app.screen
        assert screen.check_action("pick_user", ()) is False
        assert "u" not in {b.binding.key for b in screen.active_bindings.values() if b.enabled}
        await pilot.press("u")
        await settle(pilot)
        assert not screen.query_one("#perm-user", Input).display
        assert "Permissions of Operator US" in _text(screen, "#perm-who")


async def test_admin_views_teamleader_us_permissions(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "admin", "admin", PermissionsScreen)
        screen = app.screen
        assert "administrator (*/*)" in _text(screen, "#perm-who")
        await pilot.press("u", *"Teamleader US", "enter")
        await settle(pilot)
        assert "Permissions of Teamleader US" in _text(screen, "#perm-who")
        assert not screen.query_one("#perm-user", Input).display
        rows = _rows(screen.query_one("#perm-table", DataTable))
        assert any(row[1] == "allowcloseremote" and "Teamleader" in row[3] for row in rows)
        await pilot.press("u", *"Nobody Here", "enter")
        await settle(pilot)
        assert any("No user named 'Nobody Here'" in note for note in _notes(app))
        assert "Permissions of Teamleader US" in _text(screen, "#perm-who")


# -- access explorer ------------------------------------------------------------------------


async def test_admin_explores_operator_au_reading_via_the_department_group(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "admin", "admin", AccessScreen)
        screen = app.screen
        assert "reads every department" in _text(screen, "#access-who")
        await pilot.press("u", *"Operator AU", "enter")
        await settle(pilot)
        assert "Chat access of Operator AU" in _text(screen, "#access-who")
        assert _rows(screen.query_one("#access-table", DataTable)) == [
            ["Departments AU", "yes", "yes", "department group 'Departments AU'"]
        ]
        other = _text(screen, "#access-other")
        assert "yes read " in other and "no  read closed chats" in other
        note = _text(screen, "#access-note")
        assert 'see_all {"group":[1]}' in note and "does not limit chat reading" in note


async def test_teamleader_us_cannot_explore_admin(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "Teamleader US", "demo", AccessScreen)
        screen = app.screen
        await pilot.press("u", *"admin", "enter")
        await settle(pilot)
        assert any(
            "No user named 'admin' among the users you can see" in note for note in _notes(app)
        )
        assert "Chat access of Teamleader US" in _text(screen, "#access-who")
        await pilot.press("escape")  # leaves the username field, not the screen
        await settle(pilot)
        assert app.screen is screen and not screen.query_one("#access-user", Input).display


# -- departments ----------------------------------------------------------------------------


async def test_manager_us_creates_a_department_group_and_deletes_it(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "Manager US", "demo", DepartmentsScreen)
        screen = app.screen
        table = screen.query_one("#dg-table", DataTable)
        assert [r[0] for r in _rows(table)] == ["Departments AU", "Departments US"]
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DepartmentGroupForm)
        await pilot.press(*"Both", "enter", "space", "down", "space", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert ["Both", "Departments AU, Departments US", "0"] in _rows(table)
        assert table.cursor_row == [r[0] for r in _rows(table)].index("Both")

        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert [r[0] for r in _rows(table)] == ["Departments AU", "Departments US"]
        assert not DepartmentGroup.select().where(DepartmentGroup.name == "Both").exists()


async def test_manager_us_edits_a_group_and_adds_a_department(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "Manager US", "demo", DepartmentsScreen)
        screen = app.screen
        await pilot.press("N", *"Departments EU", "enter")
        await settle(pilot)
        assert "Departments EU" in [r[1] for r in _rows(screen.query_one("#dep-table", DataTable))]
        table = screen.query_one("#dg-table", DataTable)
        table.move_cursor(row=1)  # Departments US, assigned to three users
        await pilot.press("e")  # Enter opens its roster (issue 19)
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DepartmentGroupForm)
        form.query_one("#dgform-name", Input).value = "US desk"
        await pilot.press("enter", "space", "ctrl+s")  # adds Departments AU (first in the list)
        await settle(pilot)
        impact = str(app.screen.query_one("#confirm-impact").label)  # asked with the impact
        assert impact == "Impact: 3 users gain, 0 lose · i lists them"
        await pilot.press("tab", "enter")  # Save
        await settle(pilot)
        assert app.screen is screen
        assert ["US desk", "Departments US, Departments AU", "3"] in _rows(table)
        access = app.session.permissions.access(2)
        assert [d.name for d in access.departments] == ["Departments AU", "Departments US"]


async def test_operator_us_sees_no_department_actions(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "Operator US", "demo", DepartmentsScreen)
        screen = app.screen
        for action in ("new_group", "edit_group", "delete_group", "new_department"):
            assert screen.check_action(action, ()) is False
        assert any("may not list department groups" in note for note in _notes(app))


# -- audit log -----------------------------------------------------------------------------


async def test_the_audit_screen_shows_a_new_change_first(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "Manager US", "demo", DepartmentsScreen)
        await pilot.press("n", *"Night desk", "enter", "space", "ctrl+s")
        await settle(pilot)
        await app.push_screen(AuditScreen(app.session))
        await settle(pilot)
        screen = app.screen
        assert "all actions" in _text(screen, "#audit-scope")
        first = _rows(screen.query_one("#audit-table", DataTable))[0]
        assert first[1:] == ["Manager US", "department_group", first[3], "create"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InsightDetailScreen)
        assert '"Night desk"' in _plain(app.screen.body)


async def test_the_audit_screen_pages_and_filters(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "admin", "admin", AuditScreen)
        screen = app.screen
        table = screen.query_one("#audit-table", DataTable)
        assert table.row_count == 50
        table.move_cursor(row=49)
        await settle(pilot)
        assert table.row_count == 100
        ids = [int(str(k.value)) for k in table.rows]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 100
        await pilot.press("slash", *"department_group.create")
        await settle(pilot)
        assert [r[2] for r in _rows(table)] == ["department_group", "department_group"]
        await pilot.press("escape")  # one press: clear the filter and back to the table
        await settle(pilot)
        assert table.row_count == 50 and table.has_focus


async def test_a_team_leader_sees_only_his_own_audit_rows(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, "Teamleader US", "demo", AuditScreen)
        screen = app.screen
        assert "your own actions" in _text(screen, "#audit-scope")
        assert _rows(screen.query_one("#audit-table", DataTable))[0][1] == "no entries"


# -- snapshots -----------------------------------------------------------------------------


def _opened(username: str, password: str, make, *keys: str):
    async def run_before(pilot: Pilot) -> None:
        await _open(pilot, username, password, make)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return run_before


def test_permissions_snapshot_operator_us(snap_compare, sample_url: str) -> None:
    assert snap_compare(
        LhcConsole(sample_url),
        terminal_size=SIZE,
        run_before=_opened("Operator US", "demo", PermissionsScreen),
    )


def test_access_explorer_snapshot_operator_au_as_admin(snap_compare, sample_url: str) -> None:
    assert snap_compare(
        LhcConsole(sample_url),
        terminal_size=SIZE,
        run_before=_opened("admin", "admin", AccessScreen, "u", *"Operator AU", "enter"),
    )


def test_departments_snapshot_manager_us(snap_compare, sample_url: str) -> None:
    assert snap_compare(
        LhcConsole(sample_url),
        terminal_size=SIZE,
        run_before=_opened("Manager US", "demo", DepartmentsScreen),
    )


def test_audit_log_snapshot_admin(snap_compare, sample_db: Database, sample_url: str) -> None:
    Audit.update(time=dt.datetime(2026, 1, 1)).execute()  # the time column is fixed on screen
    sample_db.close()
    assert snap_compare(
        LhcConsole(sample_url),
        terminal_size=SIZE,
        run_before=_opened("admin", "admin", AuditScreen),
    )
