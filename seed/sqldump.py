"""Streaming reader for MySQL/MariaDB SQL dumps (mysqldump and Adminer formats).

The console imports LHC's permission tables from a dump someone already has, and such dumps can
be far larger than the few tables we want (chat history, logs). So the reader streams: it holds
a sliding window of the input (about 64 KiB, more only while one row of a kept table is
incomplete), yields each row as soon as its tuple is parsed, and skips the statements of tables
nobody asked for with a cheap scan that only tracks quotes, escapes, comments and the delimiter.

Memory is bounded whatever the input: a skipped statement (a 1 GB ``INSERT INTO lh_chat`` on one
line, a string or comment of any length) is scanned through in window-sized steps and never held;
what is held (a row of a kept table, a kept ``CREATE TABLE``) is refused with its line number
above ``MAX_ROW_CHARS``, and a kept table's statement above ``MAX_STATEMENT_CHARS``.

Only what an importer needs is interpreted: ``CREATE TABLE`` (column names, types, NULL-ability,
defaults) and row-form ``INSERT``/``REPLACE`` statements. Everything else (``SET``, ``DROP``,
``LOCK TABLES``, ``/*!40101 ... */`` conditional comments, views, triggers) is skipped, correctly
delimited even when it contains quotes, comments or a ``DELIMITER ;;`` block.

Values follow MySQL's lexical rules: strings lose their quotes and escapes (``\\%`` and ``\\_``
keep their backslash, as in MySQL outside LIKE patterns), integers become ``int``, other numbers
``float``, ``NULL`` becomes ``None``, hex literals (``0x41``, ``X'41'``) become text decoded as
UTF-8 with replacement, bit literals (``b'101'``, ``0b101``) become ``int``, and character-set
introducers (``_binary``, ``_utf8mb4``) are dropped.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TextIO

from store.regular_files import check_regular

__all__ = [
    "MAX_ROW_CHARS",
    "MAX_STATEMENT_CHARS",
    "Column",
    "CreateTable",
    "DumpSyntaxError",
    "InsertRow",
    "open_dump",
    "read_dump",
]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a ``CREATE TABLE``: enough to map dump rows onto the console's schema."""

    name: str
    type: str
    """Lowercased type as written, e.g. ``int(11)``, ``varchar(80)``, ``tinyint(1) unsigned``."""
    nullable: bool
    default: str | None
    """Unquoted text of the DEFAULT clause; ``None`` without one or for ``DEFAULT NULL``."""
    auto_increment: bool


@dataclass(frozen=True, slots=True)
class CreateTable:
    """A ``CREATE TABLE`` statement; ``columns`` is empty for ``CREATE TABLE ... LIKE/AS``."""

    table: str
    columns: tuple[Column, ...]
    line: int


@dataclass(frozen=True, slots=True)
class InsertRow:
    """One row of an ``INSERT``/``REPLACE`` statement, yielded as soon as its tuple is parsed."""

    table: str
    columns: tuple[str, ...] | None
    """The statement's column list, or ``None`` when it has none (values are in table order)."""
    values: tuple[object, ...]
    line: int
    """Line where this row's tuple starts, so a bad row can be found in the dump."""


class DumpSyntaxError(ValueError):
    """The dump is not what a MySQL client would accept (or it is truncated).

    The message names the line (``line 1503: unterminated string``) because the person fixing
    the dump needs to find the spot in a file too large to read through.
    """

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def open_dump(path: str | os.PathLike[str]) -> TextIO:
    """Open a dump as text for :func:`read_dump`; ``.gz`` files are decompressed on the fly.

    UTF-8 with ``errors="strict"`` so a dump in another encoding fails loudly instead of
    importing mojibake, and ``newline=""`` so carriage returns inside string values survive.
    """
    check_regular(path)  # a pipe or device is refused, never waited on
    if os.fspath(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="strict", newline="")
    return open(path, encoding="utf-8", errors="strict", newline="")


def read_dump(
    source: TextIO | Iterable[str], *, tables: Container[str] | None = None
) -> Iterator[CreateTable | InsertRow]:
    """Yield ``CreateTable`` events and one ``InsertRow`` per row, in file order.

    ``source`` is a text stream (read in chunks, so a 50 MB one-line ``INSERT`` never sits in
    memory) or any iterable of text pieces (lines or chunks). With ``tables``, only statements of
    those tables produce events; the others are skipped without building their rows.

    Rows are yielded before their statement's end is seen, so a truncated dump raises
    :class:`DumpSyntaxError` after some of its rows were yielded: import inside a transaction.
    Table names are returned without their database qualifier (``db.t`` gives ``t``).
    """
    yield from _Parser(_Window(source), tables).events()


# --------------------------------------------------------------------------------------------
# Lexical building blocks (possessive/atomic, so a failed match never backtracks exponentially)

