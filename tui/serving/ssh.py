"""``lhc-console serve-ssh``: the console over SSH, where the LHC login is the SSH login.

asyncssh does the protocol (a well-kept implementation beats a hand-written one); this module
decides who gets in and what they get:

- Passwords go through ``store.auth.authenticate``, the login screen's own check (bcrypt,
  attempts recorded in ``lh_users_login``, disabled accounts refused), off the event loop and at
  most ``BCRYPT_SLOTS`` at a time, so guessing cannot starve the server of CPU. An attempt that
  cannot be recorded (the database became read-only) is refused unchecked, with the same
  answer, and logged: the lock-out rests on the record.
- Public keys come from ``<config dir>/authorized_keys/<LHC username>``; the account must exist
  and be enabled, and the login is recorded.
- A connection gets the console and nothing else: one session with a pty, running
  ``tui.serving.session_child`` on its own pseudo-terminal. Exec, subsystems (SFTP), a second
  session, port and Unix-socket forwarding, agent and X11 forwarding are all refused.
- ``max_sessions`` consoles at most; ``idle_timeout`` seconds without a keystroke ends one.
- One log line per connection on stderr: user, address, start, end, reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncssh

from store import AuthenticationError, StoreError
from store.auth import authenticate
from store.errors import UnrecordedLoginError
from store.lookup import UserRef
from store.regular_files import open_for_reading
from store.remote_login import enabled_account, record_key_login
from store.source_throttle import SOURCE_REFUSED, SourceThrottle, ThrottleSettings

from .idle import IdleTimer
from .pty_session import TERMINAL_RESET, ConsoleLaunch, PtyConsole

BCRYPT_SLOTS = 2
MAX_AUTH_FAILURES = 3  # per connection, then disconnect (OpenSSH's client tries 3 times too)
LOGIN_TIMEOUT_S = 60
KEY_FILE_NAME = "ssh_host_ed25519_key"
KEYS_DIR_NAME = "authorized_keys"


class ServeError(Exception):
    """A setup problem the operator must fix (unreadable host key, port in use…)."""


@dataclass(frozen=True)
class SshSettings:
    database_url: str
    host: str
    port: int
    host_key_path: Path
    keys_dir: Path
    max_sessions: int
    idle_timeout: float  # 0: never
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)


# -- passwords as typed -----------------------------------------------------------------------


class RawPasswordAuth(asyncssh.auth._ServerPasswordAuth):
    """SSH's ``password`` method, handing the server the password exactly as the client sent it.

    asyncssh applies SASLprep (RFC 4013) to it first: a ligature arrives as two letters, a
    no-break space as a plain one, and a password with an emoji ends the connection. The
    console checks passwords as typed everywhere else (the form, the CLI, keyboard-interactive),
    so a password could work there, fail here and count as a failure of the account. This
    handler decodes the UTF-8 bytes and nothing more; new passwords that SASLprep would change
    are refused when set (``store.validation.ssh_change``), so normalising clients still match.
    A password change request (which the console never asks for) is refused.
    """

    async def _start(self, packet: asyncssh.packet.SSHPacket) -> None:
        password_change = packet.get_boolean()
        password_bytes = packet.get_string()
        if password_change:
            packet.get_string()
        packet.check_end()
        try:
            password = password_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise asyncssh.ProtocolError("Invalid password auth request") from None
        if password_change:
            self.send_failure()
            return
        if await self._conn.validate_password(self._username, password):
            await self.send_success()
        else:
            self.send_failure()


def use_raw_passwords() -> None:
    """Install ``RawPasswordAuth`` as this process's server side of the ``password`` method."""
    asyncssh.auth._server_auth_handlers[b"password"] = RawPasswordAuth


