"""``serve-ssh`` for real: the server as a subprocess, asyncssh as the client (``serve-web``:
``test_serve_web.py``).

Nothing is mocked: a temporary copy of the sample database, a temporary host key, the console
running on a real pty in its own process, the terminal stream read back and de-ANSI'd.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest
from peewee import Database
from pilot import SIZE, settle

from screens.home import HomeScreen
from store.database import open_database
from store.models import User, UserLogin
from tui.serving.commands import parse_listen
from tui.shell.app import LhcConsole

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(
    r"\x1b\[[0-9;?<>=!]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[()][0-9A-Za-z]"  # charset
    r"|\x1b[=>78cDEHM]"
)
TEAMLEADER_SCOPE = "works with: Operators, Teamleader, US Operators, US Teamleaders"

pytestmark = pytest.mark.sqlite_only  # the SQLite file itself is part of the test


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    url: str
    log: Path

    def stop(self) -> str:
        """SIGTERM, wait, and return everything the server wrote to stderr (its log lines)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text(encoding="utf-8")


def start_server(db: Database, tmp_path: Path, *extra: str) -> Server:
    """``lhc-console serve-ssh`` on a free port (port 0: the server prints the one it got)."""
    db.close()
    url = f"sqlite:///{db.database}"
    config = tmp_path / "config"
    env = {**os.environ, "XDG_CONFIG_HOME": str(config), "PYTHONPATH": str(ROOT)}
    log = tmp_path / "serve-ssh.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui",
                "--db",
                url,
                "serve-ssh",
                "--listen",
                "127.0.0.1:0",
                "--host-key",
                str(tmp_path / "host_key"),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
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
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            return Server(process, int(match.group(1)), url, log)
    process.kill()
    process.wait()
    pytest.fail(f"serve-ssh did not start: {''.join(seen)} {log.read_text()}")


@pytest.fixture
def server(sample_db: Database, tmp_path: Path) -> Iterator[Server]:
    running = start_server(sample_db, tmp_path)
    yield running
    running.stop()


def connect(server: Server, username: str, password: str | None = None, **kw: object):
    return asyncssh.connect(
        "127.0.0.1",
        server.port,
        username=username,
        password=password,
        known_hosts=None,
        client_keys=kw.pop("client_keys", None),
        agent_path=None,
        preferred_auth=kw.pop("preferred_auth", "password"),
        **kw,
    )


def screen_text(data: bytes) -> str:
    return ANSI.sub("", data.decode("utf-8", "replace"))


async def read_until(
    process: asyncssh.SSHClientProcess[bytes], *needles: str, timeout: float = 20
) -> str:
    """Read the terminal stream until every needle shows in the de-ANSI'd text."""
    data = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not all(n in screen_text(data) for n in needles):
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"never saw {needles!r}; got {screen_text(data)[-2000:]!r}")
        try:
            chunk = await asyncio.wait_for(process.stdout.read(65536), remaining)
        except TimeoutError:
            continue
        if not chunk:
            raise AssertionError(f"stream ended before {needles!r}: {screen_text(data)!r}")
        data += chunk
    return screen_text(data)


def logins(url: str, username: str) -> list[tuple[int, str, str]]:
    db = open_database(url)
    try:
        user = User.get(User.username == username)
        rows = UserLogin.select().where(UserLogin.user_id == user.id).order_by(UserLogin.id)
        return [(r.type, r.ip, r.msg) for r in rows]
    finally:
        db.close()


async def test_teamleader_logs_in_over_ssh_sees_home_resizes_and_quits(server: Server) -> None:
    async with connect(server, "Teamleader US", "demo") as conn:
        process = await conn.create_process(
            term_type="xterm-256color", term_size=(80, 24), encoding=None
        )
        text = await read_until(process, "Logged in as Teamleader US", "Departments US")
        assert TEAMLEADER_SCOPE in text
        assert "Log in" not in text  # no second login
        # At 120 columns the scope no longer wraps: a redraw at the new width.
        process.change_terminal_size(120, 30)
        redrawn = await read_until(process, "US Teamleaders · department groups: Departments US")
        assert "Departments US" in redrawn
        process.stdin.write(b"\x11")  # Ctrl+Q
        result = await asyncio.wait_for(process.wait(), 15)
        assert result.exit_status == 0
    log = server.stop()
    assert re.search(
        r'user="Teamleader US" address=127\.0\.0\.1:\d+ start=\S+Z end=\S+Z '
        r"reason=console exited \(status 0\)",
        log,
    ), log
    assert logins(server.url, "Teamleader US")[-1][0] == 1  # the success is recorded


async def test_wrong_password_is_refused_and_recorded(server: Server) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        async with connect(server, "Teamleader US", "wrong"):
            pass
    log = server.stop()
    failed = [row for row in logins(server.url, "Teamleader US") if row[0] == 0]
    assert failed and failed[-1][1] == "127.0.0.1" and "Failed login" in failed[-1][2]
    assert 'user=- tried="Teamleader US"' in log and "not authenticated" in log


async def test_a_disabled_user_is_refused_even_with_the_right_password(
    sample_db: Database, tmp_path: Path
) -> None:
    User.update(disabled=1).where(User.username == "Operator US").execute()
    running = start_server(sample_db, tmp_path)
    try:
        with pytest.raises(asyncssh.PermissionDenied):
            async with connect(running, "Operator US", "demo"):
                pass
    finally:
        running.stop()
    # Refused like a wrong password and, being disabled, never checked: nothing recorded.
    assert logins(running.url, "Operator US") == []


