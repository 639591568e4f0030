"""Widgets that may show stored names, safe by construction (see ``screens.text``)."""

from __future__ import annotations

from typing import Any

from rich.highlighter import Highlighter
from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Input

from screens.text import REPLACEMENT, printable, safe


def _safe_cell(value: object) -> object:
    if isinstance(value, str):
        return Text(printable(value))
    if isinstance(value, (Text, Content)):
        return safe(value, lines=False)
    return value


class SafeTable(DataTable[Any]):
    """A DataTable whose str cells and labels are text, not markup, and never hold controls.

    DataTable reads a str cell as Rich markup (``Text.from_markup``): a name holding ``[/]``
    raised while the table painted. Here every str becomes literal ``Text`` and every
    ``Text``/``Content`` is made printable, whoever fills the table.

    Vim keys move the cursor as in k9s and lazygit: ``j``/``k`` a row, ``g``/``G`` the first
    and last row. They are the table's, so they act only while it has focus (home's ``g``,
    Groups, is not a table's).
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "First row", show=False),
        Binding("G", "scroll_bottom", "Last row", show=False),
    ]

    def add_column(
        self,
        label: Any,
        *,
        width: int | None = None,
        key: str | None = None,
        default: Any = None,
    ) -> Any:
        return super().add_column(
            _safe_cell(label), width=width, key=key, default=_safe_cell(default)
        )

    def add_row(
        self,
        *cells: Any,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> Any:
        return super().add_row(
            *(_safe_cell(c) for c in cells),
            height=height,
            key=key,
            label=None if label is None else _safe_cell(label),
        )

    def update_cell(
        self, row_key: Any, column_key: Any, value: Any, *, update_width: bool = False
    ) -> None:
        super().update_cell(row_key, column_key, _safe_cell(value), update_width=update_width)

    def update_cell_at(self, coordinate: Any, value: Any, *, update_width: bool = False) -> None:
        super().update_cell_at(coordinate, _safe_cell(value), update_width=update_width)


class OpenTable(SafeTable):
    """A row table whose Enter is shown in the footer as "Open"."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]


class _VisibleControls(Highlighter):
    """Shows each non-printable character of an Input's value as U+FFFD (one for one, so the
    cursor and the selection stay where they are); the value itself is unchanged."""

    def __call__(self, text: str | Text) -> Text:
        text = Text(text) if isinstance(text, str) else text
        plain = text.plain
        if plain.isprintable():
            return text
        shown = "".join(char if char.isprintable() else REPLACEMENT for char in plain)
        copy = text.blank_copy(shown)
        copy.spans = list(text.spans)
        return copy

    def highlight(self, text: Text) -> None:  # pragma: no cover - __call__ does the work
        pass


VISIBLE_CONTROLS = _VisibleControls()


class TextInput(Input):
    """An Input that may hold a stored name: control characters show as U+FFFD, never raw."""

    def __init__(self, value: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("highlighter", VISIBLE_CONTROLS)
        super().__init__(value, **kwargs)
