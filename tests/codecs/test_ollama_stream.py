"""Ollama streams: decode_stream (``/api/chat`` NDJSON lines -> chunks)."""

from __future__ import annotations

import json

import pytest

from myna.codecs import ollama
from myna.exceptions import (
    DecodeError,
    ProviderError,
    ServerError,
    StreamInterruptedError,
)
from myna.messages import (
    merge_chunks,
)

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def line(content="", *, thinking=None, done=False, **extra):
    message = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinking"] = thinking
    if "tool_calls" in extra:
        message["tool_calls"] = extra.pop("tool_calls")
    return {
        "model": "qwen3",
        "created_at": "2026-01-01T00:00:00Z",
        "message": message,
        "done": done,
        **extra,
    }


def final(**extra):
    fields = {
        "done_reason": "stop",
        "prompt_eval_count": 10,
        "eval_count": 4,
        "total_duration": 1000,
    }
    fields.update(extra)
    return line(done=True, **fields)


def merged(events):
    return merge_chunks(list(ollama.decode_stream(events))).to_message()


def test_decode_stream_plain_text_merges_into_a_string():
    chunks = list(ollama.decode_stream([line("Hel"), line("lo"), line(""), final()]))
    assert [c.content for c in chunks] == ["Hel", "lo", ""]  # the empty line is skipped
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata == {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}
    msg = merge_chunks(chunks).to_message()
    assert msg.content == "Hello"
    assert msg.response_metadata["finish_reason"] == "stop"
    assert msg.response_metadata["total_duration"] == 1000
    assert msg.response_metadata["model_name"] == "qwen3"


def test_decode_stream_thinking_then_text_gives_two_blocks():
    events = [line(thinking="Let "), line(thinking="me."), line("4"), line("2"), final()]
    chunks = list(ollama.decode_stream(events))
    assert chunks[0].content == [{"type": "reasoning", "reasoning": "Let ", "index": 0}]
    assert chunks[2].content == [{"type": "text", "text": "4", "index": 1}]
    assert chunks[-1].content == []
    assert merge_chunks(chunks).to_message().content == [
        {"type": "reasoning", "reasoning": "Let me."},
        {"type": "text", "text": "42"},
    ]


def test_decode_stream_line_with_thinking_and_text():
    chunk = next(ollama.decode_stream([line("a", thinking="t")]))
    assert chunk.content == [
        {"type": "reasoning", "reasoning": "t", "index": 0},
        {"type": "text", "text": "a", "index": 1},
    ]


def test_decode_stream_tool_calls_arrive_whole_with_ids_numbered_across_lines():
    events = [
        line(tool_calls=[{"function": {"name": "a", "arguments": {"x": 1}}}]),
        line(tool_calls=[{"function": {"name": "b", "arguments": {"y": "z"}}}]),
        final(),
    ]
    chunks = list(ollama.decode_stream(events))
    assert chunks[0].tool_call_chunks == [
        {"name": "a", "args": '{"x": 1}', "id": "call_0", "index": 0, "type": "tool_call_chunk"}
    ]
    assert chunks[0].tool_calls == [
        {"name": "a", "args": {"x": 1}, "id": "call_0", "type": "tool_call"}
    ]
    msg = merge_chunks(chunks).to_message()
    assert [(c["name"], c["args"], c["id"]) for c in msg.tool_calls] == [
        ("a", {"x": 1}, "call_0"),
        ("b", {"y": "z"}, "call_1"),
    ]
    assert msg.response_metadata["finish_reason"] == "tool_calls"


def test_decode_stream_logprobs_concatenate():
    events = [
        line("a", logprobs=[{"token": "a", "logprob": -1.0}]),
        line("b", logprobs=[{"token": "b", "logprob": -2.0}]),
        final(),
    ]
    assert merged(events).response_metadata["logprobs"] == [
        {"token": "a", "logprob": -1.0},
        {"token": "b", "logprob": -2.0},
    ]


def test_decode_stream_accepts_raw_ndjson_lines():
    events = [json.dumps(line("Hi")), json.dumps(final()).encode()]
    assert merged(events).content == "Hi"


def test_decode_stream_stops_at_done():
    assert merged([line("a"), final(), line("ignored")]).content == "a"


def test_decode_stream_error_line_raises_with_partial():
    events = [line("Hel"), {"error": "an error was encountered while running the model"}]
    with pytest.raises(ProviderError) as exc:
        list(ollama.decode_stream(events))
    assert type(exc.value) is ProviderError
    assert exc.value.message == "an error was encountered while running the model"
    assert exc.value.provider == "ollama" and exc.value.status_code is None
    assert exc.value.partial.content == "Hel"


def test_decode_stream_error_line_with_status_uses_its_class():
    with pytest.raises(ServerError, match="out of memory"):
        list(ollama.decode_stream([{"error": "out of memory", "status": 500}]))


def test_decode_stream_without_done_raises_stream_interrupted():
    with pytest.raises(StreamInterruptedError) as exc:
        list(ollama.decode_stream([line(thinking="hmm"), line("Par")]))
    assert "ended after 2 chunks without its final 'done: true' line" in str(exc.value)
    assert exc.value.partial.content == [
        {"type": "reasoning", "reasoning": "hmm", "index": 0},
        {"type": "text", "text": "Par", "index": 1},
    ]


def test_decode_stream_empty_raises_with_no_partial():
    with pytest.raises(StreamInterruptedError, match="ended before any content") as exc:
        list(ollama.decode_stream([]))
    assert exc.value.partial is None


@pytest.mark.parametrize(
    "event, message",
    [
        ("not json", 'Ollama stream event #1 is not JSON: "not json"'),
        (b"\xff\xfe", "Ollama stream event #1 is not UTF-8"),
        ([1], "Ollama stream event #1 is not a JSON object: [1]"),
        ("[DONE]", "Ollama stream event #1 is not JSON"),
        ({"message": "hi"}, "Ollama stream event #1 has a 'message' that is not an object"),
        ({"message": {}, "done": "yes"}, "has a 'done' that is not a boolean"),
        ({"message": {"content": 1}}, "has message.content of type int"),
        ({"message": {"images": [PNG]}}, "carries images, which Ollama chat streams never send"),
        ({"message": {"tool_calls": [5]}}, "has tool_calls[0] without a 'function' object"),
        (
            {"message": {}, "done": True, "prompt_eval_count": True},
            "prompt_eval_count of type bool",
        ),
    ],
)
def test_decode_stream_malformed_event_names_index_and_excerpt(event, message):
    with pytest.raises(DecodeError) as exc:
        list(ollama.decode_stream([line("ok"), event]))
    assert message in str(exc.value)


def test_decode_stream_final_line_may_carry_content_and_tool_calls():
    events = [final(tool_calls=[{"function": {"name": "f", "arguments": {}}}])]
    msg = merged(events)
    assert msg.tool_calls[0]["name"] == "f" and msg.tool_calls[0]["id"] == "call_0"
    assert msg.usage_metadata["total_tokens"] == 14


def test_decode_stream_null_error_field_is_not_an_error():
    assert merged([line("ok", error=None), final()]).content == "ok"
