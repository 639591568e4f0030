"""Bulk changes on the screens: pick an action and its target, preview it per user, confirm.

The users list marks users and hands their ids here (issue 19, point 1). ``ACTIONS`` are the
changes one bulk edit may make; ``ChoiceScreen`` is the modal list for the action and for its
target (the groups, department groups or departments the store's user form offers the actor:
the screen decides nothing about permissions); ``BulkPreviewScreen`` runs the change as a
preview (``session.bulk.run(dry_run=True)``: every rule checked for every user, nothing
written) and shows, per user, what will change or why it is refused. Confirming is offered
only when nothing is refused, since the store writes all of it or nothing; it runs the real
change in a worker and dismisses with the report.

Every name is stored text: table cells go through ``SafeTable`` and ``screens.text.cell``,
lines through ``markup`` with the names as values, options through ``literal``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, OptionList, Static
from textual.widgets.data_table import CellDoesNotExist
from textual.widgets.option_list import Option

from screens.base import ConsoleScreen
from screens.errors import GuardedDispatch
from screens.impact import impact_text
from screens.insight_detail import InsightDetailScreen
from screens.text import cell, literal, markup
from screens.widgets import SafeTable, TextInput
from store import Session
from store.bulk import BulkEdit, BulkOutcome, BulkReport
from store.impact import Impact
from store.user_save import UserDifference
from store.views import Ref, UserForm

GROUP, DEPARTMENT_GROUP, DEPARTMENT = "group", "department group", "department"


@dataclass(frozen=True)
class BulkAction:
    """One change of the action menu; ``target`` is the kind of thing it needs ("" for none)."""

    key: str
    label: str
    target: str = ""
    read_only: bool = False

    def edit(self, target: int | None = None) -> BulkEdit:
        """The store's ``BulkEdit`` for this action on ``target`` (an id of its kind)."""
        if self.key == "disable":
            return BulkEdit(disabled=True)
        if self.key == "enable":
            return BulkEdit(disabled=False)
        if target is None:
            raise ValueError(f"{self.label} needs a {self.target}")
        remove = self.key.startswith(("remove", "unassign"))
        if self.target == GROUP:
            return BulkEdit(remove_groups=(target,)) if remove else BulkEdit(add_groups=(target,))
        if self.target == DEPARTMENT_GROUP:
            if remove:
                return BulkEdit(unassign_department_groups=(target,))
            return BulkEdit(assign_department_groups={target: self.read_only})
        if remove:
            return BulkEdit(unassign_departments=(target,))
        return BulkEdit(assign_departments={target: self.read_only})

    def title(self, target: Ref | None = None) -> str:
        """``Add group 'US Operators'``: what the preview is of (names quoted as ``repr``)."""
        return f"{self.label} {target.name!r}" if target is not None else self.label


ACTIONS: tuple[BulkAction, ...] = (
    BulkAction("add_group", "Add group", GROUP),
    BulkAction("remove_group", "Remove group", GROUP),
    BulkAction("assign_department_group", "Assign department group", DEPARTMENT_GROUP),
    BulkAction(
        "assign_department_group_ro",
        "Assign department group read-only",
        DEPARTMENT_GROUP,
        read_only=True,
    ),
    BulkAction("unassign_department_group", "Unassign department group", DEPARTMENT_GROUP),
    BulkAction("assign_department", "Assign department", DEPARTMENT),
    BulkAction("assign_department_ro", "Assign department read-only", DEPARTMENT, read_only=True),
    BulkAction("unassign_department", "Unassign department", DEPARTMENT),
    BulkAction("disable", "Disable"),
    BulkAction("enable", "Enable"),
)
ACTION_BY_KEY = {action.key: action for action in ACTIONS}


def targets(form: UserForm, kind: str) -> tuple[Ref, ...]:
    """What the form offers the actor to hand out, of one kind, by name.

    The form's choices are the actor's assignable sets (the same for every user); whether a
    given user may be changed is the preview's question, asked of the store for each user.
    """
    if kind == GROUP:
        refs: Sequence[Ref] = (*form.groups, *form.required_groups)
    elif kind == DEPARTMENT_GROUP:
        refs = form.department_groups
    elif kind == DEPARTMENT:
        refs = form.departments
    else:
        return ()
    return tuple(sorted(refs, key=lambda r: (r.name.lower(), r.id)))


