"""Create or edit a user: account fields, groups (required ones apart, as LHC's form shows them)
and department assignments, saved with Ctrl+S.

The form offers only what the store's ``users.form`` says the actor may hand out; the store
validates and checks every write again. A refusal keeps the form open with the input intact
and shows the store's message. Users the actor may not change open read-only, saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.widgets import Input, Label, SelectionList, Static, TabbedContent, TabPane
from textual.widgets.selection_list import Selection

from screens.base import ConsoleScreen
from screens.confirm import ConfirmScreen
from screens.impact import ask_with_impact
from screens.text import literal, markup
from screens.widgets import TextInput
from store import Session, validation
from store.errors import ValidationError
from store.impact import Touches
from store.user_save import SavedUser, WantedUser
from store.users import validated_user_fields
from store.views import Assignment, Ref, UserDetail, UserForm

FIELDS: tuple[tuple[str, str], ...] = (
    ("username", "Username"),
    ("email", "E-mail"),
    ("name", "Name"),
    ("surname", "Surname"),
    ("job_title", "Job title"),
)
REQUIRED_TITLE = "Required groups, choose one or more"


def _cursor_to_end(field: Input) -> None:
    """The cursor after the text, in view (a long value scrolls to its end), nothing selected."""
    field.cursor_position = len(field.value)
    field.scroll_to_region(
        Region(field._cursor_offset, 0, width=1, height=1), force=True, animate=False
    )


class FormInput(TextInput):
    """A form field: typing never replaces what is there unasked (see ``_KeepsTyping``)."""

    def __init__(self, value: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(value, **kwargs)

    def on_focus(self, event: events.Focus) -> None:
        _cursor_to_end(self)


class PasswordInput(Input):
    """A password field that, like ``FormInput``, never selects its text on focus."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(password=True, select_on_focus=False, **kwargs)

    def on_focus(self, event: events.Focus) -> None:
        _cursor_to_end(self)


def form_problems(
    state: FormState, form: UserForm, *, is_new: bool, baseline: FormState | None = None
) -> dict[str, str]:
    """Every problem the form can see before saving, by field id, all at once.

    The rules are the store's (``validated_user_fields``, ``validation.password``, the required
    groups the store's form offers); the store checks them, and the rest, again on save. An
    edit checks only the fields it changes, as the store does.
    """
    problems: dict[str, str] = {}
    before = dict(baseline.fields) if baseline is not None and not is_new else {}
    for key, value in state.fields:
        if key in before and before[key] == value:
            continue
        try:
            validated_user_fields({key: value})
        except ValidationError as error:
            problems[key] = str(error)
    if is_new:
        password, again = state.passwords
        try:
            validation.password(password)
        except ValidationError as error:
            problems["password"] = str(error)
        if "password" not in problems and again != password:
            problems["password-again"] = "The two passwords differ; type the same password twice"
        offered = {g.id for g in (*form.groups, *form.required_groups)}
        if not state.groups & offered:
            problems["groups"] = "Choose at least one group (Groups tab)"
        elif form.required_groups and not state.groups & {g.id for g in form.required_groups}:
            problems["groups"] = "Choose at least one of the required groups (Groups tab)"
    return problems


@dataclass(frozen=True)
class FormState:
    """What the form holds, comparable with what was loaded (to find changes)."""

    fields: tuple[tuple[str, str], ...]
    passwords: tuple[str, str]
    groups: frozenset[int]
    department_groups: frozenset[tuple[int, bool]]  # (id, read-only)
    departments: frozenset[tuple[int, bool]]


def loaded_state(form: UserForm) -> FormState:
    """The state of a freshly loaded form: the user as stored, within what is offered."""
    user = form.user
    if user is None:
        return FormState(
            fields=tuple((key, "") for key, _ in FIELDS),
            passwords=("", ""),
            groups=frozenset(),
            department_groups=frozenset(),
            departments=frozenset(),
        )
    offered = {g.id for g in (*form.groups, *form.required_groups)}
    return FormState(
        fields=tuple((key, getattr(user, key)) for key, _ in FIELDS),
        passwords=("", ""),
        groups=frozenset(g.id for g in user.groups if g.id in offered),
        department_groups=_assigned(user.department_groups, form.department_groups),
        departments=_assigned(user.departments, form.departments),
    )


