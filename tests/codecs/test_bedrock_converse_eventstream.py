"""The AWS binary event-stream framing: exact layout, round trips, corruption."""

from __future__ import annotations

import json
import struct
import uuid
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myna.codecs.bedrock_converse import (
    EventStreamDecoder,
    encode_event,
    encode_exception,
    event_from_frame,
)
from myna.codecs.bedrock_converse._eventstream import encode_message
from myna.exceptions import DecodeError


def test_event_frame_layout_byte_by_byte():
    frame = encode_event("messageStart", {"role": "assistant"})
    total, headers_len, prelude_crc = struct.unpack(">III", frame[:12])
    assert total == len(frame)
    assert prelude_crc == zlib.crc32(frame[:8])
    assert struct.unpack(">I", frame[-4:])[0] == zlib.crc32(frame[:-4])
    headers = frame[12 : 12 + headers_len]
    # first header: name length, name, type 7 (string), u16 length, value
    assert headers[0] == len(":event-type")
    assert headers[1:12] == b":event-type"
    assert headers[12] == 7
    assert struct.unpack(">H", headers[13:15])[0] == len("messageStart")
    assert headers[15:27] == b"messageStart"
    assert frame[12 + headers_len : -4] == b'{"role":"assistant"}'


def test_decoder_reads_headers_and_payload():
    [(headers, payload)] = EventStreamDecoder().feed(encode_event("metadata", {"usage": {}}))
    assert headers == {
        ":event-type": "metadata",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(payload) == {"usage": {}}


def test_botocore_parses_our_frames():
    """An independent parser (botocore's, used by boto3) reads what we write."""
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(
        encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hé"}})
    )
    buffer.add_data(encode_exception("throttlingException", {"message": "Too many requests"}))
    first, second = list(buffer)
    assert first.headers[":event-type"] == "contentBlockDelta"
    assert json.loads(first.payload) == {"contentBlockIndex": 0, "delta": {"text": "hé"}}
    assert second.headers[":message-type"] == "exception"
    assert second.headers[":exception-type"] == "throttlingException"


def test_all_header_value_types_round_trip():
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    headers = {
        "t": True,
        "f": False,
        "small": 7,
        "big": 2**40,
        "neg": -3,
        "raw": b"\x00\x01",
        "s": "text",
        "id": ident,
    }
    [(back, payload)] = EventStreamDecoder().feed(encode_message(headers, b"xyz"))
    assert back == headers
    assert payload == b"xyz"


def test_byte_and_short_and_timestamp_header_types_decode():
    # types 2 (byte), 3 (short) and 8 (timestamp) are only written by other encoders
    raw = b"\x01b\x02\xff" + b"\x01s\x03\x01\x00" + b"\x02ts\x08" + struct.pack(">q", 1700000000000)
    total = 16 + len(raw)
    prelude = struct.pack(">II", total, len(raw))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw
    frame = body + struct.pack(">I", zlib.crc32(body))
    [(headers, payload)] = EventStreamDecoder().feed(frame)
    assert headers == {"b": -1, "s": 256, "ts": 1700000000000}
    assert payload == b""


header_values = st.one_of(
    st.text(max_size=30),
    st.binary(max_size=30),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.uuids(),
)
header_names = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20
).filter(lambda n: len(n.encode()) < 256)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(header_names, header_values, max_size=5), st.binary(max_size=200)
        ),
        max_size=6,
    ),
    st.lists(st.integers(1, 64), min_size=1, max_size=10),
)
def test_round_trip_fed_in_arbitrary_pieces(messages, cuts):
    data = b"".join(encode_message(h, p) for h, p in messages)
    decoder = EventStreamDecoder()
    got = []
    pos = 0
    i = 0
    while pos < len(data):
        size = cuts[i % len(cuts)]
        got += decoder.feed(data[pos : pos + size])
        pos += size
        i += 1
    assert got == [(h, p) for h, p in messages]
    assert decoder.pending == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100), st.data())
def test_any_single_byte_corruption_is_a_decode_error(payload, data):
    frame = bytearray(encode_event("contentBlockDelta", {"p": payload.hex()}))
    at = data.draw(st.integers(0, len(frame) - 1))
    frame[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(DecodeError, match="event-stream message 0"):
        EventStreamDecoder().feed(bytes(frame))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_garbage_bytes_raise_decode_error_or_wait(garbage):
    decoder = EventStreamDecoder()
    try:
        assert decoder.feed(garbage) == []  # too short to judge: kept for the next feed
        assert decoder.pending == len(garbage)
    except DecodeError:
        pass


def test_a_truncated_frame_waits_for_the_rest():
    frame = encode_event("messageStop", {"stopReason": "end_turn"})
    decoder = EventStreamDecoder()
    assert decoder.feed(frame[:-5]) == []
    assert decoder.pending == len(frame) - 5
    [(headers, _)] = decoder.feed(frame[-5:])
    assert headers[":event-type"] == "messageStop"


def test_impossible_length_is_reported_before_waiting_for_it():
    prelude = struct.pack(">II", 2**31, 0)
    data = prelude + struct.pack(">I", zlib.crc32(prelude))
    with pytest.raises(DecodeError, match="impossible message length 2147483648"):
        EventStreamDecoder().feed(data)


def test_headers_longer_than_the_message_are_an_error():
    prelude = struct.pack(">II", 20, 10)
    data = prelude + struct.pack(">I", zlib.crc32(prelude)) + b"\x00" * 8
    with pytest.raises(DecodeError, match="headers length 10 does not fit a 20-byte message"):
        EventStreamDecoder().feed(data)


def test_unknown_header_type_is_an_error():
    raw = b"\x01x\x0a"
    prelude = struct.pack(">II", 16 + len(raw), len(raw))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw
    with pytest.raises(DecodeError, match="unknown value type 10"):
        EventStreamDecoder().feed(body + struct.pack(">I", zlib.crc32(body)))


def test_position_of_the_bad_message_is_named():
    good = encode_event("messageStart", {"role": "assistant"})
    bad = bytearray(good)
    bad[-1] ^= 1
    with pytest.raises(DecodeError, match="event-stream message 1: message CRC mismatch"):
        EventStreamDecoder().feed(good + bytes(bad))


# ------------------------------------------------------------------------- event_from_frame


def test_event_from_frame_kinds():
    def one(frame: bytes):
        [(headers, payload)] = EventStreamDecoder().feed(frame)
        return event_from_frame(headers, payload)

    assert one(encode_event("messageStart", {"role": "assistant"})) == {
        "messageStart": {"role": "assistant"}
    }
    assert one(encode_exception("validationException", {"message": "bad"})) == {
        "validationException": {"message": "bad"}
    }
    error = encode_message(
        {":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}, b""
    )
    assert one(error) == {"internalFailure": {"message": "boom"}}
    not_json = encode_message({":message-type": "event", ":event-type": "metadata"}, b"{oops")
    assert one(not_json) == {"metadata": "{oops"}


def test_event_from_frame_without_type_header_is_an_error():
    with pytest.raises(DecodeError, match="event-stream event message without its type header"):
        event_from_frame({":message-type": "event"}, b"{}")


def test_encode_rejects_oversized_header_names():
    with pytest.raises(ValueError, match=r"must be 1\.\.255 bytes"):
        encode_message({"x" * 300: "v"}, b"")
