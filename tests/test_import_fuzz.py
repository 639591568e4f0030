"""Bad input to the dump importer (issue 8, part 4): never a crash, never a partial write.

Hypothesis damages two real dumps (the sample exported by ``seed.exporter``, and LHC's own
``livehelperchat_install.sql`` when ``../shared/data`` holds it) by truncating them anywhere or
flipping random bytes, and imports the result over a database holding the sample
(``--replace``) and into an empty one. Every outcome must be either a successful import or a
``StoreError`` with a message, and a refused import must leave every table (audit and login
history included) exactly as it was. A third property imports random *valid* dumps: random LHC
configurations exported and imported into an empty database give back the same rows.

Each example works on an in-memory copy of a template database (SQLite's backup API), so an
example costs one import and no disk. ``LHC_PROPERTY_SCALE`` multiplies the example counts.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import SHARED_DATA
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from peewee import Database
from test_scope_properties import Rows, configurations

from seed.exporter import export_dump
from seed.importer import import_dump
from seed.report import Authority
from seed.sample import load_sample
from store import StoreError
from store.database import open_database
from store.dump import HISTORY_TABLE_NAMES, all_rows
from store.models import ALL_MODELS

SCALE = max(1, int(os.environ.get("LHC_PROPERTY_SCALE", "1")))
FLIP_EXAMPLES = 120 * SCALE
TRUNCATION_EXAMPLES = 80 * SCALE
VALID_EXAMPLES = 40 * SCALE
REAL_DUMP = SHARED_DATA / "livehelperchat_install.sql"
WORK = Path(tempfile.mkdtemp(prefix="lhc-fuzz-"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@functools.cache
def template(kind: str) -> sqlite3.Connection:
    """An in-memory database to copy into each example: ``empty`` or ``sample``."""
    db = open_database("sqlite:///:memory:")
    if kind == "sample":
        load_sample(db, by=Authority.LOCAL)
    return db.connection()


@functools.cache
def base_dumps() -> dict[str, bytes]:
    """The dumps to damage: the exported sample, and LHC's real dump when it is there."""
    with copy_of("sample"):
        path = WORK / "exported-sample.sql"
        export_dump(path)
    dumps = {"exported sample": path.read_bytes()}
    if REAL_DUMP.exists():
        dumps["LHC's dump"] = REAL_DUMP.read_bytes()
    return dumps


@contextmanager
def copy_of(kind: str) -> Iterator[Database]:
    """A fresh in-memory copy of a template database, bound to the models."""
    source = template(kind)
    db = open_database("sqlite:///:memory:", create_schema=False)
    source.backup(db.connection())
    try:
        yield db
    finally:
        db.close()


def import_damaged(data: bytes, *, over_sample: bool) -> None:
    """Import ``data``; it must succeed or refuse with a message and change nothing."""
    path = WORK / "damaged.sql"
    path.write_bytes(data)
    with copy_of("sample" if over_sample else "empty") as db:
        before = all_rows()
        try:
            import_dump(db, path, replace=over_sample, by=Authority.LOCAL)
        except StoreError as refused:
            event(f"refused: {type(refused).__name__}")
            assert str(refused).strip(), "a refusal without a message"
            assert all_rows() == before, f"refused import changed rows: {refused}"
        else:
            event("imported")
        # Anything but a StoreError propagates and fails the test: that is a crash.


DUMP_NAMES = st.sampled_from(
    ["exported sample", "LHC's dump"] if REAL_DUMP.exists() else ["exported sample"]
)


@fuzz_settings(TRUNCATION_EXAMPLES)
@given(name=DUMP_NAMES, cut=st.floats(0, 1), over_sample=st.booleans())
@example(name="exported sample", cut=0.5, over_sample=True)
@example(name="exported sample", cut=0.0, over_sample=False)
def test_a_truncated_dump_imports_whole_or_not_at_all(
    name: str, cut: float, over_sample: bool
) -> None:
    data = base_dumps()[name]
    import_damaged(data[: int(len(data) * cut)], over_sample=over_sample)


@fuzz_settings(FLIP_EXAMPLES)
@given(
    name=DUMP_NAMES,
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), min_size=1, max_size=8),
    over_sample=st.booleans(),
)
def test_a_dump_with_flipped_bytes_imports_whole_or_not_at_all(
    name: str, flips: list[tuple[float, int]], over_sample: bool
) -> None:
    data = bytearray(base_dumps()[name])
    for where, mask in flips:
        data[min(int(len(data) * where), len(data) - 1)] ^= mask
    import_damaged(bytes(data), over_sample=over_sample)


