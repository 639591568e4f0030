"""Policy limitations: LHC stores them as JSON text such as ``{"group":[2]}``.

The console parses them, validates the ones people type, and merges several into one
deterministically (SPEC §2: union of each key's list), where LHC keeps whichever row the database
returns last.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .errors import ValidationError

Limitation = dict[str, list[Any]]

UNPARSED_KEY = "_unparsed"
"""Key under which stored text that is not a JSON object is kept, so nothing is silently lost."""


def parse_stored(text: str | None) -> Limitation | None:
    """Read a stored limitation: empty means none; text LHC would not parse is kept verbatim."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {UNPARSED_KEY: [text]}
    if not isinstance(value, dict):
        return {UNPARSED_KEY: [text]}
    return {str(k): _as_list(v) for k, v in value.items()}


def validate_input(text: str) -> str:
    """Check a limitation typed by a person and return it normalised (or '' for none).

    It must be a JSON object whose values are scalars or lists of scalars, as LHC's
    limitations are.
    """
    if not text.strip():
        return ""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationError(
            f"Limitation is not valid JSON: {exc.msg} at column {exc.colno}"
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
    for limitation in limitations:
        if limitation is None:
            return None
        for key, values in limitation.items():
            bucket = merged.setdefault(key, [])
            for value in values:
                if value not in bucket:
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
