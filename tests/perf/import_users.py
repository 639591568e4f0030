"""Import speed and memory for a dump of N plain users (no departments, one group each).

    python tests/perf/import_users.py 100000

Builds (once, cached in a temp folder) an SQLite database of N users with a membership each,
exports it with ``seed.exporter``, then imports the dump into a fresh database in this
process and prints the time and the peak RSS before and after. ``tests/perf/bench.py`` measures
the richer generated configuration; this one isolates the importer on the biggest table.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from seed.exporter import export_dump
from seed.importer import import_dump
from seed.report import Authority
from store.database import open_database
from store.models import Group, GroupUser, User

FOLDER = Path(tempfile.gettempdir()) / "lhc-console-import-bench"


def build_dump(users: int) -> Path:
    """The dump of ``users`` users, made once and reused."""
    dump = FOLDER / f"users{users}.sql"
    if dump.exists():
        return dump
    FOLDER.mkdir(exist_ok=True)
    source = FOLDER / f"source{users}.sqlite"
    source.unlink(missing_ok=True)
    db = open_database(f"sqlite:///{source}")
    with db.atomic():
        Group.create(name="Operators")
        for start in range(0, users, 2000):
            User.insert_many(
                [
                    {
                        "username": f"user{i}",
                        "password": "$2y$10$" + "x" * 53,
                        "email": f"user{i}@example.com",
                        "name": f"Name {i}",
                        "surname": 'O\'Brien "x"',
                    }
                    for i in range(start, min(start + 2000, users))
                ]
            ).execute()
        GroupUser.insert_many([{"group_id": 1, "user_id": i + 1} for i in range(users)]).execute()
    export_dump(dump)
    db.close()
    return dump


def main() -> None:
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    dump = build_dump(users)
    target = FOLDER / f"target{users}.sqlite"
    for path in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        path.unlink(missing_ok=True)
    db = open_database(f"sqlite:///{target}")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    report = import_dump(db, dump, by=Authority.LOCAL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"users={users} dump_mb={dump.stat().st_size / 1e6:.1f} import_s={elapsed:.1f} "
        f"rows={report.total_rows} peak_rss_mb={after:.0f} (before the import {before:.0f})"
    )


if __name__ == "__main__":
    main()
