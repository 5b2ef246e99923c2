"""OpenAI Chat Completions (``POST /v1/chat/completions``) and its compatible dialects.

One codec for OpenAI, Azure OpenAI and every server that speaks the Chat Completions dialect
(DeepSeek, OpenRouter, Groq, Ollama ``/v1``, vLLM, xAI, Mistral ...): the client side builds
request bodies and decodes replies, streams and errors; the server side, used by the
emulators, reads requests (validating them like the real API) and renders replies.

```python
from myna.codecs import openai_chat
from myna.messages import HumanMessage

body = openai_chat.encode_request([HumanMessage("hi")], {"model": "gpt-4.1-mini", "max_tokens": 50})
assert body["max_completion_tokens"] == 50
reply = openai_chat.decode_response(
    {"id": "chatcmpl-1", "model": "gpt-4.1-mini",
     "choices": [{"index": 0, "finish_reason": "stop",
                  "message": {"role": "assistant", "content": "Hello!"}}]}
)
assert reply.text == "Hello!" and reply.response_metadata["finish_reason"] == "stop"
```

Dialect notes: reasoning text (``reasoning_content`` from DeepSeek / vLLM, ``reasoning`` +
``reasoning_details`` from Groq / OpenRouter / Ollama) becomes a standard ``reasoning`` block
whose ``extras["field"]`` names the wire field, and goes back in that field on the next turn
(reasoning blocks from other protocols are left out of history, since OpenAI rejects unknown
message keys). DeepSeek's ``prompt_cache_hit_tokens`` count as cache reads; Groq's ``x_groq``
and Azure's content-filter results stay in ``response_metadata``.
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
