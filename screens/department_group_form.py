"""The form for a department group (name + departments) or a new department (name only).

It only collects input; the departments screen sends it to the store, which validates it
(length, duplicates, existing departments) and may refuse it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from screens.errors import GuardedDispatch
from screens.text import literal
from screens.widgets import TextInput
from store.views import Ref


@dataclass(frozen=True)
class DepartmentGroupInput:
    """What the person entered: a name and (for a department group) the departments picked."""

    name: str
    departments: tuple[int, ...]


class DepartmentGroupForm(GuardedDispatch, ModalScreen[DepartmentGroupInput | None]):
    """Name, and departments in a SelectionList when ``departments`` is given."""

    CSS_PATH = "department_group_form.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(
        self,
        title: str,
        *,
        name: str = "",
        departments: Sequence[Ref] | None = None,
        selected: Iterable[int] = (),
        save_label: str = "Save",
    ) -> None:
        super().__init__()
        self.form_title = title
        self.initial_name = name
        self.departments = departments
        self.selected = set(selected)
        self.save_label = save_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dgform"):
            yield Static(literal(self.form_title), id="dgform-title")
            yield TextInput(self.initial_name, placeholder="name", id="dgform-name")
            if self.departments is not None:
                yield Static("Departments (Space to pick):", id="dgform-label")
                yield SelectionList[int](
                    *[
                        Selection(literal(d.name), d.id, d.id in self.selected)
                        for d in self.departments
                    ],
                    id="dgform-departments",
                )
            with Horizontal(id="dgform-buttons"):
                yield Button("Cancel", id="dgform-cancel")
                yield Button(self.save_label, id="dgform-save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#dgform-name", Input).focus()

    @on(Input.Submitted, "#dgform-name")
    def _name_entered(self) -> None:
        if self.departments is not None:
            self.query_one("#dgform-departments", SelectionList).focus()
        else:
            self.action_save()

    @on(Button.Pressed, "#dgform-save")
    def action_save(self) -> None:
        name = self.query_one("#dgform-name", Input).value.strip()
        if not name:
            self.notify("Enter a name", severity="warning")
            self.query_one("#dgform-name", Input).focus()
            return
        picked: tuple[int, ...] = ()
        if self.departments is not None:
            picked = tuple(sorted(self.query_one("#dgform-departments", SelectionList).selected))
        self.dismiss(DepartmentGroupInput(name, picked))

    @on(Button.Pressed, "#dgform-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
