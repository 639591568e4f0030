"""Files the console reads or writes by name must be regular files: a pipe never hangs it.

Opening a named pipe (FIFO) waits until someone opens its other end, and reading a pipe or a
device waits for data that may never come, so ``--new-password-file fifo``, ``apply fifo``, a
``password_file`` naming one, or ``export fifo`` hung the command forever. Every file named
on the command line (password files, apply files, dumps, export targets, the SQLite database)
is opened here: with ``O_NONBLOCK`` (the open itself never waits), then checked with ``fstat``
on what was opened (no race with a rename), and anything but a regular file is refused with
``NotARegularFile`` naming the path and what it is. Standard input (``-``) is not a file name:
the commands that take it read ``sys.stdin`` themselves, as before.

``NotARegularFile`` is an ``OSError``, so each caller's existing ``except OSError`` turns it
into its own refusal ("Cannot read the password file 'fifo': not a regular file (a named
pipe)"), exactly as it does for a missing or unreadable file.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO, Literal

KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotARegularFile(OSError):
    """The path names a folder, pipe, device or socket, not a regular file."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        kind = next((name for test, name in KINDS if test(mode)), "not a file")
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", os.fspath(path))


def check_regular(path: str | os.PathLike[str]) -> None:
    """Refuse (``NotARegularFile``) a path that exists and is not a regular file; a missing
    path passes (the caller creates it, or says it is missing)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise NotARegularFile(path, mode)


def open_for_reading(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for reading in binary, refused unless it is a regular file."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    return _checked(descriptor, path, "rb")


def open_for_writing(path: str | os.PathLike[str], mode: int) -> BinaryIO:
    """``path`` created (with ``mode``) or truncated for writing, unless it exists as anything
    but a regular file: that is refused before it is opened (a pipe without a reader would
    make the open fail, one with a reader would receive the data) and checked again after."""
    check_regular(path)
    descriptor = os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC, mode
    )
    return _checked(descriptor, path, "wb")


def _checked(
    descriptor: int, path: str | os.PathLike[str], how: Literal["rb", "wb"]
) -> BinaryIO:
    """The open descriptor as a file object if it is a regular file; closed and refused if not."""
    try:
        status = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(status):
            raise NotARegularFile(path, status)
        os.set_blocking(descriptor, True)
        handle: BinaryIO = os.fdopen(descriptor, how)
    except BaseException:
        os.close(descriptor)
        raise
    return handle
