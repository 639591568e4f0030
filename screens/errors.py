"""Unexpected errors: a full entry in the console's log file, a short message on the screen.

Nothing a person can trigger shows a traceback: code, paths and local variables go to the log
file only (``log_file()``: ``<user log dir>/console.log``, ``~/.local/state/lhc-console/log/
console.log`` on Linux; owner-only permissions, one 1 MiB backup kept), and the screen says
which kind of error happened and a reference to find its entry (``short_message``). Over SSH
the console runs on the server, so the log is the server's and the client sees only the
message.

``GuardedDispatch`` keeps a screen alive: Textual stops a message pump for good when one of
its handlers raises; with this mixin the error is reported (through ``App._handle_exception``,
which the console overrides) and the screen goes on handling keys.
"""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

if TYPE_CHECKING:
    from logging.handlers import RotatingFileHandler

APP_NAME = "lhc-console"
LOG_MAX_BYTES = 1024 * 1024
LOG_BACKUPS = 1
REPEAT_WINDOW = 60.0  # the same error again within this many seconds is counted, not re-logged

log = logging.getLogger("lhc-console")
log.propagate = False  # never Python's last-resort handler, which writes to stderr
_handler: RotatingFileHandler | None = None
_recent: dict[tuple[str, ...], tuple[float, str, int]] = {}  # signature -> (when, ref, repeats)


def log_file() -> Path:
    """Where unexpected errors are written (the platform's user log directory)."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)) / "console.log"


def _ensure_handler() -> bool:
    """Attach the file handler for ``log_file()`` (again if the path changed)."""
    global _handler
    path = log_file()
    if _handler is not None and Path(_handler.baseFilename) == path.absolute():
        return True
    from logging.handlers import RotatingFileHandler

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            path.touch(mode=0o600)
        handler = RotatingFileHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError:
        return False
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(message)s"))
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
    _handler = handler
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return True


def _signature(error: BaseException) -> tuple[str, ...]:
    frames = traceback.extract_tb(error.__traceback__)
    where = tuple(f"{f.filename}:{f.lineno}" for f in frames[-3:])
    return (type(error).__qualname__, str(error)[:200], *where)


def record(error: BaseException, context: str = "") -> str:
    """Write ``error`` with its traceback to the log; return its short reference.

    The same error raised again within ``REPEAT_WINDOW`` seconds (a widget failing on every
    repaint) keeps its first reference and is counted instead of written again.
    """
    error = unwrap(error)
    now = time.monotonic()
    signature = _signature(error)
    seen = _recent.get(signature)
    if seen is not None and now - seen[0] < REPEAT_WINDOW:
        _recent[signature] = (seen[0], seen[1], seen[2] + 1)
        return seen[1]
    import secrets

    ref = secrets.token_hex(3)
    if seen is not None and seen[2]:
        log.error("error %s was raised %d more times", seen[1], seen[2])
    _recent[signature] = (now, ref, 0)
    if len(_recent) > 256:
        _recent.pop(next(iter(_recent)))
    if _ensure_handler():
        details = "".join(traceback.format_exception(error))
        log.error("error %s%s\n%s", ref, f" ({context})" if context else "", details.rstrip())
    return ref


def unwrap(error: BaseException) -> BaseException:
    """The error a Textual ``WorkerFailed`` wraps, or ``error`` itself."""
    inner = getattr(error, "error", None)
    if type(error).__name__ == "WorkerFailed" and isinstance(inner, BaseException):
        return inner
    return error


def short_message(error: BaseException, ref: str) -> str:
    """What the person sees: the kind of error and the log reference, no code, path or data."""
    return (
        f"Unexpected error ({type(unwrap(error)).__name__}), logged as {ref}. "
        "The console keeps running; what you were doing may not have been done."
    )


def stderr_line(ref: str, *, with_path: bool) -> str:
    """The one line printed when the console cannot go on (no traceback, no locals)."""
    where = f" in {log_file()}" if with_path else " in the console's log on the server"
    return f"lhc-console stopped after an unexpected error; details are logged as {ref}{where}."


class GuardedDispatch:
    """Mixin for screens: an exception in a handler is reported and the screen goes on.

    Textual's message loop ends a pump after a handler raises; catching the error here, around
    each message, keeps the screen's keys working after the report.
    """

    async def _dispatch_message(self, message: Any) -> None:
        try:
            await super()._dispatch_message(message)  # type: ignore[misc]
        except Exception as error:
            self.app._handle_exception(error)  # type: ignore[attr-defined]
