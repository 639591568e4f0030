"""Shown when the database cannot be opened: the reason, and how to point elsewhere."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from screens.errors import GuardedDispatch
from screens.text import literal, markup


class ProblemScreen(GuardedDispatch, Screen[None]):
    """A clear message instead of a traceback."""

    CSS_PATH = "problem.tcss"
    BINDINGS = [Binding("q", "app.quit", "Quit")]

    def __init__(self, message: str, database_url: str) -> None:
        super().__init__()
        self.message = message
        self.database_url = database_url

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="problem"):
            yield Static("Cannot open the database", classes="title")
            yield Static(literal(self.message, lines=True), id="problem-message")
            yield Static(
                markup(
                    "Database: $url\n\n"
                    "Point the console elsewhere with --db URL or LHC_CONSOLE_DB.",
                    url=self.database_url,
                ),
                classes="hint",
            )
        yield Footer()