def target_names(form: UserForm) -> dict[tuple[str, int], str]:
    """``(kind, id) -> name`` of everything the form offers, for describing differences."""
    return {
        (kind, ref.id): ref.name
        for kind in (GROUP, DEPARTMENT_GROUP, DEPARTMENT)
        for ref in targets(form, kind)
    }


def describe(difference: UserDifference, names: Mapping[tuple[str, int], str]) -> str:
    """``+US Operators, -Departments AU, disabled``: one user's change in a table cell."""

    def name(kind: str, ident: int) -> str:
        return names.get((kind, ident), f"{kind} #{ident}")

    def assigned(kind: str, pairs: Sequence[tuple[int, bool]]) -> list[str]:
        return [f"+{name(kind, i)}{' (read-only)' if ro else ''}" for i, ro in pairs]

    parts = [f"+{name(GROUP, i)}" for i in difference.groups_added]
    parts += [f"-{name(GROUP, i)}" for i in difference.groups_removed]
    parts += assigned(DEPARTMENT_GROUP, difference.department_groups_assigned)
    parts += [f"-{name(DEPARTMENT_GROUP, i)}" for i in difference.department_groups_unassigned]
    parts += assigned(DEPARTMENT, difference.departments_assigned)
    parts += [f"-{name(DEPARTMENT, i)}" for i in difference.departments_unassigned]
    parts += [f"{key}: {value}" for key, value in difference.fields]
    if difference.disabled is not None:
        parts.append("disabled" if difference.disabled else "enabled")
    return ", ".join(parts) or "no change"


def outcome_text(outcome: BulkOutcome, names: Mapping[tuple[str, int], str]) -> str:
    """What happens to one user: the change, ``no change``, or ``refused: why``."""
    if outcome.refused:
        return f"refused: {outcome.refusal}"
    if outcome.difference is None:
        return "no change"
    return describe(outcome.difference, names)


def preview_order(outcome: BulkOutcome) -> tuple[int, str, int]:
    """Refused users first (what stops the change), then those changed, then the rest."""
    rank = 0 if outcome.refused else 1 if outcome.changes else 2
    return rank, outcome.username.lower(), outcome.user_id


def users(count: int) -> str:
    """``1 user``, ``1,000 users``."""
    return f"{count:,} user{'' if count == 1 else 's'}"


def summary(report: BulkReport) -> Content:
    """``5 change · 2 unchanged · 1 refused``."""
    return markup(
        "[b]$changed[/b] change · $unchanged unchanged · [b]$refused[/b] refused",
        changed=f"{len(report.changed):,}",
        unchanged=f"{len(report.unchanged):,}",
        refused=f"{len(report.refused):,}",
    )


def impact_line(impact: Impact | None) -> Content:
    """``Impact: 3 users gain, 1 loses · i lists them``: the preview's effect on what the
    users may do and which chats they read (of the users not refused)."""
    if impact is None:
        return Content("Impact: not known")
    if impact.affects_nobody:
        return markup("Impact: $what", what=impact.summary(brief=True))
    return markup("Impact: $what · [b]i[/b] lists them", what=impact.summary(brief=True))


# -- the modal list: the action, then its target ---------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One line of a ``ChoiceScreen``: ``note`` says why it cannot be chosen (then disabled)."""

    key: str
    label: str
    note: str = ""


