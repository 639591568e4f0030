"""Everything the commands print goes through here: stored text is shown, never obeyed.

A name in ``user list`` or ``lint`` was typed by someone with less privilege than the person
reading it, and a terminal obeys what it receives (an ESC sequence recolours or retitles, BEL
rings, ``\\x9b`` is a CSI, U+202E reverses the line, U+200B hides text). So the command line
makes every such character visible, as the screens do (``store.printable``, which
``screens.text`` uses too), in three ways:

- ``say_lines``: the report lines a command prints. Each line is one line: a line feed inside
  it (a name holding ``\\n``) shows as ``\\n`` and cannot forge a line of its own.
- ``say_json``: ``--json`` output. ``json.dumps`` escapes C0 controls but not DEL, the C1
  controls, bidi or zero-width characters (nor lone surrogates, which would not encode): every
  character that is not printable is written as its JSON escape (``\\u202e``), so the object a
  script parses is unchanged and the terminal receives no control. Printable non-ASCII text
  (``Zürich``) stays as it is.
- ``printable_streams``: while a command runs (``tui.command_line.main``), ``sys.stdout`` and
  ``sys.stderr`` make every other line printable too: refusal and error messages that quote
  names, argparse's errors, the servers' log lines. A line feed there is kept (messages may have
  several lines); the rest is escaped. The console itself (no command) is not wrapped: Textual
  owns the terminal and its screens escape names themselves.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from store.printable import printable


def json_text(value: Any) -> str:
    """``value`` as one line of JSON with no character a terminal would act on.

    ``ensure_ascii=False`` keeps printable text readable; every other character (DEL, C1,
    bidi and zero-width characters, separators, surrogates) becomes its ``\\uXXXX`` escape,
    valid JSON because outside strings JSON holds only printable ASCII.
    """
    text = json.dumps(value, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _json_escape(char) for char in text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:  # outside the BMP: JSON writes a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def say_lines(lines: Iterable[str], *, err: bool = False) -> None:
    """Print each of ``lines`` as one line, every non-printable character escaped."""
    stream = sys.stderr if err else sys.stdout
    for line in lines:
        print(printable(line), file=stream)


def say(text: str, *, err: bool = False) -> None:
    """Print a message of one or more lines, every other non-printable character escaped."""
    print(printable(text, lines=True), file=sys.stderr if err else sys.stdout)


def say_json(value: Any) -> None:
    """Print ``value`` as one line of JSON (``json_text``)."""
    print(json_text(value))


class PrintableStream:
    """A text stream that writes what it is given with every non-printable character but the
    line feed escaped; everything else (``flush``, ``fileno``, ``isatty``, ``buffer``) is the
    wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.wrapped = stream

    def write(self, text: str) -> int:
        self.wrapped.write(printable(text, lines=True))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


@contextmanager
def printable_streams() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` as ``PrintableStream`` for the duration."""
    saved = sys.stdout, sys.stderr
    sys.stdout = PrintableStream(saved[0])
    sys.stderr = PrintableStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
