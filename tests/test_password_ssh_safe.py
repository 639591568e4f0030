"""New passwords are ones SSH's ``password`` method delivers unchanged (issue 16, point 6).

``store.validation.ssh_change`` is our own reading of SASLprep (RFC 4013); asyncssh, which the
SSH server runs on, applies the real one. The property holds the two together: a password the
console accepts is exactly one SASLprep leaves as it is.
"""

from __future__ import annotations

import re

import pytest
from asyncssh.saslprep import SASLPrepError, saslprep
from hypothesis import given, settings
from hypothesis import strategies as st

from store.errors import ValidationError
from store.validation import password, ssh_change


def survives_saslprep(value: str) -> bool:
    try:
        return saslprep(value) == value
    except SASLPrepError:
        return False


@settings(max_examples=3000, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_the_console_accepts_exactly_the_passwords_saslprep_leaves_unchanged(value: str) -> None:
    assert (ssh_change(value) is None) == survives_saslprep(value), value


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("\ufb01sh-and-chips", "U+FB01"),  # ligature fi: NFKC makes it "fi"
        ("pass\u00a0word", "U+00A0"),  # no-break space: becomes a plain space
        ("secret\U0001f600", "U+1F600"),  # emoji: unassigned in Unicode 3.2, refused
        ("zero\u200bwidth", "U+200B"),  # mapped to nothing
    ],
)
def test_a_password_ssh_would_change_is_refused_naming_the_character(typed: str, named: str):
    with pytest.raises(ValidationError, match=re.escape(named)):
        password(typed)


def test_ordinary_and_accented_passwords_are_kept() -> None:
    for typed in ("demo", "Åström-2026!", "пароль", "密码 with spaces"):
        assert password(typed) == typed
