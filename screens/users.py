"""Users: the users the actor can see, one keyset page at a time, filtered and sorted.

Rows the actor may not change (``UserRow.editable`` False) are dimmed and marked ``ro``; keys
that change a user (``d``, ``x``, ``p``) are offered only on rows and to actors the store would
accept (capabilities loaded with the data, ``check_action`` on the highlighted row). The store
refuses anyway.

Bulk changes (issue 19): Space marks the highlighted user (✓ in the first column), ``*`` marks
every user the filter matches (asked of the store, since the list holds only the pages seen; at
most ``BULK_LIMIT``), ``u`` or Esc clears the marks, and ``a`` opens the action menu for the
marked users (or the highlighted one): the action, its target, then a per-user preview
(``screens.bulk``) before anything is written. Marks are kept while the filter or the sort
changes, so the status line counts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Footer

from screens.bulk import (
    ACTION_BY_KEY,
    BulkAction,
    BulkPreviewScreen,
    ChoiceScreen,
    action_choices,
    target_choices,
    target_names,
    targets,
    users,
)
from screens.impact import ImpactConfirmScreen
from screens.paged_list import PagedListScreen
from screens.password import PasswordScreen
from screens.text import cell, markup
from screens.user_form import UserFormScreen
from store import Session
from store.bulk import BULK_LIMIT, BulkReport
from store.impact import Impact, Touches
from store.views import Ref, UserForm, UserPage, UserRow

PAGE_SIZE = 50
SORTS: tuple[tuple[str, str], ...] = (
    ("username", "username"),
    ("name", "name"),
    ("email", "e-mail"),
    ("id", "id"),
)
KEY_WIDTH = 24
"""Usernames up to this many characters are never cut (at 80 columns and wider); the detail
line under the table shows a longer one in full."""
MARK = "✓"
"""The glyph of a marked user, in the first column (readable without colour)."""


@dataclass(frozen=True)
class Column:
    """A users-table column: ``priority`` 0 (the key) is kept longest, below 0 (the one-cell
    mark) is served even before it; ``least``/``most`` bound its width."""

    key: str
    label: str
    priority: int
    least: int
    most: int


COLUMNS: tuple[Column, ...] = (  # in display order; k9s-style, the key column is never cut
    Column("mark", "", -1, 1, 1),  # served before the key: one cell, at every width
    Column("id", "id", 6, 2, 6),
    Column("username", "username", 0, 8, KEY_WIDTH),
    Column("name", "name", 2, 6, 20),
    Column("email", "e-mail", 3, 8, 28),
    Column("groups", "groups", 4, 8, 24),
    Column("dep_groups", "dep. grp", 5, 8, 20),
    Column("state", "state", 1, 5, 6),
)
CELL_PADDING = 2  # DataTable's cell_padding on both sides


def row_values(row: UserRow) -> dict[str, str]:
    """Every column's full text for a user (the cells cut them; the detail line does not)."""
    return {
        "id": str(row.id),
        "username": row.username,
        "name": f"{row.name} {row.surname}".strip(),
        "email": row.email,
        "groups": ", ".join(row.groups),
        "dep_groups": ", ".join(row.department_groups),
        "state": " ".join(
            mark for mark, on_ in (("ro", not row.editable), ("off", row.disabled)) if on_
        ),
    }


def fit_columns(wanted: dict[str, int], available: int) -> list[tuple[Column, int]]:
    """The columns that fit ``available`` cells, each with its width, in display order.

    Columns are served by priority: each gets what it wants (within its bounds), or what is
    left if that is at least its least width; a column that cannot get its least is dropped.
    The key column (priority 0) is served first, so it is cut only when the terminal is
    narrower than the key itself.
    """
    left = available
    widths: dict[str, int] = {}
    for column in sorted(COLUMNS, key=lambda c: c.priority):
        want = max(column.least, min(column.most, wanted.get(column.key, column.least)))
        room = left - CELL_PADDING
        if column.priority == 0:
            width = max(1, min(want, room))
        elif room >= column.least:
            width = min(want, room)
        else:
            continue
        widths[column.key] = width
        left -= width + CELL_PADDING
    return [(column, widths[column.key]) for column in COLUMNS if column.key in widths]


def row_cells(row: UserRow, keys: list[str] | None = None, *, marked: bool = False) -> list[Text]:
    """The table cells of a user: dim with an ``ro`` mark when the actor may not change them;
    ``marked`` puts ``MARK`` in the first column."""
    values = {**row_values(row), "mark": MARK if marked else ""}
    style = "" if row.editable else "dim"
    return [
        mark_cell(marked)
        if key == "mark"
        else cell(values[key], style=style, no_wrap=True, overflow="ellipsis")
        for key in (keys if keys is not None else [c.key for c in COLUMNS])
    ]


