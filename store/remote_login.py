"""Account checks for logins that do not go through a password: SSH public keys, and the console
process the SSH server starts for an account it has already authenticated.

Passwords always go through ``auth.authenticate`` (bcrypt, attempts recorded, disabled accounts
refused). A key proves who the client is, but the LHC account must still exist and be enabled,
and the login is recorded in ``lh_users_login`` as LHC records its own logins.
"""

from __future__ import annotations

import time

from .database import write_transaction
from .errors import AuthenticationError
from .lookup import UserRef
from .models import User, UserLogin, database_proxy

LOGIN_SUCCESS = 1


def enabled_account(username: str) -> UserRef | None:
    """The enabled account with exactly this username (no e-mail lookup), else ``None``.

    Key files are kept per username, so only the exact name may pick one.
    """
    user = User.get_or_none(User.username == username)
    if user is None or user.disabled:
        return None
    return UserRef(user.id, user.username)


def account_for_session(user_id: int) -> UserRef:
    """The account a pre-authenticated console starts as; refused if it is gone or disabled now."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise AuthenticationError("This account no longer exists")
    if user.disabled:
        raise AuthenticationError(f"Account {user.username!r} is disabled")
    return UserRef(user.id, user.username)


def record_key_login(user_id: int, ip: str) -> UserRef:
    """Record a public-key login (as LHC records logins) after re-checking the account."""
    now = int(time.time())
    with write_transaction(database_proxy.obj):
        account = account_for_session(user_id)
        UserLogin.create(
            user_id=user_id,
            type=LOGIN_SUCCESS,
            ctime=now,
            status=0,
            ip=ip[:100],
            msg="Logged in with an SSH key. CONSOLE",
        )
        User.update(llogin=now).where(User.id == user_id).execute()
    return account
