"""Anthropic Messages streams: decode_stream (SSE events -> chunks)."""

from __future__ import annotations

import json

import pytest

from myna.codecs import anthropic_messages as codec
from myna.exceptions import (
    AuthenticationError,
    DecodeError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from myna.messages import merge_chunks

USAGE = {
    "input_tokens": 10,
    "cache_creation_input_tokens": 20,
    "cache_read_input_tokens": 30,
    "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 5,
    "service_tier": "standard",
}


def start(usage=None, **message):
    msg = {
        "id": "msg_s",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 7, "output_tokens": 1},
    }
    msg.update(message)
    return {"type": "message_start", "message": msg}


def block_start(index, block):
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index, **d):
    return {"type": "content_block_delta", "index": index, "delta": d}


def stop(index):
    return {"type": "content_block_stop", "index": index}


def end(stop_reason="end_turn", output=12, **extra_usage):
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output, **extra_usage},
        },
        {"type": "message_stop"},
    ]


def merged(events):
    return merge_chunks(list(codec.decode_stream(events))).to_message()


def test_text_stream_merges_into_a_string():
    events = [
        start(),
        block_start(0, {"type": "text", "text": ""}),
        {"type": "ping"},
        delta(0, type="text_delta", text="Hel"),
        delta(0, type="text_delta", text="lo"),
        stop(0),
        *end(),
    ]
    chunks = list(codec.decode_stream(events))
    assert [c.content for c in chunks if c.content] == ["Hel", "lo"]
    assert chunks[-1].chunk_position == "last"
    msg = merge_chunks(chunks).to_message()
    assert msg.content == "Hello"
    assert msg.id == "msg_s"
    assert msg.usage_metadata == {"input_tokens": 7, "output_tokens": 12, "total_tokens": 19}
    assert msg.response_metadata["finish_reason"] == "stop"
    assert msg.response_metadata["model_name"] == "claude-x"


def test_stream_usage_takes_the_last_value_of_each_field():
    events = [
        start(usage=USAGE),
        *end(
            output=40, input_tokens=10, cache_read_input_tokens=30, cache_creation_input_tokens=20
        ),
    ]
    msg = merged(events)
    assert msg.usage_metadata["input_tokens"] == 60
    assert msg.usage_metadata["output_tokens"] == 40
    assert msg.usage_metadata["total_tokens"] == 100


def test_tool_use_stream_with_partial_json():
    events = [
        start(),
        block_start(0, {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {}}),
        delta(0, type="input_json_delta", partial_json=""),
        delta(0, type="input_json_delta", partial_json='{"lat'),
        delta(0, type="input_json_delta", partial_json='": "52"}'),
        stop(0),
        block_start(1, {"type": "tool_use", "id": "toolu_2", "name": "noargs", "input": {}}),
        delta(1, type="input_json_delta", partial_json=""),
        stop(1),
        *end("tool_use"),
    ]
    chunks = list(codec.decode_stream(events))
    pieces = [tc for c in chunks for tc in c.tool_call_chunks]
    assert pieces[0] == {
        "name": "weather",
        "id": "toolu_1",
        "args": "",
        "index": 0,
        "type": "tool_call_chunk",
    }
    msg = merge_chunks(chunks).to_message()
    assert msg.content == ""
    assert msg.tool_calls == [
        {"name": "weather", "args": {"lat": "52"}, "id": "toolu_1", "type": "tool_call"},
        {"name": "noargs", "args": {}, "id": "toolu_2", "type": "tool_call"},
    ]
    assert msg.response_metadata["finish_reason"] == "tool_calls"


def test_thinking_stream_gives_a_signed_reasoning_block():
    events = [
        start(),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, type="thinking_delta", thinking="Let me "),
        delta(0, type="thinking_delta", thinking="think."),
        delta(0, type="signature_delta", signature="SIG"),
        stop(0),
        block_start(1, {"type": "text", "text": ""}),
        delta(1, type="text_delta", text="Done"),
        stop(1),
        *end(),
    ]
    assert merged(events).content == [
        {"type": "reasoning", "reasoning": "Let me think.", "extras": {"signature": "SIG"}},
        {"type": "text", "text": "Done"},
    ]


def test_stream_and_response_agree_on_two_text_blocks_after_a_tool_call():
    # text, tool_use, text: the second text block switches the stream to blocks
    events = [
        start(),
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="A"),
        stop(0),
        block_start(1, {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
        stop(1),
        block_start(2, {"type": "text", "text": ""}),
        delta(2, type="text_delta", text="B"),
        stop(2),
        *end(),
    ]
    msg = merged(events)
    assert msg.text == "AB"
    assert msg.content[-1] == {"type": "text", "text": "B"}
    assert msg.tool_calls[0]["name"] == "f"


def test_stream_cut_before_message_stop_is_interrupted_with_partial():
    events = [
        start(),
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="Hal"),
    ]
    with pytest.raises(
        StreamInterruptedError, match="ended after 3 events without message_stop"
    ) as exc:
        list(codec.decode_stream(events))
    assert exc.value.partial.text == "Hal"


