"""The audit trail: one ``lh_audits`` row per console action, never with a secret in it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .models import Audit
from .schema import audit_has_actor

SOURCE = "lhc-console"
SYSTEM_ACTOR_ID = 0
"""The actor id of the installer (``Session.installer``): rows it writes name no account."""
SYSTEM_ACTOR_NAME = "installer"
SECRET_FIELDS = frozenset({"password", "session_id"})


def scrub(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop secrets (password hashes, session ids) from a row snapshot."""
    if snapshot is None:
        return None
    return {k: v for k, v in snapshot.items() if k not in SECRET_FIELDS}


def write_audit(
    *,
    category: str,
    object_id: int,
    actor_id: int,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Audit:
    """Record what an actor did: ``message`` is JSON ``{"action","before","after",...}``."""
    message: dict[str, Any] = {"action": action, "before": scrub(before), "after": scrub(after)}
    if extra:
        message.update(extra)
    if not audit_has_actor():  # an older LHC schema: the actor lives in the message
        message["actor_id"] = actor_id
    return Audit.create(
        category=category,
        object_id=object_id,
        user_id=actor_id,
        message=json.dumps(message, sort_keys=True, ensure_ascii=False, default=str),
        severity="info",
        source=SOURCE,
        time=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    )
