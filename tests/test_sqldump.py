"""The streaming SQL dump reader: the real LHC sample, every dump syntax, errors and memory."""

from __future__ import annotations

import gzip
import io
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seed import sqldump
from seed.sqldump import (
    Column,
    CreateTable,
    DumpSyntaxError,
    InsertRow,
    open_dump,
    read_dump,
)

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "livehelperchat_install.sql"

needs_sample = pytest.mark.skipif(
    not SAMPLE.exists(), reason=f"the LHC sample dump is not available at {SAMPLE}"
)


def parse(text: str, **kwargs: object) -> list[CreateTable | InsertRow]:
    return list(read_dump(io.StringIO(text), **kwargs))  # type: ignore[arg-type]


def rows(text: str, table: str | None = None) -> list[tuple[object, ...]]:
    return [
        e.values
        for e in parse(text)
        if isinstance(e, InsertRow) and (table is None or e.table == table)
    ]


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle``."""
    return text.count("\n", 0, text.index(needle)) + 1


def error(text: str) -> DumpSyntaxError:
    with pytest.raises(DumpSyntaxError) as info:
        parse(text)
    return info.value


# --------------------------------------------------------------------------------------------
# The real sample dump (Adminer 4.8.1, MariaDB 10.3)


@pytest.fixture(scope="module")
def sample_text() -> str:
    if not SAMPLE.exists():
        pytest.skip(f"the LHC sample dump is not available at {SAMPLE}")
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample_events(sample_text: str) -> list[CreateTable | InsertRow]:
    with open_dump(SAMPLE) as stream:
        return list(read_dump(stream))


def table_rows(events: list[CreateTable | InsertRow], table: str) -> list[InsertRow]:
    return [e for e in events if isinstance(e, InsertRow) and e.table == table]


def create(events: list[CreateTable | InsertRow], table: str) -> CreateTable:
    (event,) = [e for e in events if isinstance(e, CreateTable) and e.table == table]
    return event


@needs_sample
def test_sample_lh_users_table_definition(sample_events: list[CreateTable | InsertRow]) -> None:
    users = create(sample_events, "lh_users")
    assert users.line == 2553
    assert len(users.columns) == 34
    by_name = {c.name: c for c in users.columns}
    assert list(by_name)[:3] == ["id", "username", "password"]
    assert users.columns[-1].name == "always_on"
    assert by_name["id"] == Column("id", "int(11)", False, None, True)
    assert by_name["username"] == Column("username", "varchar(80)", False, None, False)
    assert by_name["departments_ids"].type == "text"
    assert by_name["disabled"].type == "tinyint(4)"
    assert by_name["cache_version"] == Column(
        "cache_version", "int(11) unsigned", False, "0", False
    )
    assert by_name["force_logout"].type == "tinyint(1) unsigned"
    assert by_name["llogin"] == Column("llogin", "bigint(20) unsigned", False, "0", False)
    assert not any(c.nullable for c in users.columns)
    assert [c.name for c in users.columns if c.auto_increment] == ["id"]


@needs_sample
def test_sample_defaults_nullability_and_all_tables(
    sample_events: list[CreateTable | InsertRow],
) -> None:
    tables = [e for e in sample_events if isinstance(e, CreateTable)]
    assert len(tables) == 115
    theme = {c.name: c for c in create(sample_events, "lh_abstract_widget_theme").columns}
    assert theme["bor_bcolor"].default == "e3e3e3"
    audits = {c.name: c for c in create(sample_events, "lh_audits").columns}
    assert audits["time"].type == "timestamp"
    assert audits["time"].default == "current_timestamp()"
    assert audits["line"] == Column("line", "bigint(20)", True, None, False)
    chat = {c.name: c for c in create(sample_events, "lh_speech_language").columns}
    assert chat["siteaccess"].default == ""  # DEFAULT '' is an empty string, not "no default"


@needs_sample
def test_sample_rolefunction_rows_and_json_escapes(
    sample_events: list[CreateTable | InsertRow],
) -> None:
    functions = table_rows(sample_events, "lh_rolefunction")
    assert len(functions) == 131
    assert functions[0].columns == ("id", "role_id", "module", "function", "limitation")
    assert functions[0].values == (1, 1, "*", "*", "")
    (row,) = [r for r in functions if r.values[0] == 118]
    assert row.values == (118, 5, "lhdepartment", "see_all", '{"group":[1]}')
    assert row.line == 2201


@needs_sample
def test_sample_users_groups_and_multiline_strings(
    sample_events: list[CreateTable | InsertRow],
) -> None:
    users = table_rows(sample_events, "lh_users")
    admin = dict(zip(users[0].columns or (), users[0].values, strict=True))
    assert admin["id"] == 1
    assert admin["username"] == "admin"
    assert str(admin["password"]).startswith("$2y$10$")
    assert admin["llogin"] == 1673424978
    groups = table_rows(sample_events, "lh_group")
    assert len(groups) == 10
    assert groups[0].values == (1, "Administrators", 0, 0)
    assert groups[-1].values == (10, "US Managers", 0, 0)
    template = table_rows(sample_events, "lh_abstract_email_template")[0]
    assert str(template.values[8]).startswith("Dear {user_chat_nick},\r\n\r\n{additional_message}")


@needs_sample
def test_sample_events_come_in_file_order_with_row_lines(
    sample_events: list[CreateTable | InsertRow], sample_text: str
) -> None:
    lines = sample_text.split("\n")
    assert [e.line for e in sample_events] == sorted(e.line for e in sample_events)
    inserted = [e for e in sample_events if isinstance(e, InsertRow)]
    assert len(inserted) == 845
    for row in inserted:  # Adminer puts every tuple on its own line
        first = row.values[0]
        expected = f"({first}," if isinstance(first, int) else f"('{first}',"
        assert lines[row.line - 1].startswith(expected)
    created = {e.table for e in sample_events if isinstance(e, CreateTable)}
    assert {r.table for r in inserted} <= created


@needs_sample
def test_sample_filtering_by_tables(sample_events: list[CreateTable | InsertRow]) -> None:
    wanted = {"lh_group", "lh_users", "lh_rolefunction"}
    with open_dump(SAMPLE) as stream:
        filtered = list(read_dump(stream, tables=wanted))
    assert filtered == [e for e in sample_events if e.table in wanted]
    assert {e.table for e in filtered} == wanted
    with open_dump(SAMPLE) as stream:
        assert list(read_dump(stream, tables=())) == []


@needs_sample
@pytest.mark.parametrize("chunk", [13, 256, 4099])
def test_sample_is_independent_of_read_sizes(
    sample_events: list[CreateTable | InsertRow],
    sample_text: str,
    chunk: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tokens straddling the window's end (strings, numbers, comments) are read whole."""
    monkeypatch.setattr(sqldump, "_CHUNK", chunk)
    assert list(read_dump(io.StringIO(sample_text))) == sample_events
    pieces = [sample_text[i : i + chunk] for i in range(0, len(sample_text), chunk)]
    assert list(read_dump(iter(pieces))) == sample_events


