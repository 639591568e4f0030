"""What the built-in commands do: the reports (``scope``, ``perms``, ``who-grants``, ``can``,
``access``, ``lint``) and the loaders (``sample``, ``import``, ``export``).

Kept apart from ``main``, which parses the command line: ``lhc-console`` without a command
starts the console, and must not load the store (Peewee, the models, the database drivers)
before its login screen is painted. This module imports the store; ``main`` imports it only to
run one of these commands, after the database is open.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from store import PermissionSet, Scope, StoreError, chat_access, who_grants
from store.database import Database
from store.lookup import UserRef, names_of, user_named

from . import reports
from .main import EXIT_NO, EXIT_OK, EXIT_REFUSED
from .output import say_json, say_lines


def _user(username: str) -> UserRef:
    return user_named(username)


def _emit(args: argparse.Namespace, report: dict[str, Any], text: Callable[[], list[str]]) -> int:
    """``--json``: the report; otherwise the lines ``text`` makes (only then: names are looked
    up for them). Both through ``output``: names never reach the terminal raw."""
    if args.json:
        say_json(report)
    else:
        say_lines(text())
    return EXIT_OK


def scope_command(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    report = reports.scope_report(user, Scope.compute(user.id, PermissionSet.for_user(user.id)))
    return _emit(args, report, lambda: _lines(report))


def perms_command(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    permissions = PermissionSet.for_user(user.id)
    report = reports.perms_report(permissions)
    # Each grant by name and id, as who-grants names its rows (the JSON keeps the ids).
    sources = {
        (r.group_id, r.role_id): f"group '{r.group_name}' (#{r.group_id}) "
        f"role '{r.role_name}' (#{r.role_id})"
        for r in permissions.rows
    }

    def text() -> list[str]:
        lines = [
            f"{p['module']}/{p['function']}"
            + (f"  {json.dumps(p['limitation'])}" if p["limitation"] else "")
            + "  <- "
            + ", ".join(
                sources.get(
                    (g["group_id"], g["role_id"]), f"group #{g['group_id']} role #{g['role_id']}"
                )
                for g in p["granted_by"]
            )
            for p in report["permissions"]
        ]
        lines += [f"excluded: {e['module']}/{e['function']}" for e in report["excluded"]]
        return lines or ["(no permissions)"]

    return _emit(args, report, text)


def who_grants_command(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    report = reports.who_grants_report(user, who_grants(user.id, args.module, args.function))

    def text() -> list[str]:
        head = f"{args.module}/{args.function}: {'granted' if report['granted'] else 'not granted'}"
        rows = [
            f"  {r['type']:7} {r['module']}/{r['function']} via group '{r['group_name']}' "
            f"role '{r['role_name']}'" + (" — " + r["note"])
            for r in report["rows"]
        ]
        return [head, *rows]

    return _emit(args, report, text)


def can_command(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    allowed = PermissionSet.for_user(user.id).has(args.module, args.function)
    say_lines(["yes" if allowed else "no"])
    return EXIT_OK if allowed else EXIT_NO


def access_command(args: argparse.Namespace, db: Database) -> int:
    user = _user(args.username)
    access = chat_access(user.id)
    report = reports.access_report(user, access)

    def text() -> list[str]:
        if not access.departments:
            return ["reads no department" + (" (account disabled)" if access.disabled else "")]
        return [
            f"{d.name} (#{d.department_id}): {'read/write' if d.write else 'read only'}"
            f" — {'; '.join(d.sources)}"
            for d in access.departments
        ]

    return _emit(args, report, text)


def sample_command(args: argparse.Namespace, db: Database) -> int:
    from seed.report import Authority
    from seed.sample import load_sample

    # Whoever holds the database (its file or its URL's password) may replace it.
    report = load_sample(db, replace=args.replace, by=Authority.LOCAL)
    if args.json:
        say_json(report.as_json())
    else:
        say_lines(
            [
                "Loaded the sample configuration:",
                *(f"  {table:36} {count:>6}" for table, count in report.counts.items()),
                "Log in as admin/admin, or 'Teamleader US'/demo (sample passwords only).",
            ]
        )
    return EXIT_OK


def import_command(args: argparse.Namespace, db: Database) -> int:
    from seed.importer import import_dump
    from seed.report import Authority

    report = import_dump(
        db, args.file, replace=args.replace, dry_run=args.dry_run, by=Authority.LOCAL
    )
    if args.json:
        say_json(report.as_json())
        return EXIT_REFUSED if report.conflicts else EXIT_OK
    verb = "Would import" if args.dry_run else "Imported"
    lines = [f"{verb} {report.total_rows} rows from {args.file}:"]
    lines += [f"  {table:36} {count:>8}" for table, count in report.counts.items()]
    lines += [
        f"  (ignored columns of {table} the console does not know: {', '.join(columns)})"
        for table, columns in report.ignored_columns.items()
    ]
    if report.usernames:
        lines.append("Users: " + ", ".join(report.usernames))
    if report.group_names:
        lines.append("Groups: " + ", ".join(report.group_names))
    say_lines(lines)
    say_lines((f"Conflict: {conflict}" for conflict in report.conflicts), err=True)
    if args.dry_run:
        say_lines(["Dry run: nothing was changed."])
    return EXIT_REFUSED if report.conflicts else EXIT_OK


def export_command(args: argparse.Namespace, db: Database) -> int:
    from seed.exporter import export_dump

    try:
        counts = export_dump(args.file)
    except OSError as error:
        raise StoreError(f"Cannot write {args.file}: {error.strerror or error}") from error
    if args.json:
        say_json({"file": args.file, "counts": counts})
    else:
        say_lines([f"Exported {sum(counts.values())} rows of {len(counts)} tables to {args.file}"])
    return EXIT_OK


def lint_command(args: argparse.Namespace, db: Database) -> int:
    from store.database import read_transaction
    from store.risk import risk_report

    with read_transaction(db):
        report = risk_report()
    return _emit(args, report.as_json(), lambda: reports.risk_text(report))


def _lines(report: dict[str, Any]) -> list[str]:
    """The scope as text: each object by name with its id, as ``who-grants`` names its rows."""
    named = _scope_names(report)
    lines = []
    for key, value in report.items():
        if key == "user":
            continue
        if isinstance(value, list) and key in named:
            names = named[key]
            value = ", ".join(f"{names.get(i, '?')} (#{i})" for i in value) or "none"
        lines.append(f"{key}: {value}")
    return lines


SCOPE_KINDS = {
    "usable_groups": "group",
    "assignable_groups": "group",
    "required_groups": "group",
    "visible_users": "user",
    "editable_users": "user",
    "assignable_department_groups": "department_group",
    "assignable_departments": "department",
}
"""The id lists of a scope report and what their ids name."""


def _scope_names(report: dict[str, Any]) -> dict[str, dict[int, str]]:
    """The names of the ids the scope report lists, per key."""
    return {
        key: names_of(kind, (i for i in report.get(key) or [] if isinstance(i, int)))
        for key, kind in SCOPE_KINDS.items()
    }


Handler = Callable[[argparse.Namespace, Database], int]


def unlock_command(args: argparse.Namespace, db: Database) -> int:
    """Enable an account and clear its failed logins; no ``--as``: it is for whoever holds the
    database, like ``import`` (the way back in when the only administrator is locked)."""
    from store.auth import unlock

    user, settled = unlock(args.username)
    done = f"Unlocked {user.username!r} (#{user.id}): enabled, "
    say_lines([done + f"{settled} failed login(s) no longer count"])
    return EXIT_OK


def review_command(args: argparse.Namespace, db: Database) -> int:
    """The access review as ``--as`` (``tui.scripting.review``)."""
    from tui.scripting.review import run

    return run(args, db)


COMMANDS: dict[str, Handler] = {
    "scope": scope_command,
    "perms": perms_command,
    "who-grants": who_grants_command,
    "can": can_command,
    "access": access_command,
    "sample": sample_command,
    "import": import_command,
    "export": export_command,
    "lint": lint_command,
    "unlock": unlock_command,
    "review": review_command,
}
