"""Login protection that stops guessing without letting strangers lock the desk out (issue 16).

On the sample (SPEC §5): admin (user 1, the only administrator), Operator US (2), Operator AU
(3), Teamleader US (4), Manager US (5). Every test runs on SQLite, MariaDB and PostgreSQL.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable

import pytest
from peewee import Database

from store import AuthenticationError, Session
from store.auth import (
    COOLING_OFF_FIRST,
    LOGIN_DISABLED_AFTER_FAILURES,
    LOGIN_FAILED,
    LOGIN_SUCCESS,
    REFUSED,
    authenticate,
)
from store.dump import all_rows
from store.models import Audit, Group, GroupUser, User, UserLogin

ADMIN, OPERATOR_US, OPERATOR_AU, MANAGER_US = 1, 2, 3, 5
ADMINISTRATORS_GROUP = 1


def refusal(identifier: str, password: str) -> str:
    with pytest.raises(AuthenticationError) as refused:
        authenticate(identifier, password)
    return str(refused.value)


def rows(user_id: int) -> list[int]:
    query = UserLogin.select(UserLogin.type).where(UserLogin.user_id == user_id)
    return [r.type for r in query.order_by(UserLogin.id)]


def age_failures(user_id: int, seconds: float) -> None:
    """Move the account's failed logins into the past, as if ``seconds`` had gone by."""
    UserLogin.update(ctime=UserLogin.ctime - int(seconds)).where(
        (UserLogin.user_id == user_id) & (UserLogin.type == LOGIN_FAILED)
    ).execute()


# -- 1. every refusal looks the same ----------------------------------------------------------


def test_unknown_wrong_disabled_and_locked_are_one_answer(
    sample_db: Database, as_user: Callable[[str], Session]
) -> None:
    as_user("admin").users.set_disabled(OPERATOR_AU, True)
    for _ in range(5):
        refusal("Manager US", "wrong")
    assert User.get_by_id(MANAGER_US).disabled == 1
    answers = {
        "unknown user": refusal("Nobody Here", "demo"),
        "wrong password": refusal("Operator US", "wrong"),
        "disabled, right password": refusal("Operator AU", "demo"),
        "disabled, wrong password": refusal("Operator AU", "wrong"),
        "locked, right password": refusal("Manager US", "demo"),
    }
    assert set(answers.values()) == {REFUSED}, answers


def test_a_disabled_account_with_the_right_password_takes_as_long_as_a_wrong_one(
    sample_db: Database, as_user: Callable[[str], Session]
) -> None:
    as_user("admin").users.set_disabled(OPERATOR_AU, True)

    def timed(identifier: str, password: str) -> float:
        started = time.perf_counter()
        refusal(identifier, password)
        return time.perf_counter() - started

    UserLogin.delete().execute()
    disabled, wrong = [], []
    for _ in range(4):  # below the limit: the wrong passwords stay checked
        disabled.append(timed("Operator AU", "demo"))
        wrong.append(timed("Operator US", "wrong"))
    ratio = statistics.median(disabled) / statistics.median(wrong)
    assert 0.5 < ratio < 2.0, (disabled, wrong)


# -- 2. the count and the check are one step -----------------------------------------------


def test_parallel_guesses_check_at_most_max_attempts_before_the_lock(sample_db: Database) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def guess() -> None:
        start.wait()
        try:
            authenticate("Operator US", "wrong")
        except AuthenticationError as error:
            outcomes.append(str(error))
        finally:
            sample_db.close()

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert outcomes == [REFUSED] * 12
    recorded = rows(OPERATOR_US)
    assert recorded.count(LOGIN_FAILED) == 5  # exactly the five checked attempts
    assert recorded.count(LOGIN_DISABLED_AFTER_FAILURES) == 1
    assert User.get_by_id(OPERATOR_US).disabled == 1


# -- 3. guessing never disables user 1 or the last administrator -------------------------------


