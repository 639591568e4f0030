"""Set a user's password: typed twice; the store checks both (and the account) on save.

The modal holds no store call: it hands both inputs to the screen that opened it, which runs
the call in a worker and then dismisses the modal or shows the store's message in it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from screens.errors import GuardedDispatch
from screens.text import markup


class PasswordScreen(GuardedDispatch, ModalScreen[bool]):
    """Two password inputs; Enter or Ctrl+S submits, Esc cancels."""

    CSS_PATH = "password.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Set password"),
    ]

    def __init__(self, username: str, submit: Callable[[str, str], None]) -> None:
        super().__init__()
        self.username = username
        self._submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(id="password-box"):
            yield Static(
                markup("New password for [b]$name[/b]", name=self.username), id="password-title"
            )
            yield Input(placeholder="new password", password=True, id="password-1", compact=True)
            yield Input(placeholder="the same again", password=True, id="password-2", compact=True)
            yield Static("", id="password-error")
            with Horizontal(id="password-buttons"):
                yield Button("Cancel", id="password-cancel")
                yield Button("Set password", id="password-save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#password-1", Input).focus()

    @on(Input.Submitted, "#password-1")
    def _first_done(self) -> None:
        self.query_one("#password-2", Input).focus()

    @on(Input.Submitted, "#password-2")
    @on(Button.Pressed, "#password-save")
    def action_save(self) -> None:
        self.query_one("#password-error", Static).update("Saving…")
        self._submit(
            self.query_one("#password-1", Input).value,
            self.query_one("#password-2", Input).value,
        )

    def show_error(self, message: str) -> None:
        """The store refused: say why and let the person type again."""
        self.query_one("#password-error", Static).update(
            markup("[b red]Not changed:[/] $message", message=message)
        )
        second = self.query_one("#password-2", Input)
        second.value = ""
        second.focus()

    @on(Button.Pressed, "#password-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
