"""The socket-level guard shared by `myna.testing.block_network` and replay-only cassettes.

While at least one policy is active, `socket.getaddrinfo` (which names the host early, before
a DNS lookup that may hang) and `socket.socket.connect` / `connect_ex` (which catch a
connection by IP address, and asyncio's ``loop.sock_connect`` / ``create_connection``, which
call them) ask every active policy about each non-loopback host; the innermost policy that
refuses raises its error. Loopback hosts and Unix sockets are never refused, so loopback
emulators and test servers keep working. This covers every client built on `socket`: httpx,
httpx2, aiohttp, requests, urllib, urllib3 (botocore, boto3), asyncio and anyio.

A layer-0 internal (ARCHITECTURE.md): it imports nothing of myna, so `testing` (layer 5) and
`cassettes` (layer 4) both use it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Attempt", "NetworkBlockedError", "Policy", "add", "is_local", "remove"]

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", ""})


class NetworkBlockedError(BaseException):
    """A test tried to reach the network while myna blocks it.

    Raised by `myna.testing.block_network` (and the pytest plugin's network block) and by a
    cassette that only replays (mode ``none``, or ``once`` with its file present).

    Deliberately a `BaseException` (like `KeyboardInterrupt`), not an `Exception` or an
    `OSError`: HTTP clients, SDK retry loops and the app's own ``except Exception`` fallbacks
    would otherwise turn it into a retried "connection error" and hide the message. pytest
    still reports it as the test's failure.
    """


def is_local(host: Any) -> bool:
    """Whether `host` (a name or an address, str or bytes) never leaves the machine."""
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


@dataclass(frozen=True)
class Attempt:
    """A connection about to be made to a non-loopback host."""

    host: str
    """The host name the client asked for (known from an earlier lookup), else the address."""
    address: str | None
    """The IP address being connected to; None for a name lookup (``getaddrinfo``)."""
    port: Any

    @property
    def target(self) -> str:
        """``host:port``, with the address when it differs: ``api.x.com:443 (203.0.113.9)``."""
        text = f"{self.host}:{self.port}" if self.port is not None else self.host
        if self.address is not None and self.address != self.host:
            text += f" ({self.address})"
        return text


class Policy(Protocol):
    """Decides whether a connection may be made."""

    def refuse(self, attempt: Attempt) -> BaseException | None:
        """The error to raise for `attempt`, or None to let it through."""
        ...


_lock = threading.Lock()
_policies: tuple[Policy, ...] = ()  # replaced, never mutated: read without the lock
_names: dict[str, str] = {}  # resolved address -> host name, for better errors
_saved: dict[str, Any] = {}  # the functions found on first install; kept for stale callers
_installed = False


def _text(host: Any) -> str:
    return host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)


def _check(host: Any, address: Any, port: Any) -> None:
    policies = _policies
    if not policies:
        return
    name = _text(host)
    attempt = Attempt(_names.get(name, name) if address is not None else name, address, port)
    for policy in reversed(policies):  # the innermost (latest) policy speaks first
        error = policy.refuse(attempt)
        if error is not None:
            raise error


def _getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    if not is_local(host):
        _check(host, None, port)
    result = _saved["getaddrinfo"](host, port, *args, **kwargs)
    if host is not None and _policies and not is_local(host):
        with _lock:
            for *_, address in result:
                _names[str(address[0])] = _text(host)
    return result


def _guard_address(sock: socket.socket, address: Any) -> None:
    if not _policies or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # Unix sockets and the like never leave the machine
    host, port = (address[0], address[1]) if isinstance(address, tuple) else (address, None)
    if not is_local(host):
        _check(host, _text(host), port)


def _connect(sock: socket.socket, address: Any) -> Any:
    _guard_address(sock, address)
    return _saved["connect"](sock, address)


def _connect_ex(sock: socket.socket, address: Any) -> Any:
    _guard_address(sock, address)
    return _saved["connect_ex"](sock, address)


def _ours() -> bool:
    return (
        socket.getaddrinfo is _getaddrinfo
        and socket.socket.connect is _connect  # type: ignore[comparison-overlap]
        and socket.socket.connect_ex is _connect_ex  # type: ignore[comparison-overlap]
    )


def _install() -> None:
    global _installed
    if _installed:
        return
    _saved.update(
        getaddrinfo=socket.getaddrinfo,
        connect=socket.socket.connect,
        connect_ex=socket.socket.connect_ex,
    )
    socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = _connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign, assignment]
    _installed = True


def _uninstall() -> None:
    global _installed
    _names.clear()
    # restore only while ours is on top: a patch someone laid over it (a test's monkeypatch)
    # keeps calling ours, which lets everything through while no policy is active, and is
    # restored the next time
    if _installed and _ours():
        socket.getaddrinfo = _saved["getaddrinfo"]
        socket.socket.connect = _saved["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = _saved["connect_ex"]  # type: ignore[method-assign]
        _installed = False


def add(policy: Policy) -> None:
    """Activate `policy` (innermost); patch `socket` if no policy was active."""
    global _policies
    with _lock:
        _install()
        _policies = (*_policies, policy)


def remove(policy: Policy) -> None:
    """Deactivate `policy`; restore `socket` when none is left (if nobody patched on top)."""
    global _policies
    with _lock:
        kept = list(_policies)
        if policy in kept:
            kept.reverse()
            kept.remove(policy)  # the innermost occurrence
            kept.reverse()
        _policies = tuple(kept)
        if not _policies:
            _uninstall()
