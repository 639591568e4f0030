"""Finding accounts, groups, roles, departments and policies by name for the command line."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from peewee import OP, SQL, Expression, MySQLDatabase, NodeList, PostgresqlDatabase, Value, fn

from . import bounded_json, validation
from .errors import NotFoundError, ValidationError
from .limitations import validate_input
from .models import (
    Department,
    DepartmentGroup,
    Group,
    Role,
    RoleFunction,
    User,
    database_proxy,
    tuple_rows,
)
from .permissions import EXCLUDE, GRANT


@dataclass(frozen=True)
class UserRef:
    """An account's id and username: all a report needs to say whom it is about."""

    id: int
    username: str


def user_named(username: str) -> UserRef:
    """The account with exactly this username, or a ``NotFoundError`` naming it."""
    user = user_row(username)
    if user is None:
        raise NotFoundError(f"No user named {username!r}")
    return UserRef(user.id, user.username)


def user_row(username: str) -> User | None:
    """The account with exactly this username as typed or in its composed form (NFC).

    The console stores usernames composed; a name typed decomposed (``e`` + combining acute,
    as some keyboards send it) finds the same account. Names imported as LHC stored them are
    found as they are.
    """
    if "\x00" in username:  # no name holds one (PostgreSQL cannot even compare it)
        return None
    user = User.get_or_none(User.username == username)
    composed = unicodedata.normalize("NFC", username)
    if user is None and composed != username:
        user = User.get_or_none(User.username == composed)
    return user


# -- text filters and lookalikes ----------------------------------------------------------

LIKE_ESCAPE = "!"
"""The escape character of ``contains_text``'s LIKE patterns: one that no backend's string
literals treat specially (a backslash is one on MySQL)."""


def contains_text(column: Any, text: str) -> Expression:
    """``column`` contains ``text`` literally, case-insensitively: ``%`` and ``_`` typed in a
    filter match themselves, on SQLite, MariaDB/MySQL and PostgreSQL alike (an explicit
    ``ESCAPE``, whatever Peewee's version does)."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    pattern = NodeList(
        (
            Value(f"%{escaped}%", converter=False),
            SQL("ESCAPE"),
            Value(LIKE_ESCAPE, converter=False),
        )
    )
    return Expression(column, OP.ILIKE, pattern)


def lookalike_of(username: str, *, exclude: int | None = None) -> str | None:
    """An existing username that looks the same as ``username`` (``validation.skeleton``), or
    None. ``exclude`` is the account being renamed.

    Not every username is read: a *plain* username (printable ASCII, single spaces, none at
    either end) looks like nothing but itself in another case, so only the plain usernames
    equal to the skeleton, case aside, and the few that are not plain are fetched and
    compared (one scan in the database, not one row per user in Python).
    """
    return _lookalike_in(User.username, username, exclude)


def lookalike_email_of(username: str, *, exclude: int | None = None) -> str | None:
    """Another account's e-mail that looks the same as ``username`` (or None): login by
    either would then seem to name one account. Narrowed like ``lookalike_of``: only the
    e-mails equal to the skeleton, case aside, and the few that are not plain are read."""
    return _lookalike_in(User.email, username, exclude)


def _lookalike_in(column: Any, value: str, exclude: int | None) -> str | None:
    """The first value of ``column`` (by account id) that looks the same as ``value``."""
    key = validation.skeleton(value)
    if not key:
        return None
    query = User.select(User.id, column).where((fn.LOWER(column) == key) | not_plain(column))
    if exclude is not None:
        query = query.where(User.id != exclude)
    for _user_id, found in query.order_by(User.id).tuples().iterator():
        if found and validation.skeleton(found) == key:
            return str(found)
    return None


def lookalike_usernames() -> list[list[tuple[int, str]]]:
    """Every set of two or more accounts whose usernames look the same, each set as
    ``(id, username)`` by id, the sets ordered by their first id.

    Plain usernames (see ``lookalike_of``) only look like each other when equal but for case:
    those are grouped in SQL. The others are read, reduced to their skeleton, and matched to
    each other and to the plain usernames equal to a skeleton (fetched by that value).
    """
    plain = ~not_plain_username()
    lowered = fn.LOWER(User.username)
    by_key: dict[str, set[tuple[int, str]]] = {}
    same_case_aside = (
        User.select(lowered).where(plain).group_by(lowered).having(fn.COUNT(User.id) > 1)
    )
    keys = [key for (key,) in tuple_rows(same_case_aside)]
    for row in _in_chunks(keys, lambda chunk: plain & lowered.in_(chunk)):
        by_key.setdefault(validation.skeleton(row.username), set()).add((row.id, row.username))
    odd = User.select(User.id, User.username).where(not_plain_username()).order_by(User.id)
    for row in odd.iterator():
        by_key.setdefault(validation.skeleton(row.username), set()).add((row.id, row.username))
    plain_keys = [key for key in by_key if key and _is_plain(key)]
    for row in _in_chunks(plain_keys, lambda chunk: plain & lowered.in_(chunk)):
        by_key.setdefault(validation.skeleton(row.username), set()).add((row.id, row.username))
    sets = [sorted(found) for key, found in by_key.items() if key and len(found) > 1]
    return sorted(sets)


def lookalike_logins() -> list[tuple[tuple[int, str], tuple[int, str]]]:
    """Every username that looks the same as another account's e-mail and is not plain, or
    whose look-alike e-mail is not: ``((id, username), (other id, e-mail))`` pairs, ordered.
    Those equal but for case are among them only when one side is not plain ASCII (the lint
    rule leaves out what its exact comparison already reported).

    Plain values only look like plain values equal to them but for case, which are exact
    clashes; so only the usernames and e-mails that are not plain are read and reduced to
    their skeleton, and matched with each other and with the plain values of the other
    column equal to a skeleton (fetched by that value, 500 at a time).
    """
    usernames = _by_skeleton(User.username)
    emails = _by_skeleton(User.email)
    for found, other in ((usernames, emails), (emails, usernames)):
        column = User.email if other is emails else User.username
        plain_keys = [key for key in found if _is_plain(key)]
        for start in range(0, len(plain_keys), 500):
            chunk = plain_keys[start : start + 500]
            rows = User.select(User.id, column).where(fn.LOWER(column).in_(chunk))
            for user_id, value in rows.tuples().iterator():
                other.setdefault(validation.skeleton(value), set()).add((user_id, value))
    pairs = set()
    for key, named in usernames.items():
        for user_id, username in named:
            for other_id, email in emails.get(key, ()):
                if other_id != user_id:
                    pairs.add(((user_id, username), (other_id, email)))
    return sorted(pairs)


def _by_skeleton(column: Any) -> dict[str, set[tuple[int, str]]]:
    """The values of ``column`` that are not plain, by their skeleton (empty ones left out)."""
    found: dict[str, set[tuple[int, str]]] = {}
    rows = User.select(User.id, column).where(not_plain(column) & (column != ""))
    for user_id, value in rows.order_by(User.id).tuples().iterator():
        key = validation.skeleton(value)
        if key:
            found.setdefault(key, set()).add((user_id, value))
    return found


NAMED_KINDS: dict[str, tuple[Any, Any]] = {
    "group": (Group, Group.name),
    "user": (User, User.username),
    "department_group": (DepartmentGroup, DepartmentGroup.name),
    "department": (Department, Department.name),
}
"""What ``names_of`` can name: each kind's table and its name column."""


