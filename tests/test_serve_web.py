"""``serve-web`` for real: the server as a subprocess, aiohttp as the browser, on 127.0.0.1.

Only its own pages drive consoles (``Origin``), at most ``--max-sessions`` consoles run, an idle
one is closed, and a login on the web form records the browser's address.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from peewee import Database

from tui.serving.web import origin_of, own_origins

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(
    r"\x1b\[[0-9;?<>=!]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[()][0-9A-Za-z]"  # charset
    r"|\x1b[=>78cDEHM]"
)
EVIL = "https://evil.example"

pytestmark = pytest.mark.sqlite_only  # the SQLite file itself is part of the test


@dataclass
class WebServer:
    process: subprocess.Popen[str]
    base: str
    url: str
    log: Path

    def stop(self) -> str:
        """SIGTERM, wait, and return what the server wrote to stderr (its log lines)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text(encoding="utf-8")

    def consoles(self) -> int:
        """How many console processes the server runs now (its children)."""
        children = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            children += fields[1] == str(self.process.pid)  # the parent's pid
        return children


def start_web(db: Database, tmp_path: Path, *extra: str) -> WebServer:
    """``lhc-console serve-web`` on a free port (port 0: the server prints the one it got)."""
    db.close()
    url = f"sqlite:///{db.database}"
    log = tmp_path / "serve-web.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui",
                "--db",
                url,
                "serve-web",
                "--listen",
                "127.0.0.1:0",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+);", line)
        if match:
            return WebServer(process, match.group(1), url, log)
    process.kill()
    process.wait()
    pytest.fail(f"serve-web did not start: {''.join(seen)} {log.read_text()}")


@pytest.fixture
def web(sample_db: Database, tmp_path: Path) -> Iterator[WebServer]:
    running = start_web(sample_db, tmp_path)
    yield running
    running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def screen_text(data: bytes) -> str:
    return ANSI.sub("", data.decode("utf-8", "replace"))


async def read_until(
    ws: aiohttp.ClientWebSocketResponse, *needles: str, timeout: float = 20
) -> str:
    """Read the terminal stream until every needle shows in the de-ANSI'd text."""
    stream = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not all(n in screen_text(stream) for n in needles):
        message = await asyncio.wait_for(ws.receive(), max(deadline - loop.time(), 0.01))
        if message.type == aiohttp.WSMsgType.BINARY:
            stream += message.data
        elif message.type == aiohttp.WSMsgType.TEXT:
            stream += message.data.encode("utf-8")
        else:
            raise AssertionError(f"the socket closed before {needles!r}: {screen_text(stream)!r}")
    return screen_text(stream)


async def read_to_close(ws: aiohttp.ClientWebSocketResponse, timeout: float = 20) -> str:
    """Everything the console writes until the server closes the socket."""
    stream = b""
    while True:
        message = await asyncio.wait_for(ws.receive(), timeout)
        if message.type == aiohttp.WSMsgType.BINARY:
            stream += message.data
        elif message.type == aiohttp.WSMsgType.TEXT:
            stream += message.data.encode("utf-8")
        else:
            return screen_text(stream)


async def open_tab(http: aiohttp.ClientSession, web: WebServer) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"{web.base}/ws?width=80&height=24", origin=web.base)
    await ws.send_str(json.dumps(["resize", {"width": 80, "height": 24}]))
    return ws


