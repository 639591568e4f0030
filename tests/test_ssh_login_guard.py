"""Login protection through a real ``serve-ssh`` and real asyncssh clients (issue 16).

Per-address throttling (point 5), passwords as typed on the ``password`` method (point 6), and
one outcome for every refusal on both the ``password`` and ``keyboard-interactive`` methods
(point 1). The server is a real subprocess on 127.0.0.1; a second client address on the
loopback network (127.0.0.2) stands for a legitimate user elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest
from peewee import Database
from test_serve import Server, connect, logins, start_server

from store.auth import LOGIN_SUCCESS, hash_password
from store.models import User

pytestmark = pytest.mark.sqlite_only  # the server subprocess shares the SQLite file


@pytest.fixture
def strict(sample_db: Database, tmp_path: Path):
    running = start_server(
        sample_db,
        tmp_path,
        "--source-max-failures",
        "3",
        "--source-ban",
        "60",
        "--source-exempt",
        "none",
    )
    yield running
    running.stop()


async def refused(server: Server, username: str, password: str, **kw: object) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        async with connect(server, username, password, **kw):
            pass


async def test_an_address_with_too_many_failures_is_refused_and_another_is_not(
    strict: Server,
) -> None:
    for _ in range(3):  # one wrong password per connection, from 127.0.0.1
        await refused(strict, "Operator US", "wrong")
    recorded = len(logins(strict.url, "Teamleader US"))
    # Now even the right password from this address is turned away, unchecked and unrecorded.
    with pytest.raises(asyncssh.DisconnectError):  # ended at once, not asked again
        async with connect(strict, "Teamleader US", "demo"):
            pass
    assert len(logins(strict.url, "Teamleader US")) == recorded
    # A team leader on another address logs in as usual.
    async with connect(strict, "Teamleader US", "demo", local_addr=("127.0.0.2", 0)) as conn:
        assert conn.get_extra_info("username") == "Teamleader US"
    assert logins(strict.url, "Teamleader US")[-1][:2] == (LOGIN_SUCCESS, "127.0.0.2")
    log = strict.stop()
    assert "too many failed logins from this address" in log


@pytest.mark.parametrize("typed", ["\ufb01sh and chips", "secret\U0001f600", "no\u00a0break"])
async def test_the_password_method_delivers_the_password_as_typed(
    sample_db: Database, tmp_path: Path, typed: str
) -> None:
    # An account whose password was set elsewhere (LHC's back office) with characters SASLprep
    # would change: the console no longer sets such passwords, but must still check them.
    User.update(password=hash_password(typed)).where(User.username == "Teamleader US").execute()
    running = start_server(sample_db, tmp_path)
    try:
        async with connect(running, "Teamleader US", typed) as conn:
            assert conn.get_extra_info("username") == "Teamleader US"
        types = [row[0] for row in logins(running.url, "Teamleader US")]
        assert types == [LOGIN_SUCCESS]  # no failure recorded on the way
    finally:
        running.stop()


@pytest.mark.parametrize("method", ["password", "keyboard-interactive"])
async def test_wrong_disabled_and_unknown_look_the_same_on_both_methods(
    sample_db: Database, tmp_path: Path, method: str
) -> None:
    User.update(disabled=1).where(User.username == "Operator AU").execute()
    running = start_server(sample_db, tmp_path)
    banners: list[str] = []

    class Client(asyncssh.SSHClient):
        def auth_banner_received(self, msg: str, lang: str) -> None:
            banners.append(msg)

        def kbdint_challenge_received(self, name, instructions, lang, prompts):
            return [attempt_password for _ in prompts]

    try:
        for username, attempt_password in [
            ("Operator US", "wrong"),
            ("Operator AU", "demo"),  # disabled, right password
            ("Nobody Here", "demo"),
        ]:
            banners.clear()
            await refused(
                running,
                username,
                attempt_password,
                preferred_auth=method,
                client_factory=Client,
            )
            assert banners and set(banners) == {
                "lhc-console: Wrong username/e-mail or password\r\n"
            }, (username, banners)
    finally:
        running.stop()


async def test_a_burst_of_parallel_connections_gets_no_more_checks_than_the_limit(
    strict: Server,
) -> None:
    """Red team: 200 simultaneous one-attempt connections were all checked before the first
    failure counted. Attempts now count from their start: at most 3 reach a password check."""
    import asyncio

    names = ["Operator US", "Operator AU", "Teamleader US", "Manager US"] * 4

    async def guess(username: str) -> None:
        with pytest.raises(asyncssh.DisconnectError):
            async with connect(strict, username, "wrong"):
                pass

    await asyncio.gather(*(guess(name) for name in names))
    checked = sum(len(logins(strict.url, name)) for name in set(names))
    assert checked <= 3
