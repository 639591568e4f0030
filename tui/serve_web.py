"""``lhc-console serve-web``: the console in a browser, through textual-serve.

Each browser tab gets its own ``python -m tui`` process showing the console's own login screen;
there is no other way in, and the web server adds no account of its own. The database URL goes
to those processes in ``LHC_CONSOLE_DB`` (inherited), not on their command line, where ``ps``
would show a server password.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from store.database import ENV_VAR


def serve_web(database_url: str, host: str, port: int, public_url: str | None = None) -> None:
    """Serve until interrupted (textual-serve stops on Ctrl+C and SIGTERM)."""
    from textual_serve.server import Server

    os.environ[ENV_VAR] = database_url
    source_root = str(Path(__file__).resolve().parents[1])  # the same code as this server
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (source_root, os.environ.get("PYTHONPATH", "")) if p
    )
    command = f"{shlex.quote(sys.executable)} -m tui"
    Server(command, host=host, port=port, title="lhc-console", public_url=public_url).serve()
