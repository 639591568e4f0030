"""The console process the SSH server starts for one authenticated connection.

Not a command of ``lhc-console``: it starts the console already logged in, so it must only ever
run as a child of ``serve-ssh``. It takes its orders (database URL, account id) from a Unix
socket it inherits, never from arguments or environment values, and refuses unless

- the socket is really a socket (not a file or pipe someone redirected), and
- its peer, by the kernel's own credentials (``SO_PEERCRED``), is this process's parent,
  running as the same Unix user.

Whoever can satisfy that already runs code as the server's Unix user, and so can already read
and write the database file; the hidden entry gives them nothing new. Before starting, the
account is re-checked (it may have been disabled since the password was checked).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import stat
import struct
import sys
import termios
from dataclasses import dataclass

from store.errors import StoreError

from .pty_session import HANDOFF_ENV

_MAX_HANDOFF_BYTES = 64 * 1024
EXIT_REFUSED = 2


class HandoffError(Exception):
    """The process was not started by the SSH server (or the handoff is malformed)."""


@dataclass(frozen=True)
class Handoff:
    database_url: str
    actor_id: int


def receive_handoff() -> Handoff:
    """Read the launch details from the inherited socket, checking who sent them."""
    fd_text = os.environ.pop(HANDOFF_ENV, "")
    if not fd_text.isdigit():
        raise HandoffError("no handoff from the SSH server")
    fd = int(fd_text)
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise HandoffError("the handoff is not a socket")
        sock = socket.socket(fileno=fd)
    except OSError as error:
        raise HandoffError(f"cannot read the handoff: {error.strerror or error}") from error
    with sock:
        if sock.family != socket.AF_UNIX:
            raise HandoffError("the handoff is not a Unix socket")
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", creds)
        if pid != os.getppid() or uid != os.getuid():
            raise HandoffError("the handoff does not come from this process's parent")
        data = bytearray()
        while chunk := sock.recv(4096):
            data += chunk
            if len(data) > _MAX_HANDOFF_BYTES:
                raise HandoffError("the handoff is too long")
    try:
        payload = json.loads(data)
        url, actor_id = payload["database_url"], payload["actor_id"]
    except (ValueError, TypeError, KeyError) as error:
        raise HandoffError("the handoff is malformed") from error
    if not isinstance(url, str) or type(actor_id) is not int or actor_id <= 0:
        raise HandoffError("the handoff is malformed")
    return Handoff(url, actor_id)


def _take_terminal() -> None:
    """Make the pty on stdin this session's controlling terminal, so resizes send SIGWINCH."""
    if os.isatty(0):
        # Already ours, or not allowed: then the server's own SIGWINCH still reaches us.
        with contextlib.suppress(OSError):
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def main() -> int:
    try:
        handoff = receive_handoff()
    except HandoffError as error:
        print(
            f"lhc-console: {error}. This is the SSH server's console process; "
            "start the console with 'lhc-console' and log in.",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    _take_terminal()
    # Peewee for this URL (for a SQLite file without the server drivers: ``store.drivers``),
    # before the store is imported: one console process per SSH connection.
    from store.drivers import load_peewee_for

    load_peewee_for(handoff.database_url)
    from store.database import database_errors, open_database
    from store.lookup import is_empty
    from store.remote_login import account_for_session
    from tui.command_line.output import say
    from tui.shell.app import NO_USERS_MESSAGE, run_console

    try:
        db = open_database(handoff.database_url)
        try:
            with database_errors():
                empty = is_empty()
            if empty:  # emptied since the server started: no first run from afar
                say(f"lhc-console: {NO_USERS_MESSAGE}", err=True)
                return EXIT_REFUSED
            account_for_session(handoff.actor_id)
        finally:
            db.close()
    except StoreError as error:
        say(f"lhc-console: {error}", err=True)  # it may quote a name: its controls escaped
        return EXIT_REFUSED
    # Never local: a visitor over SSH is not offered the first-run screen, whatever happens.
    return run_console(handoff.database_url, actor_id=handoff.actor_id, local=False)


if __name__ == "__main__":
    raise SystemExit(main())
