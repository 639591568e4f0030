"""Per-source throttling (issue 16, point 5): the bookkeeping both servers use.

The servers' own tests drive it through real SSH and web clients; these pin the rules with a
controlled clock: the free attempts, the growing delay, the ban and its end, the window, the
count of attempts still in flight (a burst cannot outrun it), IPv6 per /64, the loopback
exemption, the bound on memory, and one state shared by several processes through its file.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from store.source_throttle import SourceThrottle, ThrottleSettings, source_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


SETTINGS = ThrottleSettings(
    max_failures=5, window=60, ban=300, free_failures=2, delay_step=1, exempt=()
)


def test_failures_first_slow_then_ban_one_address_and_leave_the_others_alone() -> None:
    clock = Clock()
    throttle = SourceThrottle(SETTINGS, clock=clock)
    delays = [throttle.begin("10.0.0.9") for _ in range(5)]  # five wrong passwords
    assert delays == [0.0, 0.0, 1.0, 2.0, 3.0]  # two free, then one step more each
    assert throttle.begin("10.0.0.9") is None  # the sixth is refused unchecked
    assert throttle.begin("10.0.0.10") == 0.0  # another address is not touched
    clock.now += 299
    assert throttle.begin("10.0.0.9") is None
    clock.now += 2
    assert throttle.begin("10.0.0.9") == 0.0  # the ban is over and the count starts afresh


def test_a_burst_in_flight_counts_before_any_password_is_checked() -> None:
    """Red team: 200 parallel connections all passed a check made before any had failed."""
    throttle = SourceThrottle(SETTINGS, clock=Clock())
    admitted = [throttle.begin("203.0.113.5") for _ in range(200)]
    assert sum(wait is not None for wait in admitted) == 5


def test_a_success_is_not_a_failure() -> None:
    throttle = SourceThrottle(SETTINGS, clock=Clock())
    for _ in range(20):
        assert throttle.begin("10.0.0.1") == 0.0
        throttle.succeeded("10.0.0.1")


def test_failures_older_than_the_window_no_longer_count() -> None:
    clock = Clock()
    throttle = SourceThrottle(SETTINGS, clock=clock)
    for _ in range(4):
        throttle.begin("a")
    clock.now += 61
    assert throttle.begin("a") == 0.0


def test_ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert source_key("2001:db8::1") == source_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert source_key("::ffff:192.0.2.7") == "192.0.2.7"
    throttle = SourceThrottle(SETTINGS, clock=Clock())
    for n in range(5):
        throttle.begin(f"2001:db8::{n + 1:x}")
    assert throttle.begin("2001:db8::99") is None
    assert throttle.begin("2001:db8:0:1::1") == 0.0  # the next /64 is someone else


def test_loopback_is_exempt_by_default() -> None:
    throttle = SourceThrottle(ThrottleSettings(max_failures=2), clock=Clock())
    assert all(throttle.begin("127.0.0.1") == 0.0 for _ in range(50))
    assert all(throttle.begin("::1") == 0.0 for _ in range(50))
    assert throttle.begin("192.0.2.1") == 0.0 and throttle.begin("192.0.2.1") == 0.0
    assert throttle.begin("192.0.2.1") is None


def test_memory_is_bounded_by_the_number_of_sources() -> None:
    throttle = SourceThrottle(ThrottleSettings(max_sources=100, exempt=()), clock=Clock())
    for n in range(1_000):
        throttle.begin(f"10.1.{n // 256}.{n % 256}")
    assert len(throttle._memory) == 100
    assert "10.1.3.231" in throttle._memory  # the latest are kept, the oldest forgotten


def _fail_from_another_process(path: str) -> None:
    SourceThrottle(SETTINGS, state_file=Path(path)).begin("192.0.2.7")


def test_web_consoles_share_one_state_through_the_file(tmp_path: Path) -> None:
    state = tmp_path / "throttle.json"
    workers = [
        multiprocessing.get_context("spawn").Process(
            target=_fail_from_another_process, args=(str(state),)
        )
        for _ in range(5)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert SourceThrottle(SETTINGS, state_file=state).begin("192.0.2.7") is None
    assert state.stat().st_mode & 0o777 == 0o600


def test_settings_travel_to_the_web_consoles_intact() -> None:
    settings = ThrottleSettings(max_failures=3, window=5, ban=7, exempt=("10.0.0.0/8",))
    decoded = ThrottleSettings.decode(settings.encode())
    assert (decoded.max_failures, decoded.window, decoded.ban, decoded.exempt) == (
        3,
        5.0,
        7.0,
        ("10.0.0.0/8",),
    )
    assert ThrottleSettings.decode(ThrottleSettings(exempt=()).encode()).exempt == ()
    behind_proxy = ThrottleSettings.behind_proxy()  # its unslowed first failures too
    assert ThrottleSettings.decode(behind_proxy.encode()) == behind_proxy
