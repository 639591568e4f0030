"""Issue 15, point 3: usernames and e-mails are one login namespace.

A username may not be another account's e-mail, nor an e-mail another account's username
(case-insensitively), in create and edit. A database that already holds such a clash (older
data, an import) does not guess at login: the identifier is refused, and no failure is recorded
against either account; ``lint`` reports the clash. Runs on the sample, on every backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from peewee import Database

from store import AuthenticationError, Session, ValidationError
from store.auth import authenticate, hash_password
from store.dump import all_rows
from store.models import User, UserLogin
from store.risk import RULES, risk_report
from tui.cli import main

ADMIN, OPERATOR_US, TEAMLEADER_US, MANAGER_US = 1, 2, 4, 5
OPERATORS, US_OPERATORS = 2, 4
MANAGER_EMAIL = "manager.us@example.com"


def refused(attempt: Callable[[], Any], message: str) -> None:
    """The attempt fails validation with exactly this message, and writes nothing."""
    before = all_rows()
    with pytest.raises(ValidationError) as caught:
        attempt()
    assert str(caught.value) == message
    assert all_rows() == before


def create(session: Session, username: str, email: str) -> Any:
    return session.users.create(
        username=username,
        password="Pass-1234",
        email=email,
        groups=[OPERATORS, US_OPERATORS],
    )


def logins_of(*user_ids: int) -> list[tuple[int, int]]:
    return [
        (r.user_id, r.type)
        for r in UserLogin.select().where(UserLogin.user_id.in_(user_ids)).order_by(UserLogin.id)
    ]


# -- create and edit --------------------------------------------------------------------------


def test_a_team_leader_cannot_create_a_user_named_like_the_managers_email(
    sample_db: Database,
) -> None:
    leader = Session(sample_db, TEAMLEADER_US)
    refused(
        lambda: create(leader, MANAGER_EMAIL, "someone@example.com"),
        f"Username '{MANAGER_EMAIL}' is already another account's e-mail",
    )
    refused(
        lambda: create(leader, "Manager.US@Example.COM", "someone@example.com"),
        "Username 'Manager.US@Example.COM' is already another account's e-mail",
    )


def test_an_email_equal_to_another_accounts_username_is_refused(sample_db: Database) -> None:
    Session(sample_db, ADMIN).users.create(
        username="desk@example.com",
        password="Pass-1234",
        email="desk.owner@example.com",
        groups=[OPERATORS],
    )
    leader = Session(sample_db, TEAMLEADER_US)
    refused(
        lambda: create(leader, "newcomer", "desk@example.com"),
        "E-mail 'desk@example.com' is already another account's username",
    )
    refused(
        lambda: create(leader, "newcomer", "DESK@Example.com"),
        "E-mail 'DESK@Example.com' is already another account's username",
    )


def test_editing_a_username_or_email_into_another_accounts_login_is_refused(
    sample_db: Database,
) -> None:
    Session(sample_db, ADMIN).users.create(
        username="desk@example.com",
        password="Pass-1234",
        email="desk.owner@example.com",
        groups=[OPERATORS],
    )
    leader = Session(sample_db, TEAMLEADER_US)
    refused(
        lambda: leader.users.update(OPERATOR_US, username="MANAGER.us@example.com"),
        "Username 'MANAGER.us@example.com' is already another account's e-mail",
    )
    refused(
        lambda: leader.users.update(OPERATOR_US, email="Desk@example.com"),
        "E-mail 'Desk@example.com' is already another account's username",
    )


def test_ones_own_username_may_be_ones_own_email(sample_db: Database) -> None:
    leader = Session(sample_db, TEAMLEADER_US)
    made = create(leader, "same@example.com", "same@example.com")
    leader.users.update(made.id, username="SAME@example.com", email="same@example.com")
    assert User.get_by_id(made.id).username == "SAME@example.com"


# -- a clash already in the database -----------------------------------------------------------


@pytest.fixture
def clash(sample_db: Database) -> int:
    """An account named like Manager US's e-mail, inserted directly (as older data may hold)."""
    return User.create(
        username=MANAGER_EMAIL,
        password=hash_password("Pass-1234"),
        email="lookalike@example.com",
    ).id


def test_login_by_a_clashing_identifier_is_refused_and_records_nothing(
    sample_db: Database, clash: int
) -> None:
    before = logins_of(MANAGER_US, clash)
    for password in ("demo", "Pass-1234", "wrong password"):
        with pytest.raises(AuthenticationError) as caught:
            authenticate(MANAGER_EMAIL, password)
        message = str(caught.value)
        assert "more than one account" in message
        assert "Manager US" not in message and "lookalike" not in message
    with pytest.raises(AuthenticationError):
        Session.login(sample_db, f"  {MANAGER_EMAIL} ", "demo")
    assert logins_of(MANAGER_US, clash) == before
    assert not User.get_by_id(MANAGER_US).disabled and not User.get_by_id(clash).disabled
    # each account still logs in by its own unambiguous identifier
    assert authenticate("Manager US", "demo").id == MANAGER_US
    assert authenticate("lookalike@example.com", "Pass-1234").id == clash


def test_login_by_an_email_two_accounts_share_is_refused_and_records_nothing(
    sample_db: Database,
) -> None:
    User.create(username="twin", password=hash_password("Pass-1234"), email=MANAGER_EMAIL)
    before = logins_of(*[u.id for u in User.select(User.id)])
    with pytest.raises(AuthenticationError) as caught:
        authenticate(MANAGER_EMAIL, "demo")
    assert "more than one account" in str(caught.value)
    assert logins_of(*[u.id for u in User.select(User.id)]) == before


def test_lint_reports_a_clash(
    capsys: pytest.CaptureFixture[str], sample_db: Database, clash: int
) -> None:
    assert "login-name-clash" in RULES and len(RULES["login-name-clash"]) <= 28
    [finding] = [f for f in risk_report().findings if f.rule == "login-name-clash"]
    assert [(o.type, o.id) for o in finding.objects] == [("user", MANAGER_US), ("user", clash)]
    assert finding.severity == "medium"
    assert f"'{MANAGER_EMAIL}' is the username of '{MANAGER_EMAIL}'" in finding.message
    assert "the e-mail of 'Manager US'" in finding.message
    assert main(["lint", "--json", "--db", sample_db.console_url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert finding.as_json() in report["findings"]


def test_lint_reports_a_clash_that_differs_only_in_case(
    sample_db: Database,
) -> None:
    lookalike = User.create(username="Manager.US@Example.com", password="", email="x@example.com")
    [finding] = [f for f in risk_report().findings if f.rule == "login-name-clash"]
    assert {o.id for o in finding.objects} == {MANAGER_US, lookalike.id}


def test_lint_is_quiet_without_a_clash(sample_db: Database) -> None:
    """One's own username may be one's own e-mail; two accounts sharing an e-mail (no
    username involved) are another matter, not this rule."""
    User.create(username="same@example.com", password="", email="Same@example.com")
    User.create(username="twin1", password="", email="shared@example.com")
    User.create(username="twin2", password="", email="shared@example.com")
    assert [f for f in risk_report().findings if f.rule == "login-name-clash"] == []
