"""Characters that show as nothing, and a dotted capital I (red team, second round).

U+2800 (the blank braille pattern) showed as a space in a username; U+3164, U+115F, U+FE0F and
U+034F in names that came from a dump reached the terminal raw; 'ADMİN' (U+0130) was not seen
as looking like 'admin'.
"""

from __future__ import annotations

import pytest
from peewee import Database

from store import Session, validation
from store.errors import ValidationError
from store.printable import printable

ADMIN = 1
OPERATORS, US_OPERATORS = 2, 4


@pytest.mark.parametrize("char", ["\u2800", "\u3164", "\u115f", "\u034f", "\ufe0f"])
def test_a_character_that_shows_as_nothing_is_written_out(char: str) -> None:
    shown = printable(f"Operator{char}US")
    assert char not in shown and "\\u" in shown


def test_a_blank_braille_pattern_is_refused_in_a_username() -> None:
    with pytest.raises(ValidationError, match="shows as nothing"):
        validation.identity("Operator\u2800US", "Username", 80)


def test_a_dotted_capital_i_looks_like_the_plain_i() -> None:
    assert validation.skeleton("ADMİN") == validation.skeleton("admin") == "admin"
    assert validation.skeleton("José") != validation.skeleton("Jose")  # other accents count


def test_admin_with_a_dotted_capital_i_is_refused_as_a_lookalike(sample_db: Database) -> None:
    session = Session(sample_db, ADMIN)
    with pytest.raises(ValidationError, match="looks the same as 'admin'"):
        session.users.create(
            username="ADMİN",
            email="dotted@example.com",
            password="Day-pass-2026!",
            groups=[OPERATORS, US_OPERATORS],
        )


@pytest.mark.parametrize("char", ["\u2800", "\u3164", "\u115f", "\u034f", "\ufe0f"])
def test_styled_text_writes_out_a_character_that_shows_as_nothing(char: str) -> None:
    """``screens.text.safe`` (the access explorer's heading, the impact and risk details,
    styled table cells) kept what Python calls printable: a username from a dump holding
    U+3164 showed blank on the access screen while every other screen wrote it out (red
    team, round 3). Its spans stay on the same characters."""
    from rich.text import Text
    from textual.content import Content

    from screens.text import safe

    name = f"Operator{char}US"
    text = safe(Text.assemble("Chat access of ", (name, "bold")))
    assert isinstance(text, Text)
    assert text.plain == "Chat access of " + printable(name)
    (span,) = text.spans
    assert text.plain[span.start : span.end] == printable(name)
    content = safe(Content(name))
    assert isinstance(content, Content) and content.plain == printable(name)
