"""Helpers for driving the real console with Pilot (imported by the screen tests)."""

from __future__ import annotations

from textual.pilot import Pilot

SIZE = (80, 24)


async def settle(pilot: Pilot) -> None:
    """Let database workers finish and the screen repaint."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
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
