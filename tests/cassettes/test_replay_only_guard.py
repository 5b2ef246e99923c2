"""A replay-only cassette lets nothing leave the process, whatever the client (issue 10).

Every test records each name lookup and connection below myna's guard (the `sockets` fixture
lays its spy under the guard, whether the guard is installed yet or not): an attempt that reaches it
to a remote host is a leak. The recorder then refuses it too, so a regression fails the test
without touching the network.
"""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from myna._socket_guard import is_local
from myna.cassettes import CassetteMismatch, cassette
from myna.testing import NetworkBlockedError, block_network

URL = "https://api.example.test/v1/chat/completions"
BODY = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}


class Leaked(OSError):
    """The recorder's refusal of a remote connection that got past the guard."""


@pytest.fixture
def sockets(below_socket_guard: Any) -> list[Any]:
    """Record every lookup and connection that gets past the guard; refuse remote ones."""
    attempts: list[Any] = []

    def remote(host: Any) -> bool:
        return not is_local(host)

    def looking_up(original: Any) -> Any:
        def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            attempts.append(("getaddrinfo", host, port))
            if remote(host):
                raise Leaked(f"lookup of {host} got past the guard")
            return original(host, port, *args, **kwargs)

        return lookup

    def connecting(original: Any) -> Any:
        def patched(sock: socket.socket, address: Any) -> Any:
            attempts.append(("connect", *address[:2]) if isinstance(address, tuple) else address)
            if isinstance(address, tuple) and remote(address[0]):
                raise Leaked(f"connection to {address!r} got past the guard")
            return original(sock, address)

        return patched

    below_socket_guard("getaddrinfo", looking_up)
    below_socket_guard("connect", connecting)
    below_socket_guard("connect_ex", connecting)
    return attempts


def _remote(attempts: list[Any]) -> list[Any]:
    return [a for a in attempts if isinstance(a, tuple) and not is_local(a[1])]


def _names_the_cassette(error: BaseException, path: Any, host: str) -> None:
    message = str(error)
    assert f"cassette {path} (mode 'none') only replays" in message
    assert host in message
    assert "emulator" in message and "mode 'once'" in message and "httpx" in message


# ---------------------------------------------------------------- clients cassettes cannot see


def test_requests_is_blocked_naming_the_cassette_and_host(tmp_path, sockets):
    requests = pytest.importorskip("requests")
    path = tmp_path / "c.yaml"
    with pytest.raises(NetworkBlockedError) as info, cassette(path, mode="none"):
        requests.post(URL, json=BODY, timeout=5)
    _names_the_cassette(info.value, path, "api.example.test:443")
    assert _remote(sockets) == []


def test_urllib_is_blocked(tmp_path, sockets):
    path = tmp_path / "c.yaml"
    with pytest.raises(NetworkBlockedError) as info, cassette(path, mode="none"):
        urllib.request.urlopen("https://api.example.test/v1/models", timeout=5)
    _names_the_cassette(info.value, path, "api.example.test:443")
    assert _remote(sockets) == []


def test_a_connection_by_ip_address_is_blocked(tmp_path, sockets):
    path = tmp_path / "c.yaml"
    with pytest.raises(NetworkBlockedError) as info, cassette(path, mode="none"):
        socket.create_connection(("192.0.2.7", 443), timeout=5)
    _names_the_cassette(info.value, path, "192.0.2.7:443")
    assert _remote(sockets) == []


def test_botocore_is_blocked(tmp_path, sockets, monkeypatch):
    botocore_session = pytest.importorskip("botocore.session")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = botocore_session.get_session().create_client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    path = tmp_path / "c.yaml"
    with pytest.raises(NetworkBlockedError) as info, cassette(path, mode="none"):
        client.get_caller_identity()
    _names_the_cassette(info.value, path, ".amazonaws.com:443")
    assert _remote(sockets) == []


async def test_asyncio_connections_are_blocked(tmp_path, sockets):
    path = tmp_path / "c.yaml"
    loop = asyncio.get_running_loop()
    with pytest.raises(NetworkBlockedError) as on_exit:  # the first refusal, again
        async with cassette(path, mode="none"):
            with pytest.raises(NetworkBlockedError) as by_name:
                await asyncio.open_connection("api.example.test", 443)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                with pytest.raises(NetworkBlockedError) as by_address:
                    await loop.sock_connect(sock, ("192.0.2.7", 443))
            finally:
                sock.close()
            with pytest.raises(NetworkBlockedError):
                await loop.create_connection(asyncio.Protocol, "192.0.2.7", 443)
    assert on_exit.value is by_name.value
    _names_the_cassette(by_name.value, path, "api.example.test:443")
    _names_the_cassette(by_address.value, path, "192.0.2.7:443")
    assert _remote(sockets) == []


async def test_aiohttp_miss_opens_no_socket(tmp_path, sockets):
    aiohttp = pytest.importorskip("aiohttp")
    path = tmp_path / "c.yaml"
    with pytest.raises(CassetteMismatch) as info:
        async with cassette(path, mode="none"), aiohttp.ClientSession() as client:
            async with client.post(URL, json=BODY) as response:
                assert response.status == 400  # an answer no client retries
                assert "no recorded interaction matches" in await response.text()
    assert f"cassette: {path} (mode 'none')" in str(info.value)
    assert _remote(sockets) == []


# ---------------------------------------------------------------- intercepted clients


