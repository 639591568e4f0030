"""The catalogue of LHC modules and functions, with a short description of each in our words.

Policies name functions by identifier (``lhchat/allowopenremotechat``); the role editor and the
policy form use this catalogue to offer the identifiers LHC knows and to say what each one does.
It is read-only reference data shipped beside this file (``catalogue.tsv``: module, module
title, function, description), loaded once. A row whose function is ``*`` describes a module
that defines no functions of its own (only the wildcard applies to it); such rows are not
listed as functions.

Policies already stored with an identifier the catalogue lacks stay valid: the screens show
them as they are, marked as not in the catalogue.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .permissions import WILDCARD

CATALOGUE_FILE = "catalogue.tsv"
COLUMNS = ("module", "module_title", "function", "description")
ADMINISTRATION = "Everything: every function of every module (makes an administrator)"


@dataclass(frozen=True)
class CatalogueEntry:
    """One function of one module."""

    module: str
    module_title: str
    function: str
    description: str


@dataclass(frozen=True)
class CatalogueModule:
    """A module and its human title (e.g. ``lhchat``, "Chat")."""

    module: str
    title: str


@cache
def catalogue() -> tuple[CatalogueEntry, ...]:
    """Every catalogue row, in file order (modules grouped, functions in LHC's order)."""
    text = resources.files(__package__).joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader)
    if tuple(header) != COLUMNS:
        raise ValueError(f"{CATALOGUE_FILE}: expected columns {COLUMNS}, found {header}")
    return tuple(CatalogueEntry(*row) for row in reader if row)


@cache
def modules() -> tuple[CatalogueModule, ...]:
    """The modules, sorted by identifier."""
    titles: dict[str, str] = {}
    for entry in catalogue():
        titles.setdefault(entry.module, entry.module_title)
    return tuple(CatalogueModule(m, t) for m, t in sorted(titles.items()))


@cache
def functions_of(module: str) -> tuple[CatalogueEntry, ...]:
    """The functions of one module, sorted by identifier (empty for an unknown module)."""
    return tuple(
        sorted(
            (e for e in catalogue() if e.module == module and e.function != WILDCARD),
            key=lambda e: e.function,
        )
    )


@cache
def _index() -> dict[tuple[str, str], str]:
    return {(e.module, e.function): e.description for e in catalogue()}


@cache
def _titles() -> dict[str, str]:
    return {m.module: m.title for m in modules()}


def describe(module: str, function: str) -> str | None:
    """What a policy on ``module/function`` covers, or None when the catalogue does not know it.

    Wildcards are described too: ``*/*`` is administration, ``module/*`` every function of a
    known module.
    """
    found = _index().get((module, function))
    if found is not None:
        return found
    if module == WILDCARD and function == WILDCARD:
        return ADMINISTRATION
    if function == WILDCARD and module in _titles():
        return f"Every function of {_titles()[module]} ({module})"
    return None


def module_title(module: str) -> str | None:
    """The human title of a module (``"Chat"`` for ``lhchat``), or None if unknown."""
    return _titles().get(module)
