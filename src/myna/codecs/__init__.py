"""Wire-protocol codecs: one module of pure functions per provider protocol.

```python
from myna.codecs import get_codec

codec = get_codec("anthropic-messages")
body = codec.encode_request([HumanMessage("hi")], {"model": "claude-haiku-4-5", "max_tokens": 64})
```
"""

from __future__ import annotations

import importlib
from typing import cast

from ..exceptions import UserError
from ._protocol import ClientCodec, Codec, ServerCodec, StreamDecoder

__all__ = ["CODECS", "ClientCodec", "Codec", "ServerCodec", "StreamDecoder", "get_codec"]

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
