"""``readers_of``: who can read a department's chats, set-based, agrees with ``chat_access``."""

from __future__ import annotations

import sys
from pathlib import Path

from peewee import Database

from store.access import chat_access, readers_of
from store.models import Department, User, UserDep

sys.path.insert(0, str(Path(__file__).resolve().parent / "perf"))
from generate import generate


def readers_by_chat_access(department_id: int) -> list[int]:
    return [
        u.id
        for u in User.select(User.id).order_by(User.id)
        if department_id in chat_access(u.id).read
    ]


def test_readers_match_chat_access_on_the_sample(sample_db: Database) -> None:
    departments = [d.id for d in Department.select(Department.id)]
    assert departments
    for department_id in [*departments, 99]:
        assert readers_of(department_id) == readers_by_chat_access(department_id)


def test_readers_match_chat_access_on_a_generated_database(db: Database) -> None:
    generate(db, users=300, groups=14, departments=8, seed=3)
    for department_id in [1, 4, 8, 99]:
        assert readers_of(department_id) == readers_by_chat_access(department_id)


def test_all_departments_read_only_rows_placeholders_and_disabled_users(
    sample_db: Database,
) -> None:
    department = Department.create(name="Extra")
    everywhere = User.get(User.username == "Operator US")
    reader = User.get(User.username == "Operator AU")
    User.update(all_departments=1).where(User.id == everywhere.id).execute()
    UserDep.create(user_id=reader.id, dep_id=department.id, ro=1, last_activity=0, hide_online=0)
    placeholder = User.get(User.username == "Teamleader US")
    UserDep.create(user_id=placeholder.id, dep_id=-1, ro=1, last_activity=0, hide_online=0)
    readers = readers_of(department.id)
    assert everywhere.id in readers and reader.id in readers  # read-only rows still read
    assert placeholder.id not in readers or placeholder.all_departments
    assert readers == readers_by_chat_access(department.id)
    User.update(disabled=1).where(User.id == reader.id).execute()
    assert reader.id not in readers_of(department.id)
    assert readers_of(0) == [] and readers_of(-1) == []
