"""ConverseStream events: decoding a stream as the API sends it, and rendering one."""

from __future__ import annotations

import pytest

from myna.codecs import bedrock_converse as codec
from myna.exceptions import (
    BadRequestError,
    DecodeError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    UserError,
)
from myna.messages import AIMessage, merge_chunks


def delta(index, **delta):
    return {"contentBlockDelta": {"contentBlockIndex": index, "delta": delta}}


START = {"messageStart": {"role": "assistant"}}
END = [
    {"messageStop": {"stopReason": "end_turn"}},
    {
        "metadata": {
            "usage": {"inputTokens": 10, "outputTokens": 3, "totalTokens": 13},
            "metrics": {"latencyMs": 250},
        }
    },
]


def merged(events):
    return merge_chunks(list(codec.decode_stream(events))).to_message()


def test_text_stream_as_the_api_sends_it():
    events = [
        START,
        delta(0, text="Hel"),
        delta(0, text="lo"),
        {"contentBlockStop": {"contentBlockIndex": 0}},
        *END,
    ]
    chunks = list(codec.decode_stream(events))
    assert [c.content for c in chunks] == ["", "Hel", "lo", "", ""]
    assert chunks[-1].chunk_position == "last"
    reply = merge_chunks(chunks).to_message()
    assert reply.content == "Hello"
    assert reply.usage_metadata == {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}
    assert reply.response_metadata == {
        "model_provider": "bedrock",
        "finish_reason": "stop",
        "stop_reason": "end_turn",
        "metrics": {"latencyMs": 250},
    }


def test_tool_call_stream_with_argument_fragments():
    events = [
        START,
        delta(0, text="Checking."),
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {
            "contentBlockStart": {
                "contentBlockIndex": 1,
                "start": {"toolUse": {"toolUseId": "tooluse_a", "name": "get_weather"}},
            }
        },
        delta(1, toolUse={"input": '{"city": "Pa'}),
        delta(1, toolUse={"input": 'ris"}'}),
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {
            "contentBlockStart": {
                "contentBlockIndex": 2,
                "start": {"toolUse": {"toolUseId": "tooluse_b", "name": "get_time"}},
            }
        },
        {"contentBlockStop": {"contentBlockIndex": 2}},
        {"messageStop": {"stopReason": "tool_use"}},
        END[1],
    ]
    reply = merged(events)
    assert reply.content == "Checking."
    assert reply.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "tooluse_a", "type": "tool_call"},
        {"name": "get_time", "args": {}, "id": "tooluse_b", "type": "tool_call"},
    ]
    assert reply.response_metadata["finish_reason"] == "tool_calls"


def test_reasoning_stream_with_signature_and_redaction():
    events = [
        START,
        delta(0, reasoningContent={"text": "Let me "}),
        delta(0, reasoningContent={"text": "think."}),
        delta(0, reasoningContent={"signature": "EqQBCkYI"}),
        {"contentBlockStop": {"contentBlockIndex": 0}},
        delta(1, reasoningContent={"redactedContent": "c2VjcmV0"}),
        {"contentBlockStop": {"contentBlockIndex": 1}},
        delta(2, text="42"),
        {"contentBlockStop": {"contentBlockIndex": 2}},
        *END,
    ]
    assert merged(events).content == [
        {"type": "reasoning", "reasoning": "Let me think.", "extras": {"signature": "EqQBCkYI"}},
        {"type": "reasoning", "extras": {"redacted": "c2VjcmV0"}},
        {"type": "text", "text": "42"},
    ]


def test_citation_deltas_become_annotations():
    citation = {
        "title": "Doc",
        "sourceContent": [{"text": "src"}],
        "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 3}},
    }
    events = [START, delta(0, citation=citation), delta(0, text="Fact."), *END]
    [block] = merged(events).content
    assert block["text"] == "Fact."
    assert block["annotations"] == [
        {"type": "citation", "title": "Doc", "cited_text": "src", "extras": citation}
    ]
    # a citation after text already streamed as plain strings keeps the text, in two blocks
    late = merged([START, delta(0, text="Fact."), delta(0, citation=citation), *END]).content
    assert "".join(b["text"] for b in late) == "Fact."
    assert late[-1]["annotations"][0]["title"] == "Doc"


def test_payload_padding_and_unknown_events_are_ignored():
    events = [
        START,
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "ok"}, "p": "abcdef"}},
        {"someNewEvent": {}},
        delta(0, futureDelta={"x": 1}),
        *END,
    ]
    assert merged(events).content == "ok"


def test_json_text_events_are_parsed():
    assert (
        merged(['{"messageStart": {"role": "assistant"}}', delta(0, text="hi"), *END]).content
        == "hi"
    )


@pytest.mark.parametrize(
    ("event", "cls", "message"),
    [
        (
            {"throttlingException": {"message": "Too many tokens, please wait."}},
            RateLimitError,
            "Too many tokens, please wait.",
        ),
        (
            {"serviceUnavailableException": {"message": "Service unavailable"}},
            OverloadedError,
            "Service unavailable",
        ),
        (
            {"validationException": {"message": "Input is malformed"}},
            BadRequestError,
            "Input is malformed",
        ),
        (
            {"modelStreamErrorException": {"message": "Model failed", "originalStatusCode": 500}},
            ServerError,
            "Model failed",
        ),
        ({"internalServerException": {"message": "oops"}}, ServerError, "oops"),
    ],
)
def test_exception_events_raise_provider_errors(event, cls, message):
    with pytest.raises(cls) as info:
        list(codec.decode_stream([START, delta(0, text="partial"), event]))
    assert info.value.message == message
    assert info.value.status_code is None
    assert info.value.provider == "bedrock"


