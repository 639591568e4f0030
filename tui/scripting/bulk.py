"""Several users in one command: ``user groups A B --add X``, ``--users-from FILE`` (``-``: stdin).

``user groups``, ``user depgroups``, ``user departments`` and ``user edit --disabled`` take more
than one username. The change is made for every user through ``session.bulk`` (the store's
bulk service: each user checked by the same rules as one at a time) in one transaction, all or
nothing: if any user is refused (or unknown to the actor), nothing is written and the command
exits 2 naming every refused user with the reason.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from store import Session
from store.bulk import BULK_LIMIT, BulkEdit, BulkOutcome, BulkReport
from store.errors import NotFoundError, StoreError
from store.regular_files import open_for_reading

from .actor import CommandError
from .output import emit

MAX_USERS_FILE = 1 << 20
"""The most bytes ``--users-from`` reads: a thousand long usernames fit many times over."""


def usernames(args: argparse.Namespace) -> list[str]:
    """The usernames of the command line and of ``--users-from``, each once, in order (read
    once: the impact preview and the command both ask, and stdin cannot be read twice)."""
    cached: list[str] | None = getattr(args, "resolved_usernames", None)
    if cached is not None:
        return cached
    names = list(args.usernames or [])
    if args.users_from is not None:
        names += _read_names(args.users_from)
    if not names:
        raise CommandError("Name at least one user (USERNAME… or --users-from FILE)")
    unique = list(dict.fromkeys(names))
    if len(unique) > BULK_LIMIT:
        raise CommandError(
            f"{len(unique)} users is more than one command may change ({BULK_LIMIT})"
        )
    args.resolved_usernames = unique
    return unique


def is_bulk(args: argparse.Namespace) -> bool:
    """More than one user, or a list file: the all-or-nothing bulk path."""
    return args.users_from is not None or len(args.usernames or []) != 1


def _read_names(path: str) -> list[str]:
    if path == "-":
        text = sys.stdin.read(MAX_USERS_FILE + 1)
        where = "stdin"
    else:
        where = repr(path)
        try:
            with open_for_reading(path) as handle:  # a pipe or a device: refused, not waited on
                data = handle.read(MAX_USERS_FILE + 1)
        except OSError as error:
            raise CommandError(
                f"Cannot read the users file {where}: {error.strerror or error}"
            ) from error
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CommandError(f"The users file {where} is not UTF-8 text") from error
    if len(text) > MAX_USERS_FILE:
        raise CommandError(f"The users file {where} is larger than {MAX_USERS_FILE} bytes")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def run_bulk(args: argparse.Namespace, session: Session, edit: BulkEdit, done: str) -> int:
    """Resolve every name, make ``edit`` for all of them or for none, and report."""
    ids: list[int] = []
    unknown: list[BulkOutcome] = []
    for name in usernames(args):
        try:
            ids.append(session.users.find(name).id)
        except NotFoundError as error:
            unknown.append(BulkOutcome(0, name, refusal=str(error)))
    if unknown:
        checked = session.bulk.run(ids, edit, dry_run=True).outcomes if ids else ()
        report = BulkReport((*unknown, *checked), written=False)
        raise StoreError(report.refusal_message())
    report = session.bulk.run(ids, edit, dry_run=False)  # BulkRefused: exit 2, every refusal
    return _emit(args, report, done)


def _emit(args: argparse.Namespace, report: BulkReport, done: str) -> int:
    changed, unchanged = report.changed, report.unchanged
    result: dict[str, Any] = {
        "changed": len(changed),
        "unchanged": len(unchanged),
        "users": [
            {"id": o.user_id, "username": o.username, "changed": o.changes} for o in report.outcomes
        ],
    }
    lines = [f"{done} {len(changed)} user(s); {len(unchanged)} already so"]
    lines += [f"  changed {o.username!r} (#{o.user_id})" for o in changed]
    lines += [f"  unchanged {o.username!r} (#{o.user_id})" for o in unchanged]
    return emit(args, result, lines)
