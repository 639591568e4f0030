"""Roles: every role with its number of policies and the groups that carry it.

``/`` filters as you type, Enter opens the role editor, ``n`` asks a name and creates a role
(then opens it), ``x`` deletes the highlighted role after asking. The store refuses role 1 and
roles still used by a group; its message says which groups to detach first.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from screens.listing import FilteredListScreen
from screens.text import fit
from screens.widgets import OpenTable, TextInput
from store import Session
from store.views import RoleInfo


class RolesScreen(FilteredListScreen[RoleInfo]):
    """The roles list (``lhpermission/list``)."""

    CSS_PATH = "roles.tcss"
    NOUN = "role"
    COLUMNS = (("Name", 22), ("Policies", 8), ("Used by groups", 38))
    FILTER_ID = "roles-filter"
    STATUS_ID = "roles-status"
    CREATE_CAPABILITY = "roles.create"
    DELETE_CAPABILITY = "roles.delete"

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with Vertical(id="roles"):
            yield Static("Roles", classes="title")
            yield TextInput(
                placeholder="/ filter by role or group name", id="roles-filter", compact=True
            )
            yield OpenTable(id="roles-table", cursor_type="row", zebra_stripes=False)
            yield Static("", id="roles-status")
            with Horizontal(id="new-role-row"):
                yield Label("New role", id="new-role-label")
                yield TextInput(
                    placeholder="name (Enter creates, Esc cancels)", id="new-role", compact=True
                )
        yield from self.compose_footer()

    def on_mount(self) -> None:  # Textual calls the base class's on_mount too (columns)
        self.query_one("#new-role-row").display = False

    def fetch(self, session: Session) -> list[RoleInfo]:
        return session.roles.list()

    def matches(self, role: RoleInfo, text: str) -> bool:
        return text in role.name.lower() or any(text in g.name.lower() for g in role.groups)

    def cells(self, role: RoleInfo) -> list[Text]:
        groups = ", ".join(g.name for g in role.groups) or "(no group)"
        return [fit(role.name, 22), Text(str(len(role.policies))), fit(groups, 38)]

    def open(self, role_id: int | None) -> None:
        if role_id is None:  # a new role starts with its name, asked below the table
            self.query_one("#new-role-row").display = True
            self.query_one("#new-role", Input).focus()
            return
        from screens.role_editor import RoleEditorScreen

        self.app.push_screen(RoleEditorScreen(self.session, role_id))

    def delete_question(self, role: RoleInfo) -> str:
        return (
            f"Delete role {role.name!r} and its {len(role.policies)} policies?\n"
            "This cannot be undone."
        )

    def delete(self, session: Session, role: RoleInfo) -> None:
        session.roles.delete(role.id)

    def action_back(self) -> None:
        """Leave the name prompt first; then the filter; then back to the previous screen."""
        row = self.query_one("#new-role-row")
        if row.display:
            self.query_one("#new-role", Input).value = ""
            row.display = False
            self.table.focus()
            return
        super().action_back()

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
        self.table.focus()
        self.notify(
            f"Role {role.name!r} created: add its policies with a", title="Created", markup=False
        )
        self.open(role.id)
