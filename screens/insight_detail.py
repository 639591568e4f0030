"""A read-only detail modal: who grants a function, or one audit row's before/after JSON.

Opened with Enter from the permissions, access and audit screens; Esc (or Enter) closes it.
It shows what the opening screen already fetched through the store and fetches nothing itself.
"""

from __future__ import annotations

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class InsightDetailScreen(ModalScreen[None]):
    """A titled, scrollable text panel over the current screen."""

    CSS_PATH = "insight_detail.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(self.title_text, id="detail-title", markup=False)
            with VerticalScroll(id="detail-scroll"):
                yield Static(self.body, id="detail-body")
            yield Static("[dim]Esc close · ↑↓ scroll[/dim]", id="detail-keys")

    def on_mount(self) -> None:
        self.query_one("#detail-scroll", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
