"""``--dry-run`` and ``"impact"`` for the scripting write commands (issue 19, point 2).

A write command measured here runs inside one ``session.impact.measuring`` block: the command's
own service calls nest in its transaction, the impact is read when the command prints (still
inside it), and a dry run is rolled back at the end. ``touches`` says which objects a command
writes, so the preview knows whose permissions and chat access to compare; it resolves names
as the handlers do, so a name they would refuse is refused here first, with the same message.
"""

from __future__ import annotations

import argparse

from store import NotFoundError, Session, lookup
from store.impact import Touches

from .apply import Plan
from .bulk import usernames


def touches(args: argparse.Namespace, session: Session) -> Touches:
    """The objects the command named by ``args`` writes (users it creates are found alone)."""
    family, action = args.command, getattr(args, "action", None)
    if family == "user":
        if action == "add":
            return Touches()
        if hasattr(args, "usernames"):  # one or several users (``bulk``)
            return Touches.of(users=_visible_user_ids(session, usernames(args)))
        return Touches.of(users=[session.users.find(args.username).id])
    if family == "group":
        if action == "add":
            return Touches()  # a new group has no members yet
        return Touches.of(groups=[lookup.group_id(args.group)])
    if family in ("role", "policy"):
        if action == "add" and family == "role":
            return Touches()  # a new role is carried by no group yet
        return Touches.of(roles=[lookup.role_id(args.role)])
    if family == "depgroup":
        if action == "add":
            return Touches()  # a new department group is assigned to nobody yet
        return Touches.of(department_groups=[lookup.department_group_id(args.depgroup)])
    raise AssertionError(f"no write command {family} {action}")


def _visible_user_ids(session: Session, names: list[str]) -> list[int]:
    """The ids of the named users the actor can see; the command refuses the others itself,
    all of them in one message, so they are left out here rather than refused one by one."""
    ids = []
    for name in names:
        try:
            ids.append(session.users.find(name).id)
        except NotFoundError:
            continue
    return ids


def plan_touches(plan: Plan) -> Touches:
    """``apply``: the users of the file who exist (the others are created)."""
    found = (lookup.user_row(entry.username) for entry in plan.entries)
    return Touches.of(users=[user.id for user in found if user is not None])
