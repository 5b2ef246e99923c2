"""aiohttp interception shared by emulators and cassettes: a virtual connection per request.

Where aiohttp is hooked, and why there: ``BaseConnector.connect(req, traces, timeout)``, the
documented connector method every `aiohttp.ClientSession` request goes through to get a
connection, whichever connector class it uses (TCP, proxies, TLS) and *before* the connector's
pool is consulted (so a keep-alive connection opened before an emulator started cannot carry
an emulated request to the real host). When a layer claims the request, the connector gets a
`Connection` over an in-memory transport instead of a socket: aiohttp writes the request into
it as HTTP/1.1 bytes (parsed here with h11, which httpcore already brings), and the answer is
fed back as HTTP/1.1 bytes that aiohttp's own parser reads, chunk by chunk. Nothing about
aiohttp's request building or response objects is re-implemented, so headers, bodies,
decompression, redirects and errors behave as with a real server. ``ClientSession._request``
(what vcrpy and aioresponses patch) is private, its keyword list grows with every release and
it would leave us building `ClientResponse` objects by hand; the wire format does not change.

Two layers claim requests, outer first: the cassette (which may `forward` a request to record
it) and the emulators. Each is a function ``claim(method, url) -> Serve | None`` set with
`set_layer`; the patch is installed while any layer is set and removed when none is.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Reply", "Serve", "Upstream", "WireRequest", "set_layer"]

_DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass
class WireRequest:
    """A request as aiohttp sent it: header names lowercased, body de-chunked."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Upstream:
    """The next layer's answer to a forwarded request: status, headers, then raw chunks
    (still content-encoded) from `chunks()`; `close()` ends the connection."""

    status: int
    headers: list[tuple[str, str]]
    _queue: asyncio.Queue[Any] = field(repr=False)
    _close: Callable[[], None] = field(repr=False)

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._close()


Forward = Callable[[], Awaitable[Upstream]]
Serve = Callable[[WireRequest, "Reply", Forward], Awaitable[None]]
"""Answers one request through `Reply`; may call `forward()` for the next layer's answer."""


class Reply:
    """What a layer answers with: `start`, then `send` chunks, then `end`; or `fail` before
    the start (the client raises that exception), or `drop` the connection at any time."""

    def __init__(self, transport: _VirtualTransport) -> None:
        self._transport = transport
        self.started = False
        self._chunked = False

    async def start(
        self, status: int, headers: list[tuple[str, str]], length: int | None = None
    ) -> None:
        """Send the status line and headers; `length` is the body size if known (else the body
        is sent chunked). Framing headers are the wire's, not the caller's."""
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {status} {reason}".encode("ascii")]
        for name, value in headers:
            if name.lower() not in _DROPPED_HEADERS:
                # a value from an edited cassette must not end the head early
                value = value.replace("\r", " ").replace("\n", " ")
                lines.append(name.encode("latin-1") + b": " + value.encode("utf-8"))
        # never pooled: a connection kept alive would outlive the layer that answered it
        lines.append(b"connection: close")
        self._chunked = length is None
        lines.append(
            b"transfer-encoding: chunked" if length is None else b"content-length: %d" % length
        )
        self.started = True
        await self._transport.feed(b"\r\n".join(lines) + b"\r\n\r\n")

    async def send(self, chunk: bytes) -> None:
        """Send one piece of the body (arrives at the client as one read)."""
        if not chunk:
            return
        await self._transport.feed(
            b"%x\r\n%s\r\n" % (len(chunk), chunk) if self._chunked else chunk
        )

    async def end(self) -> None:
        """Finish the body and close the connection."""
        if self._chunked:
            await self._transport.feed(b"0\r\n\r\n")
        self._transport.lose(None)

    def fail(self, exc: BaseException) -> None:
        """Before `start`: the client's request raises `exc` itself."""
        self._transport.fail(exc)

    def drop(self, exc: BaseException | None = None) -> None:
        """Close the connection now (mid-body: the client sees an incomplete payload)."""
        self._transport.lose(exc)


