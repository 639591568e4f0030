"""The base of every screen after login: header, footer, Esc back, store calls off the UI thread.

``call_store`` is the one way screens reach the database: the call runs in a thread worker,
its result comes back on the UI thread, and a ``StoreError`` becomes a readable notification
(never a traceback). Any other error is a bug: it is logged with its traceback and the person
sees a short message with its log reference (``screens.errors``), never the error's text, which
may hold paths or data. Screens hold no SQL and no permission logic; they ask the session.

Every screen is a ``GuardedDispatch``: an error in one of its handlers is reported and the
screen keeps handling keys (Textual would stop it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input

from screens.errors import GuardedDispatch, record, short_message
from store import Session, StoreError

T = TypeVar("T")


class ConsoleScreen(GuardedDispatch, Screen[Any]):
    """A screen of a logged-in actor.

    A screen with a filter field names it in ``FILTER_ID``; then ``/`` focuses it, and Enter
    (keep the filter) or Esc (clear it) returns to the table in one press, the same on every
    screen. ``move_focus_now`` makes those moves as the keys arrive, so that keys typed in one
    burst after them (``/oper``, or Enter then ``s``) reach the field or the table they were
    typed for.
    """

    BINDINGS = [Binding("escape", "back", "Back")]
    FILTER_ID: ClassVar[str] = ""
    """The id of the screen's filter field, or "" for a screen without one."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    @on(events.Mount)
    def _clear_earlier_notifications(self) -> None:
        """A screen opened on top starts clean: a notification of the screen below (say
        "Disabled user …") would sit over the new screen's fields for seconds."""
        self.app.clear_notifications()

    def compose_frame(self) -> ComposeResult:
        """Header first; subclasses yield their body, then ``Footer`` via ``compose_footer``."""
        yield Header()

    def compose_footer(self) -> ComposeResult:
        yield Footer()

    def action_back(self) -> None:
        """From the filter: clear it and go back to the table; elsewhere: the previous screen."""
        if self._leave_filter(clear=True):
            return
        if len(self.app.screen_stack) > 2:  # the default screen plus home stay below
            self.app.pop_screen()

    # -- the filter field ----------------------------------------------------------------

    def filter_field(self) -> Input | None:
        """The screen's filter field (``FILTER_ID``), if it has one."""
        if not self.FILTER_ID:
            return None
        found = self.query(f"#{self.FILTER_ID}")
        field = found.first() if found else None
        return field if isinstance(field, Input) else None

    def filter_exit(self) -> Widget | None:
        """Where Enter and Esc in the filter go: the screen's table unless a screen says else."""
        tables = self.query(DataTable)
        return tables.first() if tables else None

    def action_filter(self) -> None:
        field = self.filter_field()
        if field is not None:
            self.set_focus(field)  # now, not on the next turn of the loop (``move_focus_now``)

    def _leave_filter(self, *, clear: bool) -> bool:
        """Leave the focused filter for the table (emptying it first if ``clear``); True if done.

        One press: Esc empties the filter and the keys are the table's again, so a following
        ``s`` sorts instead of being typed into the filter.
        """
        field = self.filter_field()
        if field is None or self.focused is not field:
            return False
        if clear:
            # In the field's own queue, after the keys typed before Esc that it has not yet
            # handled: set now, a burst's last characters would land in the emptied field.
            field.call_later(field.clear)
        self.set_focus(self.filter_exit())
        return True

    @on(Input.Submitted)
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self.FILTER_ID and event.input.id == self.FILTER_ID:
            self._leave_filter(clear=False)

    def move_focus_now(self, key: str) -> bool:
        """``/``, and Enter or Esc in the filter, move focus at once; True if the key is used.

        Called by the app for each key as it arrives, before the key is handed to a widget.
        Textual moves focus on the next turn of its loop but hands the keys queued behind to the
        widget focused now: ``/oper`` sent at once put ``oper`` into the table (``p`` opened the
        password dialog), and Enter then ``s`` typed the ``s`` into the filter.
        """
        field = self.filter_field()
        if field is None:
            return False
        focused = self.focused
        if focused is field:
            if key == "enter":
                return self._leave_filter(clear=False)
            if key == "escape":
                return self._leave_filter(clear=True)
            return False
        if key == "slash" and not isinstance(focused, Input):
            active = self.active_bindings.get(key)
            if active is not None and active.enabled and active.binding.action == "filter":
                self.action_filter()
                return True
        return False

    def call_store(
        self,
        call: Callable[[], T],
        done: Callable[[T], object],
        *,
        failed: Callable[[str], None] | None = None,
        group: str = "store",
        exclusive: bool = True,
    ) -> None:
        """Run ``call`` in a thread; hand its result to ``done`` (or the error to ``failed``)."""

        def work() -> None:
            try:
                result = call()
            except StoreError as error:
                self.app.call_from_thread(self._store_failed, str(error), failed)
                return
            except Exception as error:  # a bug: logged; the person sees its kind and reference
                message = short_message(error, record(error, "store call"))
                self.app.call_from_thread(self._store_failed, message, failed)
                return
            self.app.call_from_thread(done, result)

        self.run_worker(work, thread=True, group=group, exclusive=exclusive)

    def _store_failed(self, message: str, failed: Callable[[str], None] | None) -> None:
        if failed is not None:
            failed(message)
        else:
            self.notify(message, title="Not done", severity="error", timeout=8)
