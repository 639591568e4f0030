"""A deterministic generator of large, realistic LHC permission databases (issue 7).

``generate(db, users=N, groups=G, departments=D, seed=S)`` writes, with the Peewee models and
``insert_many`` in chunks inside one transaction, the shapes SPEC §1.1 describes:

- an Administrators group (role with ``*/*``), a Managers group (role with ``lhuser/*``), the
  required base groups Operators and Teamleader, and regions: one team-leader group working with
  itself and the region's operator groups (some flagged ``-1``, a few also working with the base
  Operators group), and the region's operator groups;
- roles of 20-60 policies drawn from ``store.catalogue.catalogue()`` (a few exclusions and
  limitations among them), 1-3 roles per group;
- departments in department groups (each department in one, some in two);
- users in 1-3 groups, department-group assignments (some read-only) with their derived
  ``lh_userdep`` rows (``type=1``) and ``departments_ids``, a few direct departments and
  ``all_departments`` users, a few disabled users whose rows are parked in the ``*_disabled``
  tables (half of them locked by the login protection: a type-4 ``lh_users_login`` row);
- last logins (``llogin``) spread over the year before 2026-01-01, one user in 12 never.

Every user's password is ``demo`` through one precomputed bcrypt hash (never hashed per user).
Ids are given explicitly, so the same seed always writes the same rows.

    python tests/perf/generate.py --users 10000 --db /tmp/big.sqlite
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from peewee import Database, Model

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from store.catalogue import catalogue  # noqa: E402
from store.models import (  # noqa: E402
    Department,
    DepartmentGroup,
    DepartmentGroupMember,
    DepartmentGroupUser,
    DepartmentGroupUserDisabled,
    Group,
    GroupRole,
    GroupUser,
    GroupWork,
    Role,
    RoleFunction,
    User,
    UserDep,
    UserDepDisabled,
    UserLogin,
)

PASSWORD = "demo"
PASSWORD_HASH = "$2y$10$jp8EKkCHbjk00NDmRqb1N.jCKWfFLaZsgpyBHADOQxT06E71peiGq"  # bcrypt("demo")
CHUNK_VARIABLES = 30000  # stay below SQLite's host-parameter limit (32766)

ADMIN_GROUP, OPERATORS_GROUP, TEAMLEADER_GROUP, MANAGERS_GROUP = 1, 2, 3, 4
ADMIN_USER, MANAGER_USER = 1, 2

# Functions that change the scope shape; random policy fill never hands them out.
SCOPE_CHANGING = {
    ("lhuser", "see_all"),
    ("lhuser", "editusergroupall"),
    ("lhuser", "assign_all_department_group"),
    ("lhuser", "assign_all_department_individual"),
    ("lhuser", "import"),
}
TEAMLEADER_CORE = [
    ("lhuser", "userlist"),
    ("lhuser", "edituser"),
    ("lhuser", "createuser"),
    ("lhuser", "assign_to_own_department_group"),
    ("lhuser", "see_user_assigned_departments_groups"),
    ("lhuser", "grouplist"),
    ("lhpermission", "see_permissions"),
    ("lhchat", "use"),
    ("lhchat", "allowopenremotechat"),
    ("lhchat", "writeremotechat"),
]
OPERATOR_CORE = [
    ("lhchat", "use"),
    ("lhchat", "allowopenremotechat"),
    ("lhpermission", "see_permissions"),
    ("lhuser", "selfedit"),
]
MANAGER_CORE = [
    ("lhuser", "*"),
    ("lhchat", "*"),
    ("lhaudit", "*"),
    ("lhdepartment", "list"),
    ("lhdepartment", "managegroups"),
    ("lhpermission", "list"),
    ("lhpermission", "see_permissions"),
]
FIRST_NAMES = ["Ann", "Ben", "Chloe", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kim"]
SURNAMES = ["Adams", "Brown", "Clark", "Diaz", "Evans", "Ford", "Garcia", "Hill", "Ito", "Jones"]


def _insert(db: Database, model: type[Model], rows: list[dict[str, Any]]) -> None:
    """``insert_many`` in chunks small enough for SQLite's parameter limit."""
    if not rows:
        return
    per_row = max(len(model._meta.columns), 1)
    size = max(1, CHUNK_VARIABLES // per_row)
    for start in range(0, len(rows), size):
        model.insert_many(rows[start : start + size]).execute()


LAST_LOGIN_BASE = 1_767_225_600  # 2026-01-01 00:00 UTC
LOCKED_AFTER_FAILURES = 4  # lh_users_login.type of a lock-out (store.auth)


def _last_login(user_id: int) -> int:
    """``llogin`` of a user: none (0) for one in 12, else a time in the year before
    ``LAST_LOGIN_BASE``. A function of the id, not a draw from the seeded random stream, so
    every other row stays what it was before last logins were generated."""
    if user_id % 12 == 0:
        return 0
    return LAST_LOGIN_BASE - (user_id * 7919) % (365 * 86400)


def _policies(
    rng: random.Random, pool: list[tuple[str, str]], core: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """A role's 20-60 distinct ``(module, function)`` keys: the core ones plus a random fill."""
    want = rng.randint(20, 60)
    chosen = list(dict.fromkeys(core))
    extra = [p for p in rng.sample(pool, min(len(pool), want + len(core))) if p not in chosen]
    chosen.extend(extra[: max(0, want - len(chosen))])
    return chosen


def generate(
    db: Database,
    users: int = 1000,
    groups: int | None = None,
    departments: int | None = None,
    seed: int = 7,
) -> dict[str, Any]:
    """Fill an empty console database; return the ids the benchmark needs."""
    groups = groups if groups is not None else default_groups(users)
    departments = departments if departments is not None else default_departments(users)
    if users < 10:
        raise ValueError("generate at least 10 users")
    if groups < 6:
        raise ValueError("generate at least 6 groups")
    if departments < 2:
        raise ValueError("generate at least 2 departments")
    rng = random.Random(seed)
    pool = sorted(
        {
            (e.module, e.function)
            for e in catalogue()
            if e.function != "*" and (e.module, e.function) not in SCOPE_CHANGING
        }
    )

    # -- departments and department groups ----------------------------------------------
    department_rows = [
        {"id": d, "name": f"Department {d:04d}", "email": f"dep{d}@example.test"}
        for d in range(1, departments + 1)
    ]
    dep_group_count = max(2, departments // 4)
    dep_group_rows = [
        {"id": g, "name": f"Departments {g:03d}"} for g in range(1, dep_group_count + 1)
    ]
    members: dict[int, list[int]] = {g: [] for g in range(1, dep_group_count + 1)}
    shuffled = list(range(1, departments + 1))
    rng.shuffle(shuffled)
    for i, dep_id in enumerate(shuffled):
        members[i % dep_group_count + 1].append(dep_id)
    for dep_id in rng.sample(range(1, departments + 1), max(1, departments // 10)):
        other = rng.randint(1, dep_group_count)
        if dep_id not in members[other]:
            members[other].append(dep_id)
    member_rows = []
    for g in sorted(members):
        members[g].sort()
        member_rows.extend({"dep_group_id": g, "dep_id": d} for d in members[g])

    # -- groups, work-with trees ---------------------------------------------------------
    group_rows = [
        {"id": ADMIN_GROUP, "name": "Administrators", "required": 0, "disabled": 0},
        {"id": OPERATORS_GROUP, "name": "Operators", "required": 1, "disabled": 0},
        {"id": TEAMLEADER_GROUP, "name": "Teamleader", "required": 1, "disabled": 0},
        {"id": MANAGERS_GROUP, "name": "Managers", "required": 0, "disabled": 0},
    ]
    remaining = groups - 4
    region_count = max(1, remaining // 5)
    regions: list[dict[str, Any]] = []
    next_group = 5
    for r in range(region_count):
        ops_here = remaining // region_count - 1 + (1 if r < remaining % region_count else 0)
        tl_group = next_group
        op_groups = list(range(next_group + 1, next_group + 1 + max(1, ops_here)))
        next_group = op_groups[-1] + 1
        dep_groups = sorted({r % dep_group_count + 1, rng.randint(1, dep_group_count)})
        regions.append({"tl": tl_group, "ops": op_groups, "dep_groups": dep_groups})
        group_rows.append(
            {"id": tl_group, "name": f"R{r:03d} Teamleaders", "required": 0, "disabled": 0}
        )
        for k, g in enumerate(op_groups):
            group_rows.append(
                {
                    "id": g,
                    "name": f"R{r:03d} Operators {k}",
                    "required": int(k == 0 and r % 7 == 3),  # a few required groups
                    "disabled": int(r > 0 and rng.random() < 0.02),
                }
            )
    wide_groups: set[int] = set()
    work_rows = [{"group_id": TEAMLEADER_GROUP, "group_work_id": TEAMLEADER_GROUP}]
    for r, region in enumerate(regions):
        tl = region["tl"]
        work_rows.append({"group_id": tl, "group_work_id": tl})
        work_rows.extend({"group_id": tl, "group_work_id": g} for g in region["ops"])
        if r % 3 == 1:  # flagged: members of this team-leader group cannot hand it out
            work_rows.append({"group_id": tl, "group_work_id": -1})
        if r % 5 == 1:  # some team leaders also work with the base Operators group
            work_rows.append({"group_id": tl, "group_work_id": OPERATORS_GROUP})
            wide_groups.add(tl)
    for i, row in enumerate(work_rows, start=1):
        row["id"] = i

    # -- roles and policies --------------------------------------------------------------
    role_rows: list[dict[str, Any]] = []
    function_rows: list[dict[str, Any]] = []

    def add_role(name: str, keys: list[tuple[str, str]]) -> int:
        role_id = len(role_rows) + 1
        role_rows.append({"id": role_id, "name": name[:50]})
        for module, function in keys:
            limitation = ""
            if (module, function) == ("lhdepartment", "see_all") or rng.random() < 0.02:
                limitation = json.dumps({"group": [rng.randint(1, dep_group_count)]})
            function_rows.append(
                {
                    "id": len(function_rows) + 1,
                    "role_id": role_id,
                    "module": module,
                    "function": function,
                    "limitation": limitation,
                    "type": 0,
                }
            )
        if rng.random() < 0.1:  # an occasional exclusion row
            module, function = rng.choice(pool)
            function_rows.append(
                {
                    "id": len(function_rows) + 1,
                    "role_id": role_id,
                    "module": module,
                    "function": function,
                    "limitation": "",
                    "type": 1,
                }
            )
        return role_id

    admin_role = add_role("Administrators", [("*", "*")])
    operator_role = add_role("Operators", _policies(rng, pool, OPERATOR_CORE))
    teamleader_role = add_role("Teamleader", _policies(rng, pool, TEAMLEADER_CORE))
    manager_role = add_role("Managers", _policies(rng, pool, MANAGER_CORE))
    extra_roles = [
        add_role(f"Role {k:03d}", _policies(rng, pool, [])) for k in range(max(4, groups // 4))
    ]
    group_role_pairs = [
        (ADMIN_GROUP, admin_role),
        (OPERATORS_GROUP, operator_role),
        (TEAMLEADER_GROUP, teamleader_role),
        (MANAGERS_GROUP, manager_role),
    ]
    for row in group_rows[4:]:
        group_role_pairs.extend(
            (row["id"], role) for role in rng.sample(extra_roles, rng.randint(1, 2))
        )
    group_role_rows = [
        {"id": i, "group_id": g, "role_id": r} for i, (g, r) in enumerate(group_role_pairs, start=1)
    ]

    # -- users ---------------------------------------------------------------------------
    user_rows: list[dict[str, Any]] = []
    membership: list[dict[str, Any]] = []
    dgu_rows: list[dict[str, Any]] = []
    dgu_disabled: list[dict[str, Any]] = []
    userdep_rows: list[dict[str, Any]] = []
    userdep_disabled: list[dict[str, Any]] = []
    counters = {"dgu": 0, "dgu_off": 0, "ud": 0, "ud_off": 0}
    team_leaders: list[int] = []
    login_rows: list[dict[str, Any]] = []

    def add_user(
        user_id: int,
        username: str,
        user_groups: list[int],
        dep_groups: list[tuple[int, int]],
        *,
        direct: list[int] = (),  # type: ignore[assignment]
        all_departments: bool = False,
        disabled: bool = False,
    ) -> None:
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        max_chats = rng.randint(0, 8)
        hide_online = int(rng.random() < 0.05)
        copies = {
            "max_chats": max_chats,
            "hide_online": hide_online,
            "exclude_autoasign": 0,
            "always_on": 0,
        }
        deps: list[dict[str, Any]] = []
        if all_departments:
            deps.append({"dep_id": 0, "type": 0, "dep_group_id": 0, "ro": 0})
        for dep_group_id, read_only in dep_groups:
            deps.extend(
                {"dep_id": d, "type": 1, "dep_group_id": dep_group_id, "ro": read_only}
                for d in members[dep_group_id]
            )
        deps.extend(
            {"dep_id": d, "type": 0, "dep_group_id": 0, "ro": int(rng.random() < 0.3)}
            for d in direct
        )
        seen: list[int] = []
        for d in deps:
            if d["dep_id"] not in seen:
                seen.append(d["dep_id"])
        user_rows.append(
            {
                "id": user_id,
                "username": username,
                "password": PASSWORD_HASH,
                "email": f"{username}@example.test",
                "name": first,
                "surname": last,
                "job_title": "Operator",
                "disabled": int(disabled),
                "all_departments": int(all_departments),
                "departments_ids": ",".join(str(d) for d in seen) if seen else "-1",
                "max_active_chats": max_chats,
                "hide_online": hide_online,
                "pswd_updated": 1_700_000_000,
                "llogin": _last_login(user_id),
            }
        )
        if disabled and user_id % 2 == 0:  # locked by failed logins, as store.auth does it
            login_rows.append(
                {
                    "id": len(login_rows) + 1,
                    "user_id": user_id,
                    "type": LOCKED_AFTER_FAILURES,
                    "ctime": _last_login(user_id) or LAST_LOGIN_BASE,
                    "status": 0,
                    "ip": "203.0.113.9",
                    "msg": "Account disabled because of too many failed logins.",
                }
            )
        membership.extend({"group_id": g, "user_id": user_id} for g in user_groups)
        assignments, dep_target = (
            (dgu_disabled, userdep_disabled) if disabled else (dgu_rows, userdep_rows)
        )
        key_a, key_d = ("dgu_off", "ud_off") if disabled else ("dgu", "ud")
        for dep_group_id, read_only in dep_groups:
            counters[key_a] += 1
            assignments.append(
                {
                    "id": counters[key_a],
                    "dep_group_id": dep_group_id,
                    "user_id": user_id,
                    "read_only": read_only,
                }
            )
        for d in deps:
            counters[key_d] += 1
            dep_target.append({"id": counters[key_d], "user_id": user_id, **copies, **d})

    add_user(ADMIN_USER, "admin", [ADMIN_GROUP], [], all_departments=True)
    add_user(MANAGER_USER, "manager", [MANAGERS_GROUP, OPERATORS_GROUP], [(1, 0)])
    next_user = 3
    leaders_per_region = max(1, min(3, users // (50 * region_count)))
    for region in regions:
        for _ in range(leaders_per_region):
            if next_user > users:
                break
            team_leaders.append(next_user)
            add_user(
                next_user,
                f"tl{next_user:06d}",
                [TEAMLEADER_GROUP, region["tl"]],
                [(g, 0) for g in region["dep_groups"]],
            )
            next_user += 1
    for user_id in range(next_user, users + 1):
        region = regions[rng.randrange(region_count)]
        user_groups = [OPERATORS_GROUP, rng.choice(region["ops"])]
        extra = rng.random()
        if extra < 0.15 and len(region["ops"]) > 1:
            other = rng.choice(region["ops"])
            if other not in user_groups:
                user_groups.append(other)
        elif extra > 0.98:
            user_groups = [rng.choice(region["ops"])]  # not in the base group
        chosen = rng.sample(region["dep_groups"], rng.randint(0, len(region["dep_groups"])))
        dep_groups = [(g, int(rng.random() < 0.15)) for g in sorted(chosen)]
        direct = (
            sorted(rng.sample(range(1, departments + 1), rng.randint(1, 2)))
            if rng.random() < 0.05
            else []
        )
        add_user(
            user_id,
            f"op{user_id:06d}",
            user_groups,
            dep_groups,
            direct=direct,
            all_departments=rng.random() < 0.02,
            disabled=rng.random() < 0.01,
        )
    for i, row in enumerate(membership, start=1):
        row["id"] = i

    with db.atomic():
        for model, rows in (
            (Department, department_rows),
            (DepartmentGroup, dep_group_rows),
            (DepartmentGroupMember, member_rows),
            (Group, group_rows),
            (GroupWork, work_rows),
            (Role, role_rows),
            (RoleFunction, function_rows),
            (GroupRole, group_role_rows),
            (User, user_rows),
            (GroupUser, membership),
            (DepartmentGroupUser, dgu_rows),
            (DepartmentGroupUserDisabled, dgu_disabled),
            (UserDep, userdep_rows),
            (UserDepDisabled, userdep_disabled),
            (UserLogin, login_rows),
        ):
            _insert(db, model, rows)

    team_leader = team_leaders[0] if team_leaders else MANAGER_USER
    # A team leader whose group also works with the base Operators group sees nearly everyone.
    wide = [
        u["user_id"]
        for u in membership
        if u["user_id"] in team_leaders and u["group_id"] in wide_groups
    ]
    return {
        "admin": ADMIN_USER,
        "manager": MANAGER_USER,
        "team_leader": team_leader,
        "team_leader_wide": wide[0] if wide else None,
        "operators_role": operator_role,  # carried by the Operators group: nearly everyone
        "usernames": {
            "admin": "admin",
            "manager": "manager",
            "team_leader": f"tl{team_leader:06d}" if team_leaders else "manager",
            "team_leader_wide": f"tl{wide[0]:06d}" if wide else None,
        },
        "password": PASSWORD,
        "department": members[regions[0]["dep_groups"][0]][0],
        "counts": {
            "users": len(user_rows),
            "groups": len(group_rows),
            "roles": len(role_rows),
            "policies": len(function_rows),
            "departments": len(department_rows),
            "department_groups": len(dep_group_rows),
            "memberships": len(membership),
            "department_group_users": len(dgu_rows) + len(dgu_disabled),
            "userdeps": len(userdep_rows) + len(userdep_disabled),
        },
    }


def default_groups(users: int) -> int:
    """Hundreds of groups for a large help desk, a dozen for a small one."""
    return max(14, min(400, users // 250))


def default_departments(users: int) -> int:
    return max(6, min(300, users // 500))


def main(argv: list[str] | None = None) -> int:
    from store.database import open_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLite file (created; must be new)")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int)
    parser.add_argument("--departments", type=int)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if Path(args.db).exists():
        parser.error(f"{args.db} exists; the generator fills a new database")
    db = open_database(f"sqlite:///{args.db}")
    started = time.perf_counter()
    info = generate(
        db, users=args.users, groups=args.groups, departments=args.departments, seed=args.seed
    )
    info["generate_s"] = round(time.perf_counter() - started, 2)
    db.close()
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
