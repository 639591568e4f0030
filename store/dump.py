"""Whole-table helpers: row counts, emptying the permission tables, and full row dumps.

Used by the sample loader (replace mode), the CLI's reports and tests that prove a refused
action changed nothing.
"""

from __future__ import annotations

from typing import Any

from .models import Audit, UserLogin, dict_rows
from .schema import present_models

HISTORY_TABLES = (Audit, UserLogin)
"""Logs kept when the permission tables are replaced: history is never thrown away."""
HISTORY_TABLE_NAMES = frozenset(m._meta.table_name for m in HISTORY_TABLES)


def table_counts() -> dict[str, int]:
    """Rows per LHC table the console knows."""
    return {m._meta.table_name: m.select().count() for m in present_models()}


def clear_permission_tables() -> None:
    """Empty every permission table (not the audit and login logs); caller holds a transaction."""
    for model in present_models():
        if model not in HISTORY_TABLES:
            model.delete().execute()


def all_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered by id: a snapshot to compare before and after."""
    return {
        m._meta.table_name: list(dict_rows(m.select().order_by(m.id))) for m in present_models()
    }
