"""Access review: the users an actor may edit, with their last login and what needs a look.

A manager's periodic question: who of my people never logged in, who has not for months, who
is locked out by the login protection, who is disabled, who is in no required group? The
review lists exactly the users the actor may edit (SPEC §3, ``Scope.editable_users_condition``,
the users screen's own set) with LHC's ``lh_users.llogin`` (a unix time, 0 = never) and those
flags. Every flag is an SQL condition, so filtering, ordering and paging happen in the
database: a page costs the same at 100,000 users as at 100 (keyset pages on ``(sort column,
id)``, walked along the sort index for a wide scope as the users list does,
``users.walk_in_order``). The counts per flag, which must visit every editable user, are a
separate call (``summary``) that screens ask for after the page is shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from peewee import SQL, Case, Expression, fn

from . import rules, validation
from .auth import locked_condition
from .errors import NotFoundError, SchemaError, ValidationError
from .models import Group, GroupUser, User, tuple_rows
from .schema import has_column
from .users import in_keyset_order, text_filter, walk_in_order

if TYPE_CHECKING:
    from .session import ActionContext, Session

NEVER, IDLE, LOCKED, DISABLED, NO_REQUIRED = "never", "idle", "locked", "disabled", "no-required"
FLAGS: tuple[str, ...] = (NEVER, IDLE, LOCKED, DISABLED, NO_REQUIRED)
"""The flags, as words, in the order they are shown."""
DEFAULT_IDLE_DAYS = 90
MAX_IDLE_DAYS = 36500  # a hundred years: beyond it every login is "recent"
DAY = 86400
SORTS = ("last_login", "username")
PAGE_LIMIT = 500


@dataclass(frozen=True)
class ReviewRow:
    """One user under review: ``last_login`` is LHC's ``llogin`` (unix time, 0 = never)."""

    id: int
    username: str
    last_login: int
    flags: tuple[str, ...]  # among FLAGS, in that order
    may_disable_or_delete: bool = False  # store.rules.may_disable_or_delete (all are editable)

    @property
    def disabled(self) -> bool:
        return DISABLED in self.flags

    @property
    def last_login_text(self) -> str:
        """The last login as a UTC date (``2025-01-07``), or ``never``."""
        return last_login_text(self.last_login)


@dataclass(frozen=True)
class ReviewPage:
    """One page of the review; ``next_after`` continues the keyset (None at the end)."""

    rows: tuple[ReviewRow, ...]
    next_after: tuple[Any, int] | None
    idle_days: int


@dataclass(frozen=True)
class ReviewSummary:
    """How many editable users (matching the text filter) carry each flag, and in all."""

    total: int
    counts: dict[str, int]  # every flag of FLAGS, in that order
    idle_days: int


def last_login_text(llogin: int) -> str:
    """LHC's ``llogin`` for people: a UTC date, or ``never`` for 0."""
    if llogin <= 0:
        return "never"
    try:
        return time.strftime("%Y-%m-%d", time.gmtime(llogin))
    except (OverflowError, OSError, ValueError):  # a value no calendar holds: show it as is
        return str(llogin)


