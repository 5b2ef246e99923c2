"""The emulator's core: a pure function from an HTTP request to the provider's HTTP answer.

It is the server side of the codecs fed by a `FakeChatModel` script. The respx interception
(`_intercept.py`) and the loopback HTTP server (`_loopback.py`) both call `EmulatorApp.handle`.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .._text import counted, unprefixed
from ..codecs import (
    CODECS,
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
    NotFoundError,
    ProviderError,
    TimeoutError,
    UnmatchedRequestError,
    UnusedRepliesError,
    UserError,
)
from ..fakes import FakeChatModel, Fault
from ..messages import AIMessage, BaseMessage
from ..models import ChatRequest

__all__ = [
    "EmulatedRequest",
    "EmulatedResponse",
    "EmulatorApp",
    "RequestParams",
    "SCRIPT_ERROR_HEADER",
    "protocol_for_path",
    "protocols_for_provider",
]

SCRIPT_ERROR_STATUS = 400
"""The status a script error is answered with. No client retries a 400: the official SDKs
retry 408, 409, 429 and 5xx (openai, anthropic), myna's providers 429, 529 and 5xx, and a
retry of a script error would be answered by the next scripted reply, a silent wrong answer.
The answer also carries ``x-should-retry: false``, which the openai and anthropic SDKs obey."""

SCRIPT_ERROR_PREFIX = "myna emulator script error: "
"""How the message of every script error answered over HTTP begins."""

SCRIPT_ERROR_HEADER = "x-myna-script-error"
"""Marks a script error's answer, so a cassette recording against an emulator leaves it out:
it is a mistake in the test's script, not something the API said."""


_OPENAI = ("openai-chat", "openai-responses")
_PROVIDER_ALIASES = {"gemini": "google_genai", "azure_openai": "openai"}
_ALSO_SERVES = {"ollama": _OPENAI}
"""Protocols a provider serves besides its own: Ollama's OpenAI-compatible ``/v1`` API."""


def protocols_for_provider(provider: str | None) -> tuple[str, ...]:
    """The protocols (`myna.codecs.CODECS` names) a provider's API serves, its own first.

    ``"openai"`` -> Chat Completions and Responses; ``"anthropic"`` -> Messages;
    ``"google_genai"`` / ``"gemini"`` -> Gemini; ``"ollama"`` -> its native API and its
    OpenAI-compatible ``/v1``; ``"bedrock"`` -> Converse; any other name (``groq``, ``xai``,
    ...) is OpenAI-compatible. None -> every protocol.
    """
    if provider is None:
        return tuple(CODECS)
    name = _PROVIDER_ALIASES.get(provider, provider)
    native = tuple(p for p in CODECS if get_codec(p).PROVIDER == name)
    return (native + _ALSO_SERVES.get(name, ())) or _OPENAI


class RequestParams(dict):  # type: ignore[type-arg]
    """A dict whose missing keys raise a `KeyError` that points at the wire body.

    `EmulatedRequest.params` and the tool specs in it are myna's neutral view of a request,
    not its JSON: ``params["tools"][0]["function"]`` fails for an OpenAI request (the neutral
    tool is ``{"name", "description", "parameters"}``), while ``request.body["tools"][0]
    ["function"]`` has it.
    """

    where: str = "request.params"

    def __missing__(self, key: Any) -> Any:
        raise KeyError(
            f"{key!r}: {self.where} is myna's normalised view of the request (keys: "
            f"{', '.join(map(repr, self)) or 'none'}); the JSON the client sent, in the "
            "provider's own shape, is request.body"
        )


def _neutral_view(params: dict[str, Any]) -> RequestParams:
    """`params` as a `RequestParams`, its tool specs too, so a wire-only key teaches."""
    view = RequestParams(params)
    tools = view.get("tools")
    if isinstance(tools, list):
        specs = []
        for i, tool in enumerate(tools):
            if isinstance(tool, dict):
                tool = RequestParams(tool)
                tool.where = f"request.params['tools'][{i}]"
            specs.append(tool)
        view["tools"] = specs
    return view


