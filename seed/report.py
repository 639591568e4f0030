"""What a load or import wrote, or would write: shared by the sample loader and the importer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PREVIEW_NAMES = 50


@dataclass
class ImportReport:
    """Rows per table, a preview of users and groups, and conflicts with what is there."""

    source: str
    dry_run: bool
    replace: bool
    counts: dict[str, int] = field(default_factory=dict)  # rows written per table
    existing: dict[str, int] = field(default_factory=dict)  # rows present before
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    usernames: list[str] = field(default_factory=list)  # first few users written
    group_names: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "replace": self.replace,
            "counts": self.counts,
            "existing": self.existing,
            "ignored_columns": self.ignored_columns,
            "users": self.usernames,
            "groups": self.group_names,
            "conflicts": self.conflicts,
        }


def held_permission_rows(existing: dict[str, int], history: set[str]) -> dict[str, int]:
    """Tables (other than the history logs) that already hold rows."""
    return {t: n for t, n in existing.items() if n and t not in history}


def not_empty_message(held: dict[str, int]) -> str:
    """E.g. "The database already holds 5 users, 10 groups, 7 roles and 170 other rows; ..."."""
    named = {"lh_users": "users", "lh_group": "groups", "lh_role": "roles"}
    parts = [f"{held[t]} {label}" for t, label in named.items() if held.get(t)]
    others = sum(n for t, n in held.items() if t not in named)
    if others:
        parts.append(f"{others} other rows")
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return f"The database already holds {listed}; use replace to empty the permission tables first"


class DryRunRollback(Exception):
    """Raised at the end of a dry run so its transaction rolls back."""
