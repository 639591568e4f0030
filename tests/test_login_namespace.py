"""Issue 15, point 3: usernames and e-mails are one login namespace.

A username may not be another account's e-mail, nor an e-mail another account's username
(case-insensitively), in create and edit. A database that already holds such a clash (older
data, an import) does not guess at login: the identifier is refused, and no failure is recorded
against either account; ``lint`` reports the clash. Runs on the sample, on every backend.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import Database

from store import AuthenticationError, Session, ValidationError
from store.auth import authenticate, hash_password
from store.dump import all_rows
from store.models import User, UserLogin
from store.risk import RULES, risk_report
from tui.command_line.main import main

ADMIN, OPERATOR_US, TEAMLEADER_US, MANAGER_US = 1, 2, 4, 5
OPERATORS, US_OPERATORS = 2, 4
MANAGER_EMAIL = "manager.us@example.com"
PROPERTY_SCALE = int(os.environ.get("LHC_PROPERTY_SCALE", "1"))
FIXTURE_CHECK = [HealthCheck.function_scoped_fixture]


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


# -- look-alikes across the namespace (red team F5) -------------------------------------------

CYRILLIC_I = "\u0456"  # Ukrainian i, drawn like i
CYRILLIC_E = "\u0435"  # drawn like e
OPERATOR_AU = 3
PHISH = f"adm{CYRILLIC_I}n@example.com"  # admin's e-mail, with a Cyrillic i
LIKE_EMAIL = "Username {!r} looks the same as another account's e-mail"


def test_the_red_teams_username_like_the_admins_email_is_refused_by_the_cli(
    sample_db: Database,
) -> None:
    """``user edit "Operator US" --rename adm\\u0456n@example.com --as "Manager US"``: exit 2,
    a refusal that does not show whose e-mail it is like, and nothing written."""
    from test_script_cli import assert_only_the_login_was_recorded, cli

    before = all_rows()
    result = cli(
        sample_db.console_url,
        *("user", "edit", "Operator US", "--rename", PHISH),
        actor="Manager US",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == f"lhc-console: {LIKE_EMAIL.format(PHISH)}\n"
    assert "admin@example.com" not in result.stderr
    assert_only_the_login_was_recorded(before, all_rows(), MANAGER_US)


@pytest.mark.parametrize(
    "username",
    [
        PHISH,
        f"ADM{CYRILLIC_I.upper()}N@EXAMPLE.COM",  # case too
        "\uff41dmin@example.com",  # a fullwidth a
        f"manager.us@{CYRILLIC_E}xample.com",  # Manager US's e-mail
        "operator.us@example.\u03f2om",  # a Greek lunate sigma, drawn like c
    ],
)
def test_a_username_that_looks_like_another_accounts_email_is_refused(
    sample_db: Database, username: str
) -> None:
    manager = Session(sample_db, MANAGER_US)
    stored = unicodedata_nfc(username)
    refused(lambda: create(manager, username, "new@example.com"), LIKE_EMAIL.format(stored))
    refused(lambda: manager.users.update(OPERATOR_AU, username=username), LIKE_EMAIL.format(stored))


def unicodedata_nfc(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text.strip())


def test_an_email_that_looks_like_another_accounts_username_is_refused(
    sample_db: Database,
) -> None:
    admin = Session(sample_db, ADMIN)
    admin.users.create(
        username="desk@example.com",
        password="Pass-1234",
        email="desk.owner@example.com",
        groups=[OPERATORS],
    )
    email = f"d{CYRILLIC_E}sk@example.com"
    message = f"E-mail {email!r} looks the same as 'desk@example.com', another account's username"
    leader = Session(sample_db, TEAMLEADER_US)
    refused(lambda: create(leader, "newcomer", email), message)
    refused(lambda: leader.users.update(OPERATOR_US, email=email), message)


def test_ones_own_username_may_look_like_ones_own_email_and_old_lookalikes_do_not_block(
    sample_db: Database,
) -> None:
    leader = Session(sample_db, TEAMLEADER_US)
    made = create(leader, f"s{CYRILLIC_E}lf@example.com", "self@example.com")
    leader.users.update(made.id, username=f"S{CYRILLIC_E}LF@example.com")
    # Older data: an account already named like admin's e-mail keeps its name through edits of
    # its other fields (lint reports it), and may be renamed away.
    old = User.create(username=PHISH, password=hash_password("x"), email="old@example.com").id
    admin = Session(sample_db, ADMIN)
    admin.users.update(old, username=PHISH, name="Still here")
    assert User.get_by_id(old).name == "Still here"
    admin.users.update(old, username="renamed")
    assert User.get_by_id(old).username == "renamed"


def test_the_email_check_reads_only_matching_and_non_plain_emails(
    sample_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100,000 users a save must not reduce every e-mail: plain ones are compared in the
    database, so only the equal ones and the non-plain ones reach Python."""
    from store import lookup, validation

    User.insert_many(
        [{"username": f"user{i}", "password": "", "email": f"u{i}@example.com"} for i in range(300)]
    ).execute()
    odd = User.create(username="odd", password="", email=f"{CYRILLIC_E}@example.com").id
    seen: list[str] = []
    original = validation.skeleton

    def counting(value: str) -> str:
        seen.append(value)
        return original(value)

    monkeypatch.setattr(validation, "skeleton", counting)
    assert lookup.lookalike_email_of("U7@example.com") == "u7@example.com"
    assert sorted(seen) == ["U7@example.com", "u7@example.com"]  # found before the odd one
    seen.clear()
    assert lookup.lookalike_email_of("E@example.com") == f"{CYRILLIC_E}@example.com"
    assert sorted(seen) == ["E@example.com", f"{CYRILLIC_E}@example.com"]
    assert lookup.lookalike_email_of("e@example.com", exclude=odd) is None


