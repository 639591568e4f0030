"""Input files are read with bounds and never hang (issue 17, point 3; red-team F6 and F7).

F6: ``apply`` on a TOML file of 500 nested arrays (or inline tables) ended in "internal error
(RecursionError)", exit 1, inside ``tomllib`` before anyone logged in: now a refusal, exit 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from store import ValidationError
from store.database import Database
from store.dump import all_rows
from tui.apply import load
from tui.cli import main

NESTED = {
    "arrays": "x = " + "[" * 500 + "]" * 500 + "\n",
    "inline tables": "x = " + "{a = " * 500 + "1" + "}" * 500 + "\n",
}


@pytest.mark.parametrize("kind", list(NESTED))
def test_apply_refuses_a_deeply_nested_toml_file_with_exit_2(
    kind: str,
    sample_db: Database,
    sample_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(NESTED[kind], encoding="utf-8")
    with pytest.raises(ValidationError, match="nested too deep to read"):
        load(str(path))
    monkeypatch.setenv("LHC_CONSOLE_PASSWORD", "demo")
    before = all_rows()
    code = main(["apply", str(path), "--as", "Manager US", "--db", sample_url])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "nested too deep to read" in err and "internal error" not in err
    assert all_rows() == before  # refused before the login: not even a login row
