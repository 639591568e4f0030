"""Bulk changes in the users list (issue 19, point 1): mark, pick an action, preview, confirm.

Pilot drives the real console on a copy of the sample. Space and ``*`` mark users, the status
line counts them, ``a`` opens the action menu, then the target picker, then the preview, which
the store computes for every user (``session.bulk.run(dry_run=True)``); confirming writes all
of it. A refusal anywhere shows in the preview, confirming is not offered and nothing is
written. What a key press wrote is checked in the database through the models.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database
from pilot import SIZE, settle
from test_hostile_names import CLICK, CLOSE, TEAMLEADER, Painted, make_names_hostile
from test_screen_users import (
    add_us_operators,
    department_groups_of,
    groups_of,
    highlight,
    open_users,
    status,
)
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static

from screens.bulk import BulkPreviewScreen, ChoiceScreen
from screens.insight_detail import InsightDetailScreen
from screens.text import printable
from screens.users import MARK, UsersScreen
from store import Session
from store.bulk import BULK_LIMIT
from store.dump import all_rows
from store.models import Audit
from tui.shell.app import LhcConsole

AsUser = Callable[[str], Session]

OPERATOR_US, OPERATOR_AU, TEAMLEADER_US, MANAGER_US = 2, 3, 4, 5
OPERATORS, US_OPERATORS, AU_OPERATORS = 2, 4, 5
DEPARTMENTS_AU, DEPARTMENTS_US = 1, 2


async def press(pilot: Pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def mark_shown(screen: UsersScreen, user_id: int) -> bool:
    table = screen.query_one("#users-table", DataTable)
    return str(table.get_cell(str(user_id), "mark")) == MARK


def options(pilot: Pilot) -> list[tuple[str, bool]]:
    """The lines of the open choice list: (text, can be chosen)."""
    listing = pilot.app.screen.query_one("#choice-list", OptionList)
    return [
        (str(listing.get_option_at_index(i).prompt), not listing.get_option_at_index(i).disabled)
        for i in range(listing.option_count)
    ]


async def choose(pilot: Pilot, label: str) -> None:
    """Pick the line of the open choice list that reads ``label``."""
    screen = pilot.app.screen
    assert isinstance(screen, ChoiceScreen), screen
    listing = screen.query_one("#choice-list", OptionList)
    shown = [text for text, _ in options(pilot)]
    listing.highlighted = shown.index(label)
    listing.focus()
    await press(pilot, "enter")


def preview_rows(screen: BulkPreviewScreen) -> list[tuple[str, str]]:
    table = screen.query_one("#bulk-table", DataTable)
    return [(str(r[0]), str(r[1])) for r in (table.get_row(k) for k in table.rows)]


def summary(screen: BulkPreviewScreen) -> str:
    return str(screen.query_one("#bulk-summary", Static).render())


def notifications(app: LhcConsole) -> list[str]:
    return [n.message for n in app._notifications]


# -- the store: the ids a filter matches ------------------------------------------------------


def test_ids_are_the_visible_users_the_filter_matches_by_id(as_user: AsUser) -> None:
    leader = as_user("Teamleader US")
    assert leader.users.ids() == [OPERATOR_US, OPERATOR_AU, TEAMLEADER_US]  # not admin
    assert leader.users.ids(text="AU") == [OPERATOR_AU]
    assert leader.users.ids(limit=2) == [OPERATOR_US, OPERATOR_AU]
    assert leader.users.ids(text="nobody") == []


# -- marking ------------------------------------------------------------------------------------


async def test_space_marks_and_moves_on_the_status_counts_and_u_or_esc_unmark(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        assert "ro = read-only for you" in status(screen) and "marked" not in status(screen)
        await highlight(pilot, screen, OPERATOR_AU)
        await press(pilot, "space", "space")  # Operator AU, then the next row: Operator US
        assert screen.marks == {OPERATOR_AU, OPERATOR_US}
        assert mark_shown(screen, OPERATOR_AU) and mark_shown(screen, OPERATOR_US)
        assert not mark_shown(screen, TEAMLEADER_US)
        assert "2 marked" in status(screen) and "a actions, esc unmark" in status(screen)
        await highlight(pilot, screen, OPERATOR_US)
        await press(pilot, "space")  # again: unmarked
        assert screen.marks == {OPERATOR_AU} and "1 marked" in status(screen)
        assert not mark_shown(screen, OPERATOR_US)

        await press(pilot, "slash", *"US", "enter")  # the marks stay while the filter changes
        assert screen.marks == {OPERATOR_AU} and "1 marked" in status(screen)
        await press(pilot, "u")
        assert screen.marks == set() and not mark_shown(screen, OPERATOR_US)

        await highlight(pilot, screen, OPERATOR_US)
        await press(pilot, "space", "escape")  # Esc clears the marks first…
        assert app.screen is screen and screen.marks == set()
        assert "marked" not in status(screen)
        await press(pilot, "escape")  # …then goes back
        assert app.screen is not screen


async def test_star_marks_every_user_the_filter_matches(sample_url: str) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Manager US")
        await press(pilot, "slash", *"operator", "enter", "asterisk")
        assert screen.marks == {OPERATOR_US, OPERATOR_AU}
        assert "2 marked" in status(screen)
        await press(pilot, "escape")  # the filter is left; Esc unmarks
        assert screen.marks == set()


async def test_star_over_the_limit_marks_none_and_says_how_many_match(
    sample_db: Database, sample_url: str
) -> None:
    add_us_operators(*(f"bulk {i:04d}" for i in range(BULK_LIMIT + 1)))
    sample_db.close()
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        await press(pilot, "asterisk")
        assert screen.marks == set()
        matching = BULK_LIMIT + 1 + 3  # and the sample's three
        assert (
            f"{matching:,} users match; at most {BULK_LIMIT:,} can be marked, narrow the filter"
        ) in notifications(app)
        await press(pilot, "slash", *"bulk 00", "enter", "asterisk")  # 100 of them
        assert len(screen.marks) == 100 and "100 marked" in status(screen)
        # Space stops at the limit too.
        screen.marks = set(range(10_000, 10_000 + BULK_LIMIT))
        await press(pilot, "space")
        assert len(screen.marks) == BULK_LIMIT
        assert f"At most {BULK_LIMIT:,} users can be marked for one change" in notifications(app)


# -- the action menu, the picker, the preview, confirm ------------------------------------------


async def test_manager_us_assigns_a_department_group_read_only_to_every_marked_user(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Manager US")
        await press(pilot, "slash", *"operator", "enter", "asterisk")
        audits = Audit.select().count()
        await press(pilot, "a")
        assert isinstance(app.screen, ChoiceScreen)
        assert "Actions for 2 marked users" in str(app.screen.query_one("#choice-title").render())
        assert ("Assign department group read-only", True) in options(pilot)
        await choose(pilot, "Assign department group read-only")
        assert [text for text, _ in options(pilot)] == ["Departments AU", "Departments US"]
        await choose(pilot, "Departments US")

        preview = app.screen
        assert isinstance(preview, BulkPreviewScreen)
        assert sorted(preview_rows(preview)) == [
            ("Operator AU", "+Departments US (read-only)"),
            ("Operator US", "+Departments US (read-only)"),
        ]
        assert summary(preview).startswith("2 change · 0 unchanged · 0 refused")
        # Operator AU starts reading US chats; Operator US stops writing them.
        # A department group changes no permission: nothing is left out for Manager US.
        assert "Impact: 1 user gains, 1 loses · i lists them" in summary(preview)
        await press(pilot, "i")
        assert isinstance(app.screen, InsightDetailScreen)
        body = str(app.screen.query_one("#detail-body", Static).render())
        assert "Operator AU (#3)\n  reads +Departments US (#2)" in body
        assert "Operator US (#2)\n  writes -Departments US (#2)" in body
        await press(pilot, "escape")
        assert app.screen is preview
        assert Audit.select().count() == audits  # the preview wrote nothing
        assert department_groups_of(OPERATOR_US) == {DEPARTMENTS_US: 0}

        await press(pilot, "y")
        assert app.screen is screen
        assert "Changed 2 users" in notifications(app)
        assert department_groups_of(OPERATOR_US) == {DEPARTMENTS_US: 1}
        assert department_groups_of(OPERATOR_AU) == {DEPARTMENTS_AU: 0, DEPARTMENTS_US: 1}
        assert Audit.select().count() == audits + 2  # one row per user changed
        assert screen.marks == set() and "marked" not in status(screen)


async def test_without_marks_a_acts_on_the_highlighted_user_and_esc_cancels(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Manager US")
        await highlight(pilot, screen, OPERATOR_AU)
        await press(pilot, "a")
        assert "Actions for 'Operator AU'" in str(app.screen.query_one("#choice-title").render())
        await choose(pilot, "Add group")
        await choose(pilot, "US Operators")
        preview = app.screen
        assert isinstance(preview, BulkPreviewScreen)
        assert preview_rows(preview) == [("Operator AU", "+US Operators")]
        report = preview.report
        await press(pilot, "escape")
        assert app.screen is screen
        assert report is not None
        preview._previewed(report)  # a check that ends after Esc (1,000 users take seconds)
        preview._not_previewed("late")
        await settle(pilot)
        assert app.screen is screen and not notifications(app)
        assert US_OPERATORS not in groups_of(OPERATOR_AU)


async def test_an_action_with_nothing_to_hand_out_is_shown_but_cannot_be_chosen(
    sample_url: str,
) -> None:
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        await highlight(pilot, screen, OPERATOR_US)
        await press(pilot, "a")
        lines = dict(options(pilot))
        assert lines["Assign department — no departments you may hand out"] is False
        assert lines["Assign department group"] is True and lines["Disable"] is True
        await press(pilot, "escape")
        assert app.screen is screen


async def test_a_refusal_in_the_middle_shows_in_the_preview_and_nothing_is_written(
    sample_url: str,
) -> None:
    """Teamleader US marks all three users he sees: Operator AU, in AU Operators, is outside
    his work-with list; the other two would change, but a bulk change is all or nothing."""
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_users(pilot, "Teamleader US")
        await press(pilot, "asterisk", "a")
        await choose(pilot, "Assign department group read-only")
        await choose(pilot, "Departments US")
        preview = app.screen
        assert isinstance(preview, BulkPreviewScreen)
        rows = preview_rows(preview)
        assert rows[0][0] == "Operator AU"  # refusals first
        assert rows[0][1].startswith("refused: may not change user")
        assert sorted(rows[1:]) == [
            ("Operator US", "+Departments US (read-only)"),
            ("Teamleader US", "+Departments US (read-only)"),
        ]
        text = summary(preview)
        assert "1 change" not in text and "2 change · 0 unchanged · 1 refused" in text
        assert "Nothing can be written: 1 user refused, and it is all or nothing" in text
        detail = str(preview.query_one("#bulk-detail", Static).render())
        assert "outside the groups you work with" in detail  # the reason, in full
        before = all_rows()
        await press(pilot, "enter", "y")
        assert app.screen is preview and all_rows() == before
        await press(pilot, "escape")
        assert app.screen is screen
        assert screen.marks == {OPERATOR_US, OPERATOR_AU, TEAMLEADER_US}  # kept, to unmark one
        assert all_rows() == before


async def test_hostile_names_in_the_preview_are_text(sample_db: Database, sample_url: str) -> None:
    make_names_hostile()
    sample_db.close()
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        paint = Painted(app)
        screen = await open_users(pilot, "admin", "admin")
        for user_id in (OPERATOR_US, OPERATOR_AU, TEAMLEADER_US):
            await highlight(pilot, screen, user_id)
            await press(pilot, "space")
        paint.shows(CLOSE, CLICK)
        await press(pilot, "a")
        await choose(pilot, "Add group")
        assert app.screen.query("#choice-filter")  # typing filters the targets
        await press(pilot, *"evil")
        await press(pilot, "enter")  # the one line the filter leaves
        preview = app.screen
        assert isinstance(preview, BulkPreviewScreen)
        painted = paint.shows(CLOSE, CLICK, "+Evil [/] grp", "Add group 'Evil [/] grp'")
        assert printable(TEAMLEADER)[:19] in painted  # his username (cut), controls as escapes
        rows = dict(preview_rows(preview))
        assert rows[CLICK] == "+Evil [/] grp" and rows[CLOSE] == "no change"
        await press(pilot, "enter")
        assert app.screen is screen and app.is_running
        assert US_OPERATORS in groups_of(OPERATOR_AU) and US_OPERATORS in groups_of(TEAMLEADER_US)


# -- snapshots at 80x24 -------------------------------------------------------------------------


def test_users_list_with_marks_snapshot(snap_compare, sample_url: str) -> None:
    async def marked(pilot: Pilot) -> None:
        screen = await open_users(pilot, "Teamleader US")
        await highlight(pilot, screen, OPERATOR_AU)
        await press(pilot, "space", "space")

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=marked)


def test_bulk_preview_with_a_refusal_snapshot(snap_compare, sample_url: str) -> None:
    async def previewed(pilot: Pilot) -> None:
        await open_users(pilot, "Teamleader US")
        await press(pilot, "asterisk", "a")
        await choose(pilot, "Assign department group read-only")
        await choose(pilot, "Departments US")

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=previewed)


def test_bulk_preview_ready_to_confirm_snapshot(snap_compare, sample_url: str) -> None:
    async def previewed(pilot: Pilot) -> None:
        await open_users(pilot, "Manager US")
        await press(pilot, "slash", *"operator", "enter", "asterisk", "a")
        await choose(pilot, "Add group")
        await choose(pilot, "AU Operators")

    assert snap_compare(LhcConsole(sample_url), terminal_size=SIZE, run_before=previewed)
