"""Writing the permission tables as a MySQL-compatible dump.

The file reads back through ``seed.importer`` to the same rows, and a real MariaDB/MySQL accepts
it (``CREATE TABLE IF NOT EXISTS`` with LHC's types, multi-row ``INSERT`` with MySQL escapes).
Rows are streamed table by table, so exporting a large database needs little memory.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any, TextIO

from peewee import Model, MySQLDatabase

from store.regular_files import open_for_writing
from store.schema import present_models

ROWS_PER_INSERT = 200
_MYSQL = MySQLDatabase(None)  # only for rendering DDL in MySQL's dialect; never connects
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\0": "\\0",
    "\x1a": "\\Z",
}


EXPORT_MODE = 0o600
"""A new export file is owner-only: it holds every user's password hash."""


def export_dump(path: str | Path) -> dict[str, int]:
    """Write every table the console knows to ``path``; return rows written per table.

    A new file is created with mode 0600 (it holds password hashes); an existing file is
    overwritten and keeps its mode. Only a regular file (``store.regular_files``): a pipe or
    device is refused, never waited on.
    """
    with io.TextIOWrapper(
        open_for_writing(path, EXPORT_MODE), encoding="utf-8", newline="\n"
    ) as out:
        return write_dump(out)


def write_dump(out: TextIO) -> dict[str, int]:
    out.write(
        "-- lhc-console export of Live Helper Chat permission tables\n"
        f"-- {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC\n\n"
        "SET NAMES utf8mb4;\n"
        "SET foreign_key_checks = 0;\n"
        "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\n\n"
    )
    counts = {}
    for model in present_models():
        out.write(create_table_sql(model) + ";\n\n")
        counts[model._meta.table_name] = _write_rows(out, model)
    return counts


def create_table_sql(model: type[Model]) -> str:
    """``CREATE TABLE IF NOT EXISTS`` in MySQL's dialect, with the model's indexes as KEYs."""
    # peewee builds the statement in private methods (``Model._schema``'s ``_create_table``)
    # that its stubs leave out; only the public one that runs it is declared.
    with _MYSQL.bind_ctx([model]):
        create = model._schema._create_table(safe=True)  # type: ignore[attr-defined]
        sql, _ = _MYSQL.get_sql_context().sql(create).query()
    keys = []
    for columns, unique in model._meta.indexes:
        name = "_".join(columns)
        kind = "UNIQUE KEY" if unique else "KEY"
        keys.append(f"{kind} `{name}` (" + ", ".join(f"`{c}`" for c in columns) + ")")
    body = sql[: sql.rindex(")")]
    if keys:
        body += ", " + ", ".join(keys)
    return body + ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"


def _write_rows(out: TextIO, model: type[Model]) -> int:
    columns = list(model._meta.columns)
    head = (
        f"INSERT INTO `{model._meta.table_name}` ("
        + ", ".join(f"`{c}`" for c in columns)
        + ") VALUES\n"
    )
    written = 0
    pending: list[str] = []
    query = model.select().order_by(model._meta.primary_key).tuples().iterator()
    for row in query:
        values = [model._meta.columns[c].db_value(v) for c, v in zip(columns, row, strict=True)]
        pending.append("(" + ", ".join(sql_literal(v) for v in values) + ")")
        written += 1
        if len(pending) >= ROWS_PER_INSERT:
            out.write(head + ",\n".join(pending) + ";\n")
            pending.clear()
    if pending:
        out.write(head + ",\n".join(pending) + ";\n")
    if written:
        out.write("\n")
    return written


def sql_literal(value: Any) -> str:
    """A value as MySQL writes it in a dump."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in text) + "'"
