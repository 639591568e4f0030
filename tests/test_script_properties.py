"""Property test: random scripting command sequences, as random actors, keep SPEC §3's promises.

Hypothesis draws a random LHC configuration (``test_scope_properties.configurations``: groups
with flags and work-with rows, roles whose policies are the functions scoping depends on,
department groups, assignments), writes it to a SQLite file, and runs a few ``lhc-console``
commands through ``tui.command_line.main`` exactly as a script would (``--db``, ``--as``, the
password in ``$LHC_CONSOLE_PASSWORD``, names or ids of groups). After each command it checks,
against ``tests/oracle.py`` evaluated on the state *before* the command:

- no user gained or lost a group outside the actor's assignable groups ``A(actor)``;
- no department-group assignment (or read-only flag) changed outside the actor's assignable
  department groups, and no direct department outside their assignable departments;
- a non-administrator touched no administrator and made nobody one;
- the exit code is 0 or 2 (never an internal error), and a refused command wrote nothing but
  its login record.

Passwords are real bcrypt hashes at cost 4 (fast to check, still checked by ``authenticate``);
nothing is mocked. Examples: 50, times ``LHC_PROPERTY_SCALE``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import oracle
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from oracle import Config
from test_scope_properties import Rows, configurations, one_of_nonempty, sometimes

from store.database import open_database
from store.dump import all_rows
from store.models import ALL_MODELS
from tui.command_line.main import main

SCALE = max(1, int(os.environ.get("LHC_PROPERTY_SCALE", "1")))
PASSWORD = "pw"
USER_TABLES = (
    ("lh_users", "id"),
    ("lh_groupuser", "user_id"),
    ("lh_departament_group_user", "user_id"),
    ("lh_departament_group_user_disabled", "user_id"),
    ("lh_userdep", "user_id"),
    ("lh_userdep_disabled", "user_id"),
)
KINDS = (
    "add",
    "groups",
    "depgroups",
    "departments",
    "edit",
    "disable",
    "delete",
    "passwd",
    "apply",
)
_serial = itertools.count(1)


@functools.cache
def fast_hash() -> str:
    """A real bcrypt hash of ``PASSWORD`` at cost 4, in LHC's ``$2y$`` spelling."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    return "$2y$" + hashed[4:]