@needs_sample
def test_sample_through_gzip_and_as_lines(
    sample_events: list[CreateTable | InsertRow], sample_text: str, tmp_path: Path
) -> None:
    packed = tmp_path / "dump.sql.gz"
    with gzip.open(packed, "wt", encoding="utf-8", newline="") as out:
        out.write(sample_text)
    with open_dump(packed) as stream:
        assert list(read_dump(stream)) == sample_events
    assert list(read_dump(sample_text.splitlines(keepends=True))) == sample_events


def statement_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each INSERT of the sample; end is the index of its final ';'."""
    return [(m.start(), m.end() - 1) for m in re.finditer(r"^INSERT INTO [\s\S]*?\);$", text, re.M)]


@needs_sample
def test_truncated_sample_fails_cleanly_at_every_cut(
    sample_events: list[CreateTable | InsertRow], sample_text: str
) -> None:
    spans = statement_spans(sample_text)
    assert len(spans) == 21
    inside_insert = 0
    for cut in range(1, len(sample_text), 997):
        events: list[CreateTable | InsertRow] = []
        raised = False
        try:
            events.extend(read_dump(io.StringIO(sample_text[:cut])))
        except DumpSyntaxError as exc:
            raised = True
            assert 1 <= exc.line <= sample_text.count("\n", 0, cut) + 1
            assert str(exc).startswith(f"line {exc.line}: ")
        # Whatever was yielded before the end is exactly the start of the full parse.
        assert events == sample_events[: len(events)]
        if any(start < cut <= end for start, end in spans):
            inside_insert += 1
            assert raised, f"a cut at {cut}, inside an INSERT, parsed without error"
    assert inside_insert > 20


@needs_sample
def test_truncation_names_the_line_where_the_construct_started(sample_text: str) -> None:
    start = sample_text.index("(1,\t'Send mail to user'")
    string_start = sample_text.index("'Dear {user_chat_nick}", start)
    line = sample_text.count("\n", 0, start) + 1
    # Cut inside a string: the string's line.
    exc = error(sample_text[: string_start + 30])
    assert (exc.line, "unterminated string" in str(exc)) == (line, True)
    # Cut between values: the row's line. Between rows: the INSERT's line.
    exc = error(sample_text[: string_start - 1])
    assert exc.line == line
    assert "unterminated row" in str(exc)
    end_of_row = sample_text.index("\n", start)
    exc = error(sample_text[:end_of_row])
    assert exc.line == line - 1
    assert "unterminated INSERT" in str(exc)


# --------------------------------------------------------------------------------------------
# Hand-written dumps: mysqldump style and every literal form

MYSQLDUMP = """\
-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Host: localhost    Database: lhc
-- ------------------------------------------------------
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;

