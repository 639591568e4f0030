"""``lhc-console group|role|policy|depgroup|department …``: the configuration the console's
screens edit, and the rosters of departments and department groups.

Objects are named by id or exact name (``store.lookup``); the group, role and department
services decide what the ``--as`` actor may do, exactly as on the screens. A command that takes
several service calls (a group with its work-with list and roles) runs them inside one
``Session.action``: all or nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from store import ScopeError, Session, lookup
from store.views import GroupInfo

from .actor import CommandError
from .output import (
    department_roster_lines,
    depgroup_json,
    depgroup_lines,
    emit,
    emit_change,
    group_json,
    group_lines,
    role_json,
    role_lines,
    roster_json,
    roster_lines,
)


def _ids(references: Sequence[str] | None, resolve: Callable[[str], int]) -> list[int] | None:
    """Resolved ids, or None when the option was left out (keep the list as it is)."""
    return None if references is None else [resolve(r) for r in references]


# -- groups ------------------------------------------------------------------------------


def _set_roles(session: Session, info: GroupInfo, roles: list[int]) -> GroupInfo:
    """Attach and detach so that the group carries exactly ``roles``."""
    current = [r.id for r in info.roles]
    for role in roles:
        if role not in current:
            info = session.groups.attach_role(info.id, role)
    for role in current:
        if role not in roles:
            info = session.groups.detach_role(info.id, role)
    return info


def group_add(args: argparse.Namespace, session: Session) -> int:
    works_with = _ids(args.works_with, lookup.group_id)
    roles = _ids(args.role, lookup.role_id)
    with session.action():
        info = session.groups.save(
            None,
            name=args.name,
            required=bool(args.required),
            disabled=bool(args.disabled),
            works_with=works_with,
            withhold_from_members=args.withheld,
        )
        if roles:
            info = _set_roles(session, info, roles)
    return emit(args, group_json(info), ["Created group", *group_lines(info)])


def group_edit(args: argparse.Namespace, session: Session) -> int:
    group = lookup.group_id(args.group)
    works_with = _ids(args.works_with, lookup.group_id)
    roles = _ids(args.role, lookup.role_id)
    given = (args.new_name, args.required, args.disabled, works_with, args.withheld, roles)
    if all(value is None for value in given):
        raise CommandError(
            "Nothing to change: give --name, --required, --disabled, --works-with, --withheld "
            "or --role"
        )
    mark = session.changes
    with session.action():
        info = session.groups.save(
            group,
            name=args.new_name,
            required=args.required,
            disabled=args.disabled,
            works_with=works_with,
            withhold_from_members=args.withheld,
        )
        if roles is not None:
            info = _set_roles(session, info, roles)
    changed = session.changes > mark
    return emit_change(args, group_json(info), "Changed group", group_lines(info), changed=changed)


def group_delete(args: argparse.Namespace, session: Session) -> int:
    group = lookup.group_id(args.group)
    session.groups.delete(group)
    report = {"deleted": {"group": group}}
    return emit(args, report, [f"Deleted group {args.group!r} (#{group})"])


def group_show(args: argparse.Namespace, session: Session) -> int:
    info = session.groups.get(lookup.group_id(args.group))
    return emit(args, group_json(info), group_lines(info))


def group_list(args: argparse.Namespace, session: Session) -> int:
    infos = sorted(session.groups.list(), key=lambda g: g.id)
    report = {"groups": [group_json(g) for g in infos]}
    return emit(args, report, [line for g in infos for line in group_lines(g)])


# -- roles and policies ------------------------------------------------------------------


def role_add(args: argparse.Namespace, session: Session) -> int:
    info = session.roles.create(args.name)
    return emit(args, role_json(info), ["Created role", *role_lines(info)])


def role_edit(args: argparse.Namespace, session: Session) -> int:
    mark = session.changes
    info = session.roles.rename(lookup.role_id(args.role), args.new_name)
    changed = session.changes > mark
    return emit_change(args, role_json(info), "Renamed role", role_lines(info), changed=changed)


def role_delete(args: argparse.Namespace, session: Session) -> int:
    role = lookup.role_id(args.role)
    session.roles.delete(role)
    return emit(args, {"deleted": {"role": role}}, [f"Deleted role {args.role!r} (#{role})"])


def role_show(args: argparse.Namespace, session: Session) -> int:
    info = session.roles.get(lookup.role_id(args.role))
    return emit(args, role_json(info), role_lines(info))


def role_list(args: argparse.Namespace, session: Session) -> int:
    infos = sorted(session.roles.list(), key=lambda r: r.id)
    report = {"roles": [role_json(r) for r in infos]}
    return emit(args, report, [line for r in infos for line in role_lines(r)])


def policy_add(args: argparse.Namespace, session: Session) -> int:
    info = session.roles.add_policy(
        lookup.role_id(args.role),
        args.module,
        args.function,
        limitation=args.limitation or "",
        exclude=args.exclude,
    )
    return emit(args, role_json(info), ["Added the policy", *role_lines(info)])


def policy_remove(args: argparse.Namespace, session: Session) -> int:
    role = lookup.role_id(args.role)
    policy = lookup.policy_id(
        role, args.module, args.function, exclude=args.exclude, limitation=args.limitation
    )
    info = session.roles.remove_policy(role, policy)
    return emit(args, role_json(info), ["Removed the policy", *role_lines(info)])


# -- department groups -------------------------------------------------------------------


def depgroup_add(args: argparse.Namespace, session: Session) -> int:
    departments = [lookup.department_id(d) for d in args.department]
    info = session.departments.create_group(args.name, departments)
    return emit(args, depgroup_json(info), ["Created department group", *depgroup_lines(info)])


def depgroup_edit(args: argparse.Namespace, session: Session) -> int:
    group = lookup.department_group_id(args.depgroup)
    departments = _ids(args.department, lookup.department_id)
    if args.new_name is None and departments is None:
        raise CommandError("Nothing to change: give --name or --department")
    mark = session.changes
    with session.action():
        if args.new_name is not None:
            info = session.departments.rename_group(group, args.new_name)
        if departments is not None:
            info = session.departments.set_group_departments(group, departments)
    return emit_change(
        args,
        depgroup_json(info),
        "Changed department group",
        depgroup_lines(info),
        changed=session.changes > mark,
    )


def depgroup_delete(args: argparse.Namespace, session: Session) -> int:
    group = lookup.department_group_id(args.depgroup)
    session.departments.delete_group(group)
    report = {"deleted": {"department_group": group}}
    return emit(args, report, [f"Deleted department group {args.depgroup!r} (#{group})"])


def depgroup_show(args: argparse.Namespace, session: Session) -> int:
    """The group as before, and its roster; an actor who may not list people
    (``lhuser/userlist``) still sees the group, with ``"roster": null`` and the reason."""
    group = lookup.department_group_id(args.depgroup)
    info = session.departments.get_group(group)
    try:
        roster = session.rosters.department_group(group, **_roster_page(args))
    except ScopeError as refusal:
        report = {**depgroup_json(info), "roster": None}
        return emit(args, report, [*depgroup_lines(info), f"  roster: not shown: {refusal}"])
    report = {**depgroup_json(info), "roster": roster_json(roster)}
    return emit(args, report, [*depgroup_lines(info), "  roster:", *roster_lines(roster, "    ")])


def depgroup_list(args: argparse.Namespace, session: Session) -> int:
    infos = sorted(session.departments.list_groups(), key=lambda g: g.id)
    report = {"department_groups": [depgroup_json(g) for g in infos]}
    return emit(args, report, [line for g in infos for line in depgroup_lines(g)])


# -- departments and rosters -------------------------------------------------------------


def _roster_page(args: argparse.Namespace) -> dict[str, Any]:
    return {"text": args.filter, "after": args.after, "limit": args.limit}


def department_show(args: argparse.Namespace, session: Session) -> int:
    roster = session.rosters.department(lookup.department_id(args.department), **_roster_page(args))
    report = {
        "department": {"id": roster.subject.id, "name": roster.subject.name},
        "roster": roster_json(roster),
    }
    return emit(args, report, department_roster_lines(roster))


def department_list(args: argparse.Namespace, session: Session) -> int:
    departments = sorted(session.departments.list_departments(), key=lambda d: d.id)
    report = {"departments": [{"id": d.id, "name": d.name} for d in departments]}
    return emit(args, report, [f"{d.name!r} (#{d.id})" for d in departments])
