"""One console process on its own pseudo-terminal, for one SSH connection.

The SSH server never runs the console in its own process: each connection gets a child
(``python -m tui.serving.session_child``) whose stdin, stdout and stderr are the slave side of a
fresh pty, so a crash, a hang or a memory leak stays inside that connection, and Textual sees an
ordinary terminal (size, SIGWINCH, raw mode) exactly as over OpenSSH.

Who the child acts as is handed over on an inherited socketpair, never on the command line or
in the environment's values: the database URL may hold a password (``ps`` would show it), and
the child checks that the socket's peer is its own parent (see ``session_child``). Nothing the
SSH client sends reaches the child except keystrokes, the window size and a sanitised TERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import struct
import sys
import termios
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HANDOFF_ENV = "LHC_CONSOLE_HANDOFF_FD"
"""Names the inherited socket the child reads its handoff from (only the fd number)."""

CHILD_MODULE = "tui.serving.session_child"
DEFAULT_TERM = "xterm-256color"
_TERM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_READ_SIZE = 65536
_KILL_GRACE_S = 3.0

# What a terminal needs when a console is stopped from outside (idle timeout, disconnect): leave
# the alternate screen, show the cursor, stop mouse reporting and bracketed paste, reset colours.
TERMINAL_RESET = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[?1049l\x1b[?25h\x1b[0m"
)


def sanitise_term(term: str | None) -> str:
    """The client's TERM if it looks like a terminal name, else a safe default.

    It ends up in the child's environment and in terminfo lookups: no paths, no control bytes.
    """
    if term and _TERM_RE.fullmatch(term):
        return term
    return DEFAULT_TERM


def _clamp_size(cols: int, rows: int) -> tuple[int, int]:
    """A window size the pty accepts: 0 (unknown) becomes 80x24, huge values are capped."""
    cols = cols if 0 < cols <= 1000 else 80
    rows = rows if 0 < rows <= 1000 else 24
    return cols, rows


@dataclass(frozen=True)
class ConsoleLaunch:
    """What the child needs: the database and the account the server authenticated."""

    database_url: str
    actor_id: int
    term: str
    cols: int
    rows: int


class PtyConsole:
    """A console child process on a pty master, bridged to callbacks (the SSH channel).

    ``on_output`` receives the terminal's bytes; ``on_exit`` the exit status once the child has
    exited and its last output was delivered.
    """

    def __init__(
        self,
        launch: ConsoleLaunch,
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
    ) -> None:
        self.launch = launch
        self._on_output = on_output
        self._on_exit = on_exit
        self._master: int | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._pending = bytearray()
        self._reading = False
        self._paused = False
        self._loop = asyncio.get_running_loop()
        self._exited = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> None:
        """Open the pty, start the child on it and hand over the launch details."""
        master, slave = os.openpty()
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            cols, rows = _clamp_size(self.launch.cols, self.launch.rows)
            _set_window_size(master, cols, rows)
            env = _child_environment(self.launch.term, child_end.fileno())
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                CHILD_MODULE,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                pass_fds=(child_end.fileno(),),
                start_new_session=True,  # its own session, so the pty can be its controlling tty
                cwd=env["HOME"] if Path(env["HOME"]).is_dir() else "/",
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
            child_end.close()
        self._master = master
        with parent_end:
            payload = {"database_url": self.launch.database_url, "actor_id": self.launch.actor_id}
            parent_end.sendall(json.dumps(payload).encode("utf-8"))
        os.set_blocking(master, False)
        self._start_reading()
        self._loop.create_task(self._wait())

    # -- input from the client -------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Keystrokes for the console; buffered while the pty's input queue is full."""
        if self._master is None or self._exited:
            return
        self._pending += data
        self._flush()

    def _flush(self) -> None:
        if self._master is None:
            return
        while self._pending:
            try:
                written = os.write(self._master, self._pending)
            except BlockingIOError:
                self._loop.add_writer(self._master, self._flush)
                return
            except OSError:  # the child is gone; its exit is reported by _wait
                self._pending.clear()
                break
            del self._pending[:written]
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(self._master)

    def resize(self, cols: int, rows: int) -> None:
        """New window size: set it on the pty (the kernel signals the child) and nudge it."""
        if self._master is None or self._exited:
            return
        cols, rows = _clamp_size(cols, rows)
        with contextlib.suppress(OSError):
            _set_window_size(self._master, cols, rows)
        if self.pid is not None:
            # The kernel sends SIGWINCH to the pty's foreground process group; sending it to
            # the child's group as well covers the moment before it took the pty as its own.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGWINCH)

    # -- output to the client --------------------------------------------------------------

    def pause_output(self) -> None:
        """The client is slow: stop reading so the child blocks instead of memory growing."""
        self._paused = True
        self._stop_reading()

    def resume_output(self) -> None:
        self._paused = False
        if not self._exited:
            self._start_reading()

    def _start_reading(self) -> None:
        if self._master is not None and not self._reading and not self._paused:
            self._loop.add_reader(self._master, self._readable)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._master is not None and self._reading:
            self._loop.remove_reader(self._master)
            self._reading = False

    def _readable(self) -> None:
        """One read per wake-up, so one busy console cannot hold up the others."""
        self._read_once()

    def _read_once(self) -> bool:
        """Deliver one chunk; False when nothing is left (for now, or for good)."""
        if self._master is None:
            return False
        try:
            data = os.read(self._master, _READ_SIZE)
        except BlockingIOError:
            return False
        except OSError:  # EIO: every slave end is closed, the child has gone
            self._stop_reading()
            return False
        if not data:
            self._stop_reading()
            return False
        self._on_output(data)
        return True

    async def _wait(self) -> None:
        assert self._process is not None
        status = await self._process.wait()
        while self._read_once():  # what it wrote last, before the exit
            pass
        self._exited = True
        self._close_master()
        self._on_exit(status if status >= 0 else 128 - status)

    # -- stopping --------------------------------------------------------------------------

    async def stop(self) -> None:
        """Hang up on the console (as a closed terminal would), then kill it if it lingers."""
        process = self._process
        if process is None or process.returncode is not None:
            self._close_master()
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGHUP)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), _KILL_GRACE_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        self._close_master()

    def _close_master(self) -> None:
        if self._master is None:
            return
        self._stop_reading()
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_writer(self._master)
        os.close(self._master)
        self._master = None


def _set_window_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _child_environment(term: str, handoff_fd: int) -> dict[str, str]:
    """A fresh environment: nothing of the server's or the client's beyond what Textual needs.

    ``PYTHONPATH`` names the directory the server imported ``tui`` from, so the child runs the
    same code as the server, installed or from a checkout.
    """
    source_root = str(Path(__file__).resolve().parents[2])  # above tui/serving/
    return {
        "TERM": sanitise_term(term),
        "LANG": "C.UTF-8",
        "LC_CTYPE": "C.UTF-8",
        "PATH": os.defpath,
        "HOME": os.environ.get("HOME", "/"),
        "PYTHONPATH": source_root,
        "PYTHONIOENCODING": "utf-8",
        HANDOFF_ENV: str(handoff_fd),
    }
