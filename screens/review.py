"""Access review: the users the actor may edit, by last login, with what needs a look.

One keyset page at a time from ``session.review`` (filtering, flags and order are SQL there),
the counts per flag asked for after the page is shown. ``/`` filters by name, e-mail or id,
``s`` sorts by last login or username (``S`` reverses), ``f`` cycles the flag shown (all,
never, idle, locked, disabled, no-required), ``i`` asks after how many days without a login a
user is idle (90 at first, as ``lhc-console review --idle-days``; the status line says the
number in use), Enter opens the user's form, ``d`` disables (with a confirmation) or enables
the highlighted user through the users service.

The username is never cut: its column takes what the flags leave, and a name longer than that
wraps onto a second line of its row.

Bulk marking comes later: ``targets`` is the one place that says which users an action acts
on (today the highlighted one); marks plug in there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.content import Content

from screens.idle_days import IdleDaysScreen
from screens.impact import ImpactConfirmScreen
from screens.paged_list import Column, PagedListScreen
from screens.text import markup, printable
from screens.user_form import UserFormScreen
from store import Session
from store.impact import Impact, Touches
from store.review import DEFAULT_IDLE_DAYS, FLAGS, ReviewPage, ReviewRow, ReviewSummary

PAGE_SIZE = 50
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


class ReviewScreen(PagedListScreen[ReviewRow, ReviewPage]):
    """The access review: ``/`` filter, ``s`` sort, ``f`` flag, ``i`` idle days, Enter opens,
    ``d`` disables."""

    CSS_PATH = "review.tcss"
    PREFIX = "review"
    SORTS = SORTS
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse sort", show=False),
        Binding("f", "flag", "Flag"),
        Binding("i", "idle_days", "Idle days"),
        Binding("d", "disable", "Disable"),
        Binding("d", "enable", "Enable"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.summary: ReviewSummary | None = None  # None until counted (after the page)
        self.filter_index = 0
        self.idle_days = DEFAULT_IDLE_DAYS  # no login for this many days: flagged idle

    @property
    def only(self) -> str | None:
        return FILTERS[self.filter_index]

    # -- the pages: ``session.review``; the counts per flag after the first page -----------

    def page_query(self) -> dict[str, Any]:
        return {"idle_days": self.idle_days, "only": self.only, **super().page_query()}

    def fetch(self, query: dict[str, Any], after: tuple[Any, int] | None) -> ReviewPage:
        return self.session.review.page(**query, after=after, limit=PAGE_SIZE)

    def forget_counts(self) -> None:
        self.summary = None

    def count_call(self, query: dict[str, Any]) -> Callable[[], ReviewSummary]:
        """The counts per flag: they visit every editable user."""
        review, idle_days, text = self.session.review, query["idle_days"], query["text"]
        return lambda: review.summary(idle_days=idle_days, text=text)

    def counted(self, result: ReviewSummary) -> None:
        self.summary = result

    # -- the table: the username never cut ------------------------------------------------

    def columns(self, available: int) -> tuple[Column, ...]:
        rows = list(self.rows.values())
        name, flags = column_widths(
            [printable(r.username) for r in rows], [flags_text(r) for r in rows], available
        )
        return (
            ("username", "username", name),
            ("last_login", "last login", LAST_LOGIN_WIDTH),
            ("flags", "flags", flags),
        )

    def _wraps(self, row: ReviewRow) -> bool:
        return len(printable(row.username)) > self.column_width("username")

    def cells(self, row: ReviewRow) -> list[Text]:
        return [
            Text(printable(row.username), no_wrap=not self._wraps(row), overflow="fold"),
            Text(row.last_login_text, no_wrap=True),
            Text(flags_text(row), no_wrap=True, overflow="ellipsis"),
        ]

    def row_height(self, row: ReviewRow) -> int | None:
        return None if self._wraps(row) else 1

    def show_status(self, counting: str = "counting…") -> None:
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
            markup("sort: $label $arrow", label=self.sort_label, arrow=arrow),
            markup("showing: [b]$flag[/b]", flag=self.only or "all"),
            markup("idle: no login for $days days", days=self.idle_days),
        ]
        if self.filter_text:
            view.append(markup("filter: $text", text=self.filter_text))
        self.status.update(Content("\n").join([counts, Content(" · ").join(view)]))

    # -- the highlighted row ---------------------------------------------------------------

    def targets(self) -> list[ReviewRow]:
        """The users an action acts on: the highlighted one. Bulk marking (issue 19, point 1)
        plugs in here: with marks, the marked users; each action already takes a list."""
        row = self.highlighted_row()
        return [row] if row is not None else []

    def show_detail(self) -> None:
        row = self.highlighted_row()
        detail = self.detail
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
            if not all(row.may_disable_or_delete for row in rows):
                return False  # the store's rule: nobody disables or enables their own account
            disabling = action == "disable"
            return all(row.disabled != disabling for row in rows)  # not already so
        return True

    def action_open(self) -> None:
        row = self.highlighted_row()
        if row is not None:
            self.open_form(UserFormScreen(self.session, row.id))

    # -- the flag shown, and when a user is idle -------------------------------------------

    def action_flag(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self._reload()

    def action_idle_days(self) -> None:
        """``i``: ask for the idle threshold; a new one flags and counts the users anew."""

        def answered(days: int | None) -> None:
            if days is not None:
                self.idle_days = days
                self._reload()

        self.app.push_screen(IdleDaysScreen(self.idle_days), answered)

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
