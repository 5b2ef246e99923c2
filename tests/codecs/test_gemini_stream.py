"""Gemini streams: decode_stream (``streamGenerateContent?alt=sse`` events -> chunks)."""

from __future__ import annotations

import json

import pytest

from myna.codecs import gemini
from myna.exceptions import (
    DecodeError,
    OverloadedError,
    StreamInterruptedError,
)
from myna.messages import merge_chunks

PNG = "iVBORw0KGgo="


def merged(events):
    return merge_chunks(list(gemini.decode_stream(events))).to_message()


def event(parts, *, finish=None, usage=None, **extra):
    candidate = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", "responseId": "r1"}
    if usage:
        out["usageMetadata"] = usage
    out.update(extra)
    return out


def test_stream_text_usage_taken_once_from_last_event():
    events = [
        event([{"text": "The"}], usage={"promptTokenCount": 15, "totalTokenCount": 15}),
        event([{"text": " capital"}], usage={"promptTokenCount": 15, "totalTokenCount": 15}),
        event(
            [{"text": " is Paris."}],
            finish="STOP",
            usage={"promptTokenCount": 13, "candidatesTokenCount": 8, "totalTokenCount": 21},
        ),
    ]
    chunks = list(gemini.decode_stream(events))
    assert [c.content for c in chunks] == ["The", " capital", " is Paris.", ""]
    assert [c.usage_metadata for c in chunks[:-1]] == [None, None, None]
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata == {"input_tokens": 13, "output_tokens": 8, "total_tokens": 21}
    msg = merge_chunks(chunks).to_message()
    assert msg.content == "The capital is Paris."
    assert msg.usage_metadata == {"input_tokens": 13, "output_tokens": 8, "total_tokens": 21}
    assert msg.response_metadata["finish_reason"] == "stop"
    assert msg.id == "r1"


def test_stream_thoughts_then_text_then_signature_merge_into_blocks():
    events = [
        event([{"text": "**Plan** ", "thought": True}]),
        event([{"text": "more", "thought": True}]),
        event([{"text": '{"a":'}]),
        event([{"text": "1}"}]),
        event([{"text": "", "thoughtSignature": "SIG"}], finish="STOP"),
    ]
    msg = merged(events)
    assert msg.content == [
        {"type": "reasoning", "reasoning": "**Plan** more"},
        {"type": "text", "text": '{"a":1}', "extras": {"signature": "SIG"}},
    ]


def test_stream_text_then_image_keeps_the_text_in_one_block():
    events = [
        event([{"text": "Here "}]),
        event([{"text": "it is:"}]),
        event([{"inlineData": {"mimeType": "image/png", "data": PNG}}], finish="STOP"),
    ]
    assert merged(events).content == [
        {"type": "text", "text": "Here it is:"},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
    ]


def test_stream_gemini3_plain_text_with_trailing_signature_stays_a_string():
    events = [
        event([{"text": "Hello"}]),
        event([{"text": "", "thoughtSignature": "SIG"}], finish="STOP"),
    ]
    msg = merged(events)
    assert msg.content == "Hello"
    assert msg.additional_kwargs == {"text_thought_signature": "SIG"}


def test_stream_function_calls_arrive_whole_with_signatures():
    events = [
        event([{"functionCall": {"name": "a", "args": {"x": 1}}, "thoughtSignature": "S"}]),
        event([{"functionCall": {"name": "b", "args": {}}}, {"text": ""}], finish="STOP"),
    ]
    chunks = list(gemini.decode_stream(events))
    assert chunks[0].tool_call_chunks == [
        {"name": "a", "args": '{"x": 1}', "id": "call_0", "index": 0, "type": "tool_call_chunk"}
    ]
    msg = merge_chunks(chunks).to_message()
    assert msg.tool_calls == [
        {"name": "a", "args": {"x": 1}, "id": "call_0", "type": "tool_call"},
        {"name": "b", "args": {}, "id": "call_1", "type": "tool_call"},
    ]
    assert msg.additional_kwargs == {"thought_signatures": {"call_0": "S"}}
    assert msg.response_metadata["finish_reason"] == "tool_calls"


def test_stream_logprobs_concatenate_across_events():
    first = event([{"text": "2"}])
    first["candidates"][0]["logprobsResult"] = {"chosenCandidates": [{"token": "2"}]}
    last = event([{"text": "+2"}], finish="STOP")
    last["candidates"][0]["logprobsResult"] = {"chosenCandidates": [{"token": "+2"}]}
    msg = merged([first, last])
    assert msg.response_metadata["logprobs"] == {
        "chosenCandidates": [{"token": "2"}, {"token": "+2"}]
    }


def test_stream_accepts_json_text_events_and_a_whole_array():
    events = [json.dumps(event([{"text": "a"}])), [event([{"text": "b"}], finish="STOP")]]
    assert merged(events).content == "ab"


def test_stream_blocked_prompt_finishes():
    msg = merged([{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "responseId": "r"}])
    assert msg.response_metadata["finish_reason"] == "content_filter"


def test_stream_without_finish_reason_is_interrupted_with_partial():
    events = [event([{"text": "Hel"}]), event([{"text": "lo"}])]
    with pytest.raises(StreamInterruptedError) as info:
        list(gemini.decode_stream(events))
    assert "Gemini stream ended after 2 events without a finishReason" in str(info.value)
    assert info.value.partial.content == "Hello"
    with pytest.raises(StreamInterruptedError) as info:
        list(gemini.decode_stream([]))
    assert info.value.partial is None


def test_stream_error_event_raises_provider_error_without_status():
    events = [
        event([{"text": "a"}]),
        {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}},
    ]
    with pytest.raises(OverloadedError) as info:
        list(gemini.decode_stream(events))
    assert info.value.message == "The model is overloaded."
    assert info.value.status_code is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (42, "Gemini stream event 1: must be a JSON object (a GenerateContentResponse); got 42"),
        ("{not json", 'Gemini stream event 1: is not JSON; got "{not json"'),
        (
            {"candidates": [{"content": {"parts": "x"}}]},
            "Gemini stream event 1: content.parts must be a list",
        ),
        (
            {"candidates": [{"content": {"parts": [{"inlineData": {"data": 5}}]}}]},
            "Gemini stream event 1 part 0: inlineData.data must be a str",
        ),
        (
            {"candidates": [{"finishReason": ["STOP"]}]},
            "Gemini stream event 1: finishReason must be a string",
        ),
    ],
)
def test_stream_malformed_event_names_its_index(bad, message):
    with pytest.raises(DecodeError) as info:
        list(gemini.decode_stream([event([{"text": "a"}]), bad]))
    assert message in str(info.value)
