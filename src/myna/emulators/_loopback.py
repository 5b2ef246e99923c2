"""The emulator as a real HTTP server on loopback, for subprocesses and non-Python clients."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .._text import unprefixed
from ..exceptions import UserError
from ._app import EmulatedRequest, EmulatorApp, protocols_for_provider
from ._intercept import PROVIDER_HOSTS

__all__ = ["LoopbackServer", "client_guide", "serve"]

logger = logging.getLogger(__name__)


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

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that closed its connection early (litellm does, mid-stream or before
        reading the answer) is normal: log it at debug level instead of printing socketserver's
        traceback. Anything else is still reported as a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):  # builtins: pipe, reset, abort
            logger.debug(
                "myna emulator: client %s closed the connection (%r)", client_address, error
            )
            return
        super().handle_error(request, client_address)


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

    As a context manager it is strict like `emulate()`: on a clean exit it raises
    `UnmatchedRequestError` if a request hit a script error and `UnusedRepliesError` if a
    scripted reply was never requested (``assert_all_requests_matched=False``,
    ``assert_all_replies_used=False`` turn them off). `stop()` checks only when asked:
    ``stop(check=True)``.

    With a `provider` it serves only that provider's paths (`protocols_for_provider`);
    another provider's path gets a 404 in this provider's error format that names both. The
    model endpoints (``GET /v1/models``, Ollama's ``/api/tags`` and ``/api/show``, Gemini's
    ``models.get``) answer from ``models=`` or the names the script and requests use, and go to
    `model_requests`, not `requests`. `client_urls` is the base URL each client family
    expects.
    """

    def __init__(
        self,
        script: Sequence[Any] = (),
        *,
        provider: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        event_delay: float = 0.0,
        timeout_seconds: float = 5.0,
        verbose: bool = False,
        print_script_errors: bool = True,
        keep_requests: int | None = 1000,
        assert_all_replies_used: bool = True,
        assert_all_requests_matched: bool = True,
        **options: Any,
    ) -> None:
        if provider is not None and provider not in _KNOWN:
            import difflib

            close = difflib.get_close_matches(provider, _KNOWN, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UserError(
                f"serve() does not know provider {provider!r}.{hint} Known: "
                f"{', '.join(_KNOWN)}; or no provider, to serve every protocol."
            )
        self.provider = provider
        self.assert_all_replies_used = assert_all_replies_used
        self.assert_all_requests_matched = assert_all_requests_matched
        if provider is not None:
            options.setdefault("protocols", protocols_for_provider(provider))
        self.app = EmulatorApp(script, keep_requests=keep_requests, provider=provider, **options)
        if print_script_errors:
            self.app.on_script_error = _print_script_error
        self._server = _Server((host, port), _Handler)
        self._server.app = self.app
        self._server.verbose = verbose
        self._server.timeout_seconds = timeout_seconds
        self._server.event_delay = event_delay
        self._thread: threading.Thread | None = None
        self._served = False  # shutdown() waits for a serving loop: never call it without one

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; add ``/v1`` for OpenAI-style clients."""
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}"

    @property
    def client_urls(self) -> dict[str, str]:
        """The base URL each client family expects, for the protocols served: ``"openai"``
        (with ``/v1``), ``"anthropic"`` (without: the SDK adds ``/v1``), ``"google_genai"``,
        ``"ollama"``, ``"bedrock"``."""
        return _client_urls(self.provider, self.base_url)

    @property
    def requests(self) -> list[EmulatedRequest]:
        """The chat requests received, decoded: the newest `keep_requests` of them (1,000 by
        default; ``keep_requests=None`` keeps all)."""
        return self.app.requests

    @property
    def model_requests(self) -> list[EmulatedRequest]:
        """The requests to the model endpoints (``GET /v1/models``, ``POST /api/show``, ...),
        kept apart from `requests`."""
        return self.app.model_requests

    def start(self) -> LoopbackServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_INTERVAL,), daemon=True
        )
        self._served = True
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI uses this)."""
        self._served = True
        self._server.serve_forever(_POLL_INTERVAL)

    def stop(self, check: bool = False) -> None:
        """Stop serving and close the socket; with `check`, run `verify` (the context
        manager does, on a clean exit)."""
        if self._served:
            self._server.shutdown()
            self._served = False
        self._server.server_close()
        if check:
            self.verify()

    def verify(self) -> None:
        """Raise `UnmatchedRequestError` if requests hit script errors, `UnusedRepliesError`
        if scripted replies went unused (each unless turned off, as for `emulate()`)."""
        self.app.verify(
            all_replies_used=self.assert_all_replies_used,
            all_requests_matched=self.assert_all_requests_matched,
        )

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(check=exc_type is None)


_KNOWN = sorted({*PROVIDER_HOSTS, "azure_openai"})


def _client_urls(provider: str | None, base_url: str) -> dict[str, str]:
    protocols = protocols_for_provider(provider)
    urls: dict[str, str] = {}
    if "openai-chat" in protocols:
        urls["openai"] = base_url + "/v1"
    if "anthropic-messages" in protocols:
        urls["anthropic"] = base_url
    if "gemini" in protocols:
        urls["google_genai"] = base_url
    if "ollama" in protocols:
        urls["ollama"] = base_url
    if "bedrock-converse" in protocols:
        urls["bedrock"] = base_url
    return urls


_EXAMPLES = {
    "openai": (
        "OpenAI clients want /v1 in base_url:",
        'openai.OpenAI(base_url="{url}", api_key="test")',
        'init_chat_model("openai:gpt-4.1-mini", base_url="{url}", api_key="test")',
        "OPENAI_BASE_URL={url} OPENAI_API_KEY=test",
    ),
    "anthropic": (
        "Anthropic SDK without /v1 (it adds it); myna's provider with it:",
        'anthropic.Anthropic(base_url="{url}", api_key="test")',
        'init_chat_model("anthropic:claude-haiku-4-5", base_url="{url}/v1", api_key="test")',
        "ANTHROPIC_BASE_URL={url} ANTHROPIC_API_KEY=test",
    ),
    "google_genai": (
        "Gemini clients, without /v1beta:",
        'genai.Client(api_key="test", http_options={{"base_url": "{url}"}})',
        'init_chat_model("google_genai:gemini-2.5-flash", base_url="{url}", api_key="test")',
    ),
    "ollama": (
        "Ollama clients (its OpenAI-compatible API is at /v1):",
        'ollama.Client(host="{url}")',
        'init_chat_model("ollama:llama3.2", base_url="{url}")',
        'litellm.completion(model="ollama_chat/llama3.2", api_base="{url}", ...)',
        "OLLAMA_HOST={url}",
    ),
    "bedrock": (
        "Bedrock runtime clients:",
        'boto3.client("bedrock-runtime", endpoint_url="{url}", region_name="us-east-1")',
    ),
}


def client_guide(provider: str | None, base_url: str) -> str:
    """What ``myna serve`` prints: the base URL each client family expects from a server at
    `base_url` emulating `provider` (None: every protocol), with a one-line example per
    client."""
    lines = []
    for family, url in _client_urls(provider, base_url).items():
        heading, *examples = _EXAMPLES[family]
        lines.append(f"{heading} {url}")
        lines.extend("    " + example.format(url=url) for example in examples)
    served = f"emulating {provider}" if provider else "emulating every provider"
    return f"myna serve: {served} at {base_url}\n" + "\n".join(lines)


def serve(
    provider: str | None = None, script: Sequence[Any] = (), **options: Any
) -> LoopbackServer:
    """A `LoopbackServer` on ``127.0.0.1`` answering from `script`; use it with ``with``.

    Args:
        provider: serve only this provider's API (``"openai"``: Chat Completions and
            Responses; ``"anthropic"``; ``"google_genai"``; ``"ollama"``, with its
            OpenAI-compatible ``/v1``; ``"bedrock"``; an OpenAI-compatible preset). None
            serves every protocol, each at its own paths.
        script: replies, as for `FakeChatModel`, or the path of a YAML script.
        **options: see `LoopbackServer` and `EmulatorApp` (``models=``, ``cycle=``, ...).
    """
    return LoopbackServer(script, provider=provider, **options)
