"""Input checks that run before any write, with messages that name the field and the limit."""

from __future__ import annotations

import re
import stringprep
import unicodedata

from . import printable
from .errors import ValidationError

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BCRYPT_MAX_BYTES = 72


BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Bidi embeddings, overrides and isolates: they reorder the text that follows them, so a name
holding one is shown in another order than it is stored (``Evil\u202egnp.exe``)."""
BIDI_MARKS = frozenset("\u200e\u200f\u061c")
"""Left-to-right, right-to-left and Arabic letter marks: invisible, and they move neutral
characters around them."""
INVISIBLE = printable.INVISIBLE
"""Characters that show as nothing (``store.printable``, which writes them out as escapes)."""


def text(value: object, label: str, max_length: int, *, required: bool = True) -> str:
    """Strip a text input and check it against the LHC column it will be written to.

    Control characters (C0, DEL, C1) and bidi overrides, embeddings and isolates are refused in
    every text: a name is shown to people who did not type it, and neither may change what
    they see (a terminal escape, text shown in another order than it reads).
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{label} is required")
    if len(value) > max_length:
        raise ValidationError(f"{label} is too long: {len(value)} characters, at most {max_length}")
    if any(_is_control(ch) for ch in value):
        raise ValidationError(f"{label} must not contain control characters")
    for ch in value:
        if ch in BIDI_OVERRIDES:
            raise ValidationError(
                f"{label} must not contain {_named(ch)}: it shows the text after it in "
                "another order than it is written"
            )
        if unicodedata.category(ch) == "Cs":
            raise ValidationError(f"{label} is not valid Unicode text (a lone surrogate)")
    return value


def identity(value: object, label: str, max_length: int, *, required: bool = True) -> str:
    """A username or e-mail: ``text``, in Unicode's composed form (NFC), and nothing invisible.

    Two accounts must never look alike, so on top of ``text`` an identity refuses every
    character that shows as nothing or moves others (zero-width characters, joiners, soft
    hyphen, byte-order mark, bidi marks, any other format character); and it is stored composed,
    so ``e`` + combining acute and ``é`` are one name, the way people see them.
    """
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value)
    checked = text(value, label, max_length, required=required)
    for ch in checked:
        if ch in BIDI_MARKS:
            raise ValidationError(
                f"{label} must not contain {_named(ch)}: an invisible mark that moves the "
                "characters around it"
            )
        if ch in INVISIBLE or unicodedata.category(ch) == "Cf":
            raise ValidationError(
                f"{label} must not contain {_named(ch)}: it shows as nothing, so two "
                "different names would look the same"
            )
        if unicodedata.category(ch) in ("Zl", "Zp"):
            raise ValidationError(f"{label} must not contain {_named(ch)}: one line only")
    return checked


def email(value: object, *, required: bool = True) -> str:
    """An e-mail address that fits ``lh_users.email`` (varchar 100), checked as an identity."""
    address = identity(value, "E-mail", 100, required=required)
    if address and not EMAIL_PATTERN.match(address):
        raise ValidationError(f"E-mail {address!r} is not a valid address")
    return address


def _is_control(ch: str) -> bool:
    """C0 controls, DEL and C1 controls (``Cc``): never printed as text."""
    return ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F


# -- lookalikes ---------------------------------------------------------------------------

_CONFUSABLE_LETTERS = (
    # Cyrillic capitals A, Ve, Ie, Ka, Em, En, O, Er, Es, Te, U, Ha, Dze, Ukrainian I, Je,
    # palochka, straight U, Qa, We
    (
        "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0423\u0425\u0405"
        "\u0406\u0408\u04c0\u04ae\u051a\u051c",
        "ABEKMHOPCTYXSIJIYQW",
    ),
    # Cyrillic small a, ie, o, er, es, u, ha, dze, Ukrainian i, je, shha, komi de, qa, we,
    # palochka, straight u, izhitsa
    (
        "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0455\u0456\u0458\u04bb\u0501\u051b"
        "\u051d\u04cf\u04af\u0475",
        "aeopcyxsijhdqwlyv",
    ),
    # Greek capitals Alpha, Beta, Epsilon, Zeta, Eta, Iota, Kappa, Mu, Nu, Omicron, Rho, Tau,
    # Upsilon, Chi, lunate Sigma, Yot
    (
        "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5"
        "\u03a7\u03f9\u037f",
        "ABEZHIKMNOPTYXCJ",
    ),
    # Greek small alpha, iota, kappa, nu, omicron, rho, upsilon, chi, lunate sigma, yot
    ("\u03b1\u03b9\u03ba\u03bd\u03bf\u03c1\u03c5\u03c7\u03f2\u03f3", "aikvopuxcj"),
    # Latin dotless i and j, alpha, script g, iota, and small capitals
    (
        "\u0131\u0237\u0251\u0261\u0269\u0280\u1d00\u1d04\u1d05\u1d07\u1d0b\u1d0d\u1d0f"
        "\u1d18\u1d1b\u1d1c\u1d20\u1d21\u1d22\u029c\u026a\u029f\u0274\ua731",
        "ijagiRACDEKMOPTUVWZHILNS",
    ),
)
CONFUSABLES = str.maketrans(
    "".join(drawn for drawn, _ in _CONFUSABLE_LETTERS),
    "".join(latin for _, latin in _CONFUSABLE_LETTERS),
)
"""Letters of other scripts (and Latin variants) that are drawn like a Latin letter: the
common part of Unicode's confusables (UTS #39) for Latin, Cyrillic and Greek, written as
escapes so that this file does not itself hold lookalikes. Only non-ASCII letters are folded:
two ASCII names look alike only when they differ in case or spacing (``lookup.lookalike_of``
relies on it)."""

_WHITESPACE = re.compile(r"\s+")


def skeleton(value: str) -> str:
    """What a name looks like, for telling whether two names look the same.

    Invisible characters (format characters, variation selectors, fillers, controls) are
    dropped; compatibility forms are unfolded (NFKD: fullwidth, ligatures, no-break and other
    spaces, mathematical letters); letters drawn like a Latin one become it (``CONFUSABLES``);
    case is folded; every run of whitespace is one space, none at either end. An ASCII name
    without controls or doubled spaces comes out lower-cased and otherwise unchanged.
    """
    kept = "".join(ch for ch in value if not _ignorable(ch))
    # Confusables first as well: NFKD would unfold the lunate sigmas (drawn like C and c) into
    # plain sigmas, which look like nothing Latin.
    folded = unicodedata.normalize("NFKD", kept.translate(CONFUSABLES))
    folded = folded.translate(CONFUSABLES).casefold()
    folded = unicodedata.normalize("NFKD", folded).translate(CONFUSABLES)
    folded = "".join(ch for ch in folded if not _ignorable(ch))
    # A dot above an i or j adds nothing to the dot it has: 'İ' folds to 'i' + U+0307, which
    # looks like the plain 'i' of 'admin' ('ADMİN').
    folded = folded.replace("i\u0307", "i").replace("j\u0307", "j")
    return unicodedata.normalize("NFC", _WHITESPACE.sub(" ", folded).strip())


def _ignorable(ch: str) -> bool:
    if ch.isspace():
        return False
    code = ord(ch)
    return (
        ch in INVISIBLE
        or ch in BIDI_MARKS
        or unicodedata.category(ch) in ("Cf", "Cc")
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x180B <= code <= 0x180F
    )


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
    for v in values:  # iterable: hasattr narrows it
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
