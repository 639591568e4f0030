"""Shown when the database cannot be opened: the reason, and how to point elsewhere.

The database's URL is shown without its password. A console started for someone else (over
SSH or the web: the app's ``local`` is False) shows neither the URL nor the server's path to
the database file, only its name (``describe_url``): the person at the other end did not
choose them and may not learn them.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from screens.errors import GuardedDispatch
from screens.text import literal, markup
from store.errors import StoreError
from store.locations import describe_url, sqlite_path


def without_password(url: str) -> str:
    """``mysql://lhc:***@host/db`` for ``mysql://lhc:secret@host/db``."""
    scheme, separator, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not separator or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


class ProblemScreen(GuardedDispatch, Screen[None]):
    """A clear message instead of a traceback."""

    CSS_PATH = "problem.tcss"
    BINDINGS = [Binding("q", "app.quit", "Quit")]

    def __init__(self, message: str, database_url: str) -> None:
        super().__init__()
        self.message = message
        self.database_url = database_url

    def _remote(self) -> bool:
        return not getattr(self.app, "local", True)

    def _message(self) -> str:
        """The reason; for a remote console with the database's URL and path as its name."""
        message, url = self.message, self.database_url
        if not self._remote():
            return message.replace(url, without_password(url))
        name = describe_url(url)
        hidden = {url: name, without_password(url): name}
        try:
            path = sqlite_path(url)
        except StoreError:
            path = None
        if path is not None:
            hidden |= {str(path): name, str(path.parent): "the database's folder"}
        for secret in sorted(hidden, key=len, reverse=True):
            message = message.replace(secret, hidden[secret])
        return message

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="problem"):
            yield Static("Cannot open the database", classes="title")
            yield Static(literal(self._message(), lines=True), id="problem-message")
            if self._remote():
                hint = markup(
                    "Database: $name\n\nAsk the administrator of this console.",
                    name=describe_url(self.database_url),
                )
            else:
                hint = markup(
                    "Database: $url\n\n"
                    "Point the console elsewhere with --db URL or LHC_CONSOLE_DB.",
                    url=without_password(self.database_url),
                )
            yield Static(hint, classes="hint")
        yield Footer()