async def type_keys(ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
    """Key by key, as xterm.js sends them, at a typist's pace (Enter moves the focus)."""
    for key in text:
        await ws.send_str(json.dumps(["stdin", key]))
        await asyncio.sleep(0.4 if key == "\r" else 0.01)


async def test_only_the_servers_own_pages_drive_consoles(
    web: WebServer, http: aiohttp.ClientSession
) -> None:
    # A navigation (no Origin) gets the page; the page is not to be framed elsewhere.
    async with http.get(f"{web.base}/") as response:
        assert response.status == 200
        assert "lhc-console" in await response.text()
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    # Another site's page: neither the page nor a console.
    async with http.get(f"{web.base}/", headers={"Origin": EVIL}) as response:
        assert response.status == 403
    port = int(web.base.rsplit(":", 1)[1])
    other_port = web.base.replace(str(port), str(port + 1 if port < 65535 else port - 1))
    for origin in (EVIL, "null", web.base.replace("http:", "https:"), other_port, None):
        headers = {} if origin is None else {"Origin": origin}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{web.base}/ws", headers=headers)
        assert refused.value.status == 403, origin
    assert web.consoles() == 0  # no console process was started for any of them
    # The server's own page (and its loopback alias) get the console's login screen.
    for base in (web.base, web.base.replace("127.0.0.1", "localhost")):
        async with http.ws_connect(f"{web.base}/ws", origin=base) as ws:
            await ws.send_str(json.dumps(["resize", {"width": 80, "height": 24}]))
            text = await read_until(ws, "Log in")
            assert "Logged in as" not in text
    log = web.stop()
    assert f"reason=refused: origin {json.dumps(EVIL)}" in log
    assert 'reason=refused: origin "(none)"' in log


async def test_a_web_login_records_the_browsers_address(
    web: WebServer, http: aiohttp.ClientSession
) -> None:
    ws = await open_tab(http, web)
    await read_until(ws, "Log in")
    await type_keys(ws, "Teamleader US\r")
    await type_keys(ws, "wrong\r")
    for _ in range(100):  # the refusal is recorded (whatever the form then says)
        if logins(web.url, "Teamleader US"):
            break
        await asyncio.sleep(0.1)
    await type_keys(ws, "demo\r")
    await read_until(ws, "Logged in as Teamleader US")
    await ws.close()
    web.stop()
    assert logins(web.url, "Teamleader US") == [(0, "127.0.0.1"), (1, "127.0.0.1")]


def logins(url: str, username: str) -> list[tuple[int, str]]:
    """``(type, ip)`` of the user's ``lh_users_login`` rows: 0 failed, 1 logged in."""
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        return raw.execute(
            "SELECT l.type, l.ip FROM lh_users_login l JOIN lh_users u ON u.id = l.user_id "
            "WHERE u.username = ? ORDER BY l.id",
            (username,),
        ).fetchall()


async def test_max_sessions_and_the_idle_timeout(
    sample_db: Database, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    web = start_web(sample_db, tmp_path, "--max-sessions", "1", "--idle-timeout", "2")
    try:
        first = await open_tab(http, web)
        await read_until(first, "Log in")
        assert web.consoles() == 1
        # Beyond the limit: a message and the socket closed, before any console starts.
        second = await open_tab(http, web)
        text = await read_to_close(second)
        assert "all 1 sessions are in use; try again later" in text
        assert second.close_code == aiohttp.WSCloseCode.TRY_AGAIN_LATER
        assert web.consoles() == 1
        # Typing keeps the first one open past the timeout; then, left alone, it is closed.
        for _ in range(3):
            await asyncio.sleep(0.8)
            await type_keys(first, "x")
        text = await read_to_close(first, timeout=15)
        assert "closed after 2 s without a keystroke" in text
        for _ in range(50):  # the console process is gone too
            if web.consoles() == 0:
                break
            await asyncio.sleep(0.1)
        assert web.consoles() == 0
        # The slot is free again.
        third = await open_tab(http, web)
        await read_until(third, "Log in")
        await third.close()
    finally:
        log = web.stop()
    assert "reason=refused: server full" in log
    assert "reason=idle for 2 s" in log


async def test_a_database_emptied_while_serving_gets_no_first_run_screen(
    web: WebServer, http: aiohttp.ClientSession
) -> None:
    path = web.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:  # as if replaced behind the server's back
        raw.execute("DELETE FROM lh_users")
    ws = await open_tab(http, web)
    text = await read_until(ws, "no users yet", "locally")
    assert "admin/admin" not in text and "Load the sample" not in text
    await type_keys(ws, "q")
    await read_to_close(ws)


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("http://127.0.0.1:8000", ("http", "127.0.0.1", 8000)),
        ("HTTP://LocalHost:8000", ("http", "localhost", 8000)),
        ("https://console.example.org", ("https", "console.example.org", 443)),
        ("http://[::1]:8000", ("http", "::1", 8000)),
        ("null", None),
        ("file://", None),
        ("http://x:99999", None),
    ],
)
def test_origins_are_compared_as_scheme_host_port(
    origin: str, expected: tuple[str, str, int] | None
) -> None:
    assert origin_of(origin) == expected


def test_own_origins() -> None:
    assert own_origins("127.0.0.1", 8000, None) == {
        ("http", "127.0.0.1", 8000),
        ("http", "localhost", 8000),
        ("http", "::1", 8000),
    }
    behind_proxy = own_origins("10.0.0.5", 8000, "https://console.example.org/lhc/")
    assert behind_proxy == {("http", "10.0.0.5", 8000), ("https", "console.example.org", 443)}


async def guesses_then_banned(
    http: aiohttp.ClientSession, web: WebServer, usernames: list[str]
) -> None:
    """One tab per name, each with one wrong password; then Teamleader US's right password,
    from the same (now banned) address, is turned away."""
    for username in usernames:
        ws = await open_tab(http, web)
        await read_until(ws, "Log in")
        await type_keys(ws, f"{username}\r")
        await type_keys(ws, "wrong\r")
        await read_until(ws, "Wrong username/e-mail or password")
        await ws.close()
    ws = await open_tab(http, web)
    await read_until(ws, "Log in")
    await type_keys(ws, "Teamleader US\r")
    await type_keys(ws, "demo\r")  # the right password, from a banned address
    await read_until(ws, "Too many failed logins from your address")
    await ws.close()


