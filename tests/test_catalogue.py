"""The catalogue of LHC modules and functions: complete, in our words, and its API."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from store.catalogue import (
    ADMINISTRATION,
    CatalogueEntry,
    catalogue,
    describe,
    functions_of,
    module_title,
    modules,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
FUNCTIONS_TSV = SHARED / "data" / "lhc_functions.tsv"
SAMPLE_DOCUMENT = SHARED / "advanced-permissions.txt"

# "Chat (lhchat) Allow operator to ... (allowopenremotechat) {"group":[2]}"
POLICY_LINE = re.compile(
    r"^(?P<title>.+?) \((?P<module>lh\w+)\) .*\((?P<function>\w+|\*)\)(?: \{.*\})?\s*$"
)


def _reference_rows() -> list[dict[str, str]]:
    if not FUNCTIONS_TSV.exists():
        pytest.skip(f"LHC's function list is not at {FUNCTIONS_TSV}")
    with FUNCTIONS_TSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _known() -> set[tuple[str, str]]:
    return {(e.module, e.function) for e in catalogue()}


def test_every_function_of_lhcs_list_is_in_the_catalogue_with_its_module_title() -> None:
    rows = _reference_rows()
    assert len(rows) == 322
    by_key = {(e.module, e.function): e for e in catalogue()}
    for row in rows:
        entry = by_key.get((row["module"], row["function"]))
        assert entry is not None, f"{row['module']}/{row['function']} missing"
        assert entry.module_title == row["module_name"]


def test_every_module_and_function_the_sample_document_names_is_catalogued() -> None:
    if not SAMPLE_DOCUMENT.exists():
        pytest.skip(f"The sample's source document is not at {SAMPLE_DOCUMENT}")
    named: set[tuple[str, str]] = set()
    for line in SAMPLE_DOCUMENT.read_text(encoding="utf-8").splitlines():
        match = POLICY_LINE.match(line.strip())
        if match:
            named.add((match["module"], match["function"]))
    assert len(named) > 80  # the parser found the role listings (88 distinct keys)
    catalogued_modules = {m.module for m in modules()}
    for module, function in sorted(named):
        assert module in catalogued_modules, f"module {module} missing"
        if function != "*":
            assert (module, function) in _known(), f"{module}/{function} missing"
        assert describe(module, function), f"{module}/{function} has no description"


@pytest.mark.parametrize("module", ["lhuser", "lhdepartment", "lhpermission", "lhchat"])
def test_all_functions_of_the_modules_the_console_reasons_about_are_listed(module: str) -> None:
    expected = {r["function"] for r in _reference_rows() if r["module"] == module}
    assert {e.function for e in functions_of(module)} == expected


def test_every_entry_has_a_short_description_of_its_own() -> None:
    entries = catalogue()
    assert all(e.description.strip() for e in entries)
    assert all(len(e.description) <= 78 for e in entries)  # one line of the detail pane
    assert all("\t" not in e.description for e in entries)
    # Our own words: no description is LHC's "Allow operator to ..." phrasing.
    assert not [e for e in entries if e.description.lower().startswith("allow")]


def test_the_catalogue_is_unique_and_cached() -> None:
    entries = catalogue()
    keys = [(e.module, e.function) for e in entries]
    assert len(keys) == len(set(keys))
    assert catalogue() is entries
    assert isinstance(entries[0], CatalogueEntry)


def test_modules_are_sorted_with_their_titles() -> None:
    found = modules()
    names = [m.module for m in found]
    assert names == sorted(names)
    assert module_title("lhchat") == "Chat"
    assert module_title("lhnothing") is None


def test_functions_of_a_module_are_sorted_and_unknown_modules_have_none() -> None:
    functions = [e.function for e in functions_of("lhpermission")]
    assert functions == sorted(functions)
    assert "see_permissions_users" in functions
    assert functions_of("lhnothing") == ()


def test_describe_knows_functions_and_wildcards_and_says_none_for_the_unknown() -> None:
    assert describe("lhchat", "allowopenremotechat")
    assert describe("*", "*") == ADMINISTRATION
    assert "Chat" in (describe("lhchat", "*") or "")
    assert describe("lhnothing", "use") is None
    assert describe("lhchat", "no_such_function") is None
    assert describe("lhnothing", "*") is None


def test_a_module_without_functions_of_its_own_is_listed_but_offers_none() -> None:
    """The sample grants lhxml/*: LHC's XML service defines no functions."""
    assert "lhxml" in {m.module for m in modules()}
    assert functions_of("lhxml") == ()
    assert describe("lhxml", "*")


def test_the_catalogue_file_ships_with_the_store_package() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'store = ["*.tsv"]' in pyproject
