"""A finer, stricter "is the console idle?" for Pilot: the same waits, a quarter of the sleeping.

Textual's Pilot waits after every key press (twice) and every ``pause()`` until the process looks
idle: it sleeps in steps of 20 ms until one step used under 1 ms of CPU. On this suite those
steps were ~85% of a screen test's wall time (2,029 waits, 88 s of test_screen_users.py's 102 s)
while the console itself had long finished. This swaps in the same loop with 5 ms steps (and a
0.25 ms CPU threshold, the same ratio) and adds two checks the original leaves to chance, so a
shorter step does not mean an earlier, wrong "idle": no message of the running app is still
queued, and its screen has no layout or repaint due. A process the machine's
scheduler merely paused for a step therefore does not pass for idle while work is queued. Worker
threads count as before, through the process's CPU time (a worker blocked on purpose, as some
tests do, must not hold the harness).

Nothing a test asserts changes: only how long the harness sleeps before it looks. Installed from
``conftest.py`` for every test (``snap_compare`` drives its app through the same Pilot).
"""

from __future__ import annotations

from asyncio import sleep
from time import monotonic, process_time

from textual import _wait, app, pilot
from textual._context import active_app

STEP = 1 / 200
"""Seconds per idle check (Textual: 1/50)."""

IDLE_CPU = STEP / 20
"""CPU seconds a step may use and still count as idle (Textual's ratio)."""


def _app_is_quiet() -> bool:
    """True when the running app (if any) has no message queued and no repaint due.

    The screen's flags are what its 1/60 s update timer waits on: Textual's 20 ms step always
    outlasted that timer, a 5 ms step need not.
    """
    try:
        running = active_app.get()
    except LookupError:
        return True
    for node in (running, *list(running._registry)):
        if not node._message_queue.empty():
            return False
    try:
        screen = running.screen
    except Exception:  # no screen yet, or the app is shutting down
        return True
    return not (
        screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or screen._recompose_required
        or screen._dirty_widgets
    )


async def wait_for_idle(min_sleep: float = _wait.SLEEP_GRANULARITY, max_sleep: float = 1) -> None:
    """Textual's ``wait_for_idle`` with 5 ms steps, idle only when the app is quiet too."""
    start = monotonic()
    while True:
        cpu = process_time()
        await sleep(STEP)
        cpu_elapsed = process_time() - cpu
        elapsed = monotonic() - start
        if elapsed >= max_sleep:
            break
        if elapsed > min_sleep and cpu_elapsed < IDLE_CPU and _app_is_quiet():
            break


def install() -> None:
    """Make Pilot (``pilot.press``/``pause``) and ``App._press_keys`` use ``wait_for_idle``."""
    pilot.wait_for_idle = wait_for_idle
    app.wait_for_idle = wait_for_idle