def test_user_one_cools_off_instead_of_being_disabled(sample_db: Database) -> None:
    for _ in range(5):
        refusal("admin", "wrong")
    assert User.get_by_id(ADMIN).disabled == 0
    assert rows(ADMIN) == [LOGIN_FAILED] * 5  # no lock-out row
    before = all_rows()
    assert refusal("admin", "admin") == REFUSED  # cooling off: not even the right password
    assert refusal("admin", "wrong") == REFUSED
    assert all_rows() == before  # refused unchecked: nothing recorded, the wait not extended

    age_failures(ADMIN, COOLING_OFF_FIRST + 1)
    refusal("admin", "wrong")  # checked again, and wrong: the wait doubles
    assert rows(ADMIN) == [LOGIN_FAILED] * 6
    age_failures(ADMIN, COOLING_OFF_FIRST + 1)
    assert refusal("admin", "admin") == REFUSED  # 31 s is not yet 60 s
    age_failures(ADMIN, COOLING_OFF_FIRST)
    assert authenticate("admin", "admin").id == ADMIN
    assert rows(ADMIN) == [LOGIN_FAILED] * 6 + [LOGIN_SUCCESS]
    for _ in range(4):  # the success cleared it: the full count again, no waiting
        refusal("admin", "wrong")
    assert authenticate("admin", "admin").id == ADMIN
    assert User.get_by_id(ADMIN).disabled == 0


def add_second_administrator(sample_db: Database) -> int:
    root = User.get_by_id(ADMIN)
    twin = User.create(
        username="root2",
        password=root.password,  # "admin"
        email="root2@example.com",
        name="Second",
        surname="Admin",
    )
    GroupUser.create(group_id=ADMINISTRATORS_GROUP, user_id=twin.id)
    assert Group.get_by_id(ADMINISTRATORS_GROUP).disabled == 0
    return twin.id


def test_an_administrator_is_locked_while_another_is_enabled_but_the_last_one_is_not(
    sample_db: Database,
) -> None:
    twin = add_second_administrator(sample_db)
    for _ in range(5):
        refusal("root2", "wrong")
    assert User.get_by_id(twin).disabled == 1  # user 1 is still there and enabled

    User.update(disabled=0).where(User.id == twin).execute()
    UserLogin.delete().execute()
    User.update(disabled=1).where(User.id == ADMIN).execute()  # root2 is now the last one
    for _ in range(7):
        refusal("root2", "wrong")
    assert User.get_by_id(twin).disabled == 0
    age_failures(twin, 3600)
    assert authenticate("root2", "admin").id == twin


# -- 4. an account enabled again gets its full attempts ---------------------------------------


def test_failures_before_an_enable_never_count(
    sample_db: Database, as_user: Callable[[str], Session]
) -> None:
    admin = as_user("admin")
    for _ in range(4):
        refusal("Operator US", "wrong")
    admin.users.set_disabled(OPERATOR_US, True)
    refusal("Operator US", "demo")  # refused while disabled, unchecked, not counted
    admin.users.set_disabled(OPERATOR_US, False)
    for _ in range(4):
        refusal("Operator US", "wrong")
    assert User.get_by_id(OPERATOR_US).disabled == 0
    refusal("Operator US", "wrong")
    assert User.get_by_id(OPERATOR_US).disabled == 1


# -- 7. an empty password is refused locally and recorded nowhere ------------------------------


@pytest.mark.parametrize(("identifier", "password"), [("Operator US", ""), ("", "demo")])
def test_an_empty_password_or_name_is_refused_before_anything_is_looked_up(
    sample_db: Database, identifier: str, password: str
) -> None:
    before = all_rows()
    message = refusal(identifier, password)
    assert message != REFUSED and "Type your" in message
    assert all_rows() == before


# -- recovery: lhc-console unlock USER ---------------------------------------------------------


def test_unlock_enables_the_account_clears_its_failures_and_is_audited(
    sample_db: Database, sample_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.command_line.main import main

    for _ in range(5):
        refusal("Manager US", "wrong")
    assert User.get_by_id(MANAGER_US).disabled == 1
    assert main(["unlock", "Manager US", "--db", sample_url]) == 0
    assert "Unlocked 'Manager US'" in capsys.readouterr().out
    assert User.get_by_id(MANAGER_US).disabled == 0
    audit = Audit.select().order_by(Audit.id.desc()).get()
    assert (audit.user_id, audit.object_id) == (0, MANAGER_US)
    assert json.loads(audit.message)["action"] == "user.unlock"
    for _ in range(4):  # the five failures before the unlock no longer count
        refusal("Manager US", "wrong")
    assert authenticate("Manager US", "demo").id == MANAGER_US


def test_unlock_of_an_unknown_user_is_a_refusal_that_changes_nothing(
    sample_db: Database, sample_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.command_line.main import main

    before = all_rows()
    assert main(["unlock", "Nobody Here", "--db", sample_url]) == 2
    assert "No user named 'Nobody Here'" in capsys.readouterr().err
    assert all_rows() == before
