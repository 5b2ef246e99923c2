"""The contract every wire-protocol codec module fulfils.

A codec is one module of pure functions (no I/O) with two mirrored sides:

- client side (`ClientCodec`), used by `myna.providers`:
  ``encode_request(messages, params) -> dict`` (the JSON body),
  ``decode_response(body) -> AIMessage``,
  ``decode_stream(events) -> Iterator[AIMessageChunk]`` and
  ``adecode_stream(aevents) -> AsyncIterator[AIMessageChunk]`` (both drive the codec's
  `StreamDecoder`, a push decoder fed one event at a time; see `myna.codecs._stream_driver`),
  ``decode_error(status, body, headers=None) -> ProviderError``;
- server side (`ServerCodec`), used by `myna.emulators`:
  ``decode_request(body, *, model=None) -> (messages, params)`` (``model``: the model named
  outside the body, as Gemini and Bedrock put it in the URL),
  ``render_response(message, params=None) -> dict``,
  ``render_stream(message, params=None, *, chunking="words") -> Iterator[event]``,
  ``render_error(error) -> (status, headers, body)``,
  ``render_models(method, path, body, models, *, strict=False)`` (the API's model endpoints,
  such as ``GET /v1/models`` or Ollama's ``POST /api/show``, answered from a list of names;
  None for any other request);
- protocol facts (`ProtocolFacts`), used by emulators and cassettes to route and check a
  request without knowing protocol names: ``PROVIDER``, ``PATHS`` (the path patterns it
  serves, which `myna.codecs.protocol_for_path` matches), ``request_model(path)`` (the
  model a URL names), ``request_streams(path, body)``, ``AUTH_HEADERS`` and
  ``auth_error(path, headers, query)`` (the API's answer to a request without a key),
  ``FORCED_TOOL_CHOICE``.

Every codec package lays these out the same way: ``_shared.py`` (protocol facts and helpers
both sides use), ``_client.py`` (``encode_request``, ``decode_response``, ``decode_error``),
``_stream.py`` (``StreamDecoder``, ``decode_stream``, ``adecode_stream``, ``render_stream``
and, where the protocol has in-stream errors, ``render_stream_error``), ``_server.py``
(``decode_request``, ``render_response``, ``render_error``); the protocol facts sit in
``_shared.py``. `Codec` is both sides plus the protocol facts; `myna.codecs.get_codec`
returns a module typed as one, and ``tests/codecs/test_conformance.py`` checks every codec
module against these Protocols (names and parameter lists).

```python
from myna.codecs import get_codec

codec = get_codec("ollama")                 # typed as Codec
chunks = list(codec.decode_stream(events))  # or: async for c in codec.adecode_stream(aevents)
```

Stream events are the payloads of the wire events: for SSE the ``data:`` field parsed as
JSON (the literal string ``"[DONE]"`` stays a string), for NDJSON each parsed line. Codecs
whose SSE events carry an ``event:`` name set `SSE_EVENT_FIELD` to the payload key that
holds it (``"type"``), so a server can write the name back.

``params`` is the neutral request description shared by all codecs:

| key | meaning |
|---|---|
| ``model`` | model name |
| ``temperature``, ``top_p``, ``max_tokens``, ``seed`` | sampling |
| ``stop`` | list of stop sequences |
| ``tools`` | `myna.tools.ToolSpec` dicts, or raw provider tool dicts (server tools) |
| ``tool_choice`` | ``"auto"`` / ``"any"`` / ``"none"`` / a tool name / a raw provider dict |
| ``parallel_tool_calls`` | bool |
| ``response_format`` | ``{"type": "json_schema", "name", "schema", "strict"}`` / json_object |
| ``stream`` | bool; ``stream_usage`` asks for usage in streams (OpenAI ``include_usage``) |
| ``reasoning_effort`` | minimal/low/medium/high; ``reasoning_budget``; ``include_reasoning`` |
| ``logprobs`` (bool), ``top_logprobs`` (int) | token log probabilities |
| ``cache_control`` | Anthropic prompt-cache marker, passed through |
| ``extra_body`` | dict merged into the body verbatim (escape hatch) |
| anything else | passed through to the body top level unchanged |

Decoded AI messages carry ``response_metadata`` keys ``model_name``, ``model_provider``,
``finish_reason`` (normalised: ``stop``, ``length``, ``tool_calls``, ``content_filter``,
``refusal``; the provider's own value stays under its own key such as ``stop_reason``) and,
where the protocol has them, ``id`` and ``logprobs``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, ClassVar, Protocol

from ..exceptions import ProviderError
from ..messages import AIMessage, AIMessageChunk, BaseMessage

__all__ = ["ClientCodec", "Codec", "ProtocolFacts", "ServerCodec", "StreamDecoder"]


class StreamDecoder(Protocol):
    """A push decoder: one stream's state, fed one wire event at a time.

    Every codec's ``_stream.StreamDecoder`` subclasses `myna.codecs._stream_driver.PushDecoder`,
    which gives this surface.
    """

    PROTOCOL: ClassVar[str]
    done: bool
    """True once the protocol's end event arrived."""

    def feed(self, event: Any) -> list[AIMessageChunk]:
        """The chunks one wire event carries; raises `DecodeError` naming its index."""

    def close(self) -> list[AIMessageChunk]:
        """The chunks owed at the end; `StreamInterruptedError` if the end event never came."""

    def partial(self) -> AIMessageChunk | None:
        """Every chunk given so far, merged (None if none)."""


