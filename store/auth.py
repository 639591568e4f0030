"""Login and password hashing, compatible with LHC's PHP ``password_hash`` (bcrypt ``$2y$``)."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TypeVar

import bcrypt
from peewee import SQL, Expression, fn

from .database import is_server, write_transaction
from .errors import AuthenticationError, StoreError, UnrecordedLoginError
from .faults import read_only_reason
from .models import User, UserLogin, database_proxy

LOGIN_FAILED = 0
LOGIN_SUCCESS = 1
LOGIN_DISABLED_AFTER_FAILURES = 4
BCRYPT_COST = 10  # PHP's default cost, what LHC writes
FAILURE_SETTLED = 1  # lh_users_login.status of a failure an enable or unlock has cleared
REFUSED = "Wrong username/e-mail or password"
"""The one answer to every refused login, whatever the reason."""
WRONG_CREDENTIALS = REFUSED

# A real hash to check against when the account does not exist, so that an unknown username
# takes as long as a wrong password. Precomputed (bcrypt of "not-a-password" at BCRYPT_COST):
# hashing it at import cost every start of the console one bcrypt round.
_DUMMY_HASH = b"$2b$10$LzYQP19HHgr1pwPn6.QlOe1PGda/0QDqZjBYc4MkXPnPt0lDpS/TG"


def hash_password(password: str) -> str:
    """A bcrypt hash in PHP's spelling (``$2y$10$...``), as LHC's back office writes it."""
    hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_COST)).decode("ascii")
    return "$2y$" + hashed[4:]


BCRYPT_HASH = re.compile(
    r"\$2[aby]\$(?:0[4-9]|[12][0-9]|3[01])\$"  # PHP's $2y$ (and $2a$, $2b$), cost 4 to 31
    r"[./A-Za-z0-9]{21}[.Oeu]"  # the 16-byte salt: its last character carries 2 bits
    r"[./A-Za-z0-9]{30}[.CGKOSWaeimquy26]"  # the 23-byte digest: its last carries 4
)
"""A bcrypt hash ``verify_password`` can match: any other salt is refused by bcrypt, any
other digest can never equal a computed one."""


def usable_hash(stored: str | None) -> bool:
    """Whether some password logs in against ``stored``: a well-formed bcrypt hash. An empty
    column, an old LHC sha1 hash or anything else never matches (``verify_password``), so an
    account holding one cannot log in until someone sets its password."""
    return stored is not None and BCRYPT_HASH.fullmatch(stored) is not None


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
    identifier = unicodedata.normalize("NFC", identifier.strip())  # names are stored composed
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


def authenticate(
    identifier: str, password: str, *, ip: str = "console", require_record: bool = False
) -> User:
    """Log in by username or e-mail; record the attempt in ``lh_users_login`` as LHC does.

    Every refusal (unknown account, wrong password, disabled, locked, cooling off) raises
    ``AuthenticationError(REFUSED)``, the same message after the same single bcrypt check: the
    login tells nobody whether an account exists or why it may not log in (its manager does).

    An attempt on an existing account is first *reserved*: in one transaction holding the
    account's row, the consecutive failures are counted and, when the account may still try,
    a failed-login row is written before the password is checked; a correct password turns that
    row into LHC's success row. So however many attempts run in parallel, at most
    ``max_attempts`` are checked before the limit applies (``lh_chat_config.password_data``,
    default 5). At the limit the account is disabled as LHC's ``disableIfRequired`` does, except
    user 1 and the last enabled administrator, who instead cool off (``cooling_off``) so that
    strangers cannot lock the help desk out. Empty passwords and identifiers are refused before
    anything is looked up, and recorded nowhere.

    ``require_record`` (the SSH and web servers): an attempt that cannot be recorded is refused
    unchecked, with the same answer (``UnrecordedLoginError``, whose ``reason`` is for the
    operator's log): on a database opened read-only, and when writing the attempt's row fails
    (the file became read-only or immutable after the server started). Without the record
    the lock-out never applies, so checking would grant unlimited guesses. Without
    ``require_record`` (the host's own console and the CLI, run by whoever holds the file) a
    read-only database still logs in, recording nothing (``_read_only_login``).
    """
    if not identifier.strip():
        raise AuthenticationError("Type your username or e-mail")
    if not password:
        raise AuthenticationError("Type your password")
    read_only = read_only_reason(database_proxy.obj)
    if read_only is not None and require_record:
        verify_password(password, None)  # the same bcrypt work as a real check
        raise UnrecordedLoginError(REFUSED, f"the database is read-only: {read_only}")
    user = find_account(identifier)
    if read_only is not None:
        return _read_only_login(user, password)
    attempt = _recorded(require_record, lambda: _reserve(user, ip) if user else None, password)
    if attempt is None:
        verify_password(password, None)  # the same bcrypt work as a real check
        raise AuthenticationError(REFUSED)
    if not verify_password(password, attempt.stored_hash):
        _recorded(require_record, lambda: _settle_failure(attempt, ip))
        raise AuthenticationError(REFUSED)
    _recorded(require_record, lambda: _record_success(attempt))
    return User.get_by_id(attempt.user_id)


def _record_success(attempt: _Attempt) -> None:
    """The reserved failure row becomes LHC's success row; the account's last login is now."""
    now = int(time.time())
    with write_transaction(database_proxy.obj):
        UserLogin.update(
            type=LOGIN_SUCCESS, ctime=now, msg="Logged in successfully. CONSOLE"
        ).where(UserLogin.id == attempt.row_id).execute()
        User.update(llogin=now).where(User.id == attempt.user_id).execute()


T = TypeVar("T")


def _recorded(require_record: bool, write: Callable[[], T], unchecked: str | None = None) -> T:
    """Run one write of the login record; with ``require_record``, a write that fails refuses
    the login with the one answer (``UnrecordedLoginError``, the database's words as its
    ``reason``).

    SQLite opens a file it cannot write read-only, and such a connection stays read-only after
    the file is writable again: the write is tried once more on this thread's connection
    opened afresh before the login is refused. Refused before the password check, the refusal
    costs the same bcrypt work as a check (``unchecked``: the password, compared with nothing);
    after it, the reserved row already holds the failure.
    """
    if not require_record:
        return write()
    try:
        return write()
    except StoreError:
        _close_connection()
    try:
        return write()
    except StoreError as error:
        _close_connection()
        if unchecked is not None:
            verify_password(unchecked, None)
        raise UnrecordedLoginError(REFUSED, f"the login could not be recorded: {error}") from error


def _close_connection() -> None:
    """Close this thread's connection; the next query opens the database as it is then."""
    with suppress(Exception):
        database_proxy.obj.close()


@dataclass(frozen=True)
class _Attempt:
    """A login attempt allowed to reach the password check, with its reserved row."""

    user_id: int
    row_id: int
    stored_hash: str


def _read_only_login(user: User | None, password: str) -> User:
    """Log in to a database this process may not write (reports only): the same checks and
    the same one answer, but nothing can be recorded, so nothing is. A disabled account, or one
    at its limit (a guarded one still cooling off), is refused unchecked as always."""
    from .password_policy import load_policy

    stored = None
    if user is not None and not user.disabled:
        limit = load_policy().max_attempts
        failures = consecutive_failures(user.id, limit + COOLING_STEPS)
        if failures < limit or (is_guarded(user) and cooling_off(user.id, failures - limit) == 0):
            stored = user.password
    # ``user is None`` says no more than ``stored is None`` does (no user, no stored hash).
    if user is None or stored is None or not verify_password(password, stored):
        if stored is None:
            verify_password(password, None)  # the same bcrypt work as a real check
        raise AuthenticationError(REFUSED)
    return user


def _reserve(user: User, ip: str) -> _Attempt | None:
    """Count the account's failures and, if it may try now, write its failed-login row first.

    One transaction holding the account (SQLite's write lock, ``FOR UPDATE`` on a server), so
    parallel attempts are counted one after another. None: refused without a check (disabled,
    locked, cooling off), and nothing recorded, so a refused guess does not extend a lock.
    """
    from .password_policy import load_policy

    with write_transaction(database_proxy.obj):
        current = _locked_account(user.id)
        if current is None or current.disabled:
            return None
        limit = load_policy().max_attempts
        failures = consecutive_failures(user.id, limit + COOLING_STEPS)
        if failures >= limit:
            _hold_lock_decisions()
            if not is_guarded(current):
                _lock(current, failures, limit, ip)  # e.g. the limit was lowered meanwhile
                return None
            if cooling_off(user.id, failures - limit) > 0:
                return None
        row = _record(user.id, LOGIN_FAILED, ip, "Failed login. CONSOLE")
        return _Attempt(user.id, row.id, current.password or "")


def _settle_failure(attempt: _Attempt, ip: str) -> None:
    """The reserved row stays a failure; at the limit, lock the account (or let it cool off)."""
    from .password_policy import load_policy

    with write_transaction(database_proxy.obj):
        current = _locked_account(attempt.user_id)
        if current is None or current.disabled:
            return
        limit = load_policy().max_attempts
        failures = consecutive_failures(current.id, limit)
        if failures >= limit:
            _hold_lock_decisions()
            if not is_guarded(current):
                _lock(current, failures, limit, ip)


def _hold_lock_decisions() -> None:
    """On a server, hold user 1's row until the transaction ends, so that "is this the last
    enabled administrator?" is decided for one account at a time (two administrators guessed
    at once could otherwise each see the other enabled and both be disabled). SQLite's write
    transaction already runs one at a time. The account's own row is always taken first and
    user 1's second, and user 1's own attempts take only user 1's: no two wait on each other."""
    if is_server(database_proxy.obj):
        User.select(User.id).where(User.id == PROTECTED_USER_ID).for_update().execute()


def _locked_account(user_id: int) -> User | None:
    query = User.select().where(User.id == user_id)
    if is_server(database_proxy.obj):
        query = query.for_update()
    return query.get_or_none()


PROTECTED_USER_ID = 1
COOLING_OFF_FIRST = 30.0
"""Seconds a guarded account waits after reaching the limit; each further failure doubles it."""
COOLING_OFF_MAX = 3600.0
COOLING_STEPS = 8  # 30 s * 2**7 > 1 hour: failures counted beyond the limit, at most


def is_guarded(user: User) -> bool:
    """Whether guessing may never disable this account: user 1, or the last enabled
    administrator (disabling them would leave nobody who can undo it)."""
    from .scope import administrator_user_ids

    if user.id == PROTECTED_USER_ID:
        return True
    admins = administrator_user_ids()
    if user.id not in admins:
        return False
    others = User.select(User.id).where(
        User.id.in_(sorted(admins - {user.id})) & (User.disabled == 0)
    )
    return not others.exists()


def cooling_off(user_id: int, beyond_limit: int) -> float:
    """Seconds a guarded account must still wait before its next password is checked.

    ``beyond_limit`` failures past ``max_attempts``: the wait is 30 s after the failure that
    reached the limit, doubling with each further one, at most an hour, counted from the
    latest failure. A successful login afterwards clears it.
    """
    wait = min(COOLING_OFF_FIRST * 2**beyond_limit, COOLING_OFF_MAX)
    latest = (
        UserLogin.select(fn.MAX(UserLogin.ctime))
        .where((UserLogin.user_id == user_id) & (UserLogin.type == LOGIN_FAILED))
        .scalar()
    )
    return max(0.0, (latest or 0) + wait - time.time())


def consecutive_failures(user_id: int, limit: int) -> int:
    """Failed logins since the last success, lock-out or enable, counting at most ``limit``.

    LHC counts failures since the last success among the user's latest login rows. The console
    also stops at a type-4 row and at a failure settled by an enable (``settle_failures``), so
    an account enabled again gets the full number of attempts instead of being locked by its
    first mistake.
    """
    recent = (
        UserLogin.select(UserLogin.type, UserLogin.status)
        .where(
            (UserLogin.user_id == user_id)
            & UserLogin.type.in_([LOGIN_FAILED, LOGIN_SUCCESS, LOGIN_DISABLED_AFTER_FAILURES])
        )
        .order_by(UserLogin.id.desc())
        .limit(limit)
    )
    count = 0
    for row in recent:
        if row.type != LOGIN_FAILED or row.status == FAILURE_SETTLED:
            break
        count += 1
    return count


def settle_failures(user_id: int) -> int:
    """Mark the account's failed logins as settled (an administrator enabled or unlocked it):
    they no longer count towards the limit. Returns how many there were.

    Its lock-out rows (type 4) are settled too, so that the account no longer counts as locked
    (``locked_condition``) even if someone disables it again later by hand.

    Uses LHC's ``status`` column (1, "completed"), which LHC reads only for password-reset
    requests; the rows themselves, the login history, are kept.
    """
    UserLogin.update(status=FAILURE_SETTLED).where(
        (UserLogin.user_id == user_id)
        & (UserLogin.type == LOGIN_DISABLED_AFTER_FAILURES)
        & (UserLogin.status != FAILURE_SETTLED)
    ).execute()
    return (
        UserLogin.update(status=FAILURE_SETTLED)
        .where(
            (UserLogin.user_id == user_id)
            & (UserLogin.type == LOGIN_FAILED)
            & (UserLogin.status != FAILURE_SETTLED)
        )
        .execute()
    )


def locked_condition() -> Expression:
    """The accounts the login protection holds locked now, as a condition on ``lh_users``.

    Locked is what ``lhc-console unlock`` (or enabling the account) undoes:

    - an account disabled after too many failed logins: disabled, with a lock-out row
      (type 4) that no enable or unlock has settled (``settle_failures``) and no successful
      login after it (LHC's own back office enables without settling; the next login shows
      it was enabled);
    - a guarded account (user 1, the last enabled administrator), which is never disabled by
      guessing, while it cools off (``cooling_off_user_ids``).

    A correlated ``EXISTS`` through the ``(user_id, type)`` index, so a page probes only its
    own users; the guarded accounts are a handful of ids read here.
    """
    lock = UserLogin.alias()
    success = UserLogin.alias()
    later_success = success.select(SQL("1")).where(
        (success.user_id == lock.user_id) & (success.type == LOGIN_SUCCESS) & (success.id > lock.id)
    )
    unsettled = lock.select(SQL("1")).where(
        (lock.user_id == User.id)
        & (lock.type == LOGIN_DISABLED_AFTER_FAILURES)
        & ~fn.EXISTS(later_success)
    )
    if "status" in UserLogin._meta.fields:  # an older schema without it settles nothing
        unsettled = unsettled.where(lock.status != FAILURE_SETTLED)
    condition = (User.disabled == 1) & fn.EXISTS(unsettled)
    cooling = cooling_off_user_ids()
    if cooling:
        condition |= User.id.in_(sorted(cooling))
    return condition


def cooling_off_user_ids() -> frozenset[int]:
    """Guarded accounts (``is_guarded``) past the failure limit and still cooling off: their
    passwords are not checked until the wait is over (or an unlock settles the failures)."""
    from .password_policy import load_policy
    from .scope import administrator_user_ids

    limit = load_policy().max_attempts
    candidates = sorted({PROTECTED_USER_ID} | administrator_user_ids())
    cooling: set[int] = set()
    for user in User.select().where(User.id.in_(candidates) & (User.disabled == 0)):
        failures = consecutive_failures(user.id, limit + COOLING_STEPS)
        if failures < limit or not is_guarded(user):
            continue
        if cooling_off(user.id, failures - limit) > 0:
            cooling.add(user.id)
    return frozenset(cooling)


def unlock(username: str) -> tuple[User, int]:
    """Enable an account and settle its failed logins: the local recovery command.

    For whoever holds the database (``lhc-console unlock USER``, like ``import``), not for a
    logged-in person: it is how a help desk whose only administrator was locked out (say, by
    LHC's own back office) gets back in. One transaction with one audit row by the system
    actor. Returns the account and how many failures were settled.
    """
    from . import userdeps
    from .audit import write_audit
    from .errors import NotFoundError

    with write_transaction(database_proxy.obj):
        user = User.get_or_none(User.username == username)
        if user is None:
            raise NotFoundError(f"No user named {username!r}")
        settled = settle_failures(user.id)
        if user.disabled:
            User.update(disabled=0).where(User.id == user.id).execute()
            userdeps.unpark(user.id)
            userdeps.settle([user.id])
        write_audit(
            category="user",
            object_id=user.id,
            actor_id=0,
            action="user.unlock",
            before={"username": user.username, "disabled": user.disabled},
            after={"username": user.username, "disabled": 0},
            extra={"failed_logins_settled": settled, "by": "local unlock command"},
        )
        return User.get_by_id(user.id), settled


def _lock(current: User, failures: int, limit: int, ip: str) -> None:
    """Disable the account after too many failures, as LHC's ``disableIfRequired`` does: the
    type-4 row, the flag (department rows parked, as every console disable does) and one audit
    row by the system actor. Runs inside the caller's transaction."""
    from . import userdeps
    from .audit import write_audit

    _record(
        current.id,
        LOGIN_DISABLED_AFTER_FAILURES,
        ip,
        "Account disabled because of too many failed logins. CONSOLE",
    )
    User.update(disabled=1).where(User.id == current.id).execute()
    userdeps.park(current.id)
    userdeps.settle([current.id])
    write_audit(
        category="user",
        object_id=current.id,
        actor_id=0,
        action="user.disable.failed_logins",
        before={"username": current.username, "disabled": 0},
        after={"username": current.username, "disabled": 1},
        extra={"failed_logins": failures, "max_attempts": limit},
    )


def _record(user_id: int, kind: int, ip: str, msg: str, now: int | None = None) -> UserLogin:
    with write_transaction(database_proxy.obj):
        return UserLogin.create(
            user_id=user_id,
            type=kind,
            ctime=now if now is not None else int(time.time()),
            status=0,
            ip=ip[:100],
            msg=msg[:250],
        )
