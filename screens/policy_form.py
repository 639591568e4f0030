"""Add a policy to a role: a module, one of its functions, an optional limitation, grant or
exclude.

Both lists come from the catalogue (plus ``*``) and filter as you type; Up/Down in a filter
moves through its list, Enter in a filter takes the highlighted entry and moves on. The
limitation is JSON such as ``{"group":[2]}``; the store validates it, and when it refuses (bad
JSON, a duplicate, ``*/*`` by a non-administrator) the form stays open with its message and
nothing is added. The store is asked first with a preview (the policy added, measured, rolled
back): a refusal shows in the form, an accepted policy is confirmed with its impact, who gains
and loses what (issue 19). Once confirmed the form closes with the updated role.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from screens.base import ConsoleScreen
from screens.impact import ask_with_impact
from screens.text import clip, literal, markup
from screens.widgets import TextInput
from store import Session
from store.catalogue import describe, functions_of, modules
from store.impact import Touches
from store.views import RoleInfo

WILDCARD = "*"


class PolicyFormScreen(ConsoleScreen, ModalScreen[RoleInfo | None]):
    """A modal over the role editor; dismisses with the role after a policy is added."""

    CSS_PATH = "policy_form.tcss"
    BINDINGS = [
        Binding("escape", "back", "Cancel"),
        Binding("ctrl+s", "add", "Add"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    def __init__(self, session: Session, role_id: int, role_name: str) -> None:
        super().__init__(session)
        self.role_id = role_id
        self.role_name = role_name
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="policy-form"):
            yield Static(
                markup("Add a policy to role [b]$name[/b]", name=self.role_name), id="policy-title"
            )
            with Horizontal(id="pickers"):
                with Vertical(id="module-column"):
                    yield Label("Module")
                    yield TextInput(placeholder="filter modules", id="module-filter", compact=True)
                    yield OptionList(id="modules")
                with Vertical(id="function-column"):
                    yield Label("Function")
                    yield TextInput(
                        placeholder="filter functions", id="function-filter", compact=True
                    )
                    yield OptionList(id="functions")
            yield Static("", id="policy-chosen")
            with Horizontal(id="limitation-row"):
                yield Label("Limitation", id="limitation-label")
                yield TextInput(
                    placeholder='optional JSON, e.g. {"group":[2]}', id="limitation", compact=True
                )
            yield Checkbox("Exclude: take this function away instead of granting it", id="exclude")
            yield Static("", id="policy-error")
            with Horizontal(id="policy-buttons"):
                yield Button("Cancel", id="policy-cancel")
                yield Button("Add (Ctrl+S)", id="policy-add", variant="primary")

    def on_mount(self) -> None:
        self._fill_modules()
        self.query_one("#module-filter", Input).focus()

    # -- the two lists -------------------------------------------------------------------

    def _fill_modules(self) -> None:
        text = self.query_one("#module-filter", Input).value.strip().lower()
        entries = [(WILDCARD, "every module"), *((m.module, m.title) for m in modules())]
        options = [
            Option(
                markup("$module[dim]$title[/dim]", module=f"{module:<16}", title=clip(title, 14)),
                id=module,
            )
            for module, title in entries
            if not text or text in module or text in title.lower()
        ]
        listing = self.query_one("#modules", OptionList)
        listing.clear_options()
        listing.add_options(options)
        listing.highlighted = 0 if options else None
        self._fill_functions()

    def _module(self) -> str | None:
        listing = self.query_one("#modules", OptionList)
        if listing.highlighted is None or listing.option_count == 0:
            return None
        return listing.get_option_at_index(listing.highlighted).id

    def _fill_functions(self) -> None:
        module = self._module()
        text = self.query_one("#function-filter", Input).value.strip().lower()
        options: list[Option] = []
        if module is not None:
            options.append(Option(markup("$w  [dim]every function[/dim]", w=WILDCARD), id=WILDCARD))
            if module != WILDCARD:
                options += [
                    Option(literal(f.function), id=f.function) for f in functions_of(module)
                ]
        if text:
            options = [
                o
                for o in options
                if text in (o.id or "")
                or text in (describe(module or "", o.id or "") or "").lower()
            ]
        listing = self.query_one("#functions", OptionList)
        listing.clear_options()
        listing.add_options(options)
        listing.highlighted = 0 if options else None
        self._show_choice()

    def _function(self) -> str | None:
        listing = self.query_one("#functions", OptionList)
        if listing.highlighted is None or listing.option_count == 0:
            return None
        return listing.get_option_at_index(listing.highlighted).id

    def _show_choice(self) -> None:
        module, function = self._module(), self._function()
        chosen = self.query_one("#policy-chosen", Static)
        if module is None or function is None:
            chosen.update("[dim]Pick a module and a function.[/dim]")
            return
        description = describe(module, function) or "(not in catalogue)"
        chosen.update(
            markup(
                "[b]$module/$function[/b]  [dim]$description[/dim]",
                module=module,
                function=function,
                description=description,
            )
        )

    @on(Input.Changed, "#module-filter")
    def _module_filter_changed(self) -> None:
        self._fill_modules()

    @on(Input.Changed, "#function-filter")
    def _function_filter_changed(self) -> None:
        self._fill_functions()

    @on(OptionList.OptionHighlighted, "#modules")
    def _module_moved(self) -> None:
        self._fill_functions()

    @on(OptionList.OptionHighlighted, "#functions")
    def _function_moved(self) -> None:
        self._show_choice()

    @on(Input.Submitted, "#module-filter")
    @on(OptionList.OptionSelected, "#modules")
    def _module_taken(self) -> None:
        if self._module() is not None:
            self.query_one("#function-filter", Input).focus()

    @on(Input.Submitted, "#function-filter")
    @on(OptionList.OptionSelected, "#functions")
    def _function_taken(self) -> None:
        if self._function() is not None:
            self.query_one("#limitation", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "move":
            focused = self.focused
            return focused is not None and focused.id in ("module-filter", "function-filter")
        return True

    def action_move(self, step: int) -> None:
        """Up/Down in a filter move the highlight of the list below it."""
        focused = self.focused
        if focused is None:
            return
        target = "#modules" if focused.id == "module-filter" else "#functions"
        listing = self.query_one(target, OptionList)
        if step > 0:
            listing.action_cursor_down()
        else:
            listing.action_cursor_up()

    # -- adding --------------------------------------------------------------------------

    @on(Input.Submitted, "#limitation")
    @on(Button.Pressed, "#policy-add")
    def action_add(self) -> None:
        module, function = self._module(), self._function()
        if self.busy:
            return
        if module is None or function is None:
            self._error("Pick a module and a function first.")
            return
        limitation = self.query_one("#limitation", Input).value
        exclude = self.query_one("#exclude", Checkbox).value
        session, role_id = self.session, self.role_id
        self.busy = True
        self._error("")

        def add() -> RoleInfo:
            return session.roles.add_policy(
                role_id, module, function, limitation=limitation, exclude=exclude
            )

        def cancelled() -> None:
            self.busy = False

        kind = "exclusion" if exclude else "grant"
        shown = f" {limitation}" if limitation else ""
        ask_with_impact(
            self,
            f"Add the {kind} {module}/{function}{shown} to role {self.role_name!r}?",
            "Add",
            Touches.of(roles=[role_id]),
            add,
            self._added,
            self._refused,
            cancelled,
        )

    def _added(self, role: RoleInfo) -> None:
        self.busy = False
        module, function = self._module(), self._function()
        kind = "Exclusion" if self.query_one("#exclude", Checkbox).value else "Grant"
        self.notify(
            f"{kind} {module}/{function} added to {role.name!r}", title="Policy added", markup=False
        )
        self.dismiss(role)

    def _refused(self, message: str) -> None:
        self.busy = False
        self._error(message)

    def _error(self, message: str) -> None:
        self.query_one("#policy-error", Static).update(
            markup("[b]Not added:[/b] $message", message=message) if message else ""
        )

    @on(Button.Pressed, "#policy-cancel")
    def action_back(self) -> None:
        self.dismiss(None)
