"""A fresh database: offer the documented sample configuration, one keystroke away."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from screens.errors import GuardedDispatch
from screens.text import markup
from seed.report import Authority
from seed.sample import load_sample
from store import StoreError
from store.database import Database

INTRO = """\
This database holds no users yet.

Press [b]s[/b] to load the sample configuration: Live Helper Chat's documented
three-level setup (operators, team leaders, managers, admins) with
2 departments, 10 groups, 7 roles and 5 users. Press [b]d[/b] to import an LHC
database dump (mysqldump or Adminer) instead.

Sample logins (sample passwords only, never on a real help desk):
  admin / admin            Teamleader US / demo     Manager US / demo
  Operator US / demo       Operator AU / demo"""


class EmptyDatabaseScreen(GuardedDispatch, Screen[None]):
    """First run on an empty database."""

    CSS_PATH = "empty.tcss"
    PALETTE_AREA = "First run"  # the title of its help, instead of the class name
    BINDINGS = [
        Binding("s", "load_sample", "Load sample"),
        Binding("d", "import_dump", "Import a dump"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="empty"):
            yield Static("Welcome to lhc-console", classes="title")
            yield Static(INTRO)
            yield Static("", id="empty-status")
        yield Footer()

    def action_load_sample(self) -> None:
        self.query_one("#empty-status", Static).update("Loading the sample…")
        self.load()

    def action_import_dump(self) -> None:
        from screens.sample_import import SampleImportScreen

        self.app.switch_screen(SampleImportScreen(self.db, None, first_run=True, dump=True))

    @work(thread=True, exclusive=True, group="sample")
    def load(self) -> None:
        try:
            # First run: only into a database that is still empty (checked in the load's
            # transaction), never a replace; someone may have loaded one meanwhile.
            report = load_sample(self.db, by=Authority.FIRST_RUN)
        except StoreError as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._loaded, report.counts)

    def _failed(self, message: str) -> None:
        self.query_one("#empty-status", Static).update(
            markup("[b red]Not loaded:[/] $message", message=message)
        )
        self.notify(message, title="Sample not loaded", severity="error")

    def _loaded(self, counts: dict[str, int]) -> None:
        self.notify(
            f"{counts['lh_users']} users, {counts['lh_group']} groups, "
            f"{counts['lh_role']} roles, {counts['lh_departament']} departments",
            title="Sample loaded",
        )
        self.app.show_login()  # type: ignore[attr-defined]
