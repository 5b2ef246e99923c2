"""The contract every wire-protocol codec module fulfils.

A codec is one module of pure functions (no I/O) with two mirrored sides:

- client side, used by `myna.providers`:
  ``encode_request(messages, params) -> dict`` (the JSON body),
  ``decode_response(body) -> AIMessage``,
  ``decode_stream(events) -> Iterator[AIMessageChunk]``,
  ``decode_error(status, body, headers=None) -> ProviderError``;
- server side, used by `myna.emulators`:
  ``decode_request(body) -> (messages, params)``,
  ``render_response(message, params=None) -> dict``,
  ``render_stream(message, params=None, *, chunking="words") -> Iterator[event]``,
  ``render_error(error) -> (status, headers, body)``.

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

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from ..exceptions import ProviderError
from ..messages import AIMessage, AIMessageChunk, BaseMessage

__all__ = ["ClientCodec", "ServerCodec"]


class ClientCodec(Protocol):
    """The client side: what a provider needs to talk to the real API."""

    PROTOCOL: str
    STREAM_FORMAT: str
    """``"sse"`` or ``"ndjson"``."""

    def encode_request(self, messages: list[BaseMessage], params: dict[str, Any]) -> dict: ...
    def decode_response(self, body: dict[str, Any]) -> AIMessage: ...
    def decode_stream(self, events: Iterable[Any]) -> Iterator[AIMessageChunk]: ...
    def decode_error(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> ProviderError: ...


class ServerCodec(Protocol):
    """The server side: what an emulator needs to answer like the real API."""

    def decode_request(self, body: dict[str, Any]) -> tuple[list[BaseMessage], dict[str, Any]]: ...
    def render_response(self, message: AIMessage, params: dict[str, Any] | None = None) -> dict: ...
    def render_stream(
        self, message: AIMessage, params: dict[str, Any] | None = None, *, chunking: Any = "words"
    ) -> Iterator[Any]: ...
    def render_error(self, error: ProviderError) -> tuple[int, dict[str, str], Any]: ...
