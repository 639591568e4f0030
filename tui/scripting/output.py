"""What the scripting commands print: JSON as stored (ids), or lines a person reads (names).

The JSON objects carry ids, as LHC's rows do, so a script can feed them back to the next
command; the text names everything, so a person reading the output does not look ids up.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from store.impact import Impact, Measurement
from store.rosters import Roster
from store.views import (
    Assignment,
    DepartmentGroupInfo,
    GroupInfo,
    Ref,
    RoleInfo,
    UserDetail,
    UserPage,
    UserRow,
)
from tui.command_line.output import say_json, say_lines


def emit(args: argparse.Namespace, report: dict[str, Any], text: Iterable[str]) -> int:
    """``--json``: one JSON object on stdout; otherwise the lines a person reads, each one
    line whatever the names in it hold (``tui.command_line.output``). Exit 0.

    A measured write command (``--dry-run``, or ``--json``: see ``commands.run``) adds its
    impact, read here while its transaction is still open."""
    measurement: Measurement | None = getattr(args, "impact_measurement", None)
    if measurement is not None:
        impact = measurement.finish()
        report = {**report, **impact_json(impact, dry_run=args.dry_run)}
        text = [*text, *impact_lines(impact), *([DRY_RUN] if args.dry_run else [])]
    if args.json:
        say_json(report)
    else:
        say_lines(text)
    return 0


UNCHANGED = "Unchanged: it already was so; nothing was written"
DRY_RUN = "Dry run: nothing was changed (rolled back)."


def impact_json(impact: Impact, *, dry_run: bool) -> dict[str, Any]:
    """``"impact"`` (the issue's list), ``"dry_run"``, and ``"impact_hidden"`` when some
    affected users are outside the actor's sight (counted, never named)."""
    report: dict[str, Any] = {"impact": impact.as_json(), "dry_run": dry_run}
    if impact.hidden:
        report["impact_hidden"] = impact.hidden
    if impact.withheld:
        report["impact_withheld"] = True  # other users' chat access left out (rule 7)
    if impact.permissions_withheld:
        report["impact_permissions_withheld"] = True  # no see_permissions_users (SPEC §3.1)
    return report


def impact_lines(impact: Impact) -> list[str]:
    """``Impact: 2 users gain, 1 loses`` and one line per user: what they gain and lose,
    departments by name (``+`` read or written now, ``-`` no longer)."""
    lines = [f"Impact: {impact.summary()}"]

    def departments(gained: Iterable[int], lost: Iterable[int]) -> str:
        named = impact.department_names
        return " ".join(
            [
                *(f"+{named.get(d, '?')!r} (#{d})" for d in gained),
                *(f"-{named.get(d, '?')!r} (#{d})" for d in lost),
            ]
        )

    for e in impact.entries:
        parts = []
        if e.gains:
            parts.append("gains " + ", ".join(e.gains))
        if e.loses:
            parts.append("loses " + ", ".join(e.loses))
        if e.reads_gained or e.reads_lost:
            parts.append("reads " + departments(e.reads_gained, e.reads_lost))
        if e.writes_gained or e.writes_lost:
            parts.append("writes " + departments(e.writes_gained, e.writes_lost))
        if e.limitations_changed:
            parts.append("limitation changes " + ", ".join(e.limitations_changed))
        lines.append(f"  {e.username!r} (#{e.user_id}): " + "; ".join(parts))
    return lines


def emit_change(
    args: argparse.Namespace,
    report: dict[str, Any],
    heading: str,
    text: Iterable[str],
    *,
    changed: bool,
) -> int:
    """A change command's result: ``heading`` and the object as now; or, when the command
    found nothing to change (and wrote nothing), ``UNCHANGED`` instead of the heading and
    ``"unchanged": true`` in the JSON. Exit 0 either way."""
    if changed:
        return emit(args, report, [heading, *text])
    return emit(args, {**report, "unchanged": True}, [UNCHANGED, *text])


def names(refs: Iterable[Ref | Assignment]) -> str:
    """``'Operators' (#2), 'US Operators' (#4)``, read-only assignments marked; ``-`` if none."""
    parts = [
        f"{r.name!r} (#{r.id})" + (" read-only" if getattr(r, "read_only", False) else "")
        for r in refs
    ]
    return ", ".join(parts) or "-"


# -- users -------------------------------------------------------------------------------


def user_json(user: UserDetail) -> dict[str, Any]:
    return user.as_json()


def user_lines(user: UserDetail) -> list[str]:
    full_name = " ".join(part for part in (user.name, user.surname) if part)
    flags = [
        flag
        for flag, on in (
            ("disabled", user.disabled),
            ("administrator", user.is_administrator),
            ("all departments", user.all_departments),
            ("read-only for you", not user.editable),
        )
        if on
    ]
    return [
        f"{user.username} (#{user.id})  {user.email}"
        + (f"  {full_name}" if full_name else "")
        + (f"  [{', '.join(flags)}]" if flags else ""),
        f"  groups: {names(user.groups)}",
        f"  department groups: {names(user.department_groups)}",
        f"  departments: {names(user.departments)}",
    ]


def user_row_json(row: UserRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "name": row.name,
        "surname": row.surname,
        "email": row.email,
        "disabled": row.disabled,
        "groups": list(row.groups),
        "department_groups": list(row.department_groups),
        "editable": row.editable,
    }


def user_page_json(page: UserPage, total: int) -> dict[str, Any]:
    return {
        "users": [user_row_json(r) for r in page.rows],
        "total": total,
        "next_after": page.next_after[1] if page.next_after else None,
    }


def user_page_lines(page: UserPage, total: int) -> list[str]:
    lines = [
        f"{r.id:>6}  {r.username:24} {r.email:32} {', '.join(r.groups)}"
        + ("  (disabled)" if r.disabled else "")
        + ("" if r.editable else "  (read-only)")
        for r in page.rows
    ]
    shown = f"{len(page.rows)} of {total} users"
    if page.next_after:
        shown += f"; more with --after {page.next_after[1]}"
    return [*lines, shown]


# -- groups, roles, department groups ---------------------------------------------------


def group_json(group: GroupInfo) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "required": group.required,
        "disabled": group.disabled,
        "withheld": group.members_withheld,
        "works_with": [r.id for r in group.works_with],
        "roles": [r.id for r in group.roles],
        "member_count": group.member_count,
        "grants_administration": group.grants_administration,
    }


