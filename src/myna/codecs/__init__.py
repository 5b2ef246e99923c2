"""Wire-protocol codecs: one module of pure functions per provider protocol.

Besides the codecs (`get_codec`), this package holds what routes a request to one
(`protocol_for_path`) and the stream framing every codec's streams travel in (SSE, NDJSON,
AWS event-stream: `encode_payload`, `body_payloads`, `parse_sse`, ...; see `_framing`).

```python
from myna.codecs import get_codec

codec = get_codec("anthropic-messages")
body = codec.encode_request([HumanMessage("hi")], {"model": "claude-haiku-4-5", "max_tokens": 64})
```
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import cast

from ..exceptions import UserError
from ._framing import (
    NDJSON_CONTENT_TYPES,
    body_payloads,
    broken_stream,
    content_type,
    encode_payload,
    ndjson_line,
    parse_ndjson,
    parse_sse,
    payload_of,
    sse_bytes,
    sse_messages,
)
from ._protocol import ClientCodec, Codec, ProtocolFacts, ServerCodec, StreamDecoder

__all__ = [
    "CODECS",
    "ClientCodec",
    "Codec",
    "NDJSON_CONTENT_TYPES",
    "ProtocolFacts",
    "ServerCodec",
    "StreamDecoder",
    "body_payloads",
    "broken_stream",
    "content_type",
    "encode_payload",
    "get_codec",
    "ndjson_line",
    "parse_ndjson",
    "parse_sse",
    "payload_of",
    "protocol_for_path",
    "sse_bytes",
    "sse_messages",
]

CODECS = {
    "openai-chat": "openai_chat",
    "openai-responses": "openai_responses",
    "anthropic-messages": "anthropic_messages",
    "gemini": "gemini",
    "ollama": "ollama",
    "bedrock-converse": "bedrock_converse",
}
"""Protocol name -> module in this package."""


def get_codec(protocol: str) -> Codec:
    """The codec module for a protocol name such as ``"openai-chat"``, typed as a `Codec`.

    Raises:
        UserError: the name is not in `CODECS`; the message lists the known ones.
    """
    module = CODECS.get(protocol)
    if module is None:
        raise UserError(f"Unknown protocol {protocol!r}; known: {', '.join(sorted(CODECS))}.")
    return cast(Codec, importlib.import_module(f"{__name__}.{module}"))


@functools.cache
def _path_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple(
        (re.compile(pattern), protocol)
        for protocol in CODECS
        for pattern in get_codec(protocol).PATHS
    )


def protocol_for_path(path: str) -> str | None:
    """The protocol whose codec serves a request path (its `PATHS`), or None.

    ```python
    protocol_for_path("/model/amazon.nova-lite-v1%3A0/converse")  # "bedrock-converse"
    ```

    Codecs are tried in `CODECS` order; the first whose pattern matches wins.
    """
    for pattern, protocol in _path_patterns():
        if pattern.search(path):
            return protocol
    return None
