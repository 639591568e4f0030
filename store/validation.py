"""Input checks that run before any write, with messages that name the field and the limit."""

from __future__ import annotations

import re

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
    """A new password: present, and short enough for bcrypt to use all of it."""
    if not isinstance(value, str) or not value:
        raise ValidationError("Password is required")
    if len(value.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise ValidationError(f"Password is too long: at most {BCRYPT_MAX_BYTES} bytes")
    return value


def flag(value: object, label: str) -> int:
    """A yes/no flag stored as LHC's tinyint 0/1."""
    if isinstance(value, bool) or value in (0, 1):
        return int(bool(value))
    raise ValidationError(f"{label} must be yes or no")


def ids(values: object, label: str) -> list[int]:
    """A list of positive integer ids, de-duplicated, in the order given."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValidationError(f"{label} must be a list of ids")
    out: list[int] = []
    for v in values:  # type: ignore[union-attr]
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValidationError(f"{label}: {v!r} is not a valid id")
        if v not in out:
            out.append(v)
    return out
