"""decode_response, decode_stream and decode_error: Anthropic wire -> myna messages and errors."""

from __future__ import annotations

import json

import pytest

from myna.codecs import anthropic_messages as codec
from myna.exceptions import (
    AuthenticationError,
    ContextLengthError,
    DecodeError,
    NotFoundError,
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


def response(content, **extra):
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    body.update(extra)
    return body


# ----------------------------------------------------------------------------- decode_response


def test_plain_text_reply_is_a_string_with_metadata():
    msg = codec.decode_response(response([{"type": "text", "text": "Hello"}]))
    assert msg.content == "Hello"
    assert msg.id == "msg_1"
    assert msg.response_metadata == {
        "model_provider": "anthropic",
        "model_name": "claude-haiku-4-5-20251001",
        "id": "msg_1",
        "finish_reason": "stop",
        "stop_reason": "end_turn",
    }
    assert msg.usage_metadata == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}


def test_usage_counts_cache_reads_and_writes_as_input():
    msg = codec.decode_response(response([{"type": "text", "text": "x"}], usage=USAGE))
    assert msg.usage_metadata["input_tokens"] == 60
    assert msg.usage_metadata["total_tokens"] == 65
    assert msg.usage_metadata["input_token_details"]["cache_read"] == 30
    assert msg.usage_metadata["input_token_details"]["cache_creation"] == 20
    assert msg.response_metadata["cache_creation"]["ephemeral_5m_input_tokens"] == 20
    assert msg.response_metadata["service_tier"] == "standard"


def test_thinking_tokens_become_reasoning_details():
    usage = {"input_tokens": 1, "output_tokens": 9, "output_tokens_details": {"thinking_tokens": 6}}
    msg = codec.decode_response(response([{"type": "text", "text": "x"}], usage=usage))
    assert msg.usage_metadata["output_token_details"] == {"reasoning": 6}


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "refusal"),
        ("brand_new_reason", "brand_new_reason"),
    ],
)
def test_stop_reasons_are_normalised_and_kept(stop_reason, finish):
    msg = codec.decode_response(response([], stop_reason=stop_reason))
    assert msg.response_metadata["finish_reason"] == finish
    assert msg.response_metadata["stop_reason"] == stop_reason


def test_stop_sequence_is_kept():
    msg = codec.decode_response(response([], stop_reason="stop_sequence", stop_sequence="```"))
    assert msg.response_metadata["stop_sequence"] == "```"


def test_tool_use_blocks_become_tool_calls():
    msg = codec.decode_response(
        response(
            [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"q": "a"}},
                {"type": "tool_use", "id": "toolu_2", "name": "f", "input": {}},
            ],
            stop_reason="tool_use",
        )
    )
    assert msg.content == "Checking."
    assert msg.tool_calls == [
        {"name": "f", "args": {"q": "a"}, "id": "toolu_1", "type": "tool_call"},
        {"name": "f", "args": {}, "id": "toolu_2", "type": "tool_call"},
    ]


def test_tool_use_with_string_input_that_does_not_parse_is_invalid():
    msg = codec.decode_response(
        response([{"type": "tool_use", "id": "toolu_1", "name": "f", "input": "{oops"}])
    )
    assert msg.tool_calls == []
    assert msg.invalid_tool_calls[0]["args"] == "{oops"
    assert "not valid JSON" in msg.invalid_tool_calls[0]["error"]


def test_thinking_and_redacted_thinking_become_reasoning_blocks():
    msg = codec.decode_response(
        response(
            [
                {"type": "thinking", "thinking": "hmm", "signature": "SIG"},
                {"type": "redacted_thinking", "data": "OPAQUE"},
                {"type": "text", "text": "Answer"},
            ]
        )
    )
    assert msg.content == [
        {"type": "reasoning", "reasoning": "hmm", "extras": {"signature": "SIG"}},
        {"type": "reasoning", "extras": {"redacted": "OPAQUE"}},
        {"type": "text", "text": "Answer"},
    ]


