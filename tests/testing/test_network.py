"""block_network: non-loopback connections fail naming the host; loopback still works."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from myna import _socket_guard, init_chat_model
from myna.testing import NetworkBlockedError, block_network

MESSAGE = "myna: network access is blocked, but test t tried to connect to {}. Fix it."


def test_httpx_sync_names_the_host() -> None:
    with block_network(where="test t", hint="Fix it."), pytest.raises(NetworkBlockedError) as info:
        httpx.get("https://api.example.com/v1")
    assert str(info.value) == MESSAGE.format("api.example.com:443")


async def test_httpx_async_names_the_host() -> None:
    with block_network(where="test t", hint="Fix it."), pytest.raises(NetworkBlockedError) as info:
        async with httpx.AsyncClient() as client:
            await client.get("https://api.example.com/v1")
    assert str(info.value) == MESSAGE.format("api.example.com:443")


def test_provider_calls_fail_at_once_without_retries() -> None:
    model = init_chat_model("openai:gpt-4.1-mini", api_key="test-key", max_retries=5)
    with block_network(), pytest.raises(NetworkBlockedError, match=r"api\.openai\.com:443"):
        model.invoke("hi")


def test_not_caught_by_except_exception() -> None:
    caught = []
    with block_network(), pytest.raises(NetworkBlockedError):
        try:
            httpx.get("https://api.example.com")
        except Exception as exc:  # an app's fallback must not swallow it
            caught.append(exc)
    assert caught == []


def test_connect_by_ip_is_blocked() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with (
            block_network(where="test t", hint="Fix it."),
            pytest.raises(NetworkBlockedError) as info,
        ):
            sock.connect(("192.0.2.1", 9))
        assert str(info.value) == MESSAGE.format("192.0.2.1:9")
        with block_network(), pytest.raises(NetworkBlockedError):
            sock.connect_ex(("192.0.2.1", 9))
    finally:
        sock.close()


def test_loopback_and_allowed_hosts_stay_open() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = threading.Thread(target=lambda: server.accept()[0].close())
    accepted.start()
    try:
        with block_network():
            socket.create_connection(("localhost", port), timeout=5).close()
    finally:
        accepted.join(5)
        server.close()


def test_allowed_hosts() -> None:
    from myna.testing._network import _Blocker

    blocker = _Blocker(lambda: "t", ["API.example.com"], "")
    assert blocker.allowed_host("api.example.com") and blocker.allowed_host(b"::1")
    assert blocker.allowed_host("127.0.0.1") and blocker.allowed_host("app.localhost")
    assert not blocker.allowed_host("api.other.com") and not blocker.allowed_host("10.0.0.1")


def test_patches_are_removed_and_nest() -> None:
    # under CI the plugin's own block may already be on: compare with whatever was there
    original = socket.socket.connect, socket.getaddrinfo
    with block_network(), block_network():
        assert socket.socket.connect is _socket_guard._connect
        assert socket.getaddrinfo is _socket_guard._getaddrinfo
    assert (socket.socket.connect, socket.getaddrinfo) == original


def test_callable_where() -> None:
    with (
        block_network(where=lambda: "test now", hint=""),
        pytest.raises(NetworkBlockedError) as info,
    ):
        socket.getaddrinfo("example.org", 80)
    assert "but test now tried to connect to example.org:80" in str(info.value)
