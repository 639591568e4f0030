"""User services: list, create, edit, disable, delete, passwords and group membership.

Every method goes through ``Session.action`` or ``Session.reading`` so that the actor's scope
(SPEC §3) is read fresh; each asks the rulebook (``store.rules``) and then writes, so the rules
are enforced here, not in the screens.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from peewee import SQL, Field, fn

from . import lookup, rules, userdeps, validation
from .auth import hash_password, settle_failures
from .database import is_server
from .errors import NotFoundError, ValidationError
from .models import (
    Department,
    DepartmentGroup,
    DepartmentGroupUser,
    Group,
    GroupUser,
    User,
    database_proxy,
    tuple_rows,
)
from .password_policy import load_policy
from .rules import describe_groups
from .scope import count_users
from .user_records import (
    assign_department,
    assign_department_group,
    assignable_department,
    assignable_department_group,
    check_version,
    detail,
    editable_user,
    snapshot,
    visible_user,
)
from .views import EditChoices, Ref, UserDetail, UserForm, UserPage, UserRow

if TYPE_CHECKING:
    from .session import ActionContext, Session

MAX_IDS = 10_000
"""The most ids ``UserService.ids`` returns: room above a bulk change's limit, never a table."""
SORT_COLUMNS: dict[str, Field] = {
    "id": User.id,
    "username": User.username,
    "name": User.name,
    "surname": User.surname,
    "email": User.email,
}
USER_TEXT_FIELDS = {
    "username": ("Username", 80, True),
    "email": ("E-mail", 100, True),
    "name": ("Name", 100, False),
    "surname": ("Surname", 100, False),
    "job_title": ("Job title", 100, False),
}


def group_names(ids: Iterable[int]) -> dict[int, str]:
    return lookup.names_of("group", ids)


