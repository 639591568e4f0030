"""One group: its name and flags, whom its members work with, its members and its roles.

Left: name, required, disabled, the "-1" flag (own members may not hand it out) and the
work-with list; Ctrl+S saves them together (one transaction). Right: members and roles, which
change at once: type a username and Enter to add a member, ``x`` removes the highlighted one
(only members the actor may change), Space on a role attaches or detaches it (offered only to
actors with ``lhuser/editgroup`` and ``lhpermission/edit``). A new group (``group_id`` None)
gets members and roles once it is saved.

Attaching or detaching a role, removing a member and saving a change of the disabled flag ask
first, with the change's impact: who gains and who loses what (issue 19, ``screens.impact``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, DataTable, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from screens.base import ConsoleScreen
from screens.confirm import ConfirmScreen
from screens.impact import ImpactConfirmScreen, ask_with_impact
from screens.text import cell, literal, markup
from screens.widgets import SafeTable, TextInput
from store import Session
from store.impact import Impact, Touches
from store.views import GroupInfo, Ref, UserDetail


@dataclass(frozen=True)
class GroupFormData:
    """Everything the form shows, read together in one worker."""

    info: GroupInfo | None
    groups: tuple[GroupInfo, ...]
    members: tuple[Ref, ...]
    role_choices: tuple[Ref, ...]
    capabilities: frozenset[str]
    may_change: bool


@dataclass(frozen=True)
class Settings:
    """The fields Ctrl+S saves, to tell what changed."""

    name: str
    required: bool
    disabled: bool
    withheld: bool
    works_with: tuple[int, ...]


class GroupFormScreen(ConsoleScreen):
    """Create or change one group."""

    CSS_PATH = "group_form.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("x", "remove_member", "Remove"),
    ]

    def __init__(self, session: Session, group_id: int | None) -> None:
        super().__init__(session)
        self.group_id = group_id
        self.data: GroupFormData | None = None
        self.loaded: Settings | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        yield Static("Loading…", id="form-title", classes="title")
        with Horizontal(id="form"):
            with Vertical(id="settings"):
                with Horizontal(id="name-row"):
                    yield Label("Name", id="name-label")
                    yield TextInput(placeholder="group name", id="name", compact=True)
                yield Checkbox("Required on the new-user form", id="required")
                yield Checkbox("Disabled (its roles give nothing)", id="disabled")
                yield Checkbox("Own members may not hand it out", id="withheld")
                yield Label("Members work with these groups", classes="section")
                yield SelectionList[int](id="works-with")
            with Vertical(id="links"):
                yield Label("Members", id="members-label", classes="section")
                yield SafeTable(id="members", cursor_type="row", zebra_stripes=False)
                yield TextInput(
                    placeholder="username to add, then Enter", id="add-member", compact=True
                )
                yield Label(
                    "Roles (Space attaches or detaches)", id="roles-label", classes="section"
                )
                yield SelectionList[int](id="roles-list")
                yield Static("", id="roles-text")
        yield Static("", id="form-status")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        members = self.query_one("#members", DataTable)
        members.add_column("Username", width=22, key="username")
        members.add_column("Change", width=9, key="change")
        self.load()

    # -- loading -------------------------------------------------------------------------

    def load(self) -> None:
        session, group_id = self.session, self.group_id

        def read() -> GroupFormData:
            capabilities = session.permissions.capabilities()
            groups = tuple(session.groups.list())
            if group_id is None:
                return GroupFormData(
                    None, groups, (), (), capabilities, "groups.create" in capabilities
                )
            info = session.groups.get(group_id)
            members = tuple(session.groups.members(group_id))
            may_change = session.groups.may_change(group_id)
            choices = (
                tuple(session.groups.role_choices())
                if "groups.roles" in capabilities and may_change
                else ()
            )
            return GroupFormData(info, groups, members, choices, capabilities, may_change)

        self.call_store(read, self._loaded)

    def _loaded(self, data: GroupFormData) -> None:
        self.data = data
        info = data.info
        editable = data.may_change
        works_editable = editable and "groups.edit" in data.capabilities
        if info is None:
            title = "New group"
        else:
            admin = " · grants */*" if info.grants_administration else ""
            title = f"Group {info.name}{admin}"
            if not editable:
                title += " · read-only for you"
        self.query_one("#form-title", Static).update(literal(title))

        name = self.query_one("#name", Input)
        name.value = info.name if info else ""
        name.disabled = not editable
        for widget_id, value in (
            ("#required", info.required if info else False),
            ("#disabled", info.disabled if info else False),
            ("#withheld", info.members_withheld if info else False),
        ):
            box = self.query_one(widget_id, Checkbox)
            box.value = value
            box.disabled = not (works_editable if widget_id == "#withheld" else editable)

        chosen = {r.id for r in info.works_with} if info else set()
        works = self.query_one("#works-with", SelectionList)
        works.clear_options()
        works.add_options(
            Selection(literal(g.name), g.id, g.id in chosen)
            for g in data.groups
            if info is None or g.id != info.id
        )
        works.disabled = not works_editable
        self.loaded = self._settings()

        self._fill_members()
        self._fill_roles()
        if editable:
            name.focus()
        else:
            works.focus()
        self.refresh_bindings()

    def _fill_members(self) -> None:
        data = self.data
        assert data is not None
        existing = data.info is not None
        table = self.query_one("#members", DataTable)
        table.clear()
        for member in data.members:
            table.add_row(
                cell(member.name),
                Text("yes" if member.changeable else "no"),
                key=str(member.id),
            )
        count = f" ({len(data.members)})" if existing else ""
        hint = "" if existing else " (save the group first)"
        self.query_one("#members-label", Label).update(f"Members{count}{hint}")
        table.display = existing
        adding = self.query_one("#add-member", Input)
        adding.display = existing and "groups.edit" in data.capabilities

    def _fill_roles(self) -> None:
        data = self.data
        assert data is not None
        info = data.info
        roles_list = self.query_one("#roles-list", SelectionList)
        roles_text = self.query_one("#roles-text", Static)
        offered = info is not None and bool(data.role_choices)
        roles_list.display = offered
        roles_text.display = not offered
        label = self.query_one("#roles-label", Label)
        if offered and info is not None:
            label.update("Roles (Space attaches or detaches)")
            carried = {r.id for r in info.roles}
            keep = roles_list.highlighted
            roles_list.clear_options()
            roles_list.add_options(
                Selection(
                    literal(r.name if r.changeable else f"{r.name} (admins only)"),
                    r.id,
                    r.id in carried,
                    disabled=not r.changeable,
                )
                for r in data.role_choices
            )
            if keep is not None and keep < roles_list.option_count:
                roles_list.highlighted = keep
            return
        label.update("Roles")
        if info is None:
            roles_text.update("[dim]Save the group first (Ctrl+S).[/dim]")
            return
        names = ", ".join(r.name for r in info.roles) or "none"
        roles_text.update(
            markup(
                "$names\n[dim]Attaching roles needs lhuser/editgroup and lhpermission/edit.[/dim]",
                names=names,
            )
        )

    # -- the settings (Ctrl+S) -----------------------------------------------------------

    def _settings(self) -> Settings:
        works = self.query_one("#works-with", SelectionList)
        return Settings(
            name=self.query_one("#name", Input).value.strip(),
            required=self.query_one("#required", Checkbox).value,
            disabled=self.query_one("#disabled", Checkbox).value,
            withheld=self.query_one("#withheld", Checkbox).value,
            works_with=tuple(sorted(works.selected)),
        )

    def _dirty(self) -> bool:
        return self.loaded is not None and self._settings() != self.loaded

    def action_save(self) -> None:
        data, before = self.data, self.loaded
        if data is None or before is None or self.busy:
            return
        now = self._settings()
        if data.info is not None and now == before:
            self.notify("Nothing to save")
            return
        works_changed = now.works_with != before.works_with or now.withheld != before.withheld
        if data.info is None:
            changes: dict[str, Any] = {
                "name": now.name,
                "required": now.required,
                "disabled": now.disabled,
            }
        else:
            changes = {
                field: getattr(now, field)
                for field in ("name", "required", "disabled")
                if getattr(now, field) != getattr(before, field)
            }
        session, group_id = self.session, self.group_id
        self._busy(True)

        def save() -> GroupInfo:
            return session.groups.save(
                group_id,
                **changes,
                works_with=now.works_with if works_changed else None,
                withhold_from_members=now.withheld if works_changed else None,
            )

        if group_id is not None and "disabled" in changes:
            # Of the form's settings only this one changes what members may do: ask first,
            # with who loses (or gains) what.
            state = "disabled: its roles give nothing" if now.disabled else "enabled again"
            ask_with_impact(
                self,
                f"Save group {now.name!r}? It will be {state}.",
                "Save",
                Touches.of(groups=[group_id]),
                save,
                self._saved,
                self._refused,
                lambda: self._busy(False),
            )
            return
        self.call_store(save, self._saved, failed=self._refused, group="write", exclusive=False)

    def _saved(self, info: GroupInfo) -> None:
        self._busy(False)
        created = self.group_id is None
        self.group_id = info.id
        self.notify(
            f"Group {info.name!r} {'created' if created else 'saved'}", title="Saved", markup=False
        )
        self.load()

    def _refused(self, message: str) -> None:
        self._busy(False)
        self.query_one("#form-status", Static).update(
            markup("[b]Not done:[/b] $message", message=message)
        )
        self.notify(message, title="Not done", severity="error", timeout=8, markup=False)

    def _busy(self, busy: bool) -> None:
        self.busy = busy
        if not busy:
            return
        self.query_one("#form-status", Static).update("")

    # -- members (at once) ---------------------------------------------------------------

    def _highlighted_member(self) -> Ref | None:
        if self.data is None:
            return None
        table = self.query_one("#members", DataTable)
        if not table.display or table.row_count == 0:
            return None
        index = table.cursor_row
        members = self.data.members
        return members[index] if 0 <= index < len(members) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        data = self.data
        if action == "save":
            return data is not None and data.may_change
        if action == "remove_member":
            member = self._highlighted_member()
            return (
                data is not None
                and "groups.edit" in data.capabilities
                and self.query_one("#members", DataTable).has_focus
                and member is not None
                and member.changeable
            )
        return True

    @on(DataTable.RowHighlighted, "#members")
    def _member_moved(self) -> None:
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    @on(Input.Submitted, "#add-member")
    def _add_member(self, event: Input.Submitted) -> None:
        """Find the user, then ask with the impact: the new member gains what the group's
        roles give (issue 19); a refusal (not found, not assignable) is said at once."""
        username = event.value.strip()
        group_id = self.group_id
        if not username or group_id is None:
            return
        session = self.session
        group_name = self.data.info.name if self.data is not None and self.data.info else ""

        def found(user: UserDetail) -> None:
            def add() -> tuple[str, list[Ref]]:
                session.groups.add_member(group_id, user.id)
                return user.username, session.groups.members(group_id)

            ask_with_impact(
                self,
                f"Add {user.username!r} to group {group_name!r}?",
                "Add",
                Touches.of(groups=[group_id], users=[user.id]),
                add,
                self._member_added,
                self._refused,
            )

        self.call_store(
            lambda: session.users.find(username),
            found,
            failed=self._refused,
            group="write",
            exclusive=False,
        )

    def _member_added(self, result: tuple[str, list[Ref]]) -> None:
        username, _members = result
        self.query_one("#add-member", Input).value = ""
        self.notify(f"{username} added to the group", title="Member added", markup=False)
        self._reload_links()

    def action_remove_member(self) -> None:
        member = self._highlighted_member()
        data = self.data
        if member is None or data is None or data.info is None:
            return
        group_id, group_name, session = data.info.id, data.info.name, self.session

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_store(
                    lambda: session.groups.remove_member(group_id, member.id),
                    lambda _: self._member_removed(member),
                    failed=self._refused,
                    group="write",
                    exclusive=False,
                )

        def preview() -> Impact:
            return session.impact.preview(
                Touches.of(groups=[group_id], users=[member.id]),
                lambda: session.groups.remove_member(group_id, member.id),
            )

        self.app.push_screen(
            ImpactConfirmScreen(
                f"Remove {member.name} from group {group_name!r}?", "Remove", preview
            ),
            answered,
        )

    def _member_removed(self, member: Ref) -> None:
        self.notify(f"{member.name} removed from the group", title="Member removed", markup=False)
        self._reload_links()

    def _reload_links(self) -> None:
        """Members and roles changed: re-read them, keeping unsaved edits of the settings."""
        group_id = self.group_id
        data = self.data
        if group_id is None or data is None:
            return
        session = self.session

        def read() -> tuple[GroupInfo, tuple[Ref, ...]]:
            return session.groups.get(group_id), tuple(session.groups.members(group_id))

        def done(result: tuple[GroupInfo, tuple[Ref, ...]]) -> None:
            info, members = result
            self.data = GroupFormData(
                info, data.groups, members, data.role_choices, data.capabilities, data.may_change
            )
            self._fill_members()
            self._fill_roles()
            self.refresh_bindings()

        self.call_store(read, done, group="links")

    # -- roles (at once) -----------------------------------------------------------------

    @on(SelectionList.SelectionToggled, "#roles-list")
    def _role_toggled(self, event: SelectionList.SelectionToggled) -> None:
        data = self.data
        if data is None or data.info is None:
            return
        role_id = event.selection.value
        group_id = data.info.id
        attach = role_id in event.selection_list.selected
        groups = self.session.groups
        call = (
            (lambda: groups.attach_role(group_id, role_id))
            if attach
            else (lambda: groups.detach_role(group_id, role_id))
        )

        def done(info: GroupInfo) -> None:
            name = next((r.name for r in data.role_choices if r.id == role_id), f"#{role_id}")
            verb = "attached to" if attach else "detached from"
            self.notify(f"Role {name!r} {verb} {info.name!r}", title="Roles", markup=False)
            self._reload_links()

        def failed(message: str) -> None:
            self._refused(message)
            self._fill_roles()  # show what the group really carries

        name = next((r.name for r in data.role_choices if r.id == role_id), f"#{role_id}")
        verb = "Attach" if attach else "Detach"
        where = "to" if attach else "from"
        ask_with_impact(
            self,
            f"{verb} role {name!r} {where} group {data.info.name!r}?",
            verb,
            Touches.of(groups=[group_id]),
            call,
            done,
            failed,
            self._fill_roles,  # not done: show what the group really carries
        )

    # -- leaving -------------------------------------------------------------------------

    def action_back(self) -> None:
        if not self._dirty():
            super().action_back()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                super(GroupFormScreen, self).action_back()

        self.app.push_screen(
            ConfirmScreen("Leave without saving the changes to this group?", "Discard"),
            answered,
        )
