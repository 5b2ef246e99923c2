"""Stream framing, both ways: SSE, NDJSON and AWS event-stream bytes <-> stream events.

Codecs read and write stream *payloads* (an SSE event's parsed ``data``, one NDJSON object,
one ``{"contentBlockDelta": {...}}`` AWS event); this module puts them in and takes them out
of the bytes on the wire, for every user of a stream:

- providers read live streams (httpx-sse splits the SSE lines; `payload_of` parses each
  event's data, or each NDJSON line);
- emulators write them (`encode_payload` for one event, `content_type`, `broken_stream`);
- cassettes store them readably (`parse_sse` / `sse_bytes` for SSE events with every field,
  `parse_ndjson` / `ndjson_line`) and read recorded bodies back (`body_payloads`,
  `sse_messages`).

The AWS binary framing itself lives in ``bedrock_converse/_eventstream.py``; this module
wraps it (`encode_payload` and `body_payloads` with ``"eventstream"``).

```python
from myna.codecs import body_payloads, encode_payload

wire = encode_payload({"type": "ping"}, "sse", event_field="type")
# b'event: ping\\ndata: {"type": "ping"}\\n\\n'
assert body_payloads("sse", wire) == [{"type": "ping"}]
```
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

__all__ = [
    "NDJSON_CONTENT_TYPES",
    "body_payloads",
    "broken_stream",
    "content_type",
    "encode_payload",
    "ndjson_line",
    "parse_ndjson",
    "parse_sse",
    "payload_of",
    "sse_bytes",
    "sse_messages",
]

NDJSON_CONTENT_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl"}
)
"""Media types that mean newline-delimited JSON."""

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def content_type(stream_format: str) -> str:
    """The ``content-type`` a server streams `stream_format` with (``"sse"``, ``"ndjson"``,
    ``"eventstream"``, ``"json-array"``)."""
    if stream_format == "eventstream":
        from .bedrock_converse._eventstream import CONTENT_TYPE

        return CONTENT_TYPE
    if stream_format == "json-array":  # Gemini's streamGenerateContent without alt=sse
        return "application/json"
    return "application/x-ndjson" if stream_format == "ndjson" else "text/event-stream"


# ---------------------------------------------------------------- payloads <-> wire events


def payload_of(data: str) -> Any:
    """The payload of an SSE event's ``data`` or of an NDJSON line: parsed JSON.

    ``"[DONE]"`` stays that string; text that is not JSON stays text, so the codec reports
    it as a `DecodeError` naming the event's index.
    """
    if data == "[DONE]":
        return data
    try:
        return json.loads(data)
    except ValueError:
        return data


def encode_payload(payload: Any, stream_format: str, *, event_field: str | None = None) -> bytes:
    """One stream payload as the bytes of its wire event.

    Args:
        payload: what a codec's ``render_stream`` yields.
        stream_format: the codec's ``STREAM_FORMAT``.
        event_field: the codec's ``SSE_EVENT_FIELD``: the payload key whose value is written
            as the SSE ``event:`` name.
    """
    if stream_format == "eventstream":  # AWS binary frames; the event type in the headers
        from .bedrock_converse._stream import encode_stream_event

        return encode_stream_event(payload)
    if stream_format == "ndjson":
        return (json.dumps(payload) + "\n").encode()
    if stream_format == "json-array":  # one item; the caller adds the brackets and commas
        return json.dumps(payload).encode()
    if payload == "[DONE]":
        return b"data: [DONE]\n\n"
    data = json.dumps(payload)
    if event_field and isinstance(payload, dict) and payload.get(event_field):
        return f"event: {payload[event_field]}\ndata: {data}\n\n".encode()
    return f"data: {data}\n\n".encode()


def broken_stream(stream_format: str) -> bytes:
    """A stream that is not valid in `stream_format`: a cut JSON event, or a frame whose CRC
    is wrong. A client reading it raises `DecodeError`."""
    if stream_format == "eventstream":
        from .bedrock_converse._eventstream import encode_event

        frame = bytearray(encode_event("messageStart", {"role": "assistant"}))
        frame[-1] ^= 0xFF  # a corrupt message CRC
        return bytes(frame)
    if stream_format == "ndjson":
        return b'{"model": "broken", "mess\n'
    return b'data: {"id": "broken", "choi\n\n'


def sse_messages(body: bytes) -> Iterator[tuple[str | None, str]]:
    """``(event name, data)`` of each SSE event in a whole body, by the SSE rules.

    httpx-sse does the line splitting (``\\n``, ``\\r\\n``, ``\\r``) and the field rules, as
    for live streams; events without data are never dispatched, and unnamed events (which
    httpx-sse calls ``"message"``) have the name None.
    """
    import httpx
    from httpx_sse import EventSource

    response = httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    for event in EventSource(response).iter_sse():
        if event.data == "":
            continue
        yield (None if event.event == "message" else event.event), event.data


def body_payloads(stream_format: str, body: bytes) -> list[Any]:
    """The payloads of a whole recorded stream body, as a codec's ``decode_stream`` takes them.

    Raises:
        DecodeError: an event-stream frame is corrupt.
    """
    if stream_format == "eventstream":
        from .bedrock_converse._eventstream import EventStreamDecoder, event_from_frame

        decoder = EventStreamDecoder()
        return [event_from_frame(headers, payload) for headers, payload in decoder.feed(body)]
    if stream_format == "ndjson":
        text = body.decode("utf-8", errors="replace")
        return [payload_of(line) for line in text.splitlines() if line.strip()]
    return [payload_of(data) for _, data in sse_messages(body)]


# ---------------------------------------------------------------- stored SSE events


def _structured(text: str) -> Any:
    """The JSON value of `text` when it is an object or array, else None."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) else None