def test_lint_reports_usernames_that_look_like_another_accounts_email(
    capsys: pytest.CaptureFixture[str], sample_db: Database, clash: int
) -> None:
    phish = User.create(username=PHISH, password="", email="p@example.com").id
    # ...and the other way round: an e-mail that is not plain, like a plain username.
    desk = User.create(username="desk@example.com", password="", email="").id
    mailed = User.create(username="mailed", password="", email=f"d{CYRILLIC_E}sk@example.com").id
    findings = [f for f in risk_report().findings if f.rule == "login-name-clash"]
    pairs = [[o.id for o in f.objects] for f in findings]
    assert pairs == [[MANAGER_US, clash], [phish, ADMIN], [desk, mailed]]  # exact one first
    lookalike = findings[1]
    assert lookalike.severity == "medium"
    assert f"The username '{PHISH}' of #{phish} looks the same as the e-mail" in lookalike.message
    assert "'admin@example.com' of 'admin' (#1)" in lookalike.message
    assert "'adm\\u0456n@example.com'" in lookalike.message  # spelled out
    assert main(["lint", "--json", "--db", sample_db.console_url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert lookalike.as_json() in report["findings"]


def test_lint_does_not_report_an_exact_clash_twice_or_ones_own_email(sample_db: Database) -> None:
    User.create(username=f"sam{CYRILLIC_E}@example.com", password="", email="same@example.com")
    both = User.create(username="Jos\u00e9@example.com", password="", email="x@example.com").id
    other = User.create(username="other", password="", email="jos\u00e9@example.com").id
    findings = [f for f in risk_report().findings if f.rule == "login-name-clash"]
    assert [sorted(o.id for o in f.objects) for f in findings] == [[both, other]]


@settings(max_examples=40 * PROPERTY_SCALE, deadline=None, suppress_health_check=FIXTURE_CHECK)
@given(data=st.data())
def test_property_any_lookalike_of_an_email_is_refused_as_a_username(
    sample_db: Database, data: st.DataObject
) -> None:
    """Every e-mail of the sample, each letter kept, swapped in case, drawn from another
    script (validation.CONFUSABLES) or written fullwidth: refused as a new username, one of
    the two messages, nothing written."""
    from store import validation

    email = data.draw(st.sampled_from([u.email for u in User.select(User.email)]))
    look_like: dict[str, list[str]] = {}
    for drawn, latin in validation.CONFUSABLES.items():
        look_like.setdefault(chr(latin), []).append(chr(drawn))

    def variants(ch: str) -> list[str]:
        options = [ch, ch.swapcase(), *look_like.get(ch, []), *look_like.get(ch.upper(), [])]
        if "!" <= ch <= "~":
            options.append(chr(ord(ch) + 0xFEE0))  # fullwidth
        return options

    username = "".join(data.draw(st.sampled_from(variants(ch))) for ch in email)
    stored = unicodedata_nfc(username)
    before = all_rows()
    with pytest.raises(ValidationError) as caught:
        create(Session(sample_db, ADMIN), username, "fresh@example.com")
    assert str(caught.value) in (
        LIKE_EMAIL.format(stored),
        f"Username {stored!r} is already another account's e-mail",
    ), email
    assert all_rows() == before
