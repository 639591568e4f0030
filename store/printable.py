"""Stored text made safe to show on a terminal: every character that would act is written out.

Names are typed by people with less privilege than the people who read them, and a terminal
obeys what it receives: ESC starts a sequence (colours, cursor moves, an OSC that retitles the
window or plants a link), BEL rings, C1 controls such as ``\\x9b`` (CSI) act on many terminals,
bidi overrides reorder the line, zero-width characters hide text. So every character Python does
not call printable (C0/C1 controls, ESC, DEL, bidi overrides and isolates, zero-width and other
format characters, line and paragraph separators, surrogates, unassigned code points, spaces
other than the plain space, and the characters that show as nothing: ``INVISIBLE``, variation
selectors) becomes its visible escape, ``\\x1b``, ``\\u202e``, as ``repr``
writes it.

Pure and dependency-free, so the console's screens (``screens.text``, which adds markup-safe
Rich/Textual wrappers) and the command line (``tui.command_line.output``, which loads no
Textual) share it.
"""

from __future__ import annotations

INVISIBLE = frozenset(
    "\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u2060\u2061\u2062"
    "\u2063\u2064\u2800\u3164\ufeff\uffa0"
)
"""Characters that show as nothing (zero-width space, joiners, word joiner, byte-order mark,
soft hyphen, Hangul fillers, the blank braille pattern...) though Python calls some of them
printable: written out here, refused in names (``store.validation``), where every other format
character (``Cf``) counts too."""


def _shown(char: str) -> bool:
    """Whether ``char`` may reach the terminal as itself."""
    code = ord(char)
    return (
        char.isprintable()
        and char not in INVISIBLE
        and not 0xFE00 <= code <= 0xFE0F  # variation selectors
        and not 0xE0100 <= code <= 0xE01EF
        and not 0x180B <= code <= 0x180F  # Mongolian selectors and vowel separator
    )


def escape_char(char: str) -> str:
    """One character as its Python escape (``\\x1b``, ``\\u202e``, ``\\U000e0001``)."""
    return char.encode("unicode_escape", "backslashreplace").decode("ascii")


def printable(text: object, *, lines: bool = False) -> str:
    """``text`` with every non-printable character written as its escape (``\\x1b``).

    ``lines``: keep line feeds (for messages of several lines); otherwise they show as ``\\n``,
    so a name cannot start a line of its own.
    """
    text = text if isinstance(text, str) else str(text)
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        char if _shown(char) or (lines and char == "\n") else escape_char(char) for char in text
    )