def _sse_field(line: str) -> tuple[str, str]:
    name, sep, value = line.partition(":")
    if sep and value.startswith(" "):
        value = value[1:]
    return name, value


def _sse_event(block: str) -> dict[str, Any]:
    """One SSE block (without its blank line) as a stored event."""
    event: dict[str, Any] = {}
    comments: list[str] = []
    data: list[str] = []
    for line in block.splitlines():
        if line.startswith(":"):
            comments.append(line[1:])
            continue
        name, value = _sse_field(line)
        if name == "data":
            data.append(value)
        elif name in ("event", "id", "retry") and name not in event:
            event[name] = value
        else:  # an unknown or repeated field: keep the block verbatim
            return {"raw": block + "\n\n"}
    out: dict[str, Any] = {}
    if comments:
        out["comment"] = "\n".join(comments)
    out.update(event)
    if data:
        text = "\n".join(data)
        parsed = _structured(text)
        out["data"] = text if parsed is None else parsed
    return out


def parse_sse(data: bytes) -> list[tuple[dict[str, Any], int]]:
    """Split an SSE body into stored events, each with the byte offset where it ends.

    A stored event has the keys ``comment``, ``event``, ``id``, ``retry`` and ``data``
    (parsed when it is a JSON object or array), or ``raw`` for a block kept verbatim (an
    unknown or repeated field, a trailing fragment with no blank line after it).

    Raises:
        UnicodeDecodeError: the body is not UTF-8.
    """
    events: list[tuple[dict[str, Any], int]] = []
    start = pos = 0
    block_has_lines = False
    while pos < len(data):
        match = _LINE_BREAK.search(data, pos)
        if match is None:
            break
        line = data[pos : match.start()]
        pos = match.end()
        if line:
            block_has_lines = True
            continue
        if block_has_lines:
            block = data[start:pos].decode("utf-8")
            events.append((_sse_event(block.rstrip("\r\n")), pos))
        start = pos
        block_has_lines = False
    if start < len(data):  # a trailing fragment with no blank line after it
        events.append(({"raw": data[start:].decode("utf-8")}, len(data)))
    return events


def _sse_chunk(event: dict[str, Any]) -> bytes:
    if "raw" in event:
        return str(event["raw"]).encode("utf-8")
    lines = []
    if "comment" in event:
        lines.extend(f":{c}" for c in str(event["comment"]).split("\n"))
    for name in ("event", "id", "retry"):
        if event.get(name) is not None:
            lines.append(f"{name}: {event[name]}")
    if "data" in event:
        data = event["data"]
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        lines.extend(f"data: {part}" for part in text.split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def sse_bytes(events: list[dict[str, Any]]) -> list[bytes]:
    """The wire bytes of stored SSE events (as `parse_sse` gives them), one chunk per event."""
    return [_sse_chunk(event) for event in events]


# ---------------------------------------------------------------- stored NDJSON lines


def parse_ndjson(data: bytes) -> list[tuple[Any, int]] | None:
    """Each NDJSON line's object or array with the byte offset where the line ends.

    None when a line is not a JSON object or array, or the body does not end in a line
    break (a cut last line would come back whole on replay).
    """
    out: list[tuple[Any, int]] = []
    pos = 0
    for line in data.splitlines(keepends=True):
        pos += len(line)
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            return None
        if not isinstance(value, (dict, list)):
            return None
        out.append((value, pos))
    if not data.endswith(b"\n"):
        return None
    return out


def ndjson_line(value: Any) -> bytes:
    """One stored NDJSON value as its line (UTF-8, newline-terminated)."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n"