--
-- Table structure for table `lh_group`
--

DROP TABLE IF EXISTS `lh_group`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!50503 SET character_set_client = utf8mb4 */;
CREATE TABLE `lh_group` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(50) COLLATE utf8mb4_unicode_ci NOT NULL,
  `disabled` int NOT NULL DEFAULT '0',
  `required` tinyint(1) NOT NULL DEFAULT '0' COMMENT 'NOT NULL, DEFAULT 5',
  `note` enum('A','b c') CHARACTER SET utf8mb4 DEFAULT NULL,
  `created` datetime(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  `flags` bit(3) DEFAULT b'101',
  `price` decimal(10,2) unsigned zerofill DEFAULT -1.50,
  PRIMARY KEY (`id`),
  KEY `disabled` (`disabled`),
  CONSTRAINT `c` CHECK ((`disabled` in (0,1)))
) ENGINE=InnoDB AUTO_INCREMENT=11 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `lh_group`
--

LOCK TABLES `lh_group` WRITE;
/*!40000 ALTER TABLE `lh_group` DISABLE KEYS */;
INSERT INTO `lh_group` VALUES (1,'Administrators',0,0,NULL,\
'2023-01-11 11:05:36.000000',b'101',-1.50),(2,'It\\'s; (a) \\"test\\"',1,-1,'A',NULL,b'0',12.00);
/*!40000 ALTER TABLE `lh_group` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_sql_mode = @@sql_mode */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `t` BEFORE INSERT ON \
`lh_group` FOR EACH ROW BEGIN SET NEW.name = 'x;y'; END */;;
INSERT INTO `lh_group` (`id`) VALUES (5),(-6);;
CREATE PROCEDURE `p`() BEGIN DECLARE x INT; INSERT INTO `lh_group` (`id`) VALUES (99); END;;
DELIMITER ;
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
SET @a = 1 -- don't; stop
;
INSERT INTO `lh_group` (`id`) VALUES (7);
SET @b = 2 # it's; here
;
INSERT INTO `lh_group` (`id`) VALUES (8);
SET @c = -3 /* 'a;b */, @d = 4/2;
-- comment
INSERT INTO `lh_group` (`id`) VALUES (9);
# a hash comment; with a semicolon
/* a block comment; INSERT INTO `lh_group` VALUES (99,'no') */
INSERT IGNORE INTO `lh_group` VALUES (3,'three',0,0,NULL,NULL,NULL,0);
REPLACE INTO `lh_group` (`id`, `name`) VALUES (4,'four');
INSERT INTO `lh_group` (`id`, `name`, `price`) VALUES (10,_binary 'ten',-1.5e3),(0x3131,X'41',TRUE);
-- Dump completed on 2024-05-01 10:00:00
"""


def test_mysqldump_style_dump() -> None:
    events = parse(MYSQLDUMP)
    (table,) = [e for e in events if isinstance(e, CreateTable)]
    assert table.table == "lh_group"
    assert table.line == line_of(MYSQLDUMP, "CREATE TABLE `lh_group`")
    assert [c.name for c in table.columns] == [
        "id",
        "name",
        "disabled",
        "required",
        "note",
        "created",
        "flags",
        "price",
    ]
    columns = {c.name: c for c in table.columns}
    assert columns["id"] == Column("id", "int", False, None, True)
    assert columns["disabled"] == Column("disabled", "int", False, "0", False)
    assert columns["required"] == Column("required", "tinyint(1)", False, "0", False)
    assert columns["note"] == Column("note", "enum('A','b c')", True, None, False)
    assert columns["created"].default == "CURRENT_TIMESTAMP(6)"
    assert columns["created"].type == "datetime(6)"
    assert columns["flags"].default == "b'101'"
    assert columns["price"] == Column(
        "price", "decimal(10,2) unsigned zerofill", True, "-1.50", False
    )
    inserted = [e for e in events if isinstance(e, InsertRow)]
    one_line = line_of(MYSQLDUMP, "INSERT INTO `lh_group` VALUES (1,")
    assert [(r.table, r.columns, r.line) for r in inserted] == [
        ("lh_group", None, one_line),
        ("lh_group", None, one_line),
        ("lh_group", ("id",), line_of(MYSQLDUMP, "INSERT INTO `lh_group` (`id`)")),
        ("lh_group", ("id",), line_of(MYSQLDUMP, "INSERT INTO `lh_group` (`id`)")),
        ("lh_group", ("id",), line_of(MYSQLDUMP, "VALUES (7)")),
        ("lh_group", ("id",), line_of(MYSQLDUMP, "VALUES (8)")),
        ("lh_group", ("id",), line_of(MYSQLDUMP, "VALUES (9)")),
        ("lh_group", None, line_of(MYSQLDUMP, "INSERT IGNORE")),
        ("lh_group", ("id", "name"), line_of(MYSQLDUMP, "REPLACE INTO")),
        ("lh_group", ("id", "name", "price"), line_of(MYSQLDUMP, "VALUES (10,")),
        ("lh_group", ("id", "name", "price"), line_of(MYSQLDUMP, "VALUES (10,")),
    ]
    assert [r.values for r in inserted] == [
        (1, "Administrators", 0, 0, None, "2023-01-11 11:05:36.000000", 5, -1.5),
        (2, 'It\'s; (a) "test"', 1, -1, "A", None, 0, 12.0),
        (5,),
        (-6,),
        (7,),
        (8,),
        (9,),
        (3, "three", 0, 0, None, None, None, 0),
        (4, "four"),
        (10, "ten", -1500.0),
        ("11", "A", 1),
    ]


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r"'a\0b'", "a\0b"),
        (r"'a\'b'", "a'b"),
        (r"'a\"b'", 'a"b'),
        (r"'a\bb'", "a\bb"),
        (r"'a\nb'", "a\nb"),
        (r"'a\rb'", "a\rb"),
        (r"'a\tb'", "a\tb"),
        (r"'a\Zb'", "a\x1ab"),
        (r"'a\\b'", "a\\b"),
        (r"'a\%b'", "a\\%b"),  # MySQL keeps the backslash of \% and \_ outside LIKE
        (r"'a\_b'", "a\\_b"),
        (r"'a\qb'", "aqb"),  # other escaped characters stand for themselves
        ("'it''s'", "it's"),
        ("''''", "'"),
        ("''", ""),
        (r"'\\'", "\\"),
        (r"'\\\''", "\\'"),
        ('"double ""quoted"" \\" "', 'double "quoted" " '),
        ("'semi;colon, (paren) ),('", "semi;colon, (paren) ),("),
        ("'multi\nline\r\n'", "multi\nline\r\n"),
        ("'tab\there'", "tab\there"),
        ("'ünïcödé ✓ 😀'", "ünïcödé ✓ 😀"),
        ("'-- not a comment # nor /* this */'", "-- not a comment # nor /* this */"),
        ("N'national'", "national"),
        ("_utf8mb4'intro'", "intro"),
        ("_binary 'bin\\0'", "bin\0"),
        ('_latin1"dq"', "dq"),
        ("NULL", None),
        ("null", None),
        ("TRUE", 1),
        ("false", 0),
        ("0", 0),
        ("-1", -1),
        ("+7", 7),
        ("18446744073709551615", 18446744073709551615),
        ("1.5", 1.5),
        ("-2.25", -2.25),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("-1.5E-3", -0.0015),
        ("0x414243", "ABC"),
        ("0xC3A9", "é"),
        ("0xFF", "\ufffd"),
        ("0x7", "\x07"),  # an odd digit count is padded on the left, as MySQL does
        ("0x414", "\x04\x14"),
        ("X'41'", "A"),
        ("x''", ""),
        ("_binary 0x4142", "AB"),
        ("b'101'", 5),
        ("0b11", 3),
    ],
)
def test_literals(literal: str, value: object) -> None:
    assert rows(f"INSERT INTO t VALUES ({literal}, 1);\n") == [(value, 1)]
    assert rows(f"INSERT INTO t VALUES\n( {literal} ,\t1 ) ;") == [(value, 1)]


def test_every_window_boundary_gives_the_same_events() -> None:
    """A token cut by the end of the window (a comment's first '-', half a ';;') is read whole.

    With one-character reads the first window is exactly the first piece, so each split
    position of the mysqldump sample puts a window boundary at that exact place.
    """
    expected = parse(MYSQLDUMP)
    with mock.patch.object(sqldump, "_CHUNK", 1):
        for split in range(1, len(MYSQLDUMP)):
            pieces = [MYSQLDUMP[:split], MYSQLDUMP[split:]]
            assert list(read_dump(pieces)) == expected, f"split at {split}"
        assert parse(MYSQLDUMP) == expected  # a boundary after every character


@pytest.mark.parametrize("chunk", [2, 3, 5, 8, 13, 21])
def test_small_reads_give_the_same_events(chunk: int) -> None:
    expected = parse(MYSQLDUMP)
    with mock.patch.object(sqldump, "_CHUNK", chunk):
        assert parse(MYSQLDUMP) == expected
        pieces = (MYSQLDUMP[i : i + chunk] for i in range(0, len(MYSQLDUMP), chunk))
        assert list(read_dump(pieces)) == expected


def test_statement_forms_and_identifiers() -> None:
    text = (
        "INSERT INTO `we``ird` (`a``b`, c) VALUES (1, 2);\n"
        "insert low_priority ignore into `db`.`t2` values (3),(4);\n"
        "INSERT INTO t3 VALUE (5);\n"
        "INSERT INTO t4 VALUES (6, 'x') ON DUPLICATE KEY UPDATE b = 'y;z', c = VALUES(c);\n"
        "INSERT INTO t5 () VALUES ();\n"
        "REPLACE DELAYED t6 VALUES (7) ;\n"
        'INSERT INTO "t7" ("a") VALUES (8);\n'
        "INSERT /* why */ INTO t8 VALUES ( /* c */ 9 /* d */, -- e\n 10 );\n"
        "CREATE TABLE IF NOT EXISTS `db`.`x``y` (`c``d` varchar(3) DEFAULT 'a''b');\n"
        "create temporary table t9 like t8;\n"
        "CREATE OR REPLACE TABLE t10 AS SELECT 1;\n"
        "CREATE TABLE pk1 (a int PRIMARY KEY, period int, b int UNIQUE KEY, c int KEY);\n"
        "CREATE TABLE pk2 (`a` int, `b` varchar(9), c int,\n"
        "  CONSTRAINT `pk` PRIMARY KEY (`a`, `b`(3)), KEY (c));\n"
    )
    events = parse(text)
    summary = [
        (e.table, e.columns, e.values) if isinstance(e, InsertRow) else (e.table, e.columns)
        for e in events
    ]
    assert summary == [
        ("we`ird", ("a`b", "c"), (1, 2)),
        ("t2", None, (3,)),
        ("t2", None, (4,)),
        ("t3", None, (5,)),
        ("t4", None, (6, "x")),
        ("t5", (), ()),
        ("t6", None, (7,)),
        ("t7", ("a",), (8,)),
        ("t8", None, (9, 10)),
        ("x`y", (Column("c`d", "varchar(3)", True, "a'b", False),)),
        ("t9", ()),
        ("t10", ()),
        (
            "pk1",
            (
                Column("a", "int", False, None, False),
                Column("period", "int", True, None, False),
                Column("b", "int", True, None, False),
                Column("c", "int", False, None, False),
            ),
        ),
        (
            "pk2",
            (
                Column("a", "int", False, None, False),
                Column("b", "varchar(9)", False, None, False),
                Column("c", "int", True, None, False),
            ),
        ),
    ]
    assert [e.line for e in events] == [1, 2, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14]


def test_other_statements_are_skipped_even_when_tricky() -> None:
    text = (
        "SET NAMES utf8;\n"
        "SET @a = 1 -- don't; stop\n, @b = 2 # it's; here\n, @c = 3 /* 'a;b */;\n"
        "SET @x = 'it''s; INSERT INTO t VALUES (666);', @y = \"a\\\";b\";\n"
        "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `lhc` /*!40100 DEFAULT CHARACTER SET utf8 */;\n"
        "USE `lhc`;\n"
        "ALTER TABLE `a;b` ADD COLUMN `c` int DEFAULT -1;\n"
        "/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50001 VIEW `v` AS select 'x;' AS `y` */;\n"
        "DELIMITER $$\n"
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT '$$'; SELECT @a$b; END$$\n"
        "DELIMITER ;\n"
        "DELIMITER //\n"
        "CREATE FUNCTION f() RETURNS int RETURN 1 / 2; //\n"
        "delimiter ;\n"
        ";;\n"
        "INSERT INTO t VALUES (1);\n"
    )
    expected = [("t", (1,), line_of(text, "INSERT INTO t VALUES (1);"))]
    assert [(e.table, e.values, e.line) for e in parse(text)] == expected  # type: ignore[union-attr]


def test_filtered_tables_are_skipped_without_losing_sync() -> None:
    text = (
        "CREATE TABLE skip_me (a text);\n"
        "INSERT INTO skip_me VALUES ('); INSERT INTO keep VALUES (666);'),\n"
        "('\\'; INSERT INTO keep VALUES (667);'), (\"\\\";\"), (-1, 0x3B);\n"
        "INSERT INTO skip_me VALUES ('garbage is not checked in skipped tables', nonsense);\n"
        "CREATE TABLE keep (a int);\n"
        "INSERT INTO keep VALUES (1), (2);\n"
    )
    text = "CREATE TABLE skip_ddl (`a`);\n" + text  # not understood, but not asked for
    events = parse(text, tables={"keep"})
    assert [type(e).__name__ for e in events] == ["CreateTable", "InsertRow", "InsertRow"]
    assert [e.values for e in events if isinstance(e, InsertRow)] == [(1,), (2,)]
    assert len(parse(text.replace("nonsense", "NULL"), tables={"skip_me"})) == 6
    with pytest.raises(DumpSyntaxError, match="line 1: expected a type for column a"):
        parse(text, tables={"skip_ddl"})


def test_line_numbers_count_crlf_and_bom() -> None:
    text = "\ufeff-- dump\r\nSET a=1;\r\nINSERT INTO t VALUES\r\n(1,'a\r\nb'),\r\n(2,'c');\r\n"
    assert [(e.values, e.line) for e in parse(text)] == [  # type: ignore[union-attr]
        ((1, "a\r\nb"), 4),
        ((2, "c"), 6),
    ]
    assert rows("\ufeffINSERT INTO t VALUES (1);") == [(1,)]  # a BOM is not part of a keyword


def test_read_dump_streams_its_input() -> None:
    """The first row arrives long before the input is used up, one row at a time."""
    consumed = 0

    def pieces() -> Iterator[str]:
        nonlocal consumed
        yield "INSERT INTO t VALUES\n"
        for number in range(100_000):
            consumed += 1
            yield f"({number}, 'row {number}'),\n"
        yield "(-1, 'last');\n"

    events = read_dump(pieces())
    first = next(events)
    assert first == InsertRow("t", None, (0, "row 0"), 2)
    assert consumed < 10_000
    assert sum(1 for _ in events) == 100_000


def test_bytes_input_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="open_dump"):
        list(read_dump(io.BytesIO(b"SET a=1;")))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Errors: where and what


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("INSERT INTO t VALUES\n(1, foo);", 2, "expected a value, found 'foo);'"),
        ("INSERT INTO t VALUES\n(1, 2)\n(3, 4);", 3, "expected ',' or ';' after a row"),
        ("INSERT INTO t VALUES\n(1 2);", 2, "expected ',' or ')' after a value"),
        ("INSERT INTO t VALUES (1,);", 1, "expected a value, found ');'"),
        ("INSERT INTO t VALUES 1, 2;", 1, "expected '(' to start a row"),
        ("INSERT INTO t VALUES (0x);", 1, "expected a value"),
        ("INSERT INTO t VALUES (1.2.3);", 1, "expected ',' or ')' after a value"),
        ("INSERT INTO t VALUES (NULLS);", 1, "expected a value"),
        ("INSERT INTO t (a, b) VALUES\n(1, 2),\n(3);", 3, "row has 1 values for 2 columns"),
        ("INSERT INTO t (a b) VALUES (1);", 1, "expected ',' or ')' in the column list"),
        ("INSERT INTO t SELECT * FROM u;", 1, "expected VALUES in INSERT into t"),
        ("INSERT INTO t SET a = 1;", 1, "expected VALUES in INSERT into t"),
        ("INSERT INTO (1);", 1, "expected a table name"),
        ("SET a=1;\nINSERT INTO t VALUES\n(1,\n'abc\n\ndef", 4, "unterminated string"),
        ("INSERT INTO t VALUES\n(1,\n 2", 2, "unterminated row"),
        ("INSERT INTO t VALUES\n(1,\n", 2, "unterminated row"),
        ("\n\nINSERT INTO t VALUES\n(1),\n(2)", 3, "unterminated INSERT statement"),
        ("\n\nINSERT INTO t VALUES\n(1),\n", 3, "unterminated INSERT statement"),
        ("INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a='x", 1, "unterminated string"),
        ("SET a = 1;\nSET b = 'x\n", 2, "unterminated string"),
        ("SET a = 1;\nSET b = 2\n-- end", 2, "unterminated statement"),
        ("SET a = 1;\n/* open\ncomment", 2, "unterminated /* comment"),
        ("CREATE TABLE t (\n a int,\n b text\n", 1, "unterminated statement"),
        ("CREATE TABLE t (\n a int,\n b text\n;", 4, "unterminated column list"),
        ("CREATE TABLE t (\n a int,\n 'b' text);", 3, "expected a column name"),
        ("CREATE TABLE t (\n a int,\n b);", 3, "expected a type for column b"),
        ("CREATE TABLE `t (a int);", 1, "unterminated `identifier`"),
    ],
)
def test_syntax_errors_name_the_line(text: str, line: int, message: str) -> None:
    exc = error(text)
    assert isinstance(exc, ValueError)
    assert exc.line == line
    assert str(exc).startswith(f"line {line}: {message}")


def test_rows_before_an_error_are_still_yielded() -> None:
    events = read_dump(io.StringIO("INSERT INTO t VALUES (1), (2), (oops);"))
    assert [e.values for e in (next(events), next(events))] == [(1,), (2,)]  # type: ignore[union-attr]
    with pytest.raises(DumpSyntaxError, match="line 1: expected a value"):
        next(events)


def test_garbage_after_a_statement_is_an_error_not_a_hang() -> None:
    exc = error("INSERT INTO t VALUES (1);\n" + "x" * 100_000)
    assert exc.line == 2
    assert "unterminated statement" in str(exc)


# --------------------------------------------------------------------------------------------
# Round trip: values rendered the way mysqldump and Adminer write them parse back unchanged


def render_string(value: str, doubled_quotes: bool) -> str:
    """Escape like mysqldump (mysql_real_escape_string), optionally with '' for quotes."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace("\0", "\\0")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\x1a", "\\Z")
        .replace('"', '\\"')
        .replace("'", "''" if doubled_quotes else "\\'")
    )
    return f"'{escaped}'"