def group_lines(group: GroupInfo) -> list[str]:
    flags = [
        flag
        for flag, on in (
            ("required", group.required),
            ("disabled", group.disabled),
            ("withheld from its members", group.members_withheld),
            ("grants administration", group.grants_administration),
        )
        if on
    ]
    return [
        f"{group.name} (#{group.id})  {group.member_count} members"
        + (f"  [{', '.join(flags)}]" if flags else ""),
        f"  works with: {names(group.works_with)}",
        f"  roles: {names(group.roles)}",
    ]


def role_json(role: RoleInfo) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "policies": [
            {
                "id": p.id,
                "module": p.module,
                "function": p.function,
                "limitation": p.limitation,
                "type": "exclude" if p.exclude else "grant",
            }
            for p in role.policies
        ],
        "groups": [g.id for g in role.groups],
    }


def role_lines(role: RoleInfo) -> list[str]:
    return [
        f"{role.name} (#{role.id})  used by: {names(role.groups)}",
        *(
            f"  {'exclude' if p.exclude else 'grant':7} {p.module}/{p.function}"
            + (f"  {p.limitation}" if p.limitation else "")
            for p in role.policies
        ),
    ]


def depgroup_json(group: DepartmentGroupInfo) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "departments": [d.id for d in group.departments],
        "user_count": group.user_count,
    }


def depgroup_lines(group: DepartmentGroupInfo) -> list[str]:
    return [
        f"{group.name} (#{group.id})  assigned to {group.user_count} users",
        f"  departments: {names(group.departments)}",
    ]


# -- rosters -----------------------------------------------------------------------------


def roster_json(roster: Roster) -> dict[str, Any]:
    return roster.as_json()


def roster_lines(roster: Roster, indent: str = "  ") -> list[str]:
    """One line per person: who (name and id), how they are in it, their LHC values, and what
    you may do; then the counts, the people hidden from you, and how to continue."""
    lines = []
    for person in roster.people:
        notes = [f"max chats {person.max_chats}"]
        if person.exclude_autoassign:
            notes.append("excluded from auto-assignment")
        if person.disabled:
            notes.append("disabled")
        full_name = f" {person.full_name!r}" if person.full_name else ""
        lines.append(
            f"{indent}{person.username!r} (#{person.user_id}){full_name}: "
            + "; ".join(w.label() for w in person.ways)
            + f"  [{', '.join(notes)}]"
            + (f"  you may: {', '.join(person.actions)}" if person.actions else "")
        )
    shown = len(roster.people)
    matching = f" matching {roster.filter_text!r}" if roster.filter_text else ""
    summary = f"{indent}{shown} of {roster.total} people{matching}"
    if roster.hidden:
        summary += f"; {roster.hidden} more hidden from you (outside your scope)"
    if roster.ways_hidden:
        summary += "; some may also hold it in ways hidden from you"
    if roster.next_after is not None:
        summary += f"; more with --after {roster.next_after}"
    return [*lines, summary]


def department_roster_lines(roster: Roster) -> list[str]:
    return [f"{roster.subject.name!r} (#{roster.subject.id})  roster:", *roster_lines(roster)]
