"""The AWS binary event-stream framing (``application/vnd.amazon.eventstream``).

ConverseStream answers with a sequence of binary messages, each laid out big-endian as::

    total length  u32   the whole message, these 4 bytes and the trailing CRC included
    headers length u32
    prelude CRC   u32   CRC32 of the 8 bytes above
    headers             name length u8, name, value type u8, value ...
    payload             here a JSON object
    message CRC   u32   CRC32 of everything before it

A Converse event has the headers ``:message-type: event``, ``:event-type: contentBlockDelta``
and ``:content-type: application/json``; a failure inside the stream has ``:message-type:
exception`` and ``:exception-type: throttlingException`` (or ``error`` with ``:error-code``
and ``:error-message``). `event_from_frame` turns each into the one-key dict the codec reads,
``{"contentBlockDelta": {...}}``.

```python
frame = encode_event("messageStart", {"role": "assistant"})
decoder = EventStreamDecoder()
[(headers, payload)] = decoder.feed(frame)
assert headers[":event-type"] == "messageStart"
```
"""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from typing import Any

from ...exceptions import DecodeError

__all__ = [
    "CONTENT_TYPE",
    "EventStreamDecoder",
    "encode_event",
    "encode_exception",
    "encode_message",
    "event_from_frame",
]

CONTENT_TYPE = "application/vnd.amazon.eventstream"
"""The Content-Type of an event-stream response."""

_PRELUDE = struct.Struct(">III")
_CRC = struct.Struct(">I")
_PRELUDE_LEN = 12
_MIN_MESSAGE = 16  # a prelude and a message CRC, no headers and no payload
# The service limits: payloads up to 16 MiB and headers up to 128 KiB per message. A length
# past them means the framing is corrupt, not that a huge message is on its way.
_MAX_HEADERS = 128 * 1024
_MAX_MESSAGE = 16 * 1024 * 1024 + _MAX_HEADERS + _MIN_MESSAGE

# value type codes of the header encoding
_TRUE, _FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)
_FIXED = {_BYTE: struct.Struct(">b"), _SHORT: struct.Struct(">h"), _INT: struct.Struct(">i")}
_FIXED[_LONG] = _FIXED[_TIMESTAMP] = struct.Struct(">q")
_U16 = struct.Struct(">H")

HeaderValue = str | bytes | bool | int | uuid.UUID


# ------------------------------------------------------------------------------- encoding


def _encode_header(name: str, value: HeaderValue) -> bytes:
    raw_name = name.encode("utf-8")
    if not 0 < len(raw_name) < 256:
        raise ValueError(f"event-stream header name {name!r} must be 1..255 bytes long")
    head = bytes([len(raw_name)]) + raw_name
    if isinstance(value, bool):
        return head + bytes([_TRUE if value else _FALSE])
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return head + bytes([_INT]) + _FIXED[_INT].pack(value)
        return head + bytes([_LONG]) + _FIXED[_LONG].pack(value)
    if isinstance(value, uuid.UUID):
        return head + bytes([_UUID]) + value.bytes
    kind, data = (_STRING, value.encode("utf-8")) if isinstance(value, str) else (_BYTES, value)
    if len(data) > 0xFFFF:
        raise ValueError(f"event-stream header {name!r} is longer than 65535 bytes")
    return head + bytes([kind]) + _U16.pack(len(data)) + bytes(data)


def encode_message(headers: dict[str, HeaderValue], payload: bytes) -> bytes:
    """One event-stream message: prelude, headers, payload and both CRCs.

    Args:
        headers: header name -> value (str, bytes, bool, int or `uuid.UUID`).
        payload: the message body.
    """
    raw_headers = b"".join(_encode_header(name, value) for name, value in headers.items())
    total = _MIN_MESSAGE + len(raw_headers) + len(payload)
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += _CRC.pack(zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + _CRC.pack(zlib.crc32(body))


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_event(event_type: str, payload: dict[str, Any]) -> bytes:
    """An ``event`` message such as ``contentBlockDelta`` with a JSON payload."""
    headers: dict[str, HeaderValue] = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, _json_bytes(payload))


