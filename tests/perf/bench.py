"""The scale benchmark of issue 7: how fast the console is on a generated database of N users.

    python tests/perf/bench.py --users 100000 [--json] [--repeat 5]

Builds a generated SQLite database (``tests/perf/generate.py``) in a temporary directory and
reports medians of ``--repeat`` runs (imports: ``--import-repeat`` runs; starts: three times
``--repeat``):

- ``start_s``: process start to the first paint of the login form (headless, ``App.run_test``),
  in a fresh ``python -c`` process that runs ``tui.command_line.main`` as the ``lhc-console``
  script does; ``baseline_start_s``: the same for a bare Textual app with one Static;
  ``start_ratio`` the one over the other. ``start_settled_s``: until the database (opened in a
  worker after that paint) is open and the app idle; ``baseline_settled_s``: the bare app idle.
- ``users_page_ms``: first page (50 rows) of the scoped users table, ``Session.users.page``, for a
  team leader of one region; ``users_page_wide_ms`` for a team leader whose group also works
  with the base Operators group (sees nearly everyone); ``users_page_manager_ms`` for a manager
  (``lhuser/*``, sees everyone). ``users_count_ms`` / ``users_count_wide_ms``: the list's
  total (``Session.users.count``), which the screen asks for after showing the first page.
- ``filter_ms``: one keystroke typed into the real UsersScreen's filter (Pilot, in a console
  subprocess, logged in as the team leader) until the first paint after the filtered page
  landed in the table. It includes the screen's deliberate typing pause, if any
  (``screens.paged_list.FILTER_DELAY``, reported as ``filter_debounce_ms``);
  ``filter_after_debounce_ms`` is the rest. ``filter_settled_ms``: until the last paint before
  the process went idle (the total, counted after the rows, has been shown by then).
  ``filter_wide_ms``: ``filter_ms`` as the wide team leader.
  ``filter_query_ms``: the store call alone (``page(text=...)``).
- ``scope_ms``: ``PermissionSet.for_user`` + ``Scope.compute`` of the team leader; ``access_ms``:
  ``store.access.chat_access`` of the team leader; ``who_can_read_ms``:
  ``store.access.readers_of`` of one department over all users.
- ``review_page_ms``, ``review_page_wide_ms``, ``review_page_manager_ms``: the access review's
  first page (``Session.review.page``, by last login) as the team leader, the wide one and the
  manager; ``review_flag_max_ms``: the slowest first page of the five flag filters (``--only``)
  for any of the three; ``review_summary_ms``: the slowest of their counts per flag
  (``Session.review.summary``, which visits every user they may edit, shown after the page).
- ``impact_ms``: the impact preview (issue 19) of adding a policy to the base Operators role,
  which the Operators group carries to nearly every user, as the administrator
  (``Session.impact.preview``: the change made, every affected user's permissions compared,
  rolled back); ``impact_users`` is how many users it lists.
- ``lint_ms``: the risk report (``store.risk.risk_report``, as ``lhc-console lint`` runs it: one
  read transaction) over the whole database; ``lint_findings`` is how many findings it made.
- ``import_sample_s``: importing ``../shared/data/livehelperchat_install.sql`` into a fresh
  database (null without the file); ``import_generated_s``: importing the generated database's
  export (``seed.exporter``) into a fresh database (``export_generated_s``: writing it).
- ``peak_rss_mb``: peak RSS of the console subprocess that ran the filter runs (``VmHWM``, the
  process image's own peak; ``peak_rss_ru_maxrss_mb`` is ``ru_maxrss``, which on Linux carries
  the benchmark parent's peak over ``fork``/``exec`` and so overstates it).

No time here is asserted by a test; the README carries the table for N = 1,000, 10,000, 100,000.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT, HERE, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

SAMPLE_DUMP = ROOT.parent / "shared" / "data" / "livehelperchat_install.sql"
FILTER_CHARACTER = "9"
KEYS = (
    "users",
    "start_s",
    "baseline_start_s",
    "start_ratio",
    "start_settled_s",
    "baseline_settled_s",
    "users_page_ms",
    "users_page_wide_ms",
    "users_page_manager_ms",
    "users_count_ms",
    "users_count_wide_ms",
    "filter_ms",
    "filter_settled_ms",
    "filter_debounce_ms",
    "filter_after_debounce_ms",
    "filter_keystroke_to_query_ms",
    "filter_query_to_repaint_ms",
    "filter_wide_ms",
    "filter_query_ms",
    "scope_ms",
    "access_ms",
    "who_can_read_ms",
    "review_page_ms",
    "review_page_wide_ms",
    "review_page_manager_ms",
    "review_flag_max_ms",
    "review_summary_ms",
    "impact_ms",
    "lint_ms",
    "import_sample_s",
    "import_generated_s",
    "export_generated_s",
    "peak_rss_mb",
    "peak_rss_ru_maxrss_mb",
    "generate_s",
)
INSTRUCTION_KEYS = (
    "start_minstructions",
    "baseline_start_minstructions",
    "start_instructions_ratio",
)
NOTES = {
    "start_s": "lhc-console (tui.command_line.main) to the first paint of the login form",
    "start_ratio": "start_s / baseline_start_s (target 1.3)",
    "start_settled_s": "until the database is open too (worker after the first paint)",
    "filter_ms": "Pilot: keystroke in the real UsersScreen to the first paint of the new rows",
    "filter_settled_ms": "the same to the last paint before the process went idle (the total)",
    "users_count_wide_ms": "the total, shown after the first page (grows with the scope)",
    "lint_ms": "risk report (lhc-console lint) over the whole database",
    "impact_ms": "preview: a policy added to the role of the group of nearly every user",
    "peak_rss_mb": "VmHWM of the console process (ru_maxrss inherits the parent's peak)",
}

START_CHILD = """
import asyncio, sys, time
{setup}
painted = []

