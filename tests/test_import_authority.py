"""Replacing the configuration is an administrator's act (issue 15, point 1; SPEC §3.2 rule 4).

Loading the sample or importing a dump by a logged-in person needs ``*/*``: Manager US
(``lhuser/*``) and a user holding ``lhuser/import`` (LHC's CSV user import) are neither offered
the import screen nor let through by the store. The first-run mode loads only into an empty
database and never replaces. Every load leaves one ``lh_audits`` row naming who loaded what,
and a dump's own history rows are told apart from the console's by the id ranges that row
records. Each refusal changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from backends import skip_where_id_counters_stay_high
from peewee import Database
from pilot import SIZE, log_in, settle
from textual.widgets import Checkbox, Input, Static

from screens.empty import EmptyDatabaseScreen
from screens.home import HomeScreen
from screens.login import LoginScreen
from seed.exporter import export_dump
from seed.importer import import_dump
from seed.report import Authority
from seed.sample import load_sample
from store import ScopeError, Session
from store.dump import all_rows, table_counts
from store.models import Audit, User, UserLogin
from tui.shell.app import LhcConsole

PROJECT = Path(__file__).resolve().parents[1]
ADMIN = 1
CSV_USER, CSV_PASSWORD = "CSV importer", "Csv-import-pass-1"


def give_only_lhuser_import(admin: Session) -> int:
    """A user whose one group's one role grants ``lhuser/import`` and nothing else."""
    role = admin.roles.create("CSV import")
    admin.roles.add_policy(role.id, "lhuser", "import")
    group = admin.groups.create("CSV importers", required=True)
    admin.groups.attach_role(group.id, role.id)
    user = admin.users.create(
        username=CSV_USER, password=CSV_PASSWORD, email="csv@example.com", groups=[group.id]
    )
    return user.id


def exported(tmp_path: Path) -> Path:
    path = tmp_path / "export.sql"
    export_dump(path)
    return path


def last_audit() -> tuple[Audit, dict[str, Any]]:
    row = Audit.select().order_by(Audit.id.desc()).get()
    return row, json.loads(row.message)


# -- the console: who is offered the import screen -----------------------------------------


@pytest.mark.parametrize("who", ["Manager US", CSV_USER])
async def test_a_non_administrator_is_not_offered_the_import_screen(
    sample_db: Database, sample_url: str, who: str
) -> None:
    give_only_lhuser_import(Session(sample_db, ADMIN))
    password = CSV_PASSWORD if who == CSV_USER else "demo"
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, who, password)
        home = app.screen
        assert isinstance(home, HomeScreen)
        assert "import" not in app.session.permissions.capabilities()
        assert home.check_action("go", ("i",)) is False
        titles = {c.title for c in app.get_system_commands(home)}
        assert "open: Import" not in titles
        await pilot.press("i")
        await settle(pilot)
        assert app.screen is home


async def test_admin_replaces_from_the_screen_and_the_audit_row_names_admin(
    sample_url: str,
) -> None:
    from screens.confirm import ConfirmScreen
    from screens.sample_import import SampleImportScreen

    skip_where_id_counters_stay_high()
    app = LhcConsole(sample_url)
    async with app.run_test(size=SIZE) as pilot:
        await log_in(pilot, "admin", "admin")
        assert "open: Import" in {c.title for c in app.get_system_commands(app.screen)}
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, SampleImportScreen)
        app.screen.query_one("#replace", Checkbox).value = True
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
    row, message = last_audit()
    assert (row.user_id, row.category, message["action"]) == (ADMIN, "import", "import.sample")
    assert message["loaded"] == "sample" and message["source"] == "built-in sample"
    assert message["replace"] is True and message["by"] == "session"
    assert message["counts"]["lh_users"] == 5 and message["counts"]["lh_group"] == 10
    # the installer's per-object rows of the load come right before it, and say so
    installer = message["installer_rows"]["lh_audits"]
    assert installer["last_id"] == row.id - 1
    loaded = Audit.select().where(Audit.id.between(installer["first_id"], row.id - 1))
    assert loaded.count() == installer["rows"]


# -- the store: who may load ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["Manager US", "Teamleader US", CSV_USER])
@pytest.mark.parametrize("dry_run", [False, True])
def test_the_store_refuses_a_non_administrator_and_nothing_changes(
    sample_db: Database, tmp_path: Path, who: str, dry_run: bool
) -> None:
    give_only_lhuser_import(Session(sample_db, ADMIN))
    actor = Session(sample_db, User.get(User.username == who).id)
    dump = exported(tmp_path)
    before = all_rows()
    for replace in (False, True):
        with pytest.raises(ScopeError, match=r"only administrators \(\*/\*\)"):
            load_sample(sample_db, replace=replace, dry_run=dry_run, by=actor)
        with pytest.raises(ScopeError, match=r"lhuser/import is LHC's CSV user import"):
            import_dump(sample_db, dump, replace=replace, dry_run=dry_run, by=actor)
    assert all_rows() == before


