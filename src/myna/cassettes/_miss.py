"""How a replay miss is answered, so that it reaches the user as the miss.

myna's own providers (they send ``user-agent: myna``) get the `CassetteMismatch` raised from
the transport, which they never retry. Every other client gets an HTTP answer instead: the
official SDKs retry any exception their transport raises (the anthropic SDK three times, then
``APIConnectionError: Connection error.``, the mismatch only in ``__cause__``), but no client
retries a 400. So the miss is answered as the provider's own 400 error (the API the request
path names, as the emulators' script errors are), with ``x-should-retry: false``, which the
openai and anthropic SDKs obey, and the miss text as the error message. The cassette keeps
the miss either way, and raises it on exit (`hidden_failure`), whatever the client did.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from ..codecs import get_codec, protocol_for_path
from ..exceptions import BadRequestError
from ._errors import CassetteMismatch
from ._transport import LiveRequest, Prepared

__all__ = ["MISS_HEADER", "MISS_STATUS", "miss_answer"]

MISS_STATUS = 400
"""The status a miss is answered with: no client retries it (the SDKs retry 408, 409, 429
and 5xx), and a retry would only miss again."""

MISS_HEADER = "x-myna-cassette-miss"
"""Set (``true``) on a miss answered over HTTP, so a reader of the response can tell."""


def _raises(request: LiveRequest) -> bool:
    """myna's providers: they get the exception (they map only httpx errors, never retry it)."""
    agent = (request.header("user-agent") or "").strip().lower()
    return agent == "myna" or agent.startswith("myna/")


def miss_answer(request: LiveRequest, miss: CassetteMismatch) -> Prepared | None:
    """The response a miss is answered with, or None to raise `miss` from the transport."""
    if _raises(request):
        return None
    text = str(miss)
    protocol = protocol_for_path(urlsplit(request.url).path)
    body: Any
    if protocol is None:
        headers = {"content-type": "application/json"}
        body = {"error": {"message": text, "type": "invalid_request_error"}}
    else:
        error = BadRequestError(text, status_code=MISS_STATUS)  # the API's own 400 type
        _, headers, body = get_codec(protocol).render_error(error)
        headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    data = json.dumps(body).encode("utf-8") if not isinstance(body, bytes) else body
    headers.pop("content-length", None)
    headers.setdefault("content-type", "application/json")
    headers["x-should-retry"] = "false"
    headers[MISS_HEADER] = "true"
    headers["content-length"] = str(len(data))
    return Prepared(MISS_STATUS, list(headers.items()), [data], None, None)
