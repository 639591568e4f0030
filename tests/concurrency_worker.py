"""One console's worth of edits for ``test_concurrency``: run as its own process.

``python tests/concurrency_worker.py URL WORKER SECONDS USER_ID...`` opens the form of a random
user (reads its ``cache_version``), thinks for a moment, saves a new name with that version,
and repeats until the time is up. It prints one JSON object: every save that landed (user,
version read, name written) and how many were refused as conflicts. Anything else (a locked
database, a lost connection, a crash) ends the process with a non-zero status.
"""

from __future__ import annotations

import json
import random
import sys
import time

from store import ConflictError, Session
from store.database import open_database

ACTOR_ID = 5  # Manager US in the sample: edits every user but the admin


def main(argv: list[str]) -> int:
    url, worker, seconds, *user_ids = argv
    rng = random.Random(int(worker))
    db = open_database(url)
    session = Session(db, ACTOR_ID)
    saved: list[dict[str, object]] = []
    conflicts = 0
    deadline = time.monotonic() + float(seconds)
    n = 0
    while time.monotonic() < deadline:
        user_id = int(rng.choice(user_ids))
        version = session.users.get(user_id).cache_version  # the form opens
        time.sleep(rng.uniform(0, 0.004))  # the leader types
        name = f"w{worker}-{n}"
        n += 1
        try:
            session.users.update(user_id, expected_version=version, name=name)
        except ConflictError:
            conflicts += 1
            continue
        saved.append({"user": user_id, "version": version, "name": name})
        time.sleep(rng.uniform(0, 0.01))  # the next form
    db.close()
    print(json.dumps({"worker": int(worker), "saved": saved, "conflicts": conflicts}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