def test_a_stream_without_metadata_is_interrupted_with_the_partial_reply():
    with pytest.raises(
        StreamInterruptedError, match="ended after 3 events without its metadata"
    ) as info:
        list(codec.decode_stream([START, delta(0, text="Hal"), delta(0, text="f")]))
    assert info.value.partial.text == "Half"
    with pytest.raises(StreamInterruptedError) as empty:
        list(codec.decode_stream([]))
    assert empty.value.partial is None


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        (
            [delta(0, text="x")],
            r"event 0 \(contentBlockDelta\): the stream must open with messageStart",
        ),
        ([START, START], "a second messageStart"),
        ([START, "not json"], "event 1 is not JSON"),
        ([START, {"a": {}, "b": {}}], "must be an object with one key"),
        ([START, {"contentBlockDelta": []}], "the payload must be an object"),
        ([START, delta(-1, text="x")], "contentBlockIndex must be a non-negative integer"),
        ([START, delta(0, text=5)], "delta.text must be a string"),
        ([START, delta(0, toolUse={"input": "{}"})], "no open tool use"),
        (
            [START, delta(0, text="a"), delta(0, reasoningContent={"text": "b"})],
            "a reasoning delta cannot apply to a text block",
        ),
        (
            [
                START,
                {
                    "contentBlockStart": {
                        "contentBlockIndex": 0,
                        "start": {"toolUse": {"name": "f"}},
                    }
                },
            ],
            "needs string 'toolUseId' and 'name'",
        ),
        (
            [
                START,
                delta(0, text="a"),
                {"contentBlockStop": {"contentBlockIndex": 0}},
                {"contentBlockStop": {"contentBlockIndex": 0}},
            ],
            "content block 0 stopped twice",
        ),
        ([START, {"messageStop": {}}], "stopReason must be a string"),
        (
            [START, {"metadata": {"usage": {"inputTokens": -1}}}],
            "usage.inputTokens must be a non-negative",
        ),
    ],
)
def test_malformed_events_are_decode_errors_naming_the_event(events, problem):
    with pytest.raises(DecodeError, match=problem):
        list(codec.decode_stream(events))


def test_events_must_be_iterable():
    with pytest.raises(DecodeError, match="must be iterable"):
        list(codec.decode_stream(5))


# ----------------------------------------------------------------------------- render_stream


def test_render_stream_exact_events():
    message = AIMessage(
        "Hi there",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "tooluse_1"}],
        usage_metadata={"input_tokens": 5, "output_tokens": 2, "total_tokens": 7},
    )
    assert list(codec.render_stream(message)) == [
        START,
        delta(0, text="Hi "),
        delta(0, text="there"),
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {
            "contentBlockStart": {
                "contentBlockIndex": 1,
                "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "f"}},
            }
        },
        delta(1, toolUse={"input": '{"a": '}),
        delta(1, toolUse={"input": "1}"}),
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {"messageStop": {"stopReason": "tool_use"}},
        {
            "metadata": {
                "usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7},
                "metrics": {"latencyMs": 0},
            }
        },
    ]


def test_render_stream_of_reasoning_and_images_decodes_back():
    message = AIMessage(
        [
            {"type": "reasoning", "reasoning": "hmm", "extras": {"signature": "sig"}},
            {"type": "image", "base64": "iVBORw0K", "mime_type": "image/png"},
            {
                "type": "server_tool_call",
                "id": "s1",
                "name": "search",
                "args": {"q": "x"},
                "extras": {"type": "server_tool_use"},
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "s1",
                "status": "success",
                "output": [{"text": "r"}],
            },
        ]
    )
    events = list(codec.render_stream(message, chunking="chars"))
    assert {
        "contentBlockStart": {"contentBlockIndex": 1, "start": {"image": {"format": "png"}}}
    } in events
    assert merged(events).content == message.content


def test_render_stream_refuses_blocks_a_stream_cannot_carry():
    message = AIMessage([{"type": "file", "base64": "JVBE", "mime_type": "application/pdf"}])
    with pytest.raises(UserError, match="ConverseStream cannot carry a 'file' block"):
        list(codec.render_stream(message))


def test_render_stream_error_and_frame_encoding():
    error = RateLimitError("Too many requests", status_code=429)
    event = codec.render_stream_error(error)
    assert event == {"throttlingException": {"message": "Too many requests"}}
    [(headers, payload)] = codec.EventStreamDecoder().feed(codec.encode_stream_event(event))
    assert headers[":message-type"] == "exception"
    with pytest.raises(RateLimitError, match="Too many requests"):
        list(codec.decode_stream([START, codec.event_from_frame(headers, payload)]))
    with pytest.raises(UserError, match="one-key dict"):
        codec.encode_stream_event({"a": 1, "b": 2})