def test_httpx_miss_opens_no_socket_and_fails_the_cassette(tmp_path, sockets):
    path = tmp_path / "c.yaml"
    with pytest.raises(CassetteMismatch) as info, cassette(path, mode="none"):
        response = httpx.post(URL, json=BODY)
        # not an exception: clients that retry exceptions get an answer no client retries
        assert response.status_code == 400
        assert response.headers["x-should-retry"] == "false"
        assert "no recorded interaction matches POST " + URL in response.text
    assert f"cassette: {path} (mode 'none')" in str(info.value)
    assert _remote(sockets) == []


async def test_httpx_async_miss_opens_no_socket(tmp_path, sockets):
    path = tmp_path / "c.yaml"
    with pytest.raises(CassetteMismatch) as info:
        async with cassette(path, mode="none"), httpx.AsyncClient() as client:
            response = await client.post(URL, json=BODY)
            response.raise_for_status()  # the client's own error: the miss replaces it
    assert f"cassette: {path} (mode 'none')" in str(info.value)
    assert isinstance(info.value.__context__, httpx.HTTPStatusError)
    assert _remote(sockets) == []


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_httpx2_miss_opens_no_socket(tmp_path, sockets, kind):
    httpx2 = pytest.importorskip("httpx2")
    path = tmp_path / "c.yaml"
    with pytest.raises(CassetteMismatch) as info:
        async with cassette(path, mode="none"):
            if kind == "sync":
                with httpx2.Client() as client:
                    status = client.post(URL, json=BODY).status_code
            else:
                async with httpx2.AsyncClient() as client:
                    status = (await client.post(URL, json=BODY)).status_code
            assert status == 400
    assert f"cassette: {path} (mode 'none')" in str(info.value)
    assert _remote(sockets) == []


# ---------------------------------------------------------------- when the guard is on


@pytest.fixture
def local_server() -> Iterator[int]:
    """A plain HTTP server on 127.0.0.1 answering every GET with 200 ``ok``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join(5)
    server.server_close()


def test_loopback_stays_open(tmp_path, sockets, local_server):
    with cassette(tmp_path / "c.yaml", mode="none"):
        for host in ("127.0.0.1", "localhost"):
            with urllib.request.urlopen(f"http://{host}:{local_server}/", timeout=5) as answer:
                assert answer.read() == b"ok"
    assert any(a[0] == "connect" for a in sockets)  # the guard let them through
    assert _remote(sockets) == []


def test_once_with_its_file_present_is_guarded_and_recording_is_not(
    tmp_path, sockets, network_unblocked
):
    path = tmp_path / "c.yaml"
    # no file yet: 'once' records, so the network is in use and the guard stays out
    with pytest.raises(OSError), cassette(path, mode="once"):
        urllib.request.urlopen("https://api.example.test/v1/models", timeout=5)
    assert ("getaddrinfo", "api.example.test", 443) in sockets
    path.write_text("interactions: []\n")
    sockets.clear()
    with pytest.raises(NetworkBlockedError, match=r"\(mode 'once'\) only replays"):
        with cassette(path, mode="once"):
            urllib.request.urlopen("https://api.example.test/v1/models", timeout=5)
    assert sockets == []


def test_a_swallowed_block_still_fails_the_cassette(tmp_path, sockets):
    path = tmp_path / "c.yaml"
    with pytest.raises(NetworkBlockedError, match="only replays"):
        with cassette(path, mode="none"):
            try:
                urllib.request.urlopen("https://api.example.test/", timeout=5)
            except BaseException:  # what a catch-all fallback in the code under test does
                pass
    assert _remote(sockets) == []


def test_a_scoped_cassette_guards_its_scope_only(tmp_path, sockets, network_unblocked):
    path = tmp_path / "c.yaml"
    session = cassette(path, mode="none", scoped=True)
    with pytest.raises(NetworkBlockedError) as on_exit, session:
        with pytest.raises(Leaked):  # not this cassette's traffic: the guard stays out
            socket.create_connection(("192.0.2.7", 443), timeout=5)
        assert sockets == [("getaddrinfo", "192.0.2.7", 443)]
        with session.scope(), pytest.raises(NetworkBlockedError, match="only replays"):
            socket.create_connection(("192.0.2.7", 443), timeout=5)
    assert "only replays" in str(on_exit.value)
    assert len(sockets) == 1


def test_patches_go_with_the_last_cassette_and_nest_with_block_network(tmp_path):
    patched = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex
    with block_network(where="the test"):
        with pytest.raises(NetworkBlockedError, match=r"b\.yaml \(mode 'none'\) only replays"):
            with cassette(tmp_path / "a.yaml", mode="none"):
                with cassette(tmp_path / "b.yaml", mode="none"):
                    socket.create_connection(("192.0.2.7", 443), timeout=5)
        # the cassettes are gone; block_network still holds
        with pytest.raises(NetworkBlockedError, match="network access is blocked, but the test"):
            socket.create_connection(("192.0.2.7", 443), timeout=5)
    assert (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex) == patched


def test_a_recording_cassette_inside_a_replay_only_one_uses_the_network(
    tmp_path, sockets, network_unblocked
):
    with cassette(tmp_path / "outer.yaml", mode="none"):
        with pytest.raises(Leaked), cassette(tmp_path / "inner.yaml", mode="new_episodes"):
            socket.create_connection(("192.0.2.7", 443), timeout=5)
    assert ("getaddrinfo", "192.0.2.7", 443) in sockets
