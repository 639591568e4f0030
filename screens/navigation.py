"""Where a logged-in actor can go: each screen, its key on the home screen, and its capability.

The home screen and the command palette both list ``available(capabilities)``: a screen the
actor may not use is not offered (and its services refuse it anyway).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from textual.screen import Screen

from store import Session


@dataclass(frozen=True)
class Destination:
    """A screen reachable from home: ``module:Class`` is built with the session."""

    key: str
    title: str
    help: str
    capability: str
    target: str

    def open(self, session: Session) -> Screen:
        module_name, attribute = self.target.split(":")
        found: Any = importlib.import_module(module_name)  # a module, then its attribute
        for name in attribute.split("."):
            found = getattr(found, name)
        screen: Screen = found(session)
        return screen


DESTINATIONS: tuple[Destination, ...] = (
    Destination(
        "u",
        "Users",
        "the users you work with: list, create, edit, disable",
        "users.list",
        "screens.users:UsersScreen",
    ),
    Destination(
        "g",
        "Groups",
        "groups: flags, work-with lists, members, roles",
        "groups.list",
        "screens.groups:GroupsScreen",
    ),
    Destination(
        "r",
        "Roles",
        "roles and the policies they grant or exclude",
        "roles.list",
        "screens.roles:RolesScreen",
    ),
    Destination(
        "d",
        "Departments",
        "departments and department groups",
        "departments.list",
        "screens.departments:DepartmentsScreen",
    ),
    Destination(
        "p",
        "My permissions",
        "what you may do, and which group and role grant it",
        "permissions.own",
        "screens.permissions:PermissionsScreen",
    ),
    Destination(
        "a",
        "Chat access",
        "whose chats you (or a visible user) read and write",
        "access.own",
        "screens.access:AccessScreen",
    ),
    Destination(
        "t",
        "Audit log",
        "who changed what, newest first",
        "audit.own",
        "screens.audit:AuditScreen",
    ),
    Destination(
        "k",
        "Risk report",
        "risky settings, why they matter, how to fix them",
        "risk.report",
        "screens.risk:RiskScreen",
    ),
    Destination(
        "v",
        "Access review",
        "who you may edit: last login, never, idle, locked",
        "review",
        "screens.review:ReviewScreen",
    ),
    Destination(
        "i",
        "Import",
        "load the sample configuration or an LHC dump",
        "import",
        "screens.sample_import:SampleImportScreen.for_session",
    ),
)


def available(capabilities: Iterable[str]) -> list[Destination]:
    """The destinations the actor is offered, in menu order."""
    have = set(capabilities)
    return [d for d in DESTINATIONS if d.capability in have]
