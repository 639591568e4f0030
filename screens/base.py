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
from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from screens.errors import GuardedDispatch, record, short_message
from store import Session, StoreError

T = TypeVar("T")


class ConsoleScreen(GuardedDispatch, Screen[Any]):
    """A screen of a logged-in actor."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose_frame(self) -> ComposeResult:
        """Header first; subclasses yield their body, then ``Footer`` via ``compose_footer``."""
        yield Header()

    def compose_footer(self) -> ComposeResult:
        yield Footer()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:  # the default screen plus home stay below
            self.app.pop_screen()

    def call_store(
        self,
        call: Callable[[], T],
        done: Callable[[T], None],
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
