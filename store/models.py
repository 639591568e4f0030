"""Peewee models of LHC's permission tables, with LHC's own table and column names.

Why every column is here: a row the console inserts must be a valid LHC row, so every NOT NULL
column of LHC's schema gets a value (LHC's default where it declares one, otherwise the empty
string or zero, which is what LHC's own models write). Column types and DDL defaults follow
``lhc_permission_tables.json`` (LHC's schema description); tables are created from these models
only on a database the console creates itself.

The models are bound to a database at run time (``store.database.open_database``) through
``database_proxy``, so the same classes serve SQLite, MySQL/MariaDB and PostgreSQL.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast, overload

from peewee import (
    SQL,
    AutoField,
    BaseQuery,
    BigAutoField,
    BigIntegerField,
    CharField,
    DatabaseProxy,
    Field,
    IntegerField,
    Model,
    ModelInsert,
    ModelUpdate,
    SelectBase,
    TextField,
)

if TYPE_CHECKING:
    # peewee's stubs make a field generic in the value it reads (``IntegerField[int]``); at run
    # time the classes are not subscriptable, so the custom fields name their value type here.
    _IntegerFieldBase = IntegerField[int]
    _TextFieldBase = TextField[str]
    _TimestampFieldBase = Field[_dt.datetime | str]
else:
    _IntegerFieldBase = IntegerField
    _TextFieldBase = TextField
    _TimestampFieldBase = Field

database_proxy = DatabaseProxy()


def tuple_rows(query: BaseQuery) -> Iterable[tuple[Any, ...]]:
    """``query.tuples()``, typed as the rows it yields.

    peewee's stubs type ``tuples()`` as returning the query itself, whose rows would then be
    model instances; iterating it really yields one tuple per row.
    """
    return cast("Iterable[tuple[Any, ...]]", query.tuples())


def tuple_row(query: SelectBase) -> tuple[Any, ...]:
    """``query.tuples().get()``: the query's one row as a tuple (typed as ``tuple_rows``)."""
    return cast("tuple[Any, ...]", query.tuples().get())


def dict_rows(query: BaseQuery) -> Iterable[dict[str, Any]]:
    """``query.dicts()``, typed as the rows it yields (one dict per row): see ``tuple_rows``."""
    return cast("Iterable[dict[str, Any]]", query.dicts())


class TinyIntField(_IntegerFieldBase):
    """LHC's ``tinyint(1)`` flags and small counters."""

    field_type = "TINYINT"


class LongTextField(_TextFieldBase):
    """MySQL ``longtext`` (plain TEXT elsewhere)."""

    field_type = "LONGTEXT"


class TimestampField(_TimestampFieldBase):
    """MySQL ``timestamp`` holding a UTC ``datetime``; stored as ISO text by SQLite."""

    field_type = "TIMESTAMP"

    def db_value(self, value: _dt.datetime | str | None) -> str | None:
        if value is None or isinstance(value, str):
            return value  # strings pass as they are (MySQL's zero date from an import)
        return value.strftime("%Y-%m-%d %H:%M:%S")

    def python_value(self, value: object) -> _dt.datetime | str | None:
        if value is None or isinstance(value, _dt.datetime):
            return value
        try:
            return _dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)


class LhcModel(Model):
    """Base of every LHC table: bound late, no implicit ``id`` naming magic beyond LHC's."""

    class Meta:
        database = database_proxy
        legacy_table_names = False

    # On an older LHC schema ``store.schema.adapt_models`` removes the fields whose columns the
    # table lacks; these overrides drop such columns from writes too, so code that names them
    # (``Audit.create(user_id=...)``) still writes a valid row for the schema it finds.
    @classmethod
    def insert(cls, __data: dict[Any, Any] | None = None, **insert: Any) -> ModelInsert:
        return super().insert(cls._known(__data), **cls._known(insert))

    @classmethod
    def insert_many(cls, rows: Iterable[Any], fields: Any = None) -> ModelInsert:
        rows = [cls._known(row) if isinstance(row, dict) else row for row in rows]
        return super().insert_many(rows, fields)

    @classmethod
    def update(cls, __data: dict[Any, Any] | None = None, **update: Any) -> ModelUpdate:
        return super().update(cls._known(__data), **cls._known(update))

    @overload
    @classmethod
    def _known(cls, data: dict[Any, Any]) -> dict[Any, Any]: ...
    @overload
    @classmethod
    def _known(cls, data: None) -> None: ...
    @classmethod
    def _known(cls, data: dict[Any, Any] | None) -> dict[Any, Any] | None:
        """``data`` without the columns the open database's table does not have."""
        if not data:
            return data
        fields = cls._meta.fields
        return {
            key: value
            for key, value in data.items()
            if (key.name if isinstance(key, Field) else key) in fields
        }