def idle_days_checked(value: object) -> int:
    """A number of days from 1 to ``MAX_IDLE_DAYS`` (the CLI and the screen pass it)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"Idle days must be a whole number, not {value!r}")
    if not 1 <= value <= MAX_IDLE_DAYS:
        raise ValidationError(f"Idle days must be from 1 to {MAX_IDLE_DAYS}, not {value}")
    return value


class ReviewService:
    """The access review of the logged-in actor (``session.review``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def page(
        self,
        *,
        idle_days: int = DEFAULT_IDLE_DAYS,
        only: str | None = None,
        text: str = "",
        sort: str = "last_login",
        descending: bool = False,
        after: tuple[Any, int] | None = None,
        after_user: int | None = None,
        limit: int = 50,
    ) -> ReviewPage:
        """One page of the editable users, ``only`` those with a flag, keyset-paged.

        ``after`` is the previous page's ``next_after``; ``after_user`` continues after that
        user's place in the order as the database holds it now (the CLI's ``--after ID``). Both
        bounded by the page: a fixed handful of queries, each of at most ``limit + 1`` users.
        """
        idle_days = idle_days_checked(idle_days)
        column = _sort_column(sort)
        flag_condition = _only(only)  # checked before anything is read
        limit = max(1, min(int(limit), PAGE_LIMIT))
        with self._session.reading() as ctx:
            _require(ctx)
            cutoff = int(time.time()) - idle_days * DAY
            if after_user is not None:
                after = _key_of(ctx, column, validation.one_id(after_user, "Page after user"))
            condition: Expression | None
            if only in FEW:
                # The flagged users first (the ``disabled`` index finds them), then only they
                # are probed for the scope: a few ms however wide the scope.
                walk = True
                flagged = User.select(User.id).where(FLAG_CONDITIONS[only](cutoff))
                condition = User.id.in_(flagged)
            else:
                condition = flag_condition(cutoff) if flag_condition is not None else None
                # A flag on the last login itself bounds the walk along its index.
                bound = condition if only in (NEVER, IDLE) and column is User.llogin else None
                walk = walk_in_order(ctx, column) and _dense(
                    column,
                    descending,
                    bound,
                    _and(condition, _matching(ctx, text, per_user=True)),
                )
            condition = _and(condition, _matching(ctx, text, per_user=walk))
            query = User.select(User.id, User.username, User.llogin, User.disabled).where(condition)
            query = in_keyset_order(query, column, after=after, descending=descending, walk=walk)
            users = list(query.limit(limit + 1).tuples())
            more = len(users) > limit
            users = users[:limit]
            ids = [u[0] for u in users]
            locked = _ids_among(ids, locked_condition())
            no_required = _ids_among(ids, _no_required_condition())
        rows = tuple(
            ReviewRow(
                id=uid,
                username=username,
                last_login=int(llogin or 0),
                flags=_flags(
                    int(llogin or 0), bool(disabled), uid in locked, uid in no_required, cutoff
                ),
                may_disable_or_delete=rules.may_disable_or_delete(ctx, uid, editable=True),
            )
            for uid, username, llogin, disabled in users
        )
        next_after = None
        if more and users:
            last = users[-1]
            next_after = (last[2] if column is User.llogin else last[1], last[0])
        return ReviewPage(rows=rows, next_after=next_after, idle_days=idle_days)

    def summary(self, *, idle_days: int = DEFAULT_IDLE_DAYS, text: str = "") -> ReviewSummary:
        """How many editable users (matching ``text``) carry each flag: one pass, in SQL.

        Apart from ``page`` because it visits every editable user (the one figure that grows
        with the data): the screen shows the page first and these counts when they arrive.
        """
        idle_days = idle_days_checked(idle_days)
        with self._session.reading() as ctx:
            _require(ctx)
            cutoff = int(time.time()) - idle_days * DAY
            conditions = {flag: FLAG_CONDITIONS[flag](cutoff) for flag in FLAGS}
            sums = [fn.SUM(Case(None, [(c, 1)], 0)) for c in conditions.values()]
            row = (
                User.select(fn.COUNT(User.id), *sums)
                .where(ctx.scope.editable_users_condition() & text_filter(text))
                .tuples()
                .first()
            )
        total, *counts = row or (0,) * (len(FLAGS) + 1)
        return ReviewSummary(
            total=int(total or 0),
            counts={flag: int(n or 0) for flag, n in zip(FLAGS, counts, strict=True)},
            idle_days=idle_days,
        )


WALK_SAMPLE = 1000
WALK_SAMPLE_HITS = 5
"""Walk the sort index only when at least this many of its first ``WALK_SAMPLE`` users match
(``_dense``): a page of 50 is then found within about 10,000 users."""


def _matching(ctx: ActionContext, text: str, *, per_user: bool) -> Expression:
    """The users under review: editable by the actor, matching the text filter."""
    return ctx.scope.editable_users_condition(per_user=per_user) & text_filter(text)


def _and(first: Expression | None, second: Expression) -> Expression:
    return second if first is None else first & second


def _dense(column: Any, descending: bool, bound: Expression | None, condition: Expression) -> bool:
    """Whether enough users match near the start of the sort order for a walk to pay.

    ``users.walk_in_order`` judges by how many users the actor *sees*; the review lists only
    those they may *edit*, which can be far fewer (a team leader who sees 1,400 of 10,000 users
    may edit 33 of them, and a walk for 50 would probe all 10,000). Checking the first
    ``WALK_SAMPLE`` users of the index (within ``bound``, where the walk starts) costs about
    as much as probing them: a few ms.
    """
    order = (column.desc(), User.id.desc()) if descending else (column, User.id)
    head = User.select(User.id).order_by(*order).limit(WALK_SAMPLE)
    if bound is not None:
        head = head.where(bound)
    # Joined, not ``IN (… LIMIT …)``: MariaDB refuses a LIMIT inside an IN subquery.
    head = head.alias("head")
    hits = (
        User.select(SQL("1"))
        .join(head, on=(User.id == head.c.id))
        .where(condition)
        .limit(WALK_SAMPLE_HITS)
    )
    return hits.count() >= WALK_SAMPLE_HITS


# -- the flags as SQL ------------------------------------------------------------------------


def _never(cutoff: int) -> Expression:
    return User.llogin == 0


def _idle(cutoff: int) -> Expression:
    """Logged in once, but not since ``cutoff`` (a user who never did is ``never``)."""
    return (User.llogin > 0) & (User.llogin < cutoff)


def _locked(cutoff: int) -> Expression:
    return locked_condition()


def _disabled(cutoff: int) -> Expression:
    return User.disabled == 1


def _no_required(cutoff: int) -> Expression:
    return _no_required_condition()


FEW = frozenset({LOCKED, DISABLED})
"""Flags that only disabled users carry (and the odd guarded account cooling off): few, and
found through the ``disabled`` index before the scope is checked."""

FLAG_CONDITIONS = {
    NEVER: _never,
    IDLE: _idle,
    LOCKED: _locked,
    DISABLED: _disabled,
    NO_REQUIRED: _no_required,
}


def _no_required_condition() -> Expression:
    """In none of the groups flagged ``required`` (LHC's user form asks for one of them).

    Where no group is required (or the schema has no ``required`` column), nobody lacks one:
    the condition matches nobody."""
    required: list[int] = []
    if has_column(Group, "required"):
        required = [g for (g,) in tuple_rows(Group.select(Group.id).where(Group.required == 1))]
    if not required:
        return User.id.is_null(True)  # ids are never NULL: nobody
    membership = GroupUser.alias()
    member = membership.select(SQL("1")).where(
        (membership.user_id == User.id) & membership.group_id.in_(required)
    )
    return ~fn.EXISTS(member)


def _flags(
    llogin: int, disabled: bool, locked: bool, no_required: bool, cutoff: int
) -> tuple[str, ...]:
    """A row's flags as words, decided exactly as ``FLAG_CONDITIONS`` decide them in SQL."""
    on = {
        NEVER: llogin == 0,
        IDLE: 0 < llogin < cutoff,
        LOCKED: locked,
        DISABLED: disabled,
        NO_REQUIRED: no_required,
    }
    return tuple(flag for flag in FLAGS if on[flag])


def _only(only: str | None) -> Any:
    if only is None or only == "":
        return None
    condition = FLAG_CONDITIONS.get(only)
    if condition is None:
        raise ValidationError(f"No review flag {only!r}: use one of {', '.join(FLAGS)}")
    return condition


def _sort_column(sort: str) -> Any:
    if sort not in SORTS:
        raise ValidationError(f"Cannot sort the review by {sort!r}: use last_login or username")
    return User.llogin if sort == "last_login" else User.username


def _key_of(ctx: ActionContext, column: Any, user_id: int) -> tuple[Any, int]:
    """The keyset key of a visible user as stored now (``--after ID`` names a user the previous
    page showed; one who logged in meanwhile moves, and the next page starts from there)."""
    value = User.select(column).where(User.id == user_id).scalar()
    if value is None or not rules.sees_user(ctx, user_id):
        raise NotFoundError(f"No user #{user_id} among the users you can see")
    return value, user_id


def _ids_among(ids: list[int], condition: Expression) -> set[int]:
    """Which of a page's users match ``condition`` (probed through those ids only)."""
    if not ids:
        return set()
    query = User.select(User.id).where(User.id.in_(ids) & condition)
    return {uid for (uid,) in tuple_rows(query)}


def _require(ctx: ActionContext) -> None:
    """The review lists users to change: the users list and the right to edit users."""
    ctx.refuse_if("review access", rules.refusal_to_review_access(ctx))
    if not has_column(User, "llogin"):
        raise SchemaError(
            "This LHC database has no lh_users.llogin column: its LHC version records no "
            "last login, so there is nothing to review"
        )
