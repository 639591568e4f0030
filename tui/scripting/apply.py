"""``lhc-console apply FILE.toml --as USER [--dry-run]``: create or update users in one go.

Onboarding a batch of operators, or moving a team to another department group, is one file and
one transaction: every user of the file is created or updated through the same services the
screens use, as the ``--as`` actor, and a refusal of any step rolls all of it back.

The file is checked completely before anyone logs in (structure, types, unknown keys, duplicate
users, password files), and every problem is reported at once with the user and line it is
about. Names of groups and department groups are resolved next, also all at once.
"""

from __future__ import annotations

import argparse
import difflib
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store import NotFoundError, Session, StoreError, ValidationError, lookup, validation
from store.impact import Impact
from store.regular_files import open_for_reading
from store.user_save import WantedUser
from store.views import UserDetail
from tui.command_line.output import say_json, say_lines

from .actor import CommandError, generate_password, read_password_file
from .output import impact_json, impact_lines, user_json

TEXT_KEYS = ("email", "name", "surname", "job_title")
LIST_KEYS = ("groups", "department_groups", "read_only_department_groups")
KEYS = ("username", *TEXT_KEYS, *LIST_KEYS, "password_file", "generate_password")
USERS_HEADER = re.compile(r"^\s*\[\[\s*users\s*\]\]")


@dataclass
class Entry:
    """One ``[[users]]`` table as validated: references still by name."""

    index: int
    line: int | None
    username: str
    fields: dict[str, str]
    groups: list[str | int] | None
    department_groups: list[str | int] | None
    read_only_department_groups: list[str | int]
    password: str | None
    generate_password: bool

    @property
    def where(self) -> str:
        at = f" (line {self.line})" if self.line else ""
        return f"user {self.username!r}{at}"


@dataclass
class Plan:
    """A checked file: its entries in order."""

    path: str
    entries: list[Entry]


@dataclass
class Outcome:
    """What applying one entry did (or would do)."""

    entry: Entry
    action: str  # "create", "update" or "unchanged"
    user: UserDetail
    changes: list[str] = field(default_factory=list)
    generated_password: str | None = None


# -- reading and checking the file ------------------------------------------------------


MAX_FILE_BYTES = 4 << 20
"""An apply file is read at most 4 MiB: a plan for a thousand users is about 200 KB, so a
larger file is not a plan (``/dev/zero``, a dump named by mistake) and is refused unread."""


def read_bounded(path: str) -> str:
    """The file's text, read with a bound: more than ``MAX_FILE_BYTES`` is refused before any
    parsing, after reading one byte past the bound (never the whole file). Only a regular file
    is read (``store.regular_files``): a pipe or device is refused at once, never waited on."""
    try:
        with open_for_reading(path) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise CommandError(f"Cannot read {path!r}: {error.strerror or error}") from error
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB ({MAX_FILE_BYTES:,} bytes), far "
            "more than a plan of users needs: refused before parsing, nothing was changed"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(f"{path}: not UTF-8 text") from error
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as read_text() reads lines


