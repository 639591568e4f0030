"""Where the database is and what to call it: URL resolution and display, without Peewee.

Kept apart from ``store.database`` so that the console can name its database in the title of
the first screen before Peewee (and the MySQL/PostgreSQL drivers Peewee imports with it, when
installed) are loaded; ``store.database`` re-exports these names.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "LHC_CONSOLE_DB"
APP_NAME = "lhc-console"


def default_database_path() -> Path:
    """The embedded SQLite file: ``<user data dir>/lhc-console/lhc-console.sqlite``."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "lhc-console.sqlite"


def resolve_database_url(cli_value: str | None = None) -> str:
    """``--db`` wins, then ``LHC_CONSOLE_DB``, then the embedded default file."""
    if cli_value:
        return cli_value
    env_value = os.environ.get(ENV_VAR, "").strip()
    if env_value:
        return env_value
    return f"sqlite:///{default_database_path()}"


def normalise_url(url: str) -> str:
    """Accept a bare file path as SQLite, the way a user would type it."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    return url


def describe_url(url: str) -> str:
    """A short name of the database for headers: the SQLite file name, or host/database."""
    url = normalise_url(url)
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).name or url
    rest = url.split("://", 1)[1]
    return rest.rsplit("@", 1)[-1]
