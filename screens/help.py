"""``?``: the keys of the screen you are on, then the keys that work everywhere."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from screens.errors import GuardedDispatch
from screens.text import literal, markup

GLOBAL_KEYS = """\
[b]Everywhere[/b]
  ?         this help
  Esc       back / close
  Ctrl+P    command palette: screens and actions by name
  Ctrl+Q    quit
  Tab       next field       Shift+Tab  previous field

The footer shows the keys the current screen offers. Actions you may not take are \
not offered; the store refuses them anyway."""


class HelpScreen(GuardedDispatch, ModalScreen[None]):
    """A modal listing ``(key, what it does)`` of the screen below, and the global keys.

    The title and the keys' descriptions are shown as text (never markup), whatever they hold.
    """

    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def __init__(self, title: str = "", keys: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            if self.keys:
                lines = [markup("[b]$title[/b]", title=self.title_text or "This screen")]
                lines += [literal(f"  {key:<9} {what}") for key, what in self.keys]
                yield Static(Content("\n").join(lines), id="help-screen-keys")
            yield Static(GLOBAL_KEYS)