_WS = r"[ \t\n\r\f\v]"
_SQ = r"'(?:[^'\\]++|\\[\s\S]|'')*+'"
_DQ = r'"(?:[^"\\]++|\\[\s\S]|"")*+"'
_HEX = r"0x[0-9A-Fa-f]++|[xX]'[0-9A-Fa-f]*+'"
_BIT = r"0b[01]++|[bB]'[01]*+'"
_NUM = r"(?>[-+]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][-+]?\d++)?)"
_INTRO = rf"_[A-Za-z0-9]++{_WS}*+(?:{_SQ}|{_DQ}|{_HEX}|{_BIT})"
# Every literal except plain single-quoted strings and plain integers (the common cases, which
# get their own capture groups below so rows are converted without a function call per value).
_OTHER = rf"(?:{_DQ}|[nN]{_SQ}|{_INTRO}|(?:{_HEX}|{_BIT}|{_NUM}|(?i:NULL|TRUE|FALSE))(?![\w$]))"
_VALUE = rf"(?>{_SQ}|{_OTHER})"

_VALUE_RE = re.compile(_VALUE)
# A whole row tuple: validated in one C-level match; values are then picked out with findall.
_ROW_RE = re.compile(rf"\({_WS}*+(?:{_VALUE}(?:{_WS}*+,{_WS}*+{_VALUE})*+{_WS}*+)?\)")
_ROW_VALUES_RE = re.compile(
    rf"'([^'\\]*+)'(?!')|'((?:[^'\\]++|\\[\s\S]|'')*+)'|([-+]?\d++)(?![\w$.])|({_OTHER})"
)
_ROW_SEP_RE = re.compile(rf"{_WS}*+,{_WS}*+(?=\()")
# Something that may be a string still missing its closing quote in the window.
_STRING_START_RE = re.compile(rf"(?:_[A-Za-z0-9]++{_WS}*+|[nNxXbB])?['\"]")

_SPACE_RE = re.compile(rf"(?:{_WS}++|#[^\n]*+\n|--(?:[ \t\r\f\v][^\n]*+)?\n|/\*[\s\S]*?\*/)*+")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*+")
_BARE_IDENT_RE = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]++")
_BQ_IDENT_RE = re.compile(r"`((?:[^`]|``)*+)`")
_DQ_IDENT_RE = re.compile(r'"((?:[^"]|"")*+)"')
_HEAD_RE = re.compile(
    rf"(?i)(?P<create>CREATE(?:{_WS}++OR{_WS}++REPLACE)?(?:{_WS}++TEMPORARY)?{_WS}++TABLE)(?![\w$])"
    rf"|(?P<insert>INSERT|REPLACE)(?![\w$])"
    rf"|(?P<delimiter>DELIMITER[ \t]++(?P<value>[^ \t\r\n]++)[^\n]*+)"
)

_HEAD_PREFIX_RE = re.compile(rf"(?:[A-Za-z]|{_WS})*+\Z")

# The inside of a quoted run, for scanning one that does not fit in the window: stops at the
# closing quote, or at a backslash or quote that the window's end leaves undecided.
_QUOTED_BODY_RE = {
    "'": re.compile(r"(?:[^'\\]++|\\[\s\S]|'')*+"),
    '"': re.compile(r'(?:[^"\\]++|\\[\s\S]|"")*+'),
    "`": re.compile(r"[^`]*+"),
}

_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
_UNESCAPE = {"\\" + key: value for key, value in _ESCAPES.items()}
_UNESCAPE |= {"\\%": "\\%", "\\_": "\\_", "''": "'", '""': '"'}
_SQ_ESCAPE_RE = re.compile(r"\\[\s\S]|''")
_DQ_ESCAPE_RE = re.compile(r'\\[\s\S]|""')
_INTRODUCER_RE = re.compile(rf"_[A-Za-z0-9]+{_WS}*")

MAX_ROW_CHARS = 1 << 20
"""A row of a kept table (and a kept ``CREATE TABLE``) may take at most 1 MiB of dump text.

A row is held whole while it is parsed, so this bounds the reader's memory. LHC's permission
rows are a few hundred characters (the longest columns, ``lh_users.operation_admin`` and
``lh_departament.product_configuration``, hold short JSON; an ``lh_audits`` message a few KB);
a row a thousand times that is not a permission row, and is refused rather than held.
"""
MAX_STATEMENT_CHARS = 64 << 20
"""An ``INSERT`` into a kept table may take at most 64 MiB of dump text (its rows are streamed,
so this is not about memory): MySQL 8's default ``max_allowed_packet``, so MySQL itself would
refuse a longer statement, and mysqldump splits extended INSERTs at about 1 MB anyway."""

_CHUNK = 1 << 16
_QUOTED_LOOKAHEAD = 4096
"""How far an unclosed quoted identifier may run before we call it garbage."""
_VALUE_LOOKAHEAD = 64
"""How long the cut-off start of a non-string literal (``-``, ``1.5e``, ``_binary``) can be."""


def _unescape_match(match: re.Match[str]) -> str:
    text = match[0]
    return _UNESCAPE.get(text) or text[1]


def _unescape(body: str, quote: str) -> str:
    """The value of a string literal's body: MySQL escapes and doubled quotes resolved."""
    if "\\" not in body and quote + quote not in body:
        return body
    pattern = _SQ_ESCAPE_RE if quote == "'" else _DQ_ESCAPE_RE
    return pattern.sub(_unescape_match, body)