def load(path: str) -> Plan:
    """Read and check the file; every problem found is reported at once (``ValidationError``)."""
    text = read_bounded(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(f"{path}: not valid TOML: {error}") from error
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ValidationError(
            f"{path}: arrays or inline tables nested too deep to read (a plan of users nests "
            "one list at most): refused, nothing was changed"
        ) from None
    errors: list[str] = []
    for key in data:
        if key != "users":
            errors.append(f"unknown top-level key {key!r}: the file holds [[users]] tables")
    users = data.get("users")
    if not isinstance(users, list) or not users or not all(isinstance(u, dict) for u in users):
        errors.append("no users: write one [[users]] table per user")
        users = []
    header_lines = [n for n, line in enumerate(text.splitlines(), 1) if USERS_HEADER.match(line)]
    lines = header_lines if len(header_lines) == len(users) else [None] * len(users)
    entries: list[Entry] = []
    seen: dict[str, int | None] = {}
    for index, (table, line) in enumerate(zip(users, lines, strict=True), 1):
        entry = _entry(table, index, line, Path(path).parent, errors)
        if entry is None:
            continue
        if entry.username.lower() in seen:
            errors.append(
                f"{entry.where}: listed twice (first at line {seen[entry.username.lower()]})"
            )
        seen[entry.username.lower()] = line
        entries.append(entry)
    if errors:
        raise ValidationError("\n".join(f"{path}: {e}" for e in errors))
    return Plan(path, entries)


def _entry(
    table: dict[str, Any], index: int, line: int | None, base: Path, errors: list[str]
) -> Entry | None:
    """One user table checked; problems are appended to ``errors`` (None if unusable)."""
    username = table.get("username")
    at = f" (line {line})" if line else ""
    where = f"user {username!r}{at}" if isinstance(username, str) else f"users #{index}{at}"
    found: list[str] = []
    for key in table:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            found.append(f"unknown key {key!r}{hint}")
    if not isinstance(username, str) or not username.strip():
        found.append("'username' is required (a non-empty string)")
    for key in TEXT_KEYS:
        if key in table and not isinstance(table[key], str):
            found.append(f"{key!r} must be a string")
    for key in LIST_KEYS:
        value = table.get(key)
        if value is not None and not (
            isinstance(value, list)
            and all((isinstance(v, str) and v.strip()) or type(v) is int for v in value)
        ):
            found.append(f"{key!r} must be a list of names or ids")
        elif value is not None:
            found.extend(
                f"{key!r}: {v} is not an id ({validation.ID_RANGE})"
                for v in value
                if type(v) is int and not 1 <= v <= validation.MAX_ID
            )
    if table.get("groups") == []:
        found.append("'groups' must not be empty: a user stays in at least one group")
    read_only = table.get("read_only_department_groups") or []
    if isinstance(read_only, list) and read_only:
        assigned = table.get("department_groups")
        if not isinstance(assigned, list) or any(r not in assigned for r in read_only):
            found.append("'read_only_department_groups' must be among 'department_groups'")
    if not isinstance(table.get("generate_password", False), bool):
        found.append("'generate_password' must be true or false")
    password_file = table.get("password_file")
    password = None
    if password_file is not None and not isinstance(password_file, str):
        found.append("'password_file' must be a string (a path relative to this file)")
    elif password_file is not None:
        if table.get("generate_password"):
            found.append("give either 'password_file' or 'generate_password', not both")
        try:
            password = read_password_file(base / password_file)
        except StoreError as error:
            found.append(str(error))
    if found:
        errors.extend(f"{where}: {problem}" for problem in found)
        return None
    assert isinstance(username, str)  # a problem above otherwise
    return Entry(
        index=index,
        line=line,
        username=username.strip(),
        fields={key: table[key] for key in TEXT_KEYS if key in table},
        groups=table.get("groups"),
        department_groups=table.get("department_groups"),
        read_only_department_groups=list(read_only),
        password=password,
        generate_password=bool(table.get("generate_password", False)),
    )


# -- applying ----------------------------------------------------------------------------


@dataclass
class _Resolved:
    groups: list[int] | None
    department_groups: dict[int, bool] | None  # id -> read-only


def _resolve(plan: Plan) -> list[_Resolved]:
    """Names to ids for every entry; every unknown or ambiguous name is reported at once."""
    errors: list[str] = []
    out: list[_Resolved] = []

    def ids(entry: Entry, references: list[str | int], resolve: Any) -> list[int]:
        found = []
        for reference in references:
            try:
                found.append(resolve(reference))
            except StoreError as error:
                errors.append(f"{entry.where}: {error}")
        return found

    for entry in plan.entries:
        groups = None if entry.groups is None else ids(entry, entry.groups, lookup.group_id)
        dep_groups = None
        if entry.department_groups is not None:
            read_only = set(
                ids(entry, entry.read_only_department_groups, lookup.department_group_id)
            )
            dep_groups = {
                dg: dg in read_only
                for dg in ids(entry, entry.department_groups, lookup.department_group_id)
            }
        out.append(_Resolved(groups, dep_groups))
    if errors:
        raise NotFoundError("\n".join(f"{plan.path}: {e}" for e in errors))
    return out


def run(args: argparse.Namespace, session: Session, plan: Plan) -> int:
    """Apply the plan in one transaction (rolled back for ``--dry-run``) and report it, with
    who gains and loses what (``store.impact``)."""
    from .impact import plan_touches

    resolved = _resolve(plan)
    outcomes: list[Outcome] = []
    with session.impact.measuring(plan_touches(plan), dry_run=args.dry_run) as measurement:
        for entry, refs in zip(plan.entries, resolved, strict=True):
            with _about(plan, entry):
                outcomes.append(_apply_one(session, entry, refs))
    return _report(args, outcomes, measurement.impact)


@contextmanager
def _about(plan: Plan, entry: Entry) -> Iterator[None]:
    """Prefix a refusal with the file, user and line it is about (same error type)."""
    try:
        yield
    except StoreError as error:
        raise type(error)(f"{plan.path}: {entry.where}: {error}") from error


def _apply_one(session: Session, entry: Entry, refs: _Resolved) -> Outcome:
    try:
        user: UserDetail | None = session.users.find(entry.username)
    except NotFoundError:
        user = None
    if user is None:
        return _create(session, entry, refs)
    return _update(session, entry, refs, user)


def _create(session: Session, entry: Entry, refs: _Resolved) -> Outcome:
    missing = [] if "email" in entry.fields else ["email"]
    if not refs.groups:
        missing.append("groups")
    if entry.password is None and not entry.generate_password:
        missing.append("password_file or generate_password")
    if missing:
        raise ValidationError(f"is a new user and needs {', '.join(missing)}")
    password = entry.password or generate_password()
    dep_groups = refs.department_groups or {}
    text_fields: dict[str, Any] = entry.fields  # name, surname, e-mail…: keywords of create
    user = session.users.create(
        username=entry.username,
        password=password,
        groups=refs.groups or [],
        department_groups=list(dep_groups),
        read_only_department_groups=[dg for dg, ro in dep_groups.items() if ro],
        **text_fields,
    )
    changes = [f"groups {_names(user.groups)}"]
    if user.department_groups:
        changes.append(f"department groups {_names(user.department_groups)}")
    return Outcome(entry, "create", user, changes, password if entry.generate_password else None)


def _update(session: Session, entry: Entry, refs: _Resolved, user: UserDetail) -> Outcome:
    """The entry as the user's wanted state; the store computes and applies the difference
    (``session.user_save``), keeping what the actor may not hand out."""
    before = user
    mark = session.changes  # the services write (and count) only what really changes
    wanted = WantedUser(
        fields=entry.fields,
        groups=None if refs.groups is None else frozenset(refs.groups),
        department_groups=refs.department_groups,
    )
    saved = session.user_save.save(user.id, wanted)
    user, difference = saved.user, saved.difference
    changes = [
        f"{key} {getattr(before, key)!r} -> {getattr(user, key)!r}"
        for key, _ in difference.fields
        if getattr(before, key) != getattr(user, key)
    ]
    if difference.groups_added or difference.groups_removed:
        changes.append(
            _delta(
                "groups",
                user.groups,
                before.groups,
                list(difference.groups_added),
                list(difference.groups_removed),
            )
        )
    assigned = [dg for dg, _ in difference.department_groups_assigned]
    if assigned or difference.department_groups_unassigned:
        changes.append(
            _delta(
                "department groups",
                user.department_groups,
                before.department_groups,
                assigned,
                list(difference.department_groups_unassigned),
            )
        )
    if entry.password is not None or entry.generate_password:
        changes.append("password kept (set for new users only)")
    return Outcome(entry, "update" if session.changes > mark else "unchanged", user, changes)


def _names(refs: Any) -> str:
    return (
        ", ".join(
            f"{r.name!r}" + (" (read-only)" if getattr(r, "read_only", False) else "") for r in refs
        )
        or "-"
    )


def _delta(label: str, after: Any, before: Any, added: list[int], removed: list[int]) -> str:
    """``groups +'US Operators' -'AU Operators'`` with names as the database has them; a
    department group that stays but changes its read-only flag is said so."""
    named = {r.id: r for r in (*before, *after)}
    had = {r.id for r in before}
    parts = [
        f"{named[i].name!r} now {'read-only' if named[i].read_only else 'read-write'}"
        if i in had
        else f"+{_names([named[i]])}"
        for i in added
        if i in named
    ]
    parts += [f"-{_names([named[i]])}" for i in removed if i in named]
    return f"{label} {' '.join(parts)}"


def _report(args: argparse.Namespace, outcomes: list[Outcome], impact: Impact) -> int:
    if args.json:
        report = {
            **impact_json(impact, dry_run=args.dry_run),
            "users": [
                {
                    "username": o.user.username,
                    "action": o.action,
                    "changes": o.changes,
                    "user": user_json(o.user),
                    **(
                        {"generated_password": o.generated_password}
                        if o.generated_password and not args.dry_run
                        else {}
                    ),
                }
                for o in outcomes
            ],
        }
        if all(o.action == "unchanged" for o in outcomes):
            report["unchanged"] = True  # as every change command says it
        say_json(report)
        return 0
    verbs = {
        "create": ("would create", "created"),
        "update": ("would update", "updated"),
        "unchanged": ("unchanged", "unchanged"),
    }
    lines = []
    for o in outcomes:
        verb = verbs[o.action][0 if args.dry_run else 1]
        detail = "; ".join(o.changes)
        lines.append(f"{verb} {o.user.username!r}" + (f": {detail}" if detail else ""))
        if o.generated_password and not args.dry_run:
            lines.append(f"  generated password (shown once): {o.generated_password}")
    created = sum(o.action == "create" for o in outcomes)
    updated = sum(o.action == "update" for o in outcomes)
    unchanged = len(outcomes) - created - updated
    if args.dry_run:
        lines.extend(impact_lines(impact))
        lines.append(
            f"Dry run: {created} to create, {updated} to update, {unchanged} unchanged; "
            "nothing was changed."
        )
    elif not created and not updated:
        lines.append(
            f"Unchanged: all {unchanged} users already are as the file says; nothing written."
        )
    else:
        lines.append(
            f"Applied: {created} created, {updated} updated, {unchanged} unchanged, "
            "in one transaction."
        )
    say_lines(lines)
    return 0
