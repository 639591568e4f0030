"""The access explorer: whose chats a user can read and write in LHC, and why (SPEC §4).

LHC decides chat access from the user's department rows alone: direct assignments, rows
derived from department groups, "all departments". Read-only rows give reading without
writing. Other operators' chats and closed chats need their own ``lhchat`` functions, and
``lhdepartment/see_all`` does not limit chat reading at all: the note at the bottom says so,
because that limitation is often mistaken for chat separation.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static

from screens.base import ConsoleScreen
from screens.insight_detail import InsightDetailScreen
from screens.text import literal, safe
from screens.widgets import SafeTable, TextInput
from store import ChatAccess, Session


def _flag(value: bool) -> Text:
    return Text("yes", style="bold green") if value else Text("no", style="bold red")


def _hidden_note(access: ChatAccess) -> Text:
    """Says that the store left some of another user's assignments out, and why (SPEC §3)."""
    hidden = []
    if access.hidden_department_groups:
        hidden.append(("department groups", "see_user_assigned_departments_groups"))
    if access.hidden_departments:
        hidden.append(("departments", "see_user_assigned_departments"))
    note = Text("\nHidden: ", style="bold yellow")
    note.append(f"{access.username}'s " + " and ".join(what for what, _ in hidden))
    note.append(
        " outside those you may assign; seeing them needs "
        + " and ".join(f"lhuser/{function}" for _, function in hidden)
        + ". Departments reached only through them are not listed."
    )
    return note


class AccessScreen(ConsoleScreen):
    """Chat access of the actor, or of a visible user picked with ``u``."""

    CSS_PATH = "access.tcss"
    BINDINGS = [
        Binding("u", "pick_user", "Other user"),
        Binding("r", "refresh", "Refresh"),
    ]

    access: ChatAccess | None = None

    def __init__(self, session: Session, user_id: int | None = None) -> None:
        super().__init__(session)
        self.user_id = user_id

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static("Loading…", id="access-who")
        yield TextInput(
            placeholder="username (Enter shows, Esc cancels)", id="access-user", compact=True
        )
        yield SafeTable(id="access-table", cursor_type="row", zebra_stripes=False)
        with VerticalScroll(id="access-notes"):
            yield Static("", id="access-other")
            yield Static("", id="access-note")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one("#access-table", DataTable)
        table.add_column("Department", width=18, key="department")
        table.add_column("Read", width=4, key="read")
        table.add_column("Write", width=5, key="write")
        table.add_column("Why", width=39, key="why")
        self.query_one("#access-user", Input).display = False
        table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        session, user_id = self.session, self.user_id
        self.call_store(
            lambda: session.permissions.access(user_id),
            self._show,
            failed=self._load_failed,
        )

    def _load_failed(self, message: str) -> None:
        if self.access is None:
            self.query_one("#access-who", Static).update(literal(message, "bold red", lines=True))
        self.notify(message, title="Not shown", severity="error", timeout=8)

    def _show(self, access: ChatAccess) -> None:
        self.access = access
        self.user_id = access.user_id
        who = Text.assemble("Chat access of ", (access.username, "bold"))
        if access.disabled:
            who.append(" · account disabled: reads no chats", style="bold red")
        elif access.all_departments:
            who.append(" · reads every department")
        elif not access.departments:
            if access.partly_hidden:
                who.append(" · reads no department shown to you", style="bold")
            else:
                who.append(" · reads no department's chats", style="bold")
        else:
            who.append(f" · reads {len(access.read)}, writes {len(access.write)} departments")
            if access.partly_hidden:
                who.append(" shown to you")
        if access.partly_hidden:
            who.append_text(_hidden_note(access))
        self.query_one("#access-who", Static).update(safe(who))  # names are the users' text

        table = self.query_one("#access-table", DataTable)
        table.clear()
        for dep in access.departments:
            table.add_row(
                dep.name,
                _flag(True),
                _flag(dep.write),
                "; ".join(dep.sources),
                key=str(dep.department_id),
            )
        table.display = bool(access.departments)

        other = Text.assemble(("Other operators' chats in these departments", "bold"))
        for allowed, what, function in (
            (access.read_other_operators_chats, "read", "allowopenremotechat"),
            (access.write_other_operators_chats, "write", "writeremotechat"),
            (access.read_closed_chats, "read closed chats", "allowopenclosedchats"),
        ):
            other.append("\n  ")
            other.append_text(_flag(allowed))
            other.append(" " if allowed else "  ")  # align after "yes" / "no"
            other.append(f"{what:<18}")
            other.append(f"lhchat/{function}", style="dim")
        self.query_one("#access-other", Static).update(other)

        note = Text.assemble(("Note: ", "bold"))
        if access.department_see_all:
            limit = (
                json.dumps(access.see_all_limitation, separators=(",", ":"))
                if access.see_all_limitation
                else "without limitation"
            )
            note.append(f"lhdepartment/see_all {limit} is granted, but it ")
        else:
            note.append("lhdepartment/see_all (and its limitation) ")
        note.append(
            "does not limit chat reading; it only shapes department pickers and statistics."
        )
        self.query_one("#access-note", Static).update(note)

    @on(DataTable.RowSelected, "#access-table")
    def _department_chosen(self, event: DataTable.RowSelected) -> None:
        """The full list of sources (the Why column may be cut at 80 columns)."""
        if self.access is None or not 0 <= event.cursor_row < len(self.access.departments):
            return
        dep = self.access.departments[event.cursor_row]
        body = Text()
        body.append("Read: ")
        body.append_text(_flag(True))
        body.append("   Write: ")
        body.append_text(_flag(dep.write))
        body.append("\n\nGiven by:\n")
        for source in dep.sources:
            body.append(f"  • {source}\n")
        self.app.push_screen(InsightDetailScreen(f"{self.access.username} in {dep.name}", body))

    # -- another user --------------------------------------------------------------------

    def action_pick_user(self) -> None:
        field = self.query_one("#access-user", Input)
        field.display = True
        field.value = ""
        field.focus()

    @on(Input.Submitted, "#access-user")
    def _user_entered(self, event: Input.Submitted) -> None:
        username = event.value.strip()
        session = self.session

        def load() -> ChatAccess:
            if not username:
                return session.permissions.access(None)
            return session.permissions.access(session.users.find(username).id)

        self.call_store(load, self._picked)

    def _picked(self, access: ChatAccess) -> None:
        self._hide_user_field()
        self._show(access)

    def _hide_user_field(self) -> None:
        self.query_one("#access-user", Input).display = False
        self.query_one("#access-table", DataTable).focus()

    def action_back(self) -> None:
        focused = self.focused
        if isinstance(focused, Input) and focused.id == "access-user":
            self._hide_user_field()
        else:
            super().action_back()
