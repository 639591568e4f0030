"""Departments and department groups: what each group holds and how many users it reaches.

Side by side: departments on the left, department groups on the right. Enter on either opens
its roster (``screens.roster``: who is in it and how, for actors who may list users). With
``lhdepartment/managegroups`` the actor creates (``n``), edits (``e``: rename, pick
departments) and deletes (``x``) department groups; with ``lhdepartment/create`` they add
departments (``N``). Changing a group's departments rewrites the chat-access rows of every user
assigned to it; the store does that in the same transaction (SPEC §1.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from screens.base import ConsoleScreen
from screens.department_group_form import DepartmentGroupForm, DepartmentGroupInput
from screens.impact import ImpactConfirmScreen, ask_with_impact
from screens.roster import RosterScreen
from screens.text import literal
from screens.widgets import SafeTable
from store import ScopeError
from store.impact import Impact, Touches
from store.views import DepartmentGroupInfo, Ref

ACTION_CAPABILITY = {
    "new_group": "department_groups.manage",
    "edit_group": "department_groups.manage",
    "delete_group": "department_groups.manage",
    "new_department": "departments.create",
}


class RosterTable(SafeTable):
    """A table whose Enter opens the highlighted row's roster (shown as such in the footer)."""

    BINDINGS = [Binding("enter", "select_cursor", "Roster")]


@dataclass(frozen=True)
class _Loaded:
    departments: list[Ref] | None  # None: the actor may not list departments
    groups: list[DepartmentGroupInfo]
    capabilities: frozenset[str]


