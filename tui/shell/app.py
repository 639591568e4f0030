"""The Textual application: the login screen at once, the database opened meanwhile, then home.

The App stays thin: it owns the database handle and the logged-in ``Session``; each screen
owns its own behaviour and calls the session's services from workers.

The login screen does not need the database until the password is submitted, so it is shown
first and the database is opened in a worker after the first paint: a person sees the form as
soon as Textual can draw it, and typing the credentials takes longer than opening the file. An
empty database then covers it with the first-run screen (only at the host's own console: a
console the servers started says there are no users yet), a failure with the problem screen.

The login form is the app's default screen, the bottom of the stack: home and the first-run
screens are pushed over it, and logging out (or replacing the data) closes them all and empties
the form (``show_login``). Textual cannot replace the bottom screen, and pushing the form over
an empty default screen cost a second screen's styles and layout before the first paint.

Only what the login screen needs is imported here. The store (with Peewee), bcrypt and every
other screen are imported where they are used, the store in the worker that opens the database
(for a SQLite file without the server drivers Peewee would load, ``store.drivers``): at import
time they were more than half of the time to the first screen.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from screens import errors
from screens.errors import GuardedDispatch
from screens.login import LoginScreen
from screens.text import printable
from store.errors import StoreError
from store.locations import describe_url

if TYPE_CHECKING:
    import asyncio

    from textual.message import Message
    from textual.notifications import SeverityLevel

    from screens.navigation import Destination
    from store import Session
    from store.database import Database


SSH_SESSION_VARIABLES = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")
"""Set by sshd (OpenSSH) in the sessions it starts: the console is not at the host's terminal."""

NO_USERS_MESSAGE = (
    "This help desk has no users yet; an administrator must load it locally, on the host: "
    "'lhc-console sample' (the documented sample) or 'lhc-console import FILE' (an LHC dump)."
)


class NoUsersScreen(GuardedDispatch, Screen[None]):
    """What a remote console shows on an empty database, instead of the first-run screen."""

    DEFAULT_CSS = """
    NoUsersScreen { align: center middle; }
    NoUsersScreen #no-users { width: 72; height: auto; padding: 1 2; border: round $warning; }
    """
    BINDINGS = [Binding("q", "app.quit", "Quit"), Binding("escape", "app.quit", "Quit", show=False)]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(NO_USERS_MESSAGE, id="no-users")
        yield Footer()


