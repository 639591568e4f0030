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

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from screens.confirm import ConfirmScreen
from screens.paged_list import Column, PagedListScreen
from screens.text import cell, literal, markup
from screens.user_form import UserFormScreen
from screens.widgets import SafeTable
from store import Session
from store.rosters import THROUGH_GROUP, Roster, RosterPerson, RosterWay
from store.views import Ref

PAGE_SIZE = 100
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


class RosterScreen(PagedListScreen[RosterPerson, Roster]):
    """People of one department (``department``) or department group (``department_group``)."""

    CSS_PATH = "roster.tcss"
    PREFIX = "roster"
    TABLE = SafeTable
    CAPABILITIES = False  # what may be done to each person comes with the page
    NOT_LOADED_TITLE = "Not shown"
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
        self.roster: Roster | None = None  # the last page: its totals and what is hidden

    @property
    def subject(self) -> Ref:
        subject = self.department or self.department_group
        assert subject is not None
        return subject

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        what = "department" if self.department is not None else "department group"
        yield Static(
            markup(
                "Roster of $what [b]$name[/b] (#$id)",
                what=what,
                name=self.subject.name,
                id=self.subject.id,
            ),
            id="roster-title",
        )
        yield from self.compose_list()
        yield from self.compose_footer()

    # -- the pages: ``session.rosters``, by user id ------------------------------------------

    def fetch(self, query: dict[str, Any], after: int | None) -> Roster:
        rosters, text = self.session.rosters, query["text"]
        if self.department is not None:
            department_id = self.department.id
            return rosters.department(department_id, text=text, after=after, limit=PAGE_SIZE)
        group_id = self.subject.id
        return rosters.department_group(group_id, text=text, after=after, limit=PAGE_SIZE)

    def page_rows(self, page: Roster) -> tuple[RosterPerson, ...]:
        return page.people

    def row_id(self, row: RosterPerson) -> int:
        return row.user_id

    def page_shown(self, page: Roster) -> None:
        self.roster = page

    # -- columns: the username is never cut at 80 columns; "how" takes the rest ------------

    def columns(self, available: int) -> tuple[Column, ...]:
        longest = max((len(p.username) for p in self.rows.values()), default=8)
        user = max(8, min(KEY_WIDTH, longest))
        fixed = sum(w + CELL_PADDING for _, w in FIXED)
        left = available - fixed - (user + CELL_PADDING) - CELL_PADDING
        layout = (("username", user), ("how", max(6, left)), *FIXED)
        return tuple((key, key, width) for key, width in layout)

    def cells(self, row: RosterPerson) -> list[Text]:
        values = {
            "username": row.username,
            "how": short_how(row),
            "id": str(row.user_id),
            "ro": "ro" if row.read_only else "",
            "auto": "no" if row.exclude_autoassign else "yes",
            "max": str(row.max_chats),
            "off": "off" if row.disabled else "",
        }
        style = "" if row.actions else "dim"
        return [
            cell(values[key], width, style=style, no_wrap=True) for key, _, width in self._columns
        ]

    def show_status(self, counting: str = "") -> None:
        roster = self.roster
        if roster is None:
            return
        loaded = len(self.rows)
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
        legend = Content.from_markup("[dim]ro read-only · auto no: excluded · off disabled[/dim]")
        self.status_line(parts, [legend])

    # -- the highlighted person and what they offer ---------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the store would accept for the highlighted person."""
        person = self.highlighted_row() if self.is_mounted else None
        if action == "open":
            return person is not None
        if action == "unassign":
            return person is not None and bool(person.removable_ways)
        return True

    def show_detail(self) -> None:
        person = self.highlighted_row()
        detail = self.detail
        if person is not None:
            detail.update(detail_line(person))
        elif self.roster is not None:
            detail.update(literal("Nobody here that you may see."))
        else:
            detail.update("")

    # -- actions on people ---------------------------------------------------------------

    def action_open(self) -> None:
        person = self.highlighted_row()
        if person is not None:
            self.open_form(UserFormScreen(self.session, person.user_id))

    def action_unassign(self) -> None:
        person = self.highlighted_row()
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
