"""Effective permissions: what a user may do in LHC, by module, and which group and role give it.

One row per distinct ``module/function`` of the user's grant rows (wildcards as written), with
the merged limitation and the ``group / role`` pairs that carry it; exclusions follow their
module, marked. Enter asks the store who grants the function, listing every matching row,
including those of disabled groups (which give nothing). With ``lhpermission/
see_permissions_users`` ``u`` shows another visible user's permissions.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from screens.base import ConsoleScreen
from screens.insight_detail import InsightDetailScreen
from screens.text import literal, safe
from screens.widgets import SafeTable, TextInput
from store import Session
from store.insight import NamedEntry, PermissionReport
from store.limitations import Limitation
from store.permissions import WhoGrants


def limitation_text(limitation: Limitation | None) -> str:
    """``{"group":[2]}`` as LHC stores it, or '' when unrestricted."""
    if limitation is None:
        return ""
    return json.dumps(limitation, separators=(",", ":"), ensure_ascii=False)


def granted_by_text(entry: NamedEntry) -> str:
    return ", ".join(source.label() for source in entry.sources)


class PermissionsScreen(ConsoleScreen):
    """The actor's (or another visible user's) effective permissions."""

    CSS_PATH = "permissions.tcss"
    FILTER_ID = "perm-filter"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("u", "pick_user", "Other user"),
        Binding("r", "refresh", "Refresh"),
    ]

    capabilities: frozenset[str] = frozenset()
    report: PermissionReport | None = None

    def __init__(self, session: Session, user_id: int | None = None) -> None:
        super().__init__(session)
        self.user_id = user_id
        self.shown: list[NamedEntry] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static("Loading…", id="perm-who")
        yield TextInput(
            placeholder="username (Enter shows, Esc cancels)", id="perm-user", compact=True
        )
        yield TextInput(
            placeholder="/ filter: module, function, group or role", id="perm-filter", compact=True
        )
        yield SafeTable(id="perm-table", cursor_type="row", zebra_stripes=False)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one("#perm-table", DataTable)
        table.add_column("Module", width=12, key="module")
        table.add_column("Function", width=20, key="function")
        table.add_column("Limitation", width=13, key="limitation")
        table.add_column("Granted by", width=23, key="granted_by")
        self.query_one("#perm-user", Input).display = False
        table.focus()
        self.action_refresh()

    # -- loading -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        session, user_id = self.session, self.user_id
        self.call_store(
            lambda: (
                session.permissions.named_entries(user_id),
                session.permissions.capabilities(),
            ),
            lambda result: self._loaded(*result),
            failed=self._load_failed,
        )

    def _loaded(self, report: PermissionReport, capabilities: frozenset[str]) -> None:
        self.capabilities = capabilities
        self._show(report)
        self.refresh_bindings()

    def _load_failed(self, message: str) -> None:
        self.query_one("#perm-who", Static).update(literal(message, "bold red", lines=True))
        self.notify(message, title="Not shown", severity="error", timeout=8)

    def _show(self, report: PermissionReport) -> None:
        self.report = report
        self.user_id = report.user_id
        line = Text.assemble(
            "Permissions of ",
            (report.username, "bold"),
            f" · {len(report.entries)} granted · {len(report.exclusions)} excluded",
        )
        if report.is_administrator:
            line.append(" · administrator (*/*)", style="bold")
        line.append(" · Enter: who grants", style="dim")
        self.query_one("#perm-who", Static).update(safe(line))
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#perm-table", DataTable)
        table.clear()
        self.shown = []
        if self.report is None:
            return
        needle = self.query_one("#perm-filter", Input).value.strip().lower()
        everything = sorted(
            [*self.report.entries, *self.report.exclusions],
            key=lambda e: (e.module, e.excluded, e.function),
        )
        previous_module = None
        for entry in everything:
            if needle and needle not in _haystack(entry):
                continue
            module = entry.module if entry.module != previous_module else ""
            previous_module = entry.module
            if entry.excluded:
                limitation = Text("excluded", style="bold red")
            else:
                limitation = Text(limitation_text(entry.limitation) or "—", style="")
                if entry.limitation is None:
                    limitation.stylize("dim")
            cells = [Text(module, style="bold"), Text(entry.function), limitation]
            granted_by = granted_by_text(entry)
            cells.append(Text(granted_by) if isinstance(granted_by, str) else granted_by)
            for text in cells:  # a cut name ends in "…": it never passes for a real one
                text.no_wrap = True
                text.overflow = "ellipsis"
            table.add_row(*cells, key=f"{len(self.shown)}")
            self.shown.append(entry)

    @on(Input.Changed, "#perm-filter")
    def _filter_changed(self) -> None:
        self._fill()

    # -- who grants ----------------------------------------------------------------------

    @on(DataTable.RowSelected, "#perm-table")
    def _entry_chosen(self, event: DataTable.RowSelected) -> None:
        row = event.cursor_row
        if not 0 <= row < len(self.shown) or self.report is None:
            return
        entry = self.shown[row]
        session, user_id, username = self.session, self.report.user_id, self.report.username
        self.call_store(
            lambda: session.permissions.who_grants(user_id, entry.module, entry.function),
            lambda answer: self.app.push_screen(
                InsightDetailScreen(
                    f"Who grants {entry.module}/{entry.function} to {username}",
                    describe_who_grants(answer),
                )
            ),
        )

    # -- another user --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_user":
            return "permissions.others" in self.capabilities
        return True

    def action_pick_user(self) -> None:
        field = self.query_one("#perm-user", Input)
        field.display = True
        field.value = ""
        field.focus()

    @on(Input.Submitted, "#perm-user")
    def _user_entered(self, event: Input.Submitted) -> None:
        username = event.value.strip()
        session = self.session

        def load() -> PermissionReport:
            if not username:
                return session.permissions.named_entries(None)
            user = session.users.find(username)
            return session.permissions.named_entries(user.id)

        self.call_store(load, self._picked)

    def _picked(self, report: PermissionReport) -> None:
        self._hide_user_field()
        self._show(report)

    def _hide_user_field(self) -> None:
        self.query_one("#perm-user", Input).display = False
        self.query_one("#perm-table", DataTable).focus()

    def action_back(self) -> None:
        """Esc leaves the username or filter field first (clearing the filter), then the screen."""
        focused = self.focused
        if isinstance(focused, Input) and focused.id == "perm-user":
            self._hide_user_field()
        else:
            super().action_back()


def _haystack(entry: NamedEntry) -> str:
    return " ".join(
        [
            f"{entry.module}/{entry.function}",
            limitation_text(entry.limitation),
            "excluded" if entry.excluded else "",
            granted_by_text(entry),
        ]
    ).lower()


def describe_who_grants(answer: WhoGrants) -> Text:
    """Every matching row, counting or not, with its group, role, kind and limitation."""
    text = Text()
    if answer.granted:
        text.append("Granted", style="bold green")
        limit = limitation_text(answer.limitation)
        text.append(f" with limitation {limit}" if limit else " without limitation")
    else:
        text.append("Not granted", style="bold red")
    text.append("\n")
    if not answer.rows:
        text.append("\nNo policy row of the user's groups names this function.")
    for match in answer.rows:
        row = match.row
        mark, style = ("✓", "green") if match.effective else ("✗", "red")
        text.append("\n")
        text.append(f"{mark} ", style=style)
        text.append(f"{row.group_name} / {row.role_name}", style="bold")
        kind = "exclude" if row.is_exclusion else "grant"
        text.append(f"  {kind} {row.module}/{row.function}")
        if row.limitation_text:
            text.append(f" {row.limitation_text}")
        text.append(f"\n    {match.note}", style="dim" if match.effective else style)
    return text