def test_a_loader_without_a_named_authority_is_refused(sample_db: Database) -> None:
    before = table_counts()
    with pytest.raises(TypeError):
        load_sample(sample_db, replace=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="name who loads"):
        load_sample(sample_db, replace=True, by=None)  # type: ignore[arg-type]
    assert table_counts() == before


def test_an_admin_import_audits_admin_with_source_counts_and_the_imported_id_ranges(
    sample_db: Database, tmp_path: Path
) -> None:
    for _ in range(2):  # login history to carry over in the dump
        Session.login(sample_db, "Operator US", "demo")
    dump = exported(tmp_path)
    audits_before = Audit.select().count()
    logins_before = UserLogin.select().count()
    last_audit_id = Audit.select().order_by(Audit.id.desc()).get().id
    last_login_id = UserLogin.select().order_by(UserLogin.id.desc()).get().id

    report = import_dump(sample_db, dump, replace=True, by=Session(sample_db, ADMIN))

    row, message = last_audit()
    assert (row.user_id, row.source, message["action"]) == (ADMIN, "lhc-console", "import.dump")
    assert message["loaded"] == "dump" and message["source"] == "export.sql"
    assert message["replace"] is True and message["by"] == "session"
    assert message["counts"] == report.counts and message["counts"]["lh_users"] == 5
    history = message["imported_history"]
    audits = history["lh_audits"]
    assert audits == {
        "first_id": last_audit_id + 1,
        "last_id": row.id - 1,
        "rows": audits_before,  # every row of the file, none of them the console's own
    }
    logins = history["lh_users_login"]
    assert logins == {
        "first_id": last_login_id + 1,
        "last_id": last_login_id + logins_before,
        "rows": logins_before,
    }
    # Rows the dump brought look like the console's own (even an "import" row by user 1):
    # only the range tells them apart.
    from_file = Audit.select().where(Audit.id.between(audits["first_id"], audits["last_id"]))
    assert from_file.count() == audits["rows"]
    assert Audit.select().where(Audit.id > row.id).count() == 0


def test_an_admin_loads_the_sample_over_itself_with_replace(sample_db: Database) -> None:
    skip_where_id_counters_stay_high()
    report = load_sample(sample_db, replace=True, by=Session(sample_db, ADMIN))
    row, message = last_audit()
    assert (row.user_id, message["action"], message["replace"]) == (ADMIN, "import.sample", True)
    assert message["counts"] == report.counts


# -- the first run: only into an empty database, never a replace --------------------------


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("dry_run", [False, True])
def test_the_first_run_mode_refuses_a_database_with_users_and_nothing_changes(
    sample_db: Database, tmp_path: Path, replace: bool, dry_run: bool
) -> None:
    dump = exported(tmp_path)
    before = all_rows()
    with pytest.raises(ScopeError, match=r"only into an empty database.*5 users"):
        load_sample(sample_db, replace=replace, dry_run=dry_run, by=Authority.FIRST_RUN)
    with pytest.raises(ScopeError, match=r"log in as an administrator"):
        import_dump(sample_db, dump, replace=replace, dry_run=dry_run, by=Authority.FIRST_RUN)
    assert all_rows() == before


def test_the_first_run_load_is_audited_as_the_installer(db: Database) -> None:
    load_sample(db, by=Authority.FIRST_RUN)
    row, message = last_audit()
    assert (row.user_id, message["action"], message["by"]) == (0, "import.sample", "first run")
    assert message["replace"] is False and message["counts"]["lh_users"] == 5


def load_sample_elsewhere(url: str) -> None:
    """Another process loads the sample meanwhile (``lhc-console sample``)."""
    result = subprocess.run(
        [sys.executable, "-m", "tui", "sample", "--db", url],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


async def test_the_first_run_screen_refuses_once_someone_loaded_meanwhile(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    app = LhcConsole(url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, EmptyDatabaseScreen)
        load_sample_elsewhere(url)
        before = all_rows()
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, EmptyDatabaseScreen) and app.session is None
        status = str(app.screen.query_one("#empty-status", Static).render())
        assert "Not loaded" in status and "only into an empty database" in status
        assert all_rows() == before


async def test_the_first_run_import_screen_offers_no_replace_and_refuses_meanwhile(
    tmp_path: Path,
) -> None:
    from screens.sample_import import SampleImportScreen

    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    app = LhcConsole(url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SampleImportScreen)
        replace = screen.query_one("#replace", Checkbox)
        assert replace.display is False
        replace.value = True  # ticked anyway: still never a replace
        load_sample_elsewhere(url)
        dump = exported(tmp_path)
        before = all_rows()
        await pilot.press("down", "enter")
        screen.query_one("#path", Input).value = str(dump)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert app.screen is screen and app.session is None
        preview = str(screen.query_one("#preview", Static).render())
        assert "Nothing imported" in preview and "only into an empty database" in preview
        assert all_rows() == before


def test_a_session_cannot_be_mistaken_for_first_run(db: Database) -> None:
    from screens.sample_import import SampleImportScreen

    with pytest.raises(ValueError, match="needs a session"):
        SampleImportScreen(db, None)
