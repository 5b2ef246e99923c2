"""aiohttp clients answered by the active emulators (google-genai's and litellm's async calls).

Emulators started alone and shared `Interception`s register here while active; one claim
function (the ``"emulator"`` layer of `myna._aiohttp_hook`) picks who answers a request, with
the same rules as the respx routers for httpx: the newest emulator whose hosts match answers;
a request no active emulator answers fails with ``RequestNotEmulated``; an interception with
no emulator attached lets requests through. aiohttp is optional: nothing here imports it
before it is installed and used.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from .._aiohttp_hook import Reply, WireRequest, set_layer

if TYPE_CHECKING:
    from ._intercept import Emulator

__all__ = ["attach", "detach"]

_lock = threading.Lock()
_owners: list[tuple[object, Callable[[], list[Emulator]]]] = []
"""Who may answer, oldest first: (owner, its active emulators). An `Emulator` started alone
owns itself; an `Interception` owns the emulators attached to it (maybe none)."""


def attach(owner: object, emulators: Callable[[], list[Emulator]]) -> None:
    """Let `owner`'s emulators answer aiohttp requests (patches aiohttp if installed)."""
    with _lock:
        if not any(o is owner for o, _ in _owners):
            _owners.append((owner, emulators))
    set_layer("emulator", _claim)


def detach(owner: object) -> None:
    """Stop `owner`'s emulators answering; the last one out removes the patch."""
    with _lock:
        _owners[:] = [(o, e) for o, e in _owners if o is not owner]
        empty = not _owners
    if empty:
        set_layer("emulator", None)


def _claim(method: str, url: str) -> Callable[..., Any] | None:
    blocked: Emulator | None = None
    with _lock:
        owners = list(_owners)
    for _, emulators in reversed(owners):
        active = emulators()
        for emulator in active:
            if not emulator.base_urls or url.startswith(tuple(emulator.base_urls)):
                return _serve(emulator)
        if active and blocked is None:
            blocked = active[0]
    if blocked is not None:
        # the request does not reach the network, as with httpx under emulate()
        raise blocked._not_emulated(SimpleNamespace(method=method, url=url))
    return None


def _timeout_error() -> BaseException:
    import aiohttp

    # what aiohttp raises when a server stops answering (SocketTimeoutError since 3.10)
    cls = getattr(aiohttp, "SocketTimeoutError", aiohttp.ServerTimeoutError)
    return cls("myna emulator: scripted timeout")  # type: ignore[no-any-return]


def _serve(emulator: Emulator) -> Callable[..., Any]:
    async def serve(request: WireRequest, reply: Reply, forward: Any) -> None:
        response = emulator.app.handle(
            request.method, request.url, dict(request.headers), request.body
        )
        if response.timeout:
            reply.fail(_timeout_error())
            return
        headers = list(response.headers.items())
        if response.events is None:
            if response.cut_after == 0:
                reply.drop()  # the client sees the server disconnect before answering
                return
            await reply.start(response.status, headers, len(response.body))
            await reply.send(response.body)
            await reply.end()
            return
        await reply.start(response.status, headers)
        for index, event in enumerate(response.events):
            if response.cut_after is not None and index >= response.cut_after:
                reply.drop()  # mid-stream: the client sees an incomplete payload
                return
            if index and emulator.event_delay:
                await asyncio.sleep(emulator.event_delay)
            await reply.send(event)
        if response.cut_after is not None:
            reply.drop()
            return
        await reply.end()

    return serve
