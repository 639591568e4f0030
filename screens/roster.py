"""A department's or a department group's roster: who is in it, how, and what you may do.

Opened with Enter on the Departments screen. One row per person the store lets the actor see
(``session.rosters``: visible users, and only the ways SPEC §3.2 rule 7 lets them be told of),
paged by user id as the cursor nears the end; the status line says how many people are hidden
from the actor, never who. Enter (or ``e``) opens a person's user form, read-only where the
actor may not edit them, as on the users screen; ``u`` removes the department (a direct
assignment) or the department group from the highlighted person, after a question, where the
store would accept it (``RosterWay.removable``; it checks again). ``/`` filters in the store.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import DataTable, Footer, Input, Label, Static
from textual.widgets.data_table import CellDoesNotExist

from screens.base import ConsoleScreen
from screens.confirm import ConfirmScreen
from screens.text import cell, literal, markup
from screens.user_form import UserFormScreen
from screens.widgets import SafeTable, TextInput
from store import Session
from store.rosters import THROUGH_GROUP, Roster, RosterPerson, RosterWay
from store.views import Ref

PAGE_SIZE = 100
PREFETCH = 5  # fetch the next page when the cursor is this close to the last loaded row
KEY_WIDTH = 24
"""Usernames up to this many characters are never cut at 80 columns; the detail line under the
table shows a longer one in full."""
FIXED = (("id", 6), ("ro", 2), ("auto", 4), ("max", 3), ("off", 3))
"""The narrow columns after "how", with their widths; "how" takes what is left."""
CELL_PADDING = 2


def how(person: RosterPerson) -> str:
    """``group 'Departments US' (#2); direct, read-only``: every way shown, in full."""
    return "; ".join(way.label() for way in person.ways)


def short_how(person: RosterPerson) -> str:
    """The ways for the table's "how" cell: ``grp Departments US``, ``direct``, ``all``."""
    parts = []
    for way in person.ways:
        if way.kind == THROUGH_GROUP and way.department_group is not None:
            parts.append(f"grp {way.department_group.name}")
        else:
            parts.append("all" if way.kind == "all" else "direct")
    return ", ".join(parts)


def detail_line(person: RosterPerson) -> Content:
    """The highlighted person in full: who, how they are in it, LHC's values, what you may do."""
    may = ", ".join(person.actions) if person.actions else "nothing (read-only for you)"
    return markup(
        "[b]$username[/b] $full_name· #$id$state · you may: $may\n"
        "[dim]how:[/dim] $how\n"
        "[dim]max chats:[/dim] $max · [dim]auto-assignment:[/dim] $auto",
        username=person.username,
        full_name=f"{person.full_name} " if person.full_name else "",
        id=person.user_id,
        state=" · disabled" if person.disabled else "",
        may=may,
        how=how(person) or "—",
        max=person.max_chats,
        auto="excluded" if person.exclude_autoassign else "yes",
    )


class RosterScreen(ConsoleScreen):
    """People of one department (``department``) or department group (``department_group``)."""

    CSS_PATH = "roster.tcss"
    FILTER_ID = "roster-filter"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("e", "open", "Open", show=False),  # Enter opens too
        Binding("u", "unassign", "Unassign"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def __init__(
        self,
        session: Session,
        *,
        department: Ref | None = None,
        department_group: Ref | None = None,
    ) -> None:
        super().__init__(session)
        if (department is None) == (department_group is None):
            raise ValueError("a roster is of one department or one department group")
        self.department = department
        self.department_group = department_group
        self.roster: Roster | None = None
        self.people: dict[int, RosterPerson] = {}
        self._next_after: int | None = None
        self._generation = 0  # results of superseded loads are dropped
        self._loading_more = False
        self._layout: tuple[tuple[str, int], ...] = ()

    @property
    def subject(self) -> Ref:
        subject = self.department or self.department_group
        assert subject is not None
        return subject

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static("", id="roster-title")
        with Horizontal(id="roster-filter-bar"):
            yield Label("Filter", id="roster-filter-label")
            yield TextInput(
                placeholder="username, name, e-mail or id  (/ to focus)",
                id="roster-filter",
                compact=True,
            )
        yield SafeTable(id="roster-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="roster-detail")
        yield Static("Loading…", id="roster-status")
        yield from self.compose_footer()

    def compose_footer(self) -> ComposeResult:
        yield Footer(compact=True)

    def on_mount(self) -> None:
        what = "department" if self.department is not None else "department group"
        self.query_one("#roster-title", Static).update(
            markup(
                "Roster of $what [b]$name[/b] (#$id)",
                what=what,
                name=self.subject.name,
                id=self.subject.id,
            )
        )
        self._fit_columns()
        self.query_one("#roster-table", DataTable).focus()
        self._reload()

    def on_resize(self) -> None:
        self._fit_columns()

    # -- columns: the username is never cut at 80 columns; "how" takes the rest ------------

    def _fit_columns(self) -> None:
        table = self.query_one("#roster-table", DataTable)
        width = max(1, (table.size.width or self.app.size.width) - 1)  # the scrollbar
        longest = max((len(p.username) for p in self.people.values()), default=8)
        user = max(8, min(KEY_WIDTH, longest))
        fixed = sum(w + CELL_PADDING for _, w in FIXED)
        left = width - fixed - (user + CELL_PADDING) - CELL_PADDING
        layout = (("username", user), ("how", max(6, left)), *FIXED)
        if layout == self._layout:
            return
        self._layout = layout
        keep = self.highlighted_person()
        table.clear(columns=True)
        for key, column_width in layout:
            table.add_column(key, width=column_width, key=key)
        for person in self.people.values():
            table.add_row(*self._cells(person), key=str(person.user_id))
        if keep is not None and keep.user_id in self.people:
            table.move_cursor(row=table.get_row_index(str(keep.user_id)))

    def _cells(self, person: RosterPerson) -> list[Text]:
        values = {
            "username": person.username,
            "how": short_how(person),
            "id": str(person.user_id),
            "ro": "ro" if person.read_only else "",
            "auto": "no" if person.exclude_autoassign else "yes",
            "max": str(person.max_chats),
            "off": "off" if person.disabled else "",
        }
        style = "" if person.actions else "dim"
        return [cell(values[key], width, style=style, no_wrap=True) for key, width in self._layout]

    # -- loading -------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        return self.query_one("#roster-filter", Input).value.strip()

    def _fetch(self, text: str, after: int | None) -> Roster:
        """One page from the store (runs in a worker: everything it needs is passed in)."""
        rosters = self.session.rosters
        if self.department is not None:
            department_id = self.department.id
            return rosters.department(department_id, text=text, after=after, limit=PAGE_SIZE)
        group_id = self.subject.id
        return rosters.department_group(group_id, text=text, after=after, limit=PAGE_SIZE)

    def _reload(self) -> None:
        """Fetch the first page for the current filter; answers of older loads are dropped."""
        self._generation += 1
        generation, text, fetch = self._generation, self.filter_text, self._fetch
        self._loading_more = False
        self.call_store(
            lambda: fetch(text, None),
            lambda roster: self._first_page(generation, roster),
            failed=lambda message: self._load_failed(generation, message),
            group="roster-load",
        )

    def _first_page(self, generation: int, roster: Roster) -> None:
        if generation != self._generation:
            return
        keep = self.highlighted_person()
        self.query_one("#roster-table", DataTable).clear()
        self.people = {}
        self._append(roster)
        table = self.query_one("#roster-table", DataTable)
        if keep is not None and keep.user_id in self.people:
            table.move_cursor(row=table.get_row_index(str(keep.user_id)))
        self._show_detail()
        self.refresh_bindings()

    def _append(self, roster: Roster) -> None:
        self.roster = roster
        table = self.query_one("#roster-table", DataTable)
        for person in roster.people:
            if person.user_id in self.people:
                continue
            self.people[person.user_id] = person
            table.add_row(*self._cells(person), key=str(person.user_id))
        self._next_after = roster.next_after
        self._fit_columns()
        self._show_status()

    def _load_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._loading_more = False
        self.query_one("#roster-status", Static).update(
            markup("[b red]Not loaded:[/] $message", message=message)
        )
        self.notify(message, title="Not shown", severity="error", timeout=8)

    def _maybe_more(self) -> None:
        table = self.query_one("#roster-table", DataTable)
        if self._next_after is None or self._loading_more:
            return
        if table.cursor_row < table.row_count - PREFETCH:
            return
        self._loading_more = True
        generation, after, fetch = self._generation, self._next_after, self._fetch
        text = self.roster.filter_text if self.roster is not None else ""

        def done(roster: Roster) -> None:
            if generation == self._generation:
                self._loading_more = False
                self._append(roster)

        self.call_store(
            lambda: fetch(text, after),
            done,
            failed=lambda message: self._load_failed(generation, message),
            group="roster-more",
        )

    def _show_status(self) -> None:
        roster = self.roster
        if roster is None:
            return
        loaded = len(self.people)
        people = "person" if roster.total == 1 else "people"
        parts = [markup("[b]$n[/b] $people", n=f"{roster.total:,}", people=people)]
        if loaded < roster.total:
            parts.append(markup("$n loaded", n=f"{loaded:,}"))
        if roster.hidden:
            parts.append(markup("[b yellow]$n hidden from you[/]", n=f"{roster.hidden:,}"))
        if roster.ways_hidden:
            parts.append(markup("some ways hidden from you"))
        if roster.filter_text:
            parts.append(markup("filter: $text", text=roster.filter_text))
        status = self.query_one("#roster-status", Static)
        line = Content(" · ").join(parts)
        legend = Content.from_markup("[dim]ro read-only · auto no: excluded · off disabled[/dim]")
        width = (status.content_region.width or self.app.size.width - 2) - 1
        if line.cell_length + 3 + legend.cell_length <= width:
            line = Content(" · ").join([*parts, legend])
        status.update(line)

    # -- the highlighted person and what they offer ---------------------------------------

    def highlighted_person(self) -> RosterPerson | None:
        table = self.query_one("#roster-table", DataTable)
        if not self.people or table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return self.people.get(int(key.value)) if key.value is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the store would accept for the highlighted person."""
        person = self.highlighted_person() if self.is_mounted else None
        if action == "open":
            return person is not None
        if action == "unassign":
            return person is not None and bool(person.removable_ways)
        return True

    @on(DataTable.RowHighlighted, "#roster-table")
    def _highlighted(self) -> None:
        self.refresh_bindings()
        self._show_detail()
        self._maybe_more()

    def _show_detail(self) -> None:
        person = self.highlighted_person()
        detail = self.query_one("#roster-detail", Static)
        if person is not None:
            detail.update(detail_line(person))
        elif self.roster is not None:
            detail.update(literal("Nobody here that you may see."))
        else:
            detail.update("")

    @on(DataTable.RowSelected, "#roster-table")
    def _selected(self) -> None:
        self.action_open()

    # -- filter --------------------------------------------------------------------------

    @on(Input.Changed, "#roster-filter")
    def _filter_changed(self) -> None:
        self._filter_soon()

    @work(exclusive=True, group="roster-filter")
    async def _filter_soon(self) -> None:
        """Each keystroke replaces a query not yet started; stale answers are dropped."""
        await asyncio.sleep(0)
        self._reload()

    def action_refresh(self) -> None:
        self._reload()

    # -- actions on people ---------------------------------------------------------------

    def _form_closed(self, result: object) -> None:
        if result:
            self._reload()

    def action_open(self) -> None:
        person = self.highlighted_person()
        if person is not None:
            self.app.push_screen(UserFormScreen(self.session, person.user_id), self._form_closed)

    def action_unassign(self) -> None:
        person = self.highlighted_person()
        if person is None or not person.removable_ways:
            return
        ways = person.removable_ways
        lines = [f"Unassign from {person.username!r} (#{person.user_id}):"]
        for way in ways:
            lines.append(f"  - {self._describe(way)}")
        self.app.push_screen(
            ConfirmScreen("\n".join(lines), "Unassign"),
            lambda answer: self._unassign(person, ways) if answer else None,
        )

    def _describe(self, way: RosterWay) -> str:
        if way.kind == THROUGH_GROUP and way.department_group is not None:
            group = way.department_group
            return f"department group {group.name!r} (#{group.id}): every department it holds"
        return f"department {self.subject.name!r} (#{self.subject.id}), assigned directly"

    def _unassign(self, person: RosterPerson, ways: tuple[RosterWay, ...]) -> None:
        session = self.session
        department_id = self.department.id if self.department is not None else None

        def done(_: int) -> None:
            self.notify(f"Unassigned from {person.username!r}", title="Done")
            self._reload()

        self.call_store(
            lambda: session.rosters.unassign(person.user_id, ways, department_id=department_id),
            done,
            group="roster-write",
            exclusive=False,
        )
