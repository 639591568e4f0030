"""Login and password hashing, compatible with LHC's PHP ``password_hash`` (bcrypt ``$2y$``)."""

from __future__ import annotations

import time

import bcrypt

from .database import write_transaction
from .errors import AuthenticationError
from .models import User, UserLogin, database_proxy

LOGIN_FAILED = 0
LOGIN_SUCCESS = 1
LOGIN_DISABLED_AFTER_FAILURES = 4
BCRYPT_COST = 10  # PHP's default cost, what LHC writes

# A real hash to check against when the account does not exist, so that an unknown username
# takes as long as a wrong password. Precomputed (bcrypt of "not-a-password" at BCRYPT_COST):
# hashing it at import cost every start of the console one bcrypt round.
_DUMMY_HASH = b"$2b$10$LzYQP19HHgr1pwPn6.QlOe1PGda/0QDqZjBYc4MkXPnPt0lDpS/TG"


def hash_password(password: str) -> str:
    """A bcrypt hash in PHP's spelling (``$2y$10$...``), as LHC's back office writes it."""
    hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_COST)).decode("ascii")
    return "$2y$" + hashed[4:]


def verify_password(password: str, stored: str) -> bool:
    """Check a password against an LHC hash: bcrypt (``$2y$``, ``$2a$``, ``$2b$``).

    Anything else (old LHC sha1 hashes, empty) never matches; such accounts need a new password.
    """
    candidate = password.encode("utf-8")
    if stored.startswith(("$2y$", "$2a$", "$2b$")) and len(candidate) <= 72:
        try:
            return bcrypt.checkpw(candidate, ("$2b$" + stored[4:]).encode("ascii"))
        except ValueError:
            return False
    bcrypt.checkpw(b"x", _DUMMY_HASH)  # spend the same time as a real check
    return False


def find_account(identifier: str) -> User | None:
    """The account for a username, or for an e-mail address that exactly one account uses."""
    identifier = identifier.strip()
    if not identifier:
        return None
    user = User.get_or_none(User.username == identifier)
    if user is not None:
        return user
    if "@" in identifier:
        matches = list(User.select().where(User.email == identifier).limit(2))
        if len(matches) == 1:
            return matches[0]
    return None


def authenticate(identifier: str, password: str, *, ip: str = "console") -> User:
    """Log in by username or e-mail; record the attempt in ``lh_users_login`` as LHC does.

    Raises ``AuthenticationError`` with one message for unknown account and wrong password
    (no hint which), and a specific one for a disabled account (after a correct password).
    The attempt is recorded in its own transaction, so a refusal is logged too.
    """
    user = find_account(identifier)
    if user is None:
        bcrypt.checkpw(password.encode("utf-8")[:72] or b"x", _DUMMY_HASH)
        raise AuthenticationError("Wrong username/e-mail or password")
    if not verify_password(password, user.password):
        _record(user.id, LOGIN_FAILED, ip, "Failed login. CONSOLE")
        raise AuthenticationError("Wrong username/e-mail or password")
    if user.disabled:
        _record(user.id, LOGIN_FAILED, ip, "Login refused: account disabled. CONSOLE")
        raise AuthenticationError(f"Account {user.username!r} is disabled")
    now = int(time.time())
    with write_transaction(database_proxy.obj):
        _record(user.id, LOGIN_SUCCESS, ip, "Logged in successfully. CONSOLE", now)
        User.update(llogin=now).where(User.id == user.id).execute()
    return user


def _record(user_id: int, kind: int, ip: str, msg: str, now: int | None = None) -> None:
    with write_transaction(database_proxy.obj):
        UserLogin.create(
            user_id=user_id,
            type=kind,
            ctime=now if now is not None else int(time.time()),
            status=0,
            ip=ip[:100],
            msg=msg[:250],
        )