class ChoiceScreen(GuardedDispatch, ModalScreen[str | None]):
    """A titled list to pick one line of: Enter picks it, Esc cancels (dismisses None).

    With ``filtered`` (the target pickers: an administrator may hand out hundreds of groups),
    typing filters the lines (the field has focus; ↑↓ move in the list); the action menu is
    short and fixed. Labels are stored names: shown as text, never markup.
    """

    CSS_PATH = "bulk.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
    ]

    def __init__(
        self, title: str, choices: Sequence[Choice], *, filtered: bool = False, empty: str = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = tuple(choices)
        self.filtered = filtered
        self.empty = empty or "Nothing to choose from."

    def compose(self) -> ComposeResult:
        with Vertical(id="choice"):
            yield Static(literal(self.title_text), id="choice-title")
            if self.filtered:
                yield TextInput(placeholder="type to filter", id="choice-filter", compact=True)
            yield OptionList(id="choice-list")
            yield Static(
                Content.from_markup("[dim]⏎ choose · ↑↓ move · esc cancel[/dim]"),
                id="choice-keys",
            )

    def on_mount(self) -> None:
        self._fill("")
        found = self.query("#choice-filter")
        (found.first() if found else self.query_one("#choice-list")).focus()

    def _fill(self, text: str) -> None:
        wanted = text.strip().lower()
        listing = self.query_one("#choice-list", OptionList)
        listing.clear_options()
        shown = [c for c in self.choices if not wanted or wanted in c.label.lower()]
        if not self.choices:
            listing.add_option(Option(literal(self.empty, "dim"), disabled=True))
        for choice in shown:
            label = (
                markup("$label [dim]— $note[/dim]", label=choice.label, note=choice.note)
                if choice.note
                else literal(choice.label)
            )
            listing.add_option(Option(label, id=choice.key, disabled=bool(choice.note)))
        enabled = [i for i, c in enumerate(shown) if not c.note]
        listing.highlighted = enabled[0] if enabled else None

    @on(Input.Changed, "#choice-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#choice-filter")
    def _filter_submitted(self) -> None:
        listing = self.query_one("#choice-list", OptionList)
        if listing.highlighted is not None:
            option = listing.get_option_at_index(listing.highlighted)
            if not option.disabled and option.id is not None:
                self.dismiss(option.id)

    @on(OptionList.OptionSelected, "#choice-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        listing = self.query_one("#choice-list", OptionList)
        if step > 0:
            listing.action_cursor_down()
        else:
            listing.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


def action_choices(form: UserForm) -> list[Choice]:
    """The action menu: an action whose kind of target the actor may not hand out at all is
    shown, disabled, with the reason (the store offers nothing of that kind)."""
    return [
        Choice(action.key, action.label)
        if not action.target or targets(form, action.target)
        else Choice(action.key, action.label, f"no {action.target}s you may hand out")
        for action in ACTIONS
    ]


def target_choices(form: UserForm, action: BulkAction) -> list[Choice]:
    return [Choice(str(ref.id), ref.name) for ref in targets(form, action.target)]


# -- the preview -------------------------------------------------------------------------------

KEY_WIDTH = 24  # as the users list: usernames this long are never cut at 80 columns
CELL_PADDING = 2


class BulkPreviewScreen(ConsoleScreen):
    """Per user: what the change does, or why it is refused; ⏎/``y`` writes it all, Esc cancels.

    Dismisses with the ``BulkReport`` of the written change, or None when cancelled.
    """

    CSS_PATH = "bulk.tcss"
    BINDINGS = [
        Binding("escape", "back", "Cancel"),
        Binding("enter", "confirm", "Confirm", key_display="⏎", priority=True),
        Binding("y", "confirm", "Confirm", show=False),
        Binding("i", "show_impact", "Who is affected"),
    ]

    def __init__(
        self,
        session: Session,
        user_ids: Sequence[int],
        edit: BulkEdit,
        title: str,
        names: Mapping[tuple[str, int], str] | None = None,
    ) -> None:
        super().__init__(session)
        self.user_ids = tuple(user_ids)
        self.edit = edit
        self.title_text = title
        self.names = dict(names or {})
        self.report: BulkReport | None = None
        self.outcomes: dict[int, BulkOutcome] = {}
        self.writing = False

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static("", id="bulk-title")
        yield SafeTable(id="bulk-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="bulk-detail")
        yield Static("", id="bulk-summary")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        count = len(self.user_ids)
        self.query_one("#bulk-title", Static).update(
            markup("Preview: [b]$title[/b] · $users", title=self.title_text, users=users(count))
        )
        self.query_one("#bulk-table", DataTable).focus()
        self._fill()
        self._preview()

    def on_resize(self) -> None:
        self._fill()

    def _preview(self) -> None:
        """Check every user in the store and write nothing."""
        self.report = None
        self.refresh_bindings()
        self._say(markup("Checking $users…", users=users(len(self.user_ids))))
        self._run(dry_run=True)

    def _run(self, *, dry_run: bool) -> None:
        """The store's bulk change in a worker: the preview (nothing written), or the change."""
        session, ids, edit = self.session, self.user_ids, self.edit
        self.call_store(
            lambda: session.bulk.run(ids, edit, dry_run=dry_run, with_impact=dry_run),
            self._previewed if dry_run else self.dismiss,
            failed=self._not_previewed if dry_run else self._not_written,
            group="bulk-preview" if dry_run else "bulk-write",
        )

    def _previewed(self, report: BulkReport) -> None:
        if not self.is_attached:  # cancelled while the store was checking (1,000 users: seconds)
            return
        self.report = report
        self.outcomes = {o.user_id: o for o in sorted(report.outcomes, key=preview_order)}
        self._fill()
        refused, changed = report.refused, report.changed
        if refused:
            how = markup(
                "[b red]Nothing can be written:[/] $users refused, and it is all or nothing.",
                users=users(len(refused)),
            )
        elif not changed:
            how = Content.from_markup("Nothing to change: every user is already so. Esc goes back.")
        else:
            how = markup(
                "[b]⏎[/b] or [b]y[/b] changes $users in one transaction · esc cancels",
                users=users(len(changed)),
            )
        # The impact of a change that cannot be written would not happen: the refusal is said.
        lines = (
            [summary(report), how]
            if refused
            else [
                summary(report),
                impact_line(report.impact),
                how,
            ]
        )
        self._say(Content("\n").join(lines))
        self.refresh_bindings()

    def _not_previewed(self, message: str) -> None:
        if not self.is_attached:
            return
        self._say(markup("[b red]Not checked:[/] $message", message=message))

    def _say(self, text: Content) -> None:
        self.query_one("#bulk-summary", Static).update(text)

    def _fill(self) -> None:
        """The table at the screen's width: the username whole, the change takes the rest."""
        table = self.query_one("#bulk-table", DataTable)
        width = max(1, (table.size.width or self.app.size.width) - 1)  # the scrollbar
        longest = max((len(o.username) for o in self.outcomes.values()), default=8)
        user = max(8, min(KEY_WIDTH, longest))
        change = max(8, width - (user + CELL_PADDING) - CELL_PADDING)
        keep = self.highlighted()
        table.clear(columns=True)
        table.add_column("username", width=user, key="username")
        table.add_column("change", width=change, key="change")
        for outcome in self.outcomes.values():
            style = "red" if outcome.refused else "" if outcome.changes else "dim"
            table.add_row(
                cell(outcome.username, style=style, no_wrap=True, overflow="ellipsis"),
                cell(
                    outcome_text(outcome, self.names),
                    style=style,
                    no_wrap=True,
                    overflow="ellipsis",
                ),
                key=str(outcome.user_id),
            )
        if keep is not None and keep.user_id in self.outcomes:
            table.move_cursor(row=table.get_row_index(str(keep.user_id)))
        self._show_detail()

    def highlighted(self) -> BulkOutcome | None:
        table = self.query_one("#bulk-table", DataTable)
        if not self.outcomes or table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return self.outcomes.get(int(key.value)) if key.value is not None else None

    @on(DataTable.RowHighlighted, "#bulk-table")
    def _show_detail(self) -> None:
        """The highlighted user's change (or refusal) in full, however long."""
        outcome = self.highlighted()
        detail = self.query_one("#bulk-detail", Static)
        if outcome is None:
            detail.update("")
            return
        detail.update(
            markup(
                "[b]$username[/b]$id\n$what",
                username=outcome.username,
                id=f" · #{outcome.user_id}" if outcome.user_id else "",
                what=outcome_text(outcome, self.names),
            )
        )

    # -- confirm or cancel -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Confirm only a checked change with something to write and nothing refused."""
        if action == "confirm":
            report = self.report
            return (
                report is not None
                and not report.refused
                and bool(report.changed)
                and not self.writing
            )
        if action == "back":
            return not self.writing
        if action == "show_impact":
            report = self.report
            return (
                report is not None
                and not report.refused
                and report.impact is not None
                and not report.impact.affects_nobody
            )
        return True

    def action_show_impact(self) -> None:
        """Every user of the change who gains or loses a permission or a department's chats."""
        impact = self.report.impact if self.report is not None else None
        if impact is None or impact.affects_nobody:
            return
        self.app.push_screen(
            InsightDetailScreen(f"Impact: {impact.summary()}", impact_text(impact))
        )

    def action_confirm(self) -> None:
        if not self.check_action("confirm", ()):
            return
        self.writing = True
        self.refresh_bindings()
        self._say(markup("Writing the change for $users…", users=users(len(self.user_ids))))
        self._run(dry_run=False)

    def _not_written(self, message: str) -> None:
        """Someone changed a user meanwhile (or a rule now refuses): nothing was written; the
        preview is checked again so that it shows why."""
        self.writing = False
        self.notify(message, title="Not written", severity="error", timeout=10)
        self._preview()

    def action_back(self) -> None:
        if not self.writing:
            self.dismiss(None)
