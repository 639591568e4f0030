"""Widgets that may show stored names, safe by construction (see ``screens.text``)."""

from __future__ import annotations

from typing import Any

from rich.highlighter import Highlighter
from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.strip import Strip
from textual.widgets import DataTable, Input, RadioButton, SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist

from screens.text import REPLACEMENT, printable, safe


def _safe_cell(value: Any) -> Any:
    """A cell, label or default as given (anything DataTable renders), its text made safe."""
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


# -- checkboxes that read without colour --------------------------------------------------
#
# Textual draws every toggle as ``▐X▌`` whether it is on or off; only the colour tells them
# apart, which a monochrome or low-contrast SSH client does not show. Here on and off differ in
# the glyph itself: ``[x]``/``[ ]`` for checkboxes and selection lists, ``(•)``/``( )`` for
# radio buttons. Set once, on import (every screen imports this module), so every screen's
# checkboxes read the same; the glyphs keep Textual's width of three cells.

CHECKED, UNCHECKED = "[x]", "[ ]"
RADIO_ON, RADIO_OFF = "(•)", "( )"


def _toggle_glyph(button: ToggleButton) -> str:
    if isinstance(button, RadioButton):
        return RADIO_ON if button.value else RADIO_OFF
    return CHECKED if button.value else UNCHECKED


def _readable_button(self: ToggleButton) -> Content:
    """The button of a Checkbox or RadioButton: its glyph says on or off, colour only helps."""
    style = self.get_visual_style("toggle--button")
    return Content.styled(_toggle_glyph(self), style)


_selection_line = SelectionList.render_line


def _readable_selection_line(self: SelectionList[Any], y: int) -> Strip:
    """A SelectionList line whose ``▐X▌`` says ``[x]`` or ``[ ]`` (same three cells)."""
    strip = _selection_line(self, y)
    try:
        selection = self.get_option_at_index(self.scroll_offset.y + y)
    except OptionDoesNotExist:
        return strip
    segments = list(strip)
    if len(segments) < 3:
        return strip
    glyph = CHECKED if selection.value in self._selected else UNCHECKED
    style = segments[1].style  # the inner cell: the button's colours and its click target
    head = [Segment(char, style) for char in glyph]
    return Strip([*head, *segments[3:]], strip.cell_length)


ToggleButton._button = property(_readable_button)  # type: ignore[assignment,method-assign]
SelectionList.render_line = _readable_selection_line  # type: ignore[method-assign]
