"""Streams of the Chat Completions codec: decode_stream / adecode_stream and render_stream."""

import pytest

from myna.codecs import openai_chat
from myna.exceptions import (
    BadRequestError,
    DecodeError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from myna.messages import AIMessage, merge_chunks


def chunk(delta=None, finish=None, **extra):
    event = {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish}],
    }
    event.update(extra)
    return event


def usage_chunk(prompt=9, completion=2, **details):
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        **details,
    }
    return {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "model": "gpt-4.1-mini",
        "choices": [],
        "usage": usage,
    }


def merged(events):
    return merge_chunks(list(openai_chat.decode_stream(events))).to_message()


async def amerged(events):
    async def source():
        for event in events:
            yield event

    return merge_chunks([c async for c in openai_chat.adecode_stream(source())]).to_message()


TEXT_STREAM = [
    chunk({"role": "assistant", "content": "", "refusal": None}),
    chunk({"content": "Hel"}),
    chunk({"content": "lo"}),
    chunk({}, "stop"),
    usage_chunk(prompt_tokens_details={"cached_tokens": 3}),
    "[DONE]",
]


def test_text_stream_with_usage_chunk():
    chunks = list(openai_chat.decode_stream(TEXT_STREAM))
    assert [c.content for c in chunks] == ["Hel", "lo", ""]
    assert chunks[-1].chunk_position == "last"
    message = merge_chunks(chunks).to_message()
    assert message.content == "Hello"
    assert message.id == "chatcmpl-s"
    assert message.usage_metadata == {
        "input_tokens": 9,
        "output_tokens": 2,
        "total_tokens": 11,
        "input_token_details": {"cache_read": 3},
    }
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.response_metadata["model_name"] == "gpt-4.1-mini"
    assert message.response_metadata["model_provider"] == "openai"


async def test_async_text_stream_matches_sync():
    assert await amerged(TEXT_STREAM) == merged(TEXT_STREAM)


def test_parallel_tool_call_fragments_interleaved():
    events = [
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": '{"tz"'},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": ': "UTC"}'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    ]
    message = merged(events)
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_a", "type": "tool_call"},
        {"name": "get_time", "args": {"tz": "UTC"}, "id": "call_b", "type": "tool_call"},
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert message.usage_metadata is None


def test_tool_calls_without_ids_or_indexes():
    events = [
        # no id and no index at all: one call, id made up from its position
        chunk({"tool_calls": [{"function": {"name": "f", "arguments": '{"a"'}}]}),
        chunk({"tool_calls": [{"function": {"arguments": ": 1}"}}]}),
        # the id repeated on every fragment, no index
        chunk({"tool_calls": [{"id": "x1", "function": {"name": "g", "arguments": "{"}}]}),
        chunk({"tool_calls": [{"id": "x1", "function": {"arguments": "}"}}]}),
        # an index reused for a new call (a new id): a new call, not a continuation
        chunk(
            {"tool_calls": [{"index": 0, "id": "y1", "function": {"name": "h", "arguments": "{}"}}]}
        ),
        chunk(
            {"tool_calls": [{"index": 0, "id": "y2", "function": {"name": "k", "arguments": "{}"}}]}
        ),
        "[DONE]",
    ]
    message = merged(events)
    assert [(c["name"], c["id"], c["args"]) for c in message.tool_calls] == [
        ("f", "call_0", {"a": 1}),
        ("g", "x1", {}),
        ("h", "y1", {}),
        ("k", "y2", {}),
    ]


def test_truncated_tool_arguments_become_an_invalid_tool_call():
    events = [
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "c", "function": {"name": "f", "arguments": '{"a": '}}
                ]
            }
        ),
        chunk({}, "length"),
        "[DONE]",
    ]
    message = merged(events)
    assert message.tool_calls == []
    assert message.invalid_tool_calls[0]["args"] == '{"a": '
    assert message.response_metadata["finish_reason"] == "length"


def test_deepseek_reasoning_then_content_with_usage_on_the_finish_chunk():
    usage = {
        "prompt_tokens": 6,
        "completion_tokens": 12,
        "total_tokens": 18,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 8},
        "prompt_cache_hit_tokens": 0,
        "prompt_cache_miss_tokens": 6,
    }
    events = [
        chunk({"role": "assistant", "content": None, "reasoning_content": ""}),
        chunk({"content": None, "reasoning_content": "The user"}),
        chunk({"content": None, "reasoning_content": " greets."}),
        chunk({"content": "Hi", "reasoning_content": None}),
        chunk({"content": "!", "reasoning_content": None}),
        chunk({"content": "", "reasoning_content": None}, "stop", usage=usage),
        "[DONE]",
    ]
    message = merged(events)
    assert message.content == [
        {
            "type": "reasoning",
            "reasoning": "The user greets.",
            "extras": {"field": "reasoning_content"},
        },
        {"type": "text", "text": "Hi!"},
    ]
    assert message.usage_metadata == {
        "input_tokens": 6,
        "output_tokens": 12,
        "total_tokens": 18,
        "input_token_details": {"cache_read": 0},
        "output_token_details": {"reasoning": 8},
    }
    assert message.response_metadata["token_usage"] == usage


