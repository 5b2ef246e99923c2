"""`block_network` with aiohttp: its resolver and connector (aiohappyeyeballs) go through
`socket`, so a host name is refused at the lookup and an IP address at the connection, with
`NetworkBlockedError` and before any socket connects; loopback servers stay reachable."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from myna.emulators import serve
from myna.testing import NetworkBlockedError, block_network

aiohttp = pytest.importorskip("aiohttp")


@pytest.fixture
def connected(below_socket_guard: Any) -> list[Any]:
    """The addresses sockets actually tried to connect to (below the blocker's check)."""
    attempts: list[Any] = []

    def recording(original: Any) -> Any:
        def record(self: socket.socket, address: Any) -> Any:
            attempts.append(address)
            return original(self, address)

        return record

    below_socket_guard("connect", recording)
    return attempts


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://api.anthropic.com/v1/messages", r"api\.anthropic\.com:443"),
        ("http://203.0.113.7:8080/v1/chat", r"203\.0\.113\.7:8080"),
    ],
    ids=["host-name", "ip-address"],
)
async def test_aiohttp_is_blocked_before_connecting(connected, url, named):
    with block_network(where="this test"):
        async with aiohttp.ClientSession() as session:
            with pytest.raises(NetworkBlockedError, match=named):
                await session.post(url, json={})
    assert connected == []


async def test_loopback_stays_reachable_with_aiohttp(connected):
    with serve(script=["local answer"]) as server, block_network():
        url = server.base_url.rstrip("/") + "/v1/chat/completions"
        body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=body, headers={"Authorization": "Bearer k"}) as r:
                content = (await r.json())["choices"][0]["message"]["content"]
    assert content == "local answer"
    assert connected and all(address[0] == "127.0.0.1" for address in connected)
