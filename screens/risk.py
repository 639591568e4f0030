"""Risk report: settings that do not do what they seem, or that LHC's back office lets slip.

One row per finding (severity, rule, objects), most urgent first; the pane below explains the
highlighted one (why it matters, how to fix it) and Enter shows it whole. ``/`` filters on
everything shown. The store computes the report (``session.risk``) and refuses actors without
``lhpermission/list``; this screen only lays it out.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static

from screens.base import ConsoleScreen
from screens.insight_detail import InsightDetailScreen
from screens.text import cell, literal, safe
from screens.widgets import OpenTable, TextInput
from store import Session
from store.risk import Finding, RiskReport

SEVERITY_STYLE = {"high": "bold red", "medium": "bold yellow", "low": "cyan", "info": "dim"}
"""Readable in 16-colour terminals: the word is always there, the colour only helps."""

COLUMNS = (("Severity", 8), ("Rule", 28), ("Objects", 34))


def objects_text(finding: Finding) -> str:
    """``US Managers, Managers, role Managers``: groups by name, other objects by kind and name."""
    return ", ".join(
        o.name if o.type == "group" else f"{o.type.replace('_', '-')} {o.name}"
        for o in finding.objects
    )


def describe(finding: Finding) -> Text:
    """The whole finding: objects with ids, why it matters, how to fix it."""
    text = Text()
    text.append(finding.severity.upper(), style=SEVERITY_STYLE.get(finding.severity, ""))
    text.append(f"  {finding.rule}\n\n")
    text.append("Objects\n", style="bold")
    for obj in finding.objects:
        text.append(f"  {obj.type} #{obj.id} {obj.name}\n")
    text.append("\nWhy it matters\n", style="bold")
    text.append(finding.message + "\n")
    text.append("\nHow to fix it\n", style="bold")
    text.append(finding.fix)
    return text


class RiskScreen(ConsoleScreen):
    """The risk report (``lhpermission/list``)."""

    CSS_PATH = "risk.tcss"
    FILTER_ID = "risk-filter"
    PALETTE_AREA = "risk"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.report: RiskReport | None = None
        self.shown: list[Finding] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static("Checking the configuration…", id="risk-summary")
        yield TextInput(
            placeholder="/ filter: severity, rule, object or text", id="risk-filter", compact=True
        )
        yield OpenTable(id="risk-table", cursor_type="row", zebra_stripes=False)
        with VerticalScroll(id="risk-pane"):
            yield Static("", id="risk-detail")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one("#risk-table", OpenTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.query_one("#risk-pane").can_focus = False
        table.focus()
        self.action_refresh()

    # -- loading -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        session = self.session
        self.query_one("#risk-summary", Static).update("Checking the configuration…")
        self.call_store(session.risk.report, self._loaded, failed=self._failed)

    def _loaded(self, report: RiskReport) -> None:
        self.report = report
        self._fill()

    def _failed(self, message: str) -> None:
        self.query_one("#risk-summary", Static).update(literal(message, "bold red", lines=True))
        self.notify(message, title="Not shown", severity="error", timeout=8)

    def _fill(self) -> None:
        table = self.query_one("#risk-table", OpenTable)
        table.clear()
        self.shown = []
        if self.report is None:
            return
        needle = self.query_one("#risk-filter", Input).value.strip().lower()
        for finding in self.report.findings:
            if needle and needle not in _haystack(finding):
                continue
            table.add_row(
                Text(finding.severity, style=SEVERITY_STYLE.get(finding.severity, "")),
                cell(finding.title, COLUMNS[1][1]),
                cell(objects_text(finding), COLUMNS[2][1]),
                key=str(len(self.shown)),
            )
            self.shown.append(finding)
        self._summarise(needle)
        self._show_detail(0 if self.shown else None)

    def _summarise(self, needle: str) -> None:
        assert self.report is not None
        total = len(self.report.findings)
        if not total:
            self.query_one("#risk-summary", Static).update(
                Text("No risks found in this configuration.", style="bold green")
            )
            return
        line = Text()
        line.append(f"{total} findings: ")
        parts = [(s, n) for s, n in self.report.counts().items() if n]
        for i, (severity, count) in enumerate(parts):
            if i:
                line.append(", ")
            line.append(f"{count} {severity}", style=SEVERITY_STYLE.get(severity, ""))
        if needle:
            line.append(f" · {len(self.shown)} match", style="dim")
        line.append(" · Enter: whole finding", style="dim")
        self.query_one("#risk-summary", Static).update(line)

    # -- the detail pane -----------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#risk-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    def _show_detail(self, row: int | None) -> None:
        detail = self.query_one("#risk-detail", Static)
        if row is None or not 0 <= row < len(self.shown):
            detail.update("")
            return
        finding = self.shown[row]
        text = Text()
        text.append("Why: ", style="bold")
        text.append(finding.message)
        text.append("\nFix: ", style="bold")
        text.append(finding.fix)
        detail.update(safe(text))
        self.query_one("#risk-pane", VerticalScroll).scroll_home(animate=False)

    @on(DataTable.RowSelected, "#risk-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        row = event.cursor_row
        if 0 <= row < len(self.shown):
            finding = self.shown[row]
            self.app.push_screen(InsightDetailScreen(finding.title, describe(finding)))

    # -- filter --------------------------------------------------------------------------

    @on(Input.Changed, "#risk-filter")
    def _filter_changed(self) -> None:
        self._fill()


def _haystack(finding: Finding) -> str:
    return " ".join(
        [
            finding.severity,
            finding.rule,
            finding.title,
            objects_text(finding),
            finding.message,
            finding.fix,
        ]
    ).lower()
