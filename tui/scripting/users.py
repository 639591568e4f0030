"""``lhc-console user …``: users as the ``--as`` actor sees and changes them.

Each handler resolves names (``store.lookup``: groups, department groups and departments by id
or exact name; the user through ``UserService.find``, which only finds users the actor can
see), then asks the store. A change of existing users (``edit``, ``groups``, ``depgroups``,
``departments``) is one ``BulkEdit``: for several users ``session.bulk`` makes it, for one the
edit becomes the user's wanted state (``BulkEdit.wanted_for``) and ``session.user_save`` saves
it, strictly: each change is judged by its own service, so a refusal names it. The store
computes what changes; nothing here does.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from store import Session, lookup
from store.bulk import BulkEdit
from store.views import UserDetail

from .actor import CommandError, NewPassword, new_password
from .bulk import is_bulk, run_bulk
from .output import (
    emit,
    emit_change,
    user_json,
    user_lines,
    user_page_json,
    user_page_lines,
)

TEXT_FIELDS = (
    ("rename", "username"),
    ("email", "email"),
    ("name", "name"),
    ("surname", "surname"),
    ("job_title", "job_title"),
)


def _ids(references: Sequence[str], resolve: Callable[[str], int]) -> list[int]:
    return [resolve(r) for r in references]


def _changed(
    args: argparse.Namespace,
    user: UserDetail,
    done: str,
    password: NewPassword | None = None,
    *,
    changed: bool = True,
) -> int:
    """Print the user as now after a change (or "Unchanged" when the command found nothing to
    change and wrote nothing), and a generated password once."""
    report: dict[str, Any] = user_json(user)
    lines = user_lines(user)
    if password is not None and password.generated and not getattr(args, "dry_run", False):
        report["generated_password"] = password.value
        lines.append(f"Generated password for {user.username!r} (shown once): {password.value}")
    heading = f"{done} {user.username!r} (#{user.id})"
    return emit_change(args, report, heading, lines, changed=changed)


def _add_remove(
    args: argparse.Namespace, what: str, resolve: Callable[[str], int]
) -> tuple[list[int], list[int]]:
    add, remove = _ids(args.add, resolve), _ids(args.remove, resolve)
    both = sorted(set(add) & set(remove))
    if both:
        raise CommandError(f"The same {what} both added and removed: #{', #'.join(map(str, both))}")
    return add, remove


def add(args: argparse.Namespace, session: Session) -> int:
    password = new_password(args, args.username)
    departments = _ids(args.department, lookup.department_id)
    user = session.users.create(
        username=args.username,
        password=password.value,
        email=args.email,
        name=args.name,
        surname=args.surname,
        job_title=args.job_title,
        groups=_ids(args.group, lookup.group_id),
        department_groups=_ids(args.department_group, lookup.department_group_id),
        department_groups_read_only=args.read_only,
        departments=departments,
        read_only_departments=departments if args.read_only else (),
    )
    return _changed(args, user, "Created user", password)


def edit(args: argparse.Namespace, session: Session) -> int:
    changes = {
        field: getattr(args, arg) for arg, field in TEXT_FIELDS if getattr(args, arg) is not None
    }
    if not changes and args.disabled is None:
        raise CommandError(
            "Nothing to change: give --email, --name, --surname, --job-title, --rename or "
            "--disabled"
        )
    change = BulkEdit(disabled=args.disabled)
    if is_bulk(args):
        if changes:
            raise CommandError(
                "Several users take only --disabled; change account fields one user at a time"
            )
        verb = "Disabled" if args.disabled else "Enabled"
        return run_bulk(args, session, change, verb)
    return _save_one(args, session, change, "Changed user", fields=changes)


def passwd(args: argparse.Namespace, session: Session) -> int:
    user = session.users.find(args.username)
    password = new_password(args, user.username)
    session.users.set_password(user.id, password.value)
    return _changed(args, session.users.get(user.id), "Changed the password of", password)


def delete(args: argparse.Namespace, session: Session) -> int:
    with session.action():
        user = session.users.find(args.username)
        session.users.delete(user.id)
    report = {"deleted": {"id": user.id, "username": user.username}}
    return emit(args, report, [f"Deleted user {user.username!r} (#{user.id})"])


def show(args: argparse.Namespace, session: Session) -> int:
    user = session.users.find(args.username)
    return emit(args, user_json(user), user_lines(user))


def list_users(args: argparse.Namespace, session: Session) -> int:
    page = session.users.page(
        text=args.filter,
        sort="id",
        after=(args.after, args.after) if args.after is not None else None,
        limit=args.limit,
    )
    total = session.users.count(text=args.filter)
    return emit(args, user_page_json(page, total), user_page_lines(page, total))


def groups(args: argparse.Namespace, session: Session) -> int:
    add_ids, remove_ids = _add_remove(args, "group", lookup.group_id)
    if not add_ids and not remove_ids:
        raise CommandError("Nothing to change: give --add GROUP… and/or --remove GROUP…")
    change = BulkEdit(add_groups=tuple(add_ids), remove_groups=tuple(remove_ids))
    if is_bulk(args):
        return run_bulk(args, session, change, "Changed the groups of")
    return _save_one(args, session, change, "Changed the groups of")


def depgroups(args: argparse.Namespace, session: Session) -> int:
    add_ids, remove_ids = _add_remove(args, "department group", lookup.department_group_id)
    if not add_ids and not remove_ids:
        raise CommandError(
            "Nothing to change: give --add DEPARTMENT_GROUP… and/or --remove DEPARTMENT_GROUP…"
        )
    change = BulkEdit(
        assign_department_groups={dg: args.read_only for dg in add_ids},
        unassign_department_groups=tuple(remove_ids),
    )
    if is_bulk(args):
        return run_bulk(args, session, change, "Changed the department groups of")
    return _save_one(args, session, change, "Changed the department groups of")


def departments(args: argparse.Namespace, session: Session) -> int:
    add_ids, remove_ids = _add_remove(args, "department", lookup.department_id)
    if not add_ids and not remove_ids and args.all is None:
        raise CommandError(
            "Nothing to change: give --add DEPARTMENT…, --remove DEPARTMENT… or --all yes|no"
        )
    change = BulkEdit(
        assign_departments={d: args.read_only for d in add_ids},
        unassign_departments=tuple(remove_ids),
    )
    if is_bulk(args):
        if args.all is not None:
            raise CommandError("--all changes one user at a time; name a single user")
        return run_bulk(args, session, change, "Changed the departments of")
    return _save_one(args, session, change, "Changed the departments of", all_departments=args.all)


def _save_one(
    args: argparse.Namespace, session: Session, change: BulkEdit, done: str, **also: Any
) -> int:
    """One named user: ``change`` (and ``also``: account fields, "all departments") as their
    wanted state, saved strictly through ``session.user_save`` (``store.user_save``)."""
    args.username = args.usernames[0]
    mark = session.changes
    with session.action():
        user = session.users.find(args.username)
        wanted = dataclasses.replace(change.wanted_for(user), strict=True, **also)
        user = session.user_save.save(user.id, wanted).user
    return _changed(args, user, done, changed=session.changes > mark)