def mark_cell(marked: bool) -> Text:
    return Text(MARK if marked else "", style="bold")


def detail_line(row: UserRow) -> Content:
    """The highlighted user in full: username, e-mail, groups and department groups."""
    values = row_values(row)
    return markup(
        "[b]$username[/b] <$email> · #$id$state\n"
        "[dim]groups:[/dim] $groups\n"
        "[dim]dep. groups:[/dim] $dep_groups",
        username=values["username"],
        email=values["email"] or "no e-mail",
        id=values["id"],
        state=f" · {values['state']}" if values["state"] else "",
        groups=values["groups"] or "none",
        dep_groups=values["dep_groups"] or "none",
    )


class UsersScreen(PagedListScreen[UserRow, UserPage]):
    """The users table: ``/`` filter, ``s``/``S`` sort, Enter opens, n/d/x/p change; Space and
    ``*`` mark, ``a`` acts on the marked users."""

    CSS_PATH = "users.tcss"
    PREFIX = "users"
    SORTS = SORTS
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("e", "open", "Open", show=False),  # the table's Enter is the one shown
        Binding("n", "new", "New"),
        Binding("d", "disable", "Disable"),
        Binding("d", "enable", "Enable"),
        Binding("x", "delete", "Delete"),
        Binding("p", "password", "Password"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse sort", show=False),
        Binding("r", "refresh", "Refresh", show=False),
        # Bulk changes: in help and the status line; the footer shows them only once users are
        # marked (``check_action``), since ten keys already fill it at 80 columns.
        Binding("space", "mark", "Mark or unmark, next row", show=False),
        Binding("asterisk", "mark_matching", "Mark all matching the filter", show=False),
        Binding("a", "actions_marked", "Actions"),
        Binding("a", "actions", "Actions on this user", show=False),
        Binding("u", "unmark", "Unmark all", show=False),
        # Esc: Back gives way to Unmark while marks exist (a subclass's key replaces the base
        # class's bindings of that key, so Back is named again). Unmark is in the status line's
        # hint, not the footer, which "a Actions" fills at 80 columns.
        Binding("escape", "back", "Back"),
        Binding("escape", "unmark", "Unmark all", show=False),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.total: int | None = None  # None until counted (after the first page is shown)
        self.marks: set[int] = set()  # ids of the marked users, shown on the list or not

    def compose_footer(self) -> ComposeResult:
        # Up to ten live keys at 80 columns: the palette hint gives way (? Help lists ^p).
        yield Footer(compact=True, show_command_palette=False)

    # -- the pages: ``session.users``; the total is counted after the first page ----------

    def fetch(self, query: dict[str, Any], after: tuple[Any, int] | None) -> UserPage:
        return self.session.users.page(**query, after=after, limit=PAGE_SIZE)

    def forget_counts(self) -> None:
        self.total = None

    def page_shown(self, page: UserPage) -> None:
        if page.next_after is None:  # everything is loaded: the total needs no query
            self.total = len(self.rows)

    def count_call(self, query: dict[str, Any]) -> Callable[[], int] | None:
        if self.total is not None:
            return None
        users, text = self.session.users, query["text"]
        return lambda: users.count(text=text)

    def counted(self, result: int) -> None:
        self.total = result

    # -- columns: the key column is never cut, the others give way by priority ------------

    def columns(self, available: int) -> list[tuple[str, str, int]]:
        wanted = {column.key: len(column.label) for column in COLUMNS}
        for row in self.rows.values():
            for key, value in row_values(row).items():
                wanted[key] = max(wanted[key], len(value))
        return [(c.key, c.label, width) for c, width in fit_columns(wanted, available)]

    def cells(self, row: UserRow) -> list[Text]:
        return row_cells(row, self.shown_columns, marked=row.id in self.marks)

    def show_status(self, counting: str = "counting…") -> None:
        total, loaded = self.total, len(self.rows)
        if total is None:
            parts = [
                markup(
                    "[b]$n+[/b] users [dim]($counting)[/dim]", n=f"{loaded:,}", counting=counting
                )
            ]
        else:
            parts = [
                markup("[b]$n[/b] $users", n=f"{total:,}", users="users" if total != 1 else "user")
            ]
        if self.marks:
            parts.append(markup("[b]$n marked[/b]", n=f"{len(self.marks):,}"))
        arrow = "↓" if self.descending else "↑"
        parts.append(markup("sort: $label $arrow", label=self.sort_label, arrow=arrow))
        if total is not None and loaded < total:
            parts.append(markup("$n loaded", n=f"{loaded:,}"))
        if self.filter_text:
            parts.append(markup("filter: $text", text=self.filter_text))
        # The keys' hint gives way first, then the legend (the other way round while users are
        # marked: then the hint says what to do with them).
        hint = Content.from_markup(
            "[dim]a actions, esc unmark[/dim]" if self.marks else "[dim]space/* mark[/dim]"
        )
        legend = Content.from_markup("[dim]ro = read-only for you, off = disabled[/dim]")
        self.status_line(parts, [hint, legend] if self.marks else [legend, hint])

    def show_detail(self) -> None:
        row = self.highlighted_row()
        self.detail.update(detail_line(row) if row is not None else "")

    # -- what the highlighted row offers -------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the store would accept for the highlighted user."""
        row = self.highlighted_row() if self.is_mounted else None
        caps = self.capabilities
        if action == "new":
            return "users.create" in caps
        if action == "open":
            return row is not None
        if action == "back":  # Esc clears the marks first (as it leaves a mode in lazygit)
            return not self.marks
        if action == "unmark":
            return bool(self.marks)
        if action == "mark":
            return row is not None
        if action == "mark_matching":
            return self.loaded
        if action in ("actions", "actions_marked"):
            may = "users.edit" in caps
            if action == "actions_marked":
                return may and bool(self.marks)
            return may and not self.marks and row is not None
        if action in ("disable", "enable", "delete", "password"):
            if row is None or not row.editable:
                return False
            allowed = row.may_disable_or_delete  # the store's rule (not one's own account)
            if action == "delete":
                return "users.delete" in caps and allowed
            if action == "disable":
                return "users.edit" in caps and not row.disabled and allowed
            if action == "enable":
                return "users.edit" in caps and row.disabled and allowed
            return "users.edit" in caps
        return True

    # -- actions on users ----------------------------------------------------------------

    def action_new(self) -> None:
        self.open_form(UserFormScreen(self.session, None), with_capabilities=True)

    def action_open(self) -> None:
        row = self.highlighted_row()
        if row is not None:
            self.open_form(UserFormScreen(self.session, row.id), with_capabilities=True)

    def action_disable(self) -> None:
        row = self.highlighted_row()
        if row is None:
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._set_disabled(row, True)

        session = self.session

        def preview() -> Impact:
            return session.impact.preview(
                Touches.of(users=[row.id]), lambda: session.users.set_disabled(row.id, True)
            )

        self.app.push_screen(
            ImpactConfirmScreen(
                f"Disable user {row.username!r}?\nThey can no longer log in; their department "
                "assignments are parked until the account is enabled again.",
                "Disable",
                preview,
            ),
            confirmed,
        )

    def action_enable(self) -> None:
        """Enabling gives the account back its chats and permissions: asked with its impact,
        like disabling (issue 19: every change of what people may do shows it first)."""
        row = self.highlighted_row()
        if row is None:
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._set_disabled(row, False)

        session = self.session

        def preview() -> Impact:
            return session.impact.preview(
                Touches.of(users=[row.id]), lambda: session.users.set_disabled(row.id, False)
            )

        self.app.push_screen(
            ImpactConfirmScreen(
                f"Enable user {row.username!r}?\nThey can log in again; their department "
                "assignments come back.",
                "Enable",
                preview,
            ),
            confirmed,
        )

    def _set_disabled(self, row: UserRow, disabled: bool) -> None:
        session = self.session

        def done(_: object) -> None:
            verb = "Disabled" if disabled else "Enabled"
            self.notify(f"{verb} user {row.username!r}", title="Done")
            self._reload()

        self.call_store(lambda: session.users.set_disabled(row.id, disabled), done)

    def action_delete(self) -> None:
        row = self.highlighted_row()
        if row is None:
            return
        session = self.session

        def done(_: object) -> None:
            self.notify(f"Deleted user {row.username!r}", title="Done")
            self._reload()

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.call_store(lambda: session.users.delete(row.id), done)

        def preview() -> Impact:
            return session.impact.preview(
                Touches.of(users=[row.id]), lambda: session.users.delete(row.id)
            )

        self.app.push_screen(
            ImpactConfirmScreen(
                f"Delete user {row.username!r} (#{row.id})?\nTheir group memberships and "
                "department assignments go with them. This cannot be undone.",
                "Delete",
                preview,
            ),
            confirmed,
        )

    def action_password(self) -> None:
        row = self.highlighted_row()
        if row is None:
            return
        session = self.session
        modal: PasswordScreen

        def submit(password: str, again: str) -> None:
            def done(_: object) -> None:
                modal.dismiss(True)
                self.notify(f"Password of {row.username!r} changed", title="Done")

            self.call_store(
                lambda: session.users.set_password(row.id, password, password_again=again),
                done,
                failed=modal.show_error,
                group="users-password",
            )

        modal = PasswordScreen(row.username, submit)
        self.app.push_screen(modal)

    # -- marks and bulk changes (issue 19) -----------------------------------------------

    def _show_marks(self, user_ids: set[int] | None = None) -> None:
        """Redraw the mark cell of the loaded rows among ``user_ids`` (all when None)."""
        if "mark" not in self.shown_columns:
            return
        table = self.table
        for user_id in self.rows if user_ids is None else user_ids & set(self.rows):
            table.update_cell(str(user_id), "mark", mark_cell(user_id in self.marks))
        self.show_status()
        self.refresh_bindings()

    def action_mark(self) -> None:
        """Space: mark or unmark the highlighted user, then move to the next row (as in mc
        and ranger, so that holding Space marks a run of users)."""
        row = self.highlighted_row()
        if row is None:
            return
        if row.id in self.marks:
            self.marks.discard(row.id)
        elif len(self.marks) >= BULK_LIMIT:
            self.notify(
                f"At most {BULK_LIMIT:,} users can be marked for one change",
                title="Not marked",
                severity="warning",
            )
            return
        else:
            self.marks.add(row.id)
        self._show_marks({row.id})
        self.table.action_cursor_down()

    def action_mark_matching(self) -> None:
        """``*``: mark every user the filter matches (the store lists them: the table holds only
        the pages seen), or none if more than ``BULK_LIMIT`` match."""
        session, text = self.session, self.filter_text

        def call() -> tuple[list[int], int]:
            ids = session.users.ids(text=text, limit=BULK_LIMIT + 1)
            total = session.users.count(text=text) if len(ids) > BULK_LIMIT else len(ids)
            return ids, total

        self.call_store(call, lambda found: self._mark_matching(*found), group="users-mark")

    def _mark_matching(self, ids: list[int], total: int) -> None:
        if total > BULK_LIMIT:
            self.notify(
                f"{total:,} users match; at most {BULK_LIMIT:,} can be marked, narrow the filter",
                title="Not marked",
                severity="warning",
                timeout=8,
            )
            return
        marks = self.marks | set(ids)
        if len(marks) > BULK_LIMIT:
            self.notify(
                f"That would make {len(marks):,} marked; at most {BULK_LIMIT:,} can be "
                "marked, unmark some or narrow the filter",
                title="Not marked",
                severity="warning",
                timeout=8,
            )
            return
        if not ids:
            self.notify("No user matches the filter", title="Not marked", severity="warning")
            return
        added = set(ids) - self.marks
        self.marks = marks
        self._show_marks(added)  # the status line counts them

    def action_unmark(self) -> None:
        """``u``, or Esc while users are marked: clear every mark."""
        unmarked, self.marks = self.marks, set()
        self._show_marks(unmarked)

    def action_actions_marked(self) -> None:
        self.action_actions()

    def action_actions(self) -> None:
        """``a``: the action menu for the marked users, or the highlighted one if none is.

        The choices come from the store's form for one of them: what the actor may hand out
        (the same for every user); the preview asks the store about each user."""
        row = self.highlighted_row()
        ids = sorted(self.marks) if self.marks else ([row.id] if row is not None else [])
        if not ids:
            return
        who = (
            f"{len(ids):,} marked users"
            if self.marks and len(ids) != 1
            else repr(self.rows[ids[0]].username)
            if ids[0] in self.rows
            else f"user #{ids[0]}"
        )
        session = self.session
        self.call_store(
            lambda: session.users.form(ids[0]),
            lambda form: self._choose_action(ids, who, form),
            group="users-actions",
        )

    def _choose_action(self, ids: list[int], who: str, form: UserForm) -> None:
        def chosen(key: str | None) -> None:
            action = ACTION_BY_KEY.get(key or "")
            if action is not None:
                self._choose_target(ids, form, action)

        self.app.push_screen(ChoiceScreen(f"Actions for {who}", action_choices(form)), chosen)

    def _choose_target(self, ids: list[int], form: UserForm, action: BulkAction) -> None:
        if not action.target:
            self._preview(ids, form, action, None)
            return
        offered = {str(ref.id): ref for ref in targets(form, action.target)}

        def chosen(key: str | None) -> None:
            if key in offered:
                self._preview(ids, form, action, offered[key])

        self.app.push_screen(
            ChoiceScreen(
                f"{action.label}: which {action.target}?",
                target_choices(form, action),
                filtered=True,
                empty=f"No {action.target}s you may hand out.",
            ),
            chosen,
        )

    def _preview(
        self, ids: list[int], form: UserForm, action: BulkAction, target: Ref | None
    ) -> None:
        edit = action.edit(target.id if target is not None else None)
        preview = BulkPreviewScreen(
            self.session, ids, edit, action.title(target), names=target_names(form)
        )
        self.app.push_screen(preview, self._bulk_done)

    def _bulk_done(self, report: BulkReport | None) -> None:
        """Written: say how many changed, clear the marks, show the users as they are now."""
        if report is None:
            return
        self.notify(f"Changed {users(len(report.changed))}", title="Done")
        self.marks = set()
        self._reload(with_capabilities=True)
