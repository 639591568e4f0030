"""``?``: the keys that work everywhere, and where to find the rest."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

HELP_TEXT = """\
[b]Keys[/b]
  ?         this help
  Esc       back / close
  Ctrl+P    command palette
  Ctrl+Q    quit
  Tab       next field       Shift+Tab  previous field

[b]Logged in[/b]
  l         log out

The footer always shows the keys the current screen offers.
Actions you may not take are not offered; the store refuses them anyway."""


class HelpScreen(ModalScreen[None]):
    """A small modal with the global keys."""

    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(HELP_TEXT)
