"""Shared fixtures for the cassette tests: a loopback emulator and a network blocker."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from myna.emulators import LoopbackServer, serve


@pytest.fixture
def loopback() -> Iterator[Callable[..., LoopbackServer]]:
    """Start loopback emulators: ``loopback(script=[...])``; all are stopped after the test."""
    servers: list[LoopbackServer] = []

    def start(script: list[Any] = (), **options: Any) -> LoopbackServer:  # type: ignore[assignment]
        server = serve(script=list(script), **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        # shutdown() waits for the server's 0.5 s poll; nothing needs to wait for it
        threading.Thread(target=server.stop, daemon=True).start()


@pytest.fixture(autouse=True)
def _no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose modes explicitly; the runner's CI / MYNA_RECORD_MODE must not leak in."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYNA_RECORD_MODE", raising=False)
    monkeypatch.delenv("MYNA_CASSETTE_LOG", raising=False)
