"""Loading the documented three-level sample (``sample.toml``) through the store's services.

The sample is written by the installer session with the same services a person uses, so its
rows (derived ``lh_userdep`` rows, ``departments_ids``, bcrypt hashes, audit rows) are exactly
those of a hand-made setup. The whole load is one transaction: all of it or nothing.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from peewee import Database

from store import Session, StoreError
from store.audit import write_audit
from store.database import reset_id_sequences, write_transaction
from store.dump import HISTORY_TABLE_NAMES, clear_permission_tables, table_counts
from store.models import Audit
from store.regular_files import open_for_reading

from .report import (
    PREVIEW_NAMES,
    DryRunRollback,
    ImportReport,
    LoadedBy,
    authorise,
    check_administrator,
    held_permission_rows,
    last_ids,
    not_empty_message,
    rows_since,
)

SAMPLE_FILE = "sample.toml"


def read_sample(path: Path | None = None) -> dict[str, Any]:
    """The sample configuration as data (the packaged file unless a path is given)."""
    if path is not None:
        with open_for_reading(path) as handle:  # a regular file only, as every input file
            return tomllib.loads(handle.read().decode("utf-8"))
    text = resources.files("seed").joinpath(SAMPLE_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_sample(
    db: Database,
    *,
    by: LoadedBy,
    replace: bool = False,
    dry_run: bool = False,
    path: Path | None = None,
) -> ImportReport:
    """Write the sample configuration; refuse on a non-empty database unless ``replace``.

    ``by`` names who loads (``seed.report.authorise``): a logged-in ``Session`` must be an
    administrator, ``Authority.FIRST_RUN`` only loads into an empty database, and
    ``Authority.LOCAL`` (the ``sample`` command) may replace. A replace that would leave no
    enabled administrator is refused. The load leaves one ``import.sample`` audit row naming
    the actor (0, the installer, for the first run and the command). A dry run writes
    everything, reports what it wrote, and rolls back.
    """
    config = read_sample(path)
    source = "built-in sample" if path is None else path.name
    what = "the sample" if path is None else f"the sample {path.name}"
    report = ImportReport(source=source, dry_run=dry_run, replace=replace)
    try:
        with write_transaction(db):
            report.existing = table_counts()
            held = held_permission_rows(report.existing, HISTORY_TABLE_NAMES)
            actor_id, authority = authorise(by, held)
            if held and not replace:
                if not dry_run:
                    raise StoreError(not_empty_message(held))
                report.conflicts.append(not_empty_message(held))
            if held:
                clear_permission_tables()
                reset_id_sequences(db)  # PostgreSQL: ids start at 1 again
            baseline = table_counts()
            audits_before = last_ids([Audit])
            _load(Session.installer(db), config)
            reset_id_sequences(db)
            after = table_counts()
            report.counts = {t: after[t] - baseline[t] for t in after if after[t] != baseline[t]}
            report.usernames = [u["username"] for u in config.get("users", [])][:PREVIEW_NAMES]
            report.group_names = [g["name"] for g in config.get("groups", [])][:PREVIEW_NAMES]
            if replace:
                check_administrator(report, what)
            write_audit(
                category="import",
                object_id=0,
                actor_id=actor_id,
                action="import.sample",
                extra={
                    "loaded": "sample",
                    "source": source,
                    "counts": report.counts,
                    "replace": replace,
                    "by": authority,
                    # the per-object rows the installer wrote while loading it
                    "installer_rows": rows_since(audits_before, [Audit]),
                },
            )
            if dry_run:
                raise DryRunRollback
    except DryRunRollback:
        pass
    return report


def _expect(kind: str, expected: int, got: int) -> None:
    if expected != got:
        raise StoreError(
            f"Sample {kind} #{expected} was created as #{got}: the database's id counters are "
            "not at their start (MySQL/MariaDB never lower them, even after rows are deleted); "
            "load the sample into a new, empty database"
        )


def _load(session: Session, config: dict[str, Any]) -> None:
    for dep in config.get("departments", []):
        _expect("department", dep["id"], session.departments.create_department(dep["name"]).id)
    for dg in config.get("department_groups", []):
        dep_group = session.departments.create_group(dg["name"], dg.get("departments", []))
        _expect("department group", dg["id"], dep_group.id)
    for role in config.get("roles", []):
        new_role = session.roles.create(role["name"])
        _expect("role", role["id"], new_role.id)
        for policy in role.get("policies", []):
            if isinstance(policy, str):
                module, _, function = policy.partition("/")
                policy = {"module": module, "function": function}
            session.roles.add_policy(
                new_role.id,
                policy["module"],
                policy["function"],
                limitation=policy.get("limitation", ""),
                exclude=policy.get("exclude", False),
            )
    for group in config.get("groups", []):
        new_group = session.groups.create(group["name"], required=group.get("required", False))
        _expect("group", group["id"], new_group.id)
    for group in config.get("groups", []):
        for role_id in group.get("roles", []):
            session.groups.attach_role(group["id"], role_id)
        if group.get("works_with"):
            session.groups.set_work_with(group["id"], group["works_with"])
    for user in config.get("users", []):
        new_user = session.users.create(
            username=user["username"],
            password=user["password"],
            email=user["email"],
            name=user.get("name", ""),
            surname=user.get("surname", ""),
            groups=user["groups"],
            department_groups=user.get("department_groups", []),
        )
        _expect("user", user["id"], new_user.id)
        if user.get("all_departments"):
            session.assignments.set_all_departments(new_user.id, True)
