"""The ``serve-ssh`` and ``serve-web`` commands: their arguments and how they start.

Kept apart from ``tui.command_line.main`` (which only registers them) and from the servers
themselves (``ssh``, ``web``), so that ``lhc-console`` without these commands never imports
asyncssh or aiohttp.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from store.locations import APP_NAME, resolve_database_url

if TYPE_CHECKING:
    from store.database import Database
    from store.source_throttle import ThrottleSettings

SSH_DEFAULT = ("127.0.0.1", 2222)
WEB_DEFAULT = ("127.0.0.1", 8000)
EXIT_OK = 0
EXIT_REFUSED = 2


def config_dir() -> Path:
    """``<user config dir>/lhc-console``: the host key and the users' authorized_keys files."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def parse_listen(text: str, default_port: int) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT``, ``HOST`` or ``PORT``; the host defaults to 127.0.0.1."""
    text = text.strip()
    host, port_text = "127.0.0.1", str(default_port)
    if text.startswith("["):
        inside, _, rest = text[1:].partition("]")
        host = inside
        if rest:
            if not rest.startswith(":"):
                raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
            port_text = rest[1:]
    elif text.isdigit():
        port_text = text
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        host = host or "127.0.0.1"
    elif ":" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: write an IPv6 address as [ADDRESS]:PORT")
    else:
        host = text
    if not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (port 0-65535)")
    return host, int(port_text)


def _listen_type(default_port: int) -> Callable[[str], tuple[str, int]]:
    return lambda text: parse_listen(text, default_port)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0: never)")
    return value


def _public_url(text: str) -> str:
    scheme, _, rest = text.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or rest.startswith("/"):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register both commands with ``tui.command_line.main``'s ``command`` helper."""
    p = command(
        "serve-ssh",
        "serve the console over SSH: LHC usernames and passwords (or keys) log in",
        json_flag=False,
    )
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=_listen_type(SSH_DEFAULT[1]),
        default=SSH_DEFAULT,
        help="where to listen (default 127.0.0.1:2222; any other address must be given here)",
    )
    p.add_argument(
        "--host-key",
        metavar="PATH",
        type=Path,
        default=None,
        help="ed25519 host key, created (0600) if missing; "
        "default: <config dir>/lhc-console/ssh_host_ed25519_key",
    )
    p.add_argument(
        "--max-sessions",
        metavar="N",
        type=_positive_int,
        default=20,
        help="consoles at once; more connections are turned away politely (default 20)",
    )
    p.add_argument(
        "--idle-timeout",
        metavar="S",
        type=_seconds,
        default=1800.0,
        help="close a console after S seconds without a keystroke (default 1800; 0: never)",
    )
    _add_throttle_options(p, web=False)
    from store.source_throttle import ThrottleSettings

    proxied = ThrottleSettings.behind_proxy()
    p = command(
        "serve-web",
        "serve the console to a browser (textual-serve); the login screen is the way in",
        json_flag=False,
    )
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=_listen_type(WEB_DEFAULT[1]),
        default=WEB_DEFAULT,
        help="where to listen (default 127.0.0.1:8000); reach it with ssh -L, see the README",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        type=_public_url,
        default=None,
        help="the address browsers use, when it differs from --listen (a proxy in front); "
        "pages and consoles are served only to pages from this address. Every visitor then "
        "arrives from the proxy's address: loopback is no longer exempt from the per-address "
        "throttle, which limits failed logins for all visitors together (defaults "
        f"{proxied.max_failures} failures in {proxied.window:g} s, then {proxied.ban:g} s "
        "for everyone)",
    )
    p.add_argument(
        "--max-sessions",
        metavar="N",
        type=_positive_int,
        default=20,
        help="consoles at once; more browser tabs are turned away with a message (default 20)",
    )
    p.add_argument(
        "--idle-timeout",
        metavar="S",
        type=_seconds,
        default=1800.0,
        help="close a console after S seconds without a keystroke (default 1800; 0: never)",
    )
    _add_throttle_options(p, web=True)


def _add_throttle_options(p: argparse.ArgumentParser, *, web: bool) -> None:
    """Per-address throttling of failed logins (store.source_throttle), for both servers.

    The defaults are None here and filled in by ``throttle_settings``: behind a reverse proxy
    (``serve-web --public-url``) they differ (``ThrottleSettings.behind_proxy``), and an
    option given explicitly always wins."""
    from store.source_throttle import ThrottleSettings

    usual, proxied = ThrottleSettings(), ThrottleSettings.behind_proxy()

    def with_proxy(value: object, usual_value: object) -> str:
        """The default behind a proxy, on serve-web, where it differs."""
        return f"; {value:g} with --public-url" if web and value != usual_value else ""

    p.add_argument(
        "--source-max-failures",
        metavar="N",
        type=_positive_int,
        default=None,
        help="failed logins from one address within --source-window that ban it "
        f"(default {usual.max_failures}{with_proxy(proxied.max_failures, usual.max_failures)})",
    )
    p.add_argument(
        "--source-window",
        metavar="S",
        type=_seconds,
        default=None,
        help="seconds over which an address's failures are counted "
        f"(default {usual.window:g}{with_proxy(proxied.window, usual.window)})",
    )
    p.add_argument(
        "--source-ban",
        metavar="S",
        type=_seconds,
        default=None,
        help="seconds a banned address is refused without any password check "
        f"(default {usual.ban:g}{with_proxy(proxied.ban, usual.ban)})",
    )
    p.add_argument(
        "--source-exempt",
        metavar="CIDRS",
        type=_networks,
        default=None,
        help="comma-separated networks never throttled, or 'none' (default: loopback, which "
        "local users and SSH tunnels share; the per-account lock-out still applies"
        + (
            "; none with --public-url, where every visitor arrives from the proxy's address)"
            if web
            else ")"
        ),
    )


