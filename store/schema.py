"""Adapting the models to the LHC schema a database actually has.

A live LHC database may be older than the schema the models describe: the documented sample dump
has no ``lh_rolefunction.type``, no ``lh_audits.user_id``, no ``*_disabled`` tables and fewer
``lh_users`` columns. The console must run there without altering anything, so when a database is
opened each model is cut down to the columns its table really has: an absent column is neither
selected nor written (``LhcModel`` drops it from inserts and updates). Columns the console cannot
work without (``ESSENTIAL_COLUMNS``) and tables it needs are reported by name instead.

The models are module-level classes shared by the whole process; ``adapt_models`` first restores
every field, so opening a newer database after an older one sees all columns again.
"""

from __future__ import annotations

from peewee import SQL, Database, Expression, Field, Node, Value

from .errors import SchemaError
from .models import (
    ALL_MODELS,
    Audit,
    DepartmentGroupUserDisabled,
    IdModel,
    LhcModel,
    RoleFunction,
    UserDepDisabled,
)

OPTIONAL_TABLES: frozenset[type[LhcModel]] = frozenset(
    {UserDepDisabled, DepartmentGroupUserDisabled}
)
"""Tables later LHC versions added: without them a disabled user's rows simply stay in place."""

ESSENTIAL_COLUMNS: dict[str, frozenset[str]] = {
    "lh_users": frozenset(
        {"id", "username", "password", "email", "name", "surname", "disabled", "all_departments",
         "departments_ids", "cache_version"}
    ),
    "lh_group": frozenset({"id", "name", "disabled"}),
    "lh_groupuser": frozenset({"id", "group_id", "user_id"}),
    "lh_group_work": frozenset({"id", "group_id", "group_work_id"}),
    "lh_role": frozenset({"id", "name"}),
    "lh_grouprole": frozenset({"id", "group_id", "role_id"}),
    "lh_rolefunction": frozenset({"id", "role_id", "module", "function", "limitation"}),
    "lh_departament": frozenset({"id", "name"}),
    "lh_departament_group": frozenset({"id", "name"}),
    "lh_departament_group_member": frozenset({"id", "dep_id", "dep_group_id"}),
    "lh_departament_group_user": frozenset({"id", "dep_group_id", "user_id", "read_only"}),
    "lh_userdep": frozenset({"id", "user_id", "dep_id", "type", "dep_group_id", "ro"}),
    "lh_users_login": frozenset({"id", "user_id", "type", "ctime"}),
    "lh_audits": frozenset({"id", "category", "object_id", "message", "time"}),
}
"""Per table, the columns the console's rules read; any other column may be absent."""

_ALL_FIELDS: dict[type[LhcModel], list[Field]] = {
    model: list(model._meta.sorted_fields) for model in ALL_MODELS
}
_present_tables: set[type[LhcModel]] = set(ALL_MODELS)


def adapt_models(db: Database) -> None:
    """Cut every model down to the columns its table has; raise if a needed one is missing."""
    existing = set(db.get_tables())
    missing_tables = [
        m._meta.table_name
        for m in ALL_MODELS
        if m._meta.table_name not in existing and m not in OPTIONAL_TABLES
    ]
    if missing_tables:
        raise SchemaError(
            "This LHC database lacks table(s) the console needs: " + ", ".join(missing_tables)
        )
    missing_columns: list[str] = []
    _present_tables.clear()
    for model in ALL_MODELS:
        _restore(model)
        table = model._meta.table_name
        if table not in existing:
            continue
        _present_tables.add(model)
        columns = {c.name for c in db.get_columns(table)}
        essential = ESSENTIAL_COLUMNS.get(table, frozenset({"id"}))
        missing_columns += [f"{table}.{c}" for c in sorted(essential - columns)]
        for field in list(model._meta.sorted_fields):
            if field.column_name not in columns:
                model._meta.remove_field(field.name)
    if missing_columns:
        raise SchemaError(
            "This LHC database lacks column(s) the console needs: " + ", ".join(missing_columns)
        )


def restore_all_models() -> None:
    """Every field and table back, as on a database the console created itself."""
    for model in ALL_MODELS:
        _restore(model)
    _present_tables.update(ALL_MODELS)


def _restore(model: type[LhcModel]) -> None:
    for field in _ALL_FIELDS[model]:
        if field.name not in model._meta.fields:
            model._meta.add_field(field.name, field)


def has_table(model: type[LhcModel]) -> bool:
    """Whether the open database has this (optional) table."""
    return model in _present_tables


def has_column(model: type[LhcModel], name: str) -> bool:
    """Whether the open database's table has this column."""
    return name in model._meta.fields


def present_models() -> tuple[type[IdModel], ...]:
    """The known tables the open database has, in LHC's order (dumps and counts walk these)."""
    return tuple(m for m in ALL_MODELS if m in _present_tables)


def policy_type_is(kind: int) -> Expression | SQL:
    """``lh_rolefunction.type = kind``; without the column every row is a grant (type 0)."""
    if has_column(RoleFunction, "type"):
        return RoleFunction.type == kind
    return SQL("1 = 1") if kind == 0 else SQL("1 = 0")


def policy_type_column() -> Node:
    """``lh_rolefunction.type`` to select, or a constant 0 (grant) where the column is absent."""
    if has_column(RoleFunction, "type"):
        return RoleFunction.type
    return Value(0).alias("type")


def supports_exclusions() -> bool:
    """Exclusion policies need ``lh_rolefunction.type`` (added in a later LHC version)."""
    return has_column(RoleFunction, "type")


def audit_has_actor() -> bool:
    """Whether audit rows carry ``user_id`` (older LHC schemas keep the actor in the message)."""
    return has_column(Audit, "user_id")