class IdModel(LhcModel):
    """An LHC table keyed by an integer ``id``: every table in ``ALL_MODELS`` (not ChatConfig).

    Code that walks the tables (dumps, reports, imports) orders and ranges their rows by ``id``.
    Each table declares its own ``id`` again; this one is what peewee would add by itself.
    """

    id = AutoField()


class User(IdModel):
    """``lh_users``: one operator account. ``cache_version`` is bumped on every change."""

    id = AutoField()
    username = CharField(max_length=80)
    password = CharField(max_length=200)
    avatar = CharField(max_length=150, default="", constraints=[SQL("DEFAULT ''")])
    session_id = CharField(max_length=40, default="")
    operation_admin = TextField(default="")
    email = CharField(max_length=100, default="")
    time_zone = CharField(max_length=100, default="")
    name = CharField(max_length=100, default="")
    surname = CharField(max_length=100, default="")
    chat_nickname = CharField(max_length=100, default="")
    filepath = CharField(max_length=200, default="")
    filename = CharField(max_length=200, default="")
    job_title = CharField(max_length=100, default="")
    xmpp_username = CharField(max_length=200, default="")
    skype = CharField(max_length=50, default="")
    departments_ids = TextField(default="")
    disabled = TinyIntField(default=0)
    force_logout = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    offline_reason_id = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    llogin = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    rec_per_req = TinyIntField(default=0)
    hide_online = TinyIntField(default=0)
    auto_accept = TinyIntField(default=0)
    exclude_autoasign = TinyIntField(default=0)
    exclude_autoasign_mails = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    max_active_chats = IntegerField(default=0)
    max_active_mails = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    all_departments = TinyIntField(default=0)
    invisible_mode = TinyIntField(default=0)
    inactive_mode = TinyIntField(default=0)
    cache_version = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    attr_int_1 = IntegerField(default=0)
    attr_int_2 = IntegerField(default=0)
    attr_int_3 = IntegerField(default=0)
    pswd_updated = IntegerField(default=0)
    always_on = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])

    class Meta:
        table_name = "lh_users"
        indexes = (
            (("username",), False),
            (("email",), False),
            (("disabled",), False),
            (("llogin",), False),  # the access review pages by last login (store.review)
        )


class Group(IdModel):
    """``lh_group``: a user group. ``disabled`` groups give nothing; ``required`` is a form rule."""

    id = AutoField()
    disabled = TinyIntField(default=0)
    required = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    name = CharField(max_length=50)

    class Meta:
        table_name = "lh_group"


class GroupUser(IdModel):
    """``lh_groupuser``: membership of a user in a group."""

    id = AutoField()
    group_id = IntegerField()
    user_id = IntegerField()

    class Meta:
        table_name = "lh_groupuser"
        indexes = (
            (("group_id",), False),
            (("user_id",), False),
            (("group_id", "user_id"), False),
        )


class GroupWork(IdModel):
    """``lh_group_work``: members of ``group_id`` may work with users of ``group_work_id``.

    ``group_work_id = -1`` flags ``group_id`` itself: its own members cannot hand it out.
    """

    id = AutoField()
    group_id = IntegerField()
    group_work_id = IntegerField()

    class Meta:
        table_name = "lh_group_work"
        indexes = ((("group_id",), False),)


class Role(IdModel):
    """``lh_role``: a named list of policies."""

    id = AutoField()
    name = CharField(max_length=50)

    class Meta:
        table_name = "lh_role"


class GroupRole(IdModel):
    """``lh_grouprole``: which groups carry which roles."""

    id = AutoField()
    group_id = IntegerField()
    role_id = IntegerField()

    class Meta:
        table_name = "lh_grouprole"
        indexes = (
            (("role_id", "group_id"), False),
            (("group_id",), False),
        )


class RoleFunction(IdModel):
    """``lh_rolefunction``: one policy ``module / function / limitation``; ``type`` 1 excludes."""

    id = AutoField()
    role_id = IntegerField()
    type = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    module = CharField(max_length=100)
    function = CharField(max_length=100)
    limitation = TextField(default="")

    class Meta:
        table_name = "lh_rolefunction"
        indexes = (
            (("role_id",), False),
            (("type",), False),
            (("module", "function"), False),  # who holds */* (scope), without a scan
        )