def test_openrouter_reasoning_details_then_in_stream_error():
    base = {
        "id": "gen-1",
        "provider": "Minimax",
        "model": "minimax/m2",
        "object": "chat.completion.chunk",
    }
    events = [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "content": "",
                        "reasoning": "We need",
                        "reasoning_details": [
                            {"type": "reasoning.text", "text": "We need", "index": 0}
                        ],
                    },
                    "finish_reason": None,
                    "native_finish_reason": None,
                }
            ],
        },
        {
            **base,
            "error": {"code": 400, "message": "Token limit reached"},
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": None}],
            "usage": {"prompt_tokens": 43, "completion_tokens": 10, "total_tokens": 53},
        },
        "[DONE]",
    ]
    seen = []
    with pytest.raises(BadRequestError) as exc:
        for c in openai_chat.decode_stream(events):
            seen.append(c)
    assert exc.value.message == "Token limit reached"
    assert exc.value.status_code is None
    assert seen[0].content[0]["reasoning"] == "We need"
    assert seen[0].content[0]["extras"]["field"] == "reasoning"


def test_openrouter_reasoning_details_merge():
    events = [
        chunk(
            {
                "reasoning": "a",
                "reasoning_details": [{"type": "reasoning.text", "text": "a", "index": 0}],
            }
        ),
        chunk(
            {
                "reasoning": "b",
                "reasoning_details": [{"type": "reasoning.text", "text": "b", "index": 0}],
            }
        ),
        chunk({"content": "ok"}, "stop", provider="OpenAI"),
        chunk({}, "stop"),
        "[DONE]",
    ]
    events[3]["choices"][0]["native_finish_reason"] = "completed"
    message = merged(events)
    reasoning = message.content[0]
    assert reasoning["reasoning"] == "ab"
    assert reasoning["extras"]["reasoning_details"] == [
        {"type": "reasoning.text", "text": "a", "index": 0},
        {"type": "reasoning.text", "text": "b", "index": 0},
    ]
    assert message.response_metadata["provider"] == "OpenAI"
    assert message.response_metadata["native_finish_reason"] == "completed"


def test_groq_error_event_and_x_groq_usage():
    error = {
        "error": {
            "message": "Tool call validation failed",
            "type": "invalid_request_error",
            "code": "tool_use_failed",
            "failed_generation": "{}",
            "status_code": 400,
        }
    }
    with pytest.raises(BadRequestError, match="Tool call validation failed") as exc:
        list(openai_chat.decode_stream([chunk({"role": "assistant", "content": ""}), error]))
    assert exc.value.body["error"]["failed_generation"] == "{}"

    events = [
        chunk({"role": "assistant", "content": ""}, x_groq={"id": "req_1", "seed": 7}),
        chunk({"content": "ok"}),
        chunk(
            {},
            "stop",
            x_groq={
                "id": "req_1",
                "usage": {
                    "prompt_tokens": 5,
                    "completion_tokens": 1,
                    "total_tokens": 6,
                    "queue_time": 0.1,
                },
            },
        ),
        "[DONE]",
    ]
    message = merged(events)
    assert message.usage_metadata == {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}
    assert message.response_metadata["x_groq"]["seed"] == 7
    assert message.response_metadata["x_groq"]["usage"]["queue_time"] == 0.1


def test_in_stream_error_without_a_status_uses_its_type():
    with pytest.raises(RateLimitError, match="slow"):
        list(openai_chat.decode_stream([{"error": {"message": "slow", "type": "requests"}}]))


def test_azure_prompt_filter_chunk_and_content_filter_finish():
    events = [
        {
            "id": "",
            "object": "",
            "created": 0,
            "model": "",
            "choices": [],
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
        },
        chunk({"content": "Hi"}),
        chunk(
            {},
            "content_filter",
        ),
        "[DONE]",
    ]
    events[2]["choices"][0]["content_filter_results"] = {"hate": {"filtered": True}}
    message = merged(events)
    assert message.content == "Hi"
    meta = message.response_metadata
    assert meta["finish_reason"] == "content_filter"
    assert meta["prompt_filter_results"][0]["prompt_index"] == 0
    assert meta["content_filter_results"] == {"hate": {"filtered": True}}