def render_value(value: object, doubled_quotes: bool) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return render_string(value, doubled_quotes)
    return repr(value)


def render_insert(
    table: str, width: int, batch: list[tuple[object, ...]], adminer: bool, doubled: bool
) -> str:
    name = "`" + table.replace("`", "``") + "`"
    if adminer:  # column list, tab separators, one tuple per line
        columns = ", ".join(f"`c{i}`" for i in range(width))
        tuples = ",\n".join(
            "(" + ",\t".join(render_value(v, doubled) for v in row) + ")" for row in batch
        )
        return f"INSERT INTO {name} ({columns}) VALUES\n{tuples};\n"
    tuples = ",".join("(" + ",".join(render_value(v, doubled) for v in row) + ")" for row in batch)
    return f"INSERT INTO {name} VALUES {tuples};\n"


values_strategy = st.one_of(
    st.none(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from("'\"\\;,()\n\r\t\0\x1a%_`#-/* aZ0é😀")),
    st.text(),
)


@settings(max_examples=150, deadline=None)
@given(
    table=st.text(min_size=1, max_size=8).filter(lambda s: "\0" not in s),
    width=st.integers(min_value=1, max_value=6),
    data=st.data(),
    adminer=st.booleans(),
    doubled=st.booleans(),
    chunk=st.sampled_from([1, 3, 17, 1 << 16]),
)
def test_rendered_rows_parse_back_to_the_same_values(
    table: str, width: int, data: st.DataObject, adminer: bool, doubled: bool, chunk: int
) -> None:
    row_strategy = st.tuples(*[values_strategy] * width)
    batches = data.draw(st.lists(st.lists(row_strategy, min_size=1, max_size=5), max_size=3))
    text = "SET NAMES utf8mb4;\n" + "".join(
        render_insert(table, width, batch, adminer, doubled) for batch in batches
    )
    with mock.patch.object(sqldump, "_CHUNK", chunk):
        events = list(read_dump(io.StringIO(text)))
    expected = [row for batch in batches for row in batch]
    assert [e.values for e in events if isinstance(e, InsertRow)] == expected
    assert {e.table for e in events} <= {table}
    if adminer:
        assert all(e.columns == tuple(f"c{i}" for i in range(width)) for e in events)


