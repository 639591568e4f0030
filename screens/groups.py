"""Groups: every group with its flags, work-with targets, roles and member count.

``/`` filters as you type, Enter opens the group form, ``n`` starts a new group, ``x`` deletes
the highlighted one (after asking). Keys the actor may not use are not offered; the store
refuses them anyway (group 1, or a group that is some member's only group, with its message).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from screens.listing import FilteredListScreen
from screens.text import fit
from screens.widgets import OpenTable, TextInput
from store import Session
from store.impact import Touches
from store.views import GroupInfo


class GroupsScreen(FilteredListScreen[GroupInfo]):
    """The groups list (``lhuser/grouplist``)."""

    CSS_PATH = "groups.tcss"
    NOUN = "group"
    # (label, width) of each column; with DataTable's padding they fit 80 columns.
    COLUMNS = (
        ("Name", 16),
        ("Req", 3),
        ("Off", 3),
        ("Works with", 16),
        ("Roles", 17),
        ("Users", 5),
        ("Adm", 3),
    )
    FILTER_ID = "filter"
    STATUS_ID = "groups-status"
    CREATE_CAPABILITY = "groups.create"
    DELETE_CAPABILITY = "groups.delete"

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with Vertical(id="groups"):
            yield Static("Groups", id="groups-title", classes="title")
            yield TextInput(
                placeholder="/ filter by name, works-with or role", id="filter", compact=True
            )
            yield OpenTable(id="groups-table", cursor_type="row", zebra_stripes=False)
            yield Static("", id="groups-status")
        yield from self.compose_footer()

    def fetch(self, session: Session) -> list[GroupInfo]:
        return session.groups.list()

    def matches(self, group: GroupInfo, text: str) -> bool:
        return (
            text in group.name.lower()
            or any(text in r.name.lower() for r in group.works_with)
            or any(text in r.name.lower() for r in group.roles)
        )

    def cells(self, group: GroupInfo) -> list[Text]:
        works = ", ".join(r.name for r in group.works_with)
        if group.members_withheld:
            works = f"(-1) {works}".strip()
        return [
            fit(group.name, 16),
            Text("yes" if group.required else ""),
            Text("off" if group.disabled else ""),
            fit(works, 16),
            fit(", ".join(r.name for r in group.roles), 17),
            Text(str(group.member_count)),
            Text("*/*" if group.grants_administration else ""),
        ]

    def legend(self) -> str:
        return (
            "Req = required on the user form · Off = disabled · "
            "Adm = grants */* · (-1) = own members may not hand it out"
        )

    def open(self, group_id: int | None) -> None:
        from screens.group_form import GroupFormScreen

        self.app.push_screen(GroupFormScreen(self.session, group_id))

    def delete_question(self, group: GroupInfo) -> str:
        members = f" {group.member_count} membership(s)," if group.member_count else ""
        return (
            f"Delete group {group.name!r}?\nIts{members} role links and work-with rows "
            "are removed too. This cannot be undone."
        )

    def delete(self, session: Session, group: GroupInfo) -> None:
        session.groups.delete(group.id)

    def delete_touches(self, group: GroupInfo) -> Touches | None:
        """Its members lose what its roles gave them (a group is nobody's only group)."""
        return Touches.of(groups=[group.id])
