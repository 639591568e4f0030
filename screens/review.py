"""Access review: the users the actor may edit, by last login, with what needs a look.

One keyset page at a time from ``session.review`` (filtering, flags and order are SQL there),
the counts per flag asked for after the page is shown. ``/`` filters by name, e-mail or id,
``s`` sorts by last login or username (``S`` reverses), ``f`` cycles the flag shown (all,
never, idle, locked, disabled, no-required), Enter opens the user's form, ``d`` disables (with
a confirmation) or enables the highlighted user through the users service.

The username is never cut: its column takes what the flags leave, and a name longer than that
wraps onto a second line of its row.

Bulk marking comes later: ``targets`` is the one place that says which users an action acts
on (today the highlighted one); marks plug in there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Footer, Input, Label, Static
from textual.widgets.data_table import CellDoesNotExist

from screens.base import ConsoleScreen
from screens.impact import ImpactConfirmScreen
from screens.text import markup, printable
from screens.user_form import UserFormScreen
from screens.widgets import OpenTable, TextInput
from store import Session
from store.impact import Impact, Touches
from store.review import FLAGS, ReviewPage, ReviewRow, ReviewSummary

PAGE_SIZE = 50
PREFETCH = 5  # fetch the next page when the cursor is this close to the last loaded row
IDLE_DAYS = 90
SORTS: tuple[tuple[str, str], ...] = (("last_login", "last login"), ("username", "username"))
FILTERS: tuple[str | None, ...] = (None, *FLAGS)  # ``f`` cycles through these
LAST_LOGIN_WIDTH = 10  # 2025-01-07, never
USERNAME_LEAST = 16  # below this the flags give way (cut with …)
CELL_PADDING = 2  # DataTable's cell padding on both sides


def flags_text(row: ReviewRow) -> str:
    return " ".join(row.flags)


def column_widths(usernames: list[str], flags: list[str], available: int) -> tuple[int, int]:
    """The widths of the username and flags columns in ``available`` cells.

    The flags get what their longest text needs (all five words fit in 80 columns with a name
    column of 31), the username the rest, at least ``USERNAME_LEAST``; a name longer than its
    column wraps onto more lines of its row instead of being cut. Flags cut with "…" only
    where even that is too wide (the detail line has them in full).
    """
    room = available - LAST_LOGIN_WIDTH - 3 * CELL_PADDING
    want_name = max([len("username"), *(len(name) for name in usernames)])
    want_flags = max([len("flags"), *(len(text) for text in flags)])
    name = max(USERNAME_LEAST, min(want_name, room - want_flags))
    return name, max(1, room - name)


class ReviewScreen(ConsoleScreen):
    """The access review: ``/`` filter, ``s`` sort, ``f`` flag, Enter opens, ``d`` disables."""

    CSS_PATH = "review.tcss"
    FILTER_ID = "review-filter"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse sort", show=False),
        Binding("f", "flag", "Flag"),
        Binding("d", "disable", "Disable"),
        Binding("d", "enable", "Enable"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.capabilities: frozenset[str] = frozenset()
        self.rows: dict[int, ReviewRow] = {}
        self.summary: ReviewSummary | None = None  # None until counted (after the page)
        self.sort_index = 0
        self.descending = False
        self.filter_index = 0
        self._next_after: tuple[Any, int] | None = None
        self._generation = 0  # results of superseded loads are dropped
        self._loading_more = False
        self._widths: tuple[int, int] = (0, 0)

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with Horizontal(id="review-filter-bar"):
            yield Label("Filter", id="review-filter-label")
            yield TextInput(
                placeholder="username, name, e-mail or id  (/ to focus)",
                id="review-filter",
                compact=True,
            )
        yield OpenTable(id="review-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="review-detail")
        yield Static("Loading…", id="review-status")
        yield from self.compose_footer()

    def compose_footer(self) -> ComposeResult:
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.table.focus()
        self._layout()
        self._reload(with_capabilities=True)

    def on_resize(self) -> None:
        self._layout()

    @property
    def table(self) -> OpenTable:
        return self.query_one("#review-table", OpenTable)

    @property
    def filter_text(self) -> str:
        return self.query_one("#review-filter", Input).value.strip()

    @property
    def only(self) -> str | None:
        return FILTERS[self.filter_index]

    # -- the table: the username never cut ------------------------------------------------

    def _layout(self) -> None:
        """Fit the columns to the width now; rebuild the rows when the widths change."""
        table = self.table
        available = max(1, (table.size.width or self.app.size.width) - 1)  # the scrollbar
        rows = list(self.rows.values())
        widths = column_widths(
            [printable(r.username) for r in rows], [flags_text(r) for r in rows], available
        )
        if widths == self._widths:
            return
        self._widths = widths
        keep = self.highlighted_row()
        table.clear(columns=True)
        table.add_column("username", width=widths[0], key="username")
        table.add_column("last login", width=LAST_LOGIN_WIDTH, key="last_login")
        table.add_column("flags", width=widths[1], key="flags")
        for row in rows:
            self._add(row)
        if keep is not None and keep.id in self.rows:
            table.move_cursor(row=table.get_row_index(str(keep.id)))

    def _add(self, row: ReviewRow) -> None:
        name = printable(row.username)
        wraps = len(name) > self._widths[0]
        self.table.add_row(
            Text(name, no_wrap=not wraps, overflow="fold"),
            Text(row.last_login_text, no_wrap=True),
            Text(flags_text(row), no_wrap=True, overflow="ellipsis"),
            key=str(row.id),
            height=None if wraps else 1,
        )

    # -- loading -------------------------------------------------------------------------

    def _reload(self, *, with_capabilities: bool = False) -> None:
        """Fetch the first page for the current filter, flag and sort."""
        self._generation += 1
        generation = self._generation
        self._loading_more = False
        session = self.session
        query = self._query()

        def call() -> tuple[frozenset[str] | None, ReviewPage]:
            capabilities = session.permissions.capabilities() if with_capabilities else None
            return capabilities, session.review.page(**query)

        self.call_store(
            call,
            lambda result: self._first_page(generation, *result),
            failed=lambda message: self._load_failed(generation, message),
            group="review-load",
        )

    def _query(self) -> dict[str, Any]:
        return {
            "idle_days": IDLE_DAYS,
            "only": self.only,
            "text": self.filter_text,
            "sort": SORTS[self.sort_index][0],
            "descending": self.descending,
            "limit": PAGE_SIZE,
        }

    def _first_page(
        self, generation: int, capabilities: frozenset[str] | None, page: ReviewPage
    ) -> None:
        if generation != self._generation:
            return
        if capabilities is not None:
            self.capabilities = capabilities
        keep = self.highlighted_row()
        self.table.clear()
        self.rows = {}
        self.summary = None
        self._append(page)
        if keep is not None and keep.id in self.rows:
            self.table.move_cursor(row=self.table.get_row_index(str(keep.id)))
        self._show_detail()
        self.refresh_bindings()
        self.call_after_refresh(self._count, generation)  # the rows never wait for it

    def _append(self, page: ReviewPage) -> None:
        for row in page.rows:
            if row.id not in self.rows:  # a user changed meanwhile can reappear; once
                self.rows[row.id] = row
                self._add(row)
        self._layout()  # a longer name on this page widens its column
        self._next_after = page.next_after
        self._show_status()

    def _count(self, generation: int) -> None:
        """The counts per flag, after the page is on screen: they visit every editable user."""
        session, text = self.session, self.filter_text

        def done(summary: ReviewSummary) -> None:
            if generation == self._generation:
                self.summary = summary
                self._show_status()

        def failed(message: str) -> None:
            if generation == self._generation:
                self._show_status(counting=f"not counted: {message}")

        self.call_store(
            lambda: session.review.summary(idle_days=IDLE_DAYS, text=text),
            done,
            failed=failed,
            group="review-count",
        )

    def _load_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self._loading_more = False
            self.query_one("#review-status", Static).update(
                markup("[b red]Not loaded:[/] $message", message=message)
            )
            self.notify(message, title="Not done", severity="error", timeout=8)

    def _maybe_more(self) -> None:
        """Fetch the next page when the cursor nears the end of what is loaded."""
        table = self.table
        if self._next_after is None or self._loading_more:
            return
        if table.cursor_row < table.row_count - PREFETCH:
            return
        self._loading_more = True
        generation, session = self._generation, self.session
        query = {**self._query(), "after": self._next_after}

        def done(page: ReviewPage) -> None:
            if generation == self._generation:
                self._loading_more = False
                self._append(page)

        self.call_store(
            lambda: session.review.page(**query),
            done,
            failed=lambda message: self._load_failed(generation, message),
            group="review-more",
        )

    def _show_status(self, counting: str = "counting…") -> None:
        """Two lines: the counts per flag (the one shown in bold); the sort, flag and filter."""
        summary = self.summary
        if summary is None:
            counts = markup(
                "[b]$n[/b] shown [dim]($counting)[/dim]", n=len(self.rows), counting=counting
            )
        else:
            parts = [markup("[b]$n[/b] users", n=f"{summary.total:,}")]
            for flag, n in summary.counts.items():
                template = "[b reverse]$flag $n[/]" if flag == self.only else "$flag $n"
                parts.append(markup(template, flag=flag, n=f"{n:,}"))
            counts = Content(" · ").join(parts)
        arrow = "↓" if self.descending else "↑"
        view = [
            markup("sort: $label $arrow", label=SORTS[self.sort_index][1], arrow=arrow),
            markup("showing: [b]$flag[/b]", flag=self.only or "all"),
            markup("idle: no login for $days days", days=IDLE_DAYS),
        ]
        if self.filter_text:
            view.append(markup("filter: $text", text=self.filter_text))
        status = self.query_one("#review-status", Static)
        status.update(Content("\n").join([counts, Content(" · ").join(view)]))

    # -- the highlighted row ---------------------------------------------------------------

    def highlighted_row(self) -> ReviewRow | None:
        table = self.table
        if not self.rows or table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except CellDoesNotExist:  # the cursor is past the rows (table just cleared)
            return None
        return self.rows.get(int(key.value)) if key.value is not None else None

    def targets(self) -> list[ReviewRow]:
        """The users an action acts on: the highlighted one. Bulk marking (issue 19, point 1)
        plugs in here: with marks, the marked users; each action already takes a list."""
        row = self.highlighted_row()
        return [row] if row is not None else []

    def _show_detail(self) -> None:
        row = self.highlighted_row()
        detail = self.query_one("#review-detail", Static)
        if row is None:
            detail.update("")
            return
        last = "never logged in" if row.last_login <= 0 else f"last login {row.last_login_text}"
        detail.update(
            markup(
                "[b]$username[/b] · #$id · $last\n[dim]flags:[/dim] $flags",
                username=row.username,
                id=row.id,
                last=last,
                flags=", ".join(row.flags) or "none",
            )
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer disable/enable only where the store would accept them."""
        if action in ("disable", "enable"):
            rows = self.targets() if self.is_mounted else []
            if not rows or "users.edit" not in self.capabilities:
                return False
            if any(row.id == self.session.actor_id for row in rows):
                return False  # nobody disables or enables their own account
            disabling = action == "disable"
            return all(row.disabled != disabling for row in rows)  # not already so
        return True

    @on(DataTable.RowHighlighted, "#review-table")
    def _highlighted(self) -> None:
        self.refresh_bindings()
        self._show_detail()
        self._maybe_more()

    @on(DataTable.RowSelected, "#review-table")
    def _selected(self) -> None:
        row = self.highlighted_row()
        if row is not None:
            self.app.push_screen(UserFormScreen(self.session, row.id), self._form_closed)

    def _form_closed(self, result: object) -> None:
        if result:
            self._reload()

    # -- filter, sort, flag ----------------------------------------------------------------

    @on(Input.Changed, "#review-filter")
    def _filter_changed(self) -> None:
        self._filter_soon()

    @work(exclusive=True, group="review-filter")
    async def _filter_soon(self) -> None:
        """Each keystroke replaces a query not yet started; stale answers are dropped."""
        await asyncio.sleep(0)
        self._reload()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self._reload()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self._reload()

    def action_flag(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self._reload()

    def action_refresh(self) -> None:
        self._reload(with_capabilities=True)

    # -- disable and enable ----------------------------------------------------------------

    def action_disable(self) -> None:
        rows = self.targets()
        if not rows:
            return
        names = ", ".join(repr(row.username) for row in rows)
        question = (
            f"Disable user {names}?\nThey can no longer log in; their department "
            "assignments are parked until the account is enabled again."
        )

        self._ask(rows, question, "Disable", disabled=True)

    def action_enable(self) -> None:
        """Enabling (which also unlocks) gives chats and permissions back: asked with its
        impact, like disabling (issue 19: every change of what people may do shows it)."""
        rows = self.targets()
        if not rows:
            return
        names = ", ".join(repr(row.username) for row in rows)
        question = (
            f"Enable user {names}?\nThey can log in again; their department assignments come back."
        )
        self._ask(rows, question, "Enable", disabled=False)

    def _ask(self, rows: list[ReviewRow], question: str, label: str, *, disabled: bool) -> None:
        session = self.session
        ids = [row.id for row in rows]

        def preview() -> Impact:
            def change() -> None:
                for user_id in ids:
                    session.users.set_disabled(user_id, disabled)

            return session.impact.preview(Touches.of(users=ids), change)

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._set_disabled(rows, disabled)

        self.app.push_screen(ImpactConfirmScreen(question, label, preview), confirmed)

    def _set_disabled(self, rows: list[ReviewRow], disabled: bool) -> None:
        """Through the users service, one user at a time (each its own transaction and audit
        row, as on the users screen); bulk changes will bring their own all-or-nothing call."""
        session = self.session

        def call() -> None:
            for row in rows:
                session.users.set_disabled(row.id, disabled)

        def done(_: object) -> None:
            verb = "Disabled" if disabled else "Enabled"
            names = ", ".join(repr(row.username) for row in rows)
            self.notify(f"{verb} user {names}", title="Done")
            self._reload()

        self.call_store(call, done, group="review-write", exclusive=False)
