"""Group services: list, create, edit flags and work-with lists, members, roles, delete.

Any change to a group bumps every user's ``cache_version`` (LHC drops cached permissions).
Only administrators create, change or hand out what grants administration (SPEC §3.2.4); the
rulebook (``store.rules``) decides, these services ask it and write.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from peewee import fn

from . import rules, userdeps, validation
from .errors import NotFoundError, ValidationError
from .models import Group, GroupRole, GroupUser, GroupWork, Role, User, tuple_rows
from .user_records import editable_user
from .users import change_memberships
from .views import GroupInfo, Ref

if TYPE_CHECKING:
    from .session import ActionContext, Session

WITHHELD_FLAG = -1


def _snapshot(group: Group) -> dict[str, Any]:
    return {
        "name": group.name,
        "disabled": group.disabled,
        "required": group.required,
        "works_with": sorted(
            w.group_work_id for w in GroupWork.select().where(GroupWork.group_id == group.id)
        ),
        "roles": sorted(
            r.role_id for r in GroupRole.select().where(GroupRole.group_id == group.id)
        ),
    }


class GroupService:
    """User groups, as the actor's permissions allow."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # -- reading -------------------------------------------------------------------------

    def list(self) -> list[GroupInfo]:
        """Every group with flags, work-with targets, roles and member counts (``grouplist``)."""
        with self._session.reading() as ctx:
            ctx.refuse_if("list groups", rules.refusal_to_list_groups(ctx))
            return _infos(ctx, None)

    def get(self, group_id: int) -> GroupInfo:
        with self._session.reading() as ctx:
            ctx.refuse_if("see groups", rules.refusal_to_list_groups(ctx))
            infos = _infos(ctx, [validation.one_id(group_id, "Group")])
            if not infos:
                raise NotFoundError(f"No group with id {group_id}")
            return infos[0]

    def names(self, group_ids: Sequence[int]) -> builtins.list[Ref]:
        """Names of groups the actor's forms mention (their scope), without ``grouplist``."""
        if not group_ids:
            return []
        query = Group.select(Group.id, Group.name).where(Group.id.in_(list(group_ids)))
        return [Ref(g.id, g.name) for g in query.order_by(Group.name)]

    def members(self, group_id: int, *, limit: int = 200) -> builtins.list[Ref]:
        """Members of a group, each marked changeable when the actor may add/remove them."""
        with self._session.reading() as ctx:
            ctx.refuse_if("see group members", rules.refusal_to_list_groups(ctx))
            _group(group_id)
            users = (
                User.select(User.id, User.username)
                .join(GroupUser, on=(GroupUser.user_id == User.id))
                .where(GroupUser.group_id == group_id)
                .order_by(User.username)
                .limit(limit)
            )
            editable = ctx.scope.editable_users_condition(per_user=True)
            ids = [u.id for u in users]
            changeable = (
                {u.id for u in User.select(User.id).where(User.id.in_(ids) & editable)}
                if ids
                else set()
            )
            assignable = rules.refusal_to_assign_group(ctx, group_id) is None
            return [Ref(u.id, u.username, assignable and u.id in changeable) for u in users]

    def may_change(self, group_id: int) -> bool:
        """Whether the actor may change this group now (the form offers its edits only then).

        The same check ``update`` and ``set_work_with`` make, answered instead of raised.
        """
        with self._session.reading() as ctx:
            return rules.refusal_to_edit_group(ctx, _group(group_id)) is None

    def role_choices(self) -> builtins.list[Ref]:
        """Every role, for attaching to a group; each changeable when the actor may attach or
        detach it (administration roles only for administrators)."""
        with self._session.reading() as ctx:
            ctx.refuse_if("attach roles to groups", rules.refusal_to_change_roles_of_groups(ctx))
            return [
                Ref(r.id, r.name, rules.refusal_to_attach_role(ctx, r.id) is None)
                for r in Role.select(Role.id, Role.name).order_by(Role.name)
            ]

    # -- writing -------------------------------------------------------------------------

    def create(self, name: str, *, required: bool = False, disabled: bool = False) -> GroupInfo:
        with self._session.action() as ctx:
            ctx.refuse_if("create groups", rules.refusal_to_create_groups(ctx))
            name = _unique_name(name, None)
            group = Group.create(name=name, required=int(required), disabled=int(disabled))
            userdeps.bump_everyone()
            ctx.audit("group", group.id, "group.create", None, _snapshot(group))
            return _infos(ctx, [group.id])[0]

    def update(
        self,
        group_id: int,
        *,
        name: str | None = None,
        required: bool | None = None,
        disabled: bool | None = None,
    ) -> GroupInfo:
        """Rename a group or change its required/disabled flags (``editgroup``); values it
        already has are no change, and with none left nothing is written."""
        with self._session.action() as ctx:
            group = self._editable_group(ctx, group_id, "edit group")
            changes: dict[str, Any] = {}
            if name is not None:
                changes["name"] = _unique_name(name, group.id)
            if required is not None:
                changes["required"] = validation.flag(required, "Required")
            if disabled is not None:
                changes["disabled"] = validation.flag(disabled, "Disabled")
            changes = {k: v for k, v in changes.items() if getattr(group, k) != v}
            if not changes:
                return _infos(ctx, [group.id])[0]
            before = _snapshot(group)
            Group.update(**changes).where(Group.id == group.id).execute()
            userdeps.bump_everyone()
            group = Group.get_by_id(group.id)
            ctx.audit("group", group.id, "group.update", before, _snapshot(group))
            return _infos(ctx, [group.id])[0]

    def set_work_with(
        self, group_id: int, targets: Sequence[int], *, withhold_from_members: bool = False
    ) -> GroupInfo:
        """Replace the groups this group works with, and its "-1" flag (members may not hand
        this group out themselves). The same list (in any order) is no change: nothing is
        written."""
        with self._session.action() as ctx:
            group = self._editable_group(ctx, group_id, "edit group")
            target_ids = validation.ids(targets, "Works-with groups")
            if group.id in target_ids:
                raise ValidationError(f"Group {group.name!r} cannot work with itself")
            _check_exist(target_ids)
            rows = [{"group_id": group.id, "group_work_id": t} for t in target_ids]
            if withhold_from_members:
                rows.append({"group_id": group.id, "group_work_id": WITHHELD_FLAG})
            current = GroupWork.select(GroupWork.group_work_id).where(
                GroupWork.group_id == group.id
            )
            if sorted(w.group_work_id for w in current) == sorted(r["group_work_id"] for r in rows):
                return _infos(ctx, [group.id])[0]
            before = _snapshot(group)
            GroupWork.delete().where(GroupWork.group_id == group.id).execute()
            if rows:
                GroupWork.insert_many(rows).execute()
            userdeps.bump_everyone()
            ctx.audit("group", group.id, "group.work_with", before, _snapshot(group))
            return _infos(ctx, [group.id])[0]

    def save(
        self,
        group_id: int | None,
        *,
        name: str | None = None,
        required: bool | None = None,
        disabled: bool | None = None,
        works_with: Sequence[int] | None = None,
        withhold_from_members: bool | None = None,
    ) -> GroupInfo:
        """The group form's save: create (``group_id`` None) or update, then the work-with list,
        all in one transaction (a refusal of any step writes nothing).

        ``None`` leaves a field as it is. Each step is the single-purpose method above, so it
        checks exactly what that method checks; the save leaves one audit row for all of them
        (``group.save``, listing the steps), as every other action does, and none when no step
        changed anything.
        """
        with self._session.action() as ctx, self._session.one_audit("group.save"):
            if group_id is None:
                if name is None:
                    raise ValidationError("Group name is required")
                info = self.create(name, required=bool(required), disabled=bool(disabled))
            elif name is None and required is None and disabled is None:
                info = _infos(ctx, [_group(group_id).id])[0]
            else:
                info = self.update(group_id, name=name, required=required, disabled=disabled)
            if works_with is not None or withhold_from_members is not None:
                targets = (
                    list(works_with) if works_with is not None else [r.id for r in info.works_with]
                )
                withhold = (
                    withhold_from_members
                    if withhold_from_members is not None
                    else info.members_withheld
                )
                info = self.set_work_with(info.id, targets, withhold_from_members=withhold)
            return info

    def add_member(self, group_id: int, user_id: int) -> None:
        """Add an editable user to a group the actor may assign."""
        with self._session.action() as ctx:
            ctx.refuse_if("change group members", rules.refusal_to_edit_groups(ctx))
            _group(group_id)
            user = editable_user(ctx, user_id, "change the groups of")
            change_memberships(ctx, user, [group_id], [])

    def remove_member(self, group_id: int, user_id: int) -> None:
        """Remove an editable user from a group the actor may assign."""
        with self._session.action() as ctx:
            ctx.refuse_if("change group members", rules.refusal_to_edit_groups(ctx))
            _group(group_id)
            user = editable_user(ctx, user_id, "change the groups of")
            change_memberships(ctx, user, [], [group_id])

    def attach_role(self, group_id: int, role_id: int) -> GroupInfo:
        """Give a group a role (needs ``lhuser/editgroup`` and ``lhpermission/edit``)."""
        with self._session.action() as ctx:
            group = _group(group_id)
            ctx.refuse_if(
                f"attach roles to group {group.name!r}",
                rules.refusal_to_change_roles_of_group(ctx, group),
            )
            role = Role.get_or_none(Role.id == validation.one_id(role_id, "Role"))
            if role is None:
                raise NotFoundError(f"No role with id {role_id}")
            ctx.refuse_if(f"attach role {role.name!r}", rules.refusal_to_attach_role(ctx, role.id))
            exists = GroupRole.select().where(
                (GroupRole.group_id == group.id) & (GroupRole.role_id == role.id)
            )
            if exists.exists():
                return _infos(ctx, [group.id])[0]  # already attached: nothing to write
            before = _snapshot(group)
            GroupRole.create(group_id=group.id, role_id=role.id)
            userdeps.bump_everyone()
            ctx.audit("group", group.id, "group.attach_role", before, _snapshot(group))
            return _infos(ctx, [group.id])[0]

    def detach_role(self, group_id: int, role_id: int) -> GroupInfo:
        with self._session.action() as ctx:
            group = _group(group_id)
            ctx.refuse_if(
                f"detach roles from group {group.name!r}",
                rules.refusal_to_change_roles_of_group(ctx, group),
            )
            role_id = validation.one_id(role_id, "Role")
            condition = (GroupRole.group_id == group.id) & (GroupRole.role_id == role_id)
            if not GroupRole.select().where(condition).exists():
                raise NotFoundError(f"Group {group.name!r} does not carry role #{role_id}")
            before = _snapshot(group)
            GroupRole.delete().where(condition).execute()
            userdeps.bump_everyone()
            ctx.audit("group", group.id, "group.detach_role", before, _snapshot(group))
            return _infos(ctx, [group.id])[0]

    def delete(self, group_id: int) -> None:
        """Delete a group with its memberships, roles links and work-with rows."""
        with self._session.action() as ctx:
            ctx.refuse_if("delete groups", rules.refusal_to_delete_groups(ctx))
            group = _group(group_id)
            ctx.refuse_if(f"delete group {group.name!r}", rules.refusal_to_delete_group(ctx, group))
            only_group = rules.refusal_to_delete_only_group(group)
            if only_group:
                raise ValidationError(only_group)
            before = _snapshot(group)
            before["members"] = [
                g.user_id for g in GroupUser.select().where(GroupUser.group_id == group.id)
            ]
            GroupUser.delete().where(GroupUser.group_id == group.id).execute()
            GroupRole.delete().where(GroupRole.group_id == group.id).execute()
            GroupWork.delete().where(
                (GroupWork.group_id == group.id) | (GroupWork.group_work_id == group.id)
            ).execute()
            Group.delete().where(Group.id == group.id).execute()
            userdeps.bump_everyone()
            ctx.audit("group", group.id, "group.delete", before, None)

    @staticmethod
    def _editable_group(ctx: ActionContext, group_id: int, doing: str) -> Group:
        """The group, or a refusal unless the actor may change its name, flags or work-with."""
        group = _group(group_id)
        ctx.refuse_if(f"{doing} {group.name!r}", rules.refusal_to_edit_group(ctx, group))
        return group