@fuzz_settings(FLIP_EXAMPLES // 2)
@given(
    name=DUMP_NAMES,
    where=st.floats(0, 1),
    junk=st.sampled_from(
        [b"'", b"\\", b"(", b")", b",", b";", b"NULL", b"99999999999999999999999", b"-", b"\xff"]
    ),
)
def test_a_dump_with_inserted_sql_tokens_imports_whole_or_not_at_all(
    name: str, where: float, junk: bytes
) -> None:
    """Flips rarely hit the tokens that matter; these insert one where it hurts most."""
    data = base_dumps()[name]
    at = int(len(data) * where)
    import_damaged(data[:at] + junk + data[at:], over_sample=True)


NUMBER = re.compile(rb"(?<=[(,])-?[0-9]+(?=[,)])")


@fuzz_settings(FLIP_EXAMPLES // 2)
@given(
    name=DUMP_NAMES,
    which=st.floats(0, 1),
    value=st.one_of(
        st.integers(-(2**70), 2**70),
        st.sampled_from([2**31, 2**32, 2**63, -(2**63) - 1, 256, -129]),
    ),
)
def test_a_dump_with_out_of_range_numbers_imports_whole_or_not_at_all(
    name: str, which: float, value: int
) -> None:
    """Replace one numeric value of a row with a random (often huge) integer: it is stored if
    LHC's column holds it and refused naming the column if not, never an overflow crash."""
    data = base_dumps()[name]
    numbers = list(NUMBER.finditer(data))
    hit = numbers[min(int(len(numbers) * which), len(numbers) - 1)]
    import_damaged(data[: hit.start()] + str(value).encode() + data[hit.end() :], over_sample=True)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "INSERT INTO `lh_role` (`id`, `name`) VALUES (99999999999999999999999, 'A');",
            "column id: 99999999999999999999999 is out of range for LHC's int column",
        ),
        (
            "INSERT INTO `lh_group` (`id`, `name`, `disabled`) VALUES (1, 'A', 300);",
            "column disabled: 300 is out of range for LHC's tinyint column (-128 to 255)",
        ),
        (
            "INSERT INTO `lh_users_login` (`id`, `user_id`, `type`, `ctime`) "
            "VALUES (1, 1, 0, 9223372036854775808);",
            "column ctime: 9223372036854775808 is out of range for LHC's bigint column",
        ),
        (
            "INSERT INTO `lh_group` (`id`, `name`, `disabled`) VALUES (1, 'A', 1e400);",
            "column disabled: inf is not a whole number",
        ),
    ],
)
def test_numbers_outside_lhcs_column_types_are_refused_naming_the_column(
    row: str, message: str
) -> None:
    """Regression: such numbers used to escape as SQLite's OverflowError (a traceback)."""
    path = WORK / "numbers.sql"
    path.write_text(row + "\n", encoding="utf-8")
    with copy_of("sample") as db:
        before = all_rows()
        with pytest.raises(StoreError) as refused:
            import_dump(db, path, replace=True, by=Authority.LOCAL)
        assert message in str(refused.value)
        assert all_rows() == before


def permission_rows() -> Rows:
    return {t: rows for t, rows in all_rows().items() if t not in HISTORY_TABLE_NAMES}


@fuzz_settings(VALID_EXAMPLES)
@given(rows=configurations())
def test_random_valid_dumps_import_to_the_same_rows(rows: Rows) -> None:
    """A random LHC configuration (flags, ``-1`` rows, rows pointing at missing groups,
    exclusions, parked rows of disabled users) survives export and import unchanged."""
    with copy_of("empty"):
        for model in ALL_MODELS:
            if rows.get(model._meta.table_name):
                model.insert_many(rows[model._meta.table_name]).execute()
        original = permission_rows()
        path = WORK / "valid.sql"
        export_dump(path)
    with copy_of("empty") as target:
        import_dump(target, path, by=Authority.LOCAL)
        assert permission_rows() == original


@pytest.mark.skipif(not REAL_DUMP.exists(), reason=f"LHC's dump is not at {REAL_DUMP}")
def test_the_undamaged_real_dump_imports() -> None:
    """The fuzzed base itself imports (otherwise every example would be a refusal)."""
    path = WORK / "real.sql"
    path.write_bytes(base_dumps()["LHC's dump"])
    with copy_of("empty") as db:
        report = import_dump(db, path, by=Authority.LOCAL)
        assert report.counts["lh_users"] == 5
