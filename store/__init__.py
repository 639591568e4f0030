"""lhc-console's store: LHC's tables, the permission engine and the scoping layer.

Nothing here imports Textual or the screens; screens and the CLI call ``Session`` services.
"""

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
