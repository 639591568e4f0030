"""Paging the users list: however a page is found, the pages add up to the visible users.

``UserService.page`` finds a page either by walking the sort index and probing each user's
groups, or by collecting the members of the actor's groups and sorting them
(``store.users.walk_in_order`` chooses by the shape of the data). Both ways, and the choice
itself, must give exactly the users the actor sees that match the filter, in (sort, id) order,
each once across pages; ``count`` must agree with them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

import store.users as users_module
from store.models import User
from store.session import Session
from store.users import SORT_COLUMNS

sys.path.insert(0, str(Path(__file__).resolve().parent / "perf"))
from generate import generate

PAGE = 41  # odd, so that pages end inside runs of equal names
TEXTS = ("", "9", "op", "zzz-nobody")
MODES: dict[str, Callable[..., bool] | None] = {
    "chosen": None,  # whatever the store picks for this data
    "walk": lambda ctx, column: True,
    "collect": lambda ctx, column: False,
}


@pytest.fixture
def generated(db: Database) -> dict[str, Any]:
    return generate(db, users=300, groups=16, departments=8, seed=11)


def expected_ids(session: Session, text: str, sort: str, descending: bool) -> list[int]:
    """The visible users matching ``text``, in the database's own (sort, id) order."""
    with session.reading() as ctx:
        visible = ctx.scope.visible_user_ids()
    column = SORT_COLUMNS[sort]
    order = (column.desc(), User.id.desc()) if descending else (column, User.id)
    rows = User.select().where(User.id.in_(visible)).order_by(*order)
    needle = text.lower()

    def matches(user: User) -> bool:
        fields = (user.username, user.name, user.surname, user.email)
        return (
            not needle
            or any(needle in (f or "").lower() for f in fields)
            or (text.isdigit() and user.id == int(text))
        )

    return [u.id for u in rows if matches(u)]


def all_pages(session: Session, text: str, sort: str, descending: bool) -> list[int]:
    ids: list[int] = []
    after = None
    for _ in range(1000):
        page = session.users.page(
            text=text, sort=sort, descending=descending, after=after, limit=PAGE
        )
        assert len(page.rows) <= PAGE
        ids.extend(row.id for row in page.rows)
        after = page.next_after
        if after is None:
            return ids
        assert len(page.rows) == PAGE  # only the last page may be short
    raise AssertionError("paging never ended")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("actor", ["team_leader", "team_leader_wide", "manager"])
def test_pages_add_up_to_the_visible_matching_users_in_order(
    db: Database, generated: dict[str, Any], actor: str, mode: str, monkeypatch: Any
) -> None:
    if MODES[mode] is not None:
        monkeypatch.setattr(users_module, "walk_in_order", MODES[mode])
    session = Session(db, generated[actor])
    for sort in ("username", "email", "name", "id"):
        for descending in (False, True):
            for text in TEXTS:
                want = expected_ids(session, text, sort, descending)
                got = all_pages(session, text, sort, descending)
                assert got == want, (actor, mode, sort, descending, text)
                assert session.users.count(text=text) == len(want)


def test_the_choice_walks_dense_scopes_and_collects_narrow_ones(
    db: Database, generated: dict[str, Any]
) -> None:
    """On SQLite: a leader who sees nearly everyone walks; a narrow scope collects."""
    from store.database import is_server

    if is_server(db):
        pytest.skip("the walk is SQLite's; a server's planner chooses for itself")
    column = SORT_COLUMNS["username"]

    def choice(user_id: int) -> tuple[bool, int]:
        """Whether the store walks for this actor, and how many users they see."""
        with Session(db, user_id).reading() as ctx:
            return users_module.walk_in_order(ctx, column), len(ctx.scope.visible_user_ids())

    walks, _ = choice(generated["manager"])
    assert walks is False  # sees all: the plain index walk needs no probing
    walks, seen = choice(generated["team_leader_wide"])
    assert walks is True
    assert seen * users_module.WALK_MIN_SHARE >= 300
    # A scope of the actor alone (no groups) is as narrow as it gets.
    lonely = User.create(username="lonely", email="lonely@example.com", password="x")
    with Session(db, lonely.id).reading() as ctx:
        assert users_module.walk_in_order(ctx, column) is False
