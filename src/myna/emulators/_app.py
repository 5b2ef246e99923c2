"""The emulator's core: a pure function from an HTTP request to the provider's HTTP answer.

It is the server side of the codecs fed by a `FakeChatModel` script. The respx interception
(`_intercept.py`) and the loopback HTTP server (`_loopback.py`) both call `EmulatorApp.handle`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .._text import unprefixed
from ..codecs import (
    Codec,
    broken_stream,
    content_type,
    encode_payload,
    get_codec,
    protocol_for_path,
)
from ..exceptions import (
    BadRequestError,
    ConnectionError,
    DecodeError,
    InvalidToolCallError,
    MynaError,
    ProviderError,
    TimeoutError,
)
from ..fakes import FakeChatModel, Fault
from ..messages import AIMessage, BaseMessage
from ..models import ChatRequest

__all__ = ["EmulatedRequest", "EmulatedResponse", "EmulatorApp", "protocol_for_path"]

SCRIPT_ERROR_STATUS = 400
"""The status a script error is answered with. No client retries a 400: the official SDKs
retry 408, 409, 429 and 5xx (openai, anthropic), myna's providers 429, 529 and 5xx, and a
retry of a script error would be answered by the next scripted reply, a silent wrong answer.
The answer also carries ``x-should-retry: false``, which the openai and anthropic SDKs obey."""

SCRIPT_ERROR_PREFIX = "myna emulator script error: "
"""How the message of every script error answered over HTTP begins."""


@dataclass
class EmulatedRequest:
    """A request the emulator received, decoded back into messages and parameters."""

    method: str
    url: str
    path: str
    headers: dict[str, str]
    body: Any
    protocol: str | None
    messages: list[BaseMessage] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    status: int = 0
    """The status the emulator answered with."""
    reply: AIMessage | None = None
    """The scripted reply sent back, when there was one."""

    @property
    def last_message(self) -> BaseMessage | None:
        """The last message of the conversation sent."""
        return self.messages[-1] if self.messages else None

    def __repr__(self) -> str:
        last = self.last_message
        text = last.text[:60] if last is not None else ""
        return f"<EmulatedRequest {self.method} {self.path} -> {self.status} last={text!r}>"


@dataclass
class EmulatedResponse:
    """What to send back: a whole body, or stream events with an optional cut."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    events: list[bytes] | None = None
    cut_after: int | None = None
    """Drop the connection after this many events (0 with no events: before any body)."""
    timeout: bool = False
    """Never answer: the client times out."""


def _cut_index(codec: Codec, payloads: list[Any], after_chunks: int) -> int:
    """How many events to send so the client decodes `after_chunks` content chunks.

    `fault.disconnect(after_chunks=N)` means N pieces of the reply (text, reasoning, tool-call
    arguments), as with `FakeChatModel`, not N protocol events: a stream opens with events
    that carry no content (``message_start``, ``response.created``), and their number differs
    by protocol. The client-side decoder counts, so the partial message matches the fake's.
    A reply with fewer pieces is cut after its last one, before the stream's closing events.
    """
    consumed = 0

    def feed() -> Iterator[Any]:
        nonlocal consumed
        for payload in payloads:
            consumed += 1
            yield payload

    seen = 0
    last = 0
    try:
        for chunk in codec.decode_stream(feed()):
            if _carries_content(chunk):
                seen += 1
                last = consumed
                if seen >= after_chunks:
                    return consumed
    except MynaError:
        pass
    return last


def _is_script_error(error: BaseException) -> bool:
    """An error the script caused, which no provider answer stands for (a scripted
    provider error, timeout, disconnect or broken body is an answer, sent as such)."""
    if isinstance(error, (ProviderError, TimeoutError, ConnectionError, DecodeError)):
        return False
    return isinstance(error, Exception)


def _partial_hint(error: Exception, record: EmulatedRequest) -> str:
    """A hint for a scripted tool call that instructor's ``create_partial`` renamed.

    ``create_partial`` binds the tool as ``Partial<Model>``, so a script written for
    ``create`` (``tool_call("User", ...)``) names a tool the request does not offer. The
    emulator does not rename the call itself: the script says what the model answers, and
    the name is part of that answer.
    """
    if not isinstance(error, InvalidToolCallError):
        return ""
    bound = {t.get("name") for t in record.params.get("tools") or () if isinstance(t, dict)}
    called = re.findall(r"calls tool '([^']+)'", str(error))
    for name in called:
        if f"Partial{name}" in bound:
            return (
                f" instructor's create_partial binds {name!r} as 'Partial{name}': script "
                f"tool_call('Partial{name}', ...) for it."
            )
    return ""