def encode_exception(exception_type: str, payload: dict[str, Any]) -> bytes:
    """An ``exception`` message such as ``throttlingException`` (payload ``{"message": ...}``)."""
    headers: dict[str, HeaderValue] = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, _json_bytes(payload))


# ------------------------------------------------------------------------------- decoding


def _decode_headers(raw: bytes, where: str) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(raw):
            raise DecodeError(f"{where}: a header runs past the end of the header block")
        chunk = raw[pos : pos + n]
        pos += n
        return chunk

    while pos < len(raw):
        name_len = take(1)[0]
        if name_len == 0:
            raise DecodeError(f"{where}: a header has an empty name")
        name = take(name_len).decode("utf-8", "replace")
        kind = take(1)[0]
        value: HeaderValue
        if kind in (_TRUE, _FALSE):
            value = kind == _TRUE
        elif kind in _FIXED:
            fixed = _FIXED[kind]
            value = fixed.unpack(take(fixed.size))[0]
        elif kind in (_BYTES, _STRING):
            data = take(_U16.unpack(take(2))[0])
            value = data.decode("utf-8", "replace") if kind == _STRING else data
        elif kind == _UUID:
            value = uuid.UUID(bytes=take(16))
        else:
            raise DecodeError(f"{where}: header {name!r} has unknown value type {kind}")
        headers[name] = value
    return headers


class EventStreamDecoder:
    """Incremental decoder: feed it bytes as they arrive, get back whole messages.

    Bytes of a message that has not fully arrived are kept until the next `feed`. A bad CRC,
    an impossible length or a malformed header raises `myna.exceptions.DecodeError` naming
    the message's position in the stream.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._count = 0

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole message (non-zero at a cut stream)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[tuple[dict[str, HeaderValue], bytes]]:
        """Add `data`; return every message now complete as ``(headers, payload)``."""
        self._buffer += data
        out = []
        while len(self._buffer) >= _PRELUDE_LEN:
            where = f"event-stream message {self._count}"
            total, headers_len, prelude_crc = _PRELUDE.unpack_from(self._buffer)
            if zlib.crc32(bytes(self._buffer[:8])) != prelude_crc:
                raise DecodeError(f"{where}: prelude CRC mismatch; the stream is corrupt")
            if not _MIN_MESSAGE <= total <= _MAX_MESSAGE:
                raise DecodeError(f"{where}: impossible message length {total}")
            if headers_len > min(_MAX_HEADERS, total - _MIN_MESSAGE):
                raise DecodeError(
                    f"{where}: headers length {headers_len} does not fit a {total}-byte message"
                )
            if len(self._buffer) < total:
                break
            message = bytes(self._buffer[:total])
            del self._buffer[:total]
            (crc,) = _CRC.unpack_from(message, total - 4)
            if zlib.crc32(message[:-4]) != crc:
                raise DecodeError(f"{where}: message CRC mismatch; the stream is corrupt")
            end = _PRELUDE_LEN + headers_len
            headers = _decode_headers(message[_PRELUDE_LEN:end], where)
            out.append((headers, message[end:-4]))
            self._count += 1
        return out


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def event_from_frame(headers: dict[str, Any], payload: bytes) -> Any:
    """The codec's view of one message: ``{event_or_exception_type: parsed JSON payload}``.

    An ``error`` message becomes ``{"<errorCode>": {"message": ...}}`` with the code's first
    letter lower-cased, like the exception types. A payload that is not JSON stays a string,
    so the codec reports it as a `DecodeError` with the event's index.
    """
    kind = headers.get(":message-type", "event")
    if kind == "error":
        code = str(headers.get(":error-code") or "internalServerException")
        return {_lower_first(code): {"message": str(headers.get(":error-message") or code)}}
    name = headers.get(":exception-type") if kind == "exception" else headers.get(":event-type")
    if not isinstance(name, str) or not name:
        raise DecodeError(
            f"event-stream {kind} message without its type header: {sorted(headers)!r}"
        )
    text = payload.decode("utf-8", "replace")
    try:
        value: Any = json.loads(text) if text.strip() else {}
    except ValueError:
        value = text
    return {name: value}
