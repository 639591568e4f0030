"""Login: username or e-mail and password, checked by the store (bcrypt, disabled accounts)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from screens.errors import GuardedDispatch, record
from screens.text import literal
from screens.widgets import TextInput

if TYPE_CHECKING:
    from store import Session


HINT = "Press Enter to log in"


class LoginScreen(GuardedDispatch, Screen[None]):
    """The only way in: an LHC account of this database.

    The store (and with it Peewee and bcrypt) is imported in the checking worker, not with this
    module, so that importing the app to paint the first screen does not load them.

    The app keeps this screen at the bottom of its stack for the whole run, under home: the
    password is cleared from the form as soon as it is accepted, and ``reset`` empties the form
    when the app comes back to it.

    Enter submits (from the username field it moves to the password first); the line under the
    fields says so, and says "Checking…" while bcrypt runs, when a second Enter is ignored; a
    refusal is shown on the line below it. No Button: in a keyboard-only form it is one more Tab
    stop, and its styles (every variant's) were the largest part of the form's cost before the
    first paint.
    """

    # The app's default screen, and Textual loads ``CSS_PATH`` only for screens it pushes: the
    # styles in login.tcss, beside this file, are this screen's default CSS instead.
    DEFAULT_CSS = Path(__file__).with_name("login.tcss").read_text(encoding="utf-8")
    BINDINGS = [Binding("escape", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.checking = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="login"):
            yield Static("Log in", classes="title")
            # Coming back to a filled field keeps its text: the next key adds to it.
            yield TextInput(placeholder="username or e-mail", id="username", select_on_focus=False)
            yield Input(placeholder="password", password=True, id="password", select_on_focus=False)
            yield Static(HINT, id="login-hint")
            yield Static("", id="login-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()

    def move_focus_now(self, key: str) -> bool:
        """Tab, Shift+Tab and Enter in the username field move the cursor at once; True if done.

        Called by the app for each key as it arrives, before the key is handed to a widget.
        Textual moves focus later (``Widget.focus`` waits for the next turn of the loop) while
        it hands the following keys to the widget focused now: typed in one burst (a paste, a
        slow link, a script), ``admin``, Tab, ``admin`` gave the username ``adminadmin``.
        Moving focus here, in order, sends each key to the field it was typed for.
        """
        username = self.query_one("#username", Input)
        password = self.query_one("#password", Input)
        focused = self.focused
        if key in ("tab", "shift+tab", "enter") and focused is username:
            if key == "shift+tab":
                return False
            self.set_focus(password)
            return True
        if key in ("tab", "shift+tab") and focused is password:
            self.set_focus(username)
            return True
        return False

    @on(Input.Submitted, "#username")
    def _next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    def _submit(self) -> None:
        if self.checking:
            return
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        if not username.strip() or not password:
            self._show_error("Enter your username (or e-mail) and password")
            return
        self._show_error("")
        self._set_checking(True)
        self.authenticate(username, password)

    @work(thread=True, exclusive=True, group="login")
    def authenticate(self, username: str, password: str) -> None:
        """bcrypt is slow on purpose: check the password off the UI thread."""
        from store import AuthenticationError, Session, StoreError
        from store.errors import UnrecordedLoginError
        from store.source_throttle import SourceThrottle, throttled

        # The app opens the database while the form is shown: a password typed first waits.
        db = self.app.wait_for_database()  # type: ignore[attr-defined]
        if db is None:
            self.app.call_from_thread(self._refused, "The database is not open")
            return
        try:
            # The browser's address for a console serve-web started; "console" on the host.
            ip = getattr(self.app, "login_ip", "console")
            # serve-web hands its consoles one per-address throttle (None on the host).
            # serve-web's consoles refuse, unchecked, a login they cannot record.
            required = bool(getattr(self.app, "require_recorded_logins", False))
            session = throttled(
                SourceThrottle.from_environment(),
                ip,
                lambda: Session.login(db, username, password, ip=ip, require_record=required),
            )
            summary = session.permissions.summary()
        except UnrecordedLoginError as error:
            # The one answer on the form; why, with the database's words, in the server's log.
            record(error, f"login refused unchecked: {error.reason}")
            self.app.call_from_thread(self._refused, str(error))
            return
        except AuthenticationError as error:
            self.app.call_from_thread(self._refused, str(error))
            return
        except StoreError as error:
            self.app.call_from_thread(self._refused, f"Cannot log in: {error}")
            return
        self.app.call_from_thread(self._accepted, session, summary.username, summary.one_line())

    def _accepted(self, session: Session, username: str, scope_line: str) -> None:
        self.query_one("#password", Input).value = ""
        self._set_checking(False)
        self.app.logged_in(session, username, scope_line)  # type: ignore[attr-defined]

    def reset(self) -> None:
        """An empty form with the cursor in the username field, for the next person."""
        self.query_one("#username", Input).value = ""
        self.query_one("#password", Input).value = ""
        self._set_checking(False)
        self._show_error("")
        self.query_one("#username", Input).focus()

    def _refused(self, message: str) -> None:
        self._show_error(message)
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()
        self._set_checking(False)

    def action_quit(self) -> None:
        """Esc asks first: over SSH, quitting ends the connection."""
        from screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.exit()

        self.app.push_screen(ConfirmScreen("Quit lhc-console?", "Quit"), answered)

    def _set_checking(self, checking: bool) -> None:
        self.checking = checking
        self.query_one("#login-hint", Static).update("Checking…" if checking else HINT)

    def _show_error(self, message: str) -> None:
        self.query_one("#login-error", Static).update(literal(message, lines=True))