def _carries_content(chunk: Any) -> bool:
    """True for a chunk with a piece of the reply, not just an opening or closing marker."""
    if chunk.tool_call_chunks:
        return True
    content = chunk.content
    if isinstance(content, str):
        return bool(content)
    for block in content:
        if isinstance(block, str):
            if block:
                return True
        elif block.get("type") in ("text", "reasoning"):
            if block.get(block["type"]):
                return True
        else:
            return True  # images, audio, server tool calls
    return False


class EmulatorApp:
    """Answers provider requests from a script, validating each request like the real API.

    Args:
        script: replies as for `FakeChatModel` (strings, `tool_call(...)`, faults, ...).
        chunking: how streamed text is cut (``"words"``, ``"chars"`` or a size).
        cycle: repeat the script instead of failing when it runs out.
        require_auth: answer a request without an API key as the API does (the codec's
            `auth_error`: 401, or 403 for Gemini and Bedrock).
        validate_tool_calls: fail a scripted tool call that names a tool the request did not
            offer, or whose arguments do not match its schema.
        keep_requests: keep only the newest this many requests in `requests` (None: all).
    """

    def __init__(
        self,
        script: Sequence[Any] = (),
        *,
        chunking: Any = "words",
        cycle: bool = False,
        require_auth: bool = True,
        validate_tool_calls: bool = True,
        keep_requests: int | None = None,
    ) -> None:
        if keep_requests is not None and keep_requests < 1:
            raise ValueError(f"keep_requests={keep_requests!r} must be >= 1, or None to keep all")
        self.keep_requests = keep_requests
        """How many requests `requests` keeps, the newest; None keeps every one (a server
        that runs for hours would grow without end: `myna serve` keeps 1,000)."""
        self.engine = FakeChatModel(
            list(script),
            chunking=chunking,
            cycle=cycle,
            validate_tool_calls=validate_tool_calls,
            max_retries=0,
        )
        self.chunking = chunking
        self.require_auth = require_auth
        self.requests: list[EmulatedRequest] = []
        self.errors: list[BaseException] = []
        """Script errors (exhausted script, invalid scripted tool calls), each answered with a
        `SCRIPT_ERROR_STATUS` error in the provider's format."""
        self.on_script_error: Callable[[EmulatedRequest, str], None] | None = None
        """Called with the request and the message of each script error (``myna serve``
        prints them)."""
        self._lock = threading.Lock()
        self._answering = threading.Lock()

    # -- helpers -----------------------------------------------------------------------------

    def _json(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> EmulatedResponse:
        out = {"content-type": "application/json"}
        out.update(headers or {})
        return EmulatedResponse(status, out, json.dumps(body).encode())

    def _error(self, codec: Codec | None, error: ProviderError) -> EmulatedResponse:
        if codec is None:
            return self._json(error.status_code or 404, {"error": {"message": error.message}})
        status, headers, body = codec.render_error(error)
        headers = {k.lower(): str(v) for k, v in (headers or {}).items()}
        if error.retry_after is not None and "retry-after" not in headers:
            headers["retry-after"] = str(int(error.retry_after))
        return self._json(status, body, headers)

    def _script_error(
        self, record: EmulatedRequest, codec: Codec, error: Exception
    ) -> EmulatedResponse:
        """Answer a script error (an exhausted script, a scripted tool call the request did not
        offer, a script entry or callable that raised) in the provider's own error format, with
        a status no client retries (`SCRIPT_ERROR_STATUS`). The script was left where it was
        (the reply that could not be sent is still the next one), and the error is kept in
        `errors` for the checks on exit (`Emulator.verify`) and for ``myna serve`` to print."""
        with self._lock:
            self.errors.append(error)
        message = (
            SCRIPT_ERROR_PREFIX
            + unprefixed(error)
            + _partial_hint(error, record)
            + " (the scripted reply was not used: fix the script and run again)"
        )
        if self.on_script_error is not None:
            self.on_script_error(record, message)
        rendered = self._error(
            codec,
            BadRequestError(message, status_code=SCRIPT_ERROR_STATUS, type="invalid_request_error"),
        )
        rendered.headers["x-should-retry"] = "false"
        return rendered

    @staticmethod
    def _hints(codec: Codec, params: dict[str, Any], reply_is_object: bool) -> dict[str, Any]:
        """What `with_structured_output` asked for, read back from the wire request.

        May set ``params["tool_choice"]`` (a copy the script engine reads): where a request
        cannot force a tool (the codec's ``FORCED_TOOL_CHOICE`` is false: Ollama), a
        structured reply to a request offering exactly one tool is that tool's call, as
        `with_structured_output(method="function_calling")` expects.
        """
        fmt = params.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object"):
            method = "json_schema" if fmt.get("type") == "json_schema" else "json_mode"
            return {"structured_method": method, "structured_schema": fmt.get("schema")}
        if not reply_is_object:
            return {}
        choice = params.get("tool_choice")
        if isinstance(choice, str) and choice not in ("auto", "any", "none"):
            return {"structured_method": "function_calling"}
        tools = params.get("tools") or []
        forced = codec.FORCED_TOOL_CHOICE
        if not forced and choice is None and len(tools) == 1 and tools[0].get("name"):
            params["tool_choice"] = tools[0]["name"]
            return {"structured_method": "function_calling"}
        return {}

    # -- the handler -------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> EmulatedResponse:
        """Answer one HTTP request."""
        parts = urlsplit(url)
        path = parts.path
        headers = {k.lower(): v for k, v in headers.items()}
        protocol = protocol_for_path(path)
        try:
            parsed: Any = json.loads(body) if body else {}
        except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
            parsed = body.decode("utf-8", "replace")
        record = EmulatedRequest(method, url, path, headers, parsed, protocol)
        with self._lock:
            self.requests.append(record)
            if self.keep_requests is not None and len(self.requests) > self.keep_requests:
                del self.requests[0]
        if protocol is None:
            record.status = 404
            message = f"myna emulator: no API at {path}"
            # Ollama's errors are a bare string; the others nest an object
            error = message if path.startswith("/api/") else {"message": message}
            return self._json(404, {"error": error})
        codec = get_codec(protocol)
        response = self._answer(record, codec, parts.query)
        record.status = response.status
        return response

    def _answer(self, record: EmulatedRequest, codec: Codec, query: str) -> EmulatedResponse:
        if record.method.upper() != "POST":
            return self._error(
                codec,
                BadRequestError(
                    f"Invalid method for URL ({record.method.upper()} {record.path})",
                    status_code=405,
                ),
            )
        if self.require_auth:
            refused = codec.auth_error(record.path, record.headers, query)
            if refused is not None:
                return self._error(codec, refused)
        if not isinstance(record.body, dict):
            return self._error(
                codec, BadRequestError("The request body is not a JSON object.", status_code=400)
            )
        try:
            model = codec.request_model(record.path)
            messages, params = codec.decode_request(record.body, model=model)
        except ProviderError as error:
            return self._error(codec, error)
        except MynaError as error:
            return self._error(codec, BadRequestError(str(error), status_code=400))
        record.messages, record.params = messages, params
        record.stream = codec.request_streams(record.path, record.body)
        return self._reply(record, codec)

    def _reply(self, record: EmulatedRequest, codec: Codec) -> EmulatedResponse:
        engine = self.engine
        upcoming = engine.upcoming
        reply_is_object = isinstance(upcoming, dict) or hasattr(upcoming, "model_dump")
        params = {k: v for k, v in record.params.items() if k != "stream"}
        engine_params = dict(params)
        hints = self._hints(codec, engine_params, reply_is_object)
        request = ChatRequest(record.messages, engine_params, hints=hints)
        cut: Fault | None = None
        try:
            with self._answering:  # one script position at a time, so a rewind is exact
                position = getattr(engine, "position", None)  # scripted fakes have one
                try:
                    message, cut = engine.answer(request, streamed=record.stream)
                except BaseException as error:
                    if _is_script_error(error) and position is not None:
                        engine.rewind_to(position)  # the reply was not sent: not used up
                    raise
        except ProviderError as error:
            return self._error(codec, error)
        except TimeoutError:
            return EmulatedResponse(0, {}, timeout=True)
        except ConnectionError:
            return EmulatedResponse(200, {}, cut_after=0)
        except DecodeError:
            if record.stream:
                headers = {"content-type": content_type(codec.STREAM_FORMAT)}
                return EmulatedResponse(200, headers, events=[broken_stream(codec.STREAM_FORMAT)])
            return EmulatedResponse(
                200, {"content-type": "application/json"}, b'{"id": "broken", "choi'
            )
        except Exception as error:
            return self._script_error(record, codec, error)
        except BaseException as error:
            self.errors.append(error)
            raise
        record.reply = message
        if record.stream:
            payloads = list(codec.render_stream(message, params, chunking=self.chunking))
            fmt, field_name = codec.STREAM_FORMAT, codec.SSE_EVENT_FIELD
            events = [encode_payload(p, fmt, event_field=field_name) for p in payloads]
            return EmulatedResponse(
                200,
                {"content-type": content_type(fmt)},
                events=events,
                cut_after=_cut_index(codec, payloads, cut.after_chunks)
                if cut is not None
                else None,
            )
        return self._json(200, codec.render_response(message, params))
