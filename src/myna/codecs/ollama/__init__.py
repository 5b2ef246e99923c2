"""Codec for Ollama's native ``POST /api/chat`` (NDJSON streaming).

```python
from myna.codecs import get_codec
from myna.messages import HumanMessage

ollama = get_codec("ollama")
body = ollama.encode_request([HumanMessage("hi")], {"model": "llama3.2", "max_tokens": 64})
assert body["options"] == {"num_predict": 64} and body["stream"] is False
```

How the neutral shapes map onto Ollama's wire (see ``codecs/_protocol.py`` for the contract):

- messages: ``{role, content, images: [base64], thinking, tool_calls, tool_name}``; tool results
  also carry ``tool_call_id`` (newer servers read it, older ones ignore it). Images go only as
  base64: an image URL or file id raises `UserError`, as do audio, video and file inputs.
  Several text parts of one user message are joined with newlines. Invalid tool calls of an
  earlier AI turn are not sent (Ollama needs an arguments object).
- ``temperature``, ``top_p``, ``max_tokens`` (``num_predict``), ``seed``, ``stop`` and every
  other Ollama option (``top_k``, ``num_ctx`` ... or ``params["options"]``) go in ``options``.
- ``response_format``: ``json_object`` -> ``format: "json"``; ``json_schema`` -> the schema.
- ``reasoning_effort`` -> ``think: "low"|"medium"|"high"`` (``minimal`` is sent as ``low``);
  ``include_reasoning`` -> ``think: true/false``.
- ``tools``: the OpenAI function shape. Ollama has no ``tool_choice`` and no
  ``parallel_tool_calls``: ``tool_choice="none"`` leaves the tools out of the request, other
  values are ignored.
- ``stream``: always written, since Ollama streams when it is missing.
- replies: ``message.thinking`` -> a ``reasoning`` block; tool calls without an id get
  ``call_<index>``; ``done_reason`` ``stop`` with tool calls -> finish reason ``tool_calls``;
  ``prompt_eval_count`` (cache hits included) / ``eval_count`` -> usage, with
  ``prompt_eval_cached_count`` as ``cache_read``; durations stay in ``response_metadata``.
- errors: ``{"error": "<message>"}`` with the HTTP status, also as an NDJSON line mid-stream.

Ollama has no signatures, encrypted reasoning, server-side tools, prompt-cache controls or
image/audio outputs, so none of those appear here.
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
