"""Bulk changes: one edit for many users, previewed per user, written all or nothing.

A manager marks users and picks one change (add or remove a group, assign or unassign a
department group or a department, disable or enable). ``BulkService.run`` turns the change into
each user's wanted state and saves it through the one user-save path (``store.user_save``), so
every rule of SPEC §3 applies to each user exactly as in the form. Everything runs in one
transaction: each user in a savepoint, so a refusal is recorded with its reason and the others
go on being checked; then the whole transaction is rolled back for a preview (``dry_run``) or
when anything was refused, and committed otherwise, with one audit row per user changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import rules
from .errors import StoreError, ValidationError
from .impact import Impact, Touches
from .user_save import UserDifference, WantedUser, user_difference
from .views import EditChoices, UserDetail

if TYPE_CHECKING:
    from .session import Session

BULK_LIMIT = 1000
"""The most users one bulk change may touch (the users screen's ``*`` marks at most these)."""


@dataclass(frozen=True)
class BulkEdit:
    """One change asked of every marked user; ids of groups, department groups, departments."""

    add_groups: tuple[int, ...] = ()
    remove_groups: tuple[int, ...] = ()
    assign_department_groups: Mapping[int, bool] = field(default_factory=dict)  # id -> read-only
    unassign_department_groups: tuple[int, ...] = ()
    assign_departments: Mapping[int, bool] = field(default_factory=dict)
    unassign_departments: tuple[int, ...] = ()
    disabled: bool | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.add_groups
            or self.remove_groups
            or self.assign_department_groups
            or self.unassign_department_groups
            or self.assign_departments
            or self.unassign_departments
            or self.disabled is not None
        )

    def wanted_for(self, user: UserDetail) -> WantedUser:
        """The user's state with this change made (parts the change does not touch: kept)."""
        groups = None
        if self.add_groups or self.remove_groups:
            held = {g.id for g in user.groups}
            groups = frozenset((held | set(self.add_groups)) - set(self.remove_groups))
        dep_groups = _assigned(
            {a.id: a.read_only for a in user.department_groups},
            self.assign_department_groups,
            self.unassign_department_groups,
        )
        departments = _assigned(
            {a.id: a.read_only for a in user.departments},
            self.assign_departments,
            self.unassign_departments,
        )
        return WantedUser(
            disabled=self.disabled,
            groups=groups,
            department_groups=dep_groups,
            departments=departments,
            expected_version=user.cache_version,
        )

    def kept_against_the_change(self, user: UserDetail, choices: EditChoices) -> str:
        """Why a removal asked for cannot be made for this user ("" if every one can).

        The wanted state keeps what the actor may not hand out; a bulk change that asks to
        take it away must say so instead of reporting the user as unchanged.
        """
        reason = rules.refusal_to_take_away_kept(
            user,
            choices,
            groups=self.remove_groups,
            department_groups=self.unassign_department_groups,
            departments=self.unassign_departments,
        )
        return reason or ""


def _assigned(
    current: dict[int, bool], assign: Mapping[int, bool], unassign: Sequence[int]
) -> dict[int, bool] | None:
    if not assign and not unassign:
        return None
    wanted = {i: ro for i, ro in current.items() if i not in unassign}
    wanted.update({i: bool(ro) for i, ro in assign.items()})
    return wanted


@dataclass(frozen=True)
class BulkOutcome:
    """One user's part of a bulk change: what changes, or why it is refused."""

    user_id: int
    username: str
    difference: UserDifference | None = None  # None when refused
    refusal: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.refusal)

    @property
    def changes(self) -> bool:
        return self.difference is not None and not self.difference.empty


@dataclass(frozen=True)
class BulkReport:
    """Every user's outcome in the order asked, and whether the change was written."""

    outcomes: tuple[BulkOutcome, ...]
    written: bool
    impact: Impact | None = None  # who gains and loses what, when the preview measured it

    @property
    def refused(self) -> tuple[BulkOutcome, ...]:
        return tuple(o for o in self.outcomes if o.refused)

    @property
    def changed(self) -> tuple[BulkOutcome, ...]:
        return tuple(o for o in self.outcomes if o.changes)

    @property
    def unchanged(self) -> tuple[BulkOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.refused and not o.changes)

    def refusal_message(self) -> str:
        """Every refused user with the reason, for a command's error or a banner."""
        lines = [
            f"{o.username!r}{f' (#{o.user_id})' if o.user_id else ''}: {o.refusal}"
            for o in self.refused
        ]
        return f"Refused for {len(lines)} user(s), nothing was changed:\n" + "\n".join(lines)