@functools.cache
def empty_schema() -> bytes:
    """The console's empty schema as SQLite file bytes, created once and copied per example."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "schema.sqlite"
        db = open_database(f"sqlite:///{path}")
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        return path.read_bytes()


@contextlib.contextmanager
def database_file(rows: Rows) -> Iterator[str]:
    """A SQLite file holding ``rows`` (every user's password ``PASSWORD``); yields its URL."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lhc.sqlite"
        path.write_bytes(empty_schema())
        db = open_database(f"sqlite:///{path}", create_schema=False)
        with db.atomic():
            for model in ALL_MODELS:
                table_rows = rows.get(model._meta.table_name)
                if model._meta.table_name == "lh_users":
                    table_rows = [{**r, "password": fast_hash()} for r in table_rows or []]
                if table_rows:
                    model.insert_many(table_rows).execute()
        db.close()
        yield f"sqlite:///{path}"


def snapshot(url: str) -> Rows:
    db = open_database(url, create_schema=False)
    try:
        return all_rows()
    finally:
        db.close()


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``lhc-console ARGV`` in-process; returns the exit code and stderr."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.environ.get("LHC_CONSOLE_PASSWORD")
    os.environ["LHC_CONSOLE_PASSWORD"] = PASSWORD
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        if previous is None:
            del os.environ["LHC_CONSOLE_PASSWORD"]
        else:
            os.environ["LHC_CONSOLE_PASSWORD"] = previous
    return code, err.getvalue()


# -- commands ------------------------------------------------------------------------------


def limited(config: Config, kind: str, actor: int) -> bool:
    """Whether the actor can be tempted to step outside their scope with this kind of
    command: a group, department group or department outside their assignable sets exists,
    or a user they see but may not edit."""
    match kind:
        case "add" | "apply" | "groups":
            return bool(set(config.groups) - oracle.assignable_groups(config, actor))
        case "depgroups":
            assignable = oracle.assignable_department_groups(config, actor)
            return bool(set(config.department_groups) - assignable)
        case "departments":
            return bool(config.departments - oracle.assignable_departments(config, actor))
        case _:
            visible = oracle.visible_users(config, actor)
            return bool(visible - oracle.editable_users(config, actor) - {actor})


def capable(config: Config, kind: str, actor: int) -> bool:
    """Whether ``actor`` could do some command of this kind: actors are mostly picked among
    them, so that accepted commands and near misses are both common (a random actor is
    refused nearly always, for dull reasons)."""
    if not oracle.may_act(config, actor):
        return False
    others = oracle.editable_users(config, actor) - {actor}
    match kind:
        case "add" | "apply":
            return oracle.has(config, actor, "lhuser", "createuser") and bool(
                oracle.assignable_groups(config, actor)
            )
        case _:
            return bool(others)


def name_of(draw: st.DrawFn, kind: str, ident: int) -> str:
    """A reference as a script writes it: the exact name, the id, or ``#id``."""
    label = {"group": "group", "dg": "department group", "dep": "department"}[kind]
    return draw(st.sampled_from([f"{label} {ident}", str(ident), f"#{ident}"]))


@st.composite
def commands(draw: st.DrawFn, config: Config, folder: Path) -> tuple[int, list[str]]:
    """An actor and an ``lhc-console`` argv, biased towards the edges of the actor's scope."""
    users = sorted(config.users)
    edges = {
        k: [u for u in users if capable(config, k, u) and limited(config, k, u)] for k in KINDS
    }
    tempting = [k for k in KINDS if edges[k]]
    kind = draw(st.sampled_from(tempting if tempting and draw(st.integers(0, 3)) else KINDS))
    able = [u for u in users if capable(config, kind, u)]
    edgy = edges[kind]
    actor = draw(one_of_nonempty(edgy, edgy, able, users))
    assignable = sorted(oracle.assignable_groups(config, actor))
    outside = sorted(set(config.groups) - set(assignable))
    if not outside or draw(sometimes(6)):
        outside.append(max(config.groups) + 1)  # a group that does not exist
    dgs = sorted(config.department_groups) or [1]
    deps = sorted(config.departments)
    editable = sorted(oracle.editable_users(config, actor) - {actor})
    near = sorted(oracle.visible_users(config, actor) - set(editable))
    admins = sorted(oracle.administrators(config))
    admins_in_sight = sorted(set(admins) & oracle.visible_users(config, actor))
    target = draw(
        one_of_nonempty(editable, editable, near, admins_in_sight, admins, users, [actor])
    )
    who = f"user{target}"

    required = sorted(oracle.required_groups(config, actor))

    def some_group_ids(min_size: int = 0) -> list[int]:
        """Mostly assignable groups (with a required one, as the form asks), some outside."""
        pool = draw(one_of_nonempty([0, 0, 0], [1]))
        chosen = (assignable or outside) if pool == 0 else outside
        picked = draw(st.lists(st.sampled_from(chosen), min_size=min_size, max_size=3, unique=True))
        if required and draw(st.integers(0, 3)) and not set(picked) & set(required):
            picked.append(draw(st.sampled_from(required)))
        return picked

    def some_groups(min_size: int = 0) -> list[str]:
        return [name_of(draw, "group", g) for g in some_group_ids(min_size)]

    def some(kind: str, ids: list[int], min_size: int = 0) -> list[str]:
        picked = draw(st.lists(st.sampled_from(ids), min_size=min_size, max_size=2, unique=True))
        return [name_of(draw, kind, i) for i in picked]

    fresh = f"new{next(_serial)}"
    if kind == "add":
        username = f"user{draw(st.sampled_from(users))}" if draw(sometimes(10)) else fresh
        argv = [
            "user",
            "add",
            username,
            "--email",
            f"{fresh}@example.com",
            "--group",
            *some_groups(1),
            "--generate-password",
        ]
        dep_groups = some("dg", dgs)
        if dep_groups:
            argv += ["--department-group", *dep_groups]
    elif kind == "groups":
        current = sorted(config.users[target].groups) if target in config.users else []
        removed = draw(st.lists(st.sampled_from(current), max_size=1)) if current else []
        add = [
            name_of(draw, "group", g)
            for g in some_group_ids(0 if removed else 1)
            if g not in removed
        ]
        remove = [name_of(draw, "group", g) for g in removed]
        argv = [
            "user",
            "groups",
            who,
            *(["--add", *add] if add else []),
            *(["--remove", *remove] if remove else []),
        ]
    elif kind in ("depgroups", "departments"):
        ids, ref = (dgs, "dg") if kind == "depgroups" else (deps, "dep")
        flag = draw(st.sampled_from(["--add", "--remove"]))
        argv = ["user", kind, who, flag, *some(ref, ids, 1)]
        if draw(st.booleans()):
            argv.append("--read-only")
    elif kind == "edit":
        argv = ["user", "edit", who, "--name", fresh]
    elif kind == "disable":
        argv = ["user", "edit", who, "--disabled", draw(st.sampled_from(["yes", "no"]))]
    elif kind == "passwd":
        argv = ["user", "passwd", who, "--generate-password"]
    elif kind == "delete":
        argv = ["user", "delete", who]
    else:
        lines = []
        for entry in (who, fresh)[: draw(st.integers(1, 2))]:
            lines += [
                "[[users]]",
                f'username = "{entry}"',
                f'email = "{entry}@example.com"',
                "generate_password = true",
            ]
            groups = some_groups(1)
            lines.append("groups = [" + ", ".join(f'"{g}"' for g in groups) + "]")
            if draw(st.booleans()):
                lines.append(
                    "department_groups = [" + ", ".join(f'"{d}"' for d in some("dg", dgs)) + "]"
                )
        plan = folder / f"{fresh}.toml"
        plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
        argv = ["apply", str(plan)]
    return actor, argv


# -- what a command changed ------------------------------------------------------------------


def _by_user(rows: list[dict[str, Any]], key: str) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r[key], []).append({k: v for k, v in r.items() if k != "llogin"})
    return out


