"""Reading the audit trail (``lh_audits``): one's own actions, or everything with ``lhaudit/*``.

The rule is enforced here, not in the audit screen: without the ``audit.all`` capability the
query itself is limited to rows whose ``user_id`` is the actor. Rows are keyset-paged by id
(newest first), so the log can grow without the screen ever loading all of it. Messages are
scrubbed again on the way out: rows imported from LHC were not written by the console and may
hold anything, and a password hash must never reach a screen.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from peewee import JOIN

from . import bounded_json, rules
from .audit import SECRET_FIELDS, SYSTEM_ACTOR_ID, SYSTEM_ACTOR_NAME
from .models import Audit, User, dict_rows, tuple_rows
from .schema import audit_has_actor

if TYPE_CHECKING:
    from .session import ActionContext, Session

MAX_LIMIT = 500
HIDDEN = "[hidden]"
_HASH = re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}|\$argon2[a-z]*\$[^\s\"',}]+")


@dataclass(frozen=True)
class AuditRow:
    """One ``lh_audits`` row as the log shows it (secrets removed)."""

    id: int
    time: dt.datetime | None
    actor_id: int
    actor: str
    category: str
    object_id: int
    action: str
    severity: str
    source: str
    message: str  # the scrubbed message, pretty-printed JSON when it parses

    def details(self) -> dict[str, Any] | str:
        """The message as data (or its text when it is not JSON)."""
        try:
            return bounded_json.loads(self.message)
        except ValueError:
            return self.message


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first; ``next_before`` continues it (None at the end)."""

    rows: tuple[AuditRow, ...]
    next_before: int | None
    sees_all: bool  # False: only the actor's own actions are shown