def _networks(text: str) -> tuple[str, ...]:
    import ipaddress

    if text.strip().lower() == "none":
        return ()
    networks = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{part!r} is not a network: {error}") from None
    return tuple(networks)


def throttle_settings(args: argparse.Namespace) -> ThrottleSettings:
    """The throttle from the options: each one given wins; the others are the defaults, or,
    with ``--public-url`` (a reverse proxy in front: every visitor is the proxy's address),
    ``ThrottleSettings.behind_proxy``, which exempts nothing."""
    import dataclasses

    from store.source_throttle import ThrottleSettings

    behind_proxy = getattr(args, "public_url", None) is not None
    defaults = ThrottleSettings.behind_proxy() if behind_proxy else ThrottleSettings()
    given = {
        "max_failures": args.source_max_failures,
        "window": args.source_window,
        "ban": args.source_ban,
        "exempt": args.source_exempt,
    }
    return dataclasses.replace(
        defaults, **{name: value for name, value in given.items() if value is not None}
    )


def _warn_if_exposed(what: str, host: str, note: str) -> None:
    if not is_loopback(host):
        print(
            f"lhc-console {what}: listening on {host}, reachable from other machines; {note}",
            file=sys.stderr,
            flush=True,
        )


def refuse_empty_database(what: str, db: Database) -> bool:
    """True (after saying why and what to do) if the database has no users yet.

    Its first-run screen (load the sample: admin/admin) is for the host's own console; a server
    must not offer it to whoever connects.
    """
    from store.database import database_errors
    from store.lookup import is_empty

    with database_errors():
        empty = is_empty()
    if empty:
        print(
            f"lhc-console {what}: refused: the database has no users yet, and the first run is "
            "not offered remotely. Load it first, on this host, with the same --db: "
            "'lhc-console sample' (the documented sample) or "
            "'lhc-console import FILE' (an LHC dump).",
            file=sys.stderr,
        )
    return empty


def refuse_read_only_database(what: str, db: Database) -> bool:
    """True (after saying why) if this process cannot write the database.

    A server must record every login attempt: the per-account lock-out counts the recorded
    failures, so on a database it cannot write, password guessing would be unlimited. The
    host's own console and the CLI still open such a file read-only (whoever runs them holds
    the file); a server refuses to start, before it listens or makes a host key.
    """
    from store.faults import read_only_reason

    reason = read_only_reason(db)
    if reason is not None:
        print(
            f"lhc-console {what}: refused: the database is read-only ({reason}), and a server "
            "must record every login attempt (failed logins are what lock an account against "
            "password guessing). Make the database writable for the account that runs the "
            "server, then start it again.",
            file=sys.stderr,
        )
    return reason is not None


def run_ssh(args: argparse.Namespace, db: Database) -> int:
    """``lhc-console serve-ssh``: run until Ctrl+C or SIGTERM."""
    from .ssh import KEY_FILE_NAME, KEYS_DIR_NAME, ServeError, SshSettings, serve

    if refuse_read_only_database("serve-ssh", db) or refuse_empty_database("serve-ssh", db):
        return EXIT_REFUSED
    host, port = args.listen
    settings = SshSettings(
        database_url=resolve_database_url(getattr(args, "db", None)),
        host=host,
        port=port,
        host_key_path=args.host_key or config_dir() / KEY_FILE_NAME,
        keys_dir=config_dir() / KEYS_DIR_NAME,
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout,
        throttle=throttle_settings(args),
    )
    _warn_if_exposed("serve-ssh", host, "check the host's firewall")

    async def until_stopped() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop)

    try:
        asyncio.run(until_stopped())
    except ServeError as error:
        print(f"lhc-console: {error}", file=sys.stderr)
        return EXIT_REFUSED
    print("lhc-console serve-ssh: stopped", flush=True)
    return EXIT_OK


def run_web(args: argparse.Namespace, db: Database) -> int:
    """``lhc-console serve-web``: run until Ctrl+C or SIGTERM."""
    from .web import WebSettings, serve

    if refuse_read_only_database("serve-web", db) or refuse_empty_database("serve-web", db):
        return EXIT_REFUSED
    host, port = args.listen
    _warn_if_exposed(
        "serve-web", host, "this is plain HTTP: passwords cross the network unencrypted"
    )
    settings = WebSettings(
        database_url=resolve_database_url(getattr(args, "db", None)),
        host=host,
        port=port,
        public_url=args.public_url,
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout,
        throttle=throttle_settings(args),
    )

    async def until_stopped() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop)

    try:
        asyncio.run(until_stopped())
    except OSError as error:
        print(
            f"lhc-console: cannot listen on {host}:{port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    with contextlib.suppress(BrokenPipeError):
        print("lhc-console serve-web: stopped", flush=True)
    return EXIT_OK
