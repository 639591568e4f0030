"""The scripting commands: ``user``, ``group``, ``role``, ``policy``, ``depgroup``,
``department`` and ``apply``.

Each runs as the user named by ``--as``, logged in like the login screen, through that
session's services: a script can do exactly what its actor could do in the console. One command
is one transaction (several service calls, such as ``user depgroups --add A --remove B``, are
nested inside one ``Session.action``), so a refusal of any step writes nothing. ``--json`` prints
the object as stored. Errors reach ``tui.command_line.main``, which prints the store's message
and exits 2.

This module wires the argument parsers; the handlers are in ``users`` (users, several at once
in ``bulk``) and ``config`` (groups, roles, policies, department groups), the access review in
``review``, the batch form in ``apply``. Parsers name their handler (``"users.add"``) rather
than hold it: the handler modules import the store, and the parser is built on every start of
``lhc-console``, the console's too, which paints its login screen before the store is loaded.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .actor import (
    add_actor_options,
    add_new_password_options,
    check_new_password_source,
    login,
    new_password,
)

if TYPE_CHECKING:
    from store import Session
    from store.database import Database

Handler = Callable[[argparse.Namespace, "Session"], int]

APPLY_DESCRIPTION = """\
Create or update users from a TOML file, in one transaction (all or nothing), as --as USER.

    [[users]]                                  # one table per user
    username = "Operator US 2"                 # required: who
    email = "operator.us2@example.com"         # required for a new user
    name = "Jane"                              # optional: name, surname, job_title
    groups = ["Operators", "US Operators"]     # names or ids; required for a new user
    department_groups = ["Departments US"]     # optional
    read_only_department_groups = []           # optional, among department_groups
    generate_password = true                   # new users: or password_file = "jane.txt"

