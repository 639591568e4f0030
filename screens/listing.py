"""A list screen for the small kinds of objects: groups and roles.

Help desks count groups and roles in tens or hundreds, so the store returns them whole and the
list is filtered here as you type (users, counted in thousands, are paged by the store
instead). What the two screens share lives here: loading with the actor's capabilities,
filtering, rebuilding the table while keeping the highlighted row, offering ``n`` and ``x``
only when the store would accept them, asking before a delete, and ``Esc`` leaving the filter
before the screen. Each screen supplies its layout, its columns and what its rows say.
"""

from __future__ import annotations

from typing import ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from screens.base import ConsoleScreen
from screens.confirm import ConfirmScreen
from screens.impact import ask_with_impact
from screens.text import literal
from screens.widgets import OpenTable
from store import Session
from store.impact import Touches


class Listed(Protocol):
    """What a listed object has: read-only, so frozen views (``GroupInfo``) qualify."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


ItemT = TypeVar("ItemT", bound=Listed)


class FilteredListScreen(ConsoleScreen, Generic[ItemT]):
    """Every object of one kind in a table, filtered as you type; Enter opens, n new, x delete."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("n", "new", "New"),
        Binding("x", "delete", "Delete"),
    ]
    NOUN: ClassVar[str]  # "group": in counts, notifications and questions
    COLUMNS: ClassVar[tuple[tuple[str, int], ...]]  # (label, width); they must fit 80 columns
    FILTER_ID: ClassVar[str] = ""
    STATUS_ID: ClassVar[str]
    CREATE_CAPABILITY: ClassVar[str]
    DELETE_CAPABILITY: ClassVar[str]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.items: list[ItemT] = []
        self.capabilities: frozenset[str] = frozenset()

    # -- what each screen says ------------------------------------------------------------

    def fetch(self, session: Session) -> list[ItemT]:
        """Every object the actor may list (runs in a worker)."""
        raise NotImplementedError

    def matches(self, item: ItemT, text: str) -> bool:
        """Whether ``item`` is shown for the lower-cased filter ``text``."""
        raise NotImplementedError

    def cells(self, item: ItemT) -> list[Text]:
        raise NotImplementedError

    def legend(self) -> str:
        """What the columns' marks mean, after the count in the status line."""
        return ""

    def open(self, item_id: int | None) -> None:
        """Open an object's form or editor (``None``: a new one)."""
        raise NotImplementedError

    def delete_question(self, item: ItemT) -> str:
        raise NotImplementedError

    def delete(self, session: Session, item: ItemT) -> object:
        """Delete through the store (runs in a worker; the store refuses with its message)."""
        raise NotImplementedError

    def delete_touches(self, item: ItemT) -> Touches | None:
        """What deleting ``item`` writes that can change what people may do, for the impact
        in its confirmation (issue 19); ``None``: nobody's permissions or chats can change."""
        return None

    # -- loading and the table ------------------------------------------------------------

    @property
    def table(self) -> OpenTable:
        return self.query_one(OpenTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one(f"#{self.FILTER_ID}", Input)

    def on_mount(self) -> None:
        for label, width in self.COLUMNS:
            self.table.add_column(label, width=width, key=label)
        self.table.focus()

    def on_screen_resume(self) -> None:
        """Load on first show and again on coming back from a form."""
        self.action_refresh()

    def action_refresh(self) -> None:
        session = self.session
        self.call_store(
            lambda: (self.fetch(session), session.permissions.capabilities()),
            lambda result: self._loaded(*result),
        )

    def _loaded(self, items: list[ItemT], capabilities: frozenset[str]) -> None:
        self.items = items
        self.capabilities = capabilities
        self._fill()
        self.refresh_bindings()

    def shown(self) -> list[ItemT]:
        text = self.filter_input.value.strip().lower()
        return [i for i in self.items if self.matches(i, text)] if text else self.items

    def _fill(self) -> None:
        table = self.table
        keep = self.highlighted()
        table.clear()
        shown = self.shown()
        for item in shown:
            table.add_row(*self.cells(item), key=str(item.id))
        if keep is not None and any(i.id == keep.id for i in shown):
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        total = len(self.items)
        nouns = f"{self.NOUN}s"
        status = f"{len(shown)} of {total} {nouns}" if len(shown) != total else f"{total} {nouns}"
        legend = self.legend()
        self.query_one(f"#{self.STATUS_ID}", Static).update(
            literal(f"{status} · {legend}" if legend else status)
        )

    def highlighted(self) -> ItemT | None:
        table = self.table
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # the cursor sits outside the rows while the table is rebuilt
            return None
        return next((i for i in self.items if str(i.id) == key), None)

    # -- keys -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new":
            return self.CREATE_CAPABILITY in self.capabilities
        if action == "delete":
            return self.DELETE_CAPABILITY in self.capabilities and self.highlighted() is not None
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        item = self.highlighted()
        if item is not None:
            self.open(item.id)

    def action_new(self) -> None:
        self.open(None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == self.FILTER_ID:
            self._fill()
            self.refresh_bindings()

    def action_delete(self) -> None:
        item = self.highlighted()
        if item is None:
            return
        session = self.session

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_store(
                    lambda: self.delete(session, item),
                    lambda _: self._deleted(item),
                    group="write",
                    exclusive=False,
                )

        touches = self.delete_touches(item)
        if touches is not None:
            ask_with_impact(
                self,
                self.delete_question(item),
                "Delete",
                touches,
                lambda: self.delete(session, item),
                lambda _: self._deleted(item),
                lambda message: self._store_failed(message, None),
            )
            return
        self.app.push_screen(ConfirmScreen(self.delete_question(item), "Delete"), answered)

    def _deleted(self, item: ItemT) -> None:
        self.notify(
            f"{self.NOUN.capitalize()} {item.name!r} deleted", title="Deleted", markup=False
        )
        self.action_refresh()
