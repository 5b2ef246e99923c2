"""Block real network access, so an accidental provider call fails loudly instead of costing.

Patches `socket.getaddrinfo` (names the host early, before a DNS lookup that may hang) and
`socket.socket.connect` / `connect_ex` (catches connections by IP address). Loopback hosts
and Unix sockets stay allowed, so loopback emulators and test servers keep working.
In-process emulators and cassettes answer before any socket is opened, so they need no
exception. Works for every client on top of `socket`: httpx, httpx2, the official SDKs,
requests, urllib, asyncio and anyio.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["NetworkBlockedError", "block_network"]

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", ""})


class NetworkBlockedError(BaseException):
    """A test tried to reach the network while myna blocks it.

    Deliberately a `BaseException` (like `KeyboardInterrupt`), not an `Exception` or an
    `OSError`: HTTP clients, SDK retry loops and the app's own ``except Exception`` fallbacks
    would otherwise turn it into a retried "connection error" and hide the message. pytest
    still reports it as the test's failure.
    """


def _is_local(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower()
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class _Blocker:
    """The installed patches; `where()` names the running test in the error."""

    def __init__(self, where: Callable[[], str], allowed: Iterable[str], hint: str) -> None:
        self.where = where
        self.allowed = {h.lower() for h in allowed}
        self.hint = hint
        self.names: dict[str, str] = {}  # resolved address -> host name, for better errors
        self.lock = threading.Lock()
        self.saved: dict[str, Any] = {}

    def allowed_host(self, host: Any) -> bool:
        if _is_local(host):
            return True
        text = host.decode() if isinstance(host, bytes) else str(host)
        return text.lower() in self.allowed

    def error(self, host: Any, port: Any) -> NetworkBlockedError:
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        name = self.names.get(str(host), host)
        target = f"{name}:{port}" if port is not None else str(name)
        if name != host:
            target += f" ({host})"
        return NetworkBlockedError(
            f"myna: network access is blocked, but {self.where()} tried to connect to "
            f"{target}. {self.hint}"
        )

    def install(self) -> None:
        original_getaddrinfo = socket.getaddrinfo
        original_connect = socket.socket.connect
        original_connect_ex = socket.socket.connect_ex
        self.saved = {
            "getaddrinfo": original_getaddrinfo,
            "connect": original_connect,
            "connect_ex": original_connect_ex,
        }
        blocker = self

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if not blocker.allowed_host(host):
                raise blocker.error(host, port)
            result = original_getaddrinfo(host, port, *args, **kwargs)
            if host is not None and not _is_local(host):
                with blocker.lock:
                    for *_, address in result:
                        blocker.names[str(address[0])] = str(host)
            return result

        def check(sock: socket.socket, address: Any) -> None:
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                return  # Unix sockets and the like never leave the machine
            host, port = (address[0], address[1]) if isinstance(address, tuple) else (address, None)
            if not _is_local(host) and blocker.names.get(str(host), str(host)).lower() not in (
                blocker.allowed
            ):
                raise blocker.error(host, port)

        def connect(sock: socket.socket, address: Any) -> Any:
            check(sock, address)
            return original_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            check(sock, address)
            return original_connect_ex(sock, address)

        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if not self.saved:
            return
        socket.getaddrinfo = self.saved["getaddrinfo"]
        socket.socket.connect = self.saved["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self.saved["connect_ex"]  # type: ignore[method-assign]
        self.saved = {}


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
    blocker.install()
    try:
        yield
    finally:
        blocker.uninstall()
