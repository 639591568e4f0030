"""Stored JSON is read with a bound (issue 17, point 3; red-team F2).

A limitation of ``{"group":`` and 2,000 nested ``[`` in one of the Teamleader role's rows made
``user list``, ``perms`` and ``lint`` fail with "internal error (RecursionError)" and every
screen of every member of that role show "Unexpected error". Now such a limitation (and one
longer than LHC's column) is kept as text, as a limitation that is not JSON always was
(``_unparsed``), ``lint`` names it, and typing one is a refusal that writes nothing. Audit
messages and the password settings are read with the same bound.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from pilot import log_in, settle
from test_script_cli import assert_only_the_login_was_recorded, cli

from screens.home import HomeScreen
from screens.users import UsersScreen
from store import Session, ValidationError
from store.bounded_json import MAX_DEPTH, TooDeep, loads, nesting_exceeds
from store.database import Database
from store.dump import all_rows
from store.limitations import (
    MAX_LIMITATION_BYTES,
    UNPARSED_KEY,
    merge,
    parse_stored,
    unreadable_reason,
    validate_input,
)
from store.models import Audit, RoleFunction
from store.password_policy import decode_settings
from store.permissions import PermissionSet
from tui.command_line.main import main
from tui.shell.app import LhcConsole

DEEP = '{"group":' + "[" * 2000 + "]" * 2000 + "}"
TEAMLEADER_ROLE = 3
TEAMLEADER_US = 4


def test_the_depth_count_skips_strings_and_stops_at_the_bound() -> None:
    assert not nesting_exceeds('{"a":"' + "[" * 100 + '"}')
    assert not nesting_exceeds('{"a":"\\"' + "[" * 100 + '"}')
    assert not nesting_exceeds("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert nesting_exceeds("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(TooDeep):
        loads(DEEP)
    assert isinstance(TooDeep("x"), ValueError)  # every caller's "not JSON" branch takes it


def test_a_deep_or_oversized_stored_limitation_is_kept_as_text_like_one_that_is_not_json() -> None:
    oversized = '{"group":[' + ",".join(["1"] * 40_000) + "]}"
    assert len(oversized) > MAX_LIMITATION_BYTES
    for text in (DEEP, oversized, "group=1"):
        assert parse_stored(text) == {UNPARSED_KEY: [text]}
    assert "nests more than" in (unreadable_reason(DEEP) or "")
    assert "characters long" in (unreadable_reason(oversized) or "")
    assert unreadable_reason("group=1") == "is not JSON"
    # Valid limitations read as before, nested values (stored by hand) included.
    assert parse_stored('{"group":[2,1]}') == {"group": [2, 1]}
    assert parse_stored('{"group":[[1],[1],2]}') == {"group": [[1], [1], 2]}
    assert unreadable_reason('{"group":[2]}') is None and unreadable_reason("") is None


def test_merging_a_long_limitation_takes_linear_time_and_keeps_the_semantics() -> None:
    long = {"group": list(range(16_000))}
    started = time.monotonic()
    merged = merge([long, {"group": [5, 16_000, True, 1.0]}])
    assert time.monotonic() - started < 1.0
    assert merged == {"group": [*range(16_001)]}  # True and 1.0 are 1, as `in` found them
    assert merge([{"g": [[1], 2]}, {"g": [[1], [2]]}]) == {"g": [2, [1], [2]]}


@pytest.fixture
def deep_limitation(sample_db: Database, sample_url: str) -> str:
    """The Teamleader role (Teamleader US's) grants two functions with the deep limitation."""
    for module, function in (("lhdepartment", "see_all"), ("lhchat", "use")):
        RoleFunction.create(
            role_id=TEAMLEADER_ROLE, module=module, function=function, limitation=DEEP
        )
    return sample_url


def test_the_deep_stored_limitation_no_longer_breaks_user_list_perms_or_lint(
    deep_limitation: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = cli(deep_limitation, "user", "list", "--json", actor="Teamleader US")
    assert result.returncode == 0, result.stderr
    assert {u["username"] for u in json.loads(result.stdout)["users"]} >= {"Operator US"}
    assert main(["perms", "Teamleader US", "--db", deep_limitation, "--json"]) == 0
    perms = json.loads(capsys.readouterr().out)["permissions"]
    see_all = next(p for p in perms if p["function"] == "see_all")
    assert see_all["limitation"] == {UNPARSED_KEY: [DEEP]}
    for command in (["perms", "Teamleader US"], ["access", "Teamleader US"], ["lint"]):
        assert main([*command, "--db", deep_limitation]) == 0
    report = capsys.readouterr().out
    assert "unreadable-limitation: Limitation cannot be read" in report
    assert "lhdepartment/see_all with a limitation that nests more than 32 levels" in report
    assert main(["lint", "--db", deep_limitation, "--json"]) == 0
    rules = [f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert rules.count("unreadable-limitation") == 2


def test_the_deep_stored_limitation_is_compared_as_text_when_a_policy_is_named(
    deep_limitation: str, as_user
) -> None:
    admin: Session = as_user("admin")
    role = admin.roles.get(TEAMLEADER_ROLE)
    assert sum(p.limitation == DEEP for p in role.policies) == 2
    assert PermissionSet.for_user(TEAMLEADER_US).has("lhchat", "use")
    from store.lookup import policy_id

    with pytest.raises(ValidationError, match="2 grants lhchat/use"):
        policy_id(TEAMLEADER_ROLE, "lhchat", "use", exclude=False, limitation=None)
    assert policy_id(TEAMLEADER_ROLE, "lhchat", "use", exclude=False, limitation=DEEP)


async def test_teamleader_us_opens_home_and_users_with_the_deep_limitation(
    deep_limitation: str,
) -> None:
    app = LhcConsole(deep_limitation)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await log_in(pilot, "Teamleader US", "demo")
        assert isinstance(app.screen, HomeScreen), app.screen
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen), app.screen
        assert app.screen.query_one("DataTable").row_count >= 3
        notes = [f"{n.title} {n.message}" for n in app._notifications]
        assert not [n for n in notes if "Unexpected error" in n], notes


@pytest.mark.parametrize(
    ("limitation", "refusal"),
    [
        ('{"group":' + "[" * 990 + "]" * 990 + "}", "more than 32 levels deep"),
        ('{"group":[' + ",".join(["1"] * 40_000) + "]}", "LHC's column holds at most 65,535"),
    ],
)
def test_a_deep_or_oversized_limitation_typed_is_refused_and_writes_nothing(
    sample_db: Database, sample_url: str, limitation: str, refusal: str
) -> None:
    with pytest.raises(ValidationError, match=refusal):
        validate_input(limitation)
    before = all_rows()
    result = cli(
        sample_url,
        "policy",
        "add",
        "Teamleader",
        "lhchat",
        "use",
        "--limitation",
        limitation,
        actor="admin",
    )
    assert result.returncode == 2, result.stderr
    assert refusal in result.stderr and "internal error" not in result.stderr
    assert_only_the_login_was_recorded(before, all_rows(), 1)


def test_deep_audit_messages_and_password_settings_read_as_text(as_user) -> None:
    admin: Session = as_user("admin")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    Audit.create(
        category="x", user_id=1, object_id=0, message=DEEP, severity="info", source="lhc", time=now
    )
    rows = admin.audit.page().rows
    assert rows[0].message == DEEP and rows[0].details() == DEEP
    assert decode_settings(DEEP) == {}
    assert decode_settings("a:1:{i:0;" * 2000 + "N;" + "}" * 2000) == {}
    assert decode_settings('a:1:{s:6:"length";i:9;}') == {"length": 9}  # as before
