"""Who a scripting command acts as (``--as``), and where its passwords come from.

A script run as a team leader must do exactly what that team leader could do in the console, so
every scripting command logs in like the login screen does (``Session.login``: the same checks,
the same ``lh_users_login`` row, the same lockout) and then goes through that session's services.

Passwords never come from the command line (argv is visible to every user of the machine in
``ps`` and lands in shell histories). The actor's password comes from ``--password-stdin``, else
``$LHC_CONSOLE_PASSWORD``, else a prompt at the terminal. A new password (``user add``,
``user passwd``, ``apply``) comes from ``--new-password-file FILE`` (``-`` is standard input),
``--generate-password``, or a prompt asked twice.
"""

from __future__ import annotations

import argparse
import getpass
import io
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from store.errors import StoreError
from store.regular_files import open_for_reading

if TYPE_CHECKING:
    from store import Session
    from store.database import Database

PASSWORD_ENV = "LHC_CONSOLE_PASSWORD"
GENERATED_PASSWORD_BYTES = 12  # 16 URL-safe characters, well inside bcrypt's 72 bytes


class CommandError(StoreError):
    """The command line itself is incomplete or contradictory (exit 2, like a refusal)."""


def add_actor_options(parser: argparse.ArgumentParser) -> None:
    """``--as`` and ``--password-stdin``, which every scripting subcommand takes."""
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="USERNAME",
        help="log in as this user (username or e-mail); every command acts within their scope",
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"read the --as user's password from the first line of stdin "
        f"(default: ${PASSWORD_ENV}, else a prompt)",
    )


def add_new_password_options(parser: argparse.ArgumentParser) -> None:
    """Where a new password comes from; without either, a terminal prompt asks twice."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--new-password-file",
        metavar="FILE",
        help="read the new password from the first line of FILE ('-' for stdin)",
    )
    source.add_argument(
        "--generate-password",
        action="store_true",
        help="generate a random password and print it once",
    )


def login(args: argparse.Namespace, db: Database, doing: str) -> Session:
    """Log in as ``--as``, or refuse with a message that says ``--as`` is needed."""
    if not getattr(args, "actor", None):
        raise CommandError(
            f"{doing} acts as a logged-in user: add --as USERNAME (the password comes from "
            f"--password-stdin, ${PASSWORD_ENV} or a prompt)"
        )
    from store import Session  # here, not at import: the parser is built before the store loads

    return Session.login(db, args.actor, _actor_password(args), ip="cli")


MAX_PASSWORD_LINE = 4096
"""Characters read for a password line at most (bcrypt uses only the first 72 bytes)."""


def _actor_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        if getattr(args, "new_password_file", None) == "-":
            raise CommandError(
                "--password-stdin and --new-password-file - both read stdin: "
                f"give one of the passwords another way (${PASSWORD_ENV}, a file)"
            )
        return _first_line(sys.stdin.readline(MAX_PASSWORD_LINE + 1), "stdin")
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        if not from_env:  # refused here, never tried: an unset-looking variable locks nobody
            raise CommandError(f"${PASSWORD_ENV} is set but empty: no password to try")
        return from_env
    if sys.stdin.isatty():
        typed = getpass.getpass(f"Password for {args.actor}: ")
        if not typed:
            raise CommandError("No password typed: nothing was tried")
        return typed
    raise CommandError(
        f"No password for {args.actor!r}: pipe it with --password-stdin, set ${PASSWORD_ENV}, "
        "or run at a terminal to be asked"
    )


@dataclass(frozen=True)
class NewPassword:
    """A new password and whether the console made it up (then it is printed, once)."""

    value: str
    generated: bool


def new_password(args: argparse.Namespace, username: str) -> NewPassword:
    """The new password for ``username`` from the command's chosen source (read once: a
    measured command reads it before its transaction, ``commands.measured``)."""
    prepared: NewPassword | None = getattr(args, "prepared_password", None)
    if prepared is not None:
        return prepared
    if getattr(args, "generate_password", False):
        return NewPassword(generate_password(), True)
    path = getattr(args, "new_password_file", None)
    if path:
        return NewPassword(read_password_file(path), False)
    check_new_password_source(args, username)
    first = getpass.getpass(f"New password for {username}: ")
    again = getpass.getpass(f"New password for {username} again: ")
    if first != again:
        raise CommandError("The two passwords differ; nothing was changed")
    return NewPassword(first, False)


def check_new_password_source(args: argparse.Namespace, username: str | None = None) -> None:
    """Refuse before logging in when a new password is needed and nothing can give one."""
    if args.generate_password or args.new_password_file or sys.stdin.isatty():
        return
    whom = f" for {username!r}" if username else ""
    raise CommandError(
        f"No new password{whom}: give --new-password-file FILE or --generate-password, "
        "or run at a terminal to be asked"
    )


def read_password_file(path: str | Path) -> str:
    """The first line of a password file (``-``: stdin), without its line ending; a path must
    name a regular file (``store.regular_files``: a pipe or device is refused, never waited on)."""
    if str(path) == "-":
        return _first_line(sys.stdin.readline(MAX_PASSWORD_LINE + 1), "stdin")
    try:
        with io.TextIOWrapper(open_for_reading(path), encoding="utf-8") as handle:
            return _first_line(handle.readline(MAX_PASSWORD_LINE + 1), str(path))
    except OSError as error:
        raise CommandError(
            f"Cannot read the password file {str(path)!r}: {error.strerror or error}"
        ) from error
    except UnicodeDecodeError as error:
        raise CommandError(f"The password file {str(path)!r} is not UTF-8 text") from error


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def _first_line(line: str, where: str) -> str:
    """The password on a line read with at most ``MAX_PASSWORD_LINE + 1`` characters: a longer
    line (``/dev/zero``, a wrong file) is refused instead of read whole into memory."""
    if len(line) > MAX_PASSWORD_LINE and not line.endswith("\n"):
        raise CommandError(
            f"The first line of {where} is longer than {MAX_PASSWORD_LINE} characters: "
            "not a password"
        )
    password = line.rstrip("\r\n")
    if not password:
        raise CommandError(f"No password on the first line of {where}")
    return password
