"""Importing LHC's permission tables from a MySQL/MariaDB dump, all or nothing.

The dump is read as a stream (``seed.sqldump``) and written in batches inside one transaction:
a 50 MB dump never becomes 50 MB of Python objects, and any bad row rolls everything back with
a message naming the line, the table, the row and the value. Ids are kept for the permission
tables; the history tables (``lh_audits``, ``lh_users_login``) are appended to with fresh ids,
so imported history never collides with the console's own.

Older LHC schemas import as they are: a column the dump lacks takes LHC's default (a missing
``lh_rolefunction.type`` means grant), a column the console does not know is ignored.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import peewee
from peewee import (
    BigIntegerField,
    CharField,
    Database,
    Field,
    IntegerField,
    Model,
    PeeweeException,
    TextField,
)

from seed.report import (
    PREVIEW_NAMES,
    DryRunRollback,
    ImportReport,
    LoadedBy,
    authorise,
    check_administrator,
    held_permission_rows,
    last_ids,
    not_empty_message,
    rows_since,
)
from seed.sqldump import CreateTable, DumpSyntaxError, InsertRow, read_dump
from store import StoreError
from store.audit import write_audit
from store.database import reset_id_sequences, write_transaction
from store.dump import HISTORY_TABLE_NAMES, HISTORY_TABLES, clear_permission_tables, table_counts
from store.faults import plain_faults
from store.models import ALL_MODELS, Group, TimestampField, TinyIntField, User
from store.regular_files import check_regular, open_for_reading

BATCH_ROWS = 500
PROGRESS_EVERY_ROWS = 2000

Progress = Callable[[int, int], None]
"""``progress(bytes_read, bytes_total)``, called now and then during a long import."""


class DumpImportError(StoreError):
    """The dump cannot be imported; the message names the line, table, row and value."""


MODELS: dict[str, type[Model]] = {m._meta.table_name: m for m in ALL_MODELS}


def import_dump(
    db: Database,
    path: str | Path,
    *,
    by: LoadedBy,
    replace: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the permission tables of an LHC dump into ``db`` in one transaction.

    ``by`` names who imports (``seed.report.authorise``): a logged-in ``Session`` must be an
    administrator, ``Authority.FIRST_RUN`` only imports into an empty database, and
    ``Authority.LOCAL`` (the ``import`` command) may replace. Refuses a database that already
    holds permission rows unless ``replace`` (which empties them first), and a replace after
    which no enabled administrator exists. Leaves one ``import.dump`` audit row naming the
    actor, with the id ranges of the history rows that came from the file. A dry run does
    everything, reports, and rolls back; its ``conflicts`` say what a real run would refuse.
    """
    path = Path(path)
    if not path.exists():
        raise DumpImportError(f"No dump file at {path}")
    try:
        check_regular(path)  # a pipe or device is refused before anything is read or locked
    except OSError as error:
        raise DumpImportError(f"Cannot read {path}: {error.strerror or error}") from error
    report = ImportReport(source=str(path), dry_run=dry_run, replace=replace)
    try:
        with plain_faults(db), write_transaction(db):
            report.existing = table_counts()
            held = held_permission_rows(report.existing, HISTORY_TABLE_NAMES)
            actor_id, authority = authorise(by, held)
            if held and not replace:
                if not dry_run:
                    raise DumpImportError(not_empty_message(held))
                report.conflicts.append(not_empty_message(held))
            if held:
                clear_permission_tables()
            history_before = last_ids(HISTORY_TABLES)
            with _open(path) as (stream, position, total):
                _load(stream, report, position, total, progress)
            reset_id_sequences(db)
            if replace:
                check_administrator(report, f"the dump {path.name}")
            write_audit(
                category="import",
                object_id=0,
                actor_id=actor_id,
                action="import.dump",
                extra={
                    "loaded": "dump",
                    "source": path.name,
                    "counts": report.counts,
                    "replace": replace,
                    "by": authority,
                    # lh_audits / lh_users_login rows from the file, appended with fresh ids
                    "imported_history": rows_since(history_before, HISTORY_TABLES),
                },
            )
            if dry_run:
                raise DryRunRollback
    except DryRunRollback:
        pass
    except DumpSyntaxError as error:
        raise DumpImportError(f"{path.name}: {error}; nothing was imported") from error
    except UnicodeDecodeError as error:
        raise DumpImportError(
            f"{path.name}: not UTF-8 text at byte {error.start}; nothing was imported"
        ) from error
    except OSError as error:
        raise DumpImportError(f"Cannot read {path}: {error.strerror or error}") from error
    return report