def test_empty_stream_is_interrupted_without_partial():
    with pytest.raises(StreamInterruptedError) as exc:
        list(codec.decode_stream([]))
    assert exc.value.partial is None


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (["{not json"], "event 0 is not JSON"),
        ([3], "event 0 must be an object with a string 'type'"),
        (
            [{"type": "content_block_start"}],
            r"event 0 \(content_block_start\): the stream must open with message_start",
        ),
        ([start(), start()], "a second message_start"),
        ([{"type": "message_start", "message": []}], "'message' must be an object"),
        ([start(), block_start("0", {"type": "text"})], "'index' must be an integer"),
        ([start(), block_start(0, "text")], "'content_block' must be an object"),
        (
            [
                start(),
                block_start(0, {"type": "text", "text": ""}),
                block_start(0, {"type": "text", "text": ""}),
            ],
            "content block 0 started twice",
        ),
        ([start(), delta(0, type="text_delta", text="x")], "content block 0, which is not open"),
        (
            [start(), block_start(0, {"type": "text", "text": ""}), stop(0), stop(0)],
            "content block 0 is not open",
        ),
        (
            [
                start(),
                block_start(0, {"type": "text", "text": ""}),
                delta(0, type="thinking_delta", thinking="x"),
            ],
            "a thinking_delta cannot apply to a text block",
        ),
        (
            [
                start(),
                block_start(0, {"type": "text", "text": ""}),
                delta(0, type="text_delta", text=3),
            ],
            "delta.text has the wrong type",
        ),
        (
            [
                start(),
                block_start(0, {"type": "text", "text": ""}),
                {"type": "content_block_delta", "index": 0},
            ],
            "'delta' must be an object",
        ),
        (
            [start(), block_start(0, {"type": "tool_use", "name": "f"})],
            "tool_use block needs string 'id'",
        ),
        (
            [
                start(),
                block_start(0, {"type": "server_tool_use", "id": "s", "name": "n", "input": {}}),
                delta(0, type="input_json_delta", partial_json="{x"),
                stop(0),
            ],
            "server tool input is not JSON",
        ),
        ([start(), {"type": "message_delta", "delta": 3}], "'delta' must be an object"),
        (
            [start(), {"type": "message_delta", "delta": {}, "usage": {"output_tokens": "9"}}],
            "usage.output_tokens must be an integer",
        ),
        (
            [start(usage={"input_tokens": None, "output_tokens": True})],
            "usage.output_tokens must be an integer",
        ),
    ],
)
def test_malformed_stream_events_raise_decode_error(events, message):
    with pytest.raises(DecodeError, match=message):
        list(codec.decode_stream(events))


def test_stream_events_must_be_iterable():
    with pytest.raises(DecodeError, match="must be iterable"):
        list(codec.decode_stream(3))


def test_two_message_deltas_do_not_double_count():
    events = [
        start(),
        {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 5}},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
    assert merged(events).usage_metadata == {
        "input_tokens": 7,
        "output_tokens": 9,
        "total_tokens": 16,
    }


def test_usage_from_message_start_when_no_message_delta():
    assert merged([start(), {"type": "message_stop"}]).usage_metadata["input_tokens"] == 7


def test_redacted_thinking_arrives_whole():
    events = [
        start(),
        block_start(0, {"type": "redacted_thinking", "data": "OPAQUE"}),
        stop(0),
        *end(),
    ]
    assert merged(events).content == [{"type": "reasoning", "extras": {"redacted": "OPAQUE"}}]


def test_server_tool_use_input_is_assembled_at_block_stop():
    results = [
        {"type": "web_search_result", "url": "https://a", "title": "A", "encrypted_content": "E"}
    ]
    citation = {
        "type": "web_search_result_location",
        "url": "https://a",
        "title": "A",
        "cited_text": "c",
        "encrypted_index": "I",
    }
    events = [
        start(),
        block_start(
            0, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}
        ),
        delta(0, type="input_json_delta", partial_json='{"query": '),
        delta(0, type="input_json_delta", partial_json='"q"}'),
        stop(0),
        block_start(
            1, {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": results}
        ),
        stop(1),
        block_start(2, {"type": "text", "text": ""}),
        delta(2, type="citations_delta", citation=citation),
        delta(2, type="text_delta", text="Cited."),
        stop(2),
        *end(),
    ]
    assert merged(events).content == [
        {
            "type": "server_tool_call",
            "id": "srvtoolu_1",
            "name": "web_search",
            "args": {"query": "q"},
        },
        {
            "type": "server_tool_result",
            "tool_call_id": "srvtoolu_1",
            "status": "success",
            "output": results,
            "extras": {"block_type": "web_search_tool_result"},
        },
        {
            "type": "text",
            "text": "Cited.",
            "annotations": [
                {
                    "type": "citation",
                    "url": "https://a",
                    "title": "A",
                    "cited_text": "c",
                    "extras": {"type": "web_search_result_location", "encrypted_index": "I"},
                }
            ],
        },
    ]


def test_error_event_raises_the_matching_provider_error():
    events = [
        start(),
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    ]
    with pytest.raises(OverloadedError, match="Overloaded") as exc:
        list(codec.decode_stream(events))
    assert exc.value.status_code is None
    assert exc.value.provider == "anthropic"


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("rate_limit_error", RateLimitError),
        ("api_error", ServerError),
        ("authentication_error", AuthenticationError),
    ],
)
def test_other_error_events(kind, cls):
    with pytest.raises(cls):
        list(
            codec.decode_stream(
                [start(), {"type": "error", "error": {"type": kind, "message": "m"}}]
            )
        )


def test_json_strings_are_accepted_and_events_after_stop_ignored():
    events = [json.dumps(start()), json.dumps({"type": "message_stop"}), "garbage after stop"]
    assert merged(events).id == "msg_s"


def test_unknown_events_and_deltas_are_ignored():
    events = [
        start(),
        {"type": "brand_new_event"},
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="brand_new_delta", x=1),
        delta(0, type="text_delta", text="ok"),
        stop(0),
        block_start(1, {"type": "future_block", "x": 1}),
        delta(1, type="text_delta", text="ignored"),
        stop(1),
        *end(),
    ]
    assert merged(events).content == [
        {"type": "text", "text": "ok"},
        {"type": "non_standard", "value": {"type": "future_block", "x": 1}},
    ]
