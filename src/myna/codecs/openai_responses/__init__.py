"""Codec for the OpenAI Responses API (``POST /v1/responses``), both directions.

```python
from myna.codecs import openai_responses as codec
from myna.messages import HumanMessage

body = codec.encode_request([HumanMessage("hi")], {"model": "gpt-5-mini", "store": False})
assert body["include"] == ["reasoning.encrypted_content"]
```

How the wire maps onto messages:

- The first system message is ``instructions``; other system messages are ``system`` /
  ``developer`` input items (``additional_kwargs["openai_role"] == "developer"``).
- Output ``message`` items are ``text`` blocks carrying the item ``id`` (and its ``phase`` in
  ``extras``), with ``url_citation`` / file annotations as ``citation`` annotations; a refusal
  is a ``non_standard`` block ``{"type": "refusal", ...}`` plus ``additional_kwargs["refusal"]``.
- ``reasoning`` items are ``reasoning`` blocks, one per summary part, all with the item id;
  the first keeps ``encrypted_content`` in ``extras``. They go back to the API on the next
  turn (stateless mode: ``store=False`` adds ``include: ["reasoning.encrypted_content"]``).
  Reasoning from other providers, which the API cannot verify, is not sent.
- ``function_call`` items are `tool_calls` (``call_id`` is the tool call id; the ``fc_`` item
  ids are kept in ``additional_kwargs["openai_function_call_ids"]`` and sent back beside the
  reasoning they pair with).
- Built-in tool items (web search, file search, code interpreter, MCP) are
  ``server_tool_call`` + ``server_tool_result`` blocks; ``image_generation_call`` is an
  ``image`` block (base64); other items are kept whole in ``non_standard`` blocks.
- Usage: ``cached_tokens`` -> ``cache_read``, ``cache_write_tokens`` -> ``cache_creation``,
  ``reasoning_tokens`` -> ``reasoning``; zero details are left out. ``status: "incomplete"``
  with ``max_output_tokens`` is finish reason ``"length"``; function calls ``"tool_calls"``.
"""

from ._client import decode_error, decode_response, encode_request
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
from ._stream import StreamDecoder, adecode_stream, decode_stream, render_stream

__all__ = [
    "AUTH_HEADERS",
    "CLIENT_HEADERS",
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
    "request_model",
    "request_streams",
]
