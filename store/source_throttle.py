"""Per-source throttling of password guesses for the SSH and web servers.

The account lock-out (``store.auth``) stops guessing one account's password; it cannot stop one
address guessing across many accounts, or keep a stranger from locking accounts out one after
another. Like OpenSSH's ``PerSourcePenalties`` and fail2ban, this counts failed logins per
client address: each failure beyond the first few is answered a little later, and after
``max_failures`` within ``window`` seconds the address is refused outright for ``ban`` seconds,
before any password is checked or any row is written. Other addresses are unaffected. An
IPv6 client counts by its /64 (all of which it may use); loopback is exempt unless configured
otherwise (``ThrottleSettings.exempt``), or the web server has a reverse proxy in front
(``ThrottleSettings.behind_proxy``: every visitor is then the proxy's address, and the count a
global limit).

Memory is bounded: at most ``max_sources`` addresses are tracked (the least recently seen is
forgotten first), each with at most ``max_failures`` timestamps.

The SSH server checks passwords in its own process and keeps the state in memory. The web
server runs one console process per browser tab, so it hands its consoles a private state file
(``STATE_ENV_VAR``) that they read and write under an exclusive ``flock``.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import AuthenticationError, UnrecordedLoginError

T = TypeVar("T")

SOURCE_REFUSED = "Too many failed logins from your address; try again later"
"""The answer while an address is banned: about the address, never about an account."""

STATE_ENV_VAR = "LHC_CONSOLE_THROTTLE_FILE"
"""Where a web console finds the throttle state its server shares with its other consoles."""

SETTINGS_ENV_VAR = "LHC_CONSOLE_THROTTLE"
"""The server's settings for its consoles: ``max_failures,window,ban``."""


LOOPBACK = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True)
class ThrottleSettings:
    """The stated defaults: 10 failures in 10 minutes ban an address for 15 minutes.

    ``exempt``: networks never throttled. Loopback by default: local users and everyone
    arriving through an SSH tunnel share 127.0.0.1, so a ban there would lock them all out at
    the first stranger's ten guesses (the per-account lock-out still applies to them). Behind
    a reverse proxy (``behind_proxy``) nothing is exempt and the numbers differ.
    """

    max_failures: int = 10
    window: float = 600.0
    ban: float = 900.0
    exempt: tuple[str, ...] = LOOPBACK
    free_failures: int = 3  # failures answered at once; later ones wait delay_step each more
    delay_step: float = 0.5
    max_delay: float = 4.0
    max_sources: int = 10_000

    @classmethod
    def behind_proxy(cls) -> ThrottleSettings:
        """The defaults of ``serve-web --public-url``: 20 failures in 10 minutes, then every
        login is refused for one minute; the first 10 are not slowed; nothing exempt.

        Behind a reverse proxy every visitor arrives from the proxy's address (loopback, as a
        rule), so an exemption of loopback would exempt everyone, and the per-address count is
        one count for the whole help desk: a global limit on guessing. Sized for that: a
        team's mistyped passwords (successes take their attempt back) stay below 10 in 10
        minutes and are not even slowed, and a stranger who reaches the limit stops everyone's
        logins for one minute, not fifteen, while getting no more than about 20 guesses a
        minute in all (the per-account lock-out still applies to each account).
        """
        return cls(max_failures=20, window=600.0, ban=60.0, exempt=(), free_failures=10)

    def encode(self) -> str:
        """For the web server's consoles (``SETTINGS_ENV_VAR``): what the options and the
        proxy's defaults set."""
        return (
            f"{self.max_failures},{self.window},{self.ban},{' '.join(self.exempt)},"
            f"{self.free_failures}"
        )

    @classmethod
    def decode(cls, text: str) -> ThrottleSettings:
        failures, window, ban, exempt, free = text.split(",")
        return cls(
            max_failures=int(failures),
            window=float(window),
            ban=float(ban),
            exempt=tuple(exempt.split()),
            free_failures=int(free),
        )

    def is_exempt(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.exempt)


