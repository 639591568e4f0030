"""JSON from the database, read with a bound on nesting: stored text never exhausts the stack.

Limitations, audit messages and settings are written by whoever can reach LHC's tables, and
Python's ``json`` (and everything that walks its result: comparing, sorting, dumping) recurses
once per level, so ``{"group":`` + 2,000 ``[`` made every screen and command that read it fail
with ``RecursionError``. ``loads`` counts the nesting first, in one pass that skips strings, and
refuses text nested deeper than ``MAX_DEPTH`` with ``TooDeep``, a ``ValueError``: every caller
already treats a ``ValueError`` as "not JSON", so such text is handled exactly like text that
does not parse. Nothing the console or LHC writes comes near the bound (a limitation is two
levels deep, an audit message four or five).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
"""Arrays and objects nested at most this deep."""


class TooDeep(ValueError):
    """JSON text nested deeper than ``MAX_DEPTH``: read as text that is not JSON."""


def nesting_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether ``text`` opens more than ``limit`` arrays or objects inside each other.

    Brackets inside JSON strings do not count. Linear, and free for the usual short text: when
    the text holds at most ``limit`` opening brackets in all, it cannot nest deeper.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads``, refusing (``TooDeep``) text nested deeper than ``max_depth``."""
    if nesting_exceeds(text, max_depth):
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return json.loads(text)