def touched_users(before: Rows, after: Rows) -> set[int]:
    """Users whose account row (but its last login), memberships or department rows changed."""
    touched: set[int] = set()
    for table, key in USER_TABLES:
        old, new = _by_user(before[table], key), _by_user(after[table], key)
        touched |= {u for u in set(old) | set(new) if old.get(u) != new.get(u)}
    return touched


def assignments(rows: Rows, user: int) -> set[tuple[int, int]]:
    """``(department group, read-only)`` of the user's live assignments."""
    return {
        (r["dep_group_id"], r["read_only"])
        for r in rows["lh_departament_group_user"]
        if r["user_id"] == user
    }


def check(actor: int, before_rows: Rows, after_rows: Rows) -> None:
    """SPEC §3's invariants for one accepted command of ``actor`` (scope as before it)."""
    before, after = Config.from_rows(before_rows), Config.from_rows(after_rows)
    assignable = oracle.assignable_groups(before, actor)
    assignable_dgs = oracle.assignable_department_groups(before, actor)
    assignable_deps = oracle.assignable_departments(before, actor)
    for user, spec in after.users.items():
        old = before.users.get(user)
        if old is None:  # created: every group and assignment handed out by the actor
            old_groups: frozenset[int] = frozenset()
        elif old.disabled != spec.disabled:
            assert old.groups == spec.groups, f"disabling user {user} changed their groups"
            continue  # parking moves the department rows; that is not an assignment
        else:
            old_groups = old.groups
        changed = old_groups ^ spec.groups
        assert changed <= assignable, (
            f"user {user}: groups {sorted(changed - assignable)} changed, outside "
            f"A(actor {actor}) = {sorted(assignable)}"
        )
        changed_dgs = {
            dg for dg, _ in assignments(before_rows, user) ^ assignments(after_rows, user)
        }
        assert changed_dgs <= assignable_dgs, (
            f"user {user}: department groups {sorted(changed_dgs - assignable_dgs)} changed, "
            f"outside actor {actor}'s {sorted(assignable_dgs)}"
        )
        direct_before = before.direct_departments.get(user, frozenset()) if old else frozenset()
        changed_deps = {
            d for d in direct_before ^ after.direct_departments.get(user, frozenset()) if d > 0
        }
        assert changed_deps <= assignable_deps, (
            f"user {user}: departments {sorted(changed_deps - assignable_deps)} changed, "
            f"outside actor {actor}'s {sorted(assignable_deps)}"
        )
    if not oracle.is_administrator(before, actor):
        admins = oracle.administrators(before)
        hit = touched_users(before_rows, after_rows) & admins
        assert not hit, f"non-administrator {actor} touched administrator(s) {sorted(hit)}"
        made = oracle.administrators(after) - admins
        assert not made, f"non-administrator {actor} made {sorted(made)} administrator(s)"


def assert_only_a_login(actor: int, before: Rows, after: Rows) -> None:
    """A refused command leaves every row as it was, but the attempt's login record."""
    logins = after["lh_users_login"]
    assert logins[: len(before["lh_users_login"])] == before["lh_users_login"]
    assert {r["user_id"] for r in logins[len(before["lh_users_login"]) :]} <= {actor}
    for table in before:
        if table == "lh_users_login":
            continue
        if table == "lh_users":
            strip = [{k: v for k, v in r.items() if k != "llogin"} for r in before[table]]
            assert strip == [{k: v for k, v in r.items() if k != "llogin"} for r in after[table]]
        else:
            assert before[table] == after[table], f"refused command changed {table}"


@settings(
    max_examples=50 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rows=configurations(), data=st.data())
def test_random_cli_commands_by_random_actors_keep_the_scope_invariants(
    rows: Rows, data: st.DataObject
) -> None:
    with database_file(rows) as url, tempfile.TemporaryDirectory() as folder:
        after = snapshot(url)
        for _ in range(data.draw(st.integers(1, 6), label="steps")):
            before = after
            actor, argv = data.draw(commands(Config.from_rows(before), Path(folder)), label="cmd")
            code, err = run_cli([*argv, "--db", url, "--as", f"user{actor}"])
            note(f"user{actor}: {' '.join(argv)} -> {code} {err.strip()}")
            event(
                f"{argv[0]} {argv[1] if argv[0] == 'user' else ''}: "
                f"{'accepted' if code == 0 else 'refused'}"
            )
            assert code in (0, 2), f"exit {code}: {err}"
            assert "internal error" not in err and "Traceback" not in err
            after = snapshot(url)
            if code == 0:
                check(actor, before, after)
            else:
                assert err.startswith("lhc-console: ")
                assert_only_a_login(actor, before, after)
