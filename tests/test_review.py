"""Access review (issue 19, point 4): the store, the ``review`` command and the review screen.

Everything runs on real copies of the sample. Last logins are set on ``lh_users.llogin`` as LHC
stores them; an account is locked the way the login protection locks it (failed logins through
``store.auth.authenticate``), and a user in no required group is made of plain rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from pilot import SIZE, settle
from test_script_cli import cli, ok
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import RowKey

import store.review as review_module
from screens.confirm import ConfirmScreen
from screens.help import HelpScreen
from screens.home import HomeScreen
from screens.idle_days import IdleDaysScreen, parse_idle_days
from screens.review import ReviewScreen, column_widths
from screens.user_form import UserFormScreen
from store import AuthenticationError, Session
from store.auth import authenticate, unlock
from store.errors import NotFoundError, ScopeError, ValidationError
from store.models import GroupUser, User
from store.review import FLAGS, MAX_IDLE_DAYS, ReviewRow, last_login_text
from tui.scripting import review as script_review
from tui.shell.app import LhcConsole

AsUser = Callable[[str], Session]
ADMIN, OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 1, 2, 3, 4, 5
US_OPERATORS = 4  # not a required group
DAY = 86400
OLD = 1_736_208_000  # 2025-01-07 00:00 UTC: idle for any review run after April 2025
HOSTILE = "Zed [/] \x1b[31mop[b]"


def fail_logins(username: str, times: int) -> None:
    """Wrong passwords, as a guesser types them: the login protection counts each."""
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            authenticate(username, "wrong password")


def set_last_login(user_id: int, when: int) -> None:
    User.update(llogin=when).where(User.id == user_id).execute()


def add_user(username: str, *groups: int, llogin: int = 0) -> int:
    """A user made of plain rows (as LHC's back office or an import leaves them)."""
    user = User.create(
        username=username, password="x", email=f"{len(username)}@example.com", llogin=llogin
    )
    GroupUser.insert_many([{"group_id": g, "user_id": user.id} for g in groups]).execute()
    return user.id


@pytest.fixture
def reviewed(sample_db: Database) -> dict[str, int]:
    """The sample with last logins, a lock-out and a user in no required group:

    Operator US: logged in 10 days ago, then locked by five failed logins; Operator AU: never;
    Teamleader US: 200 days ago (idle); Manager US: yesterday; US Only: in US Operators alone
    (no required group), 30 days ago; admin: 2025-01-07."""
    now = int(time.time())
    set_last_login(OPERATOR_US, now - 10 * DAY)
    set_last_login(TEAMLEADER_US, now - 200 * DAY)
    set_last_login(MANAGER_US, now - DAY - 3600)
    set_last_login(ADMIN, OLD)
    fail_logins("Operator US", 5)
    assert User.get_by_id(OPERATOR_US).disabled == 1
    us_only = add_user("US Only", US_OPERATORS, llogin=now - 30 * DAY)
    return {"us_only": us_only}


def all_rows(session: Session, **query: Any) -> list[ReviewRow]:
    """Every page of the review, one user per page (so every keyset step is taken)."""
    rows: list[ReviewRow] = []
    after = None
    while True:
        page = session.review.page(limit=1, after=after, **query)
        rows.extend(page.rows)
        if page.next_after is None:
            return rows
        after = page.next_after


def flags_by_id(rows: list[ReviewRow]) -> dict[int, tuple[str, ...]]:
    return {r.id: r.flags for r in rows}


# -- store ---------------------------------------------------------------------------------


def test_manager_us_reviews_every_editable_user_with_last_login_and_flags(
    as_user: AsUser, reviewed: dict[str, int]
) -> None:
    us_only = reviewed["us_only"]
    rows = all_rows(as_user("Manager US"))
    # Oldest login first, never first of all; the administrator is not Manager US's to edit.
    assert [r.id for r in rows] == [OPERATOR_AU, TEAMLEADER_US, us_only, OPERATOR_US, MANAGER_US]
    assert flags_by_id(rows) == {
        OPERATOR_AU: ("never",),
        TEAMLEADER_US: ("idle",),
        us_only: ("no-required",),
        OPERATOR_US: ("locked", "disabled"),
        MANAGER_US: (),
    }
    au = rows[0]
    assert (au.username, au.last_login, au.last_login_text) == ("Operator AU", 0, "never")
    summary = as_user("Manager US").review.summary()
    assert summary.total == 5
    assert summary.counts == {
        "never": 1,
        "idle": 1,
        "locked": 1,
        "disabled": 1,
        "no-required": 1,
    }


def test_teamleader_us_reviews_only_the_users_he_may_edit(
    as_user: AsUser, reviewed: dict[str, int]
) -> None:
    session = as_user("Teamleader US")
    rows = all_rows(session)
    with session.reading() as ctx:
        editable = ctx.scope.editable_user_ids()
    assert (
        sorted(r.id for r in rows) == editable == [OPERATOR_US, TEAMLEADER_US, reviewed["us_only"]]
    )
    assert OPERATOR_AU not in {r.id for r in rows}  # visible to him, not editable
    assert session.review.summary().total == 3
    # Someone he may not edit is never a page key either.
    with pytest.raises(NotFoundError):
        session.review.page(after_user=ADMIN)


def test_only_gives_exactly_the_users_with_that_flag_in_every_order(
    as_user: AsUser, reviewed: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("Manager US", "Teamleader US", "admin"):
        session = as_user(name)
        everyone = flags_by_id(all_rows(session))
        summary = session.review.summary()
        for mode in (None, True, False):  # as chosen; walking the index; collecting members
            if mode is not None:
                monkeypatch.setattr(review_module, "walk_in_order", lambda ctx, c, m=mode: m)
                monkeypatch.setattr(review_module, "WALK_SAMPLE_HITS", 0)  # no second guess
            for sort in ("last_login", "username"):
                for descending in (False, True):
                    rows = all_rows(session, sort=sort, descending=descending)
                    assert flags_by_id(rows) == everyone
                    key = (lambda r: (r.last_login, r.id)) if sort == "last_login" else None
                    if key is not None:
                        keys = [key(r) for r in rows]
                        assert keys == sorted(keys, reverse=descending)
                    for flag in FLAGS:
                        only = all_rows(session, only=flag, sort=sort, descending=descending)
                        want = sorted(i for i, flags in everyone.items() if flag in flags)
                        assert sorted(r.id for r in only) == want, (name, flag, sort)
                        assert summary.counts[flag] == len(want)
            monkeypatch.undo()


def test_pages_of_a_generated_help_desk_add_up_to_the_editable_users_in_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 generated users (work-with trees, last logins, lock-outs): however a page is found,
    the pages are exactly the editable users with the flag, in (last login, id) order."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent / "perf"))
    from generate import generate

    info = generate(db, users=300, groups=16, departments=8, seed=11)
    for actor in ("manager", "team_leader", "team_leader_wide"):
        session = Session(db, info[actor])
        with session.reading() as ctx:
            editable = ctx.scope.editable_user_ids()
        want_order = [
            u.id
            for u in User.select(User.id)
            .where(User.id.in_(editable))
            .order_by(User.llogin, User.id)
        ]
        for mode in (None, True, False):
            if mode is not None:
                monkeypatch.setattr(review_module, "walk_in_order", lambda ctx, c, m=mode: m)
                monkeypatch.setattr(review_module, "WALK_SAMPLE_HITS", 0)
            everyone = all_rows(session)
            assert [r.id for r in everyone] == want_order, (actor, mode)
            summary = session.review.summary()
            assert summary.total == len(editable)
            for flag in FLAGS:
                only = [r.id for r in all_rows(session, only=flag)]
                assert only == [r.id for r in everyone if flag in r.flags], (actor, mode, flag)
                assert summary.counts[flag] == len(only)
            monkeypatch.undo()


def test_idle_days_move_the_line_between_recent_and_idle(
    as_user: AsUser, reviewed: dict[str, int]
) -> None:
    session = as_user("Manager US")
    idle = {r.id for r in session.review.page(only="idle", idle_days=20).rows}
    assert idle == {TEAMLEADER_US, reviewed["us_only"]}
    assert session.review.summary(idle_days=1).counts["idle"] == 4  # Manager US: a day ago
    assert {r.id for r in session.review.page(only="idle", idle_days=MAX_IDLE_DAYS).rows} == set()
    for bad in (0, -1, MAX_IDLE_DAYS + 1, True, "90", 1.5):
        with pytest.raises(ValidationError):
            session.review.page(idle_days=bad)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            session.review.summary(idle_days=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        session.review.page(only="asleep")
    with pytest.raises(ValidationError):
        session.review.page(sort="password")


def test_unlock_and_enable_clear_the_lock_and_a_later_disable_is_not_a_lock(
    as_user: AsUser, reviewed: dict[str, int], sample_db: Database
) -> None:
    manager = as_user("Manager US")

    def flags_of(user_id: int) -> tuple[str, ...]:
        return flags_by_id(all_rows(manager))[user_id]

    assert flags_of(OPERATOR_US) == ("locked", "disabled")
    unlock("Operator US")  # what ``lhc-console unlock`` runs
    assert flags_of(OPERATOR_US) == ()
    manager.users.set_disabled(OPERATOR_US, True)  # by hand: disabled, not locked
    assert flags_of(OPERATOR_US) == ("disabled",)
    manager.users.set_disabled(OPERATOR_US, False)
    fail_logins("Operator US", 5)
    assert flags_of(OPERATOR_US) == ("locked", "disabled")
    manager.users.set_disabled(OPERATOR_US, False)  # enabling from the console unlocks too
    assert flags_of(OPERATOR_US) == ()


def test_a_guarded_administrator_cooling_off_is_locked_but_not_disabled(
    as_user: AsUser, reviewed: dict[str, int]
) -> None:
    fail_logins("admin", 5)  # user 1 is never disabled by guessing: it cools off instead
    rows = flags_by_id(all_rows(as_user("admin")))
    assert rows[ADMIN] == ("idle", "locked", "no-required")  # Administrators is not required
    assert User.get_by_id(ADMIN).disabled == 0


def test_review_needs_the_users_list_and_the_right_to_edit(
    as_user: AsUser, reviewed: dict[str, int]
) -> None:
    for call in (lambda s: s.review.page(), lambda s: s.review.summary()):
        with pytest.raises(ScopeError, match="may not review access: it needs the lhuser/userlist"):
            call(as_user("Operator AU"))
    assert "review" in as_user("Teamleader US").permissions.capabilities()
    assert "review" not in as_user("Operator AU").permissions.capabilities()


def test_a_last_login_no_calendar_holds_is_shown_as_the_number() -> None:
    assert last_login_text(0) == "never"
    assert last_login_text(OLD) == "2025-01-07"
    assert last_login_text(2**62) == str(2**62)


def test_the_command_line_knows_the_stores_flags_and_bound() -> None:
    """The parser is built before the store loads, so it writes them again."""
    assert script_review.FLAG_WORDS == FLAGS
    assert script_review.MAX_IDLE_DAYS == MAX_IDLE_DAYS
    assert script_review.DEFAULT_IDLE_DAYS == review_module.DEFAULT_IDLE_DAYS


# -- command line ------------------------------------------------------------------------


@pytest.fixture
def review_url(sample_url: str, sample_db: Database, reviewed: dict[str, int]) -> str:
    sample_db.close()
    return sample_url


def test_review_prints_username_id_date_and_flags_as_words(review_url: str) -> None:
    result = cli(review_url, "review", actor="Manager US")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Manager US logged in just now (the command's own login): no longer idle.
    assert lines[0].split() == ["3", "Operator", "AU", "never", "never"]
    assert lines[1].split()[:3] == ["4", "Teamleader", "US"]
    assert lines[1].endswith("idle")
    locked = next(line for line in lines if line.split()[0] == str(OPERATOR_US))
    assert locked.endswith("locked, disabled")
    assert time.strftime("%Y-%m-%d", time.gmtime(time.time() - 10 * DAY)) in locked
    assert lines[-1].startswith("5 shown of 5 users you may edit: never 1, idle 1, locked 1,")


def test_review_json_lists_users_flags_and_counts(review_url: str) -> None:
    report = ok(cli(review_url, "review", "--json", actor="Teamleader US"))
    assert [u["username"] for u in report["users"]] == ["US Only", "Operator US", "Teamleader US"]
    himself = report["users"][2]
    assert himself["flags"] == [] and himself["last_login"] > 0  # logged in for the command
    assert [u["flags"] for u in report["users"][:2]] == [["no-required"], ["locked", "disabled"]]
    assert report["summary"] == {
        "total": 3,
        "never": 0,
        "idle": 0,
        "locked": 1,
        "disabled": 1,
        "no-required": 1,
    }
    assert (report["idle_days"], report["only"], report["next_after"]) == (90, None, None)


def test_review_only_idle_days_and_paging(review_url: str) -> None:
    report = ok(cli(review_url, "review", "--json", "--only", "idle", actor="Manager US"))
    assert [u["id"] for u in report["users"]] == [TEAMLEADER_US]
    report = ok(
        cli(
            review_url, "review", "--json", "--only", "idle", "--idle-days", "5", actor="Manager US"
        )
    )
    assert [u["username"] for u in report["users"]] == ["Teamleader US", "US Only", "Operator US"]
    seen: list[int] = []
    after: list[str] = []
    while True:
        page = ok(cli(review_url, "review", "--json", "--limit", "2", *after, actor="Manager US"))
        seen += [u["id"] for u in page["users"]]
        if page["next_after"] is None:
            break
        after = ["--after", str(page["next_after"])]
    assert len(seen) == len(set(seen)) == 5
    text = cli(review_url, "review", "--limit", "2", actor="Manager US")
    assert text.stdout.splitlines()[-1] == "more with --after 4"


@pytest.mark.parametrize("days", ["0", "36501", "-3", "ninety", "٩٠"])
def test_idle_days_out_of_bounds_exit_2_and_change_nothing(review_url: str, days: str) -> None:
    result = cli(review_url, "review", "--idle-days", days, actor="Manager US")
    assert result.returncode == 2
    assert "--idle-days" in result.stderr
    assert result.stdout == ""


def test_review_is_refused_without_as_and_without_the_permissions(review_url: str) -> None:
    result = cli(review_url, "review")
    assert result.returncode == 2 and "add --as USERNAME" in result.stderr
    result = cli(review_url, "review", actor="Operator AU")
    assert result.returncode == 2
    assert "Operator AU may not review access: it needs the lhuser/userlist" in result.stderr
    result = cli(review_url, "review", "--only", "sleepy", actor="Manager US")
    assert result.returncode == 2


def test_hostile_usernames_are_printed_literally_by_the_command(
    sample_url: str, sample_db: Database
) -> None:
    hostile = add_user(HOSTILE, 2, llogin=OLD)
    sample_db.close()
    report = ok(cli(sample_url, "review", "--json", actor="Manager US"))
    assert {u["id"]: u["username"] for u in report["users"]}[hostile] == HOSTILE
    text = cli(sample_url, "review", actor="Manager US").stdout
    assert "\x1b" not in text
    assert "Zed [/] \\x1b[31mop[b]" in text


# -- the screen ------------------------------------------------------------------------------


def table_of(screen: ReviewScreen) -> DataTable:
    return screen.query_one("#review-table", DataTable)


def shown_ids(screen: ReviewScreen) -> list[int]:
    return [int(str(row.key.value)) for row in table_of(screen).ordered_rows]


async def open_review(pilot: Pilot) -> ReviewScreen:
    """From home, with ``v`` (the app started as the actor, as the SSH server starts it)."""
    await settle(pilot)
    assert isinstance(pilot.app.screen, HomeScreen)
    await pilot.press("v")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


@pytest.fixture
def screen_url(sample_url: str, sample_db: Database) -> str:
    """The sample with fixed last logins (so the snapshot does not age), a locked operator,
    a user in no required group with a long name, and a hostile name."""
    set_last_login(OPERATOR_US, OLD + 30 * DAY)
    set_last_login(TEAMLEADER_US, OLD + 60 * DAY)
    set_last_login(MANAGER_US, OLD + 90 * DAY)
    fail_logins("Operator US", 5)
    add_user("A very long username that needs more than its column holds", US_OPERATORS, llogin=OLD)
    add_user(HOSTILE, 2, 4)
    sample_db.close()
    return sample_url


async def test_the_review_lists_filters_sorts_and_cycles_flags(screen_url: str) -> None:
    app = LhcConsole(screen_url, actor_id=MANAGER_US)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        ids = shown_ids(screen)
        assert ids[0] == OPERATOR_AU and len(ids) == 6 and ADMIN not in ids
        status = str(screen.query_one("#review-status", Static).render())
        assert status.startswith("6 users · never 2 · idle 4 · locked 1 · disabled 1")
        await pilot.press("f")  # never
        await settle(pilot)
        assert screen.only == "never"
        assert sorted(shown_ids(screen)) == sorted(
            r.id for r in screen.rows.values() if "never" in r.flags
        )
        assert len(shown_ids(screen)) == 2
        for _ in range(2):  # idle, then locked
            await pilot.press("f")
            await settle(pilot)
        assert screen.only == "locked" and shown_ids(screen) == [OPERATOR_US]
        for _ in range(len(FLAGS) - 2):  # back to all
            await pilot.press("f")
            await settle(pilot)
        assert screen.only is None and len(shown_ids(screen)) == 6
        await pilot.press("s")  # by username
        await settle(pilot)
        names = [screen.rows[i].username for i in shown_ids(screen)]
        assert names == sorted(names)
        await pilot.press("slash", *"operator")
        await settle(pilot)
        assert sorted(shown_ids(screen)) == [OPERATOR_US, OPERATOR_AU]
        assert screen.query_one("#review-filter", Input).has_focus
        await pilot.press("escape")  # leaves the filter, empties it
        await settle(pilot)
        assert len(shown_ids(screen)) == 6 and isinstance(app.screen, ReviewScreen)


async def test_enter_opens_the_user_and_d_disables_after_asking(screen_url: str) -> None:
    app = LhcConsole(screen_url, actor_id=MANAGER_US)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        table = table_of(screen)
        table.move_cursor(row=table.get_row_index(str(TEAMLEADER_US)))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, UserFormScreen) and app.screen.user_id == TEAMLEADER_US
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # cancelled: nothing changes
        await settle(pilot)
        assert User.get_by_id(TEAMLEADER_US).disabled == 0
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("tab", "enter")  # from Cancel to Disable
        await settle(pilot)
        assert User.get_by_id(TEAMLEADER_US).disabled == 1
        assert "disabled" in screen.rows[TEAMLEADER_US].flags
        # On a disabled row ``d`` enables (the locked operator too: that unlocks him), after
        # asking with its impact.
        table.move_cursor(row=table.get_row_index(str(OPERATOR_US)))
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")  # from Cancel to Enable
        await settle(pilot)
        assert User.get_by_id(OPERATOR_US).disabled == 0
        assert screen.rows[OPERATOR_US].flags == ("idle",)  # no longer locked nor disabled
        # His own row offers neither.
        table.move_cursor(row=table.get_row_index(str(MANAGER_US)))
        await settle(pilot)
        assert screen.check_action("disable", ()) is False
        assert screen.check_action("enable", ()) is False


async def test_hostile_names_show_literally_and_long_ones_wrap_uncut(screen_url: str) -> None:
    app = LhcConsole(screen_url, actor_id=MANAGER_US)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        table = table_of(screen)
        by_name = {screen.rows[i].username: i for i in shown_ids(screen)}
        cell = table.get_row(str(by_name[HOSTILE]))[0]
        assert cell.plain == "Zed [/] \\x1b[31mop[b]"
        long_name = "A very long username that needs more than its column holds"
        row_key = str(by_name[long_name])
        assert table.get_row(row_key)[0].plain == long_name
        assert table.rows[RowKey(row_key)].height >= 2  # wrapped onto a second line


async def test_the_review_is_offered_to_those_who_may_edit_users_only(screen_url: str) -> None:
    app = LhcConsole(screen_url, actor_id=OPERATOR_AU)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "open: Access review" not in titles
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    app = LhcConsole(screen_url, actor_id=TEAMLEADER_US)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "open: Access review" in titles
        screen = await open_review(pilot)
        assert OPERATOR_AU not in shown_ids(screen)
        palette = [c.title for c in app.get_system_commands(screen)]
        assert {"review: Sort", "review: Flag", "review: Filter"} <= set(palette)


async def test_every_hostile_name_is_painted_as_text_in_the_review_and_its_dialogs(
    sample_db: Database, sample_url: str
) -> None:
    """The hostile sample of ``test_hostile_names``: the table, the detail line, the
    confirmation and the notification paint each name literally, no link, action or control."""
    from test_hostile_names import CLICK, CLOSE, TEAMLEADER, Painted, make_names_hostile
    from test_hostile_names import SIZE as WIDE

    make_names_hostile()
    sample_db.close()
    app = LhcConsole(sample_url, actor_id=ADMIN)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        paint = Painted(app)
        screen = await open_review(pilot)
        # Wrapped, not cut (a server's username column keeps its first 80 characters).
        stored = User.select(User.username).where(User.username.startswith("Long name")).scalar()
        paint.shows(CLOSE, CLICK, TEAMLEADER, "Long name", stored[-22:])
        table = table_of(screen)
        for user_id, name in (
            (OPERATOR_US, CLOSE),
            (OPERATOR_AU, CLICK),
            (TEAMLEADER_US, TEAMLEADER),
        ):
            table.move_cursor(row=table.get_row_index(str(user_id)))
            await settle(pilot)
            paint.shows(f"{name} · #{user_id}")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        paint.shows(f"Disable user {TEAMLEADER!r}?")
        await pilot.press("tab", "enter")
        await settle(pilot)
        paint.shows(f"Disabled user {TEAMLEADER!r}")
        assert app.is_running and app.return_code is None


def test_the_flags_fit_and_the_username_takes_the_rest_wrapping_not_cut() -> None:
    everything = " ".join(FLAGS[1:])  # the longest flags a row can carry
    assert column_widths(["Operator US"], ["never"], 79) == (16, 79 - 10 - 6 - 16)
    assert column_widths(["x" * 70], [everything], 79) == (31, 32)  # the name wraps
    assert column_widths(["x" * 70], [everything], 59)[0] == 16  # the flags give way
    assert column_widths([], [], 79) == (16, 47)


def test_review_screen_snapshot_for_manager_us(snap_compare, screen_url: str) -> None:
    async def opened(pilot: Pilot) -> None:
        await open_review(pilot)

    assert snap_compare(
        LhcConsole(screen_url, actor_id=MANAGER_US), terminal_size=SIZE, run_before=opened
    )


# -- the idle threshold on the screen (issue 19: the command's --idle-days) -----------------


def idle_flagged(screen: ReviewScreen) -> set[int]:
    return {i for i in shown_ids(screen) if "idle" in screen.rows[i].flags}


def review_status(screen: ReviewScreen) -> str:
    return str(screen.query_one("#review-status", Static).render())


def idle_days_error(app: LhcConsole) -> str:
    return str(app.screen.query_one("#idle-days-error", Static).render())


async def type_idle_days(pilot: Pilot, text: str) -> None:
    """Type ``text`` over the prompt's entry (selected, so it is replaced), then Enter."""
    await pilot.press(*text, "enter")
    await settle(pilot)


async def test_i_sets_the_idle_threshold_and_flags_the_users_anew(screen_url: str) -> None:
    """The fixture's logins: the long name at OLD, Operator US 30 days later, Teamleader US
    60, Manager US 90. A threshold that ends 45 days after OLD flags the first two only."""
    days = (int(time.time()) - (OLD + 45 * DAY)) // DAY
    long_name = next(
        u.id for u in User.select().where(User.username.startswith("A very long username"))
    )
    app = LhcConsole(screen_url, actor_id=MANAGER_US)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        assert idle_flagged(screen) == {long_name, OPERATOR_US, TEAMLEADER_US, MANAGER_US}
        assert "idle 4" in review_status(screen)
        assert "idle: no login for 90 days" in review_status(screen)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, IdleDaysScreen)
        assert app.screen.query_one("#idle-days-input", Input).value == "90"
        await type_idle_days(pilot, str(days))
        assert app.screen is screen and screen.idle_days == days
        assert idle_flagged(screen) == {long_name, OPERATOR_US}
        assert screen.rows[TEAMLEADER_US].flags == ()
        assert "idle 2" in review_status(screen)
        assert f"idle: no login for {days} days" in review_status(screen)
        await pilot.press("f", "f")  # showing: idle, at the new threshold
        await settle(pilot)
        assert screen.only == "idle" and sorted(shown_ids(screen)) == sorted(
            [long_name, OPERATOR_US]
        )


async def test_bad_idle_days_are_refused_in_the_prompt_and_change_nothing(
    screen_url: str,
) -> None:
    app = LhcConsole(screen_url, actor_id=MANAGER_US)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(pilot)
        flagged = idle_flagged(screen)
        await pilot.press("i")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, IdleDaysScreen)
        for typed, said in (
            ("0", f"Not changed: Idle days must be from 1 to {MAX_IDLE_DAYS}, not 0"),
            ("-5", f"Idle days must be from 1 to {MAX_IDLE_DAYS}, not -5"),
            (str(MAX_IDLE_DAYS + 1), f"from 1 to {MAX_IDLE_DAYS}, not {MAX_IDLE_DAYS + 1}"),
            ("9" * 40, f"from 1 to {MAX_IDLE_DAYS}, not {'9' * 23}…"),
            ("abc", "Idle days must be a whole number, not 'abc'"),
            ("1.5", "Idle days must be a whole number, not '1.5'"),
            ("[b]", "Idle days must be a whole number, not '[b]'"),  # text, never markup
            ("-+5", "Idle days must be a whole number, not '-+5'"),  # two signs: no int() error
        ):
            await type_idle_days(pilot, typed)
            assert app.screen is prompt, typed
            assert said in idle_days_error(app), (typed, idle_days_error(app))
        await pilot.press("backspace", "enter")  # emptied
        await settle(pilot)
        assert f"Type a number of days, from 1 to {MAX_IDLE_DAYS}" in idle_days_error(app)
        await pilot.press("escape")  # cancelled: the review as it was
        await settle(pilot)
        assert app.screen is screen and screen.idle_days == 90
        assert idle_flagged(screen) == flagged
        assert "idle: no login for 90 days" in review_status(screen)
        await pilot.press("question_mark")  # the key is in help (and the footer)
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert ("i", "Idle days") in list(app.screen.keys)


def test_idle_days_are_read_as_a_whole_number_in_the_stores_bounds() -> None:
    assert parse_idle_days(" 30 ") == 30 and parse_idle_days("+7") == 7
    assert parse_idle_days(str(MAX_IDLE_DAYS)) == MAX_IDLE_DAYS
    bad_entries = ("", "0", "٣٠", "1_000", "30 days", "1e3", str(MAX_IDLE_DAYS + 1), "1" * 5000)
    # Two signs passed a check of the digits alone, then int() raised a ValueError.
    for bad in (*bad_entries, "-+5", "+-5", "--5", "-+0", "+ 5", "\uff15"):
        with pytest.raises(ValidationError):
            parse_idle_days(bad)


def test_idle_days_prompt_snapshot_with_a_refused_entry(snap_compare, screen_url: str) -> None:
    async def refused(pilot: Pilot) -> None:
        await open_review(pilot)
        await pilot.press("i")
        await settle(pilot)
        await type_idle_days(pilot, "0")

    assert snap_compare(
        LhcConsole(screen_url, actor_id=MANAGER_US), terminal_size=SIZE, run_before=refused
    )


def test_no_json_key_is_left_out() -> None:
    """The JSON keys of one row, as the README documents them."""
    row = ReviewRow(id=7, username="x", last_login=OLD, flags=("idle",))
    assert script_review.row_json(row) == {
        "id": 7,
        "username": "x",
        "last_login": OLD,
        "last_login_date": "2025-01-07",
        "flags": ["idle"],
    }
    assert json.dumps(script_review.row_json(row))