class LhcConsole(App[None]):
    """lhc-console: users, groups, roles and departments of a Live Helper Chat help desk."""

    TITLE = "lhc-console"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(
        self,
        database_url: str,
        actor_id: int | None = None,
        *,
        local: bool | None = None,
        login_ip: str = "console",
        require_recorded_logins: bool = False,
    ) -> None:
        super().__init__()
        self.database_url = database_url
        # Set only by the SSH server's console process, after the server checked the password or
        # key: the session starts as that account, and logging out ends it (no second login).
        self.actor_id = actor_id
        # Whether the person at this console is at the host itself: only they are offered the
        # first-run screen of an empty database (load the sample: admin/admin). The servers'
        # console processes pass False; left out, a console started as an account (SSH) is
        # remote, and ``offers_first_run`` also refuses a console in a browser.
        self.local = actor_id is None if local is None else local
        # What ``lh_users_login`` records as the address of a login on the form: the browser's
        # address for serve-web's consoles, "console" on the host.
        self.login_ip = login_ip
        # serve-web's consoles: a login whose attempt cannot be recorded (the database is or
        # became read-only) is refused unchecked, so that guessing stays limited.
        self.require_recorded_logins = require_recorded_logins
        self.db: Database | None = None
        self.read_only_reason: str | None = None  # why writes are impossible, when they are
        self.session: Session | None = None
        self.capabilities: frozenset[str] = frozenset()
        self._database_settled = threading.Event()  # opened, or failed to open

    def get_default_screen(self) -> Screen:
        """The login form; for a console the SSH server started logged in, a blank screen."""
        if self.actor_id is None:
            return LoginScreen()
        return super().get_default_screen()

    def on_mount(self) -> None:
        self.title = f"lhc-console · {describe_url(self.database_url)}"
        self.sub_title = "opening database…"
        self.call_after_refresh(self.connect_database)

    def wait_for_database(self, timeout: float = 60.0) -> Database | None:
        """The open database, waiting (in a worker) while it opens; None if it could not."""
        self._database_settled.wait(timeout)
        return self.db

    @work(thread=True, exclusive=True, group="database")
    def connect_database(self) -> None:
        """Connect (and create the schema on a new SQLite file) without blocking the UI.

        The store is imported here, in the worker, rather than with this module; for a SQLite
        file, without the server drivers Peewee would import (``store.drivers``).
        """
        from store.drivers import load_peewee_for

        load_peewee_for(self.database_url)
        from store.database import open_database
        from store.lookup import is_empty

        try:
            db = open_database(self.database_url)
            empty = is_empty()
        except StoreError as error:
            self._database_settled.set()
            self.call_from_thread(self._show_problem, str(error))
            return
        self.db = db
        self._database_settled.set()
        self.call_from_thread(self._database_ready, db, empty)

    @property
    def offers_first_run(self) -> bool:
        """Whether an empty database gets the first-run screen: only at the host's own terminal."""
        return self.local and self.actor_id is None and not self.is_web

    def _database_ready(self, db: Database, empty: bool) -> None:
        from store.faults import read_only_reason

        self.read_only_reason = read_only_reason(db)
        if self.read_only_reason is not None:
            self.notify(
                f"This database is read-only: {self.read_only_reason}. You can look at "
                "everything; nothing can be changed.",
                title="Read-only",
                severity="warning",
                timeout=30,
            )
        self.sub_title = self._with_mode("not logged in")
        if empty and not self.offers_first_run:
            self.sub_title = "no users yet"
            self.push_screen(NoUsersScreen())
        elif self.actor_id is not None:
            self.open_session(db, self.actor_id)
        elif empty:
            from screens.empty import EmptyDatabaseScreen

            self.push_screen(EmptyDatabaseScreen(db))

    @work(thread=True, exclusive=True, group="login")
    def open_session(self, db: Database, actor_id: int) -> None:
        """Start as an account authenticated elsewhere; the store still refuses a disabled one."""
        from store import Session

        try:
            session = Session(db, actor_id)
            summary = session.permissions.summary()
        except StoreError as error:
            self.call_from_thread(self._show_problem, str(error))
            return
        self.call_from_thread(self.logged_in, session, summary.username, summary.one_line())

    def _show_problem(self, message: str) -> None:
        from screens.problem import ProblemScreen

        self.sub_title = "no database"
        self._close_screens_above_the_bottom()
        self.push_screen(ProblemScreen(message, self.database_url))

    def logged_in(self, session: Session, username: str, scope_line: str) -> None:
        """Called by the login screen: remember the session and show who is here."""
        from screens.home import HomeScreen

        self.session = session
        self.sub_title = self._with_mode(f"{username} · {scope_line}")
        self._close_screens_above_the_bottom()
        self.push_screen(HomeScreen(session))

    def _with_mode(self, text: str) -> str:
        """The header's sub-title, saying first when nothing can be changed."""
        return f"READ-ONLY · {text}" if self.read_only_reason else text

    def log_out(self) -> None:
        """End the session: back to the login form, or for an SSH session, disconnect."""
        if self.actor_id is not None:
            self.exit()
            return
        self.show_login()

    def show_login(self) -> None:
        """The emptied login form, every screen above it closed and no one logged in.

        After logging out, after the first run loaded data, and after an import replaced it.
        """
        self.session = None
        self.capabilities = frozenset()
        self.sub_title = self._with_mode("not logged in")
        self._close_screens_above_the_bottom()
        login = self.screen_stack[0]
        if isinstance(login, LoginScreen):
            login.reset()

    def _close_screens_above_the_bottom(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: Textual's own entries, then every screen the actor may open.

        Textual's "Screenshot" is left out: it writes an SVG into the console's working
        directory, which over SSH is not the person's machine, and it failed there.
        """
        for command in super().get_system_commands(screen):
            if command.title.lower() != "screenshot":
                yield command
        if self.session is None:
            return
        from screens.navigation import available

        session = self.session
        destinations = available(self.capabilities)
        for destination in destinations:
            yield SystemCommand(
                f"open: {destination.title}",
                destination.help,
                partial(self._open, destination, session),
            )
        yield SystemCommand("session: Log out", "back to the login screen", self.log_out)
        # Home's keys open the same screens: listed once, as "open: …".
        yield from self._screen_commands(screen, skip={d.title for d in destinations})

    def _screen_commands(
        self, screen: Screen, skip: set[str] | frozenset[str] = frozenset()
    ) -> Iterable[SystemCommand]:
        """Every action the current screen offers now (the footer's keys, hidden ones too)."""
        area = (
            getattr(screen, "PALETTE_AREA", None)
            or type(screen).__name__.removesuffix("Screen").lower()
        )
        seen: set[str] = set(skip)
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if (
                active.node is self
                or not active.enabled
                or not binding.description
                or binding.action in ("back", "app.quit", "quit", "help")
                or binding.action in ("app.focus_next", "app.focus_previous")
                or (active.node is not screen and not binding.show)  # a widget's internals
                or binding.description in seen
            ):
                continue
            seen.add(binding.description)
            shortcut = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                f"{area}: {binding.description}",
                f"key {shortcut or key}",
                partial(self.run_action, binding.action, active.node),
            )

    async def on_event(self, event: events.Event) -> None:
        """Keys reach the fields they were typed for, however fast they come.

        Textual hands each key to the widget focused when the key arrives, but Tab moves focus
        only when the field has handled it, after the keys queued behind it: typed in one burst
        (a paste, a slow link, a script), ``admin`` Tab ``admin`` filled one field with
        ``adminadmin``. Here Tab and Shift+Tab out of a text field move focus at once when they
        mean Textual's "focus next/previous" (a widget or screen binding them to anything else
        keeps them); the login form does the same for Enter, and every screen with a filter
        for ``/``, and for Enter and Esc in the filter (``ConsoleScreen.move_focus_now``).
        """
        if isinstance(event, events.Key) and not event.is_forwarded:
            screen = self.screen
            move_focus_now = getattr(screen, "move_focus_now", None)  # login, ConsoleScreen
            if move_focus_now is not None and move_focus_now(event.key):
                return
            if event.key in ("tab", "shift+tab") and isinstance(self.focused, Input):
                active = screen.active_bindings.get(event.key)
                if active is not None and active.node in (self, screen) and active.enabled:
                    if active.binding.action in ("focus_next", "app.focus_next"):
                        screen.focus_next()
                        return
                    if active.binding.action in ("focus_previous", "app.focus_previous"):
                        screen.focus_previous()
                        return
        await super().on_event(event)

    def _open(self, destination: Destination, session: Session) -> None:
        self.push_screen(destination.open(session))

    def action_help(self) -> None:
        """Show the keys of the current screen (only those it offers now) and the global ones."""
        from screens.help import HelpScreen

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        own_actions = {b.action for b in type(screen).BINDINGS if isinstance(b, Binding)}
        keys: list[tuple[str, str]] = []
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if active.node is self or not active.enabled or not binding.description:
                continue
            if not (binding.show or (active.node is screen and binding.action in own_actions)):
                continue  # widget internals (cursor moves, copy): not what help is for
            shown = binding.key_display or self.get_key_display(binding) or key
            keys.append(("Enter" if shown == "⏎" else shown, binding.description))  # in words
        open_keys = [k.lower() for k, what in keys if what == "Open"]
        enter_shown = any(k in ("enter", "⏎") for k in open_keys)
        if open_keys and not enter_shown and isinstance(screen.focused, DataTable):
            keys.insert(0, ("Enter", "Open"))  # a table's Enter opens its row (users: e too)
        title = getattr(screen, "PALETTE_AREA", None) or type(screen).__name__.removesuffix(
            "Screen"
        )
        self.push_screen(HelpScreen(title, keys))

    # -- stored text is shown, never obeyed; errors are reported, never shown as tracebacks --

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A notification whose message and title are plain text, whatever they hold.

        Messages carry names and the store's refusals (which quote names): markup is never
        read in them (``markup`` is ignored) and control characters show as escapes. Every
        ``Widget.notify`` comes here.
        """
        super().notify(
            printable(message, lines=True),
            title=printable(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header: the database's name and the actor's groups, printable."""
        return super().format_title(printable(title), printable(sub_title))

    _serving = False  # True while the app's message loop runs: an error there is survivable
    _error_notices: dict[str, float] | None = None

    async def _process_messages_loop(self) -> None:
        self._serving = True
        try:
            await super()._process_messages_loop()
        finally:
            self._serving = False

    async def _dispatch_message(self, message: Message) -> None:
        """Textual ends the app's message loop when a handler raises: report it and go on."""
        try:
            await super()._dispatch_message(message)
        except Exception as error:
            self._handle_exception(error)

    def _handle_exception(self, error: Exception) -> None:
        """Every unexpected error of a handler, worker, callback or repaint comes here.

        Textual's own prints a Rich traceback with local variables and exits. Here the
        traceback goes to the log file (``screens.errors``) and, while the app is running,
        the person sees a short notification and goes on; only an error the app cannot survive
        (while starting or stopping) ends it, with one line on stderr instead of a traceback.
        The first error is kept in ``_exception``: a Pilot test (``run_test``) raises it when
        it ends, so a test never passes over a bug the console survived.
        """
        ref = errors.record(error)
        if self._exception is None:
            self._exception = error
        if self._serving and not self._exit and not self._closing and not self._closed:
            self._notify_error(error, ref)
            return
        self._return_code = 1
        # Textual declares this with its own cached_property, which mypy reads as Never below
        # Python 3.12 (so what follows looked unreachable); it is an asyncio.Event.
        cast("asyncio.Event", self._exception_event).set()
        if self._fatal_line is None:
            self._fatal_line = errors.stderr_line(ref, with_path=self.actor_id is None)
        self._close_messages_no_wait()

    _fatal_line: str | None = None

    def _print_error_renderables(self) -> None:
        """On exit after an error: the one line, never a traceback (nor Textual's own)."""
        if self._fatal_line is not None:
            self._exit_renderables.clear()
            self.error_console.print(self._fatal_line, soft_wrap=True)
            self._fatal_line = None
            return
        super()._print_error_renderables()

    def _notify_error(self, error: Exception, ref: str) -> None:
        """One notification per error reference every few seconds (a repaint may repeat it)."""
        import time

        notices = self._error_notices if self._error_notices is not None else {}
        self._error_notices = notices
        now = time.monotonic()
        if now - notices.get(ref, -1e9) < 5.0:
            return
        notices[ref] = now
        self.notify(
            errors.short_message(error, ref), title="Not done", severity="error", timeout=10
        )

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """``App.run``, with an error Textual itself lets through written as one line."""
        try:
            return super().run(*args, **kwargs)
        except Exception as error:
            ref = errors.record(error, "the console could not run")
            self._return_code = 1
            import sys

            print(errors.stderr_line(ref, with_path=self.actor_id is None), file=sys.stderr)
            return None


def run_console(
    database_url: str,
    actor_id: int | None = None,
    *,
    local: bool | None = None,
    login_ip: str = "console",
    require_recorded_logins: bool = False,
) -> int:
    """Entry point of ``lhc-console`` without a subcommand, and of the servers' consoles (SSH
    with ``actor_id``, the web's with ``local=False`` and the browser's address).

    Left out, ``local`` is False in a session of the host's sshd (``SSH_CONNECTION``): that is
    where a ``ForceCommand`` puts leaders who may run nothing but the console. An administrator
    logged in to the host runs ``lhc-console sample`` instead.
    """
    if local is None and actor_id is None:
        local = not any(os.environ.get(name) for name in SSH_SESSION_VARIABLES)
    app = LhcConsole(
        database_url,
        actor_id,
        local=local,
        login_ip=login_ip,
        require_recorded_logins=require_recorded_logins,
    )
    app.run()
    return app.return_code or 0  # 1 after an error the console could not survive
