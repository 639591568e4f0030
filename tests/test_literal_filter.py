"""Issue 17, point 7: the text filter is literal.

The users list's filter (the users screen's ``/``, ``lhc-console user list --filter``) and the
audit log's matched ``%`` and ``_`` as LIKE wildcards: ``_`` found every user. They now match
themselves, and so do the escape character and a backslash, on SQLite, MariaDB and PostgreSQL.
"""

from __future__ import annotations

import pytest
from peewee import Database
from test_script_cli import cli

from store import Session

ADMIN = 1
OPERATORS = 2
SPECIAL = {
    "percent": "50% Operator",
    "underscore": "night_shift",
    "escape": "bang!op",
    "backslash": "back\\slash",
    "caret and brackets": "[^a]op",
}


@pytest.fixture
def special_users(sample_db: Database) -> dict[str, int]:
    admin = Session(sample_db, ADMIN)
    made = {}
    for number, (key, username) in enumerate(SPECIAL.items()):
        made[key] = admin.users.create(
            username=username,
            password="Pass-1234",
            email=f"special{number}@example.com",
            groups=[OPERATORS],
        ).id
    return made


def usernames(session: Session, text: str) -> list[str]:
    page = session.users.page(text=text, sort="id", limit=500)
    assert session.users.count(text=text) == len(page.rows)
    return [row.username for row in page.rows]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%", ["50% Operator"]),
        ("_", ["night_shift"]),
        ("!", ["bang!op"]),
        ("\\", ["back\\slash"]),
        ("[^a]", ["[^a]op"]),
        ("0%", ["50% Operator"]),
        ("t_s", ["night_shift"]),
        ("%%", []),
        ("__", []),
        ("!%", []),
        ("t%s", []),  # a wildcard would find "night_shift"
        ("n_ght", []),  # a wildcard would find "night_shift"
        ("ng!o", ["bang!op"]),
        ("NIGHT_", ["night_shift"]),  # still case-insensitive
    ],
)
def test_the_users_filter_matches_percent_underscore_and_escape_literally(
    sample_db: Database, special_users: dict[str, int], text: str, expected: list[str]
) -> None:
    assert usernames(Session(sample_db, ADMIN), text) == expected


def test_the_filter_still_finds_plain_text_and_ids(
    sample_db: Database, special_users: dict[str, int]
) -> None:
    admin = Session(sample_db, ADMIN)
    assert usernames(admin, "operator") == ["Operator US", "Operator AU", "50% Operator"]
    assert usernames(admin, str(special_users["underscore"])) == ["night_shift"]
    assert usernames(admin, "special1@") == ["night_shift"]


def test_user_list_filter_on_the_command_line_is_literal(
    sample_db: Database, special_users: dict[str, int]
) -> None:
    result = cli(sample_db.console_url, "user", "list", "--filter", "_", actor="admin")
    assert result.returncode == 0, result.stderr
    assert "night_shift" in result.stdout
    assert "1 of 1 users" in result.stdout
    for other in ("admin", "Operator US", "50% Operator", "bang!op"):
        assert f"'{other}'" not in result.stdout and f" {other} " not in result.stdout


def test_the_audit_filter_is_literal_too(
    sample_db: Database, special_users: dict[str, int]
) -> None:
    audit = Session(sample_db, ADMIN).audit
    percent = audit.page(text="%", limit=200).rows
    assert [r.object_id for r in percent] == [special_users["percent"]]
    shift = audit.page(text="t_s", limit=200).rows
    assert [r.object_id for r in shift] == [special_users["underscore"]]
    assert audit.page(text="n_ght", limit=200).rows == ()
