"""``store.drivers``: a console opening SQLite loads Peewee without the server drivers.

Each case runs in a fresh interpreter, since Peewee reads its drivers once, when imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
from store.drivers import SERVER_DRIVER_MODULES, load_peewee_for
load_peewee_for({url!r})
import peewee
report = {{
    "peewee_mysql": peewee.mysql is not None,
    "peewee_psycopg": peewee.psycopg is not None,
    "loaded": sorted(m for m in ("pymysql", "psycopg") if sys.modules.get(m) is not None),
    "left_hidden": [m for m in SERVER_DRIVER_MODULES if sys.modules.get(m, 0) is None],
}}
{after}
print(json.dumps(report))
"""


def probe(url: str, after: str = "") -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(url=url, after=after)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.mark.skipif(
    not (installed("pymysql") and installed("psycopg")), reason="needs both server drivers"
)
def test_sqlite_loads_peewee_without_the_drivers_and_leaves_them_importable() -> None:
    after = """
import pymysql, psycopg  # hidden from Peewee only: the process can still import them
report["imported_afterwards"] = True
"""
    report = probe("sqlite:////tmp/x.sqlite", after)
    assert report["peewee_mysql"] is False and report["peewee_psycopg"] is False
    assert report["loaded"] == []
    assert report["left_hidden"] == []
    assert report["imported_afterwards"] is True


@pytest.mark.skipif(not installed("pymysql"), reason="needs PyMySQL")
def test_a_server_url_loads_peewee_with_its_driver() -> None:
    report = probe("mysql://u:p@127.0.0.1:1/lhc")
    assert report["peewee_mysql"] is True
    assert "pymysql" in report["loaded"]


@pytest.mark.skipif(not installed("psycopg"), reason="needs psycopg")
def test_a_server_database_after_a_sqlite_load_is_refused_with_the_reason() -> None:
    after = """
from store.database import open_database
from store.errors import StoreError
try:
    open_database("postgresql://u:p@127.0.0.1:1/lhc")
except StoreError as error:
    report["message"] = str(error)
"""
    report = probe("sqlite:////tmp/x.sqlite", after)
    assert "without the postgresql driver" in report["message"]
