"""Home: who is logged in, their groups, their scope in one line, and where they can go."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.base import ConsoleScreen
from screens.navigation import DESTINATIONS, Destination, available
from screens.text import literal, markup
from store.views import ScopeSummary


class HomeScreen(ConsoleScreen):
    """The landing screen after login."""

    # Every loaded screen's styles apply app-wide: ids here are "home-…" where another screen's
    # CSS could match (groups.tcss sized "#groups" 1fr, and home's groups line grew after a
    # visit to Groups), and home.tcss sets each line's height itself.
    CSS_PATH = "home.tcss"
    BINDINGS = [
        Binding("escape", "back", "", show=False),  # nothing behind home: not in its help
        Binding("l", "log_out", "Log out"),
        Binding("ctrl+r", "refresh", "Refresh"),
        *[Binding(d.key, f"go('{d.key}')", d.title, show=False) for d in DESTINATIONS],
    ]

    destinations: list[Destination]

    def compose(self) -> ComposeResult:
        yield from self.compose_frame()
        with Vertical(id="home"):
            yield Static("Loading…", id="who", classes="title")
            yield Static("", id="home-groups")
            yield Static("", id="scope")
            yield Static("", id="powers")
            yield OptionList(id="menu")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.destinations = []
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys of screens the actor may not open are neither shown nor active."""
        if action == "go":
            return any(d.key == parameters[0] for d in self.destinations)
        return True

    def action_refresh(self) -> None:
        session = self.session
        self.call_store(
            lambda: (session.permissions.summary(), session.permissions.capabilities()),
            lambda result: self._show(*result),
        )

    def action_log_out(self) -> None:
        self.app.log_out()  # type: ignore[attr-defined]

    def action_go(self, key: str) -> None:
        for destination in self.destinations:
            if destination.key == key:
                self.app.push_screen(destination.open(self.session))

    @on(OptionList.OptionSelected, "#menu")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.action_go(event.option.id)

    def _show(self, summary: ScopeSummary, capabilities: frozenset[str]) -> None:
        self.app.capabilities = capabilities  # type: ignore[attr-defined]
        self.query_one("#who", Static).update(
            markup("Logged in as [b]$name[/b]", name=summary.username)
        )
        groups = ", ".join(g.name for g in summary.own_groups) or "no groups"
        self.query_one("#home-groups", Static).update(literal(f"Your groups: {groups}"))
        self.query_one("#scope", Static).update(literal(f"Scope: {summary.one_line()}"))
        powers = []
        if summary.is_administrator:
            powers.append("administrator (*/*)")
        if summary.sees_all_users:
            powers.append("sees every user")
        if summary.edits_all_groups:
            powers.append("assigns any group")
        powers_line = self.query_one("#powers", Static)
        powers_line.update(literal(("Also: " + ", ".join(powers)) if powers else ""))
        powers_line.display = bool(powers)  # no blank lines where there is nothing to say
        self.destinations = available(capabilities)
        menu = self.query_one("#menu", OptionList)
        menu.clear_options()
        menu.add_options(
            Option(
                markup(
                    "[b]$key[/b]  $title [dim]$help[/dim]",
                    key=d.key,
                    title=f"{d.title:<16}",
                    help=d.help,
                ),
                id=d.key,
            )
            for d in self.destinations
        )
        menu.display = bool(self.destinations)
        if self.destinations:
            menu.focus()
        self.refresh_bindings()