async def drive(app):
    original = app._display

    def display(screen, *args, **kwargs):
        original(screen, *args, **kwargs)
        if not painted and {shown}:
            painted.append(time.time())

    app._display = display
    async with app.run_test(size=(80, 24)) as pilot:
        while not painted:
            await asyncio.sleep(0.001)
        while not ({settled}):
            await pilot.pause(0.002)
        await pilot.pause()
        print(repr(painted[0]), repr(time.time()), flush=True)

{run}
"""
CONSOLE_START = dict(
    # As the ``lhc-console`` script does: import tui.command_line.main and call main; only
    # App.run is replaced by the headless drive.
    setup="import tui.shell.app, tui.command_line.main",
    shown="type(screen).__name__ == 'LoginScreen'",
    settled="app.db is not None",
    run="""
def run_console(url, actor_id=None):
    asyncio.run(drive(tui.shell.app.LhcConsole(url)))

tui.shell.app.run_console = run_console
tui.command_line.main.main(["--db", {url!r}])
""",
)
BASELINE_START = dict(
    setup="""from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("bare", id="bare")
""",
    shown="bool(app.query('#bare'))",
    settled="True",
    run="asyncio.run(drive(Bare()))",
)


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed_ms(call: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of ``call`` (one untimed warm-up call first)."""
    call()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return round(median(runs), 2)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(HERE)])
    env.pop("TEXTUAL", None)
    return env


def start_seconds(url: str, repeat: int) -> dict[str, float]:
    """Median process start to first paint, for the console and for a bare Textual app.

    ``start_s`` is from starting the interpreter to the first frame that shows the login form
    (``App._display`` handed it; headless, so nothing is written), through
    ``tui.command_line.main`` as the ``lhc-console`` script runs it. ``start_settled_s`` goes on
    until the database, which opens in a worker after that paint, is open and the app is idle
    again: when a password typed at once would be checked without waiting. The bare app's
    ``baseline_start_s`` is its first paint (``baseline_settled_s``: idle after it). One untimed
    run of each first, with bytecode caching on, so both start from compiled modules as every
    start after the first.
    """
    console = START_CHILD.format(**CONSOLE_START).replace("{url!r}", repr(url))
    bare = START_CHILD.format(**BASELINE_START)
    env = child_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs: dict[str, list[tuple[float, float]]] = {"console": [], "bare": []}
    for attempt in range(repeat + 1):  # interleaved, so both see the same machine load
        for name, code in (("console", console), ("bare", bare)):
            started = time.time()
            out = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                timeout=120,
                check=True,
            )
            painted, settled = map(float, out.stdout.strip().splitlines()[-1].split())
            if attempt:
                runs[name].append((painted - started, settled - started))

    def at(name: str, index: int) -> float:
        return round(median([run[index] for run in runs[name]]), 3)

    return {
        "start_s": at("console", 0),
        "baseline_start_s": at("bare", 0),
        "start_ratio": round(at("console", 0) / at("bare", 0), 2),
        "start_settled_s": at("console", 1),
        "baseline_settled_s": at("bare", 1),
    }


