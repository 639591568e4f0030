"""A yes/no question before anything destructive; Cancel is focused, Esc cancels.

The question is plain text: it quotes names (``Delete user 'Zed [/] op'?``), so it is never
read as markup and its control characters show as escapes. Lines break at ``\\n``.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.types import CSSPathType
from textual.widgets import Button, Static

from screens.errors import GuardedDispatch
from screens.text import literal


class ConfirmScreen(GuardedDispatch, ModalScreen[bool]):
    """Dismisses with True only when the person picks the named action."""

    # Textual's own type: a subclass adds its sheets as a list (screens.impact).
    CSS_PATH: ClassVar[CSSPathType | None] = "confirm.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, action_label: str) -> None:
        super().__init__()
        self.question = question
        self.action_label = action_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(literal(self.question, lines=True), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(literal(self.action_label), id="confirm-action", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm-action")
    def _confirm(self) -> None:
        self.dismiss(True)