@contextmanager
def _open(path: Path) -> Iterator[tuple[TextIO, Callable[[], int], int]]:
    """A text stream over the (maybe gzipped) file, and how far into the file it has read."""
    raw: BinaryIO = open_for_reading(path)  # a regular file only; closed below
    try:
        total = os.fstat(raw.fileno()).st_size
        binary: BinaryIO | gzip.GzipFile = (
            gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw
        )
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="strict", newline="")
        yield text, raw.tell, total
    finally:
        raw.close()


def _load(
    stream: TextIO,
    report: ImportReport,
    position: Callable[[], int],
    total: int,
    progress: Progress | None,
) -> None:
    declared: dict[str, tuple[str, ...]] = {}
    batches: dict[str, list[dict[str, Any]]] = {}
    seen_ids: dict[str, set[int]] = {}
    rows_read = 0
    for event in read_dump(stream, tables=MODELS.keys()):
        if isinstance(event, CreateTable):
            declared[event.table] = tuple(c.name for c in event.columns)
            continue
        assert isinstance(event, InsertRow)
        row = _row(event, declared, report)
        model = MODELS[event.table]
        if model in HISTORY_TABLES:
            row.pop("id", None)
        else:
            _check_new_id(event, row, seen_ids.setdefault(event.table, set()))
        _preview(event.table, row, report)
        batch = batches.setdefault(event.table, [])
        batch.append(row)
        report.counts[event.table] = report.counts.get(event.table, 0) + 1
        if len(batch) >= BATCH_ROWS:
            _flush(model, batch, event.line)
        rows_read += 1
        if progress is not None and rows_read % PROGRESS_EVERY_ROWS == 0:
            progress(position(), total)
    for table, batch in batches.items():
        _flush(MODELS[table], batch, None)
    if progress is not None:
        progress(total, total)


def _row(
    event: InsertRow, declared: dict[str, tuple[str, ...]], report: ImportReport
) -> dict[str, Any]:
    """The row as model column values, checked against LHC's column types and lengths."""
    columns = event.columns or declared.get(event.table)
    where = f"line {event.line}: {event.table}"
    if columns is None:
        raise DumpImportError(
            f"{where}: INSERT without a column list and no CREATE TABLE before it"
        )
    if len(columns) != len(event.values):
        raise DumpImportError(
            f"{where}: the row has {len(event.values)} values for {len(columns)} columns"
        )
    model = MODELS[event.table]
    fields = model._meta.columns
    values = dict(zip(columns, event.values, strict=True))
    row_id = values.get("id")
    where = f"{where} row id {row_id}" if row_id is not None else where
    row: dict[str, Any] = {}
    for name, value in values.items():
        if name not in fields:
            ignored = report.ignored_columns.setdefault(event.table, [])
            if name not in ignored:
                ignored.append(name)
            continue
        row[name] = _coerce(fields[name], value, where, name)
    for name, model_field in fields.items():
        if name in row or name == "id":
            continue
        if model_field.default is None and not model_field.null:
            raise DumpImportError(f"{where}: column {name} is missing and has no default")
    return row


def _coerce(model_field: Field, value: Any, row_where: str, column: str) -> Any:
    """``value`` as the column's type, or an error naming the line, table, row and column.

    The message's prefix is built only when a value is refused: building it for every value
    of a 100,000-user dump was a tenth of the import.
    """
    # The common cases first, decided without building anything: an int in range, a string
    # that fits. Anything else (and every refusal) takes the full path below.
    if type(value) is int and isinstance(model_field, (IntegerField, BigIntegerField)):
        _, low, high = _integer_range(model_field)
        if low <= value <= high:
            return value
    elif type(value) is str and isinstance(model_field, (CharField, TextField)):
        max_length = getattr(model_field, "max_length", None)
        if not (isinstance(model_field, CharField) and max_length and len(value) > max_length):
            return value
    where = f"{row_where}: column {column}"
    if value is None:
        if model_field.null:
            return None
        raise DumpImportError(f"{where}: NULL in a column that LHC requires")
    if isinstance(model_field, (IntegerField, BigIntegerField)):
        if isinstance(value, bool):
            number = int(value)
        elif isinstance(value, int):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and value.strip().lstrip("-").isdigit()
        ):
            number = int(value)
        else:
            raise DumpImportError(f"{where}: {_show(value)} is not a whole number")
        kind, low, high = _integer_range(model_field)
        if not low <= number <= high:
            raise DumpImportError(
                f"{where}: {_show(number)} is out of range for LHC's {kind} column"
                f" ({low} to {high})"
            )
        return number
    if isinstance(model_field, TimestampField):
        text = str(value)
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            if text.startswith("0000-00-00"):
                return text  # MySQL's zero date, kept verbatim
            raise DumpImportError(f"{where}: {_show(value)} is not a date and time") from None
    if isinstance(model_field, (CharField, TextField)):
        text = value if isinstance(value, str) else str(value)
        max_length = getattr(model_field, "max_length", None)
        if isinstance(model_field, CharField) and max_length and len(text) > max_length:
            raise DumpImportError(
                f"{where}: {_show(text)} is {len(text)} characters, LHC allows {max_length}"
            )
        return text
    return value