def _assigned(
    assignments: Iterable[Assignment], offered: Iterable[Ref]
) -> frozenset[tuple[int, bool]]:
    ids = {ref.id for ref in offered}
    return frozenset((a.id, a.read_only) for a in assignments if a.id in ids)


class AssignmentList(SelectionList[int]):
    """Department groups or departments: Space assigns, ``o`` flips read-only."""

    BINDINGS = [Binding("o", "toggle_read_only", "Read-only")]

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.names: dict[int, str] = {}
        self.read_only: dict[int, bool] = {}

    def load(self, choices: Iterable[Ref], assigned: Iterable[tuple[int, bool]]) -> None:
        """Show the assignable choices; those the user has are selected, with their flag."""
        have = dict(assigned)
        self.clear_options()
        self.names = {}
        self.read_only = {}
        for ref in choices:
            self.names[ref.id] = ref.name
            self.read_only[ref.id] = have.get(ref.id, False)
            self.add_option(
                Selection(self._prompt(ref.id), ref.id, ref.id in have, disabled=not ref.changeable)
            )
        self.highlighted = 0 if self.option_count else None

    def _prompt(self, value: int) -> Content:
        if self.read_only.get(value):
            return Content.assemble(literal(self.names[value]), ("  read-only", "italic $warning"))
        return literal(self.names[value])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_read_only":
            return not self.disabled and self.option_count > 0
        return True

    def action_toggle_read_only(self) -> None:
        index = self.highlighted
        if index is None or self.disabled:
            return
        option = self.get_option_at_index(index)
        if option.disabled:
            return
        value = option.value
        self.read_only[value] = not self.read_only[value]
        self.replace_option_prompt_at_index(index, self._prompt(value))

    def state(self) -> frozenset[tuple[int, bool]]:
        return frozenset((value, self.read_only[value]) for value in self.selected)


