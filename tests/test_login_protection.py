"""Login protection (issue 8, part 2): lock-out after failed logins, password rules, timing.

Everything runs on real SQLite copies of the sample with real bcrypt. ``lh_chat_config`` is
optional: the sample (a console-created database) has no such table, so the tests that need
LHC's ``password_data`` setting create the table exactly as LHC's dump declares it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

import pytest
from conftest import SHARED_DATA
from peewee import Database

from seed.sqldump import InsertRow, open_dump, read_dump
from store import AuthenticationError, Session, ValidationError
from store.auth import (
    LOGIN_DISABLED_AFTER_FAILURES,
    LOGIN_FAILED,
    LOGIN_SUCCESS,
    REFUSED,
    authenticate,
)
from store.database import ensure_schema, open_database
from store.dump import all_rows
from store.models import Audit, ChatConfig, User, UserDep, UserDepDisabled, UserLogin
from store.password_policy import PasswordPolicy, decode_settings, load_policy

OPERATOR_US, TEAMLEADER_US = 2, 4
DUMP = SHARED_DATA / "livehelperchat_install.sql"


def php_serialize(data: dict[str, object]) -> str:
    """PHP's ``serialize()`` of a flat array of strings and ints, as LHC stores settings."""
    parts = []
    for key, value in data.items():
        parts.append(f's:{len(key.encode())}:"{key}";')
        if isinstance(value, int):
            parts.append(f"i:{value};")
        else:
            text = str(value)
            parts.append(f's:{len(text.encode())}:"{text}";')
    return f"a:{len(data)}:{{{''.join(parts)}}}"


def set_password_data(value: str) -> None:
    """Give the database LHC's ``lh_chat_config`` table holding ``password_data``."""
    ChatConfig.create_table(safe=True)
    ChatConfig.delete().where(ChatConfig.identifier == "password_data").execute()
    ChatConfig.insert(
        identifier="password_data", value=value, type=0, explain="Password requirements", hidden=1
    ).execute()


def attempts(user_id: int) -> list[int]:
    return [
        r.type
        for r in UserLogin.select(UserLogin.type)
        .where(UserLogin.user_id == user_id)
        .order_by(UserLogin.id)
    ]


def fail(username: str, times: int) -> list[str]:
    messages = []
    for _ in range(times):
        with pytest.raises(AuthenticationError) as refused:
            authenticate(username, "wrong password")
        messages.append(str(refused.value))
    return messages


# -- the setting -----------------------------------------------------------------------------


def test_password_data_is_read_from_php_serialize_and_json_and_bad_values_mean_defaults() -> None:
    php = php_serialize({"max_attempts": "3", "length": 10, "uppercase_required": "1"})
    assert decode_settings(php) == {"max_attempts": "3", "length": 10, "uppercase_required": "1"}
    assert PasswordPolicy.from_settings(decode_settings(php)) == PasswordPolicy(
        max_attempts=3, length=10, uppercase_required=1
    )
    assert decode_settings('{"max_attempts": 7}') == {"max_attempts": 7}
    for value in ("", "0", 'a:1:{s:3:"abc";', "not serialized", "[1,2]", 'a:1:{s:9:"x";i:1;}'):
        assert decode_settings(value) == {}, value
    # Zero, empty or nonsense max_attempts: the console's default, never "unlimited".
    for raw in ("0", "", "many", -3):
        assert PasswordPolicy.from_settings({"max_attempts": raw}).max_attempts == 5


@pytest.mark.skipif(not DUMP.exists(), reason=f"LHC's sample dump is not at {DUMP}")
def test_the_real_dumps_lh_chat_config_imports_as_a_model_and_gives_the_defaults(
    db: Database,
) -> None:
    """The dump stores ``password_data`` as ``''``: no rules, lock-out after 5 failures."""
    ChatConfig.create_table()
    with open_dump(DUMP) as stream:
        rows = [
            dict(zip(e.columns or (), e.values, strict=True))
            for e in read_dump(stream, tables={"lh_chat_config"})
            if isinstance(e, InsertRow)
        ]
    ChatConfig.insert_many(rows).execute()
    stored = ChatConfig.get_by_id("password_data")
    assert (stored.value, stored.hidden) == ("", 1)
    assert load_policy() == PasswordPolicy()


def test_without_lh_chat_config_the_defaults_apply_and_the_table_is_never_required(
    db: Database,
) -> None:
    assert not ChatConfig.table_exists()
    assert load_policy() == PasswordPolicy(max_attempts=5)
    ensure_schema(db)  # an existing console database without the optional table: no error
    set_password_data(php_serialize({"max_attempts": 2}))
    ensure_schema(db)  # and with it: no error either
    assert load_policy().max_attempts == 2


# -- lock-out --------------------------------------------------------------------------------


