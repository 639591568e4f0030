"""Policy limitations: LHC stores them as JSON text such as ``{"group":[2]}``.

The console parses them, validates the ones people type, and merges several into one
deterministically (SPEC §2: union of each key's list), where LHC keeps whichever row the database
returns last.

Both ways are bounded. A stored limitation longer than LHC's column holds
(``MAX_LIMITATION_BYTES``) or nested deeper than ``bounded_json.MAX_DEPTH`` is kept verbatim as
text, exactly as text that is not JSON (``UNPARSED_KEY``), so it can never exhaust the stack or
the time of whoever reads it; ``lint`` names such rows (rule ``unreadable-limitation``). A typed
one beyond those bounds is refused before it is parsed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from . import bounded_json
from .errors import ValidationError

Limitation = dict[str, list[Any]]

UNPARSED_KEY = "_unparsed"
"""Key under which stored text that is not a JSON object is kept, so nothing is silently lost."""

MAX_LIMITATION_BYTES = 65_535
"""LHC's ``lh_rolefunction.limitation`` is a MySQL ``text`` column: at most 65,535 bytes."""


def parse_stored(text: str | None) -> Limitation | None:
    """Read a stored limitation: empty means none; text LHC would not parse is kept verbatim,
    and so is text longer than LHC's column or nested deeper than ``bounded_json.MAX_DEPTH``."""
    return _read(text)[0]


def unreadable_reason(text: str | None) -> str | None:
    """Why a stored limitation is kept as text (``"is not JSON"``), or None when it is empty
    or a JSON object: what ``lint`` says about such a row."""
    return _read(text)[1]


def _read(text: str | None) -> tuple[Limitation | None, str | None]:
    if text is None or not text.strip():
        return None, None
    if len(text) > MAX_LIMITATION_BYTES:  # more characters than the column holds bytes
        return {UNPARSED_KEY: [text]}, (
            f"is {len(text):,} characters long, more than LHC's column holds "
            f"({MAX_LIMITATION_BYTES:,} bytes)"
        )
    try:
        value = bounded_json.loads(text)
    except bounded_json.TooDeep:
        return {UNPARSED_KEY: [text]}, f"nests more than {bounded_json.MAX_DEPTH} levels deep"
    except ValueError:
        return {UNPARSED_KEY: [text]}, "is not JSON"
    if not isinstance(value, dict):
        return {UNPARSED_KEY: [text]}, "is JSON but not an object"
    return {str(k): _as_list(v) for k, v in value.items()}, None


def validate_input(text: str) -> str:
    """Check a limitation typed by a person and return it normalised (or '' for none).

    It must be a JSON object whose values are scalars or lists of scalars, as LHC's
    limitations are, and fit LHC's column (``MAX_LIMITATION_BYTES``). Text beyond either bound
    is refused before it is parsed whole.
    """
    if not text.strip():
        return ""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_LIMITATION_BYTES:
        raise ValidationError(
            f"Limitation is {size:,} bytes long: LHC's column holds at most "
            f"{MAX_LIMITATION_BYTES:,}"
        )
    if bounded_json.nesting_exceeds(text):
        raise ValidationError(
            f"Limitation nests lists or objects more than {bounded_json.MAX_DEPTH} levels deep: "
            'it must be a JSON object of values or lists of values, such as {"group":[2]}'
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"Limitation is not valid JSON: {exc.msg} at column {exc.colno}"
        ) from exc
    except ValueError as exc:  # the other refusal of json.loads: too many digits for an int
        raise ValidationError(
            "Limitation is not valid JSON: it holds a number of more than "
            f"{sys.get_int_max_str_digits():,} digits"
        ) from exc
    if not isinstance(value, dict) or not value:
        raise ValidationError('Limitation must be a JSON object such as {"group":[2]}')
    for key, item in value.items():
        items = item if isinstance(item, list) else [item]
        if any(isinstance(x, (dict, list)) for x in items):
            raise ValidationError(
                f"Limitation key {key!r} must hold a value or a list of values, not nested objects"
            )
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def merge(limitations: Iterable[Limitation | None]) -> Limitation | None:
    """Merge the limitations of several granting rows.

    Any row without a limitation makes the function unrestricted (``None``); otherwise each
    key's values are united, de-duplicated and sorted, so the outcome never depends on row order.
    """
    merged: dict[str, list[Any]] = {}
    seen: dict[str, set[Any]] = {}  # each key's hashable values: dedup in linear time
    for limitation in limitations:
        if limitation is None:
            return None
        for key, values in limitation.items():
            bucket = merged.setdefault(key, [])
            hashable = seen.setdefault(key, set())
            for value in values:
                try:
                    if value in hashable:
                        continue
                    hashable.add(value)
                except TypeError:  # a list or object (stored by hand): compared one by one
                    if value in bucket:
                        continue
                bucket.append(value)
    return {key: sorted(values, key=_sort_key) for key, values in sorted(merged.items())}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (2, json.dumps(value))
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))
