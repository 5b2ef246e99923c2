"""The AWS Bedrock Converse codec (``/model/{modelId}/converse`` and ``/converse-stream``).

```python
from myna.codecs import bedrock_converse as codec
from myna.messages import HumanMessage, SystemMessage

body = codec.encode_request(
    [SystemMessage("Be brief."), HumanMessage("Two names for a pelican?")],
    {"model": "anthropic.claude-3-5-haiku-20241022-v1:0", "max_tokens": 256},
)
# {"messages": [{"role": "user", "content": [{"text": ...}]}], "system": [{"text": ...}],
#  "inferenceConfig": {"maxTokens": 256}}
path = codec.request_path("anthropic.claude-3-5-haiku-20241022-v1:0", stream=True)
reply = codec.decode_response(response_json)          # AIMessage
chunks = list(codec.decode_stream(events))            # events: {"contentBlockDelta": {...}}
```

How the wire maps onto myna's messages:

- The model id travels in the URL (`request_path`); `decode_request(body, model=...)` takes
  it back. System messages -> ``system`` text blocks; neighbouring messages of one role
  share a turn (consecutive `ToolMessage`s and the next human message form one user turn of
  ``toolResult`` blocks then content; ``status="error"`` -> ``"status": "error"``).
- ``max_tokens`` / ``temperature`` / ``top_p`` / ``stop`` -> ``inferenceConfig``;
  ``reasoning_budget`` -> ``additionalModelRequestFields.thinking`` (Anthropic models),
  ``reasoning_effort`` -> ``reasoning_effort`` (``reasoningConfig`` for Nova);
  ``response_format`` json_schema -> ``outputConfig.textFormat``. ``seed`` and
  ``parallel_tool_calls`` have no Converse equivalent and are dropped; ``logprobs=True``,
  ``tool_choice="none"`` and ``json_object`` are refused.
- Media travel as base64 ``bytes`` or ``s3Location``: image (png/jpeg/gif/webp), file ->
  ``document`` (pdf, csv, doc(x), xls(x), html, txt, md; named from ``extras["name"]`` or
  the filename), audio, video; ``text-plain`` -> a ``document`` with ``source.text``.
- ``reasoningContent`` <-> ``reasoning`` blocks, ``extras`` ``signature`` / ``redacted``;
  unsigned reasoning is not sent back. ``toolUse`` <-> `tool_calls`; server tools
  (``toolUse`` of type ``server_tool_use``, assistant ``toolResult``) <->
  ``server_tool_call`` / ``server_tool_result``; ``citationsContent`` <-> text with
  ``annotations``. ``cache_control`` markers <-> ``cachePoint`` blocks.
- ``stopReason`` -> ``finish_reason`` (``end_turn``/``stop_sequence`` -> ``stop``,
  ``max_tokens`` -> ``length``, ``tool_use`` -> ``tool_calls``, ``content_filtered`` /
  ``guardrail_intervened`` -> ``content_filter``), the raw value kept as ``stop_reason``;
  ``metrics`` (``latencyMs``), ``trace`` ... kept in ``response_metadata``.
- usage: ``input_tokens`` = ``inputTokens`` + cache reads + cache writes, with
  ``input_token_details`` ``cache_read`` / ``cache_creation``.
- Streams are AWS binary event streams (`STREAM_FORMAT` ``"eventstream"``); `_eventstream`
  frames and unframes them, and `decode_stream` reads the one-key event dicts. ``metadata``
  ends a stream; exception events raise the matching `ProviderError`.
- Errors: ``{"message": ...}`` with the type in the ``x-amzn-errortype`` header.
"""

from ._client import decode_error, decode_response, encode_request, request_path
from ._eventstream import (
    CONTENT_TYPE,
    EventStreamDecoder,
    encode_event,
    encode_exception,
    event_from_frame,
)
from ._server import decode_request, render_error, render_models, render_response
from ._shared import (
    AUTH_HEADERS,
    CLIENT_HEADERS,
    FORCED_TOOL_CHOICE,
    PATHS,
    PROTOCOL,
    PROVIDER,
    SSE_EVENT_FIELD,
    STREAM_FORMAT,
    auth_error,
    request_model,
    request_streams,
)
from ._stream import (
    StreamDecoder,
    adecode_stream,
    decode_stream,
    encode_stream_event,
    render_stream,
    render_stream_error,
)

__all__ = [
    "AUTH_HEADERS",
    "CLIENT_HEADERS",
    "CONTENT_TYPE",
    "EventStreamDecoder",
    "FORCED_TOOL_CHOICE",
    "PATHS",
    "PROTOCOL",
    "PROVIDER",
    "SSE_EVENT_FIELD",
    "STREAM_FORMAT",
    "StreamDecoder",
    "adecode_stream",
    "auth_error",
    "decode_error",
    "decode_request",
    "decode_response",
    "decode_stream",
    "encode_event",
    "encode_exception",
    "encode_request",
    "encode_stream_event",
    "event_from_frame",
    "render_error",
    "render_models",
    "render_response",
    "render_stream",
    "render_stream_error",
    "request_model",
    "request_path",
    "request_streams",
]
