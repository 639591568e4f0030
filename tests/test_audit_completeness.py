"""Audit completeness (issue 8, part 3): every write service leaves exactly one ``lh_audits`` row.

The list of write services is not typed in by hand: it is read from the ``Session`` services
themselves (every public method that opens ``self._session.action()``), so a write method added
later without an entry in ``WRITES`` fails ``test_every_write_service_has_an_audit_expectation``.
Each entry runs the write on a fresh copy of the sample as the admin and checks that exactly
one row appeared, by the actor, with the expected action, and with no password (hash or plain)
anywhere in any audit message.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from seed.exporter import export_dump
from seed.importer import import_dump
from store import Session
from store.impact import Touches
from store.models import Audit, RoleFunction

ADMIN, OPERATOR_US, OPERATOR_AU = 1, 2, 3
PLAIN_PASSWORDS = ("Plain-Secret-1", "Plain-Secret-2", "demo")  # "admin" is a username too
HASH = re.compile(r"\$2[aby]\$")


@dataclass(frozen=True)
class Write:
    """One successful call of a write service, and the audit action it must leave."""

    action: str
    call: Callable[[Session], Any]
    setup: Callable[[Session], Any] | None = None


def first_policy(role_id: int) -> int:
    return (
        RoleFunction.select()
        .where(RoleFunction.role_id == role_id)
        .order_by(RoleFunction.id)
        .get()
        .id
    )


def measured_policy_add(session: Session) -> Any:
    """A measured real change (a ``--json`` command): the change's own row, nothing more."""
    with session.impact.measuring(Touches.of(roles=[4])):
        return session.roles.add_policy(4, "lhchat", "use")


WRITES: dict[str, list[Write]] = {
    "impact.measuring": [Write("role.policy.add", measured_policy_add)],
    "users.create": [
        Write(
            "user.create",
            lambda s: s.users.create(
                username="auditee",
                password="Plain-Secret-1",
                password_again="Plain-Secret-1",
                email="auditee@example.com",
                groups=[2, 4],
                department_groups=[2],
                departments=[1],
            ),
        )
    ],
    "users.update": [Write("user.update", lambda s: s.users.update(OPERATOR_US, name="Renamed"))],
    "users.set_password": [
        Write("user.set_password", lambda s: s.users.set_password(OPERATOR_US, "Plain-Secret-2"))
    ],
    "users.set_disabled": [
        Write("user.disable", lambda s: s.users.set_disabled(OPERATOR_US, True)),
        Write(
            "user.enable",
            lambda s: s.users.set_disabled(OPERATOR_US, False),
            setup=lambda s: s.users.set_disabled(OPERATOR_US, True),
        ),
    ],
    "users.delete": [Write("user.delete", lambda s: s.users.delete(OPERATOR_AU))],
    "users.change_groups": [
        Write("user.groups", lambda s: s.users.change_groups(OPERATOR_US, add=[7], remove=[4]))
    ],
    "groups.create": [Write("group.create", lambda s: s.groups.create("Night shift"))],
    "groups.update": [
        Write("group.update", lambda s: s.groups.update(4, name="US Ops", required=True))
    ],
    "groups.set_work_with": [Write("group.work_with", lambda s: s.groups.set_work_with(7, [4, 2]))],
    "groups.save": [
        Write("group.save", lambda s: s.groups.save(None, name="Weekend", works_with=[2])),
        Write(
            "group.save",
            lambda s: s.groups.save(4, name="US Ops", required=True, works_with=[2]),
        ),
        Write("group.save", lambda s: s.groups.save(4, works_with=[2])),
    ],
    "groups.add_member": [Write("user.groups", lambda s: s.groups.add_member(7, OPERATOR_US))],
    "groups.remove_member": [
        Write("user.groups", lambda s: s.groups.remove_member(4, OPERATOR_US))
    ],
    "groups.attach_role": [Write("group.attach_role", lambda s: s.groups.attach_role(6, 4))],
    "groups.detach_role": [Write("group.detach_role", lambda s: s.groups.detach_role(4, 6))],
    "groups.delete": [Write("group.delete", lambda s: s.groups.delete(6))],
    "roles.create": [Write("role.create", lambda s: s.roles.create("Auditors"))],
    "roles.rename": [Write("role.rename", lambda s: s.roles.rename(4, "Rest API v2"))],
    "roles.delete": [Write("role.delete", lambda s: s.roles.delete(4))],
    "roles.add_policy": [
        Write(
            "role.policy.add",
            lambda s: s.roles.add_policy(4, "lhdepartment", "see_all", limitation='{"group":[2]}'),
        )
    ],
    "roles.remove_policy": [
        Write("role.policy.remove", lambda s: s.roles.remove_policy(5, first_policy(5)))
    ],
    "departments.create_department": [
        Write("department.create", lambda s: s.departments.create_department("Departments EU"))
    ],
    "departments.create_group": [
        Write("department_group.create", lambda s: s.departments.create_group("EU", [1]))
    ],
    "departments.rename_group": [
        Write("department_group.rename", lambda s: s.departments.rename_group(1, "AU"))
    ],
    "departments.set_group_departments": [
        Write(
            "department_group.departments",
            lambda s: s.departments.set_group_departments(1, [1, 2]),
        )
    ],
    "departments.delete_group": [
        Write("department_group.delete", lambda s: s.departments.delete_group(1))
    ],
    "assignments.assign_department_group": [
        Write(
            "user.department_group.assign",
            lambda s: s.assignments.assign_department_group(OPERATOR_US, 1, read_only=True),
        )
    ],
    "assignments.unassign_department_group": [
        Write(
            "user.department_group.unassign",
            lambda s: s.assignments.unassign_department_group(OPERATOR_US, 2),
        )
    ],
    "assignments.assign_department": [
        Write("user.department.assign", lambda s: s.assignments.assign_department(OPERATOR_US, 1))
    ],
    "assignments.unassign_department": [
        Write(
            "user.department.unassign",
            lambda s: s.assignments.unassign_department(OPERATOR_US, 1),
            setup=lambda s: s.assignments.assign_department(OPERATOR_US, 1),
        )
    ],
    "assignments.set_all_departments": [
        Write(
            "user.all_departments",
            lambda s: s.assignments.set_all_departments(OPERATOR_US, True),
        )
    ],
    "rosters.unassign": [
        Write(
            "user.roster.unassign",
            lambda s: s.rosters.unassign(
                OPERATOR_US,
                [
                    w
                    for p in s.rosters.department(2).people
                    if p.user_id == OPERATOR_US
                    for w in p.ways
                ],
                department_id=2,
            ),
            setup=lambda s: s.assignments.assign_department(OPERATOR_US, 2),
        )
    ],
}