A user who exists is updated: only the keys given change. 'groups' and 'department_groups'
then list what the user has afterwards among those you may hand out; memberships outside your
scope are kept. Passwords are set for new users only (password_file is relative to the TOML
file; generated passwords are printed once).
"""


READING_ACTIONS = ("show", "list")
"""Subcommands that write nothing; every other one takes ``--dry-run``."""

YES = ("yes", "y", "true", "1", "on")
NO = ("no", "n", "false", "0", "off")


def yes_no(value: str) -> bool:
    """``--required yes`` / ``--disabled no``: an explicit flag value, so scripts can set both."""
    lowered = value.strip().lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, not {value!r}")


MAX_ID = 2**63 - 1  # store.validation.MAX_ID; the store is not imported while parsing


def whole_number(value: str) -> int:
    """``--limit 20``: digits 0-9 only (Python's ``int`` would also take Arabic-Indic or
    fullwidth digits, or ``1_0``); at most ``MAX_ID``, so no driver sees a number it cannot
    hold."""
    if not value.isascii() or not value.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected a whole number written with the digits 0-9, not {value!r}"
        )
    number = int(value)
    if number > MAX_ID:
        raise argparse.ArgumentTypeError(f"{value} is too large: at most {MAX_ID}")
    return number


def id_number(value: str) -> int:
    """``--after 42``: an id, digits 0-9 only, from 1 to ``MAX_ID``."""
    number = whole_number(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"ids are whole numbers from 1 to {MAX_ID}, not {value}")
    return number


def add_bulk_options(parser: argparse.ArgumentParser) -> None:
    """One or more USERNAMEs and ``--users-from`` (``bulk`` reads and changes them)."""
    parser.add_argument(
        "usernames", nargs="*", metavar="USERNAME", help="one or more users (or --users-from)"
    )
    parser.add_argument(
        "--users-from",
        metavar="FILE",
        help="more usernames, one per line ('-': stdin; blank lines and # comments skipped); "
        "several users are changed all or nothing, at most 1000 at once",
    )


ROSTER_MAX = 1000  # store.rosters.MAX_PAGE; the store is not imported while parsing


def roster_limit(value: str) -> int:
    """``--limit 50``: people per roster page, 1 to ``ROSTER_MAX``."""
    number = whole_number(value)
    if not 1 <= number <= ROSTER_MAX:
        raise argparse.ArgumentTypeError(f"expected 1 to {ROSTER_MAX}, not {value}")
    return number


def roster_options(p: argparse.ArgumentParser) -> None:
    """A roster's page: ``--filter``, ``--limit``, ``--after`` (people by user id)."""
    p.add_argument("--filter", default="", metavar="TEXT", help="part of a name, e-mail or id")
    p.add_argument(
        "--limit",
        type=roster_limit,
        default=200,
        help=f"people per page (1-{ROSTER_MAX}, default 200)",
    )
    p.add_argument("--after", type=id_number, metavar="ID", help="continue after this user id")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the scripting commands on ``lhc-console``'s subparsers."""
    actor = argparse.ArgumentParser(add_help=False)
    add_actor_options(actor)
    actor.add_argument("--json", action="store_true", help="print the result as one JSON object")

    def family(name: str, help_text: str) -> Any:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
        return actions

    def leaf(actions: Any, name: str, help_text: str, handler: str) -> argparse.ArgumentParser:
        """A subcommand whose ``handler`` is named ``module.function`` (a module of this
        package, ``tui.scripting``)."""
        p = actions.add_parser(name, help=help_text, description=help_text, parents=[common, actor])
        p.set_defaults(handler=handler)
        if name not in READING_ACTIONS:
            p.add_argument(
                "--dry-run",
                action="store_true",
                help="do it, report it and who gains or loses what, then roll it back",
            )
        return p

    def many(p: argparse.ArgumentParser, flag: str, what: str, *, replace: bool = False) -> None:
        """A list option: ``--flag A B`` or ``--flag A --flag B``; with ``replace``, giving the
        flag with no value empties the list and leaving it out keeps it as it is."""
        p.add_argument(
            flag,
            nargs="*" if replace else "+",
            action="extend",
            default=None if replace else [],
            metavar=what.upper().replace(" ", "_"),
            help=f"{what}s by id or exact name"
            + ("; replaces the list (no value: empty it)" if replace else ""),
        )

    # -- user ----------------------------------------------------------------------------
    users = family("user", "users as the --as user sees and changes them")
    p = leaf(users, "add", "create a user in groups you may hand out", "users.add")
    p.add_argument("username")
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="")
    p.add_argument("--surname", default="")
    p.add_argument("--job-title", default="")
    many(p, "--group", "group")
    many(p, "--department-group", "department group")
    many(p, "--department", "department")
    p.add_argument(
        "--read-only", action="store_true", help="assign the department (groups) read-only"
    )
    add_new_password_options(p)
    p = leaf(users, "edit", "change a user's account fields", "users.edit")
    add_bulk_options(p)
    p.add_argument("--rename", metavar="NEW_USERNAME")
    p.add_argument("--email")
    p.add_argument("--name")
    p.add_argument("--surname")
    p.add_argument("--job-title")
    p.add_argument("--disabled", type=yes_no, metavar="yes|no")
    p = leaf(users, "passwd", "set a user's password", "users.passwd")
    p.add_argument("username")
    add_new_password_options(p)
    p = leaf(users, "delete", "delete a user and all their rows", "users.delete")
    p.add_argument("username")
    p = leaf(users, "show", "a user you can see, with groups and departments", "users.show")
    p.add_argument("username")
    p = leaf(users, "list", "the users you can see, paged by id", "users.list_users")
    p.add_argument("--filter", default="", metavar="TEXT", help="part of a name, e-mail or id")
    p.add_argument(
        "--limit", type=whole_number, default=50, help="users per page (1-500, default 50)"
    )
    p.add_argument("--after", type=id_number, metavar="ID", help="continue after this user id")
    p = leaf(users, "groups", "add and remove a user's groups", "users.groups")
    add_bulk_options(p)
    many(p, "--add", "group")
    many(p, "--remove", "group")
    p = leaf(users, "depgroups", "assign and unassign department groups", "users.depgroups")
    add_bulk_options(p)
    many(p, "--add", "department group")
    many(p, "--remove", "department group")
    p.add_argument("--read-only", action="store_true", help="assign the added ones read-only")
    p = leaf(
        users, "departments", "assign and unassign single departments", "users.departments"
    )
    add_bulk_options(p)
    many(p, "--add", "department")
    many(p, "--remove", "department")
    p.add_argument("--read-only", action="store_true", help="assign the added ones read-only")
    p.add_argument("--all", type=yes_no, metavar="yes|no", help="LHC's 'all departments' flag")

    # -- group ---------------------------------------------------------------------------
    groups = family("group", "user groups: flags, work-with lists, roles")
    for name, handler, help_text in (
        ("add", "config.group_add", "create a group"),
        ("edit", "config.group_edit", "change a group"),
    ):
        p = leaf(groups, name, help_text, handler)
        p.add_argument("group" if name == "edit" else "name")
        if name == "edit":
            p.add_argument("--name", dest="new_name", metavar="NAME", help="rename the group")
        p.add_argument("--required", type=yes_no, metavar="yes|no")
        p.add_argument("--disabled", type=yes_no, metavar="yes|no")
        many(p, "--works-with", "group", replace=True)
        p.add_argument(
            "--withheld",
            type=yes_no,
            metavar="yes|no",
            help="its own members may not hand it out (LHC's -1 work-with row)",
        )
        many(p, "--role", "role", replace=True)
    p = leaf(groups, "delete", "delete a group", "config.group_delete")
    p.add_argument("group")
    p = leaf(
        groups,
        "show",
        "a group with its flags, work-with list and roles",
        "config.group_show",
    )
    p.add_argument("group")
    leaf(groups, "list", "every group", "config.group_list")

    # -- role, policy --------------------------------------------------------------------
    roles = family("role", "roles and their policies")
    p = leaf(roles, "add", "create a role", "config.role_add")
    p.add_argument("name")
    p = leaf(roles, "edit", "rename a role", "config.role_edit")
    p.add_argument("role")
    p.add_argument("--name", dest="new_name", metavar="NAME", required=True)
    p = leaf(roles, "delete", "delete a role no group uses", "config.role_delete")
    p.add_argument("role")
    p = leaf(roles, "show", "a role with its policies", "config.role_show")
    p.add_argument("role")
    leaf(roles, "list", "every role", "config.role_list")
    policies = family("policy", "a role's policy rows")
    for name, handler, help_text in (
        ("add", "config.policy_add", "add a grant (or --exclude) row to a role"),
        ("remove", "config.policy_remove", "remove a grant (or --exclude) row from a role"),
    ):
        p = leaf(policies, name, help_text, handler)
        p.add_argument("role")
        p.add_argument("module")
        p.add_argument("function")
        p.add_argument("--limitation", metavar="JSON", help='e.g. {"group":[2]}')
        p.add_argument("--exclude", action="store_true", help="an exclusion row, not a grant")

    # -- depgroup ------------------------------------------------------------------------
    depgroups = family("depgroup", "department groups and their departments")
    p = leaf(depgroups, "add", "create a department group", "config.depgroup_add")
    p.add_argument("name")
    many(p, "--department", "department")
    p = leaf(
        depgroups,
        "edit",
        "rename a department group or set its departments",
        "config.depgroup_edit",
    )
    p.add_argument("depgroup")
    p.add_argument("--name", dest="new_name", metavar="NAME")
    many(p, "--department", "department", replace=True)
    p = leaf(depgroups, "delete", "delete a department group", "config.depgroup_delete")
    p.add_argument("depgroup")
    p = leaf(
        depgroups,
        "show",
        "a department group and its roster: who is assigned it, as you may see them",
        "config.depgroup_show",
    )
    p.add_argument("depgroup")
    roster_options(p)
    leaf(depgroups, "list", "every department group", "config.depgroup_list")

    # -- department ----------------------------------------------------------------------
    departments = family("department", "departments and who is in them")
    p = leaf(
        departments,
        "show",
        "a department's roster: who is in it and how (direct, through a department group, "
        "all departments), as you may see them",
        "config.department_show",
    )
    p.add_argument("department")
    roster_options(p)
    leaf(departments, "list", "every department", "config.department_list")

    # -- apply ---------------------------------------------------------------------------
    p = sub.add_parser(
        "apply",
        help="create or update users from a TOML file, all or nothing",
        description=APPLY_DESCRIPTION,
        parents=[common, actor],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="the TOML file (see README, Scripting)")
    p.add_argument(
        "--dry-run", action="store_true", help="check and report everything, change nothing"
    )


