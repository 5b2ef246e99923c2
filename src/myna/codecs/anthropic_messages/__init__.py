"""The Anthropic Messages codec (``POST /v1/messages``), both directions.

```python
from myna.codecs import anthropic_messages as codec
from myna.messages import HumanMessage, SystemMessage

body = codec.encode_request(
    [SystemMessage("Be brief."), HumanMessage("Two names for a pelican?")],
    {"model": "claude-haiku-4-5", "max_tokens": 256},
)
# {"model": "claude-haiku-4-5", "max_tokens": 256, "system": "Be brief.", "messages": [...]}
reply = codec.decode_response(response_json)          # AIMessage
chunks = list(codec.decode_stream(sse_payloads))      # AIMessageChunk per event
```

How the wire maps onto myna's messages:

- system messages -> top-level ``system`` (a string; text blocks when one carries
  ``cache_control``); consecutive `ToolMessage`s -> one user turn of ``tool_result`` blocks
  (``status="error"`` -> ``is_error: true``).
- ``max_tokens`` is required by the API: `DEFAULT_MAX_TOKENS` (1024) is sent when params
  give none (raised above ``reasoning_budget``). ``seed`` has no Anthropic equivalent and is
  dropped; ``logprobs=True`` is refused.
- ``thinking`` / ``redacted_thinking`` <-> ``reasoning`` blocks with ``extras`` ``signature``
  / ``redacted``; unsigned reasoning (from other providers) is not sent back, as the API
  rejects it. ``tool_use`` <-> `tool_calls`; ``server_tool_use`` and ``*_tool_result`` <->
  ``server_tool_call`` / ``server_tool_result`` blocks; citations <-> text ``annotations``.
- ``cache_control`` passes through: a block's raw key or ``extras["cache_control"]``, a
  message's ``additional_kwargs["cache_control"]`` (its last block), ``params["cache_control"]``.
- structured output: ``response_format`` json_schema <-> ``output_config.format``;
  ``reasoning_effort`` <-> ``output_config.effort``; ``reasoning_budget`` <-> ``thinking``.
- ``stop_reason`` -> ``response_metadata["finish_reason"]`` (``end_turn``/``stop_sequence``/
  ``pause_turn`` -> ``stop``, ``max_tokens`` -> ``length``, ``tool_use`` -> ``tool_calls``,
  ``refusal`` -> ``refusal``), the raw value kept as ``stop_reason`` (and ``stop_sequence``).
- usage: ``input_tokens`` = input + cache reads + cache writes; ``input_token_details`` has
  ``cache_read`` / ``cache_creation`` (and ``ephemeral_5m/1h_input_tokens`` when non-zero).
"""

from ._client import decode_error, decode_response, encode_request
from ._server import decode_request, render_error, render_models, render_response
from ._shared import (
    AUTH_HEADERS,
    CLIENT_HEADERS,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MODEL_NAME,
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
    render_stream,
    render_stream_error,
)

__all__ = [
    "AUTH_HEADERS",
    "CLIENT_HEADERS",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_MODEL_NAME",
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
    "encode_request",
    "render_error",
    "render_models",
    "render_response",
    "render_stream",
    "render_stream_error",
    "request_model",
    "request_streams",
]
