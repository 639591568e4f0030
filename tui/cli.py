"""The ``lhc-console`` command: the TUI without a subcommand, reports and loaders with one.

Exit codes: 0 done (or "yes" for ``can``), 1 "no" for ``can`` and unexpected failures,
2 refused or invalid input, with the store's message on stderr. ``--json`` prints one JSON
object to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from store import PermissionSet, Scope, StoreError, chat_access, who_grants
from store.database import Database, open_database, resolve_database_url
from store.lookup import UserRef, user_named

from . import reports, script, serve

EXIT_OK = 0
EXIT_NO = 1
EXIT_REFUSED = 2


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (sqlite:///path, mysql://..., postgresql://...); "
        "default: $LHC_CONSOLE_DB or the embedded SQLite file",
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

    p = command("scope", "what USER sees, edits and hands out (SPEC §3)")
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
    command("lint", "the risk report: settings that do not do what they seem (SPEC §7)")
    serve.add_commands(command)
    script.add_parsers(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = resolve_database_url(getattr(args, "db", None))
    if args.command is None:
        from .app import run_console

        return run_console(url)
    try:
        db = open_database(url)
        try:
            return COMMANDS[args.command](args, db)
        finally:
            db.close()
    except StoreError as error:
        print(f"lhc-console: {error}", file=sys.stderr)
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


def _user(username: str) -> UserRef:
    return user_named(username)


def _emit(args: argparse.Namespace, report: dict[str, Any], text: Callable[[], str]) -> int:
    if args.json:
        print(json.dumps(report, ensure_ascii=False, sort_keys=False))
    else:
        print(text())
    return EXIT_OK


def _scope(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    report = reports.scope_report(user, Scope.compute(user.id, PermissionSet.for_user(user.id)))
    return _emit(args, report, lambda: _lines(report))


def _perms(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    report = reports.perms_report(PermissionSet.for_user(user.id))

    def text() -> str:
        lines = [
            f"{p['module']}/{p['function']}"
            + (f"  {json.dumps(p['limitation'])}" if p["limitation"] else "")
            + "  <- "
            + ", ".join(f"group {g['group_id']} role {g['role_id']}" for g in p["granted_by"])
            for p in report["permissions"]
        ]
        lines += [f"excluded: {e['module']}/{e['function']}" for e in report["excluded"]]
        return "\n".join(lines) or "(no permissions)"

    return _emit(args, report, text)


def _who_grants(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    report = reports.who_grants_report(user, who_grants(user.id, args.module, args.function))

    def text() -> str:
        head = f"{args.module}/{args.function}: {'granted' if report['granted'] else 'not granted'}"
        rows = [
            f"  {r['type']:7} {r['module']}/{r['function']} via group '{r['group_name']}' "
            f"role '{r['role_name']}'" + (" — " + r["note"])
            for r in report["rows"]
        ]
        return "\n".join([head, *rows])

    return _emit(args, report, text)


def _can(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    allowed = PermissionSet.for_user(user.id).has(args.module, args.function)
    print("yes" if allowed else "no")
    return EXIT_OK if allowed else EXIT_NO


def _access(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    access = chat_access(user.id)
    report = reports.access_report(user, access)

    def text() -> str:
        if not access.departments:
            return "reads no department" + (" (account disabled)" if access.disabled else "")
        return "\n".join(
            f"{d.name} (#{d.department_id}): {'read/write' if d.write else 'read only'}"
            f" — {'; '.join(d.sources)}"
            for d in access.departments
        )

    return _emit(args, report, text)


def _sample(args: argparse.Namespace, db: Database) -> int:
    from seed.sample import load_sample

    report = load_sample(db, replace=args.replace)
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        print("Loaded the sample configuration:")
        for table, count in report.counts.items():
            print(f"  {table:36} {count:>6}")
        print("Log in as admin/admin, or 'Teamleader US'/demo (sample passwords only).")
    return EXIT_OK


def _import(args: argparse.Namespace, db: Database) -> int:
    from seed.importer import import_dump

    report = import_dump(db, args.file, replace=args.replace, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
        return EXIT_REFUSED if report.conflicts else EXIT_OK
    verb = "Would import" if args.dry_run else "Imported"
    print(f"{verb} {report.total_rows} rows from {args.file}:")
    for table, count in report.counts.items():
        print(f"  {table:36} {count:>8}")
    for table, columns in report.ignored_columns.items():
        print(f"  (ignored columns of {table} the console does not know: {', '.join(columns)})")
    if report.usernames:
        print("Users: " + ", ".join(report.usernames))
    if report.group_names:
        print("Groups: " + ", ".join(report.group_names))
    for conflict in report.conflicts:
        print(f"Conflict: {conflict}", file=sys.stderr)
    if args.dry_run:
        print("Dry run: nothing was changed.")
    return EXIT_REFUSED if report.conflicts else EXIT_OK


def _export(args: argparse.Namespace, db: Database) -> int:
    from seed.exporter import export_dump

    try:
        counts = export_dump(args.file)
    except OSError as error:
        raise StoreError(f"Cannot write {args.file}: {error.strerror or error}") from error
    if args.json:
        print(json.dumps({"file": args.file, "counts": counts}))
    else:
        print(f"Exported {sum(counts.values())} rows of {len(counts)} tables to {args.file}")
    return EXIT_OK


def _lint(args: argparse.Namespace, db: Database) -> int:
    from store.database import read_transaction
    from store.risk import risk_report

    with read_transaction(db):
        report = risk_report()
    return _emit(args, report.as_json(), lambda: reports.risk_text(report))


def _lines(report: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in report.items() if key != "user")


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], int]] = {
    "scope": _scope,
    "perms": _perms,
    "who-grants": _who_grants,
    "can": _can,
    "access": _access,
    "sample": _sample,
    "import": _import,
    "export": _export,
    "lint": _lint,
    "serve-ssh": serve.run_ssh,
    "serve-web": serve.run_web,
    **script.COMMANDS,
}
