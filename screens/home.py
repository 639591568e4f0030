"""Home: who is logged in, their groups and their scope in one line."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from store import Session, StoreError
from store.views import ScopeSummary


class HomeScreen(Screen[None]):
    """The landing screen after login."""

    CSS_PATH = "home.tcss"
    BINDINGS = [
        Binding("l", "log_out", "Log out"),
        Binding("r", "refresh", "Refresh"),
        Binding("i", "import", "Import"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.may_import = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the actor may do: the footer never shows a key that would be refused."""
        if action == "import":
            return self.may_import
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Static("Loading…", id="who", classes="title")
            yield Static("", id="groups")
            yield Static("", id="scope")
            yield Static("", id="powers")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_import(self) -> None:
        from screens.sample_import import SampleImportScreen

        self.app.push_screen(SampleImportScreen(self.app.db, self.session))  # type: ignore[attr-defined]

    def action_log_out(self) -> None:
        self.app.log_out()  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="home")
    def load(self) -> None:
        try:
            summary = self.session.permissions.summary()
            may_import = self.session.permissions.may_import()
        except StoreError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        self.app.call_from_thread(self._show, summary, may_import)

    def _show(self, summary: ScopeSummary, may_import: bool) -> None:
        self.may_import = may_import
        self.refresh_bindings()
        self.query_one("#who", Static).update(f"Logged in as [b]{summary.username}[/b]")
        groups = ", ".join(g.name for g in summary.own_groups) or "no groups"
        self.query_one("#groups", Static).update(f"Your groups: {groups}")
        self.query_one("#scope", Static).update(f"Scope: {summary.one_line()}")
        powers = []
        if summary.is_administrator:
            powers.append("administrator (*/*)")
        if summary.sees_all_users:
            powers.append("sees every user")
        if summary.edits_all_groups:
            powers.append("assigns any group")
        self.query_one("#powers", Static).update(("Also: " + ", ".join(powers)) if powers else "")
