"""Cassette bodies, dump/load, validation errors with lines, and the parse cache."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from myna.cassettes import (
    CassetteError,
    decode_body,
    dump_cassette,
    encode_body,
    load_cassette,
    loads_cassette,
    new_cassette,
    sse_bytes,
)
from myna.cassettes._format import body_chunks, load_parsed, parse_sse

SSE = (
    b'data: {"id":"c1","choices":[{"delta":{"content":"Hi"}}]}\n\n'
    b'event: message_delta\r\ndata: {"type": "message_delta"}\r\n\r\n'
    b": keep-alive\n\n"
    b"id: 7\nretry: 100\ndata: plain text\ndata: second line\n\n"
    b'data: "quoted string"\n\n'
    b"data: [DONE]\n\n"
)


def test_sse_is_stored_as_events_with_parsed_data():
    body = encode_body("text/event-stream; charset=utf-8", SSE)
    assert body == {
        "sse": [
            {"data": {"id": "c1", "choices": [{"delta": {"content": "Hi"}}]}},
            {"event": "message_delta", "data": {"type": "message_delta"}},
            {"comment": " keep-alive"},
            {"id": "7", "retry": "100", "data": "plain text\nsecond line"},
            {"data": '"quoted string"'},
            {"data": "[DONE]"},
        ]
    }
    chunks = body_chunks(body)
    assert len(chunks) == 6
    assert chunks[1] == b'event: message_delta\ndata: {"type": "message_delta"}\n\n'
    assert chunks[3] == b"id: 7\nretry: 100\ndata: plain text\ndata: second line\n\n"
    assert chunks[4] == b'data: "quoted string"\n\n'  # JSON strings stay verbatim
    assert sse_bytes(body["sse"]) == chunks


def test_sse_offsets_mark_where_each_event_ends():
    events = parse_sse(b"data: 1\n\ndata: 2\n\ntrailing")
    assert [end for _, end in events] == [9, 18, 26]
    assert events[-1][0] == {"raw": "trailing"}
    assert body_chunks({"sse": [e for e, _ in events]})[-1] == b"trailing"


def test_unknown_sse_fields_are_kept_verbatim():
    body = encode_body("text/event-stream", b"foo: bar\ndata: x\n\n")
    assert body == {"sse": [{"raw": "foo: bar\ndata: x\n\n"}]}
    assert decode_body(body) == b"foo: bar\ndata: x\n\n"


def test_ndjson_json_text_and_binary_bodies():
    nd = b'{"a": 1}\n{"b": [2]}\n'
    assert encode_body("application/x-ndjson", nd) == {"ndjson": [{"a": 1}, {"b": [2]}]}
    assert body_chunks({"ndjson": [{"a": 1}, {"b": [2]}]}) == [b'{"a": 1}\n', b'{"b": [2]}\n']
    assert encode_body("application/x-ndjson", b'{"a": 1}\n{"cut') == {"text": '{"a": 1}\n{"cut'}
    assert encode_body("application/json", b'{"x": [1, 2.5, null]}') == {
        "json": {"x": [1, 2.5, None]}
    }
    assert encode_body("application/problem+json", b'{"x": 1}') == {"json": {"x": 1}}
    assert encode_body("application/json", b"{not json") == {"text": "{not json"}
    assert encode_body(None, "héllo".encode()) == {"text": "héllo"}
    blob = bytes(range(200, 256))
    assert encode_body("image/png", blob) == {"base64": base64.b64encode(blob).decode()}
    assert decode_body({"base64": base64.b64encode(blob).decode()}) == blob
    assert encode_body("application/json", b"") is None and decode_body(None) == b""


def _interaction(**response):
    return {
        "request": {
            "method": "POST",
            "url": "https://api.test/v1/chat",
            "headers": {"content-type": "application/json"},
            "body": {"json": {"messages": [{"role": "user", "content": "Hi\nthere"}]}},
        },
        "response": {"status": 200, "headers": {"content-type": "text/event-stream"}, **response},
    }


def test_dump_then_load_round_trips_and_reads_like_the_conversation():
    cassette = new_cassette(
        [_interaction(body=encode_body("text/event-stream", SSE), timing=[0.0] * 6)]
    )
    text = dump_cassette(cassette)
    assert text.startswith("# myna cassette: recorded provider traffic, secrets scrubbed.")
    assert (
        "        - role: user\n          content: |-\n            Hi\n            there\n" in text
    )
    assert '      - data: {"id": "c1", "choices": [{"delta": {"content": "Hi"}}]}\n' in text
    loaded = loads_cassette(text)
    assert loaded["interactions"] == cassette["interactions"]
    assert yaml.safe_load(text) == loaded  # any YAML tool reads the same thing


def test_hand_edits_outside_the_fast_subset_still_load(tmp_path):
    text = dump_cassette(new_cassette([_interaction(body={"json": {"ok": True}})]))
    edited = text.replace(
        "      json:\n        ok: true", "      json: {ok: yes}  # edited by hand"
    )
    assert loads_cassette(edited)["interactions"][0]["response"]["body"] == {"json": {"ok": True}}


@pytest.mark.parametrize(
    "text, message",
    [
        ("interactions: [\n", "c.yaml, line 2: broken YAML"),
        ("", "c.yaml is empty. Delete it to record it again"),
        (
            "- a\n- b\n",
            "c.yaml, line 1: not a valid myna cassette: a cassette must be a mapping, got list",
        ),
        (
            "version: 2\ninteractions: []\n",
            "c.yaml, line 1: not a valid myna cassette at version: format version 2 is not 1",
        ),
        ("version: 1\n", "c.yaml, line 1: not a valid myna cassette: missing 'interactions'"),
        (
            "interactions:\n- request:\n    method: GET\n    url: https://x\n  response:\n    status: 200\n    bdy: {}\n",
            "c.yaml, line 7: not a valid myna cassette at interactions[0].response.bdy: unknown key 'bdy'",
        ),
        (
            "interactions:\n- request:\n    method: GET\n    url: https://x\n  response:\n    status: 200\n    body: {xml: a}\n",
            "c.yaml, line 7: not a valid myna cassette at interactions[0].response.body.xml: unknown body kind 'xml'",
        ),
        (
            "interactions:\n- request:\n    method: GET\n    url: https://x\n  response:\n    status: 200\n"
            "    body: {sse: [{data: 1}, {data: 2}]}\n    timing: [0.1]\n",
            "timing has 1 entries but the body replays as 2 chunk(s)",
        ),
        (
            "interactions:\n- request:\n    method: GET\n    url: https://x\n  response:\n    status: 200\n    body: {base64: '%%%'}\n",
            "interactions[0].response.body.base64: invalid base64",
        ),
        (
            "interactions:\n- request:\n    uri: https://x\n    method: GET\n  response:\n    status: {code: 200}\n",
            "It looks like a vcrpy cassette: convert it with `myna cassettes convert`.",
        ),
    ],
    ids=[
        "broken-yaml",
        "empty",
        "not-a-mapping",
        "version",
        "no-interactions",
        "typo",
        "body-kind",
        "timing",
        "base64",
        "vcrpy",
    ],
)
def test_broken_files_name_file_line_and_fix(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CassetteError) as info:
        load_cassette(path)
    assert message in str(info.value)


def test_unreadable_file_is_named(tmp_path):
    with pytest.raises(CassetteError, match=r"Cannot read cassette .*nope.yaml"):
        load_cassette(tmp_path / "nope.yaml")


def test_parsed_cassettes_are_cached_by_content(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    text = dump_cassette(new_cassette([_interaction(body={"json": {"count": 1}})]))
    a.write_text(text)
    b.write_text(text)
    assert load_parsed(a) is load_parsed(b)  # same bytes: parsed once
    b.write_text(text.replace("count: 1", "count: 2"))
    assert load_parsed(b) is not load_parsed(a)
    copy = load_cassette(a)
    copy["interactions"].clear()  # a private copy: the cache is untouched
    assert len(load_cassette(a)["interactions"]) == 1


def test_json_numbers_and_unicode_survive(tmp_path):
    value = {"big": 2**64, "small": 1e-07, "neg": -0.5, "text": "naïve 😀 \u2028 end", "none": None}
    text = dump_cassette(new_cassette([_interaction(body={"json": value})]))
    assert loads_cassette(text)["interactions"][0]["response"]["body"]["json"] == value
    assert json.loads(decode_body({"json": value})) == value


def test_responses_are_read_when_first_needed_and_checked_then(tmp_path):
    from myna.cassettes._format import parse_cassette

    text = dump_cassette(
        new_cassette([_interaction(body=encode_body("text/event-stream", SSE))] * 2)
    )
    lines = text.splitlines()
    event = next(
        i for i, line in enumerate(lines) if line.strip().startswith("- data: {") and i > 30
    )
    lines[event] = lines[event].replace("- data: {", "- dta: {")
    parsed = parse_cassette("\n".join(lines) + "\n", "c.yaml")  # requests are fine: it loads
    assert len(parsed) == 2 and parsed.requests[1]["method"] == "POST"
    assert parsed.response(0)["status"] == 200
    with pytest.raises(CassetteError) as info:
        parsed.response(1)
    assert str(info.value).startswith(
        f"c.yaml, line {event + 1}: not a valid myna cassette at interactions[1].response.body.sse[0].dta: unknown key 'dta'"
    )
    lines[event] = lines[event].split("{")[0] + '{"broken": '
    with pytest.raises(CassetteError, match=r"c.yaml, line \d+: broken YAML"):
        parse_cassette("\n".join(lines) + "\n", "c.yaml").response(1)


def test_a_bad_status_is_caught_at_load_even_in_a_lazy_response():
    from myna.cassettes._format import parse_cassette

    text = dump_cassette(new_cassette([_interaction(body={"json": {}})])).replace(
        "status: 200", "status: 2000"
    )
    with pytest.raises(
        CassetteError,
        match=r"line 18: .* at interactions\[0\].response.status: status must be an HTTP code, got 2000",
    ):
        parse_cassette(text, "c.yaml")
