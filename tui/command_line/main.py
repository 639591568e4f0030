"""The ``lhc-console`` command: the TUI without a subcommand, reports and loaders with one.

This module only parses the command line. Without a command it starts the console
(``tui.shell.app``), whose login screen is painted before the store (Peewee, the models, the
drivers) is loaded, so nothing here imports the store at module level: a command's handler
(``tui.command_line.commands``, ``tui.scripting.commands``, ``tui.serving.commands``) is
imported when that command runs, after Peewee was loaded for the URL (``store.drivers``:
without the MySQL and PostgreSQL drivers for a SQLite file). Arguments that name no command
(none, or only ``--db URL``) start the console without building the parser of the forty-odd
commands at all.

Exit codes: 0 done (or "yes" for ``can``), 1 "no" for ``can`` and unexpected failures,
2 refused or invalid input, with the store's message on stderr. ``--json`` prints one JSON
object to stdout. Everything a command prints goes through ``tui.command_line.output``: stored
names' control, bidi and zero-width characters reach the terminal as escapes (``\x1b``), never
raw.

A SQLite file that does not exist is created only by the console itself, ``sample`` and
``import`` (not ``--dry-run``), in an existing folder, and they say so on stderr with its
absolute path; every other command exits 2 with "no database at PATH" and creates nothing
(``store.locations.sqlite_file``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from store.errors import StoreError
from store.locations import resolve_database_url, sqlite_path

if TYPE_CHECKING:
    import argparse

    from store.database import Database

EXIT_OK = 0
EXIT_NO = 1
EXIT_REFUSED = 2

CREATING_COMMANDS = frozenset({"sample", "import"})
"""The commands that may create a missing SQLite file (``import --dry-run`` excepted)."""


def build_parser() -> argparse.ArgumentParser:
    import argparse  # here: the console's own start parses nothing (``console_database``)

    from tui.scripting import commands as scripting
    from tui.scripting import review
    from tui.serving import commands as serving

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (sqlite:///relative/file, sqlite:////absolute/file, a bare path, "
        "mysql://..., postgresql://...); default: $LHC_CONSOLE_DB or the embedded SQLite file",
    )
    parser = argparse.ArgumentParser(
        prog="lhc-console",
        description="Keyboard-first console for Live Helper Chat users, groups, roles and "
        "departments. Without a command it starts the terminal UI.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        if json_flag:
            p.add_argument("--json", action="store_true", help="print one JSON object")
        return p

    p = command("scope", "which users and groups USER sees, edits and hands out, and why")
    p.add_argument("username")
    p = command("perms", "USER's effective permissions and what grants them")
    p.add_argument("username")
    p = command("who-grants", "every policy row that gives (or takes) MODULE/FUNCTION to USER")
    p.add_argument("username")
    p.add_argument("module")
    p.add_argument("function")
    p = command("can", "exit 0 if USER has MODULE/FUNCTION, 1 if not", json_flag=False)
    p.add_argument("username")
    p.add_argument("module")
    p.add_argument("function")
    p = command("access", "which departments' chats USER can read and write, and why")
    p.add_argument("username")
    p = command("sample", "load the documented three-level sample configuration")
    p.add_argument("--replace", action="store_true", help="empty the permission tables first")
    p = command("import", "import the permission tables of an LHC MySQL/MariaDB dump")
    p.add_argument("file", help="the .sql (or .sql.gz) dump, as mysqldump or Adminer write it")
    p.add_argument("--replace", action="store_true", help="empty the permission tables first")
    p.add_argument(
        "--dry-run", action="store_true", help="check and count everything, change nothing"
    )
    p = command("export", "write the permission tables as a MySQL-compatible dump")
    p.add_argument("file", help="where to write the .sql file")
    command(
        "lint",
        "the risk report: settings that do not do what they seem",
    )
    p = command(
        "unlock",
        "enable USER and clear their failed logins (for whoever holds the database)",
        json_flag=False,
    )
    p.add_argument("username")
    review.add_parser(command)
    serving.add_commands(command)
    scripting.add_parsers(sub, common)
    return parser


def console_database(argv: Sequence[str]) -> tuple[bool, str | None]:
    """Whether ``argv`` just starts the console, and the ``--db`` it gives (None: the default).

    Only the plain forms: no arguments, ``--db URL`` or ``--db=URL``. Anything else, ``-h``
    and abbreviations included, goes to the full parser, which answers it as before.
    """
    if not argv:
        return True, None
    if len(argv) == 2 and argv[0] == "--db" and not argv[1].startswith("-"):
        return True, argv[1]
    if len(argv) == 1 and argv[0].startswith("--db="):
        return True, argv[0].removeprefix("--db=")
    return False, None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    console, db_option = console_database(arguments)
    if console:
        return _start_console(db_option)
    from .output import printable_streams

    # Every line a command prints, stdout and stderr, argparse's errors and the servers' logs
    # included, shows stored text's controls as escapes (``tui.command_line.output``).
    with printable_streams():
        return _command(arguments)


def _command(arguments: list[str]) -> int:
    """Parse and run a command; its refusals and failures become one line on stderr."""
    args = build_parser().parse_args(arguments)
    if args.command is None:
        return _start_console(getattr(args, "db", None))
    url = resolve_database_url(getattr(args, "db", None))
    may_create = args.command in CREATING_COMMANDS and not getattr(args, "dry_run", False)
    try:
        db = _open(url, create=may_create)
        try:
            return _handler(args.command)(args, db)
        finally:
            db.close()
    except StoreError as error:
        print(f"lhc-console: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except UnicodeEncodeError as error:  # a name typed as bytes that are not UTF-8
        if "surrogate" not in str(error):
            raise
        print(
            "lhc-console: an argument is not UTF-8 text (a name or value with bytes that are "
            "not UTF-8); nothing was changed",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    except BrokenPipeError:  # the reader (head, less) went away: nothing left to say
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("lhc-console: interrupted", file=sys.stderr)
        return EXIT_NO
    except Exception as error:  # a bug: say so plainly; the details on request
        if os.environ.get("LHC_CONSOLE_DEBUG"):
            raise
        print(
            f"lhc-console: internal error ({type(error).__name__}: {error}); "
            "set LHC_CONSOLE_DEBUG=1 for details",
            file=sys.stderr,
        )
        return EXIT_NO


def _start_console(db_option: str | None) -> int:
    from tui.shell.app import run_console

    url = resolve_database_url(db_option)
    try:
        path = sqlite_path(url)
    except StoreError:  # a malformed URL: the console says so on its problem screen
        path = None
    new = path is not None and not path.exists()
    code = run_console(url)
    if new and path is not None and path.exists():  # the console created it (in a worker)
        from .output import say

        say(f"lhc-console: created a new database at {path}", err=True)
    return code


def _handler(command: str) -> Callable[[argparse.Namespace, Database], int]:
    """The function that runs ``command``, its module imported only now."""
    from tui.scripting import commands as scripting
    from tui.serving import commands as serving

    servers = {"serve-ssh": serving.run_ssh, "serve-web": serving.run_web}
    if command in servers:
        return servers[command]
    if command in scripting.COMMANDS:
        return scripting.COMMANDS[command]
    from .commands import COMMANDS

    return COMMANDS[command]


def _open(url: str, *, create: bool = False) -> Database:
    """Open the database for a command, Peewee loaded for its URL first (``store.drivers``).

    A missing SQLite file is created only with ``create`` (and said on stderr); otherwise it
    is the store's "no database at PATH" (exit 2), and nothing is created.
    """
    from store.drivers import load_peewee_for

    load_peewee_for(url)
    from store.database import open_database

    db = open_database(url, create=create)
    created = getattr(db, "console_created", None)
    if created is not None:
        print(f"lhc-console: created a new database at {created}", file=sys.stderr)
    return db
