"""The one stream framing module: SSE, NDJSON and AWS event-stream, both ways."""

from __future__ import annotations

import pytest

from myna.codecs import (
    CODECS,
    body_payloads,
    broken_stream,
    content_type,
    encode_payload,
    get_codec,
    ndjson_line,
    parse_ndjson,
    parse_sse,
    payload_of,
    sse_bytes,
    sse_messages,
)
from myna.exceptions import DecodeError
from myna.messages import AIMessage


@pytest.mark.parametrize("protocol", sorted(CODECS))
def test_rendered_streams_survive_their_framing(protocol):
    codec = get_codec(protocol)
    payloads = list(codec.render_stream(AIMessage("Hello there, friend.")))
    wire = b"".join(
        encode_payload(p, codec.STREAM_FORMAT, event_field=codec.SSE_EVENT_FIELD) for p in payloads
    )
    assert body_payloads(codec.STREAM_FORMAT, wire) == payloads


@pytest.mark.parametrize("protocol", sorted(CODECS))
def test_a_broken_stream_is_a_decode_error(protocol):
    codec = get_codec(protocol)
    with pytest.raises(DecodeError):
        list(
            codec.decode_stream(
                body_payloads(codec.STREAM_FORMAT, broken_stream(codec.STREAM_FORMAT))
            )
        )


def test_sse_events_carry_their_name_and_done_stays_a_string():
    assert encode_payload({"type": "ping"}, "sse", event_field="type") == (
        b'event: ping\ndata: {"type": "ping"}\n\n'
    )
    assert encode_payload({"type": "ping"}, "sse") == b'data: {"type": "ping"}\n\n'
    assert encode_payload("[DONE]", "sse") == b"data: [DONE]\n\n"
    assert encode_payload({"a": 1}, "ndjson") == b'{"a": 1}\n'
    body = b'event: x\r\ndata: {"a": 1}\r\n\r\n: a comment\n\ndata: [DONE]\n\n'
    assert list(sse_messages(body)) == [("x", '{"a": 1}'), (None, "[DONE]")]
    assert body_payloads("sse", body) == [{"a": 1}, "[DONE]"]


def test_payloads_that_are_not_json_stay_text():
    assert payload_of('{"a": 1}') == {"a": 1}
    assert payload_of("[DONE]") == "[DONE]"
    assert payload_of("not json") == "not json"


def test_content_types():
    assert content_type("sse") == "text/event-stream"
    assert content_type("ndjson") == "application/x-ndjson"
    assert content_type("eventstream") == "application/vnd.amazon.eventstream"


def test_stored_sse_events_round_trip_with_their_offsets():
    body = b': hi\nevent: delta\nid: 7\ndata: {"text": "a"}\n\ndata: plain\n\ndata: cut'
    events = parse_sse(body)
    assert [e for e, _ in events] == [
        {"comment": " hi", "event": "delta", "id": "7", "data": {"text": "a"}},
        {"data": "plain"},
        {"raw": "data: cut"},
    ]
    assert [end for _, end in events] == [
        body.index(b"data: plain"),
        body.index(b"data: cut"),
        len(body),
    ]
    assert b"".join(sse_bytes([e for e, _ in events])) == (
        b': hi\nevent: delta\nid: 7\ndata: {"text": "a"}\n\ndata: plain\n\ndata: cut'
    )


def test_stored_ndjson_lines_round_trip_and_a_cut_line_is_refused():
    body = b'{"a": 1}\n\n[2]\n'
    assert parse_ndjson(body) == [({"a": 1}, 9), ([2], len(body))]
    assert b"".join(ndjson_line(v) for v, _ in parse_ndjson(body)) == b'{"a": 1}\n[2]\n'
    assert parse_ndjson(b'{"a": 1}\n{"b"') is None
    assert parse_ndjson(b'"text"\n') is None