def test_server_tools_and_citations():
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
    msg = codec.decode_response(
        response(
            [
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "q"},
                },
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": results},
                {
                    "type": "web_fetch_tool_result",
                    "tool_use_id": "srvtoolu_2",
                    "content": {
                        "type": "web_fetch_tool_result_error",
                        "error_code": "url_not_accessible",
                    },
                },
                {"type": "text", "text": "Cited.", "citations": [citation]},
                {"type": "container_upload", "file_id": "f"},
            ],
            usage={
                "input_tokens": 1,
                "output_tokens": 1,
                "server_tool_use": {"web_search_requests": 1},
            },
        )
    )
    assert msg.content == [
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
            "type": "server_tool_result",
            "tool_call_id": "srvtoolu_2",
            "status": "error",
            "output": {"type": "web_fetch_tool_result_error", "error_code": "url_not_accessible"},
            "extras": {"block_type": "web_fetch_tool_result"},
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
        {"type": "non_standard", "value": {"type": "container_upload", "file_id": "f"}},
    ]
    assert msg.response_metadata["server_tool_use"] == {"web_search_requests": 1}


def test_document_citation_keeps_its_location_in_extras():
    citation = {
        "type": "char_location",
        "cited_text": "grass is green",
        "document_index": 0,
        "document_title": "Facts",
        "start_char_index": 0,
        "end_char_index": 14,
    }
    msg = codec.decode_response(response([{"type": "text", "text": "x", "citations": [citation]}]))
    assert msg.content[0]["annotations"] == [
        {
            "type": "citation",
            "title": "Facts",
            "cited_text": "grass is green",
            "extras": {
                "type": "char_location",
                "document_index": 0,
                "start_char_index": 0,
                "end_char_index": 14,
            },
        }
    ]


def test_error_body_raises_the_provider_error():
    with pytest.raises(OverloadedError, match="Overloaded"):
        codec.decode_response(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "must be a JSON object"),
        ({"id": "m"}, "no 'content'"),
        ({"content": "x", "model": 3}, "model must be a string"),
        ({"content": [{"text": "x"}]}, r"content.0 must be an object with a string 'type'"),
        ({"content": [{"type": "text", "text": 3}]}, r"content.0.text must be a string"),
        ({"content": [{"type": "tool_use", "name": "f"}]}, "needs string 'id' and 'name'"),
        (
            {"content": [{"type": "tool_use", "id": "t", "name": "f", "input": 3}]},
            "input must be an object",
        ),
        ({"content": [], "usage": {"input_tokens": "3"}}, "usage.input_tokens must be an integer"),
        ({"content": [], "usage": []}, "usage must be an object"),
        ({"content": [], "stop_reason": 1}, "stop_reason must be a string"),
        ({"content": [{"type": "thinking", "thinking": None}]}, "needs string 'thinking'"),
    ],
)
def test_malformed_responses_raise_decode_error(body, message):
    with pytest.raises(DecodeError, match=message):
        codec.decode_response(body)


# ------------------------------------------------------------------------------- decode_stream


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


def test_json_strings_are_accepted_and_events_after_stop_ignored():
    events = [json.dumps(start()), json.dumps({"type": "message_stop"}), "garbage after stop"]
    assert merged(events).id == "msg_s"


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


def test_stream_events_must_be_iterable():
    with pytest.raises(DecodeError, match="must be iterable"):
        list(codec.decode_stream(3))


# -------------------------------------------------------------------------------- decode_error


def test_error_bodies_map_to_exception_classes_and_messages():
    body = {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: x"},
        "request_id": "req_1",
    }
    err = codec.decode_error(404, body)
    assert isinstance(err, NotFoundError)
    assert err.message == "model: x"
    assert str(err) == "model: x (anthropic 404)"
    assert err.body == body


def test_context_length_error_from_400():
    body = json.dumps(
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "prompt is too long: 3333404 tokens > 200000 maximum",
            },
        }
    )
    err = codec.decode_error(400, body.encode())
    assert isinstance(err, ContextLengthError)
    assert err.message.startswith("prompt is too long")


def test_529_is_overloaded_and_rate_limit_reads_retry_after():
    assert isinstance(
        codec.decode_error(
            529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        ),
        OverloadedError,
    )
    err = codec.decode_error(
        429,
        {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
        {"Retry-After": "17"},
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 17.0


def test_overloaded_error_type_wins_over_a_500_status():
    err = codec.decode_error(
        500, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )
    assert isinstance(err, OverloadedError)
    assert err.status_code == 500


def test_non_json_and_empty_error_bodies():
    err = codec.decode_error(413, b"<html><body>413 Request Entity Too Large</body></html>")
    assert isinstance(err, ContextLengthError)
    assert "413 Request Entity Too Large" in err.message
    empty = codec.decode_error(502, None)
    assert isinstance(empty, ServerError)
    assert empty.message == "HTTP 502 with no error body"
    assert codec.decode_error(500, {"error": "plain string"}).message == "plain string"
