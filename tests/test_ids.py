"""Issue 17, point 4: ids are ASCII digits within 64 bits.

``#ID`` references on the command line and in ``apply`` files, ``--after``, and every id the
store takes from outside must be the digits 0-9 and lie in 1..2**63-1. Python's ``int`` also
reads superscript, Arabic-Indic and fullwidth digits (``#`` and an Arabic-Indic one used to be
group 1) and a driver overflows on 2**64 ("internal error", exit 1); all of these are now
refusals, exit 2, with a message saying what an id is, and nothing is written. Every backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from test_script_cli import assert_only_the_login_was_recorded, cli

from store import NotFoundError, Session, ValidationError, lookup, validation
from store.dump import all_rows

ADMIN, TEAMLEADER_US = 1, 4
HUGE = "99999999999999999999999"
TOO_BIG = 2**63
ID_RANGE = "ids are whole numbers from 1 to 9223372036854775807"

# (reference, what the refusal must say)
HOSTILE_REFERENCES = {
    "superscript two": ("#\u00b2", "U+00B2 (superscript two) is not one of them"),
    "arabic-indic one": ("#\u0661", "U+0661 (arabic-indic digit one) is not one of them"),
    "fullwidth one": ("#\uff11", "U+FF11 (fullwidth digit one) is not one of them"),
    "beyond 64 bits": (f"#{HUGE}", f"Group id {HUGE} is out of range: {ID_RANGE}"),
    "zero": ("#0", f"Group id 0 is out of range: {ID_RANGE}"),
    "negative": ("#-1", "Group id '-1' is not an id: write it with the digits 0-9 only"),
}


def refused_once(result: Any, *mentions: str) -> None:
    """Exit 2, one line on stderr naming the problem, no traceback, no "internal error"."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("lhc-console: ")
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
    for mention in mentions:
        assert mention in result.stderr


# -- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE_REFERENCES))
def test_a_group_reference_that_is_not_an_ascii_id_is_refused_with_exit_2(
    sample_db: Database, name: str
) -> None:
    reference, message = HOSTILE_REFERENCES[name]
    before = all_rows()
    result = cli(sample_db.console_url, "group", "show", reference, actor="admin")
    refused_once(result, message)
    assert result.stderr.count("\n") == 1
    assert "Administrators" not in result.stderr  # never silently group 1
    assert_only_the_login_was_recorded(before, all_rows(), ADMIN)


def test_a_bare_number_beyond_64_bits_is_a_name_not_found_not_an_overflow(
    sample_db: Database,
) -> None:
    result = cli(sample_db.console_url, "role", "show", HUGE, actor="admin")
    refused_once(result, f"No role named '{HUGE}', and {HUGE} is not an id: {ID_RANGE}")
    result = cli(sample_db.console_url, "group", "show", "\u0661", actor="admin")
    refused_once(result, "No group named '\u0661' (give its id, written with the digits 0-9")


def test_a_write_naming_a_group_by_a_foreign_digit_writes_nothing(sample_db: Database) -> None:
    before = all_rows()
    result = cli(
        sample_db.console_url,
        "user",
        "add",
        "Operator X",
        "--email",
        "x@example.com",
        "--group",
        "Operators",
        "#\uff14",  # fullwidth 4: US Operators, if int() had its way
        "--generate-password",
        actor="Teamleader US",
    )
    refused_once(result, "U+FF14 (fullwidth digit four)")
    assert_only_the_login_was_recorded(before, all_rows(), TEAMLEADER_US)


@pytest.mark.parametrize(
    ("after", "message"),
    [
        ("\u0663", "expected a whole number written with the digits 0-9, not '\u0663'"),
        (HUGE, f"{HUGE} is too large: at most 9223372036854775807"),
        ("0", "ids are whole numbers from 1 to 9223372036854775807, not 0"),
        ("1_0", "expected a whole number written with the digits 0-9, not '1_0'"),
    ],
)
def test_user_list_after_takes_ascii_ids_only(
    sample_db: Database, after: str, message: str
) -> None:
    before = all_rows()
    result = cli(sample_db.console_url, "user", "list", "--after", after, actor="admin")
    assert result.returncode == 2
    assert message in result.stderr
    assert "internal error" not in result.stderr
    assert all_rows() == before  # refused while parsing: not even a login