def names_of(kind: str, ids: Iterable[int]) -> dict[int, str]:
    """The names of the rows of ``kind`` with these ids (read 500 ids at a time); a missing id
    is left out. Reports print ids with names, so a reader need not look each one up."""
    model, name = NAMED_KINDS[kind]
    wanted = sorted(set(ids))
    names: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = model.select(model.id, name).where(model.id.in_(chunk)).tuples()
        names.update((row_id, row_name) for row_id, row_name in query)
    return names


def _in_chunks(values: list[str], condition: Any, size: int = 500) -> Iterable[Any]:
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        yield from User.select(User.id, User.username).where(condition(chunk)).iterator()


def _is_plain(name: str) -> bool:
    return all(" " <= ch <= "~" for ch in name) and "  " not in name and name == name.strip(" ")


def not_plain_username() -> Expression:
    """Usernames that are not plain: a character outside printable ASCII (another script, a
    control, any non-ASCII space), two spaces in a row, or a space at either end."""
    return not_plain(User.username)


def not_plain(column: Any) -> Expression:
    """Values of a text column of ``lh_users`` that are not plain (see
    ``not_plain_username``)."""
    database = database_proxy.obj
    if isinstance(database, PostgresqlDatabase):
        odd = column.regexp("[^ -~]")
    elif isinstance(database, MySQLDatabase):
        odd = column.iregexp("[^ -~]")
    else:  # SQLite: GLOB's classes compare code points
        odd = Expression(column, "GLOB", "*[^ -~]*")
    return odd | (column ** "%  %") | (column ** " %") | (column ** "% ")


def is_empty() -> bool:
    """Whether the database holds no users yet (a fresh console: offer the sample)."""
    return not User.select().exists()


# -- groups, roles, departments and department groups by id or exact name -----------------
#
# The scripting CLI names these objects the way people do: by exact name, or by id. Resolving
# a name is not a permission check (names appear in every form the actor opens); the services
# that act on the id decide what the actor may do with it.


def group_id(reference: str) -> int:
    """The id of the group ``reference`` names (an id, ``#id``, or an exact name)."""
    return _resolve(Group, "group", reference)


def role_id(reference: str) -> int:
    """The id of the role ``reference`` names (an id, ``#id``, or an exact name)."""
    return _resolve(Role, "role", reference)


def department_group_id(reference: str) -> int:
    """The id of the department group ``reference`` names (an id, ``#id``, or an exact name)."""
    return _resolve(DepartmentGroup, "department group", reference)


def department_id(reference: str) -> int:
    """The id of the department ``reference`` names (an id, ``#id``, or an exact name)."""
    return _resolve(Department, "department", reference)


