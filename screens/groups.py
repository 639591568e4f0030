"""Groups: every group with its flags, work-with targets, roles and member count.

``/`` filters as you type, Enter opens the group form, ``n`` starts a new group, ``x`` deletes
the highlighted one (after asking). Keys the actor may not use are not offered; the store
refuses them anyway (group 1, or a group that is some member's only group, with its message).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from screens.base import ConsoleScreen
from screens.confirm import ConfirmScreen
from screens.text import OpenTable, fit, plain
from store import Session
from store.views import GroupInfo

# (label, width) of each column; with DataTable's padding they fit 80 columns.
COLUMNS = (
    ("Name", 16),
    ("Req", 3),
    ("Off", 3),
    ("Works with", 16),
    ("Roles", 17),
    ("Users", 5),
    ("Adm", 3),
)


class GroupsScreen(ConsoleScreen):
    """The groups list (``lhuser/grouplist``)."""

    CSS_PATH = "groups.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("n", "new", "New"),
        Binding("x", "delete", "Delete"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.groups: list[GroupInfo] = []
        self.capabilities: frozenset[str] = frozenset()

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with Vertical(id="groups"):
            yield Static("Groups", id="groups-title", classes="title")
            yield Input(
                placeholder="/ filter by name, works-with or role", id="filter", compact=True
            )
            yield OpenTable(id="groups-table", cursor_type="row", zebra_stripes=False)
            yield Static("", id="groups-status")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one(OpenTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        table.focus()

    def on_screen_resume(self) -> None:
        """Load on first show and again on coming back from the form."""
        self.action_refresh()

    # -- data ----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        session = self.session
        self.call_store(
            lambda: (session.groups.list(), session.permissions.capabilities()),
            lambda result: self._loaded(*result),
        )

    def _loaded(self, groups: list[GroupInfo], capabilities: frozenset[str]) -> None:
        self.groups = groups
        self.capabilities = capabilities
        self._fill()
        self.refresh_bindings()

    def _shown(self) -> list[GroupInfo]:
        text = self.query_one("#filter", Input).value.strip().lower()
        if not text:
            return self.groups
        return [
            g
            for g in self.groups
            if text in g.name.lower()
            or any(text in r.name.lower() for r in g.works_with)
            or any(text in r.name.lower() for r in g.roles)
        ]

    def _fill(self) -> None:
        table = self.query_one(OpenTable)
        keep = self._highlighted()
        table.clear()
        shown = self._shown()
        for g in shown:
            works = ", ".join(r.name for r in g.works_with)
            if g.members_withheld:
                works = f"(-1) {works}".strip()
            table.add_row(
                fit(g.name, 16),
                Text("yes" if g.required else ""),
                Text("off" if g.disabled else ""),
                fit(works, 16),
                fit(", ".join(r.name for r in g.roles), 17),
                Text(str(g.member_count)),
                Text("*/*" if g.grants_administration else ""),
                key=str(g.id),
            )
        if keep is not None and any(g.id == keep.id for g in shown):
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        total = len(self.groups)
        status = f"{len(shown)} of {total} groups" if len(shown) != total else f"{total} groups"
        self.query_one("#groups-status", Static).update(
            f"{status} · Req = required on the user form · Off = disabled · "
            "Adm = grants */* · (-1) = own members may not hand it out"
        )

    def _highlighted(self) -> GroupInfo | None:
        table = self.query_one(OpenTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # the cursor sits outside the rows while the table is rebuilt
            return None
        return next((g for g in self.groups if str(g.id) == key), None)

    # -- keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new":
            return "groups.create" in self.capabilities
        if action == "delete":
            return "groups.delete" in self.capabilities and self._highlighted() is not None
        return True

    @on(DataTable.RowHighlighted, "#groups-table")
    def _moved(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#groups-table")
    def _selected(self) -> None:
        group = self._highlighted()
        if group is not None:
            self._open(group.id)

    def _open(self, group_id: int | None) -> None:
        from screens.group_form import GroupFormScreen

        self.app.push_screen(GroupFormScreen(self.session, group_id))

    def action_new(self) -> None:
        self._open(None)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill()
        self.refresh_bindings()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(OpenTable).focus()

    def action_back(self) -> None:
        """From the filter: clear it, then leave it; elsewhere: back to the previous screen."""
        filter_input = self.query_one("#filter", Input)
        if filter_input.has_focus:
            if filter_input.value:
                filter_input.value = ""
            else:
                self.query_one(OpenTable).focus()
            return
        super().action_back()

    def action_delete(self) -> None:
        group = self._highlighted()
        if group is None:
            return
        members = f" {group.member_count} membership(s)," if group.member_count else ""
        question = (
            f"Delete group {group.name!r}?\nIts{members} role links and work-with rows "
            "are removed too. This cannot be undone."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_store(
                    lambda: self.session.groups.delete(group.id),
                    lambda _: self._deleted(group),
                    group="write",
                    exclusive=False,
                )

        self.app.push_screen(ConfirmScreen(plain(question), "Delete"), answered)

    def _deleted(self, group: GroupInfo) -> None:
        self.notify(f"Group {group.name!r} deleted", title="Deleted", markup=False)
        self.action_refresh()
