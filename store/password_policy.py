"""LHC's password settings (``lh_chat_config.password_data``), read and enforced as LHC does.

LHC keeps the settings of its "Password requirements" page as one PHP-serialized array under the
identifier ``password_data`` (some installs and tools write JSON instead; both are read):
``max_attempts`` (failed logins before the account is disabled), ``length`` (minimum number of
characters), ``uppercase_required``, ``lowercase_required``, ``number_required`` and
``special_required`` (minimum counts of each character class) and ``expires_in`` (days).

Where the console deliberately differs from LHC (SECURITY.md says so too):

- ``max_attempts`` missing, empty, zero or not a number means the console's default of 5
  (LHC then never disables an account); only a positive number changes it.
- Every count rule applies from 1 (LHC applies ``special_required`` and ``lowercase_required``
  only from 2, an off-by-one in its validator).
- ``expires_in`` is read but not enforced: forcing a password change is LHC's back office's job.

The table is optional: on a database without ``lh_chat_config`` (one the console created) the
defaults apply, and a malformed value also means the defaults (LHC's ``unserialize`` fails the
same way), never an error that would lock everyone out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import bounded_json
from .errors import ValidationError
from .models import ChatConfig

IDENTIFIER = "password_data"
DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class PasswordPolicy:
    """What a new password must hold, and how many failed logins disable an account."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    length: int = 0
    uppercase_required: int = 0
    lowercase_required: int = 0
    number_required: int = 0
    special_required: int = 0
    expires_in: int = 0

    @classmethod
    def from_settings(cls, data: dict[str, Any]) -> PasswordPolicy:
        """The policy of a decoded ``password_data`` array (unknown keys ignored)."""
        max_attempts = _count(data.get("max_attempts"))
        return cls(
            max_attempts=max_attempts if max_attempts > 0 else DEFAULT_MAX_ATTEMPTS,
            length=_count(data.get("length")),
            uppercase_required=_count(data.get("uppercase_required")),
            lowercase_required=_count(data.get("lowercase_required")),
            number_required=_count(data.get("number_required")),
            special_required=_count(data.get("special_required")),
            expires_in=_count(data.get("expires_in")),
        )

    def problems(self, password: str) -> list[str]:
        """Every rule the password breaks, each as a sentence naming the rule's number."""
        found: list[str] = []
        if self.length and len(password) < self.length:
            found.append(f"at least {self.length} characters (it has {len(password)})")
        counts = {
            "uppercase letter": (self.uppercase_required, len(re.findall(r"[A-Z]", password))),
            "lowercase letter": (self.lowercase_required, len(re.findall(r"[a-z]", password))),
            "digit": (self.number_required, len(re.findall(r"[0-9]", password))),
            "special character": (
                self.special_required,
                len(re.findall(r"[^A-Za-z0-9_]", password)),
            ),
        }
        for label, (required, have) in counts.items():
            if required and have < required:
                plural = "s" if required > 1 else ""
                found.append(f"at least {required} {label}{plural} (it has {have})")
        return found

    def check(self, password: str) -> None:
        """Refuse a new password that breaks a rule, naming every rule it breaks."""
        problems = self.problems(password)
        if problems:
            raise ValidationError(
                "Password does not meet this help desk's password rules: it needs "
                + "; ".join(problems)
            )


def load_policy() -> PasswordPolicy:
    """The policy of the bound database: ``lh_chat_config.password_data`` or the defaults.

    Reads nothing when the table is absent (console-created databases), so it can never make
    a database unusable.
    """
    if not ChatConfig.table_exists():
        return PasswordPolicy()
    row = ChatConfig.get_or_none(ChatConfig.identifier == IDENTIFIER)
    if row is None:
        return PasswordPolicy()
    return PasswordPolicy.from_settings(decode_settings(row.value or ""))


def decode_settings(value: str) -> dict[str, Any]:
    """A ``password_data`` value as a dict: PHP ``serialize()`` output or a JSON object.

    Empty, ``'0'`` (what LHC treats as "no data") and anything malformed give ``{}``.
    """
    text = value.strip()
    if text in ("", "0"):
        return {}
    if text.startswith("{"):
        try:
            decoded = bounded_json.loads(text)
        except ValueError:  # malformed, or nested too deep to read (``bounded_json``)
            return {}
        return decoded if isinstance(decoded, dict) else {}
    try:
        decoded, end = _PhpReader(text).value(0)
    except (ValueError, IndexError):
        return {}
    if end != len(text) or not isinstance(decoded, dict):
        return {}
    return decoded


def _count(value: Any) -> int:
    """A setting as a non-negative whole number; PHP forms store numbers as strings."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value.is_integer():
        return max(int(value), 0)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


class _PhpReader:
    """Just enough of PHP's ``unserialize`` for a settings array of scalars (and nested arrays).

    String lengths are in UTF-8 bytes, as PHP writes them. Arrays nest at most
    ``bounded_json.MAX_DEPTH`` deep: deeper is malformed (a ``ValueError``), never a
    ``RecursionError``.
    """

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")

    def value(self, at: int, depth: int = 0) -> tuple[Any, int]:
        if depth > bounded_json.MAX_DEPTH:
            raise ValueError("arrays nested too deep")
        kind = self.data[at : at + 2]
        if kind == b"N;":
            return None, at + 2
        if kind in (b"i:", b"d:", b"b:"):
            end = self.data.index(b";", at)
            raw = self.data[at + 2 : end].decode("ascii")
            if kind == b"i:":
                return int(raw), end + 1
            if kind == b"b:":
                return raw == "1", end + 1
            return float(raw), end + 1
        if kind == b"s:":
            colon = self.data.index(b":", at + 2)
            size = int(self.data[at + 2 : colon])
            start = colon + 2  # past ':"'
            if self.data[colon + 1 : colon + 2] != b'"':
                raise ValueError("string without quote")
            end = start + size
            if self.data[end : end + 2] != b'";':
                raise ValueError("string length does not match")
            return self.data[start:end].decode("utf-8"), end + 2
        if kind == b"a:":
            colon = self.data.index(b":", at + 2)
            count = int(self.data[at + 2 : colon])
            if self.data[colon + 1 : colon + 2] != b"{":
                raise ValueError("array without brace")
            position = colon + 2
            out: dict[Any, Any] = {}
            for _ in range(count):
                key, position = self.value(position, depth + 1)
                if not isinstance(key, (int, str)):
                    raise ValueError("array key is not a string or integer")
                out[str(key)], position = self.value(position, depth + 1)
            if self.data[position : position + 1] != b"}":
                raise ValueError("array without closing brace")
            return out, position + 1
        raise ValueError(f"unsupported PHP value at byte {at}")
