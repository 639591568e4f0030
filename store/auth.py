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
WRONG_CREDENTIALS = "Wrong username/e-mail or password"

# A real hash to check against when the account does not exist, so that an unknown username
# takes as long as a wrong password. Precomputed (bcrypt of "not-a-password" at BCRYPT_COST):
# hashing it at import cost every start of the console one bcrypt round.
_DUMMY_HASH = b"$2b$10$LzYQP19HHgr1pwPn6.QlOe1PGda/0QDqZjBYc4MkXPnPt0lDpS/TG"


def hash_password(password: str) -> str:
    """A bcrypt hash in PHP's spelling (``$2y$10$...``), as LHC's back office writes it."""
    hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_COST)).decode("ascii")
    return "$2y$" + hashed[4:]


def verify_password(password: str, stored: str | None) -> bool:
    """Check a password against an LHC hash: bcrypt (``$2y$``, ``$2a$``, ``$2b$``).

    Exactly one bcrypt check runs whatever ``stored`` is (a missing account passes ``None``),
    so neither an unknown username nor an unusable hash answers faster than a wrong password.
    bcrypt compares the digests in constant time. Anything but bcrypt (old LHC sha1 hashes,
    empty) never matches; such accounts need a new password.
    """
    candidate = password.encode("utf-8")
    if (
        stored is not None
        and stored.startswith(("$2y$", "$2a$", "$2b$"))
        and 0 < len(candidate) <= 72
    ):
        try:
            return bcrypt.checkpw(candidate, ("$2b$" + stored[4:]).encode("ascii"))
        except ValueError:
            pass  # a malformed hash: fall through to the same-cost dummy check
    bcrypt.checkpw(candidate[:72] or b"x", _DUMMY_HASH)  # the same time as a real check
    return False


def find_account(identifier: str) -> User | None:
    """The account for a username, or for an e-mail address that exactly one account uses.

    An identifier naming two different accounts (one's username and another's e-mail, a clash
    the console no longer lets anyone create but a database may hold, or an e-mail two accounts
    share) is refused, never guessed: ``AuthenticationError`` before any password is checked,
    so no failure is recorded against any of them. The message says only that the identifier
    is ambiguous, which the refusal itself must reveal. Matching is the database's ``=``, as
    for every login (exact on SQLite and PostgreSQL, case-insensitive on MariaDB).
    """
    identifier = identifier.strip()
    if not identifier:
        return None
    user = User.get_or_none(User.username == identifier)
    if "@" not in identifier:
        return user
    others = User.select().where(User.email == identifier)
    if user is not None:
        others = others.where(User.id != user.id)
    matches = list(others.limit(2))
    if len(matches) + (user is not None) > 1:
        raise AuthenticationError(
            "This username/e-mail belongs to more than one account, so it cannot log in; "
            "use your other login (username or e-mail) or ask an administrator"
        )
    if user is not None:
        return user
    return matches[0] if matches else None


def authenticate(identifier: str, password: str, *, ip: str = "console") -> User:
    """Log in by username or e-mail; record the attempt in ``lh_users_login`` as LHC does.

    Raises ``AuthenticationError`` with one message for unknown account and wrong password
    (no hint which), and a specific one for a disabled account (after a correct password).
    Both refusals cost one bcrypt check, like a success. A wrong password is recorded in its
    own transaction (so the refusal is logged), and after ``max_attempts`` consecutive
    failures (``lh_chat_config.password_data``, default 5) the account is disabled, as LHC's
    ``disableIfRequired`` does.
    """
    user = find_account(identifier)
    matches = verify_password(password, user.password if user is not None else None)
    if user is None:
        raise AuthenticationError(WRONG_CREDENTIALS)
    if not matches:
        if record_failure(user, ip):
            raise AuthenticationError(
                f"{WRONG_CREDENTIALS}. Too many failed logins: the account is now disabled; "
                "an administrator can enable it again"
            )
        raise AuthenticationError(WRONG_CREDENTIALS)
    if user.disabled:
        _record(user.id, LOGIN_FAILED, ip, "Login refused: account disabled. CONSOLE")
        raise AuthenticationError(f"Account {user.username!r} is disabled")
    now = int(time.time())
    with write_transaction(database_proxy.obj):
        _record(user.id, LOGIN_SUCCESS, ip, "Logged in successfully. CONSOLE", now)
        User.update(llogin=now).where(User.id == user.id).execute()
    return user


def consecutive_failures(user_id: int, limit: int) -> int:
    """Failed logins since the last success or the last lock-out, counting at most ``limit``.

    LHC counts failures since the last success among the user's latest login rows. The console
    also stops at a type-4 row, so an account an administrator enabled again gets the full
    number of attempts instead of being locked by its first mistake.
    """
    recent = (
        UserLogin.select(UserLogin.type)
        .where(
            (UserLogin.user_id == user_id)
            & UserLogin.type.in_([LOGIN_FAILED, LOGIN_SUCCESS, LOGIN_DISABLED_AFTER_FAILURES])
        )
        .order_by(UserLogin.id.desc())
        .limit(limit)
    )
    count = 0
    for row in recent:
        if row.type != LOGIN_FAILED:
            break
        count += 1
    return count


def record_failure(user: User, ip: str) -> bool:
    """Record a failed login; disable the account when it reaches ``max_attempts``.

    One transaction: the type-0 row, and when the limit is reached the type-4 row, the
    ``disabled`` flag (department rows parked and ``cache_version`` bumped, as every console
    disable does) and one ``lh_audits`` row by the system actor. Returns whether
    the account was disabled now.
    """
    from . import userdeps
    from .audit import write_audit
    from .password_policy import load_policy

    with write_transaction(database_proxy.obj):
        _record(user.id, LOGIN_FAILED, ip, "Failed login. CONSOLE")
        current = User.get_or_none(User.id == user.id)
        if current is None or current.disabled:
            return False
        limit = load_policy().max_attempts
        failures = consecutive_failures(user.id, limit)
        if failures < limit:
            return False
        _record(
            user.id,
            LOGIN_DISABLED_AFTER_FAILURES,
            ip,
            "Account disabled because of too many failed logins. CONSOLE",
        )
        User.update(disabled=1).where(User.id == user.id).execute()
        userdeps.park(user.id)
        userdeps.settle([user.id])
        write_audit(
            category="user",
            object_id=user.id,
            actor_id=0,
            action="user.disable.failed_logins",
            before={"username": current.username, "disabled": 0},
            after={"username": current.username, "disabled": 1},
            extra={"failed_logins": failures, "max_attempts": limit},
        )
        return True


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
