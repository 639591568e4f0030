"""One family of typed errors, with messages a team leader understands.

Screens and the CLI catch ``StoreError`` and show ``str(error)``; nothing else from the store
should reach a user. Each subclass says which kind of "no" it is, so the CLI can map it to an
exit code and a screen to a notification style.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class ScopeError(StoreError):
    """The actor may not do this: outside their permissions or their scope (SPEC §3)."""


class ValidationError(StoreError):
    """The input is invalid (too long for LHC's column, duplicate, malformed JSON, ...)."""


class NotFoundError(StoreError):
    """The object named does not exist (or vanished meanwhile)."""


class AuthenticationError(StoreError):
    """Login refused: unknown account, wrong password or disabled account."""


class UnrecordedLoginError(AuthenticationError):
    """A login refused unchecked because its attempt cannot be recorded (a database that is or
    became read-only, a write that failed). The servers ask for it (``require_record``): their
    lock-out and throttling rest on the record, so an unrecorded check would be an unlimited
    guess. ``str()`` is the one refusal every login gets; ``reason`` is for the operator."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ConflictError(StoreError):
    """Someone else changed the object since it was read; reload and try again."""


class SchemaError(StoreError):
    """The database lacks a table or column the console needs."""
