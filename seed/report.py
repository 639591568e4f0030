"""What a load or import wrote, or would write, and who may run it: shared by the sample
loader and the importer.

Replacing the configuration makes and unmakes administrators, so every load names its
authority (``by``): a logged-in ``Session`` (an administrator, SPEC §3.2 rule 4),
``Authority.FIRST_RUN`` (the console's screens on a database without users, which never
replace) or ``Authority.LOCAL`` (the ``sample`` and ``import`` commands, run by whoever holds
the database). There is no default: a caller that names nobody is refused.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from peewee import fn

from store import Session
from store.auth import usable_hash
from store.errors import ConflictError, ScopeError
from store.models import GroupUser, IdModel, User
from store.schema import present_models
from store.scope import administration_group_ids, administrator_user_ids
from store.session import SYSTEM_ACTOR_ID

PREVIEW_NAMES = 50


class Authority(enum.Enum):
    """Who loads, when it is not a logged-in person."""

    FIRST_RUN = "first run"
    """The first-run screens: nobody can log in yet. Allowed only while the database holds no
    permission rows (checked inside the load's transaction); never replaces."""
    LOCAL = "local"
    """The ``sample`` and ``import`` commands: whoever holds the database URL (and so its
    password or file) may replace it, as with LHC's own install script."""


LoadedBy = Session | Authority


def authorise(by: LoadedBy, held: dict[str, int]) -> tuple[int, str]:
    """The audit actor id and the authority's name for a load, or a refusal.

    Call inside the load's write transaction, with the permission rows it holds now.
    """
    if isinstance(by, Session):
        return by.require_import().actor_id, "session"
    if by is Authority.FIRST_RUN:
        if held:
            raise ScopeError(
                "The first-run import loads only into an empty database, and this one now "
                f"holds {held_list(held)}: log in as an administrator to replace it; "
                "nothing was changed"
            )
        return SYSTEM_ACTOR_ID, by.value
    if by is Authority.LOCAL:
        return SYSTEM_ACTOR_ID, by.value
    raise TypeError(f"by={by!r}: name who loads (a Session or an Authority)")


def missing_administrator(what: str) -> str | None:
    """Why no enabled administrator could log in now (``what`` names the loaded source), or
    None when one can: an enabled administrator whose password column holds a hash some
    password matches (``store.auth.usable_hash``). Read inside the load's transaction, after
    loading."""
    if not User.select().exists():
        return f"{what} holds no users"
    admins = administrator_user_ids()
    enabled = User.select(User.password).where(User.id.in_(sorted(admins)) & (User.disabled == 0))
    if admins and any(usable_hash(password) for (password,) in enabled.tuples().iterator()):
        return None
    if admins and enabled.exists():
        return (
            f"no enabled administrator in {what} has a password that can log in (each one's "
            "password hash is empty or not a bcrypt hash: $2y$, $2a$ or $2b$)"
        )
    if admins:
        return f"every administrator in {what} is disabled"
    if not administration_group_ids(include_disabled=True):
        return f"no group in {what} grants */*"
    enabled_groups = administration_group_ids()
    if not enabled_groups:
        return f"every group in {what} that grants */* is disabled"
    members = GroupUser.select(fn.COUNT(GroupUser.id)).where(
        GroupUser.group_id.in_(sorted(enabled_groups))
    )
    if not members.scalar():
        return f"no user in {what} belongs to a group that grants */*"
    return f"*/* is excluded for every member of a group in {what} that grants it"


def no_administrator_message(what: str, reason: str) -> str:
    return (
        f"Replacing the configuration with {what} would leave no enabled administrator "
        f"to log in: {reason}"
    )


def check_administrator(report: ImportReport, what: str) -> None:
    """After a replace, refuse (a dry run: report as a conflict) a result nobody administers."""
    reason = missing_administrator(what)
    if reason is None:
        return
    message = no_administrator_message(what, reason)
    if report.dry_run:
        report.conflicts.append(message)
        return
    raise ConflictError(f"{message}; nothing was changed")


@dataclass
class ImportReport:
    """Rows per table, a preview of users and groups, and conflicts with what is there."""

    source: str
    dry_run: bool
    replace: bool
    counts: dict[str, int] = field(default_factory=dict)  # rows written per table
    existing: dict[str, int] = field(default_factory=dict)  # rows present before
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    usernames: list[str] = field(default_factory=list)  # first few users written
    group_names: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "replace": self.replace,
            "counts": self.counts,
            "existing": self.existing,
            "ignored_columns": self.ignored_columns,
            "users": self.usernames,
            "groups": self.group_names,
            "conflicts": self.conflicts,
        }


def held_permission_rows(existing: dict[str, int], history: Collection[str]) -> dict[str, int]:
    """Tables (other than the history logs) that already hold rows."""
    return {t: n for t, n in existing.items() if n and t not in history}


def held_list(held: dict[str, int]) -> str:
    """E.g. "5 users, 10 groups, 7 roles and 170 other rows"."""
    named = {"lh_users": "users", "lh_group": "groups", "lh_role": "roles"}
    parts = [f"{held[t]} {label}" for t, label in named.items() if held.get(t)]
    others = sum(n for t, n in held.items() if t not in named)
    if others:
        parts.append(f"{others} other rows")
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def not_empty_message(held: dict[str, int]) -> str:
    """E.g. "The database already holds 5 users, 10 groups, 7 roles and 170 other rows; ..."."""
    return f"The database already holds {held_list(held)}; {REPLACE_ADVICE}"


REPLACE_ADVICE = "run again with --replace to empty the permission tables first"
"""How ``not_empty_message`` ends: the command-line option, which the console words its way."""


def console_wording(message: str) -> str:
    """A store or loader message as the import screen says it: a box to tick, not an option."""
    return message.replace(REPLACE_ADVICE, "tick Replace to empty the permission tables first")


def last_ids(models: Iterable[type[IdModel]]) -> dict[str, int]:
    """The largest id of each table now (0 when empty), to tell later rows apart."""
    present = set(present_models())
    return {
        m._meta.table_name: m.select(fn.MAX(m.id)).scalar() or 0 for m in models if m in present
    }


def rows_since(before: dict[str, int], models: Iterable[type[IdModel]]) -> dict[str, Any]:
    """``{table: {"first_id", "last_id", "rows"}}`` of the rows written after ``last_ids``.

    Recorded in a load's own audit row, so history rows that came from a file (or the
    installer's rows of a sample) stay distinguishable from what people did in the console.
    """
    ranges: dict[str, Any] = {}
    for model in models:
        name = model._meta.table_name
        if name not in before:
            continue
        first, last, rows = (
            model.select(fn.MIN(model.id), fn.MAX(model.id), fn.COUNT(model.id))
            .where(model.id > before[name])
            .scalar(as_tuple=True)
        )
        if rows:
            ranges[name] = {"first_id": first, "last_id": last, "rows": rows}
    return ranges


class DryRunRollback(Exception):
    """Raised at the end of a dry run so its transaction rolls back."""
