"""Per-source throttling (issue 16, point 5): the bookkeeping both servers use.

The servers' own tests drive it through real SSH and web clients; these pin the rules with a
controlled clock: the free failures, the growing delay, the ban and its end, the window, the
bound on memory, and one state shared by several processes through its file.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from store.source_throttle import SourceThrottle, ThrottleSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


SETTINGS = ThrottleSettings(max_failures=5, window=60, ban=300, free_failures=2, delay_step=1)


def test_failures_first_slow_then_ban_one_address_and_leave_the_others_alone() -> None:
    clock = Clock()
    throttle = SourceThrottle(SETTINGS, clock=clock)
    delays = []
    for _ in range(4):
        delays.append(throttle.delay("10.0.0.9"))
        throttle.failed("10.0.0.9")
    assert delays == [0.0, 0.0, 0.0, 1.0]  # two free, then one step more per failure
    assert throttle.delay("10.0.0.9") == 2.0
    throttle.failed("10.0.0.9")  # the fifth within the window
    assert throttle.delay("10.0.0.9") is None
    assert throttle.delay("10.0.0.10") == 0.0  # another address is not touched
    clock.now += 299
    assert throttle.delay("10.0.0.9") is None
    clock.now += 2
    assert throttle.delay("10.0.0.9") == 0.0  # the ban is over and the count starts afresh


def test_failures_older_than_the_window_no_longer_count() -> None:
    clock = Clock()
    throttle = SourceThrottle(SETTINGS, clock=clock)
    for _ in range(4):
        throttle.failed("a")
    clock.now += 61
    throttle.failed("a")
    assert throttle.delay("a") == 0.0


def test_memory_is_bounded_by_the_number_of_sources() -> None:
    throttle = SourceThrottle(ThrottleSettings(max_sources=100), clock=Clock())
    for n in range(1_000):
        throttle.failed(f"10.1.{n // 256}.{n % 256}")
    assert len(throttle._memory) == 100
    assert "10.1.3.231" in throttle._memory  # the latest are kept, the oldest forgotten


def _fail_from_another_process(path: str, times: int) -> None:
    throttle = SourceThrottle(SETTINGS, state_file=Path(path))
    for _ in range(times):
        throttle.failed("192.0.2.7")


def test_web_consoles_share_one_state_through_the_file(tmp_path: Path) -> None:
    state = tmp_path / "throttle.json"
    workers = [
        multiprocessing.get_context("spawn").Process(
            target=_fail_from_another_process, args=(str(state), 1)
        )
        for _ in range(5)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert SourceThrottle(SETTINGS, state_file=state).delay("192.0.2.7") is None
    assert state.stat().st_mode & 0o777 == 0o600