def test_five_failed_logins_disable_the_account_as_lhc_does(sample_db: Database) -> None:
    messages = fail("Operator US", 5)
    assert set(messages) == {REFUSED}  # the fifth says nothing more than the first
    assert attempts(OPERATOR_US) == [LOGIN_FAILED] * 5 + [LOGIN_DISABLED_AFTER_FAILURES]
    operator = User.get_by_id(OPERATOR_US)
    assert operator.disabled == 1
    # Disabled as the console always disables: department rows parked, cache bumped.
    assert not UserDep.select().where(UserDep.user_id == OPERATOR_US).exists()
    assert UserDepDisabled.select().where(UserDepDisabled.user_id == OPERATOR_US).exists()
    audit = Audit.select().order_by(Audit.id.desc()).get()
    assert (audit.category, audit.object_id, audit.user_id) == ("user", OPERATOR_US, 0)
    message = json.loads(audit.message)
    assert message["action"] == "user.disable.failed_logins"
    assert message["failed_logins"] == 5
    assert "$2y$" not in audit.message
    # The right password no longer helps, and the refusal is the same as any other.
    with pytest.raises(AuthenticationError) as refused:
        authenticate("Operator US", "demo")
    assert str(refused.value) == REFUSED
    # A locked account's attempts are not checked, so they write nothing more.
    fail("Operator US", 2)
    assert attempts(OPERATOR_US) == [LOGIN_FAILED] * 5 + [LOGIN_DISABLED_AFTER_FAILURES]


def test_a_success_resets_the_count_as_lhc_counts_since_the_last_login(
    sample_db: Database,
) -> None:
    fail("Operator US", 4)
    assert authenticate("Operator US", "demo").id == OPERATOR_US
    fail("Operator US", 4)
    assert User.get_by_id(OPERATOR_US).disabled == 0
    assert attempts(OPERATOR_US) == [LOGIN_FAILED] * 4 + [LOGIN_SUCCESS] + [LOGIN_FAILED] * 4


def test_max_attempts_comes_from_lhcs_password_data(sample_db: Database) -> None:
    set_password_data(php_serialize({"max_attempts": "3", "length": ""}))
    fail("operator.us@example.com", 2)  # by e-mail: the same account
    assert User.get_by_id(OPERATOR_US).disabled == 0
    fail("Operator US", 1)
    assert User.get_by_id(OPERATOR_US).disabled == 1


def test_an_account_enabled_again_gets_the_full_number_of_attempts(sample_db: Database) -> None:
    set_password_data(php_serialize({"max_attempts": 2}))
    fail("Operator US", 2)
    Session(sample_db, TEAMLEADER_US).users.set_disabled(OPERATOR_US, False)
    fail("Operator US", 1)
    assert User.get_by_id(OPERATOR_US).disabled == 0
    fail("Operator US", 1)
    assert User.get_by_id(OPERATOR_US).disabled == 1


def test_unknown_usernames_write_nothing_and_lock_nobody(sample_db: Database) -> None:
    before = all_rows()
    fail("nobody at all", 6)
    assert all_rows() == before


def test_unknown_usernames_take_as_long_as_wrong_passwords(sample_db: Database) -> None:
    """Both refusals run exactly one bcrypt check: their medians are within a wide margin.

    Interleaved samples share whatever load the machine has; bcrypt at cost 10 is ~50 ms,
    which dwarfs the one small insert the known-user path adds. An unknown username that
    skipped bcrypt would be ~100 times faster and fail this by far.
    """
    set_password_data(php_serialize({"max_attempts": 1000}))

    def timed(username: str) -> float:
        started = time.perf_counter()
        with pytest.raises(AuthenticationError):
            authenticate(username, "wrong password")
        return time.perf_counter() - started

    known, unknown = [], []
    for _ in range(7):
        known.append(timed("Operator US"))
        unknown.append(timed("no such operator"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (known, unknown)


# -- password rules --------------------------------------------------------------------------

RULES = php_serialize(
    {
        "length": "10",
        "uppercase_required": "1",
        "lowercase_required": "1",
        "number_required": "2",
        "special_required": "1",
        "expires_in": "0",
    }
)


@pytest.mark.parametrize(
    ("password", "needs"),
    [
        ("Aa1!", ["at least 10 characters (it has 4)", "at least 2 digits (it has 1)"]),
        ("abcdefgh12!", ["at least 1 uppercase letter (it has 0)"]),
        ("ABCDEFGH12!", ["at least 1 lowercase letter (it has 0)"]),
        ("Abcdefghij!", ["at least 2 digits (it has 0)"]),
        ("Abcdefgh12_", ["at least 1 special character (it has 0)"]),
    ],
)
def test_password_rules_refuse_create_and_set_password_naming_the_rule_and_write_nothing(
    as_user: Callable[[str], Session], password: str, needs: list[str]
) -> None:
    set_password_data(RULES)
    session = as_user("Teamleader US")
    before = all_rows()
    attempts_ = (
        lambda: session.users.create(
            username="newbie", password=password, email="n@example.com", groups=[2, 4]
        ),
        lambda: session.users.set_password(OPERATOR_US, password, password_again=password),
    )
    for attempt in attempts_:
        with pytest.raises(ValidationError) as refused:
            attempt()
        message = str(refused.value)
        assert message.startswith("Password does not meet this help desk's password rules")
        for need in needs:
            assert need in message, message
    assert all_rows() == before


def test_a_password_keeping_the_rules_is_accepted_and_logs_in(
    as_user: Callable[[str], Session],
) -> None:
    set_password_data(RULES)
    session = as_user("Teamleader US")
    session.users.set_password(OPERATOR_US, "Correct-42-horse")
    assert authenticate("Operator US", "Correct-42-horse").id == OPERATOR_US
    created = session.users.create(
        username="newbie", password="Battery-99-staple", email="n@example.com", groups=[2, 4]
    )
    assert authenticate("newbie", "Battery-99-staple").id == created.id


def test_opening_a_database_never_reports_the_optional_table_missing(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    open_database(f"sqlite:///{path}").close()
    reopened = open_database(f"sqlite:///{path}")  # lh_users present, lh_chat_config absent
    assert not ChatConfig.table_exists()
    reopened.close()