class _VirtualTransport(asyncio.Transport):
    """An in-memory connection: parses what aiohttp writes, runs the layer's `Serve` on the
    whole request, feeds the answer to aiohttp's protocol, honouring its flow control."""

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str, serve: Serve, forward: Any):
        super().__init__()
        import h11

        self._h11 = h11
        self._loop = loop
        self._url = url
        self._serve = serve
        self._forward = forward
        self._parser = h11.Connection(h11.SERVER)
        self._events: list[Any] = []
        self._raw: list[bytes] = []
        self._protocol: Any = None
        self._closing = False
        self._lost = False
        self._reading = asyncio.Event()
        self._reading.set()
        self._task: asyncio.Task[None] | None = None

    # -- asyncio.Transport ---------------------------------------------------------------------

    def set_protocol(self, protocol: Any) -> None:
        self._protocol = protocol

    def get_protocol(self) -> Any:
        return self._protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._task is not None and not self._task.done():
            self._task.cancel()  # the client stopped reading: stop answering
        if not self._loop.is_closed():  # a session closed after its loop: nothing to tell
            self._loop.call_soon(self.lose, None)

    def abort(self) -> None:
        self.close()

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    def is_reading(self) -> bool:
        return self._reading.is_set()

    def get_write_buffer_size(self) -> int:
        return 0

    def can_write_eof(self) -> bool:
        return False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._task is not None:
            return
        data = bytes(data)
        self._raw.append(data)
        h11 = self._h11
        try:
            self._parser.receive_data(data)
            while True:
                event = self._parser.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    return
                self._events.append(event)
                if self._parser.they_are_waiting_for_100_continue and self._protocol is not None:
                    self._protocol.data_received(b"HTTP/1.1 100 Continue\r\n\r\n")  # expect100
                if isinstance(event, h11.EndOfMessage):
                    self._task = self._loop.create_task(self._run())
                    return
        except h11.RemoteProtocolError as exc:
            self.fail(exc)

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    # -- feeding the client --------------------------------------------------------------------

    async def feed(self, data: bytes) -> None:
        await self._reading.wait()  # aiohttp pauses reading while its buffer is full
        if not self._lost and self._protocol is not None:
            self._protocol.data_received(data)
            # let the client read this piece before the next arrives: one event per read,
            # as from a real server's stream (and the head before a scripted disconnect)
            await asyncio.sleep(0)

    def fail(self, exc: BaseException) -> None:
        if not self._lost and self._protocol is not None:
            self._protocol.set_exception(exc)

    def lose(self, exc: BaseException | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        if self._protocol is not None:
            self._protocol.connection_lost(exc)

    def request(self) -> WireRequest:
        h11 = self._h11
        head = next(e for e in self._events if isinstance(e, h11.Request))
        body = b"".join(bytes(e.data) for e in self._events if isinstance(e, h11.Data))
        headers = [(k.decode("latin-1"), _text(v)) for k, v in head.headers]
        return WireRequest(head.method.decode("ascii"), self._url, headers, body)

    async def _run(self) -> None:
        reply = Reply(self)
        try:
            await self._serve(self.request(), reply, self._forward_request)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # NetworkBlockedError too: the request raises it
            if reply.started:
                self.lose(exc if isinstance(exc, Exception) else None)
            else:
                self.fail(exc)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise

    async def _forward_request(self) -> Upstream:
        """Send the request as written to the next layer (an emulator or the network)."""
        return await self._forward(b"".join(self._raw), self._events)


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class _Relay(asyncio.Protocol):
    """Reads the next layer's raw answer with h11 and queues status, headers and chunks."""

    def __init__(self, events: list[Any], head: asyncio.Future[Any], queue: asyncio.Queue[Any]):
        import h11

        self._h11 = h11
        self._client = h11.Connection(h11.CLIENT)
        for event in events:  # the same request, so h11 knows what answer to expect (HEAD)
            self._client.send(event)
        self._head = head
        self._queue = queue
        self._done = False

    def data_received(self, data: bytes) -> None:
        h11 = self._h11
        try:
            self._client.receive_data(data)
            self._pump()
        except h11.ProtocolError as exc:
            self._finish(exc)

    def _pump(self) -> None:
        h11 = self._h11
        while not self._done:
            event = self._client.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                headers = [(k.decode("latin-1"), _text(v)) for k, v in event.headers]
                if not self._head.done():
                    self._head.set_result((event.status_code, headers))
            elif isinstance(event, h11.Data):
                self._queue.put_nowait(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._finish(None)
            elif isinstance(event, h11.ConnectionClosed):
                self._finish(ConnectionResetError("myna: connection closed mid-response"))

    def eof_received(self) -> bool | None:
        with contextlib.suppress(self._h11.ProtocolError):
            self._client.receive_data(b"")
            self._pump()
        if not self._done:
            self._finish(ConnectionResetError("myna: connection closed mid-response"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done:
            self._finish(exc or ConnectionResetError("myna: connection closed mid-response"))

    def _finish(self, exc: BaseException | None) -> None:
        self._done = True
        if not self._head.done():
            self._head.set_exception(exc or ConnectionResetError("myna: no response"))
        self._queue.put_nowait(exc)


# ---------------------------------------------------------------- the patch

Claim = Callable[[str, str], "Serve | None"]

_ORDER = ("cassette", "emulator")
_layers: dict[str, Claim] = {}
_lock = threading.Lock()
_original: dict[str, Any] = {}


def set_layer(name: str, claim: Claim | None) -> None:
    """Set (or with None remove) the ``"cassette"`` or ``"emulator"`` layer's claim function;
    aiohttp is patched while any layer is set. A no-op when aiohttp is not installed."""
    connector = _connector_module()
    if connector is None:
        return
    with _lock:
        if claim is None:
            _layers.pop(name, None)
        else:
            _layers[name] = claim
        base = connector.BaseConnector
        if _layers and not _original:
            _original["connect"] = base.connect
            base.connect = _make_connect(base.connect)  # type: ignore[method-assign]
        elif not _layers and _original:
            base.connect = _original.pop("connect")  # type: ignore[method-assign]


@functools.cache
def _connector_module() -> Any:
    """aiohttp's connector module, or None when aiohttp is not installed.

    Imported as soon as a layer is set (about 0.3 s, once per process), not when aiohttp is
    first used: a client importing it later, inside a test, would otherwise go unpatched.
    """
    try:
        import aiohttp.connector
    except ImportError:
        return None
    return aiohttp.connector


def _make_connect(original: Callable[..., Any]) -> Callable[..., Any]:
    async def connect(self: Any, req: Any, traces: Any, timeout: Any) -> Any:
        return await _connect_from(0, original, self, req, traces, timeout)

    connect.__wrapped__ = original  # type: ignore[attr-defined]
    return connect


async def _connect_from(
    index: int, original: Callable[..., Any], connector: Any, req: Any, traces: Any, timeout: Any
) -> Any:
    """The connection for `req` from the layers from `index` inward, else the real one."""
    url = str(req.url)
    for position in range(index, len(_ORDER)):
        claim = _layers.get(_ORDER[position])
        serve = claim(req.method, url) if claim is not None else None
        if serve is None:
            continue

        async def forward(raw: bytes, events: list[Any], _next: int = position + 1) -> Upstream:
            conn = await _connect_from(_next, original, connector, req, traces, timeout)
            return await _send_over(conn, raw, events)

        return _virtual_connection(connector, req, serve, forward)
    return await original(connector, req, traces, timeout)


def _virtual_connection(connector: Any, req: Any, serve: Serve, forward: Any) -> Any:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.connector import Connection

    loop = asyncio.get_running_loop()
    protocol = ResponseHandler(loop)
    transport = _VirtualTransport(loop, str(req.url), serve, forward)
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    return Connection(connector, req.connection_key, protocol, loop)


async def _send_over(conn: Any, raw: bytes, events: list[Any]) -> Upstream:
    """Write the raw request on `conn` and read the answer through a `_Relay`."""
    loop = asyncio.get_running_loop()
    head: asyncio.Future[Any] = loop.create_future()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    transport = conn.protocol.transport
    transport.set_protocol(_Relay(events, head, queue))
    transport.write(raw)
    try:
        status, headers = await head
    except BaseException:
        conn.close()
        raise
    return Upstream(status, headers, queue, conn.close)