def start_instructions(url: str) -> dict[str, float]:
    """Instructions from exec to the first paint, console and bare app, under callgrind.

    Wall-clock starts on a shared 2-core machine spread by a third from run to run; the
    instruction count of the same start is the same to 0.01 %, so the ratio it gives is the
    one to compare between commits. Each child exits at its first paint. Needs valgrind; about
    20 s per run.
    """
    exit_at_paint = "import os; os._exit(0)"
    console = START_CHILD.format(**CONSOLE_START).replace("{url!r}", repr(url))
    bare = START_CHILD.format(**BASELINE_START)
    env = child_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    counts = {}
    for name, code in (("console", console), ("bare", bare)):
        code = code.replace("painted.append(time.time())", exit_at_paint)
        subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, timeout=120, check=True)
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                "-c",
                code,
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=600,
            check=True,
        )
        refs = [line for line in out.stderr.splitlines() if "refs:" in line]
        counts[name] = int(refs[-1].rsplit(maxsplit=1)[-1].replace(",", ""))
    return {
        "start_minstructions": round(counts["console"] / 1e6, 1),
        "baseline_start_minstructions": round(counts["bare"] / 1e6, 1),
        "start_instructions_ratio": round(counts["console"] / counts["bare"], 3),
    }


# -- the console subprocess: log in, open Users, type into the filter ----------------------


async def _console_run(url: str, username: str, password: str, repeat: int) -> dict[str, Any]:
    import resource

    from pilot import SIZE, log_in, settle
    from textual.widgets import DataTable, Input

    from screens.paged_list import FILTER_DELAY
    from screens.users import UsersScreen
    from tui.shell.app import LhcConsole

    app = LhcConsole(url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, username, password)
        assert app.session is not None, "login failed"
        await app.push_screen(UsersScreen(app.session))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsersScreen)
        loaded: list[float] = []
        original = screen._first_page

        def first_page(generation: int, *rest: Any) -> None:
            original(generation, *rest)
            if generation == screen._generation:
                loaded.append(time.perf_counter())

        screen._first_page = first_page  # type: ignore[method-assign]
        reloads: list[float] = []
        original_reload = screen._reload

        def reload(**kwargs: Any) -> None:
            reloads.append(time.perf_counter())
            original_reload(**kwargs)

        screen._reload = reload  # type: ignore[method-assign]
        field = screen.query_one("#users-filter", Input)
        table = screen.query_one("#users-table", DataTable)
        unfiltered_rows = table.row_count

        # The repaint: the compositor's next update of the screen (headless, so it is composed
        # and handed to ``App._display``, which writes nothing).
        painted: list[float] = []
        original_display = app._display

        def display(*args: Any, **kwargs: Any) -> None:
            original_display(*args, **kwargs)
            painted.append(time.perf_counter())

        app._display = display  # type: ignore[method-assign]

        async def until_loaded() -> tuple[float, float]:
            """The first paint after the page landed in the table, and the last one so far.

            ``pilot.press`` returns only once the process is idle, so by then the screen may
            have painted again (the total arriving after the rows, a cursor blink): the table
            was repainted at the first paint after the page landed.
            """
            while not loaded:
                await asyncio.sleep(0.001)
            deadline = time.perf_counter() + 2
            while not (painted and painted[-1] > loaded[-1]) and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            after = [p for p in painted if p > loaded[-1]]
            now = time.perf_counter()
            return (after[0], after[-1]) if after else (now, now)

        runs, settled, to_query, to_paint = [], [], [], []
        filtered_rows = 0
        for _ in range(repeat):
            field.focus()
            await pilot.pause()
            loaded.clear()
            reloads.clear()
            painted.clear()
            started = time.perf_counter()
            await pilot.press(FILTER_CHARACTER)
            ended, last = await until_loaded()
            runs.append((ended - started) * 1000)
            settled.append((last - started) * 1000)
            to_query.append((reloads[0] - started) * 1000)
            to_paint.append((ended - reloads[0]) * 1000)
            filtered_rows = table.row_count
            loaded.clear()
            field.value = ""  # back to the unfiltered table for the next run
            await until_loaded()
            await settle(pilot)
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "peak_rss_ru_maxrss_mb": round(peak_kb / 1024, 1),
        "filter_ms": round(median(runs), 2),
        "filter_settled_ms": round(median(settled), 2),
        "filter_debounce_ms": round(FILTER_DELAY * 1000, 2),
        "keystroke_to_query_ms": round(median(to_query), 2),
        "query_to_repaint_ms": round(median(to_paint), 2),
        "peak_rss_mb": round((own_peak_kb() or peak_kb) / 1024, 1),
        "rows": [unfiltered_rows, filtered_rows],
    }


