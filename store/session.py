"""The scoping layer's entry point: one ``Session`` bound to the logged-in actor.

Every read and write a screen or command makes goes through a session's services
(``session.users``, ``session.groups``, ``session.roles``, ``session.departments``,
``session.permissions``). Each write is one transaction that first re-reads the actor's
permissions and scope (so a change made meanwhile by someone else is honoured), checks the
action, validates the input, writes, and leaves one ``lh_audits`` row. A refusal raises a
``ScopeError`` before anything is written, and the transaction rolls back on any error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from peewee import Database

from .audit import write_audit
from .auth import authenticate
from .database import database_errors, read_transaction, write_transaction
from .errors import ScopeError
from .models import User
from .permissions import GRANT, WILDCARD, PermissionSet, PolicyRow
from .scope import Scope

SYSTEM_ACTOR_ID = 0
SYSTEM_ACTOR_NAME = "installer"


@dataclass
class ActionContext:
    """The actor, their permissions and their scope, as of the start of one action."""

    actor_id: int
    actor_name: str
    permissions: PermissionSet
    scope: Scope
    installing: bool = False  # the installer loads documented data, not a person's form

    def has(self, module: str, function: str) -> bool:
        return self.permissions.has(module, function)

    def require(self, module: str, function: str, doing: str) -> None:
        """Refuse unless the actor holds ``module/function``."""
        if not self.has(module, function):
            self.refuse(doing, f"it needs the {module}/{function} permission")

    def refuse(self, doing: str, reason: str) -> NoReturn:
        """Raise the one typed refusal: who may not do what, and why."""
        raise ScopeError(f"{self.actor_name} may not {doing}: {reason}")

    def audit(
        self,
        category: str,
        object_id: int,
        action: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
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
        from .assignments import AssignmentService
        from .audit_log import AuditService
        from .departments import DepartmentService
        from .groups import GroupService
        from .insight import PermissionService
        from .risk import RiskService
        from .roles import RoleService
        from .users import UserService

        self.db = db
        self.actor_id = actor_id
        self._system = system
        self.users = UserService(self)
        self.groups = GroupService(self)
        self.roles = RoleService(self)
        self.departments = DepartmentService(self)
        self.assignments = AssignmentService(self)
        self.permissions = PermissionService(self)
        self.audit = AuditService(self)
        self.risk = RiskService(self)

    @classmethod
    def login(cls, db: Database, identifier: str, password: str, *, ip: str = "console") -> Session:
        """Check the credentials (recording the attempt) and open a session for the account."""
        with database_errors():
            user = authenticate(identifier, password, ip=ip)
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

    def require_import(self) -> ActionContext:
        """Loading samples and dumps replaces what everyone may do: ``*/*`` or ``lhuser/import``."""
        from .capabilities import CAPABILITIES

        ctx = self.context()
        if not CAPABILITIES["import"](ctx):
            ctx.refuse("import configurations", "it needs */* or the lhuser/import permission")
        return ctx

    # -- context -------------------------------------------------------------------------

    def context(self) -> ActionContext:
        """Read the actor's permissions and scope now; refuse if the account is gone or off."""
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
        )

    @contextmanager
    def action(self) -> Iterator[ActionContext]:
        """One user action: one transaction, with permissions and scope read inside it."""
        with write_transaction(self.db):
            yield self.context()

    @contextmanager
    def reading(self) -> Iterator[ActionContext]:
        """A consistent read: one transaction, nothing written."""
        with read_transaction(self.db):
            yield self.context()
