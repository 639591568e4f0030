"""The command line prints stored names as text, never as terminal control (issue 17, point 1).

Names holding an ANSI escape, an OSC window-title sequence ended by BEL, a C1 CSI (``\\x9b``),
a bidi override, a zero-width space and a line feed are written straight into every kind of
object of the sample (users, groups, roles, policies, departments, department groups), as
another tool or LHC's back office would. Then every report and listing the CLI has runs, as
text and as ``--json``, and neither stdout nor stderr may carry a control, bidi or zero-width
character (a line feed only between lines); the text shows each name with its controls as
``\\x1b``-style escapes, and the JSON parses back to the names exactly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.database import Database
from store.models import Department, DepartmentGroup, Group, Role, RoleFunction, User
from store.printable import printable
from tui.command_line.main import main
from tui.command_line.output import PrintableStream, json_text, say_lines

ESC = "\x1b[31mRED"
OSC = "\x1b]0;pwned\x07"
C1 = "\x9b2J"
BIDI = "\u202eevil"
ZERO = "zero\u200bwidth"
FEED = "two\nlines"

USERS = {2: f"Op {ESC}{OSC}", 3: f"AU {C1}{BIDI}", 4: f"TL {ZERO}"}
GROUPS = {2: f"Grp {OSC} {ZERO}", 4: f"{C1} US Ops {FEED}", 5: f"AU {BIDI}"}
ROLES = {3: f"Role {ESC}\x07", 6: f"{BIDI} role"}
DEPARTMENTS = {1: f"Dep {ZERO} {C1}", 2: f"{FEED} {OSC}"}
DEPARTMENT_GROUPS = {1: f"DG {BIDI}", 2: f"DG {ESC}"}
POLICY = ("lh\x1bmod", f"fn{BIDI}", f"not json {OSC}")
NAMES = [
    *USERS.values(),
    *GROUPS.values(),
    *ROLES.values(),
    *DEPARTMENTS.values(),
    *DEPARTMENT_GROUPS.values(),
    *POLICY,
]

# No C0/C1 control (the line feed is checked per line), DEL, bidi, zero-width or BOM character.
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def make_names_hostile() -> None:
    """Hostile names in every kind of object, written directly (no store validation)."""
    for user_id, name in USERS.items():
        User.update(username=name, name=BIDI, surname=C1, email=f"{user_id}{ZERO}@x.example").where(
            User.id == user_id
        ).execute()
    for group_id, name in GROUPS.items():
        Group.update(name=name).where(Group.id == group_id).execute()
    for role_id, name in ROLES.items():
        Role.update(name=name).where(Role.id == role_id).execute()
    for department_id, name in DEPARTMENTS.items():
        Department.update(name=name).where(Department.id == department_id).execute()
    for dep_group_id, name in DEPARTMENT_GROUPS.items():
        DepartmentGroup.update(name=name).where(DepartmentGroup.id == dep_group_id).execute()
    module, function, limitation = POLICY
    RoleFunction.create(role_id=3, module=module, function=function, limitation=limitation)


@pytest.fixture
def hostile_url(sample_db: Database, sample_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    make_names_hostile()
    monkeypatch.setenv("LHC_CONSOLE_PASSWORD", "admin")
    return sample_url


def assert_inert(out: str, err: str, command: list[str]) -> None:
    for stream in (out, err):
        for line in stream.split("\n"):
            found = FORBIDDEN.search(line)
            assert found is None, f"{command}: {found.group()!r} reaches the terminal: {line!r}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert_inert(out, err, list(argv))
    return code, out, err


def text_of(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> str:
    code, out, err = run(capsys, *argv, "--db", url)
    assert code == 0, err
    return out


def strings(value: object) -> list[str]:
    """Every string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def json_of(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> str:
    """The strings of the command's ``--json`` output as a script reading it gets them."""
    code, out, err = run(capsys, *argv, "--db", url, "--json")
    assert code == 0, err
    return "\n".join(strings(json.loads(out)))


SUBJECT = USERS[3]  # Operator AU: in 'AU …' groups, reading the departments
ACTOR = ("--as", "admin")
COMMANDS: list[tuple[str, ...]] = [
    ("scope", "admin"),
    ("scope", USERS[4]),
    ("perms", SUBJECT),
    ("perms", USERS[4]),
    ("who-grants", USERS[4], POLICY[0], POLICY[1]),
    ("access", SUBJECT),
    ("access", USERS[4]),
    ("lint",),
    ("user", "list", *ACTOR),
    ("user", "show", USERS[2], *ACTOR),
    ("user", "show", SUBJECT, *ACTOR),
    ("group", "list", *ACTOR),
    ("group", "show", "#4", *ACTOR),
    ("role", "list", *ACTOR),
    ("role", "show", "#3", *ACTOR),
    ("depgroup", "list", *ACTOR),
    ("depgroup", "show", "#2", *ACTOR),
]


def test_every_report_and_listing_shows_hostile_names_escaped_and_sends_no_control(
    hostile_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = [text_of(capsys, hostile_url, *command) for command in COMMANDS]
    shown = "\n".join(texts)
    for name in NAMES:
        assert printable(name) in shown, f"{printable(name)!r} is not shown"
    # A line feed in a name cannot forge a line: the group's name is one line, escaped.
    assert any(line.startswith(printable(GROUPS[4])) for line in shown.split("\n"))
    assert "\nlines" not in shown
    parsed = "\n".join(json_of(capsys, hostile_url, *command) for command in COMMANDS)
    for name in NAMES:
        assert name in parsed, f"{name!r} does not come back from the JSON"


def test_can_prints_a_plain_answer_for_a_hostile_user(
    hostile_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "can", USERS[4], POLICY[0], POLICY[1], "--db", hostile_url)
    assert (code, out) == (0, "yes\n")


def test_refusals_quoting_hostile_names_reach_stderr_escaped(
    hostile_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Messages of the store and of argparse quote what was stored or typed: escaped too."""
    code, _, err = run(capsys, "role", "delete", "#3", *ACTOR, "--db", hostile_url)
    assert code == 2 and err.startswith("lhc-console: ")
    code, _, err = run(capsys, "user", "show", f"nobody {OSC}", *ACTOR, "--db", hostile_url)
    assert code == 2 and printable(OSC) in err
    with pytest.raises(SystemExit) as exit_:
        main(["group", "list", "--db", hostile_url, f"--bogus{OSC}{BIDI}"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2
    assert_inert(out, err, ["group", "list", "--bogus"])
    assert printable(f"--bogus{OSC}{BIDI}") in err


def test_import_and_apply_reports_name_hostile_users_escaped(
    hostile_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dump = tmp_path / "hostile.sql"
    text_of(capsys, hostile_url, "export", str(dump))
    code, out, err = run(capsys, "import", str(dump), "--db", str(tmp_path / "a.sqlite"))
    assert code == 0, err
    assert printable(USERS[2]) in out and printable(GROUPS[4]) in out
    code, out, _ = run(capsys, "import", str(dump), "--db", str(tmp_path / "b.sqlite"), "--json")
    assert code == 0 and USERS[2] in strings(json.loads(out))
    plan = tmp_path / "plan.toml"
    plan.write_text(
        "[[users]]\nusername = " + json.dumps(USERS[2]) + '\nname = "Renamed"\n', encoding="utf-8"
    )
    out = text_of(capsys, hostile_url, "apply", str(plan), *ACTOR)
    assert printable(repr(USERS[2])) in out


@given(st.text())
def test_the_writer_sends_only_printable_characters_and_line_feeds(text: str) -> None:
    """Whatever a name holds: each line printed is printable; the JSON is printable and parses
    back to the same text; the stream wrapper keeps line feeds and escapes the rest."""
    lines: list[str] = []

    class Sink:
        def write(self, piece: str) -> int:
            lines.append(piece)
            return len(piece)

    stream = PrintableStream(Sink())  # type: ignore[arg-type]
    stream.write(text)
    assert all(ch.isprintable() or ch == "\n" for ch in "".join(lines))
    assert "".join(lines).count("\n") == text.count("\n")
    encoded = json_text({"name": text})
    assert encoded.isprintable() and json.loads(encoded) == {"name": text}


def test_say_lines_prints_one_line_per_item_whatever_it_holds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    say_lines([FEED, OSC, "plain Zürich"])
    out, _ = capsys.readouterr()
    assert out == "two\\nlines\n\\x1b]0;pwned\\x07\nplain Zürich\n"


def test_an_argument_that_is_not_utf8_is_a_refusal_not_an_internal_error(
    sample_url: str, tmp_path: Path
) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates ('\\udcff'); the database
    driver cannot encode them. A refusal (exit 2), with nothing written (red team, round 2)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "LHC_CONSOLE_PASSWORD": "demo"}
    args = [sys.executable, "-m", "tui", "user", "show", b"\xff".decode("utf-8", "surrogateescape")]
    done = subprocess.run(
        [*args, "--as", "Teamleader US", "--db", sample_url],
        capture_output=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert b"not UTF-8" in done.stderr and b"internal error" not in done.stderr
