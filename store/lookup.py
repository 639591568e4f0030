"""Finding accounts by name for tools that name users on the command line."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotFoundError
from .models import User


@dataclass(frozen=True)
class UserRef:
    """An account's id and username: all a report needs to say whom it is about."""

    id: int
    username: str


def user_named(username: str) -> UserRef:
    """The account with exactly this username, or a ``NotFoundError`` naming it."""
    user = User.get_or_none(User.username == username)
    if user is None:
        raise NotFoundError(f"No user named {username!r}")
    return UserRef(user.id, user.username)


def is_empty() -> bool:
    """Whether the database holds no users yet (a fresh console: offer the sample)."""
    return not User.select().exists()
