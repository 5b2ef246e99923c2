"""A replay-only cassette lets nothing leave the process, whatever the client.

Cassettes intercept httpx, httpx2 (myna's providers, the official SDKs) and aiohttp; requests,
urllib, urllib3 (botocore, boto3) and raw sockets go past them. While a cassette that only
replays is active (mode ``none``, or ``once`` with its file present: `Cassette.replays_only`),
the shared socket guard (`myna._socket_guard`) refuses every connection to a non-loopback
host made where a request would go to that cassette (`current_session`), with a
`NetworkBlockedError` naming the cassette, the host and the fix. Such clients are blocked, not
recorded: a cassette stores HTTP traffic it can see whole, and these never pass through it.

The refusal is also kept, so leaving the cassette fails with it when the client swallowed it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from .. import _socket_guard
from .._socket_guard import Attempt, NetworkBlockedError
from ._transport import current_session

__all__ = ["attach_guard", "detach_guard", "hidden_failure"]

INTERCEPTED = "httpx, httpx2 and aiohttp"
"""The clients cassettes record and replay, as the message names them."""

_lock = threading.Lock()
_guarded: list[Any] = []  # the active replay-only cassettes
_blocked: weakref.WeakKeyDictionary[Any, list[NetworkBlockedError]] = weakref.WeakKeyDictionary()


class _ReplayOnly:
    """The socket policy: refuse where the current cassette only replays."""

    def refuse(self, attempt: Attempt) -> NetworkBlockedError | None:
        session = current_session()
        if session is None or not getattr(session, "replays_only", False):
            return None  # no cassette here, or one that records: the network is in use
        error = NetworkBlockedError(_message(session, attempt))
        with _lock:
            _blocked.setdefault(session, []).append(error)
        return error


_POLICY = _ReplayOnly()


def _message(session: Any, attempt: Attempt) -> str:
    return (
        f"myna: cassette {session.path} (mode {session.mode!r}) only replays, so nothing may "
        f"leave the process, but this code tried to connect to {attempt.target}. Cassettes "
        f"record and replay {INTERCEPTED} clients (myna's providers, the official SDKs); "
        "this connection came from another client (requests, urllib, botocore/boto3, a raw "
        "socket), which a cassette cannot record or replay, so it is blocked. Fix: point that "
        "client at an emulator on loopback (myna.emulators.emulate, or `myna serve`), or "
        "make the request with an intercepted client and record it: "
        "mode 'once' records a cassette whose file does not exist yet, 'new_episodes' adds "
        "to one."
    )


def attach_guard(cassette: Any) -> None:
    """Guard the sockets while `cassette` is active, if it only replays."""
    if not cassette.replays_only:
        return
    with _lock:
        _blocked.pop(cassette, None)
        first = not _guarded
        _guarded.append(cassette)
    if first:
        _socket_guard.add(_POLICY)


def detach_guard(cassette: Any) -> None:
    """Stop guarding for `cassette`; the socket patches go with the last one."""
    with _lock:
        if cassette not in _guarded:
            return
        _guarded.remove(cassette)
        last = not _guarded
    if last:
        _socket_guard.remove(_POLICY)


def hidden_failure(cassette: Any, raised: BaseException | None) -> BaseException | None:
    """The real reason a session failed, to raise on leaving it, or None.

    That is the first replay miss, else the first blocked connection, unless `raised` (what
    is leaving the ``with`` block) is that very error, or not an `Exception` at all (a
    cancellation, a ``KeyboardInterrupt``: never replaced). An SDK turns a miss into its own
    error (a 400, a connection error): the miss is raised in its place, with the SDK's error
    as its context; a client that swallowed it still fails the block.
    """
    with _lock:
        blocked = list(_blocked.get(cassette, ()))
    reasons: list[BaseException] = [*cassette.misses, *blocked]
    if not reasons:
        return None
    if raised is not None and (
        not isinstance(raised, Exception) or any(raised is reason for reason in reasons)
    ):
        return None
    return reasons[0]