def _hex_text(digits: str) -> str:
    if len(digits) % 2:
        digits = "0" + digits
    return bytes.fromhex(digits).decode("utf-8", "replace")


def _literal(token: str) -> object:
    """The Python value of one literal token matched by ``_VALUE``."""
    first = token[0]
    if first == "'":
        return _unescape(token[1:-1], "'")
    if first == '"':
        return _unescape(token[1:-1], '"')
    if first == "_":
        return _literal(token[_INTRODUCER_RE.match(token).end() :])  # type: ignore[union-attr]
    second = token[1:2]
    if first in "nN":
        return _unescape(token[2:-1], "'") if second == "'" else None
    if first in "tT":
        return 1
    if first in "fF":
        return 0
    if second == "'":  # X'..' or B'..'
        inner = token[2:-1]
        return _hex_text(inner) if first in "xX" else int(inner or "0", 2)
    if first == "0" and second == "x":
        return _hex_text(token[2:])
    if first == "0" and second == "b":
        return int(token[2:], 2)
    try:
        return int(token)
    except ValueError:
        return float(token)


def _row_values(tokens: list[tuple[str, str, str, str]]) -> tuple[object, ...]:
    values: list[object] = []
    append = values.append
    for plain, escaped, integer, other in tokens:
        if integer:
            append(int(integer))
        elif other:
            append(None if other == "NULL" else _literal(other))
        elif escaped:
            append(_unescape(escaped, "'"))
        else:
            append(plain)
    return tuple(values)


def _size(chars: int) -> str:
    """``1 MiB (1,048,576 characters)``: the limits as people read them."""
    return f"{chars >> 20} MiB ({chars:,} characters)"


def _snippet(text: str) -> str:
    text = text[:24]
    return repr(text) if text else "end of input"


# --------------------------------------------------------------------------------------------
# The sliding window over the input


class _Window:
    """A window ``buf`` over the input with a cursor ``pos`` and lazy line numbering.

    ``fill`` drops everything before ``pos`` and appends at least as much as it keeps, so a
    long token is re-scanned only a logarithmic number of times.
    """

    __slots__ = ("_mark_line", "_mark_pos", "_read", "buf", "eof", "offset", "pos")

    def __init__(self, source: TextIO | Iterable[str]) -> None:
        self._read = _reader(source)
        self.buf = ""
        self.pos = 0
        self.offset = 0
        """Characters of input dropped before ``buf[0]`` (``offset + i`` is absolute)."""
        self.eof = False
        self._mark_pos = 0
        self._mark_line = 1
        if self.fill() and self.buf.startswith("\ufeff"):
            self.pos = 1
            self._mark_pos = 1

    def fill(self) -> bool:
        """Read more input, keeping ``buf[pos:]``; False at end of input."""
        if self.eof:
            return False
        self.line_at(self.pos)
        self.offset += self.pos
        rest = self.buf[self.pos :]
        data = self._read(max(_CHUNK, len(rest)))
        if not isinstance(data, str):
            raise TypeError("read_dump needs text, not bytes: open the dump with open_dump()")
        self.buf = rest + data
        self.pos = 0
        self._mark_pos = 0
        if not data:
            self.eof = True
        return bool(data)

    def line_at(self, index: int) -> int:
        """Line number of ``buf[index]`` (counted from the last asked-for position)."""
        mark = self._mark_pos
        if index >= mark:
            line = self._mark_line + self.buf.count("\n", mark, index)
        else:
            line = self._mark_line - self.buf.count("\n", index, mark)
        self._mark_pos = index
        self._mark_line = line
        return line

    def ensure(self, count: int) -> bool:
        """Make ``count`` characters available at ``pos`` unless the input ends first."""
        while len(self.buf) - self.pos < count:
            if not self.fill():
                return len(self.buf) - self.pos >= count
        return True


def _reader(source: TextIO | Iterable[str]) -> Callable[[int], str]:
    if isinstance(source, str):
        source = (source,)
    read = getattr(source, "read", None)
    if callable(read):
        return read
    pieces = iter(source)

    def read_pieces(size: int) -> str:
        parts: list[str] = []
        total = 0
        for piece in pieces:
            parts.append(piece)
            total += len(piece)
            if total >= size:
                break
        return "".join(parts)

    return read_pieces


def _skip_pattern(delimiter: str) -> re.Pattern[str]:
    """Consumes statement text up to the delimiter, an unfinished construct, or window end."""
    first, rest = delimiter[0], delimiter[1:]
    specials = set("'\"`#-/;") | {first}
    run = "[^" + "".join(re.escape(c) for c in sorted(specials)) + "]++"
    alternatives = [
        run,
        _SQ,
        _DQ,
        r"`[^`]*+`",
        r"#[^\n]*+\n",
        r"--(?:[ \t\r\f\v][^\n]*+)?\n",
        r"/\*[\s\S]*?\*/",
        r"-(?=[^-])",
        r"--(?=[^ \t\n\r\f\v])",
        r"/(?=[^*/])" if first == "/" else r"/(?=[^*])",
    ]
    if first != ";":
        alternatives.append(";")
    if rest and first not in "'\"`#-/":  # a lone first character of a longer delimiter
        lookahead = f"(?=[\\s\\S]{{{len(rest)}}})(?!{re.escape(rest)})"
        alternatives.append(re.escape(first) + lookahead)
    return re.compile("(?:" + "|".join(alternatives) + ")*+")


