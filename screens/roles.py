"""Roles: every role with its number of policies and the groups that carry it.

``/`` filters as you type, Enter opens the role editor, ``n`` asks a name and creates a role
(then opens it), ``x`` deletes the highlighted role after asking. The store refuses role 1 and
roles still used by a group; its message says which groups to detach first.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Static

from screens.base import ConsoleScreen
from screens.confirm import ConfirmScreen
from screens.text import OpenTable, fit, plain
from store import Session
from store.views import RoleInfo

COLUMNS = (("Name", 22), ("Policies", 8), ("Used by groups", 38))


class RolesScreen(ConsoleScreen):
    """The roles list (``lhpermission/list``)."""

    CSS_PATH = "roles.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("n", "new", "New"),
        Binding("x", "delete", "Delete"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.roles: list[RoleInfo] = []
        self.capabilities: frozenset[str] = frozenset()

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with Vertical(id="roles"):
            yield Static("Roles", classes="title")
            yield Input(
                placeholder="/ filter by role or group name", id="roles-filter", compact=True
            )
            yield OpenTable(id="roles-table", cursor_type="row", zebra_stripes=False)
            yield Static("", id="roles-status")
            with Horizontal(id="new-role-row"):
                yield Label("New role", id="new-role-label")
                yield Input(
                    placeholder="name (Enter creates, Esc cancels)", id="new-role", compact=True
                )
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one(OpenTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.query_one("#new-role-row").display = False
        table.focus()

    def on_screen_resume(self) -> None:
        """Load on first show and again on coming back from the editor."""
        self.action_refresh()

    # -- data ----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        session = self.session
        self.call_store(
            lambda: (session.roles.list(), session.permissions.capabilities()),
            lambda result: self._loaded(*result),
        )

    def _loaded(self, roles: list[RoleInfo], capabilities: frozenset[str]) -> None:
        self.roles = roles
        self.capabilities = capabilities
        self._fill()
        self.refresh_bindings()

    def _shown(self) -> list[RoleInfo]:
        text = self.query_one("#roles-filter", Input).value.strip().lower()
        if not text:
            return self.roles
        return [
            r
            for r in self.roles
            if text in r.name.lower() or any(text in g.name.lower() for g in r.groups)
        ]

    def _fill(self) -> None:
        table = self.query_one(OpenTable)
        keep = self._highlighted()
        table.clear()
        shown = self._shown()
        for role in shown:
            groups = ", ".join(g.name for g in role.groups) or "(no group)"
            table.add_row(
                fit(role.name, 22),
                Text(str(len(role.policies))),
                fit(groups, 38),
                key=str(role.id),
            )
        if keep is not None and any(r.id == keep.id for r in shown):
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        total = len(self.roles)
        self.query_one("#roles-status", Static).update(
            f"{len(shown)} of {total} roles" if len(shown) != total else f"{total} roles"
        )

    def _highlighted(self) -> RoleInfo | None:
        table = self.query_one(OpenTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # the cursor sits outside the rows while the table is rebuilt
            return None
        return next((r for r in self.roles if str(r.id) == key), None)

    # -- keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new":
            return "roles.create" in self.capabilities
        if action == "delete":
            return "roles.delete" in self.capabilities and self._highlighted() is not None
        return True

    @on(DataTable.RowHighlighted, "#roles-table")
    def _moved(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#roles-table")
    def _selected(self) -> None:
        role = self._highlighted()
        if role is not None:
            self._open(role.id)

    def _open(self, role_id: int) -> None:
        from screens.role_editor import RoleEditorScreen

        self.app.push_screen(RoleEditorScreen(self.session, role_id))

    def action_filter(self) -> None:
        self.query_one("#roles-filter", Input).focus()

    @on(Input.Changed, "#roles-filter")
    def _filter_changed(self) -> None:
        self._fill()
        self.refresh_bindings()

    @on(Input.Submitted, "#roles-filter")
    def _filter_done(self) -> None:
        self.query_one(OpenTable).focus()

    def action_back(self) -> None:
        """Leave the name prompt or the filter first; then back to the previous screen."""
        row = self.query_one("#new-role-row")
        if row.display:
            self.query_one("#new-role", Input).value = ""
            row.display = False
            self.query_one(OpenTable).focus()
            return
        filter_input = self.query_one("#roles-filter", Input)
        if filter_input.has_focus:
            if filter_input.value:
                filter_input.value = ""
            else:
                self.query_one(OpenTable).focus()
            return
        super().action_back()

    def action_new(self) -> None:
        self.query_one("#new-role-row").display = True
        self.query_one("#new-role", Input).focus()

    @on(Input.Submitted, "#new-role")
    def _create(self, event: Input.Submitted) -> None:
        name = event.value
        if not name.strip():
            return
        self.call_store(
            lambda: self.session.roles.create(name), self._created, group="write", exclusive=False
        )

    def _created(self, role: RoleInfo) -> None:
        self.query_one("#new-role", Input).value = ""
        self.query_one("#new-role-row").display = False
        self.query_one(OpenTable).focus()
        self.notify(
            f"Role {role.name!r} created: add its policies with a", title="Created", markup=False
        )
        self._open(role.id)

    def action_delete(self) -> None:
        role = self._highlighted()
        if role is None:
            return
        question = (
            f"Delete role {role.name!r} and its {len(role.policies)} policies?\n"
            "This cannot be undone."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_store(
                    lambda: self.session.roles.delete(role.id),
                    lambda _: self._deleted(role),
                    group="write",
                    exclusive=False,
                )

        self.app.push_screen(ConfirmScreen(plain(question), "Delete"), answered)

    def _deleted(self, role: RoleInfo) -> None:
        self.notify(f"Role {role.name!r} deleted", title="Deleted", markup=False)
        self.action_refresh()
