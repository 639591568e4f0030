"""lhc-console's store: LHC's tables, the permission engine and the scoping layer.

Nothing here imports Textual or the screens; screens and the CLI call ``Session`` services.

The names below are loaded on first use (PEP 562), not when the package is imported: importing
``store.errors`` or ``store.locations`` must not load Peewee, which imports the MySQL and
PostgreSQL drivers when they are installed (about 100 ms). The console paints its login screen
with those two alone and opens the database afterwards, in a worker.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .access import ChatAccess, chat_access
    from .database import open_database, resolve_database_url
    from .errors import (
        AuthenticationError,
        ConflictError,
        NotFoundError,
        SchemaError,
        ScopeError,
        StoreError,
        ValidationError,
    )
    from .permissions import PermissionSet, who_grants
    from .scope import Scope
    from .session import Session

_HOMES = {
    "ChatAccess": "access",
    "chat_access": "access",
    "open_database": "database",
    "resolve_database_url": "database",
    "AuthenticationError": "errors",
    "ConflictError": "errors",
    "NotFoundError": "errors",
    "SchemaError": "errors",
    "ScopeError": "errors",
    "StoreError": "errors",
    "ValidationError": "errors",
    "PermissionSet": "permissions",
    "who_grants": "permissions",
    "Scope": "scope",
    "Session": "session",
}

__all__ = [
    "AuthenticationError",
    "ChatAccess",
    "ConflictError",
    "NotFoundError",
    "PermissionSet",
    "SchemaError",
    "Scope",
    "ScopeError",
    "Session",
    "StoreError",
    "ValidationError",
    "chat_access",
    "open_database",
    "resolve_database_url",
    "who_grants",
]


def __getattr__(name: str) -> Any:
    """Load ``name`` from its module the first time it is asked for (``from store import X``)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
