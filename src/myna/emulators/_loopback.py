"""The emulator as a real HTTP server on loopback, for subprocesses and non-Python clients."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .._text import unprefixed
from ._app import EmulatedRequest, EmulatorApp

__all__ = ["LoopbackServer", "serve"]


_POLL_INTERVAL = 0.02
"""How often the serving loop checks for `stop()`; the default 0.5 s made each stop slow."""


def _print_script_error(request: EmulatedRequest, message: str) -> None:
    """Print a script error to stderr: the client may swallow the 400 it was answered with."""
    print(f"{request.method} {request.path} -> 400 {message}", file=sys.stderr, flush=True)


_MAX_CHUNK_LINE = 1024
"""Longest chunk-size line of a chunked request body (hex size plus extensions)."""


class _BadRequest(Exception):
    """A request whose body cannot be framed; answered 400 and the connection closed."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        if self.server.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        """The request body, framed by ``Transfer-Encoding: chunked`` or ``Content-Length``."""
        encoding = (self.headers.get("transfer-encoding") or "").lower()
        if encoding:
            if encoding.rsplit(",", 1)[-1].strip() != "chunked":
                raise _BadRequest(f"unsupported Transfer-Encoding {encoding!r}")
            return self._read_chunked()
        text = (self.headers.get("content-length") or "0").strip()
        if not text.isdigit():  # "abc", "-5", "+5", "1 2": all refused, as real servers do
            raise _BadRequest(f"invalid Content-Length {text!r}")
        length = int(text)
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise _BadRequest(f"body ended after {len(body)} of {length} bytes")
        return body

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n"):
                raise _BadRequest("malformed chunk size line")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest(f"invalid chunk size {size_text[:20]!r}") from None
            if size < 0 or size_text.startswith((b"-", b"+", b"0x", b"0X")):
                raise _BadRequest(f"invalid chunk size {size_text[:20]!r}")
            if size == 0:
                break
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.readline(3).rstrip(b"\r\n") != b"":
                raise _BadRequest("chunk shorter than its size, or not ended by CRLF")
            parts.append(data)
        while True:  # trailer fields, up to the blank line
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if not line.endswith(b"\n"):
                raise _BadRequest("malformed chunked trailer")
            if line in (b"\r\n", b"\n"):
                return b"".join(parts)

    def _refuse(self, reason: str) -> None:
        """A 400 for a body that cannot be read; the connection's framing is lost, so close."""
        message = f"myna emulator: bad request: {reason}".encode()
        self.close_connection = True
        self.send_response(400)
        self.send_header("content-type", "text/plain")
        self.send_header("x-should-retry", "false")
        self.send_header("connection", "close")
        self.send_header("content-length", str(len(message)))
        self.end_headers()
        self.wfile.write(message)

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self._refuse(str(exc))
            return
        if self.path.startswith(("http://", "https://")):
            url = self.path  # absolute form: a client using this server as its HTTP proxy
        else:
            url = f"http://{self.headers.get('host', 'localhost')}{self.path}"
        try:
            response = self.server.app.handle(self.command, url, dict(self.headers.items()), body)
        except Exception as exc:  # a bug in the emulator: say so, in a way no client retries
            message = f"myna emulator internal error: {unprefixed(exc)}".encode()
            print(message.decode(), file=sys.stderr, flush=True)
            self.send_response(400)
            self.send_header("content-type", "text/plain")
            self.send_header("x-should-retry", "false")
            self.send_header("content-length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            return
        if response.timeout:
            time.sleep(self.server.timeout_seconds)
            self.close_connection = True
            return
        if response.events is None and response.cut_after == 0:
            self.close_connection = True
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.events is None:
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        # chunked, so that a scripted cut looks like a cut and not like the end of the body
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for i, event in enumerate(response.events):
            if response.cut_after is not None and i >= response.cut_after:
                break
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()
            if self.server.event_delay:
                time.sleep(self.server.event_delay)
        if response.cut_after is not None:
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_POST = _handle
    do_GET = _handle
    do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    """The listen backlog; the default 5 refused 1-3% of 50 concurrent streaming clients."""
    app: EmulatorApp
    verbose: bool
    timeout_seconds: float
    event_delay: float


class LoopbackServer:
    """An emulator listening on ``127.0.0.1``; point any client's base URL at `base_url`.

    ```python
    with serve("openai", script=["Hello!"]) as server:
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="test")
    ```

    A script error (the script ran out, a scripted tool call names a tool the request did
    not offer) is answered with a 400 in the provider's error format, whose message starts
    with ``myna emulator script error:``; no client retries it, and the script stays where
    it was. It is also printed to stderr (``print_script_errors=False`` keeps quiet), since
    a client may swallow the 400, and kept in ``server.app.errors``.

    `requests` keeps the newest 1,000 requests, so a long-running server stays flat in
    memory; a test that needs every request passes ``keep_requests=None``.
    """

    def __init__(
        self,
        script: Sequence[Any] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        event_delay: float = 0.0,
        timeout_seconds: float = 5.0,
        verbose: bool = False,
        print_script_errors: bool = True,
        keep_requests: int | None = 1000,
        **options: Any,
    ) -> None:
        self.app = EmulatorApp(script, keep_requests=keep_requests, **options)
        if print_script_errors:
            self.app.on_script_error = _print_script_error
        self._server = _Server((host, port), _Handler)
        self._server.app = self.app
        self._server.verbose = verbose
        self._server.timeout_seconds = timeout_seconds
        self._server.event_delay = event_delay
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; add ``/v1`` for OpenAI-style clients."""
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}"

    @property
    def requests(self) -> list[EmulatedRequest]:
        """The requests received, decoded: the newest `keep_requests` of them (1,000 by
        default; ``keep_requests=None`` keeps all)."""
        return self.app.requests

    def start(self) -> LoopbackServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_INTERVAL,), daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI uses this)."""
        self._server.serve_forever(_POLL_INTERVAL)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(
    provider: str | None = None, script: Sequence[Any] = (), **options: Any
) -> LoopbackServer:
    """A `LoopbackServer` answering from `script` (any protocol, routed by path).

    `provider` is accepted for symmetry with `emulate` and for logs; the server answers
    every protocol it knows at its paths.
    """
    del provider
    return LoopbackServer(script, **options)