# --------------------------------------------------------------------------------------------
# Statement parser


class _Parser:
    __slots__ = ("_delimiter", "_skip_re", "_tables", "_w")

    def __init__(self, window: _Window, tables: Container[str] | None) -> None:
        self._w = window
        self._tables = tables
        self._delimiter = ";"
        self._skip_re = _skip_pattern(";")

    def events(self) -> Iterator[CreateTable | InsertRow]:
        w = self._w
        while True:
            self._skip_space()
            if not w.ensure(1):
                return
            if self._at_delimiter():
                w.pos += len(self._delimiter)
                continue
            head = self._head()
            line = w.line_at(w.pos)
            kind = head.lastgroup if head else None
            if kind == "create":
                w.pos = head.end()  # type: ignore[union-attr]
                yield from self._create_table(line)
            elif kind == "insert":
                start = w.offset + w.pos
                w.pos = head.end()  # type: ignore[union-attr]
                yield from self._insert(line, start)
            elif kind == "delimiter":
                self._delimiter = head["value"]  # type: ignore[index]
                self._skip_re = _skip_pattern(self._delimiter)
                w.pos = head.end()  # type: ignore[union-attr]
            else:
                self._skip_statement(line)

    # -- low-level helpers

    def _head(self) -> re.Match[str] | None:
        """Classify the statement at ``pos``, reading more only while the keywords may be cut.

        No blanket look-ahead: a statement's keywords are letters and spaces, so a failed
        match is final as soon as the window holds anything else after ``pos``, or more letters
        and spaces than any of our heads could take (the statement is then skipped, streamed).
        """
        w = self._w
        while True:
            head = _HEAD_RE.match(w.buf, w.pos)
            if w.eof:
                return head
            if head is not None and head.end() < len(w.buf):
                return head
            if head is None and (
                len(w.buf) - w.pos >= _QUOTED_LOOKAHEAD or not _HEAD_PREFIX_RE.match(w.buf, w.pos)
            ):
                return None
            w.fill()

    def _error(self, message: str, line: int | None = None) -> DumpSyntaxError:
        w = self._w
        return DumpSyntaxError(w.line_at(w.pos) if line is None else line, message)

    def _skip_space(self) -> None:
        """Skip whitespace and comments (conditional ``/*!...*/`` ones too)."""
        w = self._w
        while True:
            buf = w.buf
            end = _SPACE_RE.match(buf, w.pos).end()  # type: ignore[union-attr]
            w.pos = end
            size = len(buf)
            if end >= size:
                if not w.fill():
                    return
                continue
            char = buf[end]
            if char not in "#-/":
                return
            # A comment unclosed within the window is scanned through, never held.
            if buf.startswith("/*", end):
                self._skip_block_comment(None)
                continue
            if char == "#" or (
                buf.startswith("--", end) and end + 2 < size and buf[end + 2] in " \t\r\f\v"
            ):
                if not self._skip_line_comment(None):
                    return  # a line comment ending the input
                continue
            if end + 2 >= size and w.fill():  # '-' or '/' at the window's end: look further
                continue
            if buf.startswith("--", end) and end + 2 >= size:
                w.pos = size  # "--" ending the input: a comment, as MySQL reads it
            return

    def _peek(self) -> str:
        w = self._w
        return w.buf[w.pos] if w.ensure(1) else ""

    def _at_delimiter(self) -> bool:
        w = self._w
        w.ensure(len(self._delimiter))
        return w.buf.startswith(self._delimiter, w.pos)

    def _match(self, pattern: re.Pattern[str], give_up: int = 1) -> re.Match[str] | None:
        """Match a token at ``pos``, reading more input while the match may grow.

        No match is final once ``give_up`` characters are available: one for tokens whose
        first character decides (words), more for quoted ones that may be cut by the window.
        Reading only what a token needs keeps the window small; a name (these tokens are names
        and keywords) still growing past ``_QUOTED_LOOKAHEAD`` characters is refused.
        """
        w = self._w
        while True:
            match = pattern.match(w.buf, w.pos)
            if w.eof:
                return match
            size = len(w.buf)
            if match is not None and match.end() < size:
                return match
            if match is None and size - w.pos >= give_up:
                return None
            if match is not None and size - w.pos >= _QUOTED_LOOKAHEAD:
                raise self._error(f"a name longer than {_QUOTED_LOOKAHEAD} characters")
            w.fill()

    def _peek_word(self) -> str:
        match = self._match(_WORD_RE)
        return match[0].upper() if match else ""

    def _ident(self, what: str) -> str:
        w = self._w
        char = self._peek()
        if char == "`":
            match = self._match(_BQ_IDENT_RE, _QUOTED_LOOKAHEAD)
            if match is None:
                raise self._error("unterminated `identifier`")
            name = match[1].replace("``", "`")
        elif char == '"':
            match = self._match(_DQ_IDENT_RE, _QUOTED_LOOKAHEAD)
            if match is None:
                raise self._error('unterminated "identifier"')
            name = match[1].replace('""', '"')
        else:
            match = self._match(_BARE_IDENT_RE)
            if match is None:
                raise self._error(f"expected {what}, found {_snippet(w.buf[w.pos :])}")
            name = match[0]
        w.pos = match.end()
        return name

    def _skip_statement(self, line: int, limit: int | None = None, what: str = "") -> str:
        """Move past the statement's delimiter, in window-sized steps whatever its length.

        Without ``limit`` nothing is kept: strings, quoted names and comments that run past
        the window are scanned through (quotes and escapes tracked, text dropped), so a 1 GB
        statement of a skipped table takes no more memory than a short one. With ``limit``,
        the statement's text is returned, and one longer than ``limit`` characters is refused
        (``what`` names it in the message).
        """
        w = self._w
        delimiter = self._delimiter
        parts: list[str] | None = [] if limit is not None else None
        while True:
            buf = w.buf
            start = w.pos
            end = self._skip_re.match(buf, start).end()  # type: ignore[union-attr]
            if parts is not None:
                parts.append(buf[start:end])
                self._check_held(parts, limit, line, what)
            w.pos = end
            if buf.startswith(delimiter, end):
                w.pos = end + len(delimiter)
                return "".join(parts) if parts is not None else ""
            size = len(buf)
            char = buf[end] if end < size else ""
            # A construct that runs past the window's end: scanned through, not accumulated.
            if char in ("'", '"', "`"):
                self._skip_quoted(parts)
            elif buf.startswith("/*", end):
                self._skip_block_comment(parts)
            elif char == "#" or (
                buf.startswith("--", end) and end + 2 < size and buf[end + 2] in " \t\r\f\v"
            ):
                if not self._skip_line_comment(parts):
                    raise self._error(f"unterminated statement (expected {delimiter!r})", line)
            elif not w.fill():
                # End of input inside the statement (a few characters left at most).
                rest = w.buf[w.pos :]
                if rest[:2] == "/*":
                    raise self._error("unterminated /* comment")
                raise self._error(f"unterminated statement (expected {delimiter!r})", line)
            if parts is not None:
                self._check_held(parts, limit, line, what)

    def _check_held(self, parts: list[str], limit: int | None, line: int, what: str) -> None:
        if limit is not None and sum(map(len, parts)) > limit:
            raise DumpSyntaxError(line, f"{what} is longer than {_size(limit)}")

    def _skip_quoted(self, parts: list[str] | None) -> None:
        """Move past the string or quoted name at ``pos`` (``parts``: keep its text there)."""
        w = self._w
        quote = w.buf[w.pos]
        body = _QUOTED_BODY_RE[quote]
        opened = w.line_at(w.pos)
        if parts is not None:
            parts.append(quote)
        w.pos += 1
        while True:
            buf = w.buf
            start = w.pos
            size = len(buf)
            end = body.match(buf, start).end()  # type: ignore[union-attr]
            # buf[end] is the closing quote unless the window's end leaves it undecided: a
            # last quote may be the first of a doubled one, a last backslash escapes what
            # comes next.
            closes = end + 1 < size or (end + 1 == size and w.eof and buf[end] == quote)
            stop = end + 1 if closes else end
            if parts is not None:
                parts.append(buf[start:stop])
            w.pos = stop
            if closes:
                return
            # Read on; at the end of input, a last quote is looked at again (it closes).
            if not w.fill() and not (end + 1 == size and buf[end] == quote):
                raise DumpSyntaxError(
                    opened, "unterminated string" if quote != "`" else "unterminated `identifier`"
                )

    def _skip_block_comment(self, parts: list[str] | None) -> None:
        """Move past the ``/* ... */`` comment at ``pos``, however long."""
        w = self._w
        opened = w.line_at(w.pos)
        search = w.pos + 2
        while True:
            buf = w.buf
            close = buf.find("*/", search)
            stop = close + 2 if close >= 0 else max(search, len(buf) - 1)  # keep a last '*'
            if parts is not None:
                parts.append(buf[w.pos : stop])
            w.pos = stop
            if close >= 0:
                return
            if not w.fill():
                raise DumpSyntaxError(opened, "unterminated /* comment")
            search = w.pos

    def _skip_line_comment(self, parts: list[str] | None) -> bool:
        """Move past the ``#`` or ``-- `` comment at ``pos`` and its newline; False when the
        input ends first (``pos`` is then at the end)."""
        w = self._w
        while True:
            buf = w.buf
            newline = buf.find("\n", w.pos)
            stop = newline + 1 if newline >= 0 else len(buf)
            if parts is not None:
                parts.append(buf[w.pos : stop])
            w.pos = stop
            if newline >= 0:
                return True
            if not w.fill():
                return False

    # -- CREATE TABLE

    def _create_table(self, line: int) -> Iterator[CreateTable]:
        """A kept table's definition (held, at most ``MAX_ROW_CHARS``); others are skipped."""
        w = self._w
        self._skip_space()
        if self._peek_word() == "IF":
            for word in ("IF", "NOT", "EXISTS"):
                self._skip_space()
                if self._peek_word() != word:
                    raise self._error("expected a table name")
                w.pos += len(word)
            self._skip_space()
        table = self._ident("a table name")
        if self._peek() == ".":
            w.pos += 1
            table = self._ident("a table name")
        if self._tables is not None and table not in self._tables:
            self._skip_statement(line)
            return
        rest_line = w.line_at(w.pos)
        what = f"CREATE TABLE {table}"
        text = self._skip_statement(line, MAX_ROW_CHARS, what)
        head = "CREATE TABLE `" + table.replace("`", "``") + "`"  # no newline: lines still match
        event = _parse_create_table(head + text, rest_line, self._tables)
        if event is not None:
            yield replace(event, line=line)

    # -- INSERT / REPLACE

    def _insert(self, line: int, start: int) -> Iterator[InsertRow]:
        """Rows of an INSERT whose keyword was at line ``line``, absolute offset ``start``."""
        w = self._w
        while True:
            self._skip_space()
            word = self._peek_word()
            if word not in ("LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO"):
                break
            w.pos += len(word)
        table = self._ident("a table name")
        if self._peek() == ".":
            w.pos += 1
            table = self._ident("a table name")
        wanted = self._tables is None or table in self._tables
        self._skip_space()
        columns: tuple[str, ...] | None = None
        if self._peek() == "(":
            columns = self._column_list()
            self._skip_space()
        word = self._peek_word()
        if word not in ("VALUES", "VALUE"):
            if wanted:
                found = _snippet(w.buf[w.pos :])
                raise self._error(f"expected VALUES in INSERT into {table}, found {found}")
            self._skip_statement(line)
            return
        w.pos += len(word)
        if not wanted:
            self._skip_statement(line)
            return
        yield from self._rows(table, columns, line, start + MAX_STATEMENT_CHARS)

    def _column_list(self) -> tuple[str, ...]:
        w = self._w
        w.pos += 1
        names: list[str] = []
        self._skip_space()
        if self._peek() == ")":  # INSERT INTO t () VALUES (): all defaults
            w.pos += 1
            return ()
        while True:
            self._skip_space()
            names.append(self._ident("a column name"))
            self._skip_space()
            char = self._peek()
            w.pos += 1
            if char == ")":
                return tuple(names)
            if char != ",":
                w.pos -= 1
                found = _snippet(w.buf[w.pos :])
                raise self._error(f"expected ',' or ')' in the column list, found {found}")

    def _rows(
        self, table: str, columns: tuple[str, ...] | None, line: int, statement_end: int
    ) -> Iterator[InsertRow]:
        """The statement's rows; it must end before absolute offset ``statement_end``."""
        w = self._w
        row_match = _ROW_RE.match
        row_values = _ROW_VALUES_RE.findall
        next_row = _ROW_SEP_RE.match
        width = None if columns is None else len(columns)
        while True:
            self._skip_space()
            buf = w.buf
            start = w.pos
            if start >= len(buf):
                raise self._error("unterminated INSERT statement (expected a row)", line)
            if buf[start] != "(":
                raise self._error(f"expected '(' to start a row, found {_snippet(buf[start:])}")
            while True:
                match = row_match(buf, start)
                if match is None:  # spans the window's end, has comments, or is broken
                    w.pos = start
                    values, row_line = self._slow_row(table)
                    buf = w.buf
                    end = w.pos
                else:
                    end = match.end()
                    if end - start > MAX_ROW_CHARS:
                        raise self._row_too_long(table, w.line_at(start))
                    values = _row_values(row_values(buf, start + 1, end - 1))
                    row_line = w.line_at(start)
                if w.offset + end > statement_end:
                    raise DumpSyntaxError(
                        line,
                        f"the INSERT into {table} is longer than {_size(MAX_STATEMENT_CHARS)} "
                        "(MySQL's default max_allowed_packet): split it into smaller statements",
                    )
                if width is not None and len(values) != width:
                    raise DumpSyntaxError(
                        row_line, f"row has {len(values)} values for {width} columns"
                    )
                yield InsertRow(table, columns, values, row_line)
                match = next_row(buf, end)
                if match is None:
                    break
                start = match.end()
            w.pos = end
            self._skip_space()
            char = self._peek()
            if char == ",":
                w.pos += 1
                continue
            if not char:
                raise self._error("unterminated INSERT statement (expected ',' or ';')", line)
            if self._at_delimiter():
                w.pos += len(self._delimiter)
                return
            if self._peek_word() == "ON":  # ON DUPLICATE KEY UPDATE ...
                self._skip_statement(line)
                return
            found = _snippet(w.buf[w.pos :])
            raise self._error(f"expected ',' or {self._delimiter!r} after a row, found {found}")

    def _row_too_long(self, table: str, row_line: int) -> DumpSyntaxError:
        return DumpSyntaxError(
            row_line,
            f"a row of {table} is longer than {_size(MAX_ROW_CHARS)}, far more than any LHC "
            "permission row holds",
        )

    def _slow_row(self, table: str) -> tuple[tuple[object, ...], int]:
        """Parse one tuple value by value, refilling the window as needed (a row longer than
        ``MAX_ROW_CHARS`` is refused, so it never holds more)."""
        w = self._w
        row_line = w.line_at(w.pos)
        row_end = w.offset + w.pos + MAX_ROW_CHARS
        w.pos += 1
        values: list[object] = []
        self._skip_space()
        if self._peek() == ")":
            w.pos += 1
            return (), row_line
        while True:
            values.append(self._value(row_line, row_end, table))
            if w.offset + w.pos > row_end:
                raise self._row_too_long(table, row_line)
            self._skip_space()
            char = self._peek()
            if char == ",":
                w.pos += 1
                self._skip_space()
                continue
            if char == ")":
                w.pos += 1
                return tuple(values), row_line
            if not char:
                raise self._error("unterminated row (expected ',' or ')')", row_line)
            found = _snippet(w.buf[w.pos :])
            raise self._error(f"expected ',' or ')' after a value, found {found}")

    def _value(self, row_line: int, row_end: int, table: str) -> object:
        w = self._w
        while True:
            buf = w.buf
            start = w.pos
            size = len(buf)
            if start >= size:
                if w.fill():
                    continue
                raise self._error("unterminated row (expected a value)", row_line)
            match = _VALUE_RE.match(buf, start)
            if match is not None and (match.end() < size or w.eof):
                w.pos = match.end()
                return _literal(match[0])
            opens_string = _STRING_START_RE.match(buf, start) is not None
            garbage = match is None and not opens_string and size - start >= _VALUE_LOOKAHEAD
            if w.eof or garbage:
                if opens_string:
                    raise self._error("unterminated string")
                raise self._error(f"expected a value, found {_snippet(buf[start:])}")
            if w.offset + size > row_end:  # the value runs past the row's limit: stop reading
                raise self._row_too_long(table, row_line)
            w.fill()