class BulkRefused(StoreError):
    """A bulk change with at least one refusal: nothing was written; ``report`` says who."""

    def __init__(self, report: BulkReport) -> None:
        super().__init__(report.refusal_message())
        self.report = report


class _RollBack(Exception):
    """Leaves the bulk transaction without committing (a preview, or a refusal)."""


class BulkService:
    """``session.bulk``: preview or apply one change to many users, all or nothing."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def run(
        self,
        user_ids: Sequence[int],
        edit: BulkEdit,
        *,
        dry_run: bool,
        with_impact: bool = False,
    ) -> BulkReport:
        """Check and make ``edit`` for every user; write only if not ``dry_run`` and nothing
        was refused. Raises ``BulkRefused`` (nothing written) when a real run has a refusal;
        a preview returns the refusals in its report instead.

        ``with_impact`` also measures who gains and loses which permissions and chats (issue
        19: the preview of a change of what people may do says so); the users refused are
        rolled back in their savepoints, so it is the impact of the part that would be written.
        """
        ids = list(dict.fromkeys(user_ids))  # each user once, in the order given
        if not ids:
            raise ValidationError("No users to change")
        if len(ids) > BULK_LIMIT:
            raise ValidationError(
                f"{len(ids)} users is more than one bulk change may touch ({BULK_LIMIT})"
            )
        if edit.empty:
            raise ValidationError("Nothing to change")
        session = self._session
        outcomes: list[BulkOutcome] = []
        impact: Impact | None = None
        # The actor's own permissions and scope are read once, unless the change touches the
        # actor (their own groups would change what they may do for the users after them).
        once = session.same_scope() if session.actor_id not in ids else nullcontext()
        try:
            with session.action(), once:
                if with_impact:
                    with session.impact.measuring(Touches.of(users=ids)) as measurement:
                        outcomes.extend(self._one(user_id, edit) for user_id in ids)
                    impact = measurement.finish()
                else:
                    outcomes.extend(self._one(user_id, edit) for user_id in ids)
                if dry_run or any(o.refused for o in outcomes):
                    raise _RollBack
        except _RollBack:
            report = BulkReport(tuple(outcomes), written=False, impact=impact)
            if not dry_run:
                raise BulkRefused(report) from None
            return report
        return BulkReport(tuple(outcomes), written=True, impact=impact)

    def _one(self, user_id: int, edit: BulkEdit) -> BulkOutcome:
        """One user in a savepoint: a refusal takes back this user's writes only."""
        session = self._session
        username = f"#{user_id}"  # the name only once the user is known to be visible
        try:
            with session.db.atomic():
                user = session.users.get(user_id)
                username = user.username
                choices = session.users.choices(user_id)
                if choices.read_only:
                    # As ``user_save`` refuses such a user even when nothing would change:
                    # "unchanged" for someone the actor may not edit is an answer about them.
                    return BulkOutcome(
                        user_id,
                        username,
                        refusal=f"may not change user {username!r}: {choices.read_only_reason}",
                    )
                kept = edit.kept_against_the_change(user, choices)
                if kept:
                    return BulkOutcome(user_id, username, refusal=kept)
                wanted = edit.wanted_for(user)
                if user_difference(user, choices, wanted).empty:
                    return BulkOutcome(user_id, username, difference=UserDifference())
                saved = session.user_save.save(user_id, wanted, action="user.bulk")
                return BulkOutcome(user_id, username, difference=saved.difference)
        except StoreError as error:
            return BulkOutcome(user_id, username, refusal=_reason(str(error)))


def _reason(message: str) -> str:
    """A refusal without the actor's name in front ("X may not …: why" reads "may not …")."""
    head, sep, rest = message.partition(" may not ")
    return f"may not {rest}" if sep and "\n" not in head else message