class UserService:
    """Users as the actor may see and change them."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # -- reading -------------------------------------------------------------------------

    def page(
        self,
        *,
        text: str = "",
        sort: str = "username",
        descending: bool = False,
        after: tuple[Any, int] | None = None,
        limit: int = 50,
    ) -> UserPage:
        """One page of visible users, keyset-paged on ``(sort column, id)``.

        Costs a fixed number of queries (page, groups, department groups, editable), each
        bounded by the page size rather than the table. The total is ``count``: the one figure
        that has to visit every matching user, so screens ask for it after showing the page.
        """
        column = SORT_COLUMNS.get(sort)
        if column is None:
            raise ValidationError(f"Cannot sort users by {sort!r}")
        limit = max(1, min(int(limit), 500))
        with self._session.reading() as ctx:
            ctx.refuse_if("list users", rules.refusal_to_list_users(ctx))
            walk = walk_in_order(ctx, column)
            condition = ctx.scope.visible_users_condition(per_user=walk) & text_filter(text)
            query = User.select(
                User.id, User.username, User.name, User.surname, User.email, User.disabled
            ).where(condition)
            query = in_keyset_order(query, column, after=after, descending=descending, walk=walk)
            users = list(query.limit(limit + 1))
            more = len(users) > limit
            users = users[:limit]
            ids = [u.id for u in users]
            groups = _names_by_user(ids, GroupUser, Group, "group_id")
            dep_groups = _names_by_user(
                ids,
                DepartmentGroupUser,
                DepartmentGroup,
                "dep_group_id",
                only=rules.shown_department_groups(ctx),
                always_for=ctx.actor_id,
            )
            editable = (
                {
                    u.id
                    for u in User.select(User.id).where(
                        User.id.in_(ids) & ctx.scope.editable_users_condition(per_user=True)
                    )
                }
                if ids
                else set()
            )
        rows = tuple(
            UserRow(
                id=u.id,
                username=u.username,
                name=u.name,
                surname=u.surname,
                email=u.email,
                disabled=bool(u.disabled),
                groups=tuple(groups.get(u.id, ())),
                department_groups=tuple(dep_groups.get(u.id, ())),
                editable=u.id in editable,
                may_disable_or_delete=rules.may_disable_or_delete(
                    ctx, u.id, editable=u.id in editable
                ),
            )
            for u in users
        )
        last = users[-1] if users else None
        next_after = (getattr(last, column.name), last.id) if more and last else None
        return UserPage(rows=rows, next_after=next_after)

    def count(self, *, text: str = "") -> int:
        """How many users the actor sees, of those matching ``text``: the list's total.

        Apart from ``page`` because it grows with the data (about 18 ms for a team leader who
        sees 98,000 users) while a page does not: the users screen shows the page at once and
        this figure when it arrives.
        """
        with self._session.reading() as ctx:
            ctx.refuse_if("list users", rules.refusal_to_list_users(ctx))
            return count_users(ctx.scope.visible_users_condition() & text_filter(text))

    def ids(self, *, text: str = "", limit: int = 1001) -> list[int]:
        """Ids of the visible users matching ``text`` (the list's filter), by id, at most
        ``limit`` (1 to ``MAX_IDS``).

        For marking every user the filter matches: the list pages from the database, so the
        screen cannot collect them from its rows. A caller that gets ``limit`` ids knows there
        may be more (ask for one more than it takes); ``count`` says how many.
        """
        limit = max(1, min(int(limit), MAX_IDS))
        with self._session.reading() as ctx:
            ctx.refuse_if("list users", rules.refusal_to_list_users(ctx))
            walk = walk_in_order(ctx, User.id)
            condition = ctx.scope.visible_users_condition(per_user=walk) & text_filter(text)
            query = User.select(User.id).where(condition).order_by(User.id).limit(limit)
            return [user_id for (user_id,) in tuple_rows(query)]

    def get(self, user_id: int) -> UserDetail:
        """A visible user with their groups and department assignments."""
        with self._session.reading() as ctx:
            return detail(ctx, visible_user(ctx, user_id))

    def find(self, username: str) -> UserDetail:
        """A visible user by exact username."""
        with self._session.reading() as ctx:
            user = lookup.user_row(username)
            if user is None or not rules.sees_user(ctx, user.id):
                raise NotFoundError(f"No user named {username!r} among the users you can see")
            return detail(ctx, user)

    def choices(self, user_id: int) -> EditChoices:
        """What the actor may hand out to this visible user (ids only) and whether they may
        edit the account at all: the form's answer, cheaply, for the one user-save path."""
        with self._session.reading() as ctx:
            scope = ctx.scope
            user = visible_user(ctx, user_id)
            return EditChoices(
                read_only_reason=rules.refusal_to_edit_user(ctx, user, allow_self=True) or "",
                groups=frozenset(scope.assignable_groups),
                department_groups=frozenset(scope.assignable_department_groups),
                departments=frozenset(scope.assignable_departments),
            )

    def form(self, user_id: int | None = None) -> UserForm:
        """What the create form (``user_id`` None) or the edit form of a user offers the actor.

        One consistent read: the user, whether the actor may edit them (and why not), and the
        choices the assignable sets allow, each marked changeable only where the write would
        be accepted (the writes check again).
        """
        with self._session.reading() as ctx:
            scope = ctx.scope
            if user_id is None:
                ctx.refuse_if("create users", rules.refusal_to_create_users(ctx))
                shown = None
                reason = groups_note = departments_note = ""
                member: set[int] = set()
            else:
                user = visible_user(ctx, user_id)
                shown = detail(ctx, user)
                reason = rules.refusal_to_edit_user(ctx, user, allow_self=True) or ""
                member = {g.id for g in shown.groups}
                groups_note = rules.refusal_to_change_groups_of(ctx, user) or ""
                departments_note = rules.refusal_to_change_departments_of(ctx, user) or ""
            may_groups = not groups_note
            may_departments = not departments_note
            names = group_names(scope.assignable_groups)
            offered = sorted(scope.assignable_groups, key=lambda g: (names[g].lower(), g))
            groups = tuple(
                Ref(g, names[g], may_groups) for g in offered if g not in scope.required_groups
            )
            required = tuple(
                Ref(g, names[g], may_groups) for g in offered if g in scope.required_groups
            )
            locked_ids = sorted(member - scope.assignable_groups)
            locked_names = group_names(locked_ids)
            locked = tuple(
                sorted((Ref(g, locked_names[g], False) for g in locked_ids), key=_by_name)
            )
            dep_groups = tuple(
                Ref(g.id, g.name, may_departments)
                for g in DepartmentGroup.select(DepartmentGroup.id, DepartmentGroup.name)
                .where(DepartmentGroup.id.in_(sorted(scope.assignable_department_groups)))
                .order_by(DepartmentGroup.name, DepartmentGroup.id)
            )
            departments = tuple(
                Ref(d.id, d.name, may_departments)
                for d in Department.select(Department.id, Department.name)
                .where(Department.id.in_(sorted(scope.assignable_departments)))
                .order_by(Department.name, Department.id)
            )
            return UserForm(
                user=shown,
                read_only_reason=reason,
                groups=groups,
                required_groups=required,
                locked_groups=locked,
                groups_note=groups_note,
                department_groups=dep_groups,
                departments=departments,
                departments_note=departments_note,
            )

    # -- writing -------------------------------------------------------------------------

    def create(
        self,
        *,
        username: str,
        password: str,
        email: str,
        groups: Sequence[int],
        name: str = "",
        surname: str = "",
        job_title: str = "",
        department_groups: Sequence[int] = (),
        department_groups_read_only: bool = False,
        read_only_department_groups: Sequence[int] = (),
        departments: Sequence[int] = (),
        read_only_departments: Sequence[int] = (),
        password_again: str | None = None,
    ) -> UserDetail:
        """Create an account in groups the actor may assign (SPEC §3.1).

        Department groups are assigned read-only when ``department_groups_read_only`` is set
        or their id is in ``read_only_department_groups``; ``departments`` are direct
        assignments (``read_only_departments`` among them read-only). Forms pass the password
        twice as ``password`` and ``password_again``; they must match.
        """
        with self._session.action() as ctx:
            ctx.refuse_if("create users", rules.refusal_to_create_users(ctx))
            fields = validated_user_fields(
                dict(
                    username=username,
                    email=email,
                    name=name,
                    surname=surname,
                    job_title=job_title,
                )
            )
            password = _checked_password(password, password_again)
            _check_unique(fields, None)
            group_ids = validation.ids(groups, "Groups")
            dep_group_ids = validation.ids(department_groups, "Department groups")
            ro_dep_group_ids = set(
                validation.ids(read_only_department_groups, "Read-only department groups")
            )
            department_ids = validation.ids(departments, "Departments")
            ro_department_ids = set(validation.ids(read_only_departments, "Read-only departments"))
            if ro_dep_group_ids - set(dep_group_ids):
                raise ValidationError("Read-only department groups must be among those assigned")
            if ro_department_ids - set(department_ids):
                raise ValidationError("Read-only departments must be among those assigned")
            _check_groups_exist(group_ids)
            _check_in_some_group(group_ids, None)
            for gid in group_ids:
                _check_assignable_group(ctx, gid)
            _check_required_group(ctx, group_ids)
            for dgid in dep_group_ids:
                assignable_department_group(ctx, dgid)
            for dep_id in department_ids:
                assignable_department(ctx, dep_id)
            now = int(time.time())
            user = User.create(
                **fields,
                password=hash_password(password),
                departments_ids="-1",
                all_departments=0,
                cache_version=0,
                pswd_updated=now,
            )
            GroupUser.insert_many(
                [{"group_id": g, "user_id": user.id} for g in group_ids]
            ).execute()
            for dgid in dep_group_ids:
                assign_department_group(
                    user, dgid, department_groups_read_only or dgid in ro_dep_group_ids
                )
            for dep_id in department_ids:
                assign_department(user, dep_id, dep_id in ro_department_ids)
            if dep_group_ids or department_ids:
                userdeps.settle([user.id])
            user = User.get_by_id(user.id)
            ctx.audit(
                "user",
                user.id,
                "user.create",
                None,
                snapshot(user),
                department_groups=dep_group_ids,
                departments=department_ids,
            )
            return detail(ctx, user)

    def update(
        self,
        user_id: int,
        *,
        expected_version: int | None = None,
        **changes: Any,
    ) -> UserDetail:
        """Change username, e-mail, name, surname or job title of an editable user.

        Fields given with the value they already have (after validation) are no change: when
        none is left, nothing is written (no bump, no audit row)."""
        unknown = set(changes) - set(USER_TEXT_FIELDS)
        if unknown:
            raise ValidationError(f"Unknown user field(s): {', '.join(sorted(unknown))}")
        with self._session.action() as ctx:
            user = editable_user(ctx, user_id, "edit", allow_self=True)
            check_version(user, expected_version)
            fields = {
                key: value
                for key, value in validated_user_fields(changes).items()
                if getattr(user, key) != value
            }
            if not fields:
                return detail(ctx, user)
            _check_unique(fields, user.id, current_username=user.username)
            before = snapshot(user)
            User.update(**fields, cache_version=User.cache_version + 1).where(
                User.id == user.id
            ).execute()
            user = User.get_by_id(user.id)
            ctx.audit("user", user.id, "user.update", before, snapshot(user))
            return detail(ctx, user)

    def set_password(
        self, user_id: int, password: str, *, password_again: str | None = None
    ) -> None:
        """Set a new password (LHC-compatible ``$2y$`` hash); the audit row holds no hash.

        Forms pass the password twice; ``password_again`` must then match. Always a change,
        even to the same password: the hash (a new salt) and ``pswd_updated`` are new.
        """
        with self._session.action() as ctx:
            user = editable_user(ctx, user_id, "change the password of", allow_self=True)
            password = _checked_password(password, password_again)
            User.update(
                password=hash_password(password),
                pswd_updated=int(time.time()),
                cache_version=User.cache_version + 1,
            ).where(User.id == user.id).execute()
            ctx.audit("user", user.id, "user.set_password")

    def set_disabled(self, user_id: int, disabled: bool) -> UserDetail:
        """Disable (parking department rows, as LHC does) or enable an editable user."""
        with self._session.action() as ctx:
            verb = "disable" if disabled else "enable"
            user = editable_user(ctx, user_id, verb)
            ctx.refuse_if(
                f"{verb} their own account", rules.refusal_to_disable_or_delete_oneself(ctx, user)
            )
            if disabled:
                ctx.refuse_if(
                    f"disable user {user.username!r}",
                    rules.refusal_to_delete_or_disable_super_admin(user),
                )
            if bool(user.disabled) == disabled:
                return detail(ctx, user)  # already so: nothing to write
            before = snapshot(user)
            User.update(disabled=int(disabled)).where(User.id == user.id).execute()
            if disabled:
                userdeps.park(user.id)
            else:
                userdeps.unpark(user.id)
                settle_failures(user.id)  # enabled again: the full number of attempts
            userdeps.settle([user.id])
            user = User.get_by_id(user.id)
            ctx.audit("user", user.id, f"user.{verb}", before, snapshot(user))
            return detail(ctx, user)

    def delete(self, user_id: int) -> None:
        """Delete an editable user and every membership and assignment row of theirs."""
        with self._session.action() as ctx:
            ctx.refuse_if("delete users", rules.refusal_to_delete_users(ctx))
            user = editable_user(ctx, user_id, "delete")
            ctx.refuse_if(
                f"delete user {user.username!r}",
                rules.refusal_to_delete_or_disable_super_admin(user),
            )
            ctx.refuse_if(
                "delete their own account", rules.refusal_to_disable_or_delete_oneself(ctx, user)
            )
            before = snapshot(user)
            GroupUser.delete().where(GroupUser.user_id == user.id).execute()
            userdeps.forget_user(user.id)
            User.delete().where(User.id == user.id).execute()
            ctx.audit("user", user.id, "user.delete", before, None)

    def change_groups(
        self,
        user_id: int,
        *,
        add: Sequence[int] = (),
        remove: Sequence[int] = (),
        expected_version: int | None = None,
    ) -> UserDetail:
        """Add and remove group memberships; only groups in the assignable set may change."""
        with self._session.action() as ctx:
            user = editable_user(ctx, user_id, "change the groups of", allow_self=True)
            check_version(user, expected_version)
            change_memberships(ctx, user, add, remove)
            return detail(ctx, User.get_by_id(user.id))


def change_memberships(
    ctx: ActionContext, user: User, add: Sequence[int], remove: Sequence[int]
) -> None:
    """Shared by the users and groups services: validate, write, bump and audit.

    Adding a group the user holds or removing one they do not is no change: when nothing is
    left to add or remove, nothing is written (no bump, no audit row)."""
    add_ids = validation.ids(add, "Groups to add")
    remove_ids = validation.ids(remove, "Groups to remove")
    both = set(add_ids) & set(remove_ids)
    if both:
        raise ValidationError(f"Group(s) {describe_groups(both)} both added and removed")
    ctx.refuse_if("change their own groups", rules.refusal_to_change_own_groups(ctx, user))
    _check_groups_exist(add_ids + remove_ids)
    for gid in add_ids + remove_ids:
        _check_assignable_group(ctx, gid)
    current = [g.group_id for g in GroupUser.select().where(GroupUser.user_id == user.id)]
    final = (set(current) | set(add_ids)) - set(remove_ids)
    _check_in_some_group(final, user.username)
    _check_required_group(ctx, sorted(final))
    ctx.refuse_if(
        f"change the groups of {user.username!r}",
        rules.refusal_to_make_administrator(ctx, current, final),
    )
    new = [g for g in add_ids if g not in current]
    gone = [g for g in remove_ids if g in current]
    if not new and not gone:
        return
    before = snapshot(user)
    if new:
        GroupUser.insert_many([{"group_id": g, "user_id": user.id} for g in new]).execute()
    if gone:
        GroupUser.delete().where(
            (GroupUser.user_id == user.id) & GroupUser.group_id.in_(gone)
        ).execute()
    userdeps.bump([user.id])
    ctx.audit("user", user.id, "user.groups", before, snapshot(User.get_by_id(user.id)))


# -- checks -------------------------------------------------------------------------------


def validated_user_fields(values: dict[str, Any]) -> dict[str, str]:
    """Each field checked against its column; the username and e-mail as identities
    (``validation.identity``: composed, nothing invisible, no bidi controls)."""
    out = {}
    for key, value in values.items():
        label, length, required = USER_TEXT_FIELDS[key]
        if key == "email":
            out[key] = validation.email(value, required=required)
        elif key == "username":
            out[key] = validation.identity(value, label, length, required=required)
        else:
            out[key] = validation.text(value, label, length, required=required)
    return out


def _check_unique(
    fields: dict[str, str], user_id: int | None, *, current_username: str | None = None
) -> None:
    """Usernames and e-mails are unique, case-insensitively, and share one login namespace: a
    username may not be another account's e-mail, nor an e-mail another's username (login by
    either would name two accounts). A new username may not look the same as another's
    (``lookup.lookalike_of``: "admin" with a Cyrillic A, a no-break space for a space) or as
    another's e-mail (``lookup.lookalike_email_of``), nor a new e-mail as another's username;
    a username or e-mail kept as it is is not compared again, so older lookalikes (``lint``
    reports them) do not block the account's other changes. The refusal never shows another
    account's e-mail: whoever types the name may not be allowed to see that account."""
    others = User.select(User.id)
    if user_id is not None:
        others = others.where(User.id != user_id)
    if "username" in fields:
        username = fields["username"]
        if others.where(fn.LOWER(User.username) == username.lower()).exists():
            raise ValidationError(f"Username {username!r} is already taken")
        if others.where(fn.LOWER(User.email) == username.lower()).exists():
            raise ValidationError(f"Username {username!r} is already another account's e-mail")
        twin = (
            None if username == current_username else lookup.lookalike_of(username, exclude=user_id)
        )
        if twin is not None:
            raise ValidationError(f"Username {username!r} looks the same as {twin!r}")
        if (
            username != current_username
            and lookup.lookalike_email_of(username, exclude=user_id) is not None
        ):
            raise ValidationError(
                f"Username {username!r} looks the same as another account's e-mail"
            )
    if "email" in fields:
        email = fields["email"]
        if others.where(fn.LOWER(User.email) == email.lower()).exists():
            raise ValidationError(f"E-mail {email!r} is already used by another account")
        if others.where(fn.LOWER(User.username) == email.lower()).exists():
            raise ValidationError(f"E-mail {email!r} is already another account's username")
        twin = lookup.lookalike_of(email, exclude=user_id) if email else None
        if twin is not None:
            raise ValidationError(
                f"E-mail {email!r} looks the same as {twin!r}, another account's username"
            )
    for key, label in (("username", "Username"), ("email", "E-mail")):
        # Checked last, so a lookalike is told what it looks like first. SSH servers receive
        # login names SASLprep-normalised (asyncssh does it before the console sees them):
        # "Teamleader\u00a0US" would arrive as "Teamleader US" and count as that account.
        change = validation.ssh_change(fields[key]) if fields.get(key) else None
        if change:
            raise ValidationError(f"{label} cannot be used to log in over SSH: {change}")


def _checked_password(password: object, again: str | None) -> str:
    """A valid new password; when typed twice, both must be the same; and it keeps the help
    desk's password rules (``lh_chat_config.password_data``, as LHC's validator reads them).

    Runs before any write of the action, so a refused password changes nothing."""
    checked = validation.password(password)
    if again is not None and again != password:
        raise ValidationError("The two passwords differ; type the same password twice")
    load_policy().check(checked)
    return checked


def _check_groups_exist(group_ids: Iterable[int]) -> None:
    wanted = set(group_ids)
    if not wanted:
        return
    found = {g.id for g in Group.select(Group.id).where(Group.id.in_(list(wanted)))}
    missing = sorted(wanted - found)
    if missing:
        raise NotFoundError(f"No group with id {', '.join(map(str, missing))}")


def _check_assignable_group(ctx: ActionContext, group_id: int) -> None:
    reason = rules.refusal_to_assign_group(ctx, group_id)
    if reason:
        name = group_names([group_id]).get(group_id, f"#{group_id}")
        ctx.refuse(f"assign group '{name}'", reason)


def _check_in_some_group(group_ids: Collection[int], username: str | None) -> None:
    problem = rules.refusal_without_groups(group_ids, username=username)
    if problem:
        raise ValidationError(problem)


def _check_required_group(ctx: ActionContext, group_ids: Collection[int]) -> None:
    problem = rules.refusal_without_required_group(ctx, group_ids)
    if problem:
        raise ValidationError(problem)


def _by_name(ref: Ref) -> tuple[str, int]:
    return ref.name.lower(), ref.id


def in_keyset_order(
    query: Any, column: Any, *, after: tuple[Any, int] | None, descending: bool, walk: bool
) -> Any:
    """``query`` of users in ``(column, id)`` order, continued after the key ``after`` (the
    last row of the previous page: its column value and id), for keyset pages.

    ``walk``: the page is found by walking the column's index (``walk_in_order``); the key
    is then also said as a bound of the column alone, so the walk starts there."""
    if after is not None:
        value, last_id = after
        last_id = validation.one_id(last_id, "Page after user")
        if column is User.id:
            value = last_id
        if descending:
            query = query.where((column < value) | ((column == value) & (User.id < last_id)))
        else:
            query = query.where((column > value) | ((column == value) & (User.id > last_id)))
        if walk and value is not None:
            # Implied by the keyset condition; said separately so the walk starts at the key
            # instead of at the first user.
            query = query.where(column <= value if descending else column >= value)
    order = (column.desc(), User.id.desc()) if descending else (column, User.id)
    return query.order_by(*order)


WALK_MIN_SHARE = 20
"""Walk the sort index when at least 1 user in this many matches (see ``walk_in_order``)."""
INDEXED_SORTS = ("id", "username", "email", "llogin")
"""Sort columns with an index (``User.Meta.indexes``) a page can be walked along."""


def walk_in_order(ctx: ActionContext, column: Any) -> bool:
    """Whether to find a page by walking users in sort order, probing each one's groups.

    A team leader whose groups hold most of the users would otherwise have every member
    collected and sorted for 50 rows (60 ms at 100,000 users); walking the sort column's index
    stops after about ``limit * all / matching`` users. Chosen only on SQLite (whose planner
    cannot tell a group of 100,000 from one of 100), for an indexed sort column, for a scoped
    actor, and when the usable groups hold at least one membership per ``WALK_MIN_SHARE``
    users, so that the walk stays short; narrow scopes keep collecting their few members.

    Both figures are read in time independent of the table's size: the highest id (the end of
    the rowid b-tree, at least the number of users) and the usable groups' memberships counted
    along the ``group_id`` index only up to the share that decides.
    """
    if ctx.scope.sees_all_users or column.name not in INDEXED_SORTS:
        return False
    if is_server(database_proxy.obj):
        return False
    highest_id = User.select(fn.MAX(User.id)).scalar() or 0
    needed = max(1, highest_id // WALK_MIN_SHARE)
    memberships = (
        GroupUser.select(SQL("1"))
        .where(GroupUser.group_id.in_(sorted(ctx.scope.usable_groups)))
        .limit(needed)
        .count()
    )
    return memberships >= needed


def text_filter(text: str) -> Any:
    """Users whose username, name, surname or e-mail contains ``text`` literally (``%`` and
    ``_`` are characters, not wildcards), case-insensitively; or whose id it is."""
    text = (text or "").strip()
    if not text:
        return User.id.is_null(False)
    if "\x00" in text:  # in no name (and PostgreSQL cannot even compare it)
        return User.id.is_null()
    condition = (
        lookup.contains_text(User.username, text)
        | lookup.contains_text(User.name, text)
        | lookup.contains_text(User.surname, text)
        | lookup.contains_text(User.email, text)
    )
    if validation.is_id_text(text) and 1 <= int(text) <= validation.MAX_ID:
        condition |= User.id == int(text)
    return condition


def _names_by_user(
    ids: list[int],
    link: Any,
    target: Any,
    column: str,
    *,
    only: frozenset[int] | None = None,
    always_for: int | None = None,
) -> dict[int, list[str]]:
    """Names of each user's linked objects; with ``only``, other users' links are limited."""
    if not ids:
        return {}
    query = (
        link.select(link.user_id, target.id, target.name)
        .join(target, on=(getattr(link, column) == target.id))
        .where(link.user_id.in_(ids))
        .order_by(link.user_id, target.name)
        .tuples()
    )
    out: dict[int, list[str]] = {}
    for uid, target_id, name in query:
        if only is None or uid == always_for or target_id in only:
            out.setdefault(uid, []).append(name)
    return out
