"""``i`` on the access review: after how many days without a login a user is flagged idle.

A small prompt: one number, Enter applies, Esc cancels. The bound is the store's
(``store.review.MAX_IDLE_DAYS``, the same as ``lhc-console review --idle-days``), and the
store checks again. A bad entry is said in the prompt, which stays open with the entry
selected, so the next keystrokes replace it; nothing changes until a good number is applied.
"""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from screens.errors import GuardedDispatch
from screens.text import clip, literal, markup
from screens.widgets import TextInput
from store.errors import ValidationError
from store.review import MAX_IDLE_DAYS, idle_days_checked

SHOWN = 24  # characters of a bad entry quoted back
WHOLE_NUMBER = re.compile(r"[+-]?([0-9]+)")
"""One optional sign, then the digits 0-9 only (``int`` would take ``1_000``, Arabic-Indic or
fullwidth digits; two signs, ``-+5``, would pass a check of the digits and fail in ``int``)."""


def parse_idle_days(text: str) -> int:
    """The number of days typed in ``text``; ``ValidationError`` says what is wrong with it."""
    entry = text.strip()
    if not entry:
        raise ValidationError(f"Type a number of days, from 1 to {MAX_IDLE_DAYS}")
    number = WHOLE_NUMBER.fullmatch(entry)
    if number is None:
        raise ValidationError(f"Idle days must be a whole number, not {clip(entry, SHOWN)!r}")
    digits = number.group(1)
    if len(digits) > len(str(MAX_IDLE_DAYS)):  # never converts a pasted wall of digits
        raise ValidationError(
            f"Idle days must be from 1 to {MAX_IDLE_DAYS}, not {clip(entry, SHOWN)}"
        )
    return idle_days_checked(int(entry))


class IdleDaysScreen(GuardedDispatch, ModalScreen[int | None]):
    """Dismisses with the number of days applied, or None when cancelled."""

    CSS_PATH = "idle_days.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, days: int) -> None:
        super().__init__()
        self.days = days

    def compose(self) -> ComposeResult:
        with Vertical(id="idle-days-box"):
            yield Static(
                literal("Flag users as idle after how many days without a login?"),
                id="idle-days-question",
            )
            yield TextInput(str(self.days), id="idle-days-input", compact=True)
            yield Static(
                markup(
                    "[dim]1 to $most days · now $days · Enter applies · Esc cancels[/dim]",
                    most=MAX_IDLE_DAYS,
                    days=self.days,
                ),
                id="idle-days-hint",
            )
            yield Static("", id="idle-days-error")

    def on_mount(self) -> None:
        self.query_one("#idle-days-input", Input).focus()  # selected: typing replaces it

    @on(Input.Submitted, "#idle-days-input")
    def _apply(self, event: Input.Submitted) -> None:
        try:
            days = parse_idle_days(event.value)
        except ValidationError as error:
            self.query_one("#idle-days-error", Static).update(
                markup("[b red]Not changed:[/] $message", message=str(error))
            )
            event.input.select_all()
            return
        self.dismiss(days)

    def action_cancel(self) -> None:
        self.dismiss(None)