# --------------------------------------------------------------------------------------------
# CREATE TABLE (the statement is small, so it is parsed from its collected text)

_CT_TOKEN_RE = re.compile(
    rf"(?P<space>{_WS}++|#[^\n]*+|--(?:[ \t\r\f\v][^\n]*+)?(?=\n|$)|/\*[\s\S]*?\*/)"
    rf"|(?P<bq>`(?:[^`]|``)*+`)|(?P<sq>{_SQ})|(?P<dq>{_DQ})"
    rf"|(?P<num>{_NUM}(?![\w$]))|(?P<word>[\w$]++)|(?P<punct>[\s\S])"
)
_NOT_COLUMNS = frozenset(  # words that start a table-level item rather than a column
    {"PRIMARY", "KEY", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "CONSTRAINT", "FOREIGN", "CHECK"}
    | {"PERIOD", "LIKE"}
)
_TYPE_WORDS = frozenset({"unsigned", "signed", "zerofill", "precision", "varying"})
_QUOTED_OR_NOT_RE = re.compile(rf"({_SQ}|{_DQ})|[^'\"]+|['\"]")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


def _lower_outside_quotes(text: str) -> str:
    return _QUOTED_OR_NOT_RE.sub(lambda m: m[0] if m[1] else m[0].lower(), text)


