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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from peewee import JOIN

from . import bounded_json, rules
from .audit import SECRET_FIELDS, SYSTEM_ACTOR_ID, SYSTEM_ACTOR_NAME
from .models import Audit, User, dict_rows, tuple_rows
from .schema import audit_has_actor

if TYPE_CHECKING:
    from .session import Session

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
        """
        limit = max(1, min(int(limit), MAX_LIMIT))
        with self._session.reading() as ctx:
            sees_all = rules.refusal_to_read_whole_audit_log(ctx) is None
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
            found = list(dict_rows(query.limit(limit + 1)))
            if not has_actor:
                _actors_from_messages(found)
        more = len(found) > limit
        rows = tuple(_row(r) for r in found[:limit])
        return AuditPage(
            rows=rows,
            next_before=rows[-1].id if more and rows else None,
            sees_all=sees_all,
        )


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


def _row(r: dict[str, Any]) -> AuditRow:
    user_id = int(r["user_id"] or 0)
    if r["username"] is not None:
        actor = r["username"]
    elif user_id == SYSTEM_ACTOR_ID:
        actor = SYSTEM_ACTOR_NAME
    else:
        actor = f"#{user_id} (deleted)"
    message, action = _message(r["message"] or "")
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


def _message(text: str) -> tuple[str, str]:
    """(scrubbed message text, its action): JSON is pretty-printed, anything else (text nested
    too deep to walk included: ``bounded_json``) kept as text."""
    try:
        value = bounded_json.loads(text)
    except ValueError:
        return _HASH.sub(HIDDEN, text), ""
    value = scrub_deep(value)
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
