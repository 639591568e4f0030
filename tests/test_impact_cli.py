"""``--dry-run`` and ``"impact"`` on the scripting write commands (issue 19, point 2).

In-process (``tui.command_line.main``) on a copy of the sample. A dry run must exit as the real
run does, leave every row as it was (the actor's login row apart), and report the impact the
real run then reports; the real run's impact must equal what ``perms --json`` and
``access --json`` say before and after it (``test_impact.py`` holds the store's preview to the
same oracle for every kind of change).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from peewee import Database
from test_impact import expected, truth
from test_script_commands import without_logins

from store.dump import all_rows
from tui.command_line.main import main


@pytest.fixture
def run(
    sample_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """``run("admin", "policy", "add", …)`` -> (exit code, stdout, stderr)."""

    def call(actor: str, *argv: str) -> tuple[int, str, str]:
        monkeypatch.setenv("LHC_CONSOLE_PASSWORD", "admin" if actor == "admin" else "demo")
        code = main([*argv, "--db", sample_db.console_url, "--as", actor])
        out, err = capsys.readouterr()
        return code, out, err

    return call


COMMANDS = {
    "policy add": ("policy", "add", "Operators", "lhfaq", "x"),
    "policy add --exclude": ("policy", "add", "Operators US", "lhchat", "use", "--exclude"),
    "policy remove": ("policy", "remove", "Operators", "lhchat", "use"),
    "group edit --role": ("group", "edit", "US Teamleaders", "--role", "Managers"),
    "group edit --disabled": ("group", "edit", "Operators", "--disabled", "yes"),
    "group edit --works-with": ("group", "edit", "US Managers", "--works-with", "US Operators"),
    "group delete": ("group", "delete", "US Teamleaders"),
    "user groups": ("user", "groups", "Operator AU", "--add", "Teamleader"),
    "user depgroups": ("user", "depgroups", "Operator US", "--add", "Departments AU"),
    "user departments": ("user", "departments", "Operator AU", "--add", "2", "--read-only"),
    "user departments --all": ("user", "departments", "Teamleader US", "--all", "yes"),
    "user edit --disabled": ("user", "edit", "Operator US", "--disabled", "yes"),
    "user delete": ("user", "delete", "Operator AU"),
    "depgroup edit": ("depgroup", "edit", "Departments US", "--department", "1", "2"),
    "depgroup delete": ("depgroup", "delete", "Departments AU"),
    "role add": ("role", "add", "Nobody's"),
}


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_dry_run_reports_the_impact_of_the_real_run_and_changes_nothing(
    run: Any, argv: tuple[str, ...]
) -> None:
    rows = without_logins(all_rows())
    before = truth()
    code, out, err = run("admin", *argv, "--dry-run", "--json")
    assert (code, err) == (0, "")
    dry = json.loads(out)
    assert dry["dry_run"] is True
    assert without_logins(all_rows()) == rows
    code, out, err = run("admin", *argv, "--json")
    assert (code, err) == (0, "")
    real = json.loads(out)
    assert real["dry_run"] is False
    assert real["impact"] == dry["impact"] == expected(before, truth())
    assert "impact_hidden" not in real  # the admin sees everyone


def test_the_text_of_a_dry_run_lists_gains_and_losses_per_user(run: Any) -> None:
    code, out, err = run("admin", "user", "depgroups", "Operator US", "--add", "1", "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines()[-3:] == [
        "Impact: 1 user gains, 0 lose",
        "  'Operator US' (#2): reads +'Departments AU' (#1); writes +'Departments AU' (#1)",
        "Dry run: nothing was changed (rolled back).",
    ]
    code, out, err = run("admin", "group", "edit", "Operators", "--disabled", "yes", "--dry-run")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[-4] == "Impact: 0 users gain, 2 lose"
    assert lines[-3].startswith("  'Operator US' (#2): loses lhcannedmsg/see_global, ")
    code, out, err = run("admin", "group", "edit", "US Managers", "--required", "yes", "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines()[-2:] == [
        "Impact: affects nobody",
        "Dry run: nothing was changed (rolled back).",
    ]


def test_a_refused_dry_run_exits_as_the_real_run_with_its_message(run: Any) -> None:
    rows = without_logins(all_rows())
    dry = run("Teamleader US", "policy", "add", "Operators", "lhfaq", "x", "--dry-run")
    real = run("Teamleader US", "policy", "add", "Operators", "lhfaq", "x")
    assert dry == real
    assert dry[0] == 2 and "lhpermission/edit" in dry[2]
    dry = run("Teamleader US", "user", "groups", "Operator AU", "--add", "1", "--dry-run")
    assert dry == run("Teamleader US", "user", "groups", "Operator AU", "--add", "1")
    assert dry[0] == 2
    assert without_logins(all_rows()) == rows


def test_users_outside_the_actors_sight_are_counted_in_impact_hidden(run: Any) -> None:
    assert run("admin", "policy", "add", "Teamleader", "lhpermission", "edit")[0] == 0
    assert (
        run("admin", "policy", "add", "Teamleader", "lhpermission", "see_permissions_users")[0] == 0
    )
    code, out, err = run(
        "Teamleader US", "policy", "add", "Operators", "lhfaq", "x", "--dry-run", "--json"
    )
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert [e["user"]["username"] for e in report["impact"]] == ["Operator US", "Operator AU"]
    assert report["impact_hidden"] == 1  # Manager US, whom Teamleader US does not see


def test_user_add_dry_run_shows_the_new_user_gaining_and_prints_no_password(
    run: Any, tmp_path: Path
) -> None:
    assert (
        run("admin", "policy", "add", "Teamleader", "lhpermission", "see_permissions_users")[0] == 0
    )
    rows = without_logins(all_rows())
    code, out, err = run(
        "Teamleader US",
        "user",
        "add",
        "Operator US 2",
        "--email",
        "operator.us2@example.com",
        "--group",
        "Operators",
        "US Operators",
        "--department-group",
        "Departments US",
        "--generate-password",
        "--dry-run",
        "--json",
    )
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert "generated_password" not in report
    [entry] = report["impact"]
    assert entry["user"] == {"id": 6, "username": "Operator US 2"}
    assert "lhchat/use" in entry["gains"] and entry["reads_gained"] == [2]
    assert without_logins(all_rows()) == rows


def test_apply_dry_run_reports_the_impact_of_the_whole_file(run: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[users]]\nusername = "Operator US"\ndepartment_groups = ["Departments AU"]\n',
        encoding="utf-8",
    )
    rows = without_logins(all_rows())
    before = truth()
    code, out, err = run("Manager US", "apply", str(plan), "--dry-run")
    assert (code, err) == (0, "")
    assert "Impact: 1 user gains, 1 loses" in out.splitlines()
    assert out.splitlines()[-1].startswith("Dry run: ")
    code, out, err = run("Manager US", "apply", str(plan), "--dry-run", "--json")
    dry = json.loads(out)
    assert without_logins(all_rows()) == rows
    code, out, err = run("Manager US", "apply", str(plan), "--json")
    real = json.loads(out)
    assert (dry["dry_run"], real["dry_run"]) == (True, False)
    assert real["impact"] == dry["impact"] == expected(before, truth())
    [entry] = real["impact"]
    assert (entry["reads_gained"], entry["reads_lost"]) == ([1], [2])