def test_refusal_audio_and_logprobs_stream():
    token = {"token": "a", "logprob": -0.1, "bytes": [97], "top_logprobs": []}
    events = [
        chunk({"role": "assistant", "content": None, "refusal": None}),
        chunk({"refusal": "I can't"}),
        chunk({"refusal": " help."}),
        chunk({"audio": {"id": "audio_1", "transcript": "He"}}),
        chunk({"audio": {"transcript": "llo", "data": "UklGRiQ"}}),
        chunk({"audio": {"data": "AAAA", "expires_at": 99}}),
        chunk({"content": "a"}),
        chunk({}, "stop"),
        "[DONE]",
    ]
    events[6]["choices"][0]["logprobs"] = {"content": [token], "refusal": None}
    events[7]["choices"][0]["logprobs"] = {"content": [token]}
    message = merged(events)
    assert message.additional_kwargs == {"refusal": "I can't help."}
    assert message.response_metadata["finish_reason"] == "refusal"
    assert message.response_metadata["logprobs"] == {"content": [token, token]}
    audio = [b for b in message.content if b["type"] == "audio"]
    assert audio == [
        {
            "type": "audio",
            "id": "audio_1",
            "base64": "UklGRiQAAAA",
            "mime_type": "audio/wav",
            "extras": {"transcript": "Hello", "expires_at": 99},
        }
    ]


def test_stream_without_done_raises_with_the_partial_reply():
    with pytest.raises(StreamInterruptedError) as exc:
        list(openai_chat.decode_stream(TEXT_STREAM[:3]))
    assert "without 'data: [DONE]'" in str(exc.value)
    assert exc.value.partial.content == "Hello"
    with pytest.raises(StreamInterruptedError) as exc:
        list(openai_chat.decode_stream([]))
    assert exc.value.partial is None


async def test_async_stream_without_done_raises():
    with pytest.raises(StreamInterruptedError) as exc:
        await amerged(TEXT_STREAM[:2])
    assert exc.value.partial.content == "Hel"


def test_stream_stops_reading_at_done():
    def events():
        yield chunk({"content": "x"})
        yield "[DONE]"
        raise AssertionError("read past [DONE]")

    assert merged(events()).content == "x"


def test_string_and_bytes_events():
    events = [
        '{"id": "c", "choices": [{"index": 0, "delta": {"content": "a"}}]}',
        b'{"id": "c", "choices": [{"index": 0, "delta": {"content": "b"}}]}',
        " [DONE] ",
    ]
    assert merged(events).content == "ab"


def test_second_choice_is_ignored():
    event = chunk({"content": "a"})
    event["choices"].append({"index": 1, "delta": {"content": "zzz"}, "finish_reason": None})
    assert merged([event, "[DONE]"]).content == "a"


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        ("not json", "event 1: data: is neither JSON nor [DONE]"),
        (42, "event 1: event: expected an object, got an integer"),
        ({"choices": {"0": {}}}, "event 1: choices: expected an array, got an object"),
        ({"choices": ["x"]}, "event 1: choices[0]: expected an object, got a string"),
        ({"choices": [{"delta": "hi"}]}, "choices[0].delta: expected an object"),
        ({"choices": [{"delta": {"content": 5}}]}, "choices[0].delta.content: expected a string"),
        (
            {"choices": [{"delta": {"tool_calls": [{"index": "0"}]}}]},
            "choices[0].delta.tool_calls[0].index: expected an integer, got a string",
        ),
        (
            {"choices": [{"delta": {"tool_calls": [{"function": {"arguments": 3}}]}}]},
            "tool_calls[0].function.arguments: expected a string",
        ),
        (
            {"choices": [], "usage": {"prompt_tokens": [1]}},
            "usage.prompt_tokens: expected an integer, got an array",
        ),
        ({"choices": [{"delta": {}, "finish_reason": 1}]}, "finish_reason: expected a string"),
        ({"error": 7}, "error: expected an object, got an integer"),
        ({"id": 5, "choices": []}, "event 1: id: expected a string"),
    ],
    ids=[
        "not-json",
        "int",
        "choices-dict",
        "choice-str",
        "delta-str",
        "content-int",
        "index-str",
        "arguments-int",
        "usage-list",
        "finish-int",
        "error-int",
        "id-int",
    ],
)
def test_malformed_events_raise_decode_error(event, needle):
    with pytest.raises(DecodeError) as exc:
        list(openai_chat.decode_stream([chunk({"content": "ok"}), event, "[DONE]"]))
    assert "Malformed openai-chat stream event" in str(exc.value)
    assert needle in str(exc.value)


def test_stream_decoder_feed_and_close():
    decoder = openai_chat.StreamDecoder()
    assert [c.content for c in decoder.feed(chunk({"content": "a"}))] == ["a"]
    assert decoder.feed(chunk({})) == []
    with pytest.raises(StreamInterruptedError):
        decoder.close()
    last = decoder.feed("[DONE]")
    assert decoder.done and last[0].chunk_position == "last"
    assert decoder.feed(chunk({"content": "late"})) == []
    assert decoder.close() == []
    assert decoder.events == 3


