"""Every read is bounded (issue 17, point 3): dumps and apply files.

A dump's skipped statement is scanned through, never held: a 1 GB ``INSERT INTO lh_chat`` in a
few-MB ``.sql.gz`` is imported in a subprocess whose peak RSS stays under ``PEAK_RSS_MB`` and
does not grow with the statement. What a kept table holds is refused above the stated limits
(``seed.sqldump.MAX_ROW_CHARS``, ``MAX_STATEMENT_CHARS``) with its line, and nothing changes.
An apply file is read at most ``tui.scripting.apply.MAX_FILE_BYTES``. (Password lines are
bounded too: ``tests/test_password_sources.py``.)
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from peewee import Database

from seed.importer import DumpImportError, import_dump
from seed.report import Authority
from seed.sqldump import MAX_ROW_CHARS, MAX_STATEMENT_CHARS, InsertRow, read_dump
from store import StoreError, ValidationError
from store.dump import all_rows
from tui.scripting.apply import MAX_FILE_BYTES, load

PROJECT = Path(__file__).resolve().parents[1]

PEAK_RSS_MB = 100
"""The import process's peak for a dump with a 1 GB skipped statement (it was 2.6 GB; the
process itself, Python with Peewee and the store loaded, takes about 35 MB)."""
FLAT_MB = 8
"""How much more a 16 times longer skipped statement may take: nothing that grows with it."""

# One line of an lh_chat message as mysqldump writes it: escaped quotes, a doubled quote, an
# escaped backslash, and text that would end the statement or open a comment outside a string.
CHAT_TEXT = r"chat text; it\'s ''quoted'' -- not a comment /* nor */ \\ (1,\'x\');\n"


def write_chat_dump(path: Path, megabytes: int) -> None:
    """A ``.sql.gz``: two lh_group rows around one ``INSERT INTO lh_chat`` of ``megabytes`` MiB
    (a single string value), written streaming so the test itself stays small."""
    block = (CHAT_TEXT * 1024).encode()
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
        out.write(
            b"CREATE TABLE `lh_group` (`id` int, `name` varchar(50));\n"
            b"INSERT INTO `lh_group` (`id`, `name`) VALUES (1,'Before');\n"
            b"INSERT INTO `lh_chat` (`id`, `msg`) VALUES (1,'"
        )
        for _ in range((megabytes << 20) // len(block)):
            out.write(block)
        out.write(b"');\nINSERT INTO `lh_group` (`id`, `name`) VALUES (2,'After');\n")


PEAK_OF_IMPORT = """
import sys
from tui.command_line.main import main
code = main(["import", sys.argv[1], "--db", sys.argv[2]])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
with open(sys.argv[3], "w") as out:
    out.write(peak)