class AuditService:
    """The audit log as the actor may read it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def page(self, text: str = "", before_id: int | None = None, limit: int = 50) -> AuditPage:
        """Rows with ``id < before_id`` (all when None), newest first, matching ``text``.

        ``text`` matches the category, the message or the actor's username (LIKE ``%text%``).
        An actor who reads only their own actions and may not be told all of other users'
        assignments (SPEC §3 rule 7) reads their messages withheld as ``_Withheld`` says, and
        ``text`` matches only what they read.
        """
        limit = max(1, min(int(limit), MAX_LIMIT))
        with self._session.reading() as ctx:
            sees_all = rules.refusal_to_read_whole_audit_log(ctx) is None
            withheld = None if sees_all else _Withheld.of(ctx)
            has_actor = audit_has_actor()
            columns = [Audit.id, Audit.time, Audit.category, Audit.object_id, Audit.message,
                       Audit.severity, Audit.source]
            if has_actor:
                query = (
                    Audit.select(*columns, Audit.user_id, User.username.alias("username"))
                    .join(User, JOIN.LEFT_OUTER, on=(User.id == Audit.user_id))
                )
                mine = Audit.user_id == ctx.actor_id
                by_name = User.username.contains(text.strip())
            else:  # older LHC schema: no user_id column, the actor id is in the message
                query = Audit.select(*columns)
                mine = Audit.message.contains(f'"actor_id": {int(ctx.actor_id)},')
                by_name = None
            query = query.order_by(Audit.id.desc())
            if not sees_all:
                query = query.where(mine)
            if before_id is not None:
                query = query.where(Audit.id < int(before_id))
            text = text.strip()
            if text:
                matches = Audit.category.contains(text) | Audit.message.contains(text)
                query = query.where(matches if by_name is None else matches | by_name)
            if withheld is not None and text:
                # The message matched as stored may match only in what is withheld: each row
                # is matched again on what the actor reads, and the next rows fetched.
                found = _matching(query, limit + 1, lambda r: withheld.matches(r, text))
            else:
                found = list(dict_rows(query.limit(limit + 1)))
            if not has_actor:
                _actors_from_messages(found)
        more = len(found) > limit
        rows = tuple(_row(r, withheld) for r in found[:limit])
        return AuditPage(
            rows=rows,
            next_before=rows[-1].id if more and rows else None,
            sees_all=sees_all,
        )


def _matching(query: Any, wanted: int, keep: Callable[[dict[str, Any]], bool]) -> list[Any]:
    """Up to ``wanted`` rows of ``query`` (newest first) that ``keep`` keeps."""
    found: list[dict[str, Any]] = []
    batch = max(wanted, 200)
    last: int | None = None
    while len(found) < wanted:
        page = query if last is None else query.where(Audit.id < last)
        rows = list(dict_rows(page.limit(batch)))
        for r in rows:
            if keep(r):
                found.append(r)
                if len(found) == wanted:
                    break
        if len(rows) < batch:
            break
        last = int(rows[-1]["id"])
    return found


@dataclass(frozen=True)
class _Withheld:
    """What an actor who reads only their own actions may not be told in them (SPEC §3 rule 7).

    A user's audit snapshot holds all of their department groups and ``departments_ids``, the
    cached list of every department they reach, directly or through a group: for a team leader
    without ``see_user_assigned_departments`` it told the direct departments the user form
    leaves out. In rows about another user, ``departments_ids`` shows as hidden and the
    department groups only as far as ``rules.shown_department_groups``; a deleted department
    group's ``assigned_users`` only when that group is shown. The actor's own account is theirs
    to see.
    """

    actor_id: int
    groups: frozenset[int] | None  # the other users' department groups shown; None: all

    @classmethod
    def of(cls, ctx: ActionContext) -> _Withheld | None:
        groups, departments = rules.shown_department_groups(ctx), rules.shown_departments(ctx)
        if groups is None and departments is None:
            return None
        return cls(ctx.actor_id, groups)

    def withhold(self, category: str, object_id: int, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if category == "user" and object_id != self.actor_id:
            return {
                key: self._user_snapshot(item) if key in ("before", "after") else item
                for key, item in value.items()
            }
        hidden_group = self.groups is not None and object_id not in self.groups
        if category == "department_group" and hidden_group:
            before = value.get("before")
            if isinstance(before, dict) and "assigned_users" in before:
                return {**value, "before": {**before, "assigned_users": HIDDEN}}
        return value

    def _user_snapshot(self, snapshot: Any) -> Any:
        if not isinstance(snapshot, dict):
            return snapshot
        shown = dict(snapshot)
        if "departments_ids" in shown:
            shown["departments_ids"] = HIDDEN
        held = shown.get("department_groups")
        if self.groups is not None and isinstance(held, list):
            shown["department_groups"] = [
                pair
                for pair in held
                if isinstance(pair, list) and pair and pair[0] in self.groups
            ]
        return shown

    def matches(self, row: dict[str, Any], text: str) -> bool:
        """Whether ``text`` is in what the actor reads of ``row`` (as the query matched it)."""
        wanted = text.lower()
        if wanted in str(row.get("category") or "").lower():
            return True
        if wanted in str(row.get("username") or "").lower():
            return True
        message = row.get("message") or ""
        try:
            value = bounded_json.loads(message)
        except ValueError:
            return wanted in message.lower()
        shown = self.withhold(str(row.get("category") or ""), int(row.get("object_id") or 0), value)
        compact = json.dumps(shown, sort_keys=True, ensure_ascii=False, default=str)
        return wanted in compact.lower()


def _actors_from_messages(found: list[dict[str, Any]]) -> None:
    """Fill ``user_id`` and ``username`` of rows whose actor is recorded in the message."""
    for r in found:
        try:
            decoded = bounded_json.loads(r["message"] or "")
        except ValueError:
            decoded = None
        actor = decoded.get("actor_id") if isinstance(decoded, dict) else None
        r["user_id"] = actor if isinstance(actor, int) else 0
    ids = {r["user_id"] for r in found if r["user_id"]}
    query = User.select(User.id, User.username).where(User.id.in_(ids))
    names: dict[int, str] = dict(tuple_rows(query)) if ids else {}
    for r in found:
        r["username"] = names.get(r["user_id"])


def _row(r: dict[str, Any], withheld: _Withheld | None = None) -> AuditRow:
    user_id = int(r["user_id"] or 0)
    if r["username"] is not None:
        actor = r["username"]
    elif user_id == SYSTEM_ACTOR_ID:
        actor = SYSTEM_ACTOR_NAME
    else:
        actor = f"#{user_id} (deleted)"
    message, action = _message(
        r["message"] or "",
        (lambda value: withheld.withhold(r["category"] or "", int(r["object_id"] or 0), value))
        if withheld is not None
        else None,
    )
    time = r["time"] if isinstance(r["time"], dt.datetime) else None  # MySQL zero dates
    return AuditRow(
        id=int(r["id"]),
        time=time,
        actor_id=user_id,
        actor=actor,
        category=r["category"] or "",
        object_id=int(r["object_id"] or 0),
        action=action,
        severity=r["severity"] or "",
        source=r["source"] or "",
        message=message,
    )


def _message(text: str, withhold: Callable[[Any], Any] | None = None) -> tuple[str, str]:
    """(scrubbed message text, its action): JSON is pretty-printed, anything else (text nested
    too deep to walk included: ``bounded_json``) kept as text. ``withhold`` takes out what
    the reader may not be told (``_Withheld``)."""
    try:
        value = bounded_json.loads(text)
    except ValueError:
        return _HASH.sub(HIDDEN, text), ""
    value = scrub_deep(value if withhold is None else withhold(value))
    action = str(value.get("action", "")) if isinstance(value, dict) else ""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str), action


def scrub_deep(value: Any) -> Any:
    """Remove secret fields at any depth and hide anything that looks like a password hash."""
    if isinstance(value, dict):
        return {k: (HIDDEN if k in SECRET_FIELDS else scrub_deep(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_deep(v) for v in value]
    if isinstance(value, str):
        return _HASH.sub(HIDDEN, value)
    return value