async def test_nothing_but_the_console_exec_forwarding_sftp_no_pty(server: Server) -> None:
    async with connect(server, "Teamleader US", "demo") as conn:
        result = await conn.run("id")
        assert result.exit_status == 1
        assert "commands are not allowed" in str(result.stderr)
        assert "uid=" not in str(result.stdout) + str(result.stderr)
    async with connect(server, "Teamleader US", "demo") as conn:
        result = await conn.run()  # a shell without a pty
        assert result.exit_status == 1
        assert "needs a terminal" in str(result.stderr)
    async with connect(server, "Teamleader US", "demo") as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", server.port)  # ssh -L
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("", 0, "127.0.0.1", 22)  # ssh -R
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_unix_connection("/run/anything.sock")
        with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)):
            await conn.start_sftp_client()
    log = server.stop()
    assert 'reason=refused: exec "id"' in log
    assert "reason=refused: no terminal requested" in log
    assert 'refused=tcp-forward,remote-forward,unix-forward,subsystem:"sftp"' in log


async def test_public_key_login_from_the_users_authorized_keys_file(
    sample_db: Database, tmp_path: Path
) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    keys_dir = tmp_path / "config" / "lhc-console" / "authorized_keys"
    keys_dir.mkdir(parents=True)
    for name in ("Teamleader US", "Operator US"):
        (keys_dir / name).write_bytes(key.export_public_key())
        (keys_dir / name).chmod(0o600)
    User.update(disabled=1).where(User.username == "Operator US").execute()
    running = start_server(sample_db, tmp_path)
    try:
        async with connect(
            running, "Teamleader US", client_keys=[key], preferred_auth="publickey"
        ) as conn:
            process = await conn.create_process(
                term_type="xterm", term_size=(80, 24), encoding=None
            )
            await read_until(process, "Logged in as Teamleader US")
        with pytest.raises(asyncssh.PermissionDenied):  # same key, disabled account
            async with connect(
                running, "Operator US", client_keys=[key], preferred_auth="publickey"
            ):
                pass
        with pytest.raises(asyncssh.PermissionDenied):  # nobody else's file holds the key
            async with connect(running, "admin", client_keys=[key], preferred_auth="publickey"):
                pass
    finally:
        running.stop()
    assert "SSH key" in logins(running.url, "Teamleader US")[-1][2]


async def test_max_sessions_turns_away_politely_and_idle_sessions_close(
    sample_db: Database, tmp_path: Path
) -> None:
    running = start_server(sample_db, tmp_path, "--max-sessions", "1", "--idle-timeout", "2")
    try:
        async with connect(running, "Teamleader US", "demo") as conn:
            process = await conn.create_process(
                term_type="xterm", term_size=(80, 24), encoding=None
            )
            await read_until(process, "Logged in as Teamleader US")
            with pytest.raises(asyncssh.DisconnectError, match="sessions are in use"):
                async with connect(running, "admin", "admin"):
                    pass
            text = await read_until(process, "without a keystroke", timeout=15)
            assert "closed after 2 s" in text
            await asyncio.wait_for(process.wait(), 10)
        async with connect(running, "admin", "admin") as conn:  # the slot is free again
            process = await conn.create_process(
                term_type="xterm", term_size=(80, 24), encoding=None
            )
            await read_until(process, "Logged in as admin")
    finally:
        log = running.stop()
    assert "reason=refused: server full" in log
    assert "reason=idle for 2 s" in log


async def test_the_app_started_as_an_account_skips_login_and_log_out_ends_it(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url, actor_id=4)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.sub_title.startswith("Teamleader US · works with:")
        await pilot.press("l")
        await settle(pilot)
        assert not app.is_running  # no login screen to log in as someone else


def test_the_hidden_console_entry_refuses_without_the_servers_handoff(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "tui.serving.session_child"]
    plain = subprocess.run(run, env=env, capture_output=True, text=True, timeout=30)
    assert plain.returncode == 2 and "no handoff" in plain.stderr
    forged = tmp_path / "forged.json"
    forged.write_text('{"database_url": "sqlite:///x", "actor_id": 1}')
    with forged.open() as handle:
        as_file = subprocess.run(
            run,
            env={**env, "LHC_CONSOLE_HANDOFF_FD": "0"},
            stdin=handle,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert as_file.returncode == 2 and "not a socket" in as_file.stderr
    # A socket whose peer is not the child's parent (here: the parent is a shell).
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(b'{"database_url": "sqlite:///x", "actor_id": 1}')
        ours.shutdown(socket.SHUT_WR)
        fd = theirs.fileno()
        via_shell = subprocess.run(
            ["sh", "-c", f'"{sys.executable}" -m tui.serving.session_child; exit $?'],
            env={**env, "LHC_CONSOLE_HANDOFF_FD": str(fd)},
            pass_fds=(fd,),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert via_shell.returncode == 2 and "parent" in via_shell.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:2200", ("127.0.0.1", 2200)),
        ("2200", ("127.0.0.1", 2200)),
        ("0.0.0.0:22", ("0.0.0.0", 22)),
        ("[::1]:2222", ("::1", 2222)),
        ("[::]", ("::", 2222)),
        ("example.org", ("example.org", 2222)),
    ],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text, 2222) == expected


@pytest.mark.parametrize("text", ["::1:22", "host:port", "host:70000", "[::1]x"])
def test_bad_listen_addresses_are_refused(text: str) -> None:
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        parse_listen(text, 2222)