@pytest.mark.parametrize("text", ["\u00b2", "\u0661", HUGE, str(TOO_BIG)])
def test_the_user_filter_takes_foreign_digits_and_huge_numbers_as_text(
    sample_db: Database, text: str
) -> None:
    result = cli(sample_db.console_url, "user", "list", "--filter", text, actor="admin")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 of 0 users"


def test_an_apply_file_with_ids_beyond_64_bits_or_in_foreign_digits_is_refused(
    sample_db: Database, tmp_path: Path
) -> None:
    plan = tmp_path / "ids.toml"
    plan.write_text(
        f'[[users]]\nusername = "Op X"\nemail = "opx@example.com"\ngroups = [{HUGE}, 0, 2]\n'
        "generate_password = true\n",
        encoding="utf-8",
    )
    before = all_rows()
    result = cli(sample_db.console_url, "apply", str(plan), actor="admin")
    refused_once(
        result,
        f"'groups': {HUGE} is not an id ({ID_RANGE})",
        f"'groups': 0 is not an id ({ID_RANGE})",
    )
    assert all_rows() == before  # the file is checked before anyone logs in

    plan.write_text(
        '[[users]]\nusername = "Op X"\nemail = "opx@example.com"\n'
        'groups = ["#\\u0661", "#\\uff12"]\n'
        f'department_groups = ["#{HUGE}"]\ngenerate_password = true\n',
        encoding="utf-8",
    )
    result = cli(sample_db.console_url, "apply", str(plan), actor="admin")
    refused_once(
        result,
        "U+0661 (arabic-indic digit one) is not one of them",
        "U+FF12 (fullwidth digit two) is not one of them",
        f"Department group id {HUGE} is out of range",
    )
    assert_only_the_login_was_recorded(before, all_rows(), ADMIN)


# -- the store ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, TOO_BIG, 10**30, True, "2", 2.0, None])
def test_validation_ids_takes_ints_from_1_to_2_63_minus_1_only(bad: object) -> None:
    with pytest.raises(ValidationError, match="is not a valid id"):
        validation.ids([2, bad], "Groups")
    assert validation.ids([2**63 - 1, 1, 1], "Groups") == [2**63 - 1, 1]


@pytest.mark.parametrize(
    ("text", "ok"),
    [("0", True), ("42", True), ("007", True), ("\u00b2", False), ("\u0661", False),
     ("\uff11", False), ("+1", False), (" 1", False), ("1_0", False), ("", False),
     ("1\n", False)],
)  # fmt: skip
def test_id_text_is_ascii_digits_only(text: str, ok: bool) -> None:
    assert validation.is_id_text(text) is ok


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.groups.get(TOO_BIG),
        lambda s: s.roles.get(TOO_BIG),
        lambda s: s.departments.get_group(TOO_BIG),
        lambda s: s.users.get(TOO_BIG),
        lambda s: s.users.page(sort="id", after=(TOO_BIG, TOO_BIG)),
        lambda s: s.groups.set_work_with(2, [TOO_BIG]),
        lambda s: s.groups.attach_role(2, TOO_BIG),
        lambda s: s.assignments.assign_department_group(2, TOO_BIG),
        lambda s: s.users.change_groups(2, add=[TOO_BIG]),
        lambda s: s.users.create(
            username="Op X", password="Pass-1234", email="x@example.com", groups=[2, TOO_BIG]
        ),
    ],
    ids=[
        "group",
        "role",
        "department group",
        "user",
        "page after",
        "work-with",
        "attach role",
        "assign department group",
        "change groups",
        "create",
    ],
)
def test_store_services_refuse_ids_beyond_64_bits_and_write_nothing(
    sample_db: Database, call: Any
) -> None:
    before = all_rows()
    with pytest.raises(ValidationError, match="is not a valid id"):
        call(Session(sample_db, ADMIN))
    assert all_rows() == before


def test_lookup_refuses_foreign_digits_and_huge_ids_and_finds_ascii_ones(
    sample_db: Database,
) -> None:
    assert lookup.group_id("#4") == lookup.group_id("4") == lookup.group_id(4) == 4
    for reference in ("#\u00b2", "#\u0661", "#\uff11", f"#{HUGE}", "#0", TOO_BIG, 0, -3):
        with pytest.raises(ValidationError):
            lookup.group_id(reference)  # type: ignore[arg-type]
    for reference in ("\u0661", HUGE, "0", "bad\x00name"):
        with pytest.raises(NotFoundError):
            lookup.department_group_id(reference)