class Department(IdModel):
    """``lh_departament`` (LHC's spelling): a department with every LHC column and default."""

    id = AutoField()
    name = CharField(max_length=100, default="")
    email = CharField(max_length=100, default="")
    xmpp_recipients = TextField(default="")
    xmpp_group_recipients = TextField(default="")
    priority = IntegerField(default=0)
    dep_offline = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    archive = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    pending_max = IntegerField(default=0)
    max_load = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_load_op = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_load_op_h = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_load_h = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    inop_chats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    acop_chats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    bot_chats_counter = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    inactive_chats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    assign_same_language = IntegerField(default=0)
    max_ac_dep_chats = IntegerField(default=0)
    max_ac_dep_mails = IntegerField(default=0)
    pending_group_max = IntegerField(default=0)
    exclude_inactive_chats = IntegerField(default=0)
    delay_before_assign = IntegerField(default=0)
    delay_before_assign_mail = IntegerField(default=0)
    sort_priority = IntegerField(default=0)
    visible_if_online = TinyIntField(default=0)
    ignore_op_status = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    department_transfer_id = IntegerField(default=0)
    transfer_timeout = IntegerField(default=0)
    disabled = IntegerField(default=0)
    hidden = IntegerField(default=0)
    delay_lm = IntegerField(default=0)
    max_active_chats = IntegerField(default=0)
    max_active_mails = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_timeout_seconds = IntegerField(default=0)
    max_timeout_seconds_mail = IntegerField(default=0)
    identifier = CharField(max_length=2083, default="")
    # LHC's column: it hides peewee's ``Model.alias()``, so Department is never aliased.
    alias = CharField(max_length=50, default="")  # type: ignore[assignment]
    mod_start_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    mod_end_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    tud_start_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    tud_end_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    wed_start_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    wed_end_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    thd_start_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    thd_end_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    frd_start_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    frd_end_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    sad_start_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    sad_end_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    sud_start_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    sud_end_hour = IntegerField(default=-1, constraints=[SQL("DEFAULT -1")])
    nc_cb_execute = TinyIntField(default=0)
    na_cb_execute = TinyIntField(default=0)
    inform_unread = TinyIntField(default=0)
    active_balancing = TinyIntField(default=0)
    active_mail_balancing = TinyIntField(default=0)
    inform_close = IntegerField(default=0)
    inform_unread_delay = IntegerField(default=0)
    inform_options = CharField(max_length=250, default="")
    online_hours_active = TinyIntField(default=0)
    inform_delay = IntegerField(default=0)
    attr_int_1 = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    attr_int_2 = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    attr_int_3 = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    active_chats_counter = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    pending_chats_counter = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    inform_close_all = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    inform_close_all_email = CharField(
        max_length=250, default="0", constraints=[SQL("DEFAULT '0'")]
    )
    product_configuration = LongTextField(default="")
    bot_configuration = TextField(default="")

    class Meta:
        table_name = "lh_departament"
        indexes = ((("disabled", "hidden"), False),)


class DepartmentGroup(IdModel):
    """``lh_departament_group``: a named bundle of departments."""

    id = AutoField()
    name = CharField(max_length=50)
    achats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    inachats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_load_op = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_load_op_h = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    inopchats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    acopchats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    pchats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    bchats_cnt = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_load = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_load_h = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])

    class Meta:
        table_name = "lh_departament_group"
        indexes = ((("name",), False),)


class DepartmentGroupMember(IdModel):
    """``lh_departament_group_member``: department ``dep_id`` belongs to ``dep_group_id``."""

    id = AutoField()
    dep_id = IntegerField()
    dep_group_id = IntegerField()

    class Meta:
        table_name = "lh_departament_group_member"
        indexes = (
            (("dep_group_id", "dep_id"), True),
            (("dep_id",), False),
        )


class _DepartmentGroupUserColumns(IdModel):
    """Columns shared by ``lh_departament_group_user`` and its ``_disabled`` parking table."""

    id = AutoField()
    dep_group_id = IntegerField()
    user_id = IntegerField()
    read_only = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    exc_indv_autoasign = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    only_priority = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    assign_priority = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    chat_min_priority = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    chat_max_priority = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])


class DepartmentGroupUser(_DepartmentGroupUserColumns):
    """``lh_departament_group_user``: a user's department-group assignment, maybe read-only."""

    class Meta:
        table_name = "lh_departament_group_user"
        indexes = (
            (("dep_group_id",), False),
            (("user_id",), False),
        )


