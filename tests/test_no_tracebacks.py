"""Nothing a person can trigger shows a traceback: a short notification, a log entry, go on.

A bug (here a store call, an action, a message handler and a worker made to raise an error
whose text holds a server path) must not end the console nor show code, paths or local
variables: the person sees the kind of error and a log reference, the log file gets the whole
traceback, and the screen keeps working. An error the console cannot survive (while starting)
ends it with one line on stderr, never Rich's traceback with locals; over SSH that line does
not name the server's log path either.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pilot import log_in, settle
from textual.pilot import Pilot

from screens import errors
from screens.home import HomeScreen
from screens.users import UsersScreen
from tui.shell.app import LhcConsole

SIZE = (100, 30)
SECRET = "boom /secret/path"


@pytest.fixture
def log_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log" / "console.log"
    monkeypatch.setattr(errors, "log_file", lambda: path)
    monkeypatch.setattr(errors, "_recent", {})
    return path


def boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError(SECRET)


def shown(app: LhcConsole) -> list[str]:
    return [f"{n.title} {n.message}" for n in app._notifications]


def assert_reported(app: LhcConsole, log_path: Path) -> None:
    """A short notification without the error's text; the log holds the traceback."""
    notes = [n for n in shown(app) if "Unexpected error (RuntimeError)" in n]
    assert notes, shown(app)
    for note in notes:
        assert "secret" not in note and "boom" not in note and "Traceback" not in note
        assert ".py" not in note and "/" not in note
    log = log_path.read_text()
    assert "Traceback (most recent call last)" in log and f"RuntimeError: {SECRET}" in log
    ref = re.search(r"logged as ([0-9a-f]{6})\.", notes[-1])
    assert ref is not None and f"error {ref.group(1)}" in log
    assert app.is_running


def forget_the_error(app: LhcConsole) -> None:
    """The console survived on purpose: ``run_test`` would raise the recorded error at exit."""
    assert isinstance(errors.unwrap(app._exception), RuntimeError)
    app._exception = None


async def pause(pilot: Pilot) -> None:
    """``settle`` without waiting on workers (waiting on a failed worker raises its error)."""
    for _ in range(5):
        await pilot.pause(0.05)


async def users_screen(pilot: Pilot) -> UsersScreen:
    await settle(pilot)
    await log_in(pilot, "admin", "admin")
    await pilot.press("u")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, UsersScreen)
    return screen


async def test_a_failing_store_call_is_a_short_notification_and_a_log_entry(
    sample_url: str, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store.users import UserService

    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await users_screen(pilot)
        monkeypatch.setattr(UserService, "page", boom)
        await pilot.press("s")  # sort: reloads the page through the store
        await settle(pilot)
        assert_reported(app, log_path)
        assert isinstance(app.screen, UsersScreen)
        assert app._exception is None  # call_store reports it itself


async def test_an_action_that_raises_leaves_the_console_and_its_keys_working(
    sample_url: str, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await users_screen(pilot)
        monkeypatch.setattr(UsersScreen, "action_sort", boom)
        await pilot.press("s")
        await settle(pilot)
        assert_reported(app, log_path)
        forget_the_error(app)
        await pilot.press("S")  # the app's and the screen's keys still work
        await settle(pilot)
        assert screen.descending
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_a_message_handler_that_raises_does_not_stop_its_screen(
    sample_url: str, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await users_screen(pilot)
        open_user = UsersScreen.action_open
        monkeypatch.setattr(UsersScreen, "action_open", boom)  # from the RowSelected handler
        await pilot.press("enter")
        await settle(pilot)
        assert_reported(app, log_path)
        forget_the_error(app)
        monkeypatch.setattr(UsersScreen, "action_open", open_user)
        await pilot.press("down", "enter")  # the screen's handlers run again
        await settle(pilot)
        assert app.screen is not screen and app.is_running


async def test_a_worker_that_raises_is_reported_and_the_console_goes_on(
    sample_url: str, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await users_screen(pilot)
        monkeypatch.setattr(UsersScreen, "_reload", boom)
        screen._filter_soon()  # the @work filter worker (exit_on_error) calls _reload
        await pause(pilot)
        assert_reported(app, log_path)
        forget_the_error(app)
        assert app.screen is screen


async def test_a_thread_worker_callback_that_raises_is_reported(
    sample_url: str, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``call_from_thread`` hands the callback's error back to the thread worker."""
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await users_screen(pilot)
        monkeypatch.setattr(UsersScreen, "_first_page", boom)
        await pilot.press("s")
        await pause(pilot)
        assert_reported(app, log_path)
        forget_the_error(app)


@pytest.mark.parametrize("over_ssh", [False, True])
def test_an_error_the_console_cannot_survive_prints_one_line_not_a_traceback(
    sample_url: str,
    log_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    over_ssh: bool,
) -> None:
    monkeypatch.setattr(LhcConsole, "on_mount", boom)
    app = LhcConsole(sample_url, actor_id=1 if over_ssh else None)
    app.run(headless=True, size=SIZE)
    err = capsys.readouterr().err
    assert app.return_code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("lhc-console stopped after an unexpected error")
    assert "Traceback" not in err and "boom" not in err and "secret" not in err
    assert "locals" not in err.lower() and ".py" not in err
    assert (str(log_path) in err) is not over_ssh
    assert f"RuntimeError: {SECRET}" in log_path.read_text()


def painted_text(app: LhcConsole) -> str:
    update = app.screen._compositor.render_update(full=True, screen_stack=[])
    return "\n".join(
        "".join(s.text for strip in line for s in strip if not s.control) for line in update.strips
    )


async def test_a_remote_console_names_no_server_path_when_it_cannot_start(
    sample_url: str, tmp_path: Path
) -> None:
    """An SSH console whose account was disabled meanwhile: the reason, not the server's path."""
    from store.database import open_database
    from store.models import User

    db = open_database(sample_url)
    User.update(disabled=1).where(User.id == 2).execute()
    db.close()
    app = LhcConsole(sample_url, actor_id=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = painted_text(app)
        assert "'Operator US' is disabled" in text
        assert "Ask the administrator" in text
        assert str(tmp_path) not in text.replace("\n", "") and "sqlite:" not in text


async def test_the_problem_screen_never_shows_a_database_password() -> None:
    app = LhcConsole("mysql://lhc:s3cret-pw@127.0.0.1:9/lhc")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = painted_text(app)
        assert "Cannot open the database" in text
        assert "s3cret" not in text and "lhc:***@127.0.0.1:9/lhc" in text