class UserFormScreen(ConsoleScreen):
    """New user (``user_id`` None) or one user's form; read-only where the actor may not edit."""

    CSS_PATH = "user_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, session: Session, user_id: int | None = None) -> None:
        super().__init__(session)
        self.user_id = user_id
        self.form: UserForm | None = None
        self.baseline: FormState | None = None
        self.saved_something = False  # tells the users screen to refresh
        self._saving = False

    @property
    def is_new(self) -> bool:
        return self.user_id is None

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static("New user" if self.is_new else "Loading…", id="form-title")
        yield Static("", id="form-banner")
        with TabbedContent(id="form-tabs"):
            with (
                TabPane("Account", id="tab-account"),
                VerticalScroll(id="account", can_focus=False),  # no invisible focus stop
            ):
                fields: list[tuple[str, str, Input]] = [
                    (key, label, FormInput(id=f"field-{key}", compact=True))
                    for key, label in FIELDS
                ]
                if self.is_new:
                    fields.append(
                        ("password", "Password", PasswordInput(id="field-password", compact=True))
                    )
                    fields.append(
                        (
                            "password-again",
                            "Password again",
                            PasswordInput(id="field-password-again", compact=True),
                        )
                    )
                for key, label, widget in fields:
                    with Vertical(classes="field"):
                        with Horizontal(classes="field-row"):
                            yield Label(label)
                            yield widget
                        yield Static("", id=f"error-{key}", classes="field-error")
                yield Static(
                    "Groups and departments: Shift+Tab to the tab bar, then ← →", classes="note"
                )
            with TabPane("Groups", id="tab-groups"):
                yield Static("", id="groups-note", classes="note")
                with Horizontal(id="group-lists"):
                    yield SelectionList[int](id="groups")
                    yield SelectionList[int](id="required-groups")
                yield Static("", id="locked-groups", classes="locked")
            with TabPane("Departments", id="tab-departments"):
                yield Static("", id="departments-note", classes="note")
                with Horizontal(id="department-lists"):
                    yield AssignmentList(id="department-groups")
                    yield AssignmentList(id="departments")
                yield Static("", id="locked-departments", classes="locked")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one("#groups", SelectionList).border_title = "Groups"
        self.query_one("#required-groups", SelectionList).border_title = REQUIRED_TITLE
        self.query_one("#department-groups", AssignmentList).border_title = "Department groups"
        self.query_one("#departments", AssignmentList).border_title = "Departments"
        self.query_one("#form-tabs", TabbedContent).display = False
        self._load()

    def _load(self) -> None:
        session, user_id = self.session, self.user_id
        self.call_store(lambda: session.users.form(user_id), self._show, failed=self._load_failed)

    def _load_failed(self, message: str) -> None:
        self.query_one("#form-title", Static).update("Not loaded")
        self._banner(markup("[b]Not loaded:[/b] $message", message=message), "error")

    def _show(self, form: UserForm) -> None:
        """Fill every widget from the store's form; remember it as the unchanged state."""
        self.form = form
        user = form.user
        state = loaded_state(form)
        title = self.query_one("#form-title", Static)
        if user is None:
            title.update("New user")
        elif form.read_only:
            title.update(
                markup("User [b]$name[/b] (#$id) · read-only", name=user.username, id=user.id)
            )
        else:
            title.update(markup("Edit user [b]$name[/b] (#$id)", name=user.username, id=user.id))
        for key, value in state.fields:
            self.query_one(f"#field-{key}", Input).value = value
        self._fill_groups(form, state)
        self._fill_departments(form, state)
        if form.read_only:
            self._banner(literal(f"Read-only: {form.read_only_reason}"), "warning")
        else:
            self._banner("", "")
        for widget in self.query(Input):
            widget.disabled = form.read_only
        self.baseline = state
        self.query_one("#form-tabs", TabbedContent).display = True
        if form.read_only:
            self.query_one("#form-tabs Tabs").focus()
        else:
            self.query_one("#field-username", Input).focus()
        self.refresh_bindings()

    def _fill_groups(self, form: UserForm, state: FormState) -> None:
        plain = self.query_one("#groups", SelectionList)
        required = self.query_one("#required-groups", SelectionList)
        for widget, refs in ((plain, form.groups), (required, form.required_groups)):
            widget.clear_options()
            widget.add_options(
                Selection(literal(g.name), g.id, g.id in state.groups, disabled=not g.changeable)
                for g in refs
            )
            widget.highlighted = 0 if refs else None
            widget.disabled = form.read_only or not any(g.changeable for g in refs)
        required.display = bool(form.required_groups)
        plain.display = bool(form.groups) or not form.required_groups
        note = form.groups_note if not form.read_only else ""
        if not note and not form.read_only:
            note = "Space adds or removes a group"
            if form.required_groups:
                note += " · at least one required group"
        self._note("#groups-note", note)
        locked = self.query_one("#locked-groups", Static)
        if form.locked_groups:
            names = ", ".join(g.name for g in form.locked_groups)
            locked.update(markup("Also member of (you cannot change): [b]$names[/b]", names=names))
        else:
            locked.update("")
        locked.display = bool(form.locked_groups)

    def _fill_departments(self, form: UserForm, state: FormState) -> None:
        dep_groups = self.query_one("#department-groups", AssignmentList)
        departments = self.query_one("#departments", AssignmentList)
        dep_groups.load(form.department_groups, state.department_groups)
        departments.load(form.departments, state.departments)
        for widget, refs in ((dep_groups, form.department_groups), (departments, form.departments)):
            widget.disabled = form.read_only or not any(r.changeable for r in refs)
            widget.display = bool(refs)
        note = form.departments_note
        if form.read_only:
            note = ""
        elif not note and not (form.department_groups or form.departments):
            note = "You may not assign department groups or departments."
        elif not note:
            note = "Space assigns or removes · o toggles read-only (sees chats, cannot write)"
        self._note("#departments-note", note)
        lines = []
        user = form.user
        if user is not None:
            offered_groups = {r.id for r in form.department_groups}
            offered_departments = {r.id for r in form.departments}
            other = [a for a in user.department_groups if a.id not in offered_groups]
            other += [a for a in user.departments if a.id not in offered_departments]
            if other:
                names = ", ".join(a.name + (" (read-only)" if a.read_only else "") for a in other)
                lines.append(
                    markup("Also assigned (you cannot change): [b]$names[/b]", names=names)
                )
            if user.all_departments:
                lines.append(literal("Works in all departments (LHC's 'all departments' switch)."))
        locked = self.query_one("#locked-departments", Static)
        locked.update(Content("\n").join(lines))
        locked.display = bool(lines)

    def _note(self, selector: str, text: str) -> None:
        note = self.query_one(selector, Static)
        note.update(literal(text, lines=True))
        note.display = bool(text)

    def _banner(self, text: Content | str, kind: str) -> None:
        """``text``: Content built here (``markup``/``literal``), or a fixed str of ours."""
        banner = self.query_one("#form-banner", Static)
        banner.update(text)
        banner.set_classes(kind)
        banner.display = bool(text)

    # -- state ---------------------------------------------------------------------------

    def current_state(self) -> FormState:
        passwords = ("", "")
        if self.is_new:
            passwords = (
                self.query_one("#field-password", Input).value,
                self.query_one("#field-password-again", Input).value,
            )
        groups = set(self.query_one("#groups", SelectionList).selected)
        groups |= set(self.query_one("#required-groups", SelectionList).selected)
        return FormState(
            fields=tuple((key, self.query_one(f"#field-{key}", Input).value) for key, _ in FIELDS),
            passwords=passwords,
            groups=frozenset(groups),
            department_groups=self.query_one("#department-groups", AssignmentList).state(),
            departments=self.query_one("#departments", AssignmentList).state(),
        )

    @property
    def dirty(self) -> bool:
        """Whether anything differs from what was loaded (read-only forms never are)."""
        if self.form is None or self.baseline is None or self.form.read_only:
            return False
        return self.current_state() != self.baseline

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return self.form is not None and not self.form.read_only
        if action == "reload":
            return not self.is_new
        return True

    # -- leaving -------------------------------------------------------------------------

    def action_back(self) -> None:
        """Esc: leave, asking first when there are unsaved changes."""
        if not self.dirty:
            self.dismiss(self.saved_something)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(self.saved_something)

        self.app.push_screen(
            ConfirmScreen("Discard the unsaved changes of this form?", "Discard"), answered
        )

    def action_reload(self) -> None:
        """Load the user again as stored now (after a conflict), asking before discarding."""
        if not self.dirty:
            self._load()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self._load()

        self.app.push_screen(
            ConfirmScreen("Discard your changes and load the user as stored now?", "Reload"),
            answered,
        )

    # -- saving --------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.form is None or self.form.read_only or self._saving:
            return
        state = self.current_state()
        problems = form_problems(state, self.form, is_new=self.is_new, baseline=self.baseline)
        self._show_problems(problems)
        if problems:
            return
        if self.is_new:
            self._create(state)
        else:
            self._update(state)

    def _create(self, state: FormState) -> None:
        session = self.session
        fields: dict[str, Any] = dict(state.fields)  # the form's text fields, by keyword
        dep_groups = dict(state.department_groups)
        departments = dict(state.departments)

        def call() -> UserDetail:
            return session.users.create(
                **fields,
                password=state.passwords[0],
                password_again=state.passwords[1],
                groups=sorted(state.groups),
                department_groups=sorted(dep_groups),
                read_only_department_groups=sorted(i for i, ro in dep_groups.items() if ro),
                departments=sorted(departments),
                read_only_departments=sorted(i for i, ro in departments.items() if ro),
            )

        def done(user: UserDetail) -> None:
            self._saving = False
            self.notify(f"Created user {user.username!r} (#{user.id})", title="Saved")
            self.dismiss(True)

        def cancelled() -> None:
            self._saving = False
            self._banner("", "")

        self._saving = True
        self._banner("Saving…", "")
        # A new user gets what their groups give and the chats of what they are assigned:
        # asked with that impact (the store reads every user the change creates).
        ask_with_impact(
            self,
            f"Create user {fields.get('username', '')!r}?",
            "Create",
            Touches(),
            call,
            done,
            self._refused,
            cancelled,
        )

    def _update(self, state: FormState) -> None:
        assert self.form is not None and self.form.user is not None and self.baseline is not None
        user, base = self.form.user, self.baseline
        before_fields = dict(base.fields)
        wanted = WantedUser(
            fields={k: v for k, v in state.fields if before_fields.get(k) != v},
            groups=frozenset(state.groups),
            department_groups=dict(state.department_groups),
            departments=dict(state.departments),
            expected_version=user.cache_version,
        )
        unchanged = (state.groups, state.department_groups, state.departments) == (
            base.groups,
            base.department_groups,
            base.departments,
        )
        if not wanted.fields and unchanged:
            self.notify("Nothing changed", title="Not saved")
            return
        user_save = self.session.user_save

        def call() -> SavedUser:
            """The store applies the difference in one transaction (``UserSaveService``): a
            change made meanwhile by someone else stops it whole, as a conflict."""
            return user_save.save(user.id, wanted)

        def done(saved: SavedUser) -> None:
            self._saving = False
            if self.form is not None:
                # Stored whole: the saved user is the new starting point of the form.
                self.saved_something = True
                self.form = replace(self.form, user=saved.user)
                self.baseline = loaded_state(self.form)
            self.notify(f"Saved user {user.username!r}", title="Saved")
            self.dismiss(True)

        self._saving = True
        self._banner("Saving…", "")
        changed = [
            what
            for what, on in (
                ("groups", state.groups != base.groups),
                ("department groups", state.department_groups != base.department_groups),
                ("departments", state.departments != base.departments),
            )
            if on
        ]
        if not changed:  # account fields alone change no permission and no chat access
            self.call_store(call, done, failed=self._refused, group="form-save")
            return

        def cancelled() -> None:
            self._saving = False
            self._banner("", "")

        ask_with_impact(
            self,
            f"Save user {user.username!r}? Their {' and '.join(changed)} change.",
            "Save",
            Touches.of(users=[user.id]),
            call,
            done,
            self._refused,
            cancelled,
        )

    def _show_problems(self, problems: dict[str, str]) -> None:
        """Each problem next to its field, all of them in the banner; the first field in error
        gets the focus. No notification: it would cover the fields."""
        for marker in self.query(".field-error").results(Static):
            key = (marker.id or "").removeprefix("error-")
            marker.update(literal(problems.get(key, "")))
        if not problems:
            return
        count = len(problems)
        inline = {key for key in problems if self.query(f"#error-{key}")}
        lines = [
            markup(
                "[b]Not saved:[/b] $n $problems$where",
                n=count,
                problems="problem" if count == 1 else "problems",
                where=", marked at their fields" if inline else "",
            )
        ]
        lines += [literal(message) for key, message in problems.items() if key not in inline]
        self._banner(Content("\n").join(lines), "error")
        for key in problems:
            field = self.query(f"#field-{key}").results(Input)
            for widget in field:
                self.query_one("#form-tabs", TabbedContent).active = "tab-account"
                widget.focus()
                return

    def on_input_changed(self, event: Input.Changed) -> None:
        """A corrected field loses its error mark."""
        key = (event.input.id or "").removeprefix("field-")
        for widget in self.query(f"#error-{key}").results(Static):
            widget.update("")

    def _refused(self, message: str) -> None:
        """Keep the form and its input; say what the store said."""
        self._saving = False
        self._banner(markup("[b]Not saved:[/b] $message", message=message), "error")
