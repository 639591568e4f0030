"""The scoping layer's entry point: one ``Session`` bound to the logged-in actor.

Every read and write a screen or command makes goes through a session's services
(``session.users``, ``session.groups``, ``session.roles``, ``session.departments``,
``session.rosters``, ``session.permissions``). Each write is one transaction that first
re-reads the actor's permissions and scope (so a change made meanwhile by someone else is
honoured), checks the action, validates the input, writes, and leaves one ``lh_audits`` row. A
refusal raises a ``ScopeError`` before anything is written, and the transaction rolls back on
any error. A change that changes nothing (the values it already has, a member added again)
writes nothing at all: no row, no ``cache_version`` bump, no audit row; ``Session.changes``
tells the caller so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from peewee import Database

from . import rules
from .assignments import AssignmentService
from .audit import SYSTEM_ACTOR_ID, SYSTEM_ACTOR_NAME, write_audit
from .audit_log import AuditService
from .auth import authenticate
from .bulk import BulkService
from .database import database_errors, read_transaction, write_transaction
from .departments import DepartmentService
from .errors import ScopeError
from .faults import plain_faults
from .groups import GroupService
from .impact import ImpactService
from .insight import PermissionService
from .models import User
from .permissions import GRANT, WILDCARD, PermissionSet, PolicyRow
from .review import ReviewService
from .risk import RiskService
from .roles import RoleService
from .rosters import RosterService
from .scope import Scope
from .user_save import UserSaveService
from .users import UserService


@dataclass(frozen=True)
class AuditStep:
    """One audited change inside an action that writes a single audit row for all of them."""

    category: str
    object_id: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    extra: dict[str, Any]


@dataclass
class ActionContext:
    """The actor, their permissions and their scope, as of the start of one action."""

    actor_id: int
    actor_name: str
    permissions: PermissionSet
    scope: Scope
    installing: bool = False  # the installer loads documented data, not a person's form
    steps: list[AuditStep] | None = None  # set inside ``Session.one_audit``: audit once, later
    audited: Callable[[], None] | None = None  # counts ``Session.changes``

    def has(self, module: str, function: str) -> bool:
        return self.permissions.has(module, function)

    def refuse(self, doing: str, reason: str) -> NoReturn:
        """Raise the one typed refusal: who may not do what, and why (a reason the rulebook,
        ``store.rules``, gave)."""
        raise ScopeError(f"{self.actor_name} may not {doing}: {reason}")

    def refuse_if(self, doing: str, reason: str | None) -> None:
        """Refuse when the rulebook gave a reason; go on when it gave None."""
        if reason:
            self.refuse(doing, reason)

    def audit(
        self,
        category: str,
        object_id: int,
        action: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        """Leave the action's ``lh_audits`` row (or, inside ``Session.one_audit``, a step of
        the one row the enclosing action writes).

        Called only for a real change: a service that finds nothing to change returns before
        writing anything, this row included."""
        if self.audited is not None:
            self.audited()
        if self.steps is not None:
            self.steps.append(AuditStep(category, object_id, action, before, after, extra))
            return
        write_audit(
            category=category,
            object_id=object_id,
            actor_id=self.actor_id,
            action=action,
            before=before,
            after=after,
            extra=extra or None,
        )


class Session:
    """Everything one actor does, scoped to what SPEC §3 lets them do."""

    def __init__(self, db: Database, actor_id: int, *, system: bool = False) -> None:
        self.db = db
        self.actor_id = actor_id
        self._system = system
        self._local = threading.local()  # a ``one_audit`` block's steps and ``changes``, per thread
        self.users = UserService(self)
        self.groups = GroupService(self)
        self.roles = RoleService(self)
        self.departments = DepartmentService(self)
        self.assignments = AssignmentService(self)
        self.permissions = PermissionService(self)
        self.audit = AuditService(self)
        self.risk = RiskService(self)
        self.user_save = UserSaveService(self)
        self.bulk = BulkService(self)
        self.rosters = RosterService(self)
        self.review = ReviewService(self)
        self.impact = ImpactService(self)  # who gains and loses what: dry runs, previews

    @classmethod
    def login(
        cls,
        db: Database,
        identifier: str,
        password: str,
        *,
        ip: str = "console",
        require_record: bool = False,
    ) -> Session:
        """Check the credentials (recording the attempt) and open a session for the account.

        ``require_record``: the servers' consoles, where an attempt that cannot be recorded is
        refused unchecked (``store.auth.authenticate``)."""
        with plain_faults(db), database_errors():
            user = authenticate(identifier, password, ip=ip, require_record=require_record)
        return cls(db, user.id)

    @classmethod
    def installer(cls, db: Database) -> Session:
        """The unrestricted actor that loads samples and dumps (like LHC's install script).

        Only the seed loaders and importers use it; no screen or command offers it.
        """
        return cls(db, SYSTEM_ACTOR_ID, system=True)

    @property
    def is_installer(self) -> bool:
        return self._system

    @property
    def changes(self) -> int:
        """How many audited changes this session has made (in this thread): a command that
        compares it before and after its calls knows whether anything changed. A service that
        finds nothing to change writes nothing and does not count."""
        return int(getattr(self._local, "changes", 0))

    def _audited(self) -> None:
        self._local.changes = self.changes + 1

    def require_import(self) -> ActionContext:
        """Loading the sample or a dump makes and unmakes administrators: ``*/*`` only
        (``rules.refusal_to_import``)."""
        ctx = self.context()
        ctx.refuse_if("import or load a configuration", rules.refusal_to_import(ctx))
        return ctx

    # -- context -------------------------------------------------------------------------

    def context(self) -> ActionContext:
        """Read the actor's permissions and scope now; refuse if the account is gone or off."""
        frozen: tuple[str, PermissionSet, Scope] | None = getattr(self._local, "frozen", None)
        if frozen is not None:
            name, permissions, scope = frozen
            return ActionContext(
                actor_id=self.actor_id,
                actor_name=name,
                permissions=permissions,
                scope=scope,
                installing=self._system,
                steps=getattr(self._local, "steps", None),
                audited=self._audited,
            )
        if self._system:
            permissions = PermissionSet(
                SYSTEM_ACTOR_ID,
                [
                    PolicyRow(
                        0, 0, "installer", False, 0, "installer", WILDCARD, WILDCARD, "", GRANT
                    )
                ],
            )
            name = SYSTEM_ACTOR_NAME
        else:
            actor = User.get_or_none(User.id == self.actor_id)
            if actor is None:
                raise ScopeError("Your account no longer exists; log in again")
            if actor.disabled:
                raise ScopeError(f"Account {actor.username!r} is disabled; log in again")
            permissions = PermissionSet.for_user(self.actor_id)
            name = actor.username
        return ActionContext(
            actor_id=self.actor_id,
            actor_name=name,
            permissions=permissions,
            scope=Scope.compute(self.actor_id, permissions),
            installing=self._system,
            steps=getattr(self._local, "steps", None),
            audited=self._audited,
        )

    @contextmanager
    def same_scope(self) -> Iterator[None]:
        """Inside it, every service call uses the permissions and scope read once at its start.

        For one transaction that changes many *other* users (``store.bulk``): reading the
        actor's permissions and scope again for each of a thousand users cost seconds, and
        nothing such a change does can alter them (the caller keeps the actor out of it). The
        checks themselves still read the users as they are now.
        """
        ctx = self.context()
        self._local.frozen = (ctx.actor_name, ctx.permissions, ctx.scope)
        try:
            yield
        finally:
            self._local.frozen = None

    @contextmanager
    def action(self) -> Iterator[ActionContext]:
        """One user action: one transaction, with permissions and scope read inside it."""
        with plain_faults(self.db), write_transaction(self.db):
            yield self.context()

    @contextmanager
    def together(self, action: str) -> Iterator[None]:
        """Several service calls as one user action: one transaction and one audit row.

        A form that saves fields, groups and departments calls several services; inside this
        block a refusal or a conflict in any of them rolls all of them back, so a save lands
        whole or not at all.
        """
        with self.action(), self.one_audit(action):
            yield

    @contextmanager
    def one_audit(self, action: str) -> Iterator[list[AuditStep]]:
        """Make the service calls inside one form save leave one ``lh_audits`` row together.

        Use inside ``action()``: each inner service call checks and writes as it always does,
        but its audit entry becomes a step; at the end one row is written, with the first
        step's "before", the last step's "after" and the list of steps. Nothing is written when
        the block fails (the transaction rolls back) or when no step changed anything.
        """
        if getattr(self._local, "steps", None) is not None:
            yield self._local.steps  # already collecting: the outer block writes the row
            return
        steps: list[AuditStep] = []
        self._local.steps = steps
        try:
            yield steps
        finally:
            self._local.steps = None
        if steps:
            first, last = steps[0], steps[-1]
            extra: dict[str, Any] = {}
            for step in steps:
                extra.update(step.extra)
            extra["steps"] = [step.action for step in steps]
            write_audit(
                category=first.category,
                object_id=last.object_id,
                actor_id=self.actor_id,
                action=action,
                before=first.before,
                after=last.after,
                extra=extra,
            )

    @contextmanager
    def reading(self) -> Iterator[ActionContext]:
        """A consistent read: one transaction, nothing written."""
        with plain_faults(self.db), read_transaction(self.db):
            yield self.context()