@dataclass
class EmulatedRequest:
    """A request the emulator received, decoded back into messages and parameters.

    Two views of the body: `body` is the JSON exactly as the client sent it, in the
    provider's wire shape (``body["tools"][0]["function"]["name"]`` for OpenAI); `params`
    is myna's normalised view, the same keys for every provider (``params["tools"][0]
    ["name"]``, ``params["max_tokens"]``; see `myna.codecs` for the table). A key missing
    from `params` raises a `KeyError` that says so.
    """

    method: str
    url: str
    path: str
    headers: dict[str, str]
    body: Any
    """The request's JSON body as sent (a str when it was not JSON)."""
    protocol: str | None
    messages: list[BaseMessage] = field(default_factory=list)
    """The conversation sent, decoded into myna messages."""
    params: dict[str, Any] = field(default_factory=RequestParams)
    """The request's parameters in myna's normalised shape (a `RequestParams`); the wire
    JSON is `body`."""
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
        script: replies as for `FakeChatModel` (strings, `tool_call(...)`, faults, ...), or
            the path of a YAML script (``myna cassettes to-script`` writes one).
        chunking: how streamed text is cut (``"words"``, ``"chars"`` or a size).
        cycle: repeat the script instead of failing when it runs out.
        require_auth: answer a request without an API key as the API does (the codec's
            `auth_error`: 401, or 403 for Gemini and Bedrock).
        validate_tool_calls: fail a scripted tool call that names a tool the request did not
            offer, or whose arguments do not match its schema.
        keep_requests: keep only the newest this many requests in `requests` (None: all).
        provider: the provider emulated, named in the 404 for a path it does not serve.
        protocols: the protocols served (`myna.codecs.CODECS` names; None: every one). A
            request for another protocol's path is a 404 in the first one's error format
            (`serve("anthropic")` answers ``/v1/chat/completions`` so).
        models: the model names the model endpoints list (``GET /v1/models``, Ollama's
            ``/api/tags`` and ``/api/show``, Gemini's ``models.get``); describing a model
            not among them is the API's 404. Empty: they list the models the script's
            messages name and the requests asked for, and describe any model.
    """

    def __init__(
        self,
        script: Sequence[Any] | str | os.PathLike[str] = (),
        *,
        chunking: Any = "words",
        cycle: bool = False,
        require_auth: bool = True,
        validate_tool_calls: bool = True,
        keep_requests: int | None = None,
        provider: str | None = None,
        protocols: Sequence[str] | None = None,
        models: Sequence[str] = (),
    ) -> None:
        if isinstance(models, str):
            models = [models]
        unknown = [p for p in protocols or () if p not in CODECS]
        if unknown:
            raise UserError(
                f"Unknown protocols {unknown}; known: {', '.join(CODECS)} (or "
                "protocols_for_provider(name) for a provider's)."
            )
        self.provider = provider
        self.protocols: tuple[str, ...] = tuple(protocols) if protocols else tuple(CODECS)
        """The protocols served, in order of preference where paths are shared."""
        self.models: list[str] = list(models)
        """The model names the model endpoints answer with (see the class docstring)."""
        self.model_requests: list[EmulatedRequest] = []
        """Requests to the model endpoints (``GET /v1/models``, ``POST /api/show``, ...).
        They use no scripted reply and are kept apart from `requests`, which holds the chat
        requests only: litellm asks ``/api/show`` before every call."""
        self._seen_models: dict[str, None] = {}
        if keep_requests is not None and keep_requests < 1:
            raise ValueError(f"keep_requests={keep_requests!r} must be >= 1, or None to keep all")
        self.keep_requests = keep_requests
        """How many requests `requests` keeps, the newest; None keeps every one (a server
        that runs for hours would grow without end: `myna serve` keeps 1,000)."""
        self.engine = FakeChatModel(
            script if isinstance(script, (str, os.PathLike)) else list(script),
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

    def verify(self, *, all_replies_used: bool = True, all_requests_matched: bool = True) -> None:
        """The checks `emulate()` and `serve()` run on exit: `UnmatchedRequestError` if a
        request hit a script error (with `all_requests_matched`), `UnusedRepliesError` if
        scripted replies were never requested (with `all_replies_used`)."""
        if all_requests_matched and self.errors:
            first = self.errors[0]
            raise UnmatchedRequestError(
                f"myna: the emulator could not answer "
                f"{counted(len(self.errors), 'request')}; first: {unprefixed(first)}"
            ) from first
        remaining = self.engine.remaining
        if all_replies_used and remaining:
            raise UnusedRepliesError(
                f"myna: {remaining} scripted repl{'y was' if remaining == 1 else 'ies were'} never "
                f"requested ({counted(len(self.requests), 'request')} received). Remove them, or "
                "pass assert_all_replies_used=False."
            )

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
            # no type: each codec names a 400 in its own words (Gemini INVALID_ARGUMENT)
            BadRequestError(message, status_code=SCRIPT_ERROR_STATUS),
        )
        rendered.headers["x-should-retry"] = "false"
        rendered.headers[SCRIPT_ERROR_HEADER] = "true"
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
        if protocol not in self.protocols:
            answered = self._model_endpoint(record, parts.query)
            if answered is not None:
                self._keep(self.model_requests, record)
                record.status = answered.status
                return answered
        self._keep(self.requests, record)
        if protocol not in self.protocols:
            record.status = 404
            return self._not_served(record)
        assert protocol is not None
        codec = get_codec(protocol)
        response = self._answer(record, codec, parts.query)
        record.status = response.status
        calls = self.engine.calls
        if self.keep_requests is not None and len(calls) > self.keep_requests:
            # the engine's own call log grows as fast as the request log (a long `myna serve`)
            with self._lock:
                del calls[: len(calls) - self.keep_requests]
        return response

    def _keep(self, log: list[EmulatedRequest], record: EmulatedRequest) -> None:
        with self._lock:
            log.append(record)
            if self.keep_requests is not None and len(log) > self.keep_requests:
                del log[0]

    def model_names(self) -> list[str]:
        """The models the model endpoints list: `models` when given, else the models the
        script's messages name (``response_metadata["model_name"]``) and the requests asked
        for, in order of appearance."""
        if self.models:
            return list(self.models)
        names: dict[str, None] = {}
        for entry in self.engine.script:
            if isinstance(entry, AIMessage):
                name = entry.response_metadata.get("model_name")
                if isinstance(name, str) and name:
                    names[name] = None
        with self._lock:
            names.update(self._seen_models)
        return list(names)

    def _model_endpoint(self, record: EmulatedRequest, query: str) -> EmulatedResponse | None:
        """The answer of a served protocol's model endpoint (its codec's `render_models`),
        or None when the request is for none. Where several protocols answer a path (``GET
        /v1/models``: OpenAI and Anthropic), one whose `CLIENT_HEADERS` the request carries
        wins, else the emulated provider's own, else the first served."""
        method = record.method.upper()
        names = self.model_names()
        strict = bool(self.models)
        chosen: tuple[Codec, tuple[int, dict[str, str], Any]] | None = None
        own = protocols_for_provider(self.provider) if self.provider else ()
        for protocol in sorted(self.protocols, key=lambda p: p not in own):  # its own first
            codec = get_codec(protocol)
            answer = codec.render_models(method, record.path, record.body, names, strict=strict)
            if answer is None:
                continue
            if chosen is None:
                chosen = (codec, answer)
            if any(name in record.headers for name in codec.CLIENT_HEADERS):
                chosen = (codec, answer)
                break
        if chosen is None:
            return None
        codec, (status, headers, body) = chosen
        record.protocol = codec.PROTOCOL
        if self.require_auth:
            refused = codec.auth_error(record.path, record.headers, query)
            if refused is not None:
                return self._error(codec, refused)
        return self._json(status, body, {k.lower(): str(v) for k, v in headers.items()})

    def _not_served(self, record: EmulatedRequest) -> EmulatedResponse:
        """A 404 for a path no served protocol answers, naming what is served here."""
        path = record.path
        if len(self.protocols) == len(CODECS):
            message = f"myna emulator: no API at {path}"
            # Ollama's errors are a bare string; the others nest an object
            error = message if path.startswith("/api/") else {"message": message}
            return self._json(404, {"error": error})
        served = self.provider or get_codec(self.protocols[0]).PROVIDER
        message = (
            f"myna emulator: {record.method.upper()} {path} is not served here: this server "
            f"emulates {served} ({', '.join(self.protocols)})."
        )
        other = protocol_for_path(path)
        if other is not None:
            owner = get_codec(other).PROVIDER
            message += (
                f" {path} is the {other} API: point this client at a server for it "
                f"(myna serve {owner}, or serve('{owner}') in Python), or run one server for "
                "every provider (myna serve, serve() without a provider)."
            )
        else:
            message += " Check the client's base URL (print it with myna serve)."
        error = NotFoundError(message, status_code=404, code="unknown_url")
        return self._error(get_codec(self.protocols[0]), error)

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
        record.messages, record.params = messages, _neutral_view(params)
        model = params.get("model")
        if isinstance(model, str) and model:
            with self._lock:
                self._seen_models[model] = None
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
        options = getattr(codec, "render_options", None)  # what the URL says (Gemini's alt=sse)
        if options is not None:
            params.update(options(record.path, urlsplit(record.url).query))
        if record.stream:
            payloads = list(codec.render_stream(message, params, chunking=self.chunking))
            fmt = params.get("stream_format") or codec.STREAM_FORMAT
            field_name = codec.SSE_EVENT_FIELD
            events = [encode_payload(p, fmt, event_field=field_name) for p in payloads]
            if fmt == "json-array":  # one JSON array, sent an item at a time
                events = [b"[" + events[0], *(b",\r\n" + e for e in events[1:]), b"]"]
            return EmulatedResponse(
                200,
                {"content-type": content_type(fmt)},
                events=events,
                cut_after=_cut_index(codec, payloads, cut.after_chunks)
                if cut is not None
                else None,
            )
        return self._json(200, codec.render_response(message, params))
