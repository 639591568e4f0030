"""``lhc-console review``: the access review on the command line, as the ``--as`` actor.

The users the actor may edit, with their last login and flags (never logged in, idle, locked,
disabled, in no required group), through ``session.review`` as the review screen shows them.
Paged like ``user list``: ``--limit`` users, then ``--after ID`` (the last id printed) for the
next ones, in the same order. The parser is built on every start of ``lhc-console``, before the
store is loaded, so the flag words and the bound on ``--idle-days`` are written here again
(``store.review.FLAGS`` and ``MAX_IDLE_DAYS``; a test holds them equal).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .actor import add_actor_options, login
from .commands import id_number, whole_number

if TYPE_CHECKING:
    from store.database import Database
    from store.review import ReviewPage, ReviewRow, ReviewSummary

FLAG_WORDS = ("never", "idle", "locked", "disabled", "no-required")
MAX_IDLE_DAYS = 36500
DEFAULT_IDLE_DAYS = 90
SORTS = {"last-login": "last_login", "username": "username"}
DESCRIPTION = (
    "the users you may edit, with their last login (UTC), flagged: never logged in, idle "
    "(no login for N days), locked by failed logins, disabled, in no required group"
)


def idle_days(value: str) -> int:
    """``--idle-days 90``: a whole number of days from 1 to ``MAX_IDLE_DAYS``."""
    days = whole_number(value)
    if not 1 <= days <= MAX_IDLE_DAYS:
        raise argparse.ArgumentTypeError(f"days from 1 to {MAX_IDLE_DAYS}, not {value}")
    return days


def add_parser(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register ``review`` with ``tui.command_line.main``'s ``command`` (which adds ``--db``
    and ``--json``)."""
    p = command("review", DESCRIPTION)
    add_actor_options(p)
    p.add_argument(
        "--idle-days",
        type=idle_days,
        default=DEFAULT_IDLE_DAYS,
        metavar="N",
        help=f"idle: no login for N days (1-{MAX_IDLE_DAYS}, default {DEFAULT_IDLE_DAYS})",
    )
    p.add_argument("--only", choices=FLAG_WORDS, help="only the users with this flag")
    p.add_argument(
        "--sort",
        choices=tuple(SORTS),
        default="last-login",
        help="oldest login first (never first of all; default), or by username",
    )
    p.add_argument(
        "--limit", type=whole_number, default=50, help="users per page (1-500, default 50)"
    )
    p.add_argument(
        "--after", type=id_number, metavar="ID", help="continue after this user (the last id)"
    )


def run(args: argparse.Namespace, db: Database) -> int:
    """Log in as ``--as``, read one page and the counts, print them."""
    from .output import emit

    session = login(args, db, "'lhc-console review'")
    page = session.review.page(
        idle_days=args.idle_days,
        only=args.only,
        sort=SORTS[args.sort],
        after_user=args.after,
        limit=args.limit,
    )
    summary = session.review.summary(idle_days=args.idle_days)
    return emit(args, review_json(args, page, summary), review_lines(args, page, summary))


def row_json(row: ReviewRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "last_login": row.last_login,  # LHC's llogin: unix time, 0 = never
        "last_login_date": None if row.last_login <= 0 else row.last_login_text,  # UTC
        "flags": list(row.flags),
    }


def review_json(
    args: argparse.Namespace, page: ReviewPage, summary: ReviewSummary
) -> dict[str, Any]:
    return {
        "idle_days": page.idle_days,
        "only": args.only,
        "sort": SORTS[args.sort],
        "users": [row_json(r) for r in page.rows],
        "next_after": page.next_after[1] if page.next_after else None,
        "summary": {"total": summary.total, **summary.counts},
    }


def review_lines(args: argparse.Namespace, page: ReviewPage, summary: ReviewSummary) -> list[str]:
    """One line per user (id, username, last login, flags as words), then the counts.

    Usernames are printed with their control characters escaped (``\\x1b``), as the screens
    show them: a name may not move the reader's cursor or recolour their terminal."""
    from screens.text import printable

    lines = [
        f"{row.id:>7}  {printable(row.username):<24} {row.last_login_text:<10}  "
        + (", ".join(row.flags) or "-")
        for row in page.rows
    ]
    shown = f"{len(page.rows)} shown" + (f" (only {args.only})" if args.only else "")
    counts = ", ".join(f"{flag} {n}" for flag, n in summary.counts.items())
    lines.append(
        f"{shown} of {summary.total} users you may edit: {counts} "
        f"(idle: no login for {page.idle_days} days)"
    )
    if page.next_after:
        lines.append(f"more with --after {page.next_after[1]}")
    return lines