def _integer_range(model_field: Field) -> tuple[str, int, int]:
    """The values LHC's column type holds (signed or unsigned), so a number SQLite or MySQL
    would refuse (or silently clip) is refused here with the column named."""
    if isinstance(model_field, TinyIntField):
        return "tinyint", -(2**7), 2**8 - 1
    if isinstance(model_field, BigIntegerField):
        return "bigint", -(2**63), 2**63 - 1
    return "int", -(2**31), 2**32 - 1


def _check_new_id(event: InsertRow, row: dict[str, Any], seen: set[int]) -> None:
    row_id = row.get("id")
    if row_id is None:
        return
    if row_id in seen:
        raise DumpImportError(f"line {event.line}: {event.table}: id {row_id} appears twice")
    seen.add(row_id)


def _preview(table: str, row: dict[str, Any], report: ImportReport) -> None:
    if table == User._meta.table_name and len(report.usernames) < PREVIEW_NAMES:
        report.usernames.append(str(row.get("username", "")))
    elif table == Group._meta.table_name and len(report.group_names) < PREVIEW_NAMES:
        report.group_names.append(str(row.get("name", "")))


def _flush(model: type[Model], batch: list[dict[str, Any]], line: int | None) -> None:
    if not batch:
        return
    try:
        # Rows of one table may name different column sets (older and newer INSERTs).
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in batch:
            by_columns.setdefault(tuple(row), []).append(row)
        for names, rows in by_columns.items():
            _insert_rows(model, names, rows)
    except (PeeweeException, OverflowError) as error:
        near = f" near line {line}" if line else ""
        raise DumpImportError(
            f"{model._meta.table_name}{near}: the database refused the rows: {error}"
        ) from error
    batch.clear()


def _insert_rows(model: type[Model], names: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Insert rows that all name the columns ``names``, as ``model.insert_many`` would.

    Why not ``insert_many``: Peewee builds one SQL node per value, which was two thirds of the
    time of a 100,000-user import. This writes the same statement, with the same columns (the
    named ones plus every column with a model default) and the same values (each through its
    field's ``db_value``), as one prepared ``INSERT`` run with ``executemany``; driver errors
    still arrive as Peewee's exceptions.
    """
    db = model._meta.database
    fields = model._meta.columns
    named = [fields[name] for name in names]
    defaults = [
        (field, field.default)
        for field in model._meta.defaults
        if field.column_name not in names and field.column_name in fields
    ]
    columns = sorted([*named, *(field for field, _ in defaults)], key=lambda f: f._sort_key)
    position = {field: index for index, field in enumerate(columns)}
    named_at = [(position[field], field.db_value) for field in named]
    default_values = [
        (position[field], field.db_value(default() if callable(default) else default))
        for field, default in defaults
    ]
    quote = db.quote  # the two identifier quote characters: "" or ``
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote[0] + model._meta.table_name + quote[1],
        ", ".join(quote[0] + field.column_name + quote[1] for field in columns),
        ", ".join([db.param] * len(columns)),
    )
    width = len(columns)
    params = []
    for row in rows:
        values: list[Any] = [None] * width
        for (index, convert), value in zip(named_at, row.values(), strict=True):
            values[index] = convert(value)
        for index, value in default_values:
            values[index] = value
        params.append(values)
    # What ``execute_sql`` wraps driver calls in: a module global peewee's stubs leave out.
    with peewee.__exception_wrapper__:  # type: ignore[attr-defined]
        cursor = db.cursor()
        cursor.executemany(sql, params)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
