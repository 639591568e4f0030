"""A team leader's day in a real terminal: the console in tmux, keys sent as a terminal sends them.

Pilot drives the app from inside its event loop; here the console runs as a process behind a
real terminal (tmux, ``TERM=linux``, 80x24 and 60x20) and every key goes through the terminal
driver, several keys in one write where a person's paste or a slow link would send them so.
The assertions read the screen as the person sees it (``tmux capture-pane -p``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.sqlite_only,
    pytest.mark.skipif(
        shutil.which("tmux") is None,
        reason="tmux is not installed: the real-terminal test needs it (CI installs it)",
    ),
]

ROOT = Path(__file__).resolve().parents[1]
WAIT = 20.0  # seconds for one screen to show what it should (a loaded CI box is slow)


class Terminal:
    """One tmux server of our own (its own socket), holding the console in one pane."""

    def __init__(self, width: int, height: int, database_url: str) -> None:
        self.socket = f"lhc-day-{uuid.uuid4().hex[:8]}"
        env = {
            key: value
            for key, value in os.environ.items()
            # COLUMNS and LINES: pytest-xdist's workers set them (80 and 24), and the console
            # (shutil.get_terminal_size) would take them over the pane's 60x20 and draw a
            # screen too wide for it.
            if key not in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "TMUX", "COLUMNS", "LINES")
        }
        env["TERM"] = "linux"
        command = f"env TERM=linux {sys.executable} -m tui --db {database_url}"
        self._tmux(
            "new-session",
            "-d",
            "-s",
            "day",
            "-x",
            str(width),
            "-y",
            str(height),
            command,
            env=env,
        )
        self._tmux("set-option", "-t", "day", "remain-on-exit", "on")

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=WAIT,
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "day")

    def keys(self, *keys: str) -> None:
        """Send the keys in one write, as tmux's ``send-keys`` does (a burst)."""
        self._tmux("send-keys", "-t", "day", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "day", "-l", text)

    def wait_for(self, *texts: str) -> str:
        """The screen once it shows every one of ``texts``; fails with the screen otherwise."""
        deadline = time.monotonic() + WAIT
        while True:
            shown = self.screen()
            if all(text in shown for text in texts):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"never showed {texts!r}; the screen:\n{shown}")
            time.sleep(0.1)

    def wait_without(self, text: str) -> str:
        deadline = time.monotonic() + WAIT
        while True:
            shown = self.screen()
            if text not in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"still shows {text!r}; the screen:\n{shown}")
            time.sleep(0.1)

    @staticmethod
    def settle() -> None:
        """A person's pause after a key that moves the cursor to another widget."""
        time.sleep(0.5)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def sample_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'day.sqlite'}"
    subprocess.run(
        [sys.executable, "-m", "tui", "sample", "--db", url],
        check=True,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    return url


@pytest.fixture(params=[(80, 24), (60, 20)], ids=["80x24", "60x20"])
def terminal(request: pytest.FixtureRequest, sample_file: str) -> Iterator[Terminal]:
    width, height = request.param
    term = Terminal(width, height, sample_file)
    try:
        yield term
    finally:
        term.close()


def test_a_team_leaders_day_in_a_real_terminal(terminal: Terminal, sample_file: str) -> None:
    t = terminal
    # Log in, the whole line in one burst: each key lands in the field it was typed for.
    t.wait_for("Log in")
    t.keys("Teamleader US", "Tab", "demo", "Enter")
    home = t.wait_for("Logged in as Teamleader US", "Your groups:")
    assert "Users" in home

    # The users list, filtered, then Esc: the filter is empty and s sorts the table.
    t.keys("u")
    t.wait_for("Operator US", "sort: username")
    t.keys("/")
    t.settle()  # "/" moves the cursor to the filter on the app's next turn
    t.type("operator")
    t.wait_for("filter: operator")
    t.keys("Escape")
    t.wait_without("filter: operator")
    t.keys("s")
    t.wait_for("sort: name")
    t.keys("s", "s", "s")  # back to username
    t.wait_for("sort: username")

    # Create a user with a group, a required group and a department group.
    t.keys("n")
    t.wait_for("New user", "Username")
    t.type("daytest")
    t.keys("Tab")
    t.type("daytest@example.com")
    t.keys("Tab")
    t.type("Day")
    t.keys("Tab")
    t.type("Tester")
    t.keys("Tab", "Tab")
    t.type("Day-pass-2026!")
    t.keys("Tab")
    t.type("Day-pass-2026!")
    for key in ("Tab", "Right"):  # wraps to the tab bar, then the Groups tab
        t.keys(key)
        t.settle()
    t.wait_for("US Oper", "Operators")  # "US Oper…" at 60 columns
    t.keys("Tab", "Space", "Tab", "Space")  # US Operators; required: Operators
    t.settle()
    for key in ("BTab", "BTab", "Right"):  # the tab bar, then the Departments tab
        t.keys(key)
        t.settle()
    t.wait_for("Departments US")
    t.keys("Tab")
    t.settle()
    t.keys("Space")
    t.settle()
    t.settle()
    t.keys("C-s")
    t.wait_for("Create user", "1 user gains")  # asked with the new user's impact
    t.keys("Tab", "Enter")  # Create
    t.wait_for("Created user", "sort: username")

    # Open it and edit the surname (typed after what is there: nothing is replaced).
    t.keys("/")
    t.settle()
    t.type("daytest")
    t.wait_for("filter: daytest")
    t.keys("Enter")  # to the table
    t.settle()
    t.keys("Enter")  # open the highlighted user
    t.wait_for("Username", "daytest@example.com")
    t.settle()
    t.keys("Tab", "Tab", "Tab", "End")
    t.type(" Jr")
    t.wait_for("Tester Jr")  # Ctrl+S is an app key: sent with the text, it would save first
    t.keys("C-s")
    t.wait_for("Saved user")

    # Log out from the users list's home, and in as the manager.
    t.keys("Escape")
    t.wait_for("Logged in as Teamleader US")
    t.keys("l")
    t.wait_for("Log in")
    t.keys("Manager US", "Tab", "demo", "Enter")
    home = t.wait_for("Logged in as Manager US", "Your groups:")
    assert "Teamleader US" not in home.splitlines()[2]

    # What the day wrote, read from the database: the groups and the department group chosen.
    t.close()
    from store.database import open_database
    from store.models import DepartmentGroup, DepartmentGroupUser, Group, GroupUser, User

    db = open_database(sample_file)
    try:
        user = User.get(User.username == "daytest")
        assert (user.name, user.surname) == ("Day", "Tester Jr")
        groups = {
            g.name
            for g in Group.select()
            .join(GroupUser, on=GroupUser.group_id == Group.id)
            .where(GroupUser.user_id == user.id)
        }
        assert groups == {"Operators", "US Operators"}
        dep_groups = {
            d.name
            for d in DepartmentGroup.select()
            .join(DepartmentGroupUser, on=DepartmentGroupUser.dep_group_id == DepartmentGroup.id)
            .where(DepartmentGroupUser.user_id == user.id)
        }
        assert dep_groups == {"Departments US"}
    finally:
        db.close()