def run(args: argparse.Namespace, db: Database) -> int:
    """Log in as ``--as`` and run the chosen handler (``apply`` validates its file first)."""
    if args.command == "apply":
        from . import apply

        plan = apply.load(args.file)
        session = login(args, db, "'lhc-console apply'")
        return apply.run(args, session, plan)
    if hasattr(args, "generate_password"):
        check_new_password_source(args, args.username)
    session = login(args, db, f"'lhc-console {args.command} {args.action}'")
    handler = resolve_handler(args.handler)
    if not getattr(args, "dry_run", False) and not (hasattr(args, "dry_run") and args.json):
        return handler(args, session)
    return measured(args, session, handler)


def measured(args: argparse.Namespace, session: Session, handler: Handler) -> int:
    """A write command with its impact: ``--dry-run`` (rolled back) or ``--json`` (kept).

    One transaction around the whole command, its service calls nested in it; the command's
    output (``output.emit``) adds the impact while the transaction is open. A new
    password is read first, so that no prompt holds the transaction open.
    """
    from .impact import touches

    if hasattr(args, "generate_password"):
        args.prepared_password = new_password(args, args.username)
    with session.impact.measuring(touches(args, session), dry_run=args.dry_run) as measurement:
        args.impact_measurement = measurement
        return handler(args, session)


def resolve_handler(name: str) -> Handler:
    """``"users.add"``: the function ``add`` of ``tui.scripting.users``, imported now."""
    module, _, function = name.rpartition(".")
    handler: Handler = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    return handler


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], int]] = {
    name: run for name in ("user", "group", "role", "policy", "depgroup", "department", "apply")
}
