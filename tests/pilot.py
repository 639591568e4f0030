"""Helpers for driving the real console with Pilot (imported by the screen tests)."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled

SIZE = (80, 24)


async def settle(pilot: Pilot) -> None:
    """Let database workers finish and the screen repaint.

    A worker whose screen was dismissed meanwhile is cancelled, which is how a screen that
    closes on its own write's answer ends (the write is done by then): ``wait`` raises
    ``WorkerCancelled`` for it, and settling goes on.
    """
    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await pilot.pause()


async def log_in(pilot: Pilot, username: str, password: str) -> None:
    """Type the credentials into the login screen and wait for the home screen."""
    await settle(pilot)
    pilot.app.screen.query_one("#username").focus()
    await pilot.press(*username)
    await pilot.press("enter")
    await pilot.press(*password)
    await pilot.press("enter")
    await settle(pilot)


def steady_cursor() -> None:
    """Keep a focused Input's cursor shown instead of blinking every 0.5 s (installed by conftest).

    A snapshot of a focused field otherwise depends on how long the steps before it took: past
    0.5 s (a loaded machine, or tests running side by side) the cursor is in its hidden phase and
    the SVG differs from the stored one by that one cell. Focus still shows the cursor and blur
    still hides it, as in the console; only the toggling stops. No test is about the blink.
    """

    def _toggle_cursor(self: Input) -> None:
        self._cursor_visible = True

    Input._toggle_cursor = _toggle_cursor  # type: ignore[method-assign]