def write_methods() -> set[str]:
    """``service.method`` for every public method of a ``Session`` service that opens a write
    transaction (``self._session.action()``), found in the services' source."""
    session = Session.__new__(Session)
    Session.__init__(session, None, ADMIN)  # type: ignore[arg-type]  # no database needed
    found: set[str] = set()
    for attribute, service in vars(session).items():
        if attribute.startswith("_") or not hasattr(service, "_session"):
            continue
        for name, method in inspect.getmembers(type(service), inspect.isfunction):
            if name.startswith("_"):
                continue
            if "self._session.action()" in inspect.getsource(method):
                found.add(f"{attribute}.{name}")
    return found


def test_every_write_service_has_an_audit_expectation() -> None:
    found = write_methods()
    assert len(found) >= 30, sorted(found)  # the scan itself works
    missing = sorted(found - set(WRITES))
    assert not missing, (
        f"write service(s) {missing} have no entry in WRITES of {Path(__file__).name}: "
        "add one that checks its lh_audits row"
    )
    assert not sorted(set(WRITES) - found), "WRITES names methods that are not write services"


CASES = [
    pytest.param(method, write, id=f"{method}[{i}]")
    for method, writes in WRITES.items()
    for i, write in enumerate(writes)
]


def assert_no_secret_in_audits() -> None:
    for row in Audit.select():
        assert not HASH.search(row.message), f"password hash in audit row {row.id}"
        for plain in PLAIN_PASSWORDS:
            assert f'"{plain}"' not in row.message, f"password {plain!r} in audit row {row.id}"


@pytest.mark.parametrize(("method", "write"), CASES)
def test_each_write_leaves_exactly_one_audit_row_without_secrets(
    sample_db: Database, method: str, write: Write
) -> None:
    session = Session(sample_db, ADMIN)
    if write.setup is not None:
        write.setup(session)
    last_id = Audit.select().order_by(Audit.id.desc()).get().id
    write.call(session)
    new = list(Audit.select().where(Audit.id > last_id))
    assert len(new) == 1, [json.loads(r.message)["action"] for r in new]
    row = new[0]
    message = json.loads(row.message)
    assert message["action"] == write.action
    assert row.user_id == ADMIN
    assert row.source == "lhc-console"
    assert_no_secret_in_audits()


def test_a_multi_step_group_save_keeps_every_step_in_its_one_row(sample_db: Database) -> None:
    session = Session(sample_db, ADMIN)
    session.groups.save(4, name="US Ops", required=True, works_with=[2])
    row = Audit.select().order_by(Audit.id.desc()).get()
    message = json.loads(row.message)
    assert message["steps"] == ["group.update", "group.work_with"]
    assert message["before"]["name"] == "US Operators"
    assert message["after"]["name"] == "US Ops"


def test_an_import_leaves_one_audit_row(sample_db: Database, tmp_path: Path) -> None:
    dump = tmp_path / "sample.sql"
    export_dump(dump)
    last_id = Audit.select().order_by(Audit.id.desc()).get().id
    import_dump(sample_db, dump, replace=True, by=Session(sample_db, ADMIN))
    new = [r.id for r in Audit.select(Audit.id).where(Audit.id > last_id).order_by(Audit.id)]
    # The dump's own history rows are appended (the sample's rows among them, its own
    # import.sample row too: source and category cannot tell them apart); the console adds
    # exactly one row of its own, which names the id range the file's rows took.
    ours = Audit.get_by_id(new[-1])
    message = json.loads(ours.message)
    assert (ours.user_id, ours.category, message["action"]) == (ADMIN, "import", "import.dump")
    imported = message["imported_history"]["lh_audits"]
    assert imported["rows"] == len(new) - 1
    assert new[:-1] == list(range(imported["first_id"], imported["last_id"] + 1))
    assert_no_secret_in_audits()


def test_the_sample_leaves_no_secret_in_its_audit_rows(sample_db: Database) -> None:
    """The sample is loaded through the same services (one row per object created)."""
    assert Audit.select().count() > 0
    assert_no_secret_in_audits()
