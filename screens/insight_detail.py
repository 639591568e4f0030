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

from screens.errors import GuardedDispatch
from screens.text import literal, safe


class InsightDetailScreen(GuardedDispatch, ModalScreen[None]):
    """A titled, scrollable text panel over the current screen.

    The title is plain text; a str body is plain text too, and a ``Text``, ``Content`` or
    ``Group`` of them keeps its styles with its characters made printable (``screens.text.
    safe``). Other renderables must be built from printable text by the caller.
    """

    CSS_PATH = "insight_detail.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__()
        self.title_text = title
        self.body = safe(body)

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(literal(self.title_text), id="detail-title")
            with VerticalScroll(id="detail-scroll"):
                yield Static(self.body, id="detail-body")
            yield Static("[dim]Esc close · ↑↓ scroll[/dim]", id="detail-keys")

    def on_mount(self) -> None:
        self.query_one("#detail-scroll", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
