"""No replace leaves a help desk nobody can log into (issue 15, point 4).

``lhc-console import --replace`` refuses a dump after which no enabled administrator exists (an
empty file, a dump cut before ``lh_users``, a dump whose administrators are all disabled, ...)
or none whose password can log in (an empty or non-bcrypt hash: red team F8), naming what is
missing, and changes nothing; ``--dry-run`` reports the same as a conflict. The
sample loaded with replace from another file is held to the same rule. Run through the real
command (``tui.command_line.main``) on a copy of the sample.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from backends import skip_where_id_counters_stay_high
from peewee import Database

from seed.exporter import export_dump
from seed.report import Authority
from seed.sample import load_sample
from store import ConflictError
from store.auth import hash_password, usable_hash, verify_password
from store.dump import all_rows
from store.models import Audit, Group, GroupUser, RoleFunction, User
from tui.command_line.main import EXIT_OK, EXIT_REFUSED, main

SAMPLE_TOML = Path(__file__).resolve().parents[1] / "seed" / "sample.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def export_with(tmp_path: Path, name: str, change: Callable[[], object] | None = None) -> Path:
    """The sample exported as it would be after ``change``, which is then rolled back."""
    path = tmp_path / name
    with Audit._meta.database.atomic() as transaction:
        if change is not None:
            change()
        export_dump(path)
        transaction.rollback()
    return path


def in_mysqldump_order_cut_before_lh_users(tmp_path: Path) -> Path:
    """The exported sample with its tables in mysqldump's (alphabetical) order, cut off just
    before ``lh_users``: groups, roles, departments are there, no user is."""
    text = export_with(tmp_path, "whole.sql").read_text(encoding="utf-8")
    first = text.index("CREATE TABLE")
    header, body = text[:first], text[first:]
    sections = re.split(r"(?=^CREATE TABLE)", body, flags=re.MULTILINE)
    named = sorted(
        (re.match(r"CREATE TABLE IF NOT EXISTS `(\w+)`", s).group(1), s)  # type: ignore[union-attr]
        for s in sections
        if s
    )
    kept = [s for table, s in named if table < "lh_users"]
    path = tmp_path / "cut-before-lh_users.sql"
    path.write_text(header + "".join(kept), encoding="utf-8")
    return path


def empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.sql"
    path.write_text("", encoding="utf-8")
    return path


def admins_disabled(tmp_path: Path) -> Path:
    return export_with(
        tmp_path,
        "admins-disabled.sql",
        lambda: User.update(disabled=1).where(User.id == 1).execute(),
    )


def no_star_star(tmp_path: Path) -> Path:
    return export_with(
        tmp_path,
        "no-admin-role.sql",
        lambda: (
            RoleFunction.delete()
            .where((RoleFunction.module == "*") & (RoleFunction.function == "*"))
            .execute()
        ),
    )


def admin_group_disabled(tmp_path: Path) -> Path:
    return export_with(
        tmp_path,
        "admin-group-disabled.sql",
        lambda: Group.update(disabled=1).where(Group.id == 1).execute(),
    )


def admin_password(hashed: str) -> Callable[[Path], Path]:
    """The sample exported with the (only) administrator's password column holding
    ``hashed``: enabled, and nobody can log in as them."""

    def make(tmp_path: Path) -> Path:
        return export_with(
            tmp_path,
            "admin-without-password.sql",
            lambda: User.update(password=hashed).where(User.id == 1).execute(),
        )

    return make


NO_PASSWORD = (
    "no enabled administrator in the dump admin-without-password.sql has a password that can "
    "log in (each one's password hash is empty or not a bcrypt hash: $2y$, $2a$ or $2b$)"
)

CASES = [
    pytest.param(empty_file, "the dump empty.sql holds no users", id="empty file"),
    pytest.param(admin_password(""), NO_PASSWORD, id="administrator with an empty hash"),
    pytest.param(admin_password("5f4dcc3b5aa765d61d8327deb882cf99"), NO_PASSWORD, id="md5 hash"),
    pytest.param(admin_password("$2y$10$garbage"), NO_PASSWORD, id="garbage bcrypt prefix"),
    pytest.param(  # bcrypt's shape, but a salt bcrypt refuses: it can never be checked
        admin_password("$2y$10$" + "a" * 53), NO_PASSWORD, id="invalid bcrypt salt"
    ),
    pytest.param(
        in_mysqldump_order_cut_before_lh_users,
        "the dump cut-before-lh_users.sql holds no users",
        id="cut before lh_users",
    ),
    pytest.param(
        admins_disabled,
        "every administrator in the dump admins-disabled.sql is disabled",
        id="all administrators disabled",
    ),
    pytest.param(
        no_star_star, "no group in the dump no-admin-role.sql grants */*", id="no */* grant"
    ),
    pytest.param(
        admin_group_disabled,
        "every group in the dump admin-group-disabled.sql that grants */* is disabled",
        id="administrators' group disabled",
    ),
]


@pytest.mark.parametrize(("make", "missing"), CASES)
def test_import_replace_refuses_a_dump_without_an_enabled_administrator(
    capsys: pytest.CaptureFixture[str],
    sample_db: Database,
    sample_url: str,
    tmp_path: Path,
    make: Callable[[Path], Path],
    missing: str,
) -> None:
    dump = make(tmp_path)
    before = all_rows()
    code, out, err = run(capsys, "import", str(dump), "--replace", "--db", sample_url)
    assert code == EXIT_REFUSED
    assert out == ""
    assert err.startswith("lhc-console: ")
    assert "would leave no enabled administrator to log in" in err
    assert missing in err
    assert "nothing was changed" in err
    assert all_rows() == before


@pytest.mark.parametrize(("make", "missing"), CASES)
def test_a_dry_run_reports_the_same_as_a_conflict(
    capsys: pytest.CaptureFixture[str],
    sample_db: Database,
    sample_url: str,
    tmp_path: Path,
    make: Callable[[Path], Path],
    missing: str,
) -> None:
    dump = make(tmp_path)
    before = all_rows()
    code, out, err = run(capsys, "import", str(dump), "--replace", "--dry-run", "--db", sample_url)
    assert code == EXIT_REFUSED
    assert "Dry run: nothing was changed." in out
    assert f"Conflict: Replacing the configuration with the dump {dump.name}" in err
    assert missing in err
    code, out, err = run(
        capsys, "import", str(dump), "--replace", "--dry-run", "--json", "--db", sample_url
    )
    assert code == EXIT_REFUSED
    conflicts = json.loads(out)["conflicts"]
    assert len(conflicts) == 1 and missing in conflicts[0]
    assert all_rows() == before


def test_a_dump_with_an_enabled_administrator_replaces_and_is_audited_as_local(
    capsys: pytest.CaptureFixture[str], sample_db: Database, sample_url: str, tmp_path: Path
) -> None:
    dump = export_with(tmp_path, "whole.sql")
    code, out, err = run(capsys, "import", str(dump), "--replace", "--dry-run", "--db", sample_url)
    assert code == EXIT_OK, err
    code, out, err = run(capsys, "import", str(dump), "--replace", "--db", sample_url)
    assert code == EXIT_OK, err
    assert out.startswith(f"Imported {out.split()[1]} rows from {dump}")
    row = Audit.select().order_by(Audit.id.desc()).get()
    message = json.loads(row.message)
    assert (row.user_id, message["action"], message["by"]) == (0, "import.dump", "local")
    assert message["replace"] is True and message["counts"]["lh_users"] == 5


def test_without_replace_an_empty_database_takes_a_partial_dump_as_before(
    capsys: pytest.CaptureFixture[str], db: Database, backend_url: str, tmp_path: Path
) -> None:
    """The guard is about replacing: importing into an empty database is not refused."""
    code, _, err = run(capsys, "import", str(empty_file(tmp_path)), "--db", backend_url)
    assert code == EXIT_OK, err


def test_the_sample_from_another_file_is_held_to_the_same_rule(
    sample_db: Database, tmp_path: Path
) -> None:
    skip_where_id_counters_stay_high()
    text = SAMPLE_TOML.read_text(encoding="utf-8")
    # The admin loses the Administrators group (1) for Operators (2): nobody holds */*.
    no_admin = re.sub(r'(username = "admin"(?:\n.*?)*?\ngroups = )\[1\]', r"\1[2]", text, count=1)
    assert no_admin != text
    path = tmp_path / "no-admin.toml"
    path.write_text(no_admin, encoding="utf-8")
    before = all_rows()
    missing = "no user in the sample no-admin.toml belongs to a group that grants */*"
    with pytest.raises(ConflictError, match=re.escape(missing)):
        load_sample(sample_db, replace=True, path=path, by=Authority.LOCAL)
    report = load_sample(sample_db, replace=True, dry_run=True, path=path, by=Authority.LOCAL)
    assert len(report.conflicts) == 1 and missing in report.conflicts[0]
    assert all_rows() == before


def test_one_enabled_administrator_with_a_usable_hash_is_enough(
    capsys: pytest.CaptureFixture[str], sample_db: Database, sample_url: str, tmp_path: Path
) -> None:
    """The admin's hash is garbage, but a second administrator (in the Administrators group)
    has a real one: someone can log in, so the replace goes ahead."""

    def second_admin() -> None:
        User.update(password="").where(User.id == 1).execute()
        other = User.create(
            username="second admin", password=hash_password("Pass-1234"), email="2@example.com"
        )
        GroupUser.create(group_id=1, user_id=other.id)

    dump = export_with(tmp_path, "second-admin.sql", second_admin)
    code, _, err = run(capsys, "import", str(dump), "--replace", "--db", sample_url)
    assert code == EXIT_OK, err
    assert User.get(User.username == "second admin").password.startswith("$2y$10$")


def test_a_usable_hash_is_exactly_one_bcrypt_can_check() -> None:
    """``usable_hash`` against bcrypt itself: what it accepts bcrypt checks (and the right
    password matches), what it refuses bcrypt rejects or can never match."""
    import bcrypt

    for cost in (4, 5):
        for password in ("a", "Pass-1234", "\u00e9t\u00e9"):
            made = bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()
            for prefix in ("$2y$", "$2a$", "$2b$"):
                spelled = prefix + made[4:]
                assert usable_hash(spelled), spelled
                assert verify_password(password, spelled)
    assert usable_hash(hash_password("x"))
    good = hash_password("x")
    for bad in (
        None,
        "",
        "x",
        "5f4dcc3b5aa765d61d8327deb882cf99",  # md5, as very old PHP sites stored
        "$2y$10$garbage",
        good[:-1],  # cut
        good + "a",  # too long
        "$2x$" + good[4:],  # PHP's buggy-8-bit variant: bcrypt here does not check it
        "$2y$03$" + good[7:],  # cost below bcrypt's range
        "$2y$32$" + good[7:],  # above it
        good[:28] + "a" + good[29:],  # a salt whose last character has stray bits
        good[:-1] + ("b" if good[-1] != "b" else "c"),  # a digest that can never be computed
    ):
        assert not usable_hash(bad), bad
        assert not verify_password("x", bad)
