"""Cassettes for aiohttp clients (google-genai's and litellm's async calls): replay and record.

The cassette is the outer layer of `myna._aiohttp_hook` (an in-memory connection per request,
see there why at the connector): a request aiohttp writes is turned into the same
`LiveRequest` the httpx transport builds and handed to the cassette of the request's context
(`current_session`), so matching, scrubbing and the file format are shared:

- replay: the recorded status and headers, then one chunk per recorded event (paced by the
  recorded timing when the cassette asks), then a dropped connection if an error was recorded;
- record: the request goes on to the next layer (an emulator, else the network) as written;
  each chunk of the answer is passed to the client as it arrives and kept by the same
  recorder as for httpx, which decodes the body and completes the interaction on close.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from .._aiohttp_hook import Reply, Upstream, WireRequest, set_layer
from ._transport import LiveRequest, Prepared, Session, _Recorder, current_session

__all__ = ["install", "uninstall"]


def install() -> None:
    """Route aiohttp requests to the active cassettes (no-op without aiohttp)."""
    set_layer("cassette", _claim)


def uninstall() -> None:
    """Stop routing aiohttp requests to cassettes."""
    set_layer("cassette", None)


def _claim(method: str, url: str) -> Any:
    session = current_session()  # the request's own context, as for httpx
    if session is None:
        return None
    return functools.partial(_serve, session)


async def _serve(session: Session, request: WireRequest, reply: Reply, forward: Any) -> None:
    live = LiveRequest(request.method, request.url, list(request.headers), request.body)
    decision = session.on_request(live)  # a miss raises here: the client's request raises it
    if isinstance(decision, Prepared):
        await _replay(decision, session.timing, reply)
        return
    try:
        upstream: Upstream = await forward()
    except BaseException:
        session.complete(decision, None)
        raise
    recorder = _Recorder(session, decision, live, _Head(upstream), time.monotonic())
    if hasattr(decision, "recorder"):
        decision.recorder = recorder  # the cassette finishes it if the client never closes
    try:
        await reply.start(upstream.status, upstream.headers)
        async for chunk in upstream.chunks():
            recorder.chunk(chunk)
            await reply.send(chunk)
    except Exception as exc:
        recorder.error = exc
        raise
    finally:  # also when the client stops reading (cancelled): keep what arrived
        upstream.close()
        recorder.finish()
    await reply.end()


class _Head:
    """An upstream answer's status and headers, shaped as the recorder reads an httpx one."""

    def __init__(self, upstream: Upstream) -> None:
        self.status_code = upstream.status
        self.headers = self
        self._items = upstream.headers

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)


async def _replay(prepared: Prepared, paced: bool, reply: Reply) -> None:
    chunks = prepared.chunks
    whole = len(chunks) <= 1 and prepared.error is None
    await reply.start(
        prepared.status, prepared.headers, sum(len(c) for c in chunks) if whole else None
    )
    timing = prepared.timing if paced else None
    start = time.monotonic()
    for index, chunk in enumerate(chunks):
        if timing is not None and index < len(timing):
            wait = timing[index] - (time.monotonic() - start)
            if wait > 0:
                await asyncio.sleep(wait)
        await reply.send(chunk)
    if prepared.error is not None:
        reply.drop()  # the recorded failure: the client sees the connection end mid-body
        return
    await reply.end()