class ClientCodec(Protocol):
    """The client side: what a provider needs to talk to the real API."""

    PROTOCOL: str
    """The name `myna.codecs.get_codec` knows the codec by."""
    STREAM_FORMAT: str
    """``"sse"``, ``"ndjson"`` or ``"eventstream"`` (AWS binary frames)."""
    SSE_EVENT_FIELD: str | None
    """The payload key holding the SSE ``event:`` name, or None."""
    StreamDecoder: type[StreamDecoder]

    def encode_request(self, messages: list[BaseMessage], params: dict[str, Any]) -> dict:
        """The JSON request body for `messages` and the neutral `params`."""

    def decode_response(self, body: dict[str, Any]) -> AIMessage:
        """The reply in a (non-streaming) response body."""

    def decode_stream(self, events: Iterable[Any]) -> Iterator[AIMessageChunk]:
        """The chunks of a stream's parsed wire events."""

    def adecode_stream(self, events: AsyncIterable[Any]) -> AsyncIterator[AIMessageChunk]:
        """`decode_stream` over an async iterable, decoded on the event loop."""

    def decode_error(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> ProviderError:
        """The `ProviderError` for an error response."""


class ServerCodec(Protocol):
    """The server side: what an emulator needs to answer like the real API."""

    def decode_request(
        self, body: dict[str, Any], *, model: str | None = None
    ) -> tuple[list[BaseMessage], dict[str, Any]]:
        """The messages and neutral params of a request body, validated like the API."""

    def render_response(self, message: AIMessage, params: dict[str, Any] | None = None) -> dict:
        """The response body the API would send for `message`."""

    def render_stream(
        self, message: AIMessage, params: dict[str, Any] | None = None, *, chunking: Any = "words"
    ) -> Iterator[Any]:
        """The stream events the API would send for `message`."""

    def render_error(self, error: ProviderError) -> tuple[int, dict[str, str], Any]:
        """``(status, headers, body)`` of the API's answer for `error`."""

    def render_models(
        self, method: str, path: str, body: Any, models: Sequence[str], *, strict: bool = False
    ) -> tuple[int, dict[str, str], Any] | None:
        """``(status, headers, body)`` of the API's answer to a request to one of its model
        endpoints (list the models, describe one), from the model names in `models`; None
        when the request is for no model endpoint of this protocol.

        With `strict`, a model not in `models` gets the API's 404; otherwise any model is
        described (an emulator answers whatever model a request names).
        """


class ProtocolFacts(Protocol):
    """What a server or a recording reader needs to know about a request, per protocol."""

    PROVIDER: str
    """The provider name its messages and errors report (``"google_genai"`` for Gemini)."""
    PATHS: tuple[str, ...]
    """Regular expressions for the request paths the protocol serves (`re.search` on the path)."""
    AUTH_HEADERS: tuple[str, ...]
    """Lower-case names of the headers that carry the API key (empty: no key needed)."""
    CLIENT_HEADERS: tuple[str, ...]
    """Lower-case names of headers only this protocol's clients send (``anthropic-version``):
    where protocols share a path (``GET /v1/models``), a request carrying one is this one's."""
    FORCED_TOOL_CHOICE: bool
    """Whether a request can force a named tool (Ollama cannot)."""

    def request_model(self, path: str) -> str | None:
        """The model a request path names (Gemini, Bedrock), or None when it is in the body."""

    def request_streams(self, path: str, body: dict[str, Any]) -> bool:
        """Whether a request (its path and JSON body) asks for a stream."""

    def auth_error(self, path: str, headers: dict[str, str], query: str) -> ProviderError | None:
        """The API's answer to a request without credentials, or None when it carries them.

        `headers` have lower-case names; `query` is the URL's query string.
        """


class Codec(ClientCodec, ServerCodec, ProtocolFacts, Protocol):
    """A whole codec module: both sides and the protocol facts (what `get_codec` returns)."""