def _resolve(model: Any, label: str, reference: object) -> int:
    """One object by id or exact name; unknown or ambiguous references raise with the choices.

    ``#5`` means id 5 only. A bare ``5`` is id 5 or an object named "5": if both exist and
    differ, the reference is ambiguous (``#5`` then settles it). Names compare exactly, case
    included, whatever the database's collation.
    """
    id_label = f"{label[0].upper()}{label[1:]} id"
    if isinstance(reference, int) and not isinstance(reference, bool):
        text = str(validation.id_text(str(reference), id_label))
    elif isinstance(reference, str):
        text = reference.strip()
    else:
        raise ValidationError(f"A {label} is named by its id or its exact name, not {reference!r}")
    if not text:
        raise ValidationError(f"Empty {label} name: give a {label}'s id or its exact name")
    if text.startswith("#") and _meant_as_id(text[1:]):
        number = validation.id_text(text[1:], id_label)
        found = model.get_or_none(model.id == number)
        if found is None:
            raise NotFoundError(f"No {label} with id {number}")
        return int(found.id)
    if "\x00" in text:  # no name holds one (PostgreSQL cannot even compare it)
        raise NotFoundError(f"No {label} named {text!r} (give its id or its exact name)")
    by_name = [
        (int(row.id), row.name)
        for row in model.select(model.id, model.name).where(model.name == text).order_by(model.id)
        if row.name == text
    ]
    candidates = dict(by_name)
    as_id = _id_or_none(text)
    if as_id is not None:
        by_id = model.get_or_none(model.id == as_id)
        if by_id is not None:
            candidates.setdefault(int(by_id.id), by_id.name)
    if not candidates:
        if as_id is not None:
            why = f" and no {label} with id {text} (give its id or its exact name)"
        elif validation.is_id_text(text):
            why = f", and {text} is not an id: {validation.ID_RANGE}"
        elif _meant_as_id(text):
            why = " (give its id, written with the digits 0-9, or its exact name)"
        else:
            why = " (give its id or its exact name)"
        raise NotFoundError(f"No {label} named {text!r}{why}")
    if len(candidates) > 1:
        listed = ", ".join(f"#{i} {name!r}" for i, name in sorted(candidates.items()))
        raise ValidationError(
            f"{text!r} could mean several {label}s ({listed}): give the one you mean as #id"
        )
    return next(iter(candidates))


def _meant_as_id(text: str) -> bool:
    """Whether text after ``#`` is meant as a number (digits of any script, perhaps a sign or
    spaces), so that it is checked as an id rather than looked up as a name."""
    return any(ch.isdigit() for ch in text) and all(ch.isdigit() or ch in "+- _" for ch in text)


def _id_or_none(text: str) -> int | None:
    """``text`` as an id when it is one (ASCII digits, 1 to ``MAX_ID``), else None."""
    if not validation.is_id_text(text):
        return None
    number = int(text)
    return number if 1 <= number <= validation.MAX_ID else None


def policy_id(
    role: int, module: str, function: str, *, exclude: bool = False, limitation: str | None = None
) -> int:
    """The id of the role's one policy row ``module/function`` (grant, or exclusion).

    With ``limitation`` (JSON text, ``""`` for none; a stored one the console cannot read, as
    ``limitations.validate_input`` would refuse it, by its exact text) only the row with that
    limitation counts;
    without it, several rows differing only in their limitation are ambiguous, and the message
    lists their limitations so that the caller can say which.
    """
    kind = "exclusion" if exclude else "grant"
    role_row = Role.get_or_none(Role.id == role)
    if role_row is None:
        raise NotFoundError(f"No role with id {role}")
    rows = list(
        RoleFunction.select()
        .where(
            (RoleFunction.role_id == role)
            & (RoleFunction.module == module)
            & (RoleFunction.function == function)
            & (RoleFunction.type == (EXCLUDE if exclude else GRANT))
        )
        .order_by(RoleFunction.id)
    )
    if limitation is not None:
        try:
            wanted = validate_input(limitation)
        except ValidationError:  # a stored one the console cannot read: named by its text
            rows = [r for r in rows if (r.limitation or "") == limitation]
            if not rows:
                raise
        else:
            rows = [r for r in rows if _same_limitation(r.limitation or "", wanted)]
    if not rows:
        detail = f" with limitation {limitation}" if limitation else ""
        raise NotFoundError(f"Role {role_row.name!r} has no {kind} {module}/{function}{detail}")
    if len(rows) > 1:
        listed = "; ".join(r.limitation or "(none)" for r in rows)
        raise ValidationError(
            f"Role {role_row.name!r} has {len(rows)} {kind}s {module}/{function} with the "
            f"limitations {listed}: say which with --limitation ('' for none)"
        )
    return int(rows[0].id)


def _same_limitation(stored: str, wanted: str) -> bool:
    """Whether a stored limitation is the one typed, however either is spaced."""
    if not stored.strip() or not wanted:
        return not stored.strip() and not wanted
    try:
        return bool(bounded_json.loads(stored) == json.loads(wanted))
    except ValueError:  # not JSON, or nested too deep to compare: compared as text
        return stored == wanted
