"""Small text and table helpers shared by the screens: names shown exactly as typed."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


def plain(text: str) -> str:
    """``text`` for a markup string, shown exactly as typed (names may hold ``[``)."""
    return text.replace("[", "\\[")


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def fit(text: str, width: int) -> Text:
    """``clip`` as a table cell that is never read as markup."""
    return Text(clip(text, width))


class OpenTable(DataTable[str]):
    """A row table whose Enter is shown in the footer as "Open"."""

    BINDINGS = [Binding("enter", "select_cursor", "Open")]