class DepartmentGroupUserDisabled(_DepartmentGroupUserColumns):
    """``lh_departament_group_user_disabled``: a disabled user's assignments, parked."""

    class Meta:
        table_name = "lh_departament_group_user_disabled"
        indexes = ((("user_id",), False),)


class _UserDepColumns(IdModel):
    """Columns shared by ``lh_userdep`` and ``lh_userdep_disabled``."""

    id = AutoField()
    user_id = IntegerField()
    dep_id = IntegerField()
    exclude_autoasign = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    exclude_autoasign_mails = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    only_priority = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    exc_indv_autoasign = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    ro = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    last_activity = IntegerField(default=0)
    lastd_activity = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    hide_online_ts = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    hide_online = IntegerField(default=0)
    last_accepted = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    last_accepted_mail = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    active_mails = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    pending_mails = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    active_chats = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    pending_chats = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    inactive_chats = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_chats = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    max_mails = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    type = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    dep_group_id = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    always_on = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    assign_priority = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    chat_max_priority = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    chat_min_priority = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])


class UserDep(_UserDepColumns):
    """``lh_userdep``: the effective user-to-department rows, the only table chat access reads.

    ``type`` 0 is a direct assignment, 1 a row derived from a department-group assignment
    (``dep_group_id`` set); ``dep_id`` 0 means all departments, -1 is LHC's "not all" placeholder.
    """

    class Meta:
        table_name = "lh_userdep"
        indexes = (
            (("user_id", "type"), False),
            (("dep_id",), False),
            (("dep_group_id",), False),
        )


class UserDepDisabled(_UserDepColumns):
    """``lh_userdep_disabled``: a disabled user's department rows, parked until enabled."""

    class Meta:
        table_name = "lh_userdep_disabled"
        indexes = ((("user_id",), False),)


class UserLogin(IdModel):
    """``lh_users_login``: login events; ``type`` 0 failed, 1 success, 4 disabled after failures."""

    id = BigAutoField()
    user_id = BigIntegerField()
    type = IntegerField()
    ctime = BigIntegerField()
    status = IntegerField(default=0)
    ip = CharField(max_length=100, default="")
    msg = CharField(max_length=250, default="")

    class Meta:
        table_name = "lh_users_login"
        indexes = ((("user_id", "type"), False),)


class Audit(IdModel):
    """``lh_audits``: the audit trail every console write leaves (JSON message, no secrets)."""

    id = BigAutoField()
    category = CharField(max_length=255)
    file = CharField(max_length=255, null=True)
    user_id = BigIntegerField(default=0, null=True, constraints=[SQL("DEFAULT 0")])
    object_id = BigIntegerField(default=0, null=True, constraints=[SQL("DEFAULT 0")])
    line = BigIntegerField(null=True)
    message = LongTextField()
    severity = CharField(max_length=255)
    source = CharField(max_length=255)
    time = TimestampField()

    class Meta:
        table_name = "lh_audits"
        indexes = (
            (("time",), False),
            (("user_id",), False),
            (("object_id",), False),
            (("category",), False),
        )


ALL_MODELS: tuple[type[IdModel], ...] = (
    User,
    Group,
    GroupUser,
    GroupWork,
    Role,
    GroupRole,
    RoleFunction,
    Department,
    DepartmentGroup,
    DepartmentGroupMember,
    DepartmentGroupUser,
    DepartmentGroupUserDisabled,
    UserDep,
    UserDepDisabled,
    UserLogin,
    Audit,
)
"""Every table the console knows, in LHC's order; schema creation and dumps walk this tuple."""


class ChatConfig(LhcModel):
    """``lh_chat_config``: LHC's settings, one row per ``identifier`` (e.g. ``password_data``).

    Optional: the console reads it when the table exists (a database LHC made, or a dump
    that carried it) and uses LHC's defaults when it does not. It is not in ``ALL_MODELS``, so
    it is never created, dumped, imported or reported missing; only the rows the console
    understands (``store.password_policy``) are ever read.
    """

    identifier = CharField(max_length=50, primary_key=True)
    value = TextField()
    type = TinyIntField(default=0, constraints=[SQL("DEFAULT 0")])
    explain = CharField(max_length=250, default="")
    hidden = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])

    class Meta:
        table_name = "lh_chat_config"


OPTIONAL_MODELS: tuple[type[LhcModel], ...] = (ChatConfig,)
"""Tables the console reads when present and never requires (never in ``ALL_MODELS``)."""