def _parse_create_table(text: str, line: int, tables: Container[str] | None) -> CreateTable | None:
    """The table's definition, or None for a table not in ``tables`` (columns left unparsed)."""
    tokens = [
        _Token(m.lastgroup, m[0], m.start(), m.end())  # type: ignore[arg-type]
        for m in _CT_TOKEN_RE.finditer(text)
        if m.lastgroup != "space"
    ]

    def fail(index: int, message: str) -> DumpSyntaxError:
        at = tokens[index].start if index < len(tokens) else len(text)
        return DumpSyntaxError(line + text.count("\n", 0, at), message)

    def word(index: int) -> str:
        return tokens[index].text.upper() if index < len(tokens) else ""

    def ident(index: int) -> str:
        if index >= len(tokens) or tokens[index].kind not in ("bq", "dq", "word"):
            raise fail(index, "expected a table name")
        return _unquote_ident(tokens[index])

    index = 1  # past CREATE
    while word(index) in ("OR", "REPLACE", "TEMPORARY", "TABLE"):
        index += 1
    if word(index) == "IF" and word(index + 1) == "NOT" and word(index + 2) == "EXISTS":
        index += 3
    table = ident(index)
    index += 1
    if index < len(tokens) and tokens[index].text == ".":
        table = ident(index + 1)
        index += 2
    if tables is not None and table not in tables:
        return None
    if index >= len(tokens) or tokens[index].text != "(":
        return CreateTable(table, (), line)
    items: list[list[_Token]] = [[]]
    depth = 1
    index += 1
    while depth:
        if index >= len(tokens):
            raise fail(index, "unterminated column list in CREATE TABLE")
        token = tokens[index]
        index += 1
        if token.kind == "punct":
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
                if not depth:
                    break
            elif token.text == "," and depth == 1:
                items.append([])
                continue
        items[-1].append(token)
    columns: list[Column] = []
    primary_key: set[str] = set()
    for item in items:
        if not item:
            continue
        first = item[0].text.upper() if item[0].kind == "word" else ""
        if first in _NOT_COLUMNS and (first != "PERIOD" or _word_at(item, 1) == "FOR"):
            primary_key |= _primary_key_columns(item)
            continue
        columns.append(_parse_column(item, text, fail, tokens))
    if primary_key:  # MySQL makes primary key columns NOT NULL even when not written
        columns = [replace(c, nullable=False) if c.name in primary_key else c for c in columns]
    return CreateTable(table, tuple(columns), line)


