"""One role's policies: module, function, grant or exclude, limitation, and what it covers.

``a`` adds a policy (the policy form), ``x`` removes the highlighted one after asking, ``r``
renames the role; these are offered only when the actor may change this role
(``lhpermission/edit``, and administration roles only to administrators). ``/`` filters the
policies. Descriptions come from the catalogue; a stored policy the catalogue does not know is
shown as it is, marked "(not in catalogue)".
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Static

from screens.base import ConsoleScreen
from screens.impact import ImpactConfirmScreen
from screens.text import fit, literal, markup
from screens.widgets import SafeTable, TextInput
from store import Session
from store.catalogue import catalogue, describe
from store.impact import Impact, Touches
from store.views import PolicyInfo, RoleInfo

NOT_IN_CATALOGUE = "(not in catalogue)"
COLUMNS = (
    ("Module", 12),
    ("Function", 22),
    ("Type", 7),
    ("Limitation", 10),
    ("Description", 15),
)


def policy_description(policy: PolicyInfo) -> str:
    """What the policy covers, from the catalogue, or the not-in-catalogue mark."""
    return describe(policy.module, policy.function) or NOT_IN_CATALOGUE


@dataclass(frozen=True)
class RoleEditorData:
    role: RoleInfo
    capabilities: frozenset[str]
    may_change: bool


class PolicyTable(SafeTable):
    """The policies; Enter is not used here (rows have no form of their own)."""


class RoleEditorScreen(ConsoleScreen):
    """The policies of one role (``lhpermission/list`` to see, ``edit`` to change)."""

    CSS_PATH = "role_editor.tcss"
    FILTER_ID = "policy-filter"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("a", "add", "Add policy"),
        Binding("x", "remove", "Remove"),
        Binding("r", "rename", "Rename"),
    ]

    def __init__(self, session: Session, role_id: int) -> None:
        super().__init__(session)
        self.role_id = role_id
        self.data: RoleEditorData | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with Vertical(id="role-editor"):
            yield Static("Loading…", id="role-title", classes="title")
            yield Static("", id="role-groups")
            yield TextInput(
                placeholder="/ filter by module, function or description",
                id="policy-filter",
                compact=True,
            )
            yield PolicyTable(id="policies", cursor_type="row", zebra_stripes=False)
            yield Static("", id="policy-detail")
            with Horizontal(id="rename-row"):
                yield Label("Rename to", id="rename-label")
                yield TextInput(
                    placeholder="new name (Enter renames, Esc cancels)", id="rename", compact=True
                )
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one(PolicyTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.query_one("#rename-row").display = False
        table.focus()
        self.load()

    # -- data ----------------------------------------------------------------------------

    def load(self) -> None:
        session, role_id = self.session, self.role_id

        def read() -> RoleEditorData:
            catalogue()  # read the catalogue file off the UI thread (it is cached)
            return RoleEditorData(
                session.roles.get(role_id),
                session.permissions.capabilities(),
                session.roles.may_change(role_id),
            )

        self.call_store(read, self._loaded)

    def _loaded(self, data: RoleEditorData) -> None:
        self.data = data
        self._show_role(data.role)
        self.refresh_bindings()

    def _show_role(self, role: RoleInfo) -> None:
        data = self.data
        assert data is not None
        self.data = RoleEditorData(role, data.capabilities, data.may_change)
        count = len(role.policies)
        mode = "" if data.may_change else " · read-only for you"
        self.query_one("#role-title", Static).update(
            literal(f"Role {role.name} · {count} {'policy' if count == 1 else 'policies'}{mode}")
        )
        groups = ", ".join(g.name for g in role.groups) or "no group (it gives nobody anything)"
        self.query_one("#role-groups", Static).update(literal(f"Used by: {groups}"))
        self._fill()

    def _shown(self) -> list[PolicyInfo]:
        if self.data is None:
            return []
        text = self.query_one("#policy-filter", Input).value.strip().lower()
        policies = list(self.data.role.policies)
        if not text:
            return policies
        return [
            p
            for p in policies
            if text in p.module.lower()
            or text in p.function.lower()
            or text in policy_description(p).lower()
        ]

    def _fill(self) -> None:
        table = self.query_one(PolicyTable)
        keep = self._highlighted()
        table.clear()
        shown = self._shown()
        for p in shown:
            table.add_row(
                fit(p.module, 12),
                fit(p.function, 22),
                Text("exclude" if p.exclude else "grant"),
                fit(p.limitation, 10),
                fit(policy_description(p), 15),
                key=str(p.id),
            )
        if keep is not None and any(p.id == keep.id for p in shown):
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        self._detail()

    def _highlighted(self) -> PolicyInfo | None:
        table = self.query_one(PolicyTable)
        if self.data is None or table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # the cursor sits outside the rows while the table is rebuilt
            return None
        return next((p for p in self.data.role.policies if str(p.id) == key), None)

    def _detail(self) -> None:
        """The highlighted policy in full: the table cuts long descriptions and limitations."""
        policy = self._highlighted()
        detail = self.query_one("#policy-detail", Static)
        if policy is None:
            detail.update("No policies." if self.data and not self.data.role.policies else "")
            return
        template = (
            "$module/$function ([b]exclude[/b])" if policy.exclude else "$module/$function (grant)"
        )
        if policy.limitation:
            template += " · limited to $limitation"
        detail.update(
            markup(
                template + "\n[dim]$description[/dim]",
                module=policy.module,
                function=policy.function,
                limitation=policy.limitation,
                description=policy_description(policy),
            )
        )

    # -- keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        data = self.data
        changeable = data is not None and data.may_change and "roles.edit" in data.capabilities
        if action in ("add", "rename"):
            return changeable
        if action == "remove":
            return changeable and self._highlighted() is not None
        return True

    @on(DataTable.RowHighlighted, "#policies")
    def _moved(self) -> None:
        self._detail()
        self.refresh_bindings()

    @on(Input.Changed, "#policy-filter")
    def _filter_changed(self) -> None:
        self._fill()
        self.refresh_bindings()

    def action_back(self) -> None:
        """Leave the rename prompt or the filter first; then back to the roles."""
        row = self.query_one("#rename-row")
        if row.display:
            row.display = False
            self.query_one(PolicyTable).focus()
            return
        super().action_back()

    def action_add(self) -> None:
        from screens.policy_form import PolicyFormScreen

        if self.data is None:
            return

        def added(role: RoleInfo | None) -> None:
            if role is not None:
                self._show_role(role)
                self.refresh_bindings()

        role = self.data.role
        self.app.push_screen(PolicyFormScreen(self.session, role.id, role.name), added)

    def action_remove(self) -> None:
        policy, data = self._highlighted(), self.data
        if policy is None or data is None:
            return
        kind = "exclusion" if policy.exclude else "grant"
        limitation = f" {policy.limitation}" if policy.limitation else ""
        question = (
            f"Remove the {kind} {policy.module}/{policy.function}{limitation} "
            f"from role {data.role.name!r}?"
        )
        role_id, session = data.role.id, self.session

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_store(
                    lambda: session.roles.remove_policy(role_id, policy.id),
                    lambda role: self._removed(role, policy),
                    group="write",
                    exclusive=False,
                )

        def preview() -> Impact:
            return session.impact.preview(
                Touches.of(roles=[role_id]), lambda: session.roles.remove_policy(role_id, policy.id)
            )

        self.app.push_screen(ImpactConfirmScreen(question, "Remove", preview), answered)

    def _removed(self, role: RoleInfo, policy: PolicyInfo) -> None:
        self.notify(
            f"{policy.module}/{policy.function} removed", title="Policy removed", markup=False
        )
        self._show_role(role)
        self.refresh_bindings()

    def action_rename(self) -> None:
        if self.data is None:
            return
        rename = self.query_one("#rename", Input)
        rename.value = self.data.role.name
        self.query_one("#rename-row").display = True
        rename.focus()

    @on(Input.Submitted, "#rename")
    def _rename(self, event: Input.Submitted) -> None:
        name, role_id = event.value, self.role_id
        self.call_store(
            lambda: self.session.roles.rename(role_id, name),
            self._renamed,
            group="write",
            exclusive=False,
        )

    def _renamed(self, role: RoleInfo) -> None:
        self.query_one("#rename-row").display = False
        self.query_one(PolicyTable).focus()
        self.notify(f"Role renamed to {role.name!r}", title="Renamed", markup=False)
        self._show_role(role)
