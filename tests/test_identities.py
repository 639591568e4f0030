"""Issue 17, point 5: identities are unambiguous.

Usernames and e-mails are stored composed (NFC); control characters, zero-width characters
and bidi controls are refused in them (C0/C1 controls and bidi overrides in every other name
too); a username that looks the same as an existing one (``validation.skeleton``: NFKC, case
folding, common Latin/Cyrillic/Greek lookalikes, invisible characters, spacing) is refused
with "looks the same as 'admin'"; ``lint`` reports lookalikes already in a database. Runs on
the sample, on every backend. Lookalike letters are written as escapes here, so that this file
can be read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from peewee import Database
from test_script_cli import assert_only_the_login_was_recorded, cli

from store import Session, ValidationError, lookup, validation
from store.auth import hash_password
from store.dump import all_rows
from store.models import User
from store.risk import RULES, risk_report
from tui.command_line.main import main

ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
OPERATORS, US_OPERATORS = 2, 4
CYRILLIC_A = "\u0410"  # drawn like A
CYRILLIC_O = "\u041e"  # drawn like O
GREEK_ALPHA = "\u0391"  # drawn like A
NBSP = "\u00a0"


def refused(attempt: Callable[[], Any], *mentions: str) -> str:
    """The attempt fails validation mentioning each text, and writes nothing."""
    before = all_rows()
    with pytest.raises(ValidationError) as caught:
        attempt()
    message = str(caught.value)
    for mention in mentions:
        assert mention in message
    assert all_rows() == before
    return message


def create(session: Session, username: str, email: str = "new@example.com") -> Any:
    return session.users.create(
        username=username, password="Pass-1234", email=email, groups=[OPERATORS, US_OPERATORS]
    )


def insert(username: str, email: str = "") -> int:
    """A user row as an import or older data may hold it: no validation."""
    return int(User.create(username=username, password=hash_password("x"), email=email).id)


# -- the skeleton -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (f"{CYRILLIC_A}dmin", "admin"),
        (f"{GREEK_ALPHA}DMIN", "admin"),
        ("\uff21\uff24\uff2d\uff29\uff2e", "admin"),  # fullwidth
        ("ad\u200bmin", "admin"),  # zero-width space
        ("ad\u00admin", "admin"),  # soft hyphen
        (f"Operator{NBSP}US", "operator us"),
        ("Operator  US", "Operator US"),
        ("Operator\u3000US", "Operator US"),  # ideographic space
        ("Jose\u0301", "jos\u00e9"),  # decomposed and composed
        ("Stra\u00dfe", "STRASSE"),  # case folding
        (f"{CYRILLIC_O}perator \u0410U", "Operator AU"),
        ("\U0001d41a\U0001d41d\U0001d426\U0001d422\U0001d427", "admin"),  # mathematical bold
        ("\u03f9ase \u03f2ase", "case case"),  # lunate sigmas (NFKD makes them plain sigmas)
    ],
)
def test_lookalikes_have_one_skeleton(one: str, other: str) -> None:
    assert validation.skeleton(one) == validation.skeleton(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [("admin", "admln"), ("user1", "userl"), ("jos\u00e9", "jose"), ("Operator US", "OperatorUS")],
)
def test_names_that_read_differently_keep_different_skeletons(one: str, other: str) -> None:
    assert validation.skeleton(one) != validation.skeleton(other)


def test_a_plain_ascii_name_is_its_own_lower_case_skeleton() -> None:
    """What ``lookup.lookalike_of`` relies on to leave plain usernames in the database."""
    plain = "".join(chr(c) for c in range(0x20, 0x7F)).replace("  ", " ").strip()
    assert validation.skeleton(plain) == plain.lower()


# -- composed forms -------------------------------------------------------------------------


def test_usernames_and_emails_are_stored_composed_and_found_either_way(
    sample_db: Database,
) -> None:
    admin = Session(sample_db, ADMIN)
    made = create(admin, "Jose\u0301 Luis", "jose\u0301@example.com")
    row = User.get_by_id(made.id)
    assert (row.username, row.email) == ("Jos\u00e9 Luis", "jos\u00e9@example.com")
    assert admin.users.find("Jose\u0301 Luis").id == made.id
    assert admin.users.find("Jos\u00e9 Luis").id == made.id
    admin.users.update(made.id, username="Rene\u0301e")
    assert User.get_by_id(made.id).username == "Ren\u00e9e"
    assert lookup.user_named("Rene\u0301e").id == made.id


def test_a_composed_name_is_refused_next_to_an_imported_decomposed_one(
    sample_db: Database,
) -> None:
    insert("Jose\u0301")  # an import keeps LHC's rows as they are
    assert User.get(User.username == "Jose\u0301").username == "Jose\u0301"
    refused(
        lambda: create(Session(sample_db, ADMIN), "jos\u00e9"),
        "Username 'jos\u00e9' looks the same as 'Jose\u0301'",
    )


# -- invisible characters, controls and bidi ------------------------------------------------

INVISIBLE = {
    "bell": ("\x07", "control characters"),
    "C1 CSI": ("\x9b", "control characters"),
    "DEL": ("\x7f", "control characters"),
    "zero width space": ("\u200b", "U+200B (zero width space)"),
    "zero width non-joiner": ("\u200c", "U+200C"),
    "zero width joiner": ("\u200d", "U+200D"),
    "word joiner": ("\u2060", "U+2060"),
    "byte order mark": ("\ufeff", "U+FEFF"),
    "soft hyphen": ("\u00ad", "U+00AD (soft hyphen)"),
    "left-to-right mark": ("\u200e", "U+200E (left-to-right mark)"),
    "right-to-left mark": ("\u200f", "U+200F"),
    "right-to-left override": ("\u202e", "U+202E (right-to-left override)"),
    "left-to-right embedding": ("\u202a", "U+202A"),
    "first strong isolate": ("\u2068", "U+2068"),
    "pop directional isolate": ("\u2069", "U+2069"),
    "line separator": ("\u2028", "U+2028"),
}


@pytest.mark.parametrize("name", list(INVISIBLE))
def test_usernames_and_emails_refuse_invisible_and_bidi_characters(
    sample_db: Database, name: str
) -> None:
    char, mention = INVISIBLE[name]
    leader = Session(sample_db, TEAMLEADER_US)
    refused(lambda: create(leader, f"Op{char}erator"), "Username", mention)
    refused(lambda: create(leader, "Newcomer", f"new{char}comer@example.com"), "E-mail", mention)
    refused(lambda: leader.users.update(OPERATOR_US, username=f"Operator{char} US"), mention)
    refused(lambda: leader.users.update(OPERATOR_US, email=f"op{char}@example.com"), mention)


@pytest.mark.parametrize("char", ["\x1b", "\x9b", "\u202e", "\u2066", "\u202b"])
def test_every_other_name_refuses_controls_and_bidi_overrides(
    sample_db: Database, char: str
) -> None:
    admin = Session(sample_db, ADMIN)
    for attempt in (
        lambda: admin.groups.create(f"Evil{char}group"),
        lambda: admin.groups.update(2, name=f"Operators{char}"),
        lambda: admin.roles.create(f"Evil{char}role"),
        lambda: admin.roles.rename(2, f"Operators{char}"),
        lambda: admin.departments.create_group(f"Evil{char}deps"),
        lambda: admin.departments.rename_group(1, f"Departments{char}AU"),
        lambda: admin.departments.create_department(f"Evil{char}department"),
        lambda: admin.users.update(OPERATOR_US, name=f"Jane{char}"),
    ):
        refused(attempt)


def test_ordinary_names_of_every_script_are_accepted(sample_db: Database) -> None:
    admin = Session(sample_db, ADMIN)
    for username in ("\u0417\u043e\u044f", "\u6c34\u91ce", "\u05d3\u05e0\u05d4", "Zo\u00eb"):
        made = create(admin, username, f"{len(username)}{ord(username[0])}@example.com")
        assert User.get_by_id(made.id).username == username


# -- lookalikes -----------------------------------------------------------------------------

LOOKALIKES = {
    "Cyrillic A for admin": (f"{CYRILLIC_A}dmin", "admin"),
    "Greek Alpha for admin": (f"{GREEK_ALPHA}DMIN", "admin"),
    "no-break space": (f"Operator{NBSP}US", "Operator US"),
    "two spaces": ("Operator  US", "Operator US"),
    "fullwidth letters": ("\uff21dmin", "admin"),
    "Cyrillic O and A": (f"{CYRILLIC_O}perator {CYRILLIC_A}U", "Operator AU"),
    "a differently cased lookalike": (f"TEAMLEADER{NBSP}us", "Teamleader US"),
}


@pytest.mark.parametrize("name", list(LOOKALIKES))
def test_a_username_that_looks_like_an_existing_one_is_refused(
    sample_db: Database, name: str
) -> None:
    username, existing = LOOKALIKES[name]
    admin = Session(sample_db, ADMIN)
    message = refused(lambda: create(admin, username))
    assert message == f"Username {username!r} looks the same as {existing!r}"
    refused(
        lambda: admin.users.update(MANAGER_US, username=username),
        f"looks the same as {existing!r}",
    )


def test_a_plain_name_like_an_existing_odd_one_is_refused_too(sample_db: Database) -> None:
    """The other way round: the lookalike is already there (older data, an import)."""
    insert(f"M{CYRILLIC_A}NAGER")
    refused(lambda: create(Session(sample_db, ADMIN), "manager"), "looks the same as 'M")


def test_a_user_keeps_their_name_when_an_older_lookalike_exists(sample_db: Database) -> None:
    """An old lookalike (lint reports it) does not block the account's other changes."""
    twin = insert(f"{CYRILLIC_A}dmin", "twin@example.com")
    Session(sample_db, ADMIN).users.update(
        twin, username=f"{CYRILLIC_A}dmin", email="twin2@example.com"
    )
    assert User.get_by_id(twin).email == "twin2@example.com"
    Session(sample_db, ADMIN).users.update(twin, username="twin")  # renamed away: fine
    assert User.get_by_id(twin).username == "twin"


