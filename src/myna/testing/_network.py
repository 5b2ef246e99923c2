"""Block real network access, so an accidental provider call fails loudly instead of costing.

Uses the socket guard shared with replay-only cassettes (`myna._socket_guard`), which patches
`socket.getaddrinfo` (names the host early, before a DNS lookup that may hang) and
`socket.socket.connect` / `connect_ex` (catches connections by IP address). Loopback hosts
and Unix sockets stay allowed, so loopback emulators and test servers keep working.
In-process emulators and cassettes answer before any socket is opened, so they need no
exception. Works for every client on top of `socket`: httpx, httpx2, the official SDKs,
requests, urllib, asyncio and anyio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from .. import _socket_guard
from .._socket_guard import Attempt, NetworkBlockedError, is_local

__all__ = ["NetworkBlockedError", "block_network"]


class _Blocker:
    """The policy `block_network` activates; `where()` names the running test in the error."""

    def __init__(self, where: Callable[[], str], allowed: Iterable[str], hint: str) -> None:
        self.where = where
        self.allowed = {h.lower() for h in allowed}
        self.hint = hint

    def allowed_host(self, host: str | bytes) -> bool:
        if is_local(host):
            return True
        text = host.decode("ascii", "replace") if isinstance(host, bytes) else host
        return text.lower() in self.allowed

    def refuse(self, attempt: Attempt) -> NetworkBlockedError | None:
        if self.allowed_host(attempt.host):
            return None
        return NetworkBlockedError(
            f"myna: network access is blocked, but {self.where()} tried to connect to "
            f"{attempt.target}. {self.hint}"
        )


@contextmanager
def block_network(
    *,
    allowed_hosts: Iterable[str] = (),
    where: Callable[[], str] | str = "this code",
    hint: str = "Use an emulator or a cassette, or allow the network with --myna-live.",
) -> Iterator[None]:
    """Inside the block, connecting to any non-loopback host raises `NetworkBlockedError`.

    ```python
    with block_network():
        init_chat_model("openai:gpt-4.1", api_key="k").invoke("hi")  # NetworkBlockedError
    ```

    Args:
        allowed_hosts: host names that stay reachable.
        where: who is connecting, for the message (the plugin passes the test id).
        hint: the fix the message suggests.
    """
    describe = where if callable(where) else (lambda: where)  # type: ignore[misc]
    blocker = _Blocker(describe, allowed_hosts, hint)  # type: ignore[arg-type]
    _socket_guard.add(blocker)
    try:
        yield
    finally:
        _socket_guard.remove(blocker)