def _group(group_id: int) -> Group:
    group_id = validation.one_id(group_id, "Group")
    group = Group.get_or_none(Group.id == group_id)
    if group is None:
        raise NotFoundError(f"No group with id {group_id}")
    return group


def _check_exist(group_ids: list[int]) -> None:
    if not group_ids:
        return
    found = {g.id for g in Group.select(Group.id).where(Group.id.in_(group_ids))}
    missing = [g for g in group_ids if g not in found]
    if missing:
        raise NotFoundError(f"No group with id {', '.join(map(str, missing))}")


def _unique_name(name: str, group_id: int | None) -> str:
    name = validation.text(name, "Group name", 50)
    clash = Group.select().where(fn.LOWER(Group.name) == name.lower())
    if group_id is not None:
        clash = clash.where(Group.id != group_id)
    if clash.exists():
        raise ValidationError(f"A group named {name!r} already exists")
    return name


def _infos(ctx: ActionContext, ids: list[int] | None) -> list[GroupInfo]:
    """Group details in a fixed number of queries, for one group or all."""
    query = Group.select().order_by(Group.name)
    if ids is not None:
        query = query.where(Group.id.in_(ids))
    groups = list(query)
    names = {g.id: g.name for g in Group.select(Group.id, Group.name)}
    work: dict[int, list[int]] = {}
    for w in GroupWork.select():
        work.setdefault(w.group_id, []).append(w.group_work_id)
    roles: dict[int, list[Ref]] = {}
    for group_id, role_id, role_name in tuple_rows(
        GroupRole.select(GroupRole.group_id, Role.id, Role.name)
        .join(Role, on=(Role.id == GroupRole.role_id))
        .order_by(Role.name)
    ):
        roles.setdefault(group_id, []).append(Ref(role_id, role_name))
    counts: dict[int, int] = dict(
        tuple_rows(
            GroupUser.select(GroupUser.group_id, fn.COUNT(GroupUser.id)).group_by(
                GroupUser.group_id
            )
        )
    )
    return [
        GroupInfo(
            id=g.id,
            name=g.name,
            disabled=bool(g.disabled),
            required=bool(g.required),
            members_withheld=WITHHELD_FLAG in work.get(g.id, []),
            works_with=tuple(
                Ref(t, names.get(t, f"#{t} (missing)")) for t in sorted(work.get(g.id, [])) if t > 0
            ),
            roles=tuple(roles.get(g.id, [])),
            member_count=counts.get(g.id, 0),
            grants_administration=g.id in ctx.scope.administration_groups,
        )
        for g in groups
    ]