# -- host key --------------------------------------------------------------------------------


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The server's ed25519 host key, generated (0600) on first start. True if it is new.

    Like sshd, a key file that others may read is refused rather than used.
    """
    if path.exists():
        mode = path.stat().st_mode
        if mode & 0o077:
            raise ServeError(
                f"host key {path} is readable by others (mode {mode & 0o777:o}); "
                f"run: chmod 600 '{path}'"
            )
        try:
            with open_for_reading(path) as handle:  # a pipe is refused, never waited on
                return asyncssh.import_private_key(handle.read()), False
        except (OSError, asyncssh.KeyImportError) as error:
            raise ServeError(f"cannot read the host key {path}: {error}") from error
    key = asyncssh.generate_private_key("ssh-ed25519")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.export_private_key("openssh"))
        (path.with_name(path.name + ".pub")).write_bytes(key.export_public_key("openssh"))
    except OSError as error:
        raise ServeError(f"cannot write the host key {path}: {error.strerror or error}") from error
    return key, True


# -- per-username authorized keys --------------------------------------------------------------


def _safe_file_name(username: str) -> bool:
    """Whether a username can name a key file without leaving the keys directory."""
    return (
        0 < len(username) <= 80
        and username not in (".", "..")
        and not username.startswith(".")
        and not any(c in username for c in "/\\\0")
        and username.isprintable()
    )


def read_user_keys(keys_dir: Path, username: str) -> asyncssh.SSHAuthorizedKeys | None:
    """The keys of ``keys_dir/<username>``, or None (no file, unsafe name, unsafe file)."""
    if not _safe_file_name(username):
        return None
    path = keys_dir / username
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & 0o022:
        _warn(f"ignoring {path}: writable by others (mode {mode & 0o777:o}); chmod 600 it")
        return None
    try:
        with open_for_reading(path) as handle:  # a pipe would stop the server, not only one login
            return asyncssh.import_authorized_keys(handle.read().decode("utf-8"))
    except (OSError, ValueError) as error:
        _warn(f"ignoring {path}: {error}")
        return None


# -- logging ---------------------------------------------------------------------------------


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _warn(message: str) -> None:
    print(f"lhc-console serve-ssh: {message}", file=sys.stderr, flush=True)


def _quote(text: str) -> str:
    """Client-chosen text in a log line: quoted, control characters escaped (no forged lines)."""
    return json.dumps(text, ensure_ascii=False)


# -- the server ------------------------------------------------------------------------------


class ConsoleServer:
    """State shared by all connections: settings, the session count, the bcrypt slots."""

    def __init__(self, settings: SshSettings) -> None:
        self.settings = settings
        self.active_sessions = 0
        self.bcrypt_slots = asyncio.Semaphore(BCRYPT_SLOTS)
        self.connections: set[ConsoleConnection] = set()
        self.throttle = SourceThrottle(settings.throttle)  # failed logins per address
        self.stopping: set[asyncio.Task[None]] = set()  # consoles being hung up on

    @property
    def full(self) -> bool:
        return self.active_sessions >= self.settings.max_sessions

    async def listen(self, host_key: asyncssh.SSHKey) -> asyncssh.SSHAcceptor:
        use_raw_passwords()
        try:
            return await asyncssh.create_server(
                lambda: ConsoleConnection(self),
                self.settings.host,
                self.settings.port,
                server_host_keys=[host_key],
                encoding=None,  # raw bytes: the pty speaks bytes
                line_editor=False,  # the console reads keys itself
                public_key_auth=True,
                password_auth=True,
                kbdint_auth=True,  # OpenSSH asks for the password this way first
                gss_host=None,
                host_based_auth=False,
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                login_timeout=LOGIN_TIMEOUT_S,
                keepalive_interval=60,
                server_version="lhc-console",
            )
        except OSError as error:
            where = f"{self.settings.host}:{self.settings.port}"
            raise ServeError(f"cannot listen on {where}: {error.strerror or error}") from error


class ConsoleConnection(asyncssh.SSHServer):
    """One client connection: its authentication, its one console, its log line."""

    def __init__(self, server: ConsoleServer) -> None:
        self.server = server
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.ip = "?"
        self.started = time.time()
        self.tried: str | None = None
        self.account: UserRef | None = None  # set once authenticated
        self._password_account: UserRef | None = None
        self._key_accounts: dict[str, UserRef] = {}
        self.failures = 0
        self.reason: str | None = None  # why the connection ended, when it was our decision
        self.refused: list[str] = []  # requests turned down on the way (forwarding, SFTP…)
        self.holds_slot = False
        self.session: ConsoleSession | None = None
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.idle = IdleTimer(server.settings.idle_timeout, self._idle)

    # -- connection life ----------------------------------------------------------------

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.ip = str(peer[0])
        self.address = f"[{peer[0]}]:{peer[1]}" if ":" in self.ip else f"{peer[0]}:{peer[1]}"
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        if self.holds_slot:
            self.server.active_sessions -= 1
            self.holds_slot = False
        self.idle.cancel()
        if not self.ready.done():
            self.ready.set_result(False)
        if self.session is not None:
            self.session.stop_console()
        reason = self.reason
        if reason is None:
            if self.account is None:
                reason = (
                    f"not authenticated (failed attempts: {self.failures})"
                    if self.failures
                    else "closed before authenticating"
                )
                if isinstance(exc, asyncssh.Error) and exc.reason:
                    reason += f": {exc.reason}"
            else:
                reason = "client disconnected"
        self.log(reason)

    def log(self, reason: str) -> None:
        """The one line per connection."""
        user = (
            _quote(self.account.username)
            if self.account
            else ("-" if self.tried is None else f"- tried={_quote(self.tried)}")
        )
        print(
            f"lhc-console serve-ssh: user={user} address={self.address} "
            f"start={_stamp(self.started)} end={_stamp(time.time())} reason={reason}"
            + (f" refused={','.join(self.refused)}" if self.refused else ""),
            file=sys.stderr,
            flush=True,
        )

    def close(self, reason: str) -> None:
        """End the connection for a reason of ours (the log line gives it)."""
        self.reason = self.reason or reason
        if self.conn is not None:
            self.conn.close()

    # -- authentication -------------------------------------------------------------------

    async def begin_auth(self, username: str) -> bool:
        self.tried = username
        assert self.conn is not None
        if self.server.full:
            # Before any password is sent: tell the client plainly and stop.
            self.reason = "refused: server full"
            self.conn.disconnect(
                asyncssh.DISC_TOO_MANY_CONNECTIONS,
                f"lhc-console: all {self.server.settings.max_sessions} sessions are in use; "
                "try again later",
            )
            return True
        keys = None
        try:
            account = await asyncio.to_thread(enabled_account, username)
        except StoreError:
            account = None
        if account is not None:
            keys = read_user_keys(self.server.settings.keys_dir, account.username)
            if keys is not None:
                self._key_accounts[username] = account
        self.conn.set_authorized_keys(keys)
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        """The login screen's check, run in a thread: bcrypt is slow on purpose.

        The password is the one the client sent, not normalised (``RawPasswordAuth``), and the
        client's address is throttled first: a banned address is turned away unchecked.
        """
        wait = self.server.throttle.begin(self.ip)  # counted as a failure until it succeeds
        if wait is None:
            self.failures += 1
            self._banner(f"lhc-console: {SOURCE_REFUSED}\r\n")
            self.close("refused: too many failed logins from this address")
            return False
        if wait:
            await asyncio.sleep(wait)  # outside the bcrypt slots: a slow guesser holds none
        async with self.server.bcrypt_slots:
            try:
                user = await asyncio.to_thread(
                    authenticate, username, password, ip=self.ip, require_record=True
                )
            except AuthenticationError as error:
                if isinstance(error, UnrecordedLoginError):
                    # Refused unchecked (the database cannot record it): no guess was made,
                    # and the client hears the one answer; the operator hears why.
                    self.server.throttle.succeeded(self.ip)
                    _warn(f"login refused unchecked: {error.reason}")
                self.failures += 1
                self._banner(f"lhc-console: {error}\r\n")
                if self.failures >= MAX_AUTH_FAILURES and self.conn is not None:
                    self.conn.disconnect(
                        asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                        "lhc-console: too many failed logins",
                    )
                return False
            except StoreError as error:
                self.server.throttle.succeeded(self.ip)  # not checked: no failure of theirs
                self.failures += 1
                _warn(f"login check failed: {error}")
                self._banner("lhc-console: cannot check the password now; try again later\r\n")
                return False
        self.server.throttle.succeeded(self.ip)
        self._password_account = UserRef(user.id, user.username)
        return True

    def _banner(self, text: str) -> None:
        with contextlib.suppress(OSError):
            if self.conn is not None:
                self.conn.send_auth_banner(text)

    async def auth_completed(self) -> None:
        assert self.conn is not None
        username = self.conn.get_extra_info("username") or ""
        account = self._password_account
        if account is None:  # a public key from the user's file: re-check and record it
            key_account = self._key_accounts.get(username)
            if key_account is None:
                self._refuse("refused: no account")
                return
            try:
                account = await asyncio.to_thread(record_key_login, key_account.id, self.ip)
            except StoreError as error:
                self._refuse(f"refused: {error}")
                return
        self.account = account
        if self.server.full:
            self.conn.disconnect(
                asyncssh.DISC_TOO_MANY_CONNECTIONS,
                f"lhc-console: all {self.server.settings.max_sessions} sessions are in use; "
                "try again later",
            )
            self.reason = "refused: server full"
            self.ready.set_result(False)
            return
        self.server.active_sessions += 1
        self.holds_slot = True
        self.touch()
        self.ready.set_result(True)

    def _refuse(self, reason: str) -> None:
        self.reason = reason
        self.ready.set_result(False)
        assert self.conn is not None
        self.conn.disconnect(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "lhc-console: refused")

    # -- idle timeout ---------------------------------------------------------------------

    def touch(self) -> None:
        """A keystroke (or a resize): the session is in use."""
        self.idle.touch()

    def _idle(self) -> None:
        timeout = self.idle.timeout
        self.reason = f"idle for {timeout:g} s"
        if self.session is not None:
            self.session.end(f"lhc-console: closed after {timeout:g} s without a keystroke.\r\n", 0)
        else:
            self.close(self.reason)

    # -- everything but the console is refused --------------------------------------------

    def session_requested(self) -> asyncssh.SSHServerSession[bytes] | bool:
        if self.session is not None:
            self.refused.append("second-session")
            return False  # one console per connection
        self.session = ConsoleSession(self)
        return self.session

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        self.refused.append("tcp-forward")  # ssh -L / -D
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self.refused.append("remote-forward")  # ssh -R
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self.refused.append("unix-forward")
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        self.refused.append("unix-remote-forward")
        return False


class ConsoleSession(asyncssh.SSHServerSession[bytes]):
    """The one session of a connection: a pty request, then the shell request, then the console.

    ``exec`` is accepted only to answer it with a message and exit status 1; subsystems (SFTP)
    are refused outright.
    """

    def __init__(self, owner: ConsoleConnection) -> None:
        self.owner = owner
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term: str | None = None
        self.size = (80, 24)
        self.has_pty = False
        self.refusal: str | None = None
        self.console: PtyConsole | None = None
        self.finished = False

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Mapping[int, int]
    ) -> bool:
        self.has_pty = True
        self.term = term_type
        self.size = (term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.refusal = f"refused: exec {_quote(command[:200])}"
        return True  # accepted only so the client hears why; session_started refuses it

    def subsystem_requested(self, subsystem: str) -> bool:
        self.owner.refused.append("subsystem:" + _quote(subsystem[:50]))  # SFTP and the like
        return False

    def session_started(self) -> None:
        asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        assert self.chan is not None
        if not await self.owner.ready or self.owner.account is None:
            self.end("lhc-console: not logged in\r\n", 1)
            return
        if self.refusal is not None:
            self.owner.reason = self.refusal
            self.end(
                "lhc-console: this server runs only the console; commands are not allowed.\r\n"
                "Connect without a command: ssh -p PORT 'USER'@HOST\r\n",
                1,
                stderr=True,
            )
            return
        if not self.has_pty:
            self.owner.reason = "refused: no terminal requested"
            self.end(
                "lhc-console: the console needs a terminal; connect with ssh -t.\r\n",
                1,
                stderr=True,
            )
            return
        launch = ConsoleLaunch(
            database_url=self.owner.server.settings.database_url,
            actor_id=self.owner.account.id,
            term=self.term or "",
            cols=self.size[0],
            rows=self.size[1],
        )
        console = PtyConsole(launch, self._output, self._console_exited)
        try:
            await console.start()
        except OSError as error:
            _warn(f"cannot start a console: {error}")
            self.owner.reason = f"error: cannot start the console ({error.strerror or error})"
            self.end("lhc-console: the console could not be started; try again later.\r\n", 1)
            return
        self.console = console
        if self.finished:  # the client left while the console was starting
            self.stop_console()

    def _output(self, data: bytes) -> None:
        if self.chan is not None and not self.finished:
            self.chan.write(data)

    def _console_exited(self, status: int) -> None:
        self.console = None
        self.owner.reason = self.owner.reason or f"console exited (status {status})"
        self.end("", status)

    def end(self, message: str, status: int, *, stderr: bool = False) -> None:
        """Stop the console if it runs, say why, and close the channel with an exit status."""
        if self.finished:
            return
        self.finished = True
        if self.console is not None:
            self.stop_console()
            message = TERMINAL_RESET.decode() + "\r\n" + message
        if self.chan is not None:
            with contextlib.suppress(OSError, asyncssh.Error):
                if message and stderr:
                    self.chan.write_stderr(message.encode("utf-8"))
                elif message:
                    self.chan.write(message.encode("utf-8"))
                self.chan.exit(status)
        # The channel is closed; a client that keeps the bare connection open gets closed too.
        asyncio.get_running_loop().call_later(2.0, self.owner.close, "session ended")

    def stop_console(self) -> asyncio.Task[None] | None:
        console, self.console = self.console, None
        if console is None:
            return None
        task = asyncio.get_running_loop().create_task(console.stop())
        self.owner.server.stopping.add(task)
        task.add_done_callback(self.owner.server.stopping.discard)
        return task

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.owner.touch()
        if self.console is not None:
            self.console.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width, height)
        self.owner.touch()
        if self.console is not None:
            self.console.resize(width, height)

    def eof_received(self) -> bool:
        return True  # a terminal has no end of input; the console ends when the user quits

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass  # the client does not signal the console

    def pause_writing(self) -> None:
        if self.console is not None:
            self.console.pause_output()

    def resume_writing(self) -> None:
        if self.console is not None:
            self.console.resume_output()

    def connection_lost(self, exc: Exception | None) -> None:
        self.finished = True
        self.stop_console()


# -- entry point ---------------------------------------------------------------------------


async def serve(settings: SshSettings, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or forever): prints where it listens and the key fingerprint."""
    if os.environ.get("LHC_CONSOLE_DEBUG"):
        logging.basicConfig(level=logging.INFO)
    else:
        logging.getLogger("asyncssh").setLevel(logging.CRITICAL)
    host_key, created = load_or_create_host_key(settings.host_key_path)
    server = ConsoleServer(settings)
    acceptor = await server.listen(host_key)
    sockets = acceptor.sockets
    port = sockets[0].getsockname()[1] if sockets else settings.port
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(
        f"lhc-console serve-ssh: {'generated' if created else 'host key'} "
        f"{settings.host_key_path}\n"
        f"lhc-console serve-ssh: host key fingerprint {host_key.get_fingerprint()} (ED25519)\n"
        f"lhc-console serve-ssh: listening on {host}:{port}; "
        f"at most {settings.max_sessions} sessions"
        + (f", idle timeout {settings.idle_timeout:g} s" if settings.idle_timeout else "")
        + f"; public keys from {settings.keys_dir}/<username>",
        flush=True,
    )
    try:
        await (stop.wait() if stop is not None else asyncio.Event().wait())
    finally:
        acceptor.close()
        for connection in list(server.connections):
            if connection.session is not None:
                connection.session.end("lhc-console: the server is shutting down.\r\n", 1)
            connection.close("server shutting down")
        if server.stopping:
            await asyncio.wait(set(server.stopping), timeout=5)
        await asyncio.sleep(0.1)  # let the close messages go out
