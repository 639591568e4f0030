"""Import a configuration: the built-in sample or an LHC dump, previewed, then all or nothing.

Administrators only (``*/*``, SPEC §3.2 rule 4; the store checks it again). On a fresh
database, where nobody can log in yet, the console opens it without a session in first-run
mode: it loads only while the database is still empty and offers no Replace.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    ProgressBar,
    RadioButton,
    RadioSet,
    Static,
)

from screens.confirm import ConfirmScreen
from screens.errors import GuardedDispatch
from screens.text import literal, markup
from screens.widgets import TextInput
from seed.importer import import_dump
from seed.report import Authority, ImportReport, LoadedBy, console_wording
from seed.sample import load_sample
from store import Session, StoreError
from store.database import Database

SHOWN_NAMES = 8


class SampleImportScreen(GuardedDispatch, Screen[None]):
    """Pick a source, preview it (a dry run), then import it in one transaction."""

    CSS_PATH = "sample_import.tcss"
    BINDINGS = [
        Binding("ctrl+r", "preview", "Preview", priority=True),
        Binding("ctrl+g", "run_import", "Import", priority=True),
        Binding("escape", "back", "Back"),
    ]

    def __init__(
        self,
        db: Database,
        session: Session | None,
        *,
        first_run: bool = False,
        dump: bool = False,
    ) -> None:
        super().__init__()
        self.dump = dump  # opened to import a dump (``d`` on the empty database): path first
        if session is None and not first_run:
            raise ValueError("the import screen needs a session, or first_run=True")
        self.db = db
        self.session = session
        self.first_run = first_run
        # Who loads: the logged-in person (the store refuses a non-administrator), or the
        # first-run mode (only into an empty database, never a replace).
        self.by: LoadedBy = Authority.FIRST_RUN if first_run or session is None else session

    @classmethod
    def for_session(cls, session: Session) -> SampleImportScreen:
        """Opened from home or the palette by a logged-in admin."""
        return cls(session.db, session)

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="import"):
            yield Static("Import a configuration", classes="title")
            with RadioSet(id="source"):
                yield RadioButton(
                    "Built-in sample (LHC's three-level setup)",
                    value=not self.dump,
                    id="source-sample",
                )
                yield RadioButton(
                    "LHC dump file (.sql or .sql.gz)", value=self.dump, id="source-dump"
                )
            # Always a Tab stop: typing a path chooses the dump (a disabled field dropped it).
            yield TextInput(placeholder="path to the dump file", id="path", compact=True)
            yield Checkbox(
                "Replace what is there (the audit and login logs are kept)", id="replace"
            )
            with Horizontal(id="import-buttons"):
                yield Button("Preview", id="preview-button")
                yield Button("Import", id="import-button", variant="primary")
            yield ProgressBar(id="progress", show_eta=False)
        with VerticalScroll(id="preview-scroll"):
            yield Static("Preview (Ctrl+R) changes nothing; Import (Ctrl+G) writes.", id="preview")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#progress", ProgressBar).display = False
        if self.first_run:  # nothing to replace, and the first run never may
            self.query_one("#replace", Checkbox).display = False
        if self.dump:
            self.query_one("#path", Input).focus()
        else:
            self.query_one("#source", RadioSet).focus()

    # -- choices -------------------------------------------------------------------------

    @property
    def dump_chosen(self) -> bool:
        return self.query_one("#source-dump", RadioButton).value

    @on(RadioSet.Changed, "#source")
    def _source_changed(self, event: RadioSet.Changed) -> None:
        if event.pressed.id == "source-dump":
            self.query_one("#path", Input).focus()

    @on(Input.Changed, "#path")
    def _path_typed(self, event: Input.Changed) -> None:
        if event.value.strip() and not self.dump_chosen:
            self.query_one("#source-dump", RadioButton).value = True

    def _choice(self) -> tuple[Path | None, bool] | None:
        """(dump path or None for the sample, replace), or None with a message shown."""
        replace = self.query_one("#replace", Checkbox).value and not self.first_run
        if not self.dump_chosen:
            return None, replace
        text = self.query_one("#path", Input).value.strip()
        if not text:
            self._say("[b red]Enter the path of the dump file.[/]")
            return None
        path = Path(text).expanduser()
        if not path.is_file():
            self._say(markup("[b red]No file at $path[/]", path=str(path)))
            return None
        return path, replace

    # -- actions -------------------------------------------------------------------------

    @on(Button.Pressed, "#preview-button")
    def _preview_pressed(self) -> None:
        self.action_preview()

    @on(Button.Pressed, "#import-button")
    def _import_pressed(self) -> None:
        self.action_run_import()

    def action_back(self) -> None:
        if self.first_run:
            from screens.empty import EmptyDatabaseScreen

            self.app.switch_screen(EmptyDatabaseScreen(self.db))
        else:
            self.app.pop_screen()

    def action_preview(self) -> None:
        choice = self._choice()
        if choice is not None:
            self._say("Checking…")
            self.run_source(*choice, dry_run=True)

    def action_run_import(self) -> None:
        choice = self._choice()
        if choice is None:
            return
        path, replace = choice
        if not replace:
            self.run_source(path, replace, dry_run=False)
            return
        what = path.name if path else "the built-in sample"

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.run_source(path, True, dry_run=False)

        self.app.push_screen(
            ConfirmScreen(
                f"Replace every user, group, role and department with {what}?\n"
                "This empties the permission tables first. It cannot be undone "
                "(export first with `lhc-console export`).",
                "Replace",
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="import")
    def run_source(self, path: Path | None, replace: bool, *, dry_run: bool) -> None:
        """The dry run or the import itself, off the UI thread, reporting progress."""
        if not dry_run:
            self.app.call_from_thread(self._start_progress)
        try:
            if path is None:
                report = load_sample(self.db, replace=replace, dry_run=dry_run, by=self.by)
            else:
                report = import_dump(
                    self.db,
                    path,
                    replace=replace,
                    dry_run=dry_run,
                    by=self.by,
                    progress=None if dry_run else self._progress_from_thread,
                )
        except StoreError as error:
            self.app.call_from_thread(self._failed, console_wording(str(error)))
            return
        self.app.call_from_thread(self._done, report)

    def _progress_from_thread(self, done: int, total: int) -> None:
        self.app.call_from_thread(self._progress, done, total)

    def _start_progress(self) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self._say("Importing…")

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#progress", ProgressBar).update(total=max(total, 1), progress=done)

    def _failed(self, message: str) -> None:
        self.query_one("#progress", ProgressBar).display = False
        self._say(markup("[b red]Nothing imported:[/] $message", message=message))
        self.notify(message, title="Import refused", severity="error")

    def _done(self, report: ImportReport) -> None:
        self.query_one("#progress", ProgressBar).display = False
        self._say(describe(report))
        if report.dry_run:
            return
        self.notify(
            f"{report.counts.get('lh_users', 0)} users, {report.counts.get('lh_group', 0)} "
            f"groups, {report.counts.get('lh_role', 0)} roles from {report.source}",
            title="Imported",
        )
        if self.first_run or report.replace:
            self.app.show_login()  # type: ignore[attr-defined]

    def _say(self, text: str | Content) -> None:
        """Show ``text``: a str is our own fixed message; anything holding a name, a path or a
        store message comes as ``Content`` built with ``screens.text``."""
        self.query_one("#preview", Static).update(text)


def describe(report: ImportReport) -> Content:
    """The preview or summary, in a few lines that fit 80 columns (names shown as text)."""
    verb = "Would write" if report.dry_run else "Wrote"
    lines = [
        markup(
            f"[b]{verb} $rows rows from $source[/b]", rows=report.total_rows, source=report.source
        )
    ]
    counts = [f"{table.removeprefix('lh_')} {n}" for table, n in report.counts.items()]
    lines.append(literal(", ".join(counts) or "no rows"))
    if report.usernames:
        more = " …" if len(report.usernames) > SHOWN_NAMES else ""
        lines.append(literal("Users: " + ", ".join(report.usernames[:SHOWN_NAMES]) + more))
    if report.group_names:
        more = " …" if len(report.group_names) > SHOWN_NAMES else ""
        lines.append(literal("Groups: " + ", ".join(report.group_names[:SHOWN_NAMES]) + more))
    for conflict in report.conflicts:
        lines.append(markup("[b red]Conflict:[/] $conflict", conflict=console_wording(conflict)))
    return Content("\n").join(lines)
