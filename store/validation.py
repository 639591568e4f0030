"""Input checks that run before any write, with messages that name the field and the limit."""

from __future__ import annotations

import re
import stringprep
import unicodedata

from .errors import ValidationError

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BCRYPT_MAX_BYTES = 72


def text(value: object, label: str, max_length: int, *, required: bool = True) -> str:
    """Strip a text input and check it against the LHC column it will be written to."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{label} is required")
    if len(value) > max_length:
        raise ValidationError(f"{label} is too long: {len(value)} characters, at most {max_length}")
    if any(ord(ch) < 32 for ch in value):
        raise ValidationError(f"{label} must not contain control characters")
    return value


def email(value: object, *, required: bool = True) -> str:
    """An e-mail address that fits ``lh_users.email`` (varchar 100)."""
    address = text(value, "E-mail", 100, required=required)
    if address and not EMAIL_PATTERN.match(address):
        raise ValidationError(f"E-mail {address!r} is not a valid address")
    return address


def password(value: object) -> str:
    """A new password: present, short enough for bcrypt to use all of it, and one that every
    way of logging in delivers unchanged (see ``ssh_change``)."""
    if not isinstance(value, str) or not value:
        raise ValidationError("Password is required")
    if len(value.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise ValidationError(f"Password is too long: at most {BCRYPT_MAX_BYTES} bytes")
    change = ssh_change(value)
    if change:
        raise ValidationError(
            f"Password cannot be used over SSH: {change}; SSH clients may send it changed "
            "(SASLprep, RFC 4013), so it would work in the console but not over SSH"
        )
    return value


_SASLPREP_PROHIBITED = (
    stringprep.in_table_c12,
    stringprep.in_table_c21_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
    stringprep.in_table_a1,  # unassigned in Unicode 3.2 (emoji among them): stored queries only
)


def ssh_change(value: str) -> str | None:
    """Why SASLprep (RFC 4013) would not deliver this password as typed, or None if it would.

    SSH's ``password`` method hands passwords to servers, and some clients send them,
    SASLprep-normalised: a ligature becomes two letters, a non-ASCII space a plain one, and a
    character outside Unicode 3.2 (an emoji) makes the whole request invalid. A password that
    survives SASLprep unchanged is the same bytes on every path, so the console sets no other.
    """
    for ch in value:
        if stringprep.in_table_b1(ch):
            return f"it contains {_named(ch)}, which SSH drops"
        if stringprep.in_table_c12(ch):
            return f"it contains {_named(ch)}, which SSH turns into a plain space"
        if any(prohibited(ch) for prohibited in _SASLPREP_PROHIBITED):
            return f"it contains {_named(ch)}, which SSH refuses in passwords"
    if unicodedata.normalize("NFKC", value) != value:
        changed = [ch for ch in value if unicodedata.normalize("NFKC", ch) != ch]
        if changed:
            return f"it contains {_named(changed[0])}, which SSH normalises to another character"
        return "SSH would recompose its accents (it is not in Unicode's NFKC form)"
    if any(stringprep.in_table_d1(ch) for ch in value) and (
        any(stringprep.in_table_d2(ch) for ch in value)
        or not stringprep.in_table_d1(value[0])
        or not stringprep.in_table_d1(value[-1])
    ):
        return "it mixes right-to-left and left-to-right letters in a way SSH refuses"
    return None


def _named(ch: str) -> str:
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed character').lower()})"


def flag(value: object, label: str) -> int:
    """A yes/no flag stored as LHC's tinyint 0/1."""
    if isinstance(value, bool) or value in (0, 1):
        return int(bool(value))
    raise ValidationError(f"{label} must be yes or no")


MAX_ID = 2**63 - 1
"""The largest id any of LHC's tables can hold (a signed 64-bit integer)."""
ID_RANGE = f"ids are whole numbers from 1 to {MAX_ID}"
_ID_TEXT = re.compile(r"[0-9]+")


def ids(values: object, label: str) -> list[int]:
    """A list of positive integer ids, de-duplicated, in the order given."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValidationError(f"{label} must be a list of ids")
    out: list[int] = []
    for v in values:  # type: ignore[union-attr]
        v = one_id(v, label)
        if v not in out:
            out.append(v)
    return out


def one_id(value: object, label: str) -> int:
    """An id as the store takes it: an int (never a bool) from 1 to ``MAX_ID``.

    Larger numbers are refused here rather than handed to a driver, where they overflow (an
    internal error) or are cut to another id.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValidationError(f"{label}: {value!r} is not a valid id ({ID_RANGE})")
    return value


def is_id_text(value: str) -> bool:
    """Whether ``value`` is written as an id: ASCII digits 0-9 only (no sign, space or other
    script's digits such as superscript two, Arabic-Indic or fullwidth digits, which Python's
    ``int`` would accept)."""
    return _ID_TEXT.fullmatch(value) is not None


def id_text(value: str, label: str) -> int:
    """An id typed as text: ASCII digits, from 1 to ``MAX_ID``; a refusal saying which rule
    it breaks otherwise."""
    if not is_id_text(value):
        odd = next((ch for ch in value if not ("0" <= ch <= "9")), None)
        what = f"; {_named(odd)} is not one of them" if odd and odd.isdigit() else ""
        raise ValidationError(
            f"{label} {value!r} is not an id: write it with the digits 0-9 only{what}"
        )
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValidationError(f"{label} {value} is out of range: {ID_RANGE}")
    return number
