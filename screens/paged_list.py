"""A list screen paged from the database: the users list, the access review, a roster.

Users are counted in thousands (100,000 on a large install), so these lists never hold a whole
table: the store returns keyset pages (a page's rows and ``next_after``, where the next page
starts), and the screen asks for the next page only when the cursor comes within ``PREFETCH``
rows of the end of what is loaded (``screens.listing`` is for the small kinds, loaded whole).
What the lists share lives here:

- the frame: a filter bar, the table (a ``SafeTable``: stored names are painted as text), a
  detail line and a status line, with the ids ``{PREFIX}-filter``, ``-table``, ``-detail`` and
  ``-status``; ``/``, Enter and Esc in the filter behave as on every screen (``ConsoleScreen``);
- loading: a reload fetches the first page for the query as it is now (``page_query``); every
  answer but the newest is dropped (a generation count), the highlighted row stays highlighted
  when it is still there, and what must visit every matching row (a total, counts per flag:
  ``count_call``) is asked for only after the page is painted, so the rows never wait for it;
- the filter queries at each keystroke (``FILTER_DELAY``), a keystroke replacing a query not
  yet started;
- sorting (``SORTS``; ``s`` cycles, ``S`` reverses, where a screen binds them);
- columns fitted to the table's width (``columns``), rebuilt only when their widths change.

A screen says how to fetch a page (``fetch``), which columns fit, what a row's cells, the
detail line and the status line say, and what its keys do. It defines no ``on_mount``,
``on_resize`` or row-highlighted handler of its own: Textual would run those as well as these.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static
from textual.widgets.data_table import CellDoesNotExist

from screens.base import ConsoleScreen
from screens.text import markup
from screens.widgets import OpenTable, SafeTable, TextInput
from store import Session

PREFETCH = 5  # fetch the next page when the cursor is this close to the last loaded row
FILTER_DELAY = 0.0
"""No typing pause: a page query takes a few ms even at 100,000 users, and every answer but the
newest is dropped, so each keystroke can query at once. Keystrokes arriving in the same
event-loop turn (a paste) still make one query."""

Column = tuple[str, str, int]
"""A table column: its key, its label and its width in cells."""


class Paged(Protocol):
    """A page from the store: where the next one starts (None after the last)."""

    @property
    def next_after(self) -> Any: ...


RowT = TypeVar("RowT")
PageT = TypeVar("PageT", bound=Paged)


class PagedListScreen(ConsoleScreen, Generic[RowT, PageT]):
    """Rows of one kind (``RowT``) paged from the store (``PageT``), filtered and sorted there."""

    PREFIX: ClassVar[str]
    """The widgets' ids start with it: ``users`` gives ``users-table``, ``users-filter``…"""
    FILTER_PLACEHOLDER: ClassVar[str] = "username, name, e-mail or id  (/ to focus)"
    TABLE: ClassVar[type[SafeTable]] = OpenTable
    SORTS: ClassVar[tuple[tuple[str, str], ...]] = ()
    """(sort key the store takes, its name in the status line); the first is the default."""
    CAPABILITIES: ClassVar[bool] = True
    """Load the actor's capabilities with the first page (to offer only what the store takes)."""
    NOT_LOADED_TITLE: ClassVar[str] = "Not done"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "PREFIX" in cls.__dict__:
            cls.FILTER_ID = f"{cls.PREFIX}-filter"

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.capabilities: frozenset[str] = frozenset()
        self.rows: dict[int, RowT] = {}  # the loaded rows, by id, in the table's order
        self.loaded = False  # a first page has been shown
        self.sort_index = 0
        self.descending = False
        self._query: dict[str, Any] = {}  # what the pages of this generation are fetched with
        self._next_after: Any = None
        self._generation = 0  # results of superseded loads are dropped
        self._loading_more = False
        self._columns: tuple[Column, ...] = ()

    # -- what each screen says ---------------------------------------------------------------

    def fetch(self, query: dict[str, Any], after: Any) -> PageT:
        """The page of ``query`` after ``after`` (None: the first) from the store (in a worker:
        everything it needs is passed in or is the session)."""
        raise NotImplementedError

    def page_query(self) -> dict[str, Any]:
        """What the pages depend on, read now: the filter text, and the sort where there is one."""
        query: dict[str, Any] = {"text": self.filter_text}
        if self.SORTS:
            query.update(sort=self.sort_key, descending=self.descending)
        return query

    def page_rows(self, page: PageT) -> Iterable[RowT]:
        return page.rows  # type: ignore[attr-defined]

    def row_id(self, row: RowT) -> int:
        return row.id  # type: ignore[attr-defined]

    def columns(self, available: int) -> Sequence[Column]:
        """The columns that fit ``available`` cells, for the rows loaded now."""
        raise NotImplementedError

    def cells(self, row: RowT) -> Sequence[Any]:
        """A row's cells, one per column shown (``shown_columns``)."""
        raise NotImplementedError

    def row_height(self, row: RowT) -> int | None:
        """A row's height in lines (None: as high as its cells need)."""
        return 1

    def show_detail(self) -> None:
        """Fill the detail line for the highlighted row (``highlighted_row``)."""

    def show_status(self, counting: str = "counting…") -> None:
        """Fill the status line; ``counting`` says where the counts are while they are missing."""

    def page_shown(self, page: PageT) -> None:
        """A page's rows are in the table (before the status line is filled)."""

    def forget_counts(self) -> None:
        """A new first page: the counts of the last query no longer hold."""

    def count_call(self, query: dict[str, Any]) -> Callable[[], Any] | None:
        """The store call that counts what ``query`` matches (in a worker), or None if there is
        nothing to count. Asked after the first page is painted; ``counted`` gets its answer."""
        return None

    def counted(self, result: Any) -> None:
        """The answer of ``count_call`` for the rows shown (before the status line is filled)."""

    def action_open(self) -> None:
        """Enter on a row."""

    def open_form(self, form: Screen[Any], *, with_capabilities: bool = False) -> None:
        """Open ``form`` (a user's form) over the list; reload the pages when it saved."""

        def closed(saved: object) -> None:
            if saved:
                self._reload(with_capabilities=with_capabilities)

        self.app.push_screen(form, closed)

    # -- the frame -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield from self.compose_list()
        yield from self.compose_footer()

    def compose_list(self) -> ComposeResult:
        """The filter bar, the table, the detail line and the status line."""
        prefix = self.PREFIX
        with Horizontal(id=f"{prefix}-filter-bar"):
            yield Label("Filter", id=f"{prefix}-filter-label")
            yield TextInput(placeholder=self.FILTER_PLACEHOLDER, id=self.FILTER_ID, compact=True)
        yield self.TABLE(id=f"{prefix}-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id=f"{prefix}-detail")
        yield Static("Loading…", id=f"{prefix}-status")

    def compose_footer(self) -> ComposeResult:
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._fit_columns()
        self.table.focus()
        self._reload(with_capabilities=self.CAPABILITIES)

    def on_resize(self) -> None:
        self._fit_columns()

    @property
    def table(self) -> SafeTable:
        return self.query_one(f"#{self.PREFIX}-table", SafeTable)

    @property
    def detail(self) -> Static:
        return self.query_one(f"#{self.PREFIX}-detail", Static)

    @property
    def status(self) -> Static:
        return self.query_one(f"#{self.PREFIX}-status", Static)

    @property
    def filter_text(self) -> str:
        return self.query_one(f"#{self.FILTER_ID}", Input).value.strip()

    def status_line(self, parts: Sequence[Content], extras: Sequence[Content] = ()) -> None:
        """One status line: ``parts`` joined by " · ", then as many of ``extras`` (in order) as
        fit; what still does not fit ends in "…", never cut mid-word by a wrap."""
        status = self.status
        status.styles.text_wrap = "nowrap"
        status.styles.text_overflow = "ellipsis"
        width = (status.content_region.width or self.app.size.width - 2) - 1
        for kept in range(len(extras), -1, -1):
            line = Content(" · ").join([*parts, *extras[:kept]])
            if line.cell_length <= width:
                break
        status.update(line)

    # -- columns -------------------------------------------------------------------------

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns on screen, in order."""
        return [key for key, _, _ in self._columns]

    def column_width(self, key: str) -> int:
        return next(width for column, _, width in self._columns if column == key)

    def _fit_columns(self) -> None:
        """Show the columns that fit the table's width now; rebuild the rows when they change."""
        table = self.table
        available = max(1, (table.size.width or self.app.size.width) - 1)  # the scrollbar
        columns = tuple(self.columns(available))
        if columns == self._columns:
            return
        self._columns = columns
        keep = self.highlighted_row()
        table.clear(columns=True)
        for key, label, width in columns:
            table.add_column(label, width=width, key=key)
        for row in self.rows.values():
            self._add_row(row)
        self._highlight(keep)

    def _add_row(self, row: RowT) -> None:
        self.table.add_row(*self.cells(row), key=str(self.row_id(row)), height=self.row_height(row))

    # -- loading -------------------------------------------------------------------------

    @property
    def sort_key(self) -> str:
        return self.SORTS[self.sort_index][0]

    @property
    def sort_label(self) -> str:
        return self.SORTS[self.sort_index][1]

    def _reload(self, *, with_capabilities: bool = False) -> None:
        """Fetch the first page for the query as it is now (and the capabilities)."""
        self._generation += 1
        generation = self._generation
        self._loading_more = False
        session, fetch = self.session, self.fetch
        query = self._query = self.page_query()

        def call() -> tuple[frozenset[str] | None, PageT]:
            capabilities = session.permissions.capabilities() if with_capabilities else None
            return capabilities, fetch(query, None)

        self.call_store(
            call,
            lambda result: self._first_page(generation, *result),
            failed=lambda message: self._load_failed(generation, message),
            group=f"{self.PREFIX}-load",
        )

    def _first_page(
        self, generation: int, capabilities: frozenset[str] | None, page: PageT
    ) -> None:
        if generation != self._generation:
            return
        if capabilities is not None:
            self.capabilities = capabilities
        keep = self.highlighted_row()
        self.table.clear()
        self.rows = {}
        self.forget_counts()
        self._append(page)
        self.loaded = True
        self._highlight(keep)
        self.show_detail()
        self.refresh_bindings()
        self.call_after_refresh(self._count, generation)  # the rows never wait for the counts

    def _append(self, page: PageT) -> None:
        for row in self.page_rows(page):
            row_id = self.row_id(row)
            if row_id in self.rows:  # a row changed meanwhile can reappear; show it once
                continue
            self.rows[row_id] = row
            self._add_row(row)
        self._next_after = page.next_after
        self._fit_columns()  # a longer name on this page widens its column
        self.page_shown(page)
        self.show_status()

    def _count(self, generation: int) -> None:
        """Ask for the counts after the page is on screen: they are the slow part at scale."""
        if generation != self._generation:
            return
        call = self.count_call(self._query)
        if call is None:
            return

        def done(result: Any) -> None:
            if generation == self._generation:
                self.counted(result)
                self.show_status()

        def failed(message: str) -> None:  # the rows are there; say only what is missing
            if generation == self._generation:
                self.show_status(counting=f"not counted: {message}")

        self.call_store(call, done, failed=failed, group=f"{self.PREFIX}-count")

    def _load_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._loading_more = False
        self.status.update(markup("[b red]Not loaded:[/] $message", message=message))
        self.notify(message, title=self.NOT_LOADED_TITLE, severity="error", timeout=8)

    def _maybe_more(self) -> None:
        """Fetch the next page when the cursor nears the end of what is loaded."""
        table = self.table
        if self._next_after is None or self._loading_more:
            return
        if table.cursor_row < table.row_count - PREFETCH:
            return
        self._loading_more = True
        generation, query, after = self._generation, self._query, self._next_after
        fetch = self.fetch

        def done(page: PageT) -> None:
            if generation == self._generation:
                self._loading_more = False
                self._append(page)

        self.call_store(
            lambda: fetch(query, after),
            done,
            failed=lambda message: self._load_failed(generation, message),
            group=f"{self.PREFIX}-more",
        )

    # -- the highlighted row -------------------------------------------------------------

    def highlighted_row(self) -> RowT | None:
        table = self.table
        if not self.rows or table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except CellDoesNotExist:  # the cursor is past the rows (table just cleared)
            return None
        return self.rows.get(int(key.value)) if key.value is not None else None

    def _highlight(self, row: RowT | None) -> None:
        """Put the cursor back on ``row`` if it is still loaded."""
        if row is not None and self.row_id(row) in self.rows:
            self.table.move_cursor(row=self.table.get_row_index(str(self.row_id(row))))

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == f"{self.PREFIX}-table":
            self.refresh_bindings()
            self.show_detail()
            self._maybe_more()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == f"{self.PREFIX}-table":
            self.action_open()

    # -- filter and sort -----------------------------------------------------------------

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.input.id == self.FILTER_ID:
            self._filter_soon()

    @work(exclusive=True, group="paged-list-filter")
    async def _filter_soon(self) -> None:
        """Each keystroke replaces a query not yet started (``exclusive``), then queries."""
        await asyncio.sleep(FILTER_DELAY)
        self._reload()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(self.SORTS)
        self._reload()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self._reload()

    def action_refresh(self) -> None:
        self._reload(with_capabilities=self.CAPABILITIES)