async def test_an_address_with_too_many_failures_is_refused_across_tabs(
    sample_db: Database, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """Issue 16, point 5: the tabs' consoles share one per-address throttle."""
    web = start_web(
        sample_db,
        tmp_path,
        "--source-max-failures",
        "2",
        "--source-ban",
        "60",
        "--source-exempt",
        "none",
    )
    try:
        await guesses_then_banned(http, web, ["Operator US", "Operator US"])  # two tabs
    finally:
        web.stop()
    assert logins(web.url, "Teamleader US") == []  # turned away before any check
    assert logins(web.url, "Operator US") == [(0, "127.0.0.1"), (0, "127.0.0.1")]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_behind_a_proxy_loopback_is_throttled_by_default(
    sample_db: Database, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """Red team F4: with ``--public-url`` every visitor arrives from the proxy (here, as with
    a proxy on the host, 127.0.0.1), so loopback is no longer exempt: wrong passwords over
    several accounts ban it, and then even the right password is turned away unchecked."""
    port = free_port()
    own = f"http://127.0.0.1:{port}"  # the "proxy" address browsers use
    web = start_web(
        sample_db,
        tmp_path,
        "--listen",
        f"127.0.0.1:{port}",
        "--public-url",
        own,
        "--source-max-failures",
        "2",
    )
    try:
        await guesses_then_banned(http, web, ["Operator US", "Operator AU"])  # two accounts
    finally:
        web.stop()
    assert logins(web.url, "Teamleader US") == []  # turned away before any check
    assert logins(web.url, "Operator AU") == [(0, "127.0.0.1")]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        # serve-ssh is never behind such a proxy: loopback stays exempt.
        (["serve-ssh"], (10, 600.0, 900.0, ("127.0.0.0/8", "::1/128"))),
        (["serve-web"], (10, 600.0, 900.0, ("127.0.0.0/8", "::1/128"))),
        # Behind a proxy: one count for everyone, so nothing exempt and a short ban.
        (["serve-web", "--public-url", "https://c.example"], (20, 600.0, 60.0, ())),
        # Options given explicitly win, the proxy's defaults fill in the rest.
        (
            ["serve-web", "--public-url", "https://c.example", "--source-exempt", "127.0.0.1/32"],
            (20, 600.0, 60.0, ("127.0.0.1/32",)),
        ),
        (
            [
                *("serve-web", "--public-url", "https://c.example", "--source-ban", "300"),
                *("--source-max-failures", "50", "--source-window", "120"),
            ],
            (50, 120.0, 300.0, ()),
        ),
        (["serve-web", "--source-exempt", "none", "--source-ban", "0"], (10, 600.0, 0.0, ())),
    ],
)
def test_the_throttles_defaults_behind_a_proxy_and_explicit_options(
    argv: list[str], expected: tuple[int, float, float, tuple[str, ...]]
) -> None:
    from tui.command_line.main import build_parser
    from tui.serving.commands import throttle_settings

    settings = throttle_settings(build_parser().parse_args(argv))
    assert (settings.max_failures, settings.window, settings.ban, settings.exempt) == expected


def test_behind_a_proxy_a_team_still_logs_in_while_strangers_are_held_to_the_limit() -> None:
    """The proxy's defaults as a global limit: a team's mistypes (one a minute, all morning),
    each followed by the right password, never reach it; a stranger's 20 guesses stop all
    logins for one minute only."""
    from store.source_throttle import SourceThrottle, ThrottleSettings

    class Clock:
        now = 1_000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    throttle = SourceThrottle(ThrottleSettings.behind_proxy(), clock=clock)
    proxy = "127.0.0.1"
    waits = []
    for _ in range(240):  # a colleague a minute for four hours: a typo, then the password
        waits.append(throttle.begin(proxy))  # the typo
        waits.append(throttle.begin(proxy))  # the right one...
        throttle.succeeded(proxy)  # ...takes its attempt back
        clock.now += 60
    assert None not in waits and max(waits) <= 0.5  # never refused, hardly slowed
    clock.now += 600  # the colleagues' typos have left the window
    stranger = [throttle.begin(proxy) for _ in range(20)]
    assert None not in stranger
    assert throttle.begin(proxy) is None  # everyone is refused now...
    clock.now += 61
    assert throttle.begin(proxy) == 0.0  # ...for a minute, not fifteen