# --------------------------------------------------------------------------------------------
# Memory: a big single-line INSERT is read with memory for one row, not the statement


def write_big_dump(path: Path, megabytes: int) -> int:
    """An lh_users-like mysqldump table whose ~``megabytes`` MB of rows are one INSERT line."""
    count = 0
    size = 0
    settings_json = '{\\"dep\\":[1,2],\\"note\\":\\"' + "x; (y), " * 40 + '\\"}'
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("CREATE TABLE `lh_users` (`id` int, `username` varchar(80));\n")
        out.write("INSERT INTO `lh_users` VALUES ")
        while size < megabytes * 1_000_000:
            count += 1
            row = (
                f"({count},'user{count}','$2y$10$5jjeeZv1DSm7Evxs2Q55P.v/Vf6SiuIA1lFQJqOQr6Ra',"
                f"'user{count}@example.com','It\\'s; a (note)\\n',NULL,-{count % 7},1.5,"
                f"'{settings_json}')"
            )
            out.write(row if count == 1 else "," + row)
            size += len(row) + 1
        out.write(";\n")
    return count


@pytest.mark.parametrize("tables", [None, {"lh_group"}])
def test_memory_stays_bounded_on_a_big_single_insert(
    tmp_path: Path, tables: set[str] | None
) -> None:
    path = tmp_path / "big.sql"
    count = write_big_dump(path, 10)
    file_size = path.stat().st_size
    seen = 0
    last: InsertRow | None = None
    tracemalloc.start()
    try:
        with open_dump(path) as stream:
            for event in read_dump(stream, tables=tables):
                if isinstance(event, InsertRow):
                    seen += 1
                    last = event
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < file_size / 10, f"peak {peak} bytes for a {file_size}-byte statement"
    if tables is None:
        assert seen == count
        assert last is not None
        assert last.line == 2
        assert last.values[0] == count
        assert last.values[4:8] == ("It's; a (note)\n", None, -(count % 7), 1.5)
        assert last.values[8] == '{"dep":[1,2],"note":"' + "x; (y), " * 40 + '"}'
    else:
        assert seen == 0
