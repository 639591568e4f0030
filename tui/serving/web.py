"""``lhc-console serve-web``: the console in a browser, through textual-serve.

Each browser tab gets its own console process (``python -m tui.serving.web --client ADDRESS``)
showing the console's own login screen; there is no other way in, and the web server adds no
account of its own. The database URL goes to those processes in ``LHC_CONSOLE_DB`` (inherited),
not on their command line, where ``ps`` would show a server password.

textual-serve draws the page and runs each console (``AppService``); this module decides who
gets one:

- Only pages of this server drive consoles: a request whose ``Origin`` is not the server's own
  address (``--listen``, its loopback aliases when it listens on loopback, or ``--public-url``)
  is refused with 403, and so is a WebSocket upgrade without an ``Origin``. Otherwise any page
  open in a browser that holds the documented ``ssh -L`` tunnel could open consoles in it.
  The page may not be framed by another site.
- ``max_sessions`` consoles at most: a socket beyond them gets a message and is closed before
  any console process starts.
- ``idle_timeout`` seconds without a keystroke (typing or a resize) ends a console.
- A console is never the local one: an empty database shows "no users yet", not the first-run
  screen, and a login on its form records the browser's address (the socket's peer) in
  ``lh_users_login``. A login that cannot be recorded (the database became read-only after
  the server started) is refused unchecked with the one answer, and logged in the console log.
- One log line per socket on stderr: address, start, end, reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from store.locations import ENV_VAR
from store.source_throttle import SETTINGS_ENV_VAR as THROTTLE_SETTINGS
from store.source_throttle import STATE_ENV_VAR as THROTTLE_STATE
from store.source_throttle import ThrottleSettings

from .idle import IdleTimer

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web
    from textual_serve.app_service import AppService

CONSOLE_MODULE = "tui.serving.web"
CLIENT_OPTION = "--client"
WEB_CLIENT_FALLBACK = "web"  # recorded when the peer's address is unknown
STOP_GRACE_S = 5.0
MAX_MESSAGE_BYTES = 1024 * 1024
TERMINAL_RESET = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[?1049l\x1b[?25h\x1b[0m"
)
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

Origin = tuple[str, str, int]


@dataclass(frozen=True)
class WebSettings:
    database_url: str
    host: str
    port: int  # 0: any free port (printed)
    public_url: str | None
    max_sessions: int
    idle_timeout: float  # 0: never
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)


# -- origins ----------------------------------------------------------------------------------


def origin_of(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an http(s) URL or ``Origin`` header; None if it is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    return scheme, host, port or (443 if scheme == "https" else 80)


def own_origins(host: str, port: int, public_url: str | None) -> frozenset[Origin]:
    """The pages allowed to drive consoles: the server's own address, and ``--public-url``.

    Listening on loopback, ``localhost``, ``127.0.0.1`` and ``::1`` at that port are the same
    server (or, on the browser's machine, the ``ssh -L`` tunnel to it).
    """
    from .commands import is_loopback

    hosts = {host.lower().strip("[]")}
    if is_loopback(host):
        hosts |= {"localhost", "127.0.0.1", "::1"}
    origins = {("http", name, port) for name in hosts}
    if public_url is not None and (public := origin_of(public_url)) is not None:
        origins.add(public)
    return frozenset(origins)


def _show_origin(origin: Origin) -> str:
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    return f"{scheme}://{host}" + ("" if default else f":{port}")


# -- logging ----------------------------------------------------------------------------------


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(text: str) -> str:
    """Client-chosen text in a log line: quoted, control characters escaped (no forged lines)."""
    return json.dumps(text[:200], ensure_ascii=False)


def _log(address: str, started: float, reason: str) -> None:
    print(
        f"lhc-console serve-web: address={address} start={_stamp(started)} "
        f"end={_stamp(time.time())} reason={reason}",
        file=sys.stderr,
        flush=True,
    )


def _peer(request: web.BaseRequest) -> tuple[str, str]:
    """The client's IP (for ``lh_users_login``) and ``ip:port`` (for the log) of a request."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer or not isinstance(peer, tuple):
        return WEB_CLIENT_FALLBACK, "?"
    ip = str(peer[0])
    return ip, (f"[{ip}]:{peer[1]}" if ":" in ip else f"{ip}:{peer[1]}")


def _clamp(value: object, default: int) -> int:
    number = value if isinstance(value, int) else int(str(value)) if str(value).isdigit() else 0
    return number if 0 < number <= 1000 else default


# -- the server ---------------------------------------------------------------------------------


class ConsoleWebServer:
    """textual-serve's page and console processes behind the origin check and session limit."""

    def __init__(self, settings: WebSettings) -> None:
        from textual_serve.download_manager import DownloadManager
        from textual_serve.server import Server

        self.settings = settings
        self.pages = Server(
            "lhc-console", settings.host, settings.port, "lhc-console", settings.public_url
        )
        self.downloads = DownloadManager()
        self.origins = own_origins(settings.host, settings.port, settings.public_url)
        self.active_sessions = 0
        self.consoles: set[WebConsole] = set()

    @property
    def full(self) -> bool:
        return self.active_sessions >= self.settings.max_sessions

    def make_app(self) -> web.Application:
        import aiohttp_jinja2
        import jinja2
        from aiohttp import web

        @web.middleware
        async def only_own_pages(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            return await self._only_own_pages(request, handler)

        app = web.Application(middlewares=[only_own_pages])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.pages.templates_path))
        app.add_routes(
            [
                web.get("/", self.pages.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.static("/static", self.pages.statics_path, name="static"),
            ]
        )
        app.on_response_prepare.append(self._add_headers)
        app.on_shutdown.append(self._shut_down)
        return app

    def bound(self, port: int) -> None:
        """The port is known (``--listen`` with port 0): the page and the origins use it."""
        if port == self.settings.port:
            return
        host = self.settings.host
        if self.settings.public_url is None:
            self.pages.public_url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        self.origins = own_origins(host, port, self.settings.public_url)

    async def _only_own_pages(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Refuse (403) a request from another site's page, and a socket without an Origin."""
        from aiohttp import web

        origin = request.headers.get("Origin")
        upgrade = request.path == "/ws" or "websocket" in request.headers.get("Upgrade", "").lower()
        if origin is None and not upgrade:
            return await handler(request)  # a navigation: browsers send no Origin
        if origin is not None and origin_of(origin) in self.origins:
            return await handler(request)
        _ip, address = _peer(request)
        _log(address, time.time(), f"refused: origin {_quote(origin or '(none)')}")
        return web.Response(
            status=403,
            text="lhc-console: this server serves only its own pages (the Origin is not its "
            "address; see --public-url)\n",
        )

    async def _add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser tab: a console, unless all sessions are in use."""
        from aiohttp import WSCloseCode, web

        started = time.time()
        ip, address = _peer(request)
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
        if self.full:  # before any console process starts
            await websocket.prepare(request)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await websocket.send_bytes(
                    f"lhc-console: all {self.settings.max_sessions} sessions are in use; "
                    "try again later.\r\n".encode()
                )
                await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"server full")
            _log(address, started, "refused: server full")
            return websocket
        self.active_sessions += 1
        console = WebConsole(self, websocket, ip)
        self.consoles.add(console)
        try:
            await websocket.prepare(request)
            await console.run(
                _clamp(request.query.get("width", "80"), 80),
                _clamp(request.query.get("height", "24"), 24),
            )
        finally:
            self.consoles.discard(console)
            self.active_sessions -= 1
            await console.stop_service()
            _log(address, started, console.reason or "browser closed")
        return websocket

    async def _shut_down(self, app: web.Application) -> None:
        ending = [
            console.end("lhc-console: the server is shutting down.", "server shutting down")
            for console in list(self.consoles)
        ]
        if ending:
            await asyncio.wait([asyncio.ensure_future(e) for e in ending], timeout=STOP_GRACE_S)


class WebConsole:
    """One socket's console process: its input, its idle timer, its end."""

    def __init__(self, server: ConsoleWebServer, websocket: web.WebSocketResponse, ip: str) -> None:
        self.server = server
        self.websocket = websocket
        self.ip = ip
        self.service: AppService | None = None
        self.reason: str | None = None
        self.ending = False
        self.idle = IdleTimer(server.settings.idle_timeout, self._idle)

    def command(self) -> str:
        """The console process; ``exec`` so that stopping it stops Python, not a shell."""
        return (
            f"exec {shlex.quote(sys.executable)} -m {CONSOLE_MODULE} "
            f"{CLIENT_OPTION} {shlex.quote(self.ip)}"
        )

    async def run(self, width: int, height: int) -> None:
        from aiohttp import WSMsgType
        from textual_serve.app_service import AppService

        service = AppService(
            self.command(),
            write_bytes=self.websocket.send_bytes,
            write_str=self.websocket.send_str,
            close=self._console_closed,
            download_manager=self.server.downloads,
        )
        self.service = service
        await service.start(width, height)
        self.touch()
        async for message in self.websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope or self.service is None:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                self.touch()
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                self.touch()
                await service.set_terminal_size(
                    _clamp(data.get("width"), 80), _clamp(data.get("height"), 24)
                )
            elif kind == "ping":
                await self.websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def _console_closed(self) -> None:
        """The console process ended (the person quit): close the socket, unless we are."""
        if not self.ending:
            self.reason = self.reason or "console exited"
            await self.websocket.close()

    # -- idle timeout ---------------------------------------------------------------------

    def touch(self) -> None:
        """A keystroke or a resize: the console is in use."""
        if not self.ending:
            self.idle.touch()

    def _idle(self) -> None:
        timeout = self.idle.timeout
        asyncio.get_running_loop().create_task(
            self.end(
                f"lhc-console: closed after {timeout:g} s without a keystroke.",
                f"idle for {timeout:g} s",
            )
        )

    # -- the end ----------------------------------------------------------------------------

    async def end(self, message: str, reason: str) -> None:
        """Stop the console, then tell the browser why and close the socket."""
        if self.ending:
            return
        self.ending = True
        self.reason = self.reason or reason
        await self.stop_service()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.websocket.send_bytes(TERMINAL_RESET + f"\r\n{message}\r\n".encode())
            await self.websocket.close(message=reason.encode("utf-8")[:120])

    async def stop_service(self) -> None:
        """Ask the console to quit; kill it if it has not within ``STOP_GRACE_S``."""
        self.idle.cancel()
        service, self.service = self.service, None
        if service is None:
            return
        # A hung or broken console must not outlive its socket.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(service.stop(), STOP_GRACE_S)
        process = getattr(service, "_process", None)
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


# -- entry points ---------------------------------------------------------------------------


async def serve(settings: WebSettings, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or forever); prints where it listens."""
    from aiohttp import web

    os.environ[ENV_VAR] = settings.database_url
    # The same code as this server: the folder above tui/serving/.
    source_root = str(Path(__file__).resolve().parents[2])
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (source_root, os.environ.get("PYTHONPATH", "")) if p
    )
    # One per-address throttle for every tab's console: a private state file they share.
    throttle_dir = tempfile.mkdtemp(prefix="lhc-console-web-")  # 0700
    os.environ[THROTTLE_STATE] = os.path.join(throttle_dir, "failed-logins.json")
    os.environ[THROTTLE_SETTINGS] = settings.throttle.encode()
    server = ConsoleWebServer(settings)
    runner = web.AppRunner(server.make_app(), access_log=None, shutdown_timeout=STOP_GRACE_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        addresses = runner.addresses
        port = addresses[0][1] if addresses else settings.port
        server.bound(port)
        print(
            f"lhc-console serve-web: listening on {server.pages.public_url}; "
            f"at most {settings.max_sessions} sessions"
            + (f", idle timeout {settings.idle_timeout:g} s" if settings.idle_timeout else "")
            + "; pages and consoles only for "
            + ", ".join(sorted(_show_origin(o) for o in server.origins)),
            flush=True,
        )
        await (stop.wait() if stop is not None else asyncio.Event().wait())
    finally:
        await runner.cleanup()
        shutil.rmtree(throttle_dir, ignore_errors=True)


def console_main(argv: list[str] | None = None) -> int:
    """The console of one browser tab: the login screen, never the first-run screen."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != CLIENT_OPTION:
        print(
            "lhc-console: this is serve-web's console process; "
            "start the server with 'lhc-console serve-web'.",
            file=sys.stderr,
        )
        return 2
    try:
        ip = str(ipaddress.ip_address(args[1]))
    except ValueError:
        ip = WEB_CLIENT_FALLBACK
    from store.locations import resolve_database_url
    from tui.shell.app import run_console

    return run_console(
        resolve_database_url(None), local=False, login_ip=ip, require_recorded_logins=True
    )


if __name__ == "__main__":
    raise SystemExit(console_main())