def test_renaming_oneself_in_another_case_is_no_lookalike(sample_db: Database) -> None:
    Session(sample_db, ADMIN).users.update(OPERATOR_US, username="OPERATOR US")
    assert User.get_by_id(OPERATOR_US).username == "OPERATOR US"


def test_the_check_reads_only_matching_and_non_plain_usernames(
    sample_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100,000 users a save must not reduce every username: plain ones are compared in
    the database, so only the equal ones and the non-plain ones reach Python."""
    User.insert_many(
        [{"username": f"plain user {i}", "password": "", "email": ""} for i in range(300)]
    ).execute()
    insert(f"odd{NBSP}one")
    seen: list[str] = []
    original = validation.skeleton

    def counting(value: str) -> str:
        seen.append(value)
        return original(value)

    monkeypatch.setattr(validation, "skeleton", counting)
    seventh = User.get(User.username == "plain user 7").id
    assert lookup.lookalike_of("Plain User 7", exclude=seventh) is None
    assert sorted(seen) == ["Plain User 7", f"odd{NBSP}one"]
    seen.clear()
    assert lookup.lookalike_of(f"PLAIN{NBSP}USER 7") == "plain user 7"
    assert sorted(seen) == [f"PLAIN{NBSP}USER 7", "plain user 7"]  # found before the odd one


def test_the_cli_refuses_a_lookalike_with_exit_2_and_writes_nothing(
    sample_db: Database,
) -> None:
    before = all_rows()
    result = cli(
        sample_db.console_url,
        "user",
        "add",
        f"{CYRILLIC_A}dmin",
        "--email",
        "phish@example.com",
        "--group",
        "Operators",
        "--generate-password",
        actor="admin",
    )
    assert result.returncode == 2
    assert result.stderr == f"lhc-console: Username '{CYRILLIC_A}dmin' looks the same as 'admin'\n"
    assert_only_the_login_was_recorded(before, all_rows(), ADMIN)


# -- lint -----------------------------------------------------------------------------------


def test_lint_reports_lookalike_usernames_already_in_the_database(
    capsys: pytest.CaptureFixture[str], sample_db: Database
) -> None:
    assert RULES["lookalike-usernames"] and len(RULES["lookalike-usernames"]) <= 28
    assert [f for f in risk_report().findings if f.rule == "lookalike-usernames"] == []
    phish = insert(f"{CYRILLIC_A}dmin")
    spaced = insert(f"Operator{NBSP}US")
    cased = insert("OPERATOR AU")  # plain names equal but for case: grouped in SQL
    findings = [f for f in risk_report().findings if f.rule == "lookalike-usernames"]
    assert [[(o.type, o.id) for o in f.objects] for f in findings] == [
        [("user", ADMIN), ("user", phish)],
        [("user", OPERATOR_US), ("user", spaced)],
        [("user", OPERATOR_AU), ("user", cased)],
    ]
    first = findings[0]
    assert first.severity == "medium"
    assert f"'admin' and '{CYRILLIC_A}dmin' look the same" in first.message
    assert f"#{ADMIN} is 'admin'; #{phish} is '\\u0410dmin'" in first.message  # spelled out
    assert main(["lint", "--json", "--db", sample_db.console_url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert first.as_json() in report["findings"]


# -- names that SSH would deliver changed (red team) ---------------------------------------


@pytest.mark.parametrize(
    ("username", "email", "named"),
    [
        (f"Brand{NBSP}New", "brand@example.com", "U+00A0"),  # arrives as "Brand New"
        ("\uff26ull width", "full@example.com", "U+FF26"),  # arrives as "Full width"
        ("Plain Name", "\uff46ull@example.com", "U+FF46"),
    ],
)
def test_a_login_name_ssh_would_change_is_refused(
    sample_db: Database, username: str, email: str, named: str
) -> None:
    """asyncssh hands the server SASLprep-normalised usernames: a name with a no-break space
    logged in, or failed, as the account spelt with a plain space."""
    refused(lambda: create(Session(sample_db, ADMIN), username, email), "over SSH", named)


def test_a_decomposed_login_name_logs_in_as_the_composed_account(sample_db: Database) -> None:
    from store.auth import authenticate

    made = create(Session(sample_db, ADMIN), "Jos\u00e9 Luis", "jose@example.com")
    assert authenticate("Jose\u0301 Luis", "Pass-1234").id == made.id


def test_policy_modules_and_functions_are_ascii(sample_db: Database) -> None:
    admin = Session(sample_db, ADMIN)
    role = admin.roles.create("Lookalike policy")
    refused(lambda: admin.roles.add_policy(role.id, "lhus\u0435r", "userlist"), "ASCII")
    refused(lambda: admin.roles.add_policy(role.id, "lhuser", "user\u0131ist"), "ASCII")