def _word_at(item: list[_Token], index: int) -> str:
    """The uppercased word at ``item[index]``, or "" for anything else."""
    if index < len(item) and item[index].kind == "word":
        return item[index].text.upper()
    return ""


def _unquote_ident(token: _Token) -> str:
    if token.kind in ("bq", "dq"):
        quote = token.text[0]
        return token.text[1:-1].replace(quote + quote, quote)
    return token.text


def _primary_key_columns(item: list[_Token]) -> set[str]:
    """Column names of a ``[CONSTRAINT x] PRIMARY KEY (a, b(10))`` item; empty for others."""
    for index in range(len(item) - 1):
        if _word_at(item, index) == "PRIMARY" and _word_at(item, index + 1) == "KEY":
            break
    else:
        return set()
    names: set[str] = set()
    depth = 0
    for token in item[index + 2 :]:
        if token.kind == "punct" and token.text in "()":
            depth += 1 if token.text == "(" else -1
            if depth == 0:
                break
        elif depth == 1 and token.kind in ("bq", "dq", "word"):
            names.add(_unquote_ident(token))
    return names


def _matching_paren(item: list[_Token], index: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``index`` (the column's tokens are balanced)."""
    depth = 0
    for position in range(index, len(item)):
        text = item[position].text if item[position].kind == "punct" else ""
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
            if not depth:
                return position
    return len(item) - 1


def _parse_column(
    item: list[_Token],
    text: str,
    fail: Callable[[int, str], DumpSyntaxError],
    tokens: list[_Token],
) -> Column:
    first = item[0]
    if first.kind in ("bq", "dq", "word"):
        name = _unquote_ident(first)
    else:
        raise fail(tokens.index(first), f"expected a column name, found {first.text!r}")
    if len(item) < 2 or item[1].kind != "word":
        raise fail(tokens.index(first), f"expected a type for column {name}")
    end = 1
    if len(item) > 2 and item[2].text == "(" and item[2].kind == "punct":
        end = _matching_paren(item, 2)
    type_text = _lower_outside_quotes(text[item[1].start : item[end].end])
    index = end + 1
    while index < len(item) and item[index].kind == "word":
        modifier = item[index].text.lower()
        if modifier not in _TYPE_WORDS:
            break
        type_text += " " + modifier
        index += 1
    nullable = True
    default: str | None = None
    auto_increment = False
    depth = 0
    while index < len(item):
        token = item[index]
        index += 1
        if token.kind == "punct":
            depth += {"(": 1, ")": -1}.get(token.text, 0)
            continue
        if depth or token.kind != "word":
            continue
        keyword = token.text.upper()
        if keyword == "NOT" and index < len(item) and item[index].text.upper() == "NULL":
            nullable = False
            index += 1
        elif keyword == "AUTO_INCREMENT":
            auto_increment = True
        elif keyword == "PRIMARY" or (
            keyword == "KEY" and item[index - 2].text.upper() != "UNIQUE"
        ):
            nullable = False  # an inline PRIMARY KEY (or plain KEY) implies NOT NULL
        elif keyword == "DEFAULT" and index < len(item):
            default, index = _default(item, index, text)
    return Column(name, type_text, nullable, default, auto_increment)


def _default(item: list[_Token], index: int, text: str) -> tuple[str | None, int]:
    """The DEFAULT expression starting at ``item[index]`` and the index after it."""
    token = item[index]
    following = item[index + 1] if index + 1 < len(item) else None
    if token.kind in ("sq", "dq"):
        return _unescape(token.text[1:-1], token.text[0]), index + 1
    if token.kind == "num":
        return token.text, index + 1
    if token.kind == "word":
        if token.text.upper() == "NULL":
            return None, index + 1
        adjacent = following is not None and following.start == token.end
        if following is not None and following.kind in ("sq", "dq"):
            if token.text.startswith("_") or (token.text in ("n", "N") and adjacent):
                return _unescape(following.text[1:-1], following.text[0]), index + 2
            if adjacent:  # b'0', x'41'
                return token.text + following.text, index + 2
        if following is not None and following.kind == "punct" and following.text == "(":
            close = _matching_paren(item, index + 1)
            return text[token.start : item[close].end], close + 1
        return token.text, index + 1
    if token.text == "(":
        close = _matching_paren(item, index)
        return text[token.start : item[close].end], close + 1
    if token.text in "+-" and following is not None and following.kind == "num":
        return token.text + following.text, index + 2
    return token.text, index + 1