sys.exit(code)
"""


def import_in_child(dump: Path, database: Path) -> tuple[int, float, str]:
    """``lhc-console import DUMP`` in a subprocess: exit code, peak RSS in MB, stderr.

    The peak is the child's own ``VmHWM``, read by itself after the import: ``ru_maxrss``
    would also count the moment between fork and exec, when the child still maps the test
    runner's memory (over 100 MB late in a full run).
    """
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    errors = database.with_suffix(".stderr")
    peak = database.with_suffix(".peak")
    with open(os.devnull, "w") as quiet, open(errors, "w") as stderr:
        done = subprocess.run(
            [sys.executable, "-c", PEAK_OF_IMPORT, str(dump), f"sqlite:///{database}", str(peak)],
            stdout=quiet,
            stderr=stderr,
            cwd=PROJECT,
            env=env,
            check=False,
        )
    return done.returncode, int(peak.read_text()) / 1024, errors.read_text()


def groups_in(database: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT id, name FROM lh_group ORDER BY id").fetchall()


def test_a_1_gb_skipped_statement_is_streamed_with_flat_memory(tmp_path: Path) -> None:
    peaks = {}
    for megabytes in (64, 1024):
        dump = tmp_path / f"chat{megabytes}.sql.gz"
        write_chat_dump(dump, megabytes)
        assert dump.stat().st_size < megabytes << 13  # under 1/128 of it compressed
        database = tmp_path / f"imported{megabytes}.sqlite"
        started = time.monotonic()
        code, peaks[megabytes], stderr = import_in_child(dump, database)
        elapsed = time.monotonic() - started
        assert code == 0, stderr
        assert groups_in(database) == [(1, "Before"), (2, "After")]  # kept rows, in sync after
        dump.unlink()
        assert elapsed < 120
    assert peaks[1024] < PEAK_RSS_MB, f"peak RSS {peaks[1024]:.0f} MB for a 1 GB statement"
    assert peaks[1024] - peaks[64] < FLAT_MB, f"peaks grow with the statement: {peaks}"


def test_skipped_strings_comments_and_definitions_of_any_length_keep_the_window_small() -> None:
    """What a kept table may not hold, a skipped one may have: nothing of it is kept."""
    big = "x" * (3 * MAX_ROW_CHARS)
    text = (
        f"CREATE TABLE lh_chat (id int, msg text DEFAULT '{big}');\n"
        f"/* {big} */\n# {big}\n"
        f"INSERT INTO lh_chat VALUES (1, '{big}', \"{big}\", `{big}`, /* {big} */ 2);\n"
        "INSERT INTO t VALUES (1);\n"
    )
    pieces = (text[i : i + 4096] for i in range(0, len(text), 4096))
    tracemalloc.start()
    try:
        events = list(read_dump(pieces, tables={"t"}))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MAX_ROW_CHARS / 2, f"peak {peak} bytes for 3 MiB strings and comments"
    assert events == [InsertRow("t", None, (1,), 5)]


def dump_file(path: Path, *parts: str) -> Path:
    path.write_text("".join(parts), encoding="utf-8")
    return path


def refused(db: Database, dump: Path) -> str:
    """Import ``dump`` over the sample (replace): refused, and nothing changed."""
    before = all_rows()
    with pytest.raises(DumpImportError) as error:
        import_dump(db, dump, replace=True, by=Authority.LOCAL)
    assert all_rows() == before
    assert str(error.value).endswith("; nothing was imported")
    return str(error.value)


def test_a_kept_row_over_the_limit_is_refused_with_its_line(
    sample_db: Database, tmp_path: Path
) -> None:
    dump = dump_file(
        tmp_path / "big-row.sql",
        "INSERT INTO `lh_group` (`id`, `name`) VALUES (1,'Operators');\n\n",
        "INSERT INTO `lh_group` (`id`, `name`, `note`) VALUES\n(2,'Big','",
        "y" * MAX_ROW_CHARS,
        "');\n",
    )
    message = refused(sample_db, dump)
    assert message.startswith("big-row.sql: line 4: a row of lh_group is longer than 1 MiB")


def test_a_kept_definition_over_the_limit_is_refused_with_its_line(
    sample_db: Database, tmp_path: Path
) -> None:
    dump = dump_file(
        tmp_path / "big-create.sql",
        "SET NAMES utf8mb4;\n",
        "CREATE TABLE `lh_group` (`id` int, /* ",
        "z" * MAX_ROW_CHARS,
        " */ `name` varchar(50));\n",
    )
    message = refused(sample_db, dump)
    assert message.startswith("big-create.sql: line 2: CREATE TABLE lh_group is longer than 1 MiB")


def test_a_kept_statement_over_the_limit_is_refused_with_its_line(
    sample_db: Database, tmp_path: Path
) -> None:
    """Rows under the row limit (in a column the console ignores) adding up past 64 MiB."""
    dump = tmp_path / "big-statement.sql.gz"
    value = "v" * (MAX_ROW_CHARS - 100)
    rows = MAX_STATEMENT_CHARS // len(value) + 2
    with gzip.open(dump, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write("SET NAMES utf8mb4;\n\nINSERT INTO `lh_group` (`id`, `name`, `note`) VALUES\n")
        out.write(",\n".join(f"({n},'Group {n}','{value}')" for n in range(1, rows + 1)))
        out.write(";\n")
    message = refused(sample_db, dump)
    assert message.startswith(
        "big-statement.sql.gz: line 3: the INSERT into lh_group is longer than 64 MiB"
    )


# -- apply files --------------------------------------------------------------------------


def test_an_apply_file_over_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    head = b'[[users]]\nusername = "new.operator"\ngenerate_password = true\n'
    plan.write_bytes(head + b"#" * (MAX_FILE_BYTES - len(head)))  # exactly the limit: read
    assert [e.username for e in load(str(plan)).entries] == ["new.operator"]
    plan.write_bytes(head + b"#" * (MAX_FILE_BYTES - len(head) + 1))
    with pytest.raises(ValidationError, match=r"larger than 4 MiB .* refused before parsing"):
        load(str(plan))


def test_dev_zero_as_an_apply_file_is_refused_at_once() -> None:
    """A device is not a file of users: refused unread (``tests/test_input_files.py``)."""
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"/dev/zero.*not a regular file \(a character device\)"):
        load("/dev/zero")
    assert time.monotonic() - started < 5