def own_peak_kb() -> int | None:
    """This process image's peak RSS (``VmHWM``), or None off Linux.

    ``ru_maxrss`` is kept across ``fork``/``exec`` on Linux, so a child started by a big parent
    (the benchmark holding a generated database in memory) would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def console_run(url: str, username: str, password: str, repeat: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--console-child", url, username, password, str(repeat)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"console subprocess failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the benchmark ---------------------------------------------------------------------


def import_seconds(dump: Path, workdir: Path, repeat: int) -> float:
    from seed.importer import import_dump
    from seed.report import Authority
    from store.database import open_database

    runs = []
    for i in range(repeat):
        target = workdir / f"import-{dump.stem}-{i}.sqlite"
        db = open_database(f"sqlite:///{target}")
        started = time.perf_counter()
        import_dump(db, dump, by=Authority.LOCAL)
        runs.append(time.perf_counter() - started)
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    return round(median(runs), 3)


def review_figures(
    db: Any, leader: int, wide: int | None, manager: int, repeat: int
) -> dict[str, float | None]:
    """The access review (``store.review``): first pages, flag filters and counts per flag."""
    from store.review import FLAGS
    from store.session import Session

    actors = [a for a in (leader, wide, manager) if a is not None]

    def page_ms(actor: int | None, **query: Any) -> float | None:
        if actor is None:
            return None
        session = Session(db, actor)
        return timed_ms(lambda: session.review.page(limit=50, **query), repeat)

    def summary_ms(actor: int) -> float:
        session = Session(db, actor)
        return timed_ms(lambda: session.review.summary(), repeat)

    return {
        "review_page_ms": page_ms(leader),
        "review_page_wide_ms": page_ms(wide),
        "review_page_manager_ms": page_ms(manager),
        "review_flag_max_ms": max(page_ms(a, only=f) or 0.0 for a in actors for f in FLAGS),
        "review_summary_ms": max(summary_ms(a) for a in actors),
    }
def impact_figures(db: Any, info: dict[str, Any], repeat: int) -> dict[str, Any]:
    """``impact_ms``: the impact preview of a policy added to the base Operators role (carried
    by the Operators group, which holds nearly every user), as the administrator; each run
    makes the change, compares, and rolls back, so every run sees the same database."""
    from store.impact import Touches
    from store.session import Session

    admin, role = Session(db, info["admin"]), info["operators_role"]
    touches = Touches.of(roles=[role])

    def preview() -> Any:
        return admin.impact.preview(
            touches, lambda: admin.roles.add_policy(role, "lhbench", "impact")
        )

    return {"impact_ms": timed_ms(preview, repeat), "impact_users": len(preview().entries)}


def run_benchmark(
    users: int,
    *,
    repeat: int = 5,
    import_repeat: int = 1,
    groups: int | None = None,
    departments: int | None = None,
    seed: int = 7,
    workdir: Path | None = None,
    instructions: bool = False,
) -> dict[str, Any]:
    from generate import generate

    from seed.exporter import export_dump
    from store.access import chat_access, readers_of
    from store.database import open_database, read_transaction
    from store.permissions import PermissionSet
    from store.risk import risk_report
    from store.scope import Scope
    from store.session import Session

    result: dict[str, Any] = {"users": users}
    with tempfile.TemporaryDirectory(prefix="lhc-bench-", dir=workdir) as tmp:
        tmpdir = Path(tmp)
        path = tmpdir / "bench.sqlite"
        url = f"sqlite:///{path}"
        db = open_database(url)
        started = time.perf_counter()
        info = generate(db, users=users, groups=groups, departments=departments, seed=seed)
        result["generate_s"] = round(time.perf_counter() - started, 2)
        db.execute_sql("ANALYZE")  # what a long-lived database has; harmless on a new one
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")

        leader, wide, manager = info["team_leader"], info["team_leader_wide"], info["manager"]
        as_leader = Session(db, leader)
        result["users_page_ms"] = timed_ms(lambda: as_leader.users.page(limit=50), repeat)
        result["users_page_wide_ms"] = (
            timed_ms(lambda: Session(db, wide).users.page(limit=50), repeat) if wide else None
        )
        result["users_count_ms"] = timed_ms(lambda: as_leader.users.count(), repeat)
        result["users_count_wide_ms"] = (
            timed_ms(lambda: Session(db, wide).users.count(), repeat) if wide else None
        )
        as_manager = Session(db, manager)
        result["users_page_manager_ms"] = timed_ms(lambda: as_manager.users.page(limit=50), repeat)
        result["filter_query_ms"] = timed_ms(
            lambda: as_leader.users.page(text=FILTER_CHARACTER, limit=50), repeat
        )
        result["scope_ms"] = timed_ms(
            lambda: Scope.compute(leader, PermissionSet.for_user(leader)), repeat
        )
        result["access_ms"] = timed_ms(lambda: chat_access(leader), repeat)
        department = info["department"]
        result["who_can_read_ms"] = timed_ms(lambda: readers_of(department), repeat)
        result["who_can_read_count"] = len(readers_of(department))

        result.update(review_figures(db, leader, wide, manager, repeat))
        result.update(impact_figures(db, info, repeat))

        def lint() -> int:
            with read_transaction(db):
                return len(risk_report().findings)

        result["lint_ms"] = timed_ms(lint, repeat)
        result["lint_findings"] = lint()

        dump = tmpdir / "generated.sql"
        started = time.perf_counter()
        export_dump(dump)
        result["export_generated_s"] = round(time.perf_counter() - started, 2)
        db.close()

        result.update(start_seconds(url, 3 * repeat))  # cheap, and the spread is wide
        if instructions:
            result.update(start_instructions(url))
        names, password = info["usernames"], info["password"]
        console = console_run(url, names["team_leader"], password, repeat)
        result["filter_ms"] = console["filter_ms"]
        result["filter_settled_ms"] = console["filter_settled_ms"]
        result["filter_debounce_ms"] = console["filter_debounce_ms"]
        result["filter_after_debounce_ms"] = round(
            console["filter_ms"] - console["filter_debounce_ms"], 2
        )
        result["filter_keystroke_to_query_ms"] = console["keystroke_to_query_ms"]
        result["filter_query_to_repaint_ms"] = console["query_to_repaint_ms"]
        peak = console["peak_rss_mb"]
        if wide:
            wide_run = console_run(url, names["team_leader_wide"], password, repeat)
            result["filter_wide_ms"] = wide_run["filter_ms"]
            peak = max(peak, wide_run["peak_rss_mb"])
        else:
            result["filter_wide_ms"] = None
        result["peak_rss_mb"] = peak
        result["peak_rss_ru_maxrss_mb"] = console["peak_rss_ru_maxrss_mb"]

        result["import_sample_s"] = (
            import_seconds(SAMPLE_DUMP, tmpdir, repeat) if SAMPLE_DUMP.is_file() else None
        )
        result["import_generated_s"] = import_seconds(dump, tmpdir, import_repeat)
    result["counts"] = info["counts"]
    result["notes"] = NOTES
    extras = (
        "who_can_read_count",
        "impact_users",
        "lint_findings",
        "counts",
        "notes",
        *INSTRUCTION_KEYS,
    )
    return {key: result.get(key) for key in (*KEYS, *extras)}


def table(result: dict[str, Any]) -> str:
    lines = [f"lhc-console benchmark, {result['users']:,} users"]
    measured = [key for key in INSTRUCTION_KEYS if result.get(key) is not None]
    for key in (*KEYS[1:], *measured):
        value = result[key]
        shown = "n/a" if value is None else f"{value:,}"
        note = NOTES.get(key, "")
        lines.append(f"  {key:<26} {shown:>12}  {note}".rstrip())
    counts = ", ".join(f"{k} {v:,}" for k, v in result["counts"].items())
    lines.append(f"  generated: {counts}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--console-child"]:
        url, username, password, repeat = argv[1:5]
        out = asyncio.run(_console_run(url, username, password, int(repeat)))
        print(json.dumps(out))
        return 0
    parser = argparse.ArgumentParser(description="lhc-console scale benchmark (issue 7)")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--groups", type=int)
    parser.add_argument("--departments", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--import-repeat", type=int, default=1, help="runs per import")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the start's instructions under valgrind (repeatable to 0.01 %%)",
    )
    args = parser.parse_args(argv)
    result = run_benchmark(
        args.users,
        repeat=max(1, args.repeat),
        import_repeat=max(1, args.import_repeat),
        groups=args.groups,
        departments=args.departments,
        seed=args.seed,
        instructions=args.instructions,
    )
    print(json.dumps(result) if args.json else table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
