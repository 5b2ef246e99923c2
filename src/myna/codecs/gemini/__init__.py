"""Codec for Google Gemini ``generateContent`` / ``streamGenerateContent?alt=sse``.

The model name travels in the URL, not the body: `request_path` builds the path on the
client side and `model_from_path` reads it back on the server side.

```python
from myna.codecs import gemini
from myna.messages import HumanMessage

body = gemini.encode_request([HumanMessage("hi")], {"model": "gemini-2.5-flash", "max_tokens": 64})
path = gemini.request_path("gemini-2.5-flash", stream=True)
# '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
```

Where Gemini's data lands in a message:

- ``thought: true`` parts are ``reasoning`` blocks; inline image/audio output parts are
  ``image`` / ``audio`` blocks (``base64`` + ``mime_type``); code execution parts are
  ``server_tool_call`` / ``server_tool_result`` blocks; unknown parts are ``non_standard``
  blocks sent back unchanged.
- A plain-text reply decodes to a string; anything else to a list of blocks.
- ``thoughtSignature`` round-trips: on a block's part it is ``extras["signature"]``; on a
  function call it is ``additional_kwargs["thought_signatures"][tool_call_id]``; on a
  plain-text reply it is ``additional_kwargs["text_thought_signature"]``.
- Function calls usually come without an id; they get ``call_0``, ``call_1``, ... (numbered
  within the reply). ToolMessages go back as ``functionResponse`` named after the call
  they answer (found by ``tool_call_id`` in the earlier AIMessage, else ``ToolMessage.name``),
  with the text under ``response.output`` (``response.error`` for ``status="error"``).
- Usage: ``input_tokens = promptTokenCount`` (cached tokens included, ``cache_read`` =
  ``cachedContentTokenCount``), ``output_tokens = candidatesTokenCount + thoughtsTokenCount``
  (``reasoning`` = thoughts). In streams it is taken from the last event only.
- ``response_metadata``: ``finish_reason`` (normalised; ``STOP`` with function calls is
  ``tool_calls``) and Gemini's own ``finishReason``, ``model_name``, ``id``, ``logprobs``
  (``logprobsResult``), ``avg_logprobs``, ``safety_ratings``, ``grounding_metadata`` ...

Params with no Gemini counterpart are left out of the body: ``stream`` (the method name
says it), ``stream_usage`` (usage always streams), ``parallel_tool_calls`` and
``cache_control``. ``response_format`` loses its ``name`` and ``strict`` (Gemini has none).
"""

from ._client import decode_error, decode_response, encode_request, request_path
from ._server import decode_request, model_from_path, render_error, render_models, render_response
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
    render_options,
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
    "model_from_path",
    "render_error",
    "render_models",
    "render_options",
    "render_response",
    "render_stream",
    "request_model",
    "request_path",
    "request_streams",
]
