"""The audit log: newest first, one's own actions, or everything with ``lhaudit/*``.

The store decides which rows the actor may read and pages them by id; the screen asks for the
next page when the cursor reaches the last row. ``/`` filters by category, message or actor;
Enter shows a row's full before/after JSON (secrets are removed by the store).
"""

from __future__ import annotations

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from screens.base import ConsoleScreen
from screens.insight_detail import InsightDetailScreen
from screens.text import printable
from screens.widgets import SafeTable, TextInput
from store.audit_log import AuditPage, AuditRow

PAGE_SIZE = 50


def short_action(row: AuditRow) -> str:
    """``department_group.create`` under category ``department_group`` reads ``create``."""
    prefix = f"{row.category}."
    return row.action.removeprefix(prefix) if row.action.startswith(prefix) else row.action


class AuditScreen(ConsoleScreen):
    """``lh_audits`` rows the actor may read, keyset-paged."""

    CSS_PATH = "audit.tcss"
    FILTER_ID = "audit-filter"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("r", "refresh", "Refresh"),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static("Loading…", id="audit-scope")
        yield TextInput(
            placeholder="/ filter: category, message or actor", id="audit-filter", compact=True
        )
        yield SafeTable(id="audit-table", cursor_type="row", zebra_stripes=False)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.rows: list[AuditRow] = []
        self.next_before: int | None = None
        self.loading = False
        self.generation = 0  # results of an older filter are dropped
        table = self.query_one("#audit-table", DataTable)
        table.add_column("Time", width=16, key="time")
        table.add_column("Actor", width=13, key="actor")
        table.add_column("Category", width=16, key="category")
        table.add_column("Object", width=6, key="object")
        table.add_column("Action", width=15, key="action")
        table.focus()
        self.action_refresh()

    # -- loading -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Load the first (newest) page for the current filter."""
        self.generation += 1
        generation = self.generation
        text = self.query_one("#audit-filter", Input).value
        session = self.session
        self.loading = True
        self.call_store(
            lambda: session.audit.page(text=text, limit=PAGE_SIZE),
            lambda page: self._first_page(page, generation),
            failed=self._failed,
        )

    def _load_more(self) -> None:
        if self.loading or self.next_before is None:
            return
        generation = self.generation
        text = self.query_one("#audit-filter", Input).value
        before, session = self.next_before, self.session
        self.loading = True
        self.call_store(
            lambda: session.audit.page(text=text, before_id=before, limit=PAGE_SIZE),
            lambda page: self._next_page(page, generation),
            failed=self._failed,
            group="audit-more",
        )

    def _failed(self, message: str) -> None:
        self.loading = False
        self.notify(message, title="Not shown", severity="error", timeout=8)

    def _first_page(self, page: AuditPage, generation: int) -> None:
        if generation != self.generation:
            return
        self.rows = []
        self.query_one("#audit-table", DataTable).clear()
        scope = (
            "all actions (lhaudit/*)" if page.sees_all else "your own actions (all need lhaudit/*)"
        )
        self.query_one("#audit-scope", Static).update(
            Text.assemble(("Audit log", "bold"), f" · {scope} · newest first")
        )
        self._append(page)

    def _next_page(self, page: AuditPage, generation: int) -> None:
        if generation == self.generation:
            self._append(page)

    def _append(self, page: AuditPage) -> None:
        self.loading = False
        self.next_before = page.next_before
        table = self.query_one("#audit-table", DataTable)
        for row in page.rows:
            table.add_row(
                row.time.strftime("%Y-%m-%d %H:%M") if row.time else "",
                row.actor,
                row.category,
                str(row.object_id),
                short_action(row),
                key=str(row.id),
            )
        self.rows.extend(page.rows)
        if not self.rows:
            table.add_row("", Text("no entries", style="dim"), "", "", "", key="none")

    @on(DataTable.RowHighlighted, "#audit-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.rows) - 1:
            self._load_more()

    # -- filter and details --------------------------------------------------------------

    @on(Input.Changed, "#audit-filter")
    def _filter_changed(self) -> None:
        self.action_refresh()

    @on(DataTable.RowSelected, "#audit-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        if not 0 <= event.cursor_row < len(self.rows):
            return
        row = self.rows[event.cursor_row]
        when = row.time.strftime("%Y-%m-%d %H:%M:%S") if row.time else "unknown time"
        header = Text.assemble(
            (f"{row.category} #{row.object_id}", "bold"),
            f" · {row.action or 'no action'} · by {row.actor} · {when}\n",
            (f"severity {row.severity} · source {row.source}\n", "dim"),
        )
        body = Syntax(printable(row.message, lines=True), "json", theme="ansi_dark", word_wrap=True)
        self.app.push_screen(InsightDetailScreen(f"Audit entry {row.id}", Group(header, body)))
