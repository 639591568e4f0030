"""Text from the database (names, messages) for widgets: shown exactly as typed, never obeyed.

Names are typed by people with less privilege than the people who read them, so nothing in
them may act: no markup (``[/]`` crashed the parser, ``[@click=app.quit]`` runs an action), and
no control or invisible character (an ANSI escape, a bidi override, a zero-width space) reaches
the terminal. Every widget that shows stored text gets it through this module:

- ``printable`` (``store.printable``, shared with the command line's writer): every
  character Python does not call printable (C0/C1 controls, ESC, DEL, bidi overrides and
  isolates, zero-width and other format characters, line and paragraph separators, surrogates,
  unassigned code points, spaces other than the plain space) becomes its visible escape,
  ``\\x1b``, ``\\u202e``, as ``repr`` writes it. ``lines=True`` keeps ``\\n``.
- ``literal`` (Content) and ``cell`` (a Rich ``Text`` table cell): that text, never markup.
- ``markup``: our own fixed markup with the data as template variables (``$name``), which
  Textual inserts as text; interpolating names into a markup string is never safe (Textual's
  ``escape`` misses a trailing backslash and a trailing ``[``).
- ``safe``: a Rich ``Text``, a ``Content`` or a ``Group`` of them with their styles kept and
  their characters made printable (for bodies assembled from several pieces).

The shared pieces are safe by construction: ``screens.widgets``' tables and inputs, and
``ConfirmScreen``, ``InsightDetailScreen``, ``HelpScreen``, the app's ``notify`` and its header,
which take plain text. This module imports nothing the login screen does not already load.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Span as RichSpan
from rich.text import Text
from textual.content import Content
from textual.content import Span as ContentSpan

from store.printable import printable

REPLACEMENT = "\ufffd"


def _printable_with_offsets(text: str, lines: bool) -> tuple[str, list[int]]:
    """``printable(text)`` and, for each offset of ``text`` (and its end), the new offset."""
    pieces: list[str] = []
    offsets: list[int] = []
    position = 0
    for char in text:
        offsets.append(position)
        piece = "\n" if lines and char == "\n" else printable(char)
        pieces.append(piece)
        position += len(piece)
    offsets.append(position)
    return "".join(pieces), offsets


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def literal(text: object, style: str = "", *, lines: bool = False) -> Content:
    """Stored ``text`` as Content: printable, never read as markup."""
    return (
        Content.styled(printable(text, lines=lines), style)
        if style
        else Content(printable(text, lines=lines))
    )


def markup(template: str, **values: object) -> Content:
    """Our fixed markup ``template`` with ``$name`` replaced by each value, shown literally.

    ``markup("Logged in as [b]$name[/b]", name=username)``: the template is ours (never built
    from data); the values are made printable and inserted as text, whatever brackets they hold.
    """
    return Content.from_markup(template, **{k: printable(v) for k, v in values.items()})


def cell(text: object, width: int | None = None, style: str = "", **options: Any) -> Text:
    """A table cell: printable, cut to ``width`` (when given), never read as markup."""
    shown = printable(text)
    return Text(clip(shown, width) if width else shown, style=style, **options)


def fit(text: object, width: int) -> Text:
    """``cell`` cut to ``width``: the name the list screens use."""
    return cell(text, width)


def safe(renderable: RenderableType, *, lines: bool = True) -> RenderableType:
    """``renderable`` with every character of its text printable and its styles kept.

    A str is taken as plain text (a ``Text``, not markup); ``Text`` and ``Content`` keep their
    spans (moved to the escaped offsets); a ``Group`` is made safe piece by piece. Anything else
    (``Syntax``, a table) must be built from ``printable`` text by its caller.
    """
    if isinstance(renderable, str):
        return Text(printable(renderable, lines=lines))
    if isinstance(renderable, Text):
        plain, offsets = _printable_with_offsets(renderable.plain, lines)
        if plain == renderable.plain:
            return renderable
        copy = renderable.blank_copy(plain)
        copy.spans = [RichSpan(offsets[s.start], offsets[s.end], s.style) for s in renderable.spans]
        return copy
    if isinstance(renderable, Content):
        plain, offsets = _printable_with_offsets(renderable.plain, lines)
        if plain == renderable.plain:
            return renderable
        spans = [ContentSpan(offsets[s.start], offsets[s.end], s.style) for s in renderable.spans]
        return Content(plain, spans)
    if isinstance(renderable, Group):
        return Group(*(safe(part, lines=lines) for part in renderable.renderables))
    return renderable
