"""Interception at the httpx / httpx2 transport: replay from a cassette, or record through a tee.

While a cassette is active, ``HTTPTransport.handle_request`` and
``AsyncHTTPTransport.handle_async_request`` of httpx and of httpx2 (when installed) are patched
(on the class, so every client is covered, including the official SDKs' ones). The patched
method asks the cassette of the request's context (`current_session`) what to do:

- replay: a response is built whose stream yields one chunk per recorded event (optionally
  paced by the recorded timing), then raises the recorded transport error, if any;
- record: the real transport is called and its response stream is wrapped in a tee that hands
  each chunk to the caller as it arrives and keeps a copy; when the stream closes the copy is
  decoded (gzip/deflate/brotli/zstd undone) and becomes an interaction.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from ._format import body_chunks, encode_body

__all__ = [
    "ContextEntry",
    "LiveRequest",
    "Prepared",
    "current_session",
    "enter_context",
    "install",
    "leave_context",
    "uninstall",
]

_FLAVOURS = ("httpx", "httpx2")


@dataclass
class LiveRequest:
    """A request the patched transport received."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def stored(self) -> dict[str, Any]:
        """The request in cassette shape (before scrubbing)."""
        headers: dict[str, Any] = {}
        for key, value in self.headers:
            low = key.lower()
            if low in headers:
                prev = headers[low]
                headers[low] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                headers[low] = value
        return {
            "method": self.method,
            "url": self.url,
            "headers": headers,
            "body": encode_body(self.header("content-type"), self.body),
        }


@dataclass
class Prepared:
    """A recorded response ready to replay (built once per interaction, then shared)."""

    status: int
    headers: list[tuple[str, str]]
    chunks: list[bytes]
    timing: list[float] | None
    error: tuple[str, str] | None

    @classmethod
    def from_response(cls, response: dict[str, Any]) -> Prepared:
        body = response.get("body")
        chunks = body_chunks(body)
        headers: list[tuple[str, str]] = []
        for name, value in (response.get("headers") or {}).items():
            for item in value if isinstance(value, list) else [value]:
                headers.append((str(name), str(item)))
        kind = next(iter(body)) if body else None
        if kind in ("json", "text", "base64") or not chunks:
            # bodies are stored decoded: announce the decoded length
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("content-length", str(sum(len(c) for c in chunks))))
        error = response.get("error")
        failure: tuple[str, str] | None = None
        if isinstance(error, dict):
            failure = (str(error.get("type")), str(error.get("message") or ""))
        return cls(int(response["status"]), headers, chunks, response.get("timing"), failure)


class Session(Protocol):
    """What the transport needs from an active cassette."""

    timing: bool

    def on_request(self, request: LiveRequest) -> Prepared | Any: ...

    def complete(self, slot: Any, interaction: dict[str, Any] | None) -> None: ...


# ---------------------------------------------------------------- the active cassettes

_lock = threading.RLock()
_active: list[Session] = []
_originals: dict[tuple[str, str], Callable[..., Any]] = {}


def _modules() -> list[tuple[str, ModuleType]]:
    out = []
    for name in _FLAVOURS:
        try:
            out.append((name, importlib.import_module(name)))
        except ImportError:
            continue
    return out


def install(session: Session) -> None:
    """Make `session` the innermost active cassette; patch the transports if not yet done."""
    with _lock:
        if not _active:
            for name, module in _modules():
                sync_cls, async_cls = module.HTTPTransport, module.AsyncHTTPTransport
                _originals[(name, "sync")] = sync_cls.handle_request
                _originals[(name, "async")] = async_cls.handle_async_request
                sync_cls.handle_request = _sync_handler(module, _originals[(name, "sync")])
                async_cls.handle_async_request = _async_handler(module, _originals[(name, "async")])
            from ._aiohttp import install as install_aiohttp  # lazily: it imports this module

            install_aiohttp()
        _active.append(session)