def source_key(address: str) -> str:
    """What one source is: an IPv4 address, or an IPv6 address's /64 (a host's usual share,
    every address of which its owner may use)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SourceThrottle:
    """Failed logins per client address, in memory or in a state file shared by processes.

    Every attempt counts as a failure from the moment it starts (``begin``) until it succeeds
    (``succeeded``): attempts started in parallel are counted before any of them is checked,
    so a burst of connections cannot all slip in before the first failure is recorded.
    """

    def __init__(
        self,
        settings: ThrottleSettings | None = None,
        *,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or ThrottleSettings()
        self._file = state_file
        self._clock = clock
        self._memory: OrderedDict[str, dict] = OrderedDict()

    @classmethod
    def from_environment(cls) -> SourceThrottle | None:
        """The throttle a web server handed to this console process, if any."""
        path = os.environ.get(STATE_ENV_VAR)
        if not path:
            return None
        raw = os.environ.get(SETTINGS_ENV_VAR)
        settings = ThrottleSettings.decode(raw) if raw else ThrottleSettings()
        return cls(settings, state_file=Path(path))

    def begin(self, address: str) -> float | None:
        """Start an attempt from ``address``: seconds to wait before checking its password, or
        None to refuse it unchecked (the address is banned, or reached the limit now)."""
        if self.settings.is_exempt(address):
            return 0.0
        source = source_key(address)
        now = self._clock()
        with self._state() as state:
            entry = self._current(state, source, now) or {"failures": []}
            if entry.get("banned_until", 0) > now:
                return None
            if len(entry["failures"]) >= self.settings.max_failures:
                entry["banned_until"] = now + self.settings.ban
                entry["failures"] = []
                self._keep(state, source, entry)
                return None
            before = len(entry["failures"])
            entry["failures"].append(now)
            self._keep(state, source, entry)
        extra = before - self.settings.free_failures + 1
        if extra <= 0:
            return 0.0
        return min(self.settings.delay_step * extra, self.settings.max_delay)

    def succeeded(self, address: str) -> None:
        """The attempt ``begin`` counted logged in (or could not be checked at all): it is no
        failure after all."""
        if self.settings.is_exempt(address):
            return
        source = source_key(address)
        with self._state() as state:
            entry = state.get(source)
            if entry and entry["failures"]:
                entry["failures"].pop()

    def _keep(self, state: OrderedDict[str, dict], source: str, entry: dict) -> None:
        state[source] = entry
        state.move_to_end(source)
        while len(state) > self.settings.max_sources:
            state.popitem(last=False)

    def _current(self, state: OrderedDict[str, dict], source: str, now: float) -> dict | None:
        """The source's entry with failures older than the window dropped (None if nothing)."""
        entry = state.get(source)
        if entry is None:
            return None
        entry["failures"] = [t for t in entry["failures"] if t > now - self.settings.window]
        if not entry["failures"] and entry.get("banned_until", 0) <= now:
            del state[source]
            return None
        return entry

    @contextmanager
    def _state(self) -> Iterator[OrderedDict[str, dict]]:
        if self._file is None:
            yield self._memory
            return
        fd = os.open(self._file, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            text = handle.read()
            try:
                state: OrderedDict[str, dict] = OrderedDict(json.loads(text) if text else {})
            except ValueError:
                state = OrderedDict()  # a damaged file starts afresh rather than lock us out
            yield state
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state))


def throttled(throttle: SourceThrottle | None, source: str, attempt: Callable[[], T]) -> T:
    """Run one login attempt from ``source`` under the throttle (blocking; for threads).

    Counts the attempt, waits the address's delay or refuses it outright while it is banned
    (nothing checked, nothing recorded), and un-counts it if it logs in, or if it was refused
    unchecked because it could not be recorded (``UnrecordedLoginError``: no guess was made).
    """
    if throttle is None:
        return attempt()
    wait = throttle.begin(source)
    if wait is None:
        raise AuthenticationError(SOURCE_REFUSED)
    if wait:
        time.sleep(wait)
    try:
        result = attempt()
    except UnrecordedLoginError:
        throttle.succeeded(source)
        raise
    throttle.succeeded(source)
    return result