class DepartmentsScreen(ConsoleScreen):
    """Departments (left) and department groups (right)."""

    CSS_PATH = "departments.tcss"
    BINDINGS = [
        Binding("n", "new_group", "New group"),
        Binding("e", "edit_group", "Edit"),
        Binding("x", "delete_group", "Delete"),
        Binding("N", "new_department", "New department", key_display="N"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    capabilities: frozenset[str] = frozenset()
    departments: list[Ref] | None = None
    _back_from_roster = False
    groups: list[DepartmentGroupInfo]

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with Horizontal(id="dep-body"):
            with Vertical(id="dep-pane"):
                yield RosterTable(id="dep-table", cursor_type="row", zebra_stripes=False)
            with Vertical(id="dg-pane"):
                yield RosterTable(id="dg-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="dep-status")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.groups = []
        self.query_one("#dep-pane").border_title = "Departments"
        self.query_one("#dg-pane").border_title = "Department groups"
        deps = self.query_one("#dep-table", DataTable)
        deps.add_column("Id", width=3, key="id")
        deps.add_column("Name", width=20, key="name")
        groups = self.query_one("#dg-table", DataTable)
        groups.add_column("Name", width=16, key="name")
        groups.add_column("Departments", width=20, key="departments")
        groups.add_column("Users", width=5, key="users")
        groups.focus()
        self.action_refresh()

    # -- loading -------------------------------------------------------------------------

    def action_refresh(self, select_group: int | None = None) -> None:
        session = self.session

        def load() -> _Loaded:
            try:
                departments: list[Ref] | None = session.departments.list_departments()
            except ScopeError:  # managegroups without lhdepartment/list: groups only
                departments = None
            return _Loaded(
                departments,
                session.departments.list_groups(),
                session.permissions.capabilities(),
            )

        self.call_store(
            load, lambda loaded: self._show(loaded, select_group), failed=self._load_failed
        )

    def _load_failed(self, message: str) -> None:
        self.query_one("#dep-status", Static).update(literal(message, "bold red", lines=True))
        self.notify(message, title="Not shown", severity="error", timeout=8)

    def _show(self, loaded: _Loaded, select_group: int | None) -> None:
        self.capabilities = loaded.capabilities
        self.departments = loaded.departments
        self.groups = loaded.groups
        deps = self.query_one("#dep-table", DataTable)
        deps.clear()
        for d in loaded.departments or []:
            deps.add_row(str(d.id), d.name, key=str(d.id))
        groups = self.query_one("#dg-table", DataTable)
        keep = select_group if select_group is not None else self._current_group_id()
        groups.clear()
        for g in loaded.groups:
            groups.add_row(
                g.name,
                ", ".join(d.name for d in g.departments) or "—",
                str(g.user_count),
                key=str(g.id),
            )
        ids = [g.id for g in loaded.groups]
        if keep in ids:
            groups.move_cursor(row=ids.index(keep))
        status = f"{len(loaded.groups)} department groups"
        if loaded.departments is None:
            status += " · you may not list departments (lhdepartment/list)"
        else:
            status += f" · {len(loaded.departments)} departments"
        if "department_groups.manage" not in self.capabilities:
            status += " · read-only"
        self.query_one("#dep-status", Static).update(literal(status))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the store would allow (it refuses anyway)."""
        needed = ACTION_CAPABILITY.get(action)
        if needed is None:
            return True
        if needed not in self.capabilities:
            return False
        if action in ("edit_group", "delete_group"):
            return self._current_group() is not None
        return True

    def _current_group(self) -> DepartmentGroupInfo | None:
        table = self.query_one("#dg-table", DataTable)
        if not self.groups or table.row_count == 0:
            return None
        row = table.cursor_row
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def _current_group_id(self) -> int | None:
        group = self._current_group()
        return group.id if group else None

    # -- actions -------------------------------------------------------------------------

    def action_new_group(self) -> None:
        if self.departments is None:
            self.notify("You may not list departments, so you cannot pick any", severity="error")
            return

        def submitted(entered: DepartmentGroupInput | None) -> None:
            if entered is None:
                return
            session = self.session
            self.call_store(
                lambda: session.departments.create_group(entered.name, entered.departments),
                self._created,
            )

        self.app.push_screen(
            DepartmentGroupForm(
                "New department group", departments=self.departments, save_label="Create"
            ),
            submitted,
        )

    def _created(self, info: DepartmentGroupInfo) -> None:
        self.notify(f"Department group '{info.name}' created", title="Done")
        self.action_refresh(select_group=info.id)

    @on(DataTable.RowHighlighted, "#dg-table")
    def _group_highlighted(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#dg-table")
    def _group_chosen(self) -> None:
        group = self._current_group()
        if group is not None:
            self._open_roster(department_group=Ref(group.id, group.name))

    @on(DataTable.RowSelected, "#dep-table")
    def _department_chosen(self) -> None:
        table = self.query_one("#dep-table", DataTable)
        row = table.cursor_row
        if self.departments and 0 <= row < len(self.departments):
            self._open_roster(department=self.departments[row])

    def _open_roster(
        self, *, department: Ref | None = None, department_group: Ref | None = None
    ) -> None:
        """A roster lists people: offered to those who may list users (the store refuses
        others anyway, with the same reason)."""
        if "users.list" not in self.capabilities:
            self.notify(
                "A roster lists people: it needs the lhuser/userlist permission",
                title="Not shown",
                severity="error",
            )
            return
        self._back_from_roster = True
        self.app.push_screen(
            RosterScreen(self.session, department=department, department_group=department_group)
        )

    def on_screen_resume(self) -> None:
        """Back from a roster: an unassignment there changes the groups' user counts."""
        if self._back_from_roster:
            self._back_from_roster = False
            self.action_refresh()

    def action_edit_group(self) -> None:
        group = self._current_group()
        if group is None:
            return
        departments = self.departments
        if departments is None:  # cannot list them: offer the group's own departments only
            departments = list(group.departments)
        current = [d.id for d in group.departments]

        def submitted(entered: DepartmentGroupInput | None) -> None:
            if entered is None:
                return
            session = self.session
            rename = entered.name != group.name
            change = sorted(entered.departments) != sorted(current)
            if not (rename or change):
                self.notify("Nothing changed")
                return

            def save() -> DepartmentGroupInfo:
                info = group
                if rename:
                    info = session.departments.rename_group(group.id, entered.name)
                if change:
                    info = session.departments.set_group_departments(group.id, entered.departments)
                return info

            if not change:  # a new name changes no one's chats
                self.call_store(save, self._saved, failed=self._save_failed)
                return
            ask_with_impact(
                self,
                f"Save department group '{group.name}'? Its departments change for the users "
                "assigned to it.",
                "Save",
                Touches.of(department_groups=[group.id]),
                save,
                self._saved,
                self._save_failed,
            )

        self.app.push_screen(
            DepartmentGroupForm(
                f"Edit department group '{group.name}'",
                name=group.name,
                departments=departments,
                selected=current,
            ),
            submitted,
        )

    def _saved(self, info: DepartmentGroupInfo) -> None:
        users = f"; {info.user_count} assigned users updated" if info.user_count else ""
        self.notify(f"Department group '{info.name}' saved{users}", title="Done")
        self.action_refresh(select_group=info.id)

    def _save_failed(self, message: str) -> None:
        self.notify(message, title="Not done", severity="error", timeout=8)
        self.action_refresh()  # a rename may have been saved before the refusal

    def action_delete_group(self) -> None:
        group = self._current_group()
        if group is None:
            return
        users = (
            f"\nIts {group.user_count} user assignment(s) and the department rows derived "
            "from them are removed too."
            if group.user_count
            else ""
        )

        session = self.session

        def confirmed(answer: bool | None) -> None:
            if not answer:
                return
            self.call_store(
                lambda: session.departments.delete_group(group.id),
                lambda _: self._deleted(group),
            )

        def preview() -> Impact:
            return session.impact.preview(
                Touches.of(department_groups=[group.id]),
                lambda: session.departments.delete_group(group.id),
            )

        self.app.push_screen(
            ImpactConfirmScreen(
                f"Delete department group '{group.name}'?{users}", "Delete", preview
            ),
            confirmed,
        )

    def _deleted(self, group: DepartmentGroupInfo) -> None:
        self.notify(f"Department group '{group.name}' deleted", title="Done")
        self.action_refresh()

    def action_new_department(self) -> None:
        def submitted(entered: DepartmentGroupInput | None) -> None:
            if entered is None:
                return
            session = self.session
            self.call_store(
                lambda: session.departments.create_department(entered.name),
                self._department_created,
            )

        self.app.push_screen(DepartmentGroupForm("New department", save_label="Create"), submitted)

    def _department_created(self, department: Ref) -> None:
        self.notify(f"Department '{department.name}' created", title="Done")
        self.action_refresh()
