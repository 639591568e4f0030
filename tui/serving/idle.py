"""The idle timeout both servers apply to a console: closed after so long without a keystroke."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class IdleTimer:
    """Calls ``on_idle`` once ``timeout`` seconds pass without a ``touch`` (0: never).

    One timer at a time: a keystroke only notes the time, and the timer, when it fires early
    because of it, re-arms itself for the remainder. So a fast typist costs no timer churn.
    """

    def __init__(self, timeout: float, on_idle: Callable[[], None]) -> None:
        self.timeout = timeout
        self._on_idle = on_idle
        self._last = time.monotonic()
        self._handle: asyncio.TimerHandle | None = None

    def touch(self) -> None:
        """A keystroke or a resize: the console is in use."""
        self._last = time.monotonic()
        if self.timeout > 0 and self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self.timeout, self._check)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        self._handle = None
        idle = time.monotonic() - self._last
        if idle < self.timeout:
            self._handle = asyncio.get_running_loop().call_later(self.timeout - idle, self._check)
            return
        self._on_idle()