# ---------------------------------------------------------------- render_stream


def test_render_stream_wire_shape():
    message = AIMessage(
        "Hi there",
        id="chatcmpl-r",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "call_1"}],
        usage_metadata={"input_tokens": 5, "output_tokens": 3, "total_tokens": 8},
        response_metadata={"created": 7, "model_name": "gpt-x"},
    )
    events = list(openai_chat.render_stream(message, chunking="words"))
    head = {
        "id": "chatcmpl-r",
        "object": "chat.completion.chunk",
        "created": 7,
        "model": "gpt-x",
        "service_tier": "default",
        "system_fingerprint": "fp_myna",
    }

    def ev(delta, finish=None):
        return {
            **head,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    assert events == [
        ev({"role": "assistant", "content": "", "refusal": None}),
        ev({"content": "Hi "}),
        ev({"content": "there"}),
        ev(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a": '},
                    }
                ]
            }
        ),
        ev({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        ev({}, "tool_calls"),
        {
            **head,
            "choices": [],
            "usage": {
                "prompt_tokens": 5,
                "completion_tokens": 3,
                "total_tokens": 8,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
        },
        "[DONE]",
    ]
    back = merged(events)
    assert back.content == "Hi there"
    assert back.tool_calls == message.tool_calls
    assert {k: back.usage_metadata[k] for k in message.usage_metadata} == message.usage_metadata


def test_render_stream_usage_follows_the_request():
    message = AIMessage(
        "x", usage_metadata={"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    )
    asked = list(
        openai_chat.render_stream(message, {"model": "m", "stream": True, "stream_usage": True})
    )
    assert asked[-2]["choices"] == [] and asked[-2]["usage"]["total_tokens"] == 2
    assert all(e["usage"] is None for e in asked[:-2])
    not_asked = list(openai_chat.render_stream(message, {"model": "m", "stream": True}))
    assert all("usage" not in e for e in not_asked[:-1])
    assert merged(not_asked).usage_metadata is None
    assert not_asked[0]["model"] == "m"


def test_render_stream_reasoning_field_refusal_and_audio_round_trip():
    message = AIMessage(
        [
            {
                "type": "reasoning",
                "reasoning": "think hard",
                "extras": {
                    "field": "reasoning",
                    "reasoning_details": [
                        {"type": "reasoning.text", "text": "think hard", "index": 0}
                    ],
                },
            },
            {"type": "text", "text": "done now"},
            {
                "type": "audio",
                "id": "a1",
                "base64": "UklGRiQ",
                "extras": {"transcript": "done now"},
            },
        ],
        additional_kwargs={"refusal": "not really"},
    )
    events = list(openai_chat.render_stream(message, chunking="chars"))
    fields = {k for e in events[:-1] for k in e["choices"][0]["delta"]}
    assert {"reasoning", "reasoning_details", "content", "audio", "refusal"} <= fields
    assert "reasoning_content" not in fields
    back = merged(events)
    assert back.content == [
        message.content[0],
        message.content[1],
        {**message.content[2], "mime_type": "audio/wav"},
    ]
    assert back.additional_kwargs == {"refusal": "not really"}
    assert back.response_metadata["finish_reason"] == "refusal"


def test_render_stream_refuses_an_image_before_any_event():
    stream = openai_chat.render_stream(AIMessage([{"type": "image", "url": "https://x.test"}]))
    with pytest.raises(Exception, match="An image block in the reply cannot be sent"):
        next(stream)


def test_custom_tool_call_fragments_are_kept_whole():
    events = [
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "ct_1",
                        "type": "custom",
                        "custom": {"name": "grep", "input": "foo"},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "custom": {"input": " bar"}}]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    ]
    message = merged(events)
    assert message.content == [
        {
            "type": "non_standard",
            "value": {
                "type": "custom",
                "id": "ct_1",
                "custom": {"name": "grep", "input": "foo bar"},
            },
        }
    ]
    assert message.tool_calls == []
    # and the server side streams it back the same way
    back = merged(list(openai_chat.render_stream(message)))
    assert back.content == message.content


def test_empty_in_stream_error_still_explains_itself():
    with pytest.raises(ServerError) as exc:
        list(openai_chat.decode_stream([{"error": {}}]))
    assert exc.value.message == '{"error": {}}'


def test_render_stream_opens_a_tool_call_reply_with_null_content():
    calls = AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "call_1"}])
    first = next(iter(openai_chat.render_stream(calls)))["choices"][0]["delta"]
    assert first == {"role": "assistant", "content": None, "refusal": None}
    text = list(openai_chat.render_stream(AIMessage("Hi", tool_calls=calls.tool_calls)))
    assert text[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert merged(list(openai_chat.render_stream(calls))).tool_calls == calls.tool_calls