def uninstall(session: Session) -> None:
    """Deactivate `session`; restore the transports when no cassette is left."""
    with _lock:
        if session in _active:
            _active.remove(session)
        if not _active:
            for name, module in _modules():
                if (name, "sync") in _originals:
                    module.HTTPTransport.handle_request = _originals.pop((name, "sync"))
                    module.AsyncHTTPTransport.handle_async_request = _originals.pop((name, "async"))
            from ._aiohttp import uninstall as uninstall_aiohttp

            uninstall_aiohttp()


class ContextEntry:
    """One cassette's claim on a context: opened there, or entered with `Cassette.scope`."""

    __slots__ = ("open", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.open = True


_context: contextvars.ContextVar[tuple[ContextEntry, ...]] = contextvars.ContextVar(
    "myna_cassettes", default=()
)
"""The cassettes claimed in this context, innermost last. Tasks copy their parent's context,
so a task started inside a cassette uses it; a plain thread starts with an empty one."""


def enter_context(session: Session) -> ContextEntry:
    """Route the requests made in this context (and the tasks it starts) to `session`."""
    entry = ContextEntry(session)
    # closed entries left by a cassette stopped in another context are dropped here
    _context.set((*(e for e in _context.get() if e.open), entry))
    return entry


def leave_context(entry: ContextEntry) -> None:
    """End `entry`'s claim: everywhere at once (a context that copied it sees it closed)."""
    entry.open = False
    stack = _context.get()
    if entry in stack:
        _context.set(tuple(e for e in stack if e is not entry))


def current_session() -> Session | None:
    """The active cassette a request made in this context goes to, or None (the network).

    The innermost cassette claimed in this context (opened here or in a parent task, or
    entered with `Cassette.scope`); where none is (a plain thread), the innermost cassette
    opened anywhere in the process that is not ``scoped``, as before contexts counted.
    """
    return _current()


def _current() -> Session | None:
    active = _active[:]  # a copy: other threads start and stop cassettes meanwhile
    for entry in reversed(_context.get()):
        if entry.open and entry.session in active:
            return entry.session
    for session in reversed(active):
        if not getattr(session, "scoped", False):  # a scoped cassette serves its scope only
            return session
    return None


def _sync_handler(module: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def handle_request(self: Any, request: Any) -> Any:
        session = _current()
        if session is None:
            return original(self, request)
        live = LiveRequest(
            request.method, str(request.url), list(request.headers.multi_items()), request.read()
        )
        decision = session.on_request(live)
        if isinstance(decision, Prepared):
            return _replay(module, decision, session.timing, is_async=False)
        try:
            response = original(self, request)
        except BaseException:
            session.complete(decision, None)
            raise
        return _tee(module, response, live, session, decision, is_async=False)

    return handle_request


def _async_handler(module: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def handle_async_request(self: Any, request: Any) -> Any:
        session = _current()
        if session is None:
            return await original(self, request)
        body = await request.aread()
        live = LiveRequest(
            request.method, str(request.url), list(request.headers.multi_items()), body
        )
        decision = session.on_request(live)
        if isinstance(decision, Prepared):
            return _replay(module, decision, session.timing, is_async=True)
        try:
            response = await original(self, request)
        except BaseException:
            session.complete(decision, None)
            raise
        return _tee(module, response, live, session, decision, is_async=True)

    return handle_async_request


# ---------------------------------------------------------------- replay


def _error(module: ModuleType, failure: tuple[str, str]) -> BaseException:
    cls = getattr(module, failure[0], None)
    if not (isinstance(cls, type) and issubclass(cls, module.TransportError)):
        cls = module.RemoteProtocolError
    return cls(failure[1])  # type: ignore[no-any-return]


@functools.cache
def _replay_classes(module: ModuleType) -> tuple[type, type]:
    class ReplayStream(module.SyncByteStream):  # type: ignore[name-defined, misc]
        """Yields the recorded chunks one by one, then raises the recorded error, if any."""

        def __init__(self, prepared: Prepared, paced: bool) -> None:
            self.prepared = prepared
            self.paced = paced and prepared.timing is not None

        def __iter__(self) -> Iterator[bytes]:
            start = time.monotonic()
            timing = self.prepared.timing or ()
            for index, chunk in enumerate(self.prepared.chunks):
                if self.paced and index < len(timing):
                    wait = timing[index] - (time.monotonic() - start)
                    if wait > 0:
                        time.sleep(wait)
                yield chunk
            if self.prepared.error is not None:
                raise _error(module, self.prepared.error)

        def close(self) -> None:
            pass

    class AsyncReplayStream(module.AsyncByteStream):  # type: ignore[name-defined, misc]
        """Async twin of ReplayStream."""

        def __init__(self, prepared: Prepared, paced: bool) -> None:
            self.prepared = prepared
            self.paced = paced and prepared.timing is not None

        async def __aiter__(self) -> AsyncIterator[bytes]:
            start = time.monotonic()
            timing = self.prepared.timing or ()
            for index, chunk in enumerate(self.prepared.chunks):
                if self.paced and index < len(timing):
                    wait = timing[index] - (time.monotonic() - start)
                    if wait > 0:
                        import anyio

                        await anyio.sleep(wait)
                yield chunk
            if self.prepared.error is not None:
                raise _error(module, self.prepared.error)

        async def aclose(self) -> None:
            pass

    return ReplayStream, AsyncReplayStream


def _header_value(value: str) -> str | bytes:
    """A recorded header value as httpx accepts it: a ``str`` only when it is ASCII.

    httpx decodes a received header as ASCII, else UTF-8, else Latin-1, so a non-ASCII value
    (``x-note: café``) is recorded as text; given back as a ``str``, httpx refuses it
    (``UnicodeEncodeError``). As UTF-8 bytes it decodes to the same text again.
    """
    return value if value.isascii() else value.encode("utf-8")


def _replay(module: ModuleType, prepared: Prepared, paced: bool, *, is_async: bool) -> Any:
    sync_cls, async_cls = _replay_classes(module)
    stream = (async_cls if is_async else sync_cls)(prepared, paced)
    headers = [(name, _header_value(value)) for name, value in prepared.headers]
    return module.Response(prepared.status, headers=headers, stream=stream)


# ---------------------------------------------------------------- record


def _decoder(encoding: str) -> Callable[[bytes, bool], bytes] | None:
    """An incremental decoder ``(chunk, final) -> bytes`` for a content-encoding, or None."""
    enc = encoding.strip().lower()
    if enc in ("", "identity"):
        return lambda data, final: data
    if enc in ("gzip", "x-gzip", "deflate"):
        state: dict[str, Any] = {"obj": zlib.decompressobj(zlib.MAX_WBITS | 32)}

        def inflate(data: bytes, final: bool) -> bytes:
            try:
                out = state["obj"].decompress(data)
            except zlib.error:
                if enc != "deflate" or state.get("raw"):
                    raise
                state["obj"], state["raw"] = zlib.decompressobj(-zlib.MAX_WBITS), True
                out = state["obj"].decompress(data)
            return out + state["obj"].flush() if final else out

        return inflate
    if enc == "br":
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError:
            try:
                import brotlicffi as brotli  # type: ignore[import-not-found, no-redef]
            except ImportError:
                return None
        decompressor = brotli.Decompressor()
        step = getattr(decompressor, "process", None) or decompressor.decompress
        return lambda data, final: step(data) if data else b""
    if enc == "zstd":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            return None
        zobj = zstandard.ZstdDecompressor().decompressobj()
        return lambda data, final: zobj.decompress(data) if data else b""
    return None


class _Recorder:
    """Collects a response's raw chunks with their arrival times; builds the interaction."""

    def __init__(
        self, session: Session, slot: Any, live: LiveRequest, response: Any, started: float
    ) -> None:
        self.session = session
        self.slot = slot
        self.live = live
        self.status = response.status_code
        self.headers = list(response.headers.multi_items())
        self.started = started
        self.chunks: list[bytes] = []
        self.times: list[float] = []
        self.error: BaseException | None = None
        self.finished = False
        self._lock = threading.Lock()

    def chunk(self, data: bytes) -> None:
        self.chunks.append(data)
        self.times.append(time.monotonic() - self.started)

    def finish(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.finished = True
        try:
            interaction = {"request": self.live.stored(), "response": self._response()}
        except Exception:  # never let recording break the caller's response
            interaction = None
        self.session.complete(self.slot, interaction)

    def _header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name), "")

    def _decoded(self) -> tuple[bytes, list[int], bool]:
        """(decoded body, decoded length after each raw chunk, whether it was decoded)."""
        decode = _decoder(self._header("content-encoding"))
        if decode is not None:
            try:
                ends, out, total = [], [], 0
                for index, chunk in enumerate(self.chunks):
                    piece = decode(chunk, index == len(self.chunks) - 1)
                    out.append(piece)
                    total += len(piece)
                    ends.append(total)
                return b"".join(out), ends, True
            except Exception:
                pass  # undecodable: keep the raw bytes and the header
        ends, total = [], 0
        for chunk in self.chunks:
            total += len(chunk)
            ends.append(total)
        return b"".join(self.chunks), ends, False

    def _response(self) -> dict[str, Any]:
        data, ends, decoded = self._decoded()
        offsets: list[int] = []
        body = encode_body(self._header("content-type") or None, data, offsets=offsets)
        headers: dict[str, Any] = {}
        for key, value in self.headers:
            low = key.lower()
            if decoded and low == "content-encoding":
                continue
            if low in headers:
                prev = headers[low]
                headers[low] = [*prev, value] if isinstance(prev, list) else [prev, value]
            else:
                headers[low] = value
        response: dict[str, Any] = {"status": self.status, "headers": headers, "body": body}
        if self.error is not None:
            response["error"] = {"type": type(self.error).__name__, "message": str(self.error)}
        if self.session.timing and body:
            response["timing"] = [round(self._time_at(ends, end), 4) for end in offsets]
        return response

    def _time_at(self, ends: list[int], offset: int) -> float:
        for index, end in enumerate(ends):
            if end >= offset:
                return self.times[index]
        return self.times[-1] if self.times else 0.0


@functools.cache
def _tee_classes(module: ModuleType) -> tuple[type, type]:
    class TeeStream(module.SyncByteStream):  # type: ignore[name-defined, misc]
        """Passes each chunk on as it arrives and keeps a copy for the cassette."""

        def __init__(self, inner: Any, recorder: _Recorder) -> None:
            self.inner = inner
            self.recorder = recorder

        def __iter__(self) -> Iterator[bytes]:
            try:
                for chunk in self.inner:
                    self.recorder.chunk(chunk)
                    yield chunk
            except Exception as exc:
                self.recorder.error = exc
                raise

        def close(self) -> None:
            try:
                self.inner.close()
            finally:
                self.recorder.finish()

    class AsyncTeeStream(module.AsyncByteStream):  # type: ignore[name-defined, misc]
        """Async twin of TeeStream."""

        def __init__(self, inner: Any, recorder: _Recorder) -> None:
            self.inner = inner
            self.recorder = recorder

        async def __aiter__(self) -> AsyncIterator[bytes]:
            try:
                async for chunk in self.inner:
                    self.recorder.chunk(chunk)
                    yield chunk
            except Exception as exc:
                self.recorder.error = exc
                raise

        async def aclose(self) -> None:
            try:
                await self.inner.aclose()
            finally:
                self.recorder.finish()

    return TeeStream, AsyncTeeStream


def _tee(
    module: ModuleType,
    response: Any,
    live: LiveRequest,
    session: Session,
    slot: Any,
    *,
    is_async: bool,
) -> Any:
    recorder = _Recorder(session, slot, live, response, time.monotonic())
    if hasattr(slot, "recorder"):
        slot.recorder = recorder
    sync_cls, async_cls = _tee_classes(module)
    response.stream = (async_cls if is_async else sync_cls)(response.stream, recorder)
    return response
