"""Client side of the Ollama codec: encode_request, decode_response, decode_error."""

from __future__ import annotations

import json

import pytest

from myna.codecs import ollama
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    DecodeError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    UserError,
)
from myna.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


JPEG = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U"


def encode(messages, **params):
    params.setdefault("model", "llama3.2")
    return ollama.encode_request(messages, params)


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


def test_encode_all_roles_exact_wire_shape():
    messages = [
        SystemMessage("Be brief."),
        HumanMessage("Weather in Paris?"),
        AIMessage(
            [{"type": "reasoning", "reasoning": "Use the tool."}, {"type": "text", "text": ""}],
            tool_calls=[{"name": "get_w", "args": {"city": "Paris"}, "id": "call_ab"}],
        ),
        ToolMessage('{"t": 21}', tool_call_id="call_ab"),
    ]
    body = encode(messages)
    assert body == {
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "thinking": "Use the tool.",
                "tool_calls": [
                    {"id": "call_ab", "function": {"name": "get_w", "arguments": {"city": "Paris"}}}
                ],
            },
            {
                "role": "tool",
                "content": '{"t": 21}',
                "tool_name": "get_w",
                "tool_call_id": "call_ab",
            },
        ],
        "stream": False,
    }


def test_encode_accepts_openai_style_dicts_and_strings():
    body = encode([{"role": "user", "content": "hi"}])
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert encode("hello")["messages"] == [{"role": "user", "content": "hello"}]


def test_encode_tool_message_name_wins_over_lookup():
    body = encode([ToolMessage("42", tool_call_id="c9", name="calc")])
    assert body["messages"] == [
        {"role": "tool", "content": "42", "tool_name": "calc", "tool_call_id": "c9"}
    ]


def test_encode_tool_message_without_known_name_omits_tool_name():
    body = encode([ToolMessage("42", tool_call_id="c9")])
    assert body["messages"] == [{"role": "tool", "content": "42", "tool_call_id": "c9"}]


def test_encode_ai_tool_call_without_id_and_invalid_calls_skipped():
    msg = AIMessage(
        "",
        tool_calls=[{"name": "f", "args": {}, "id": None}],
        invalid_tool_calls=[
            {"name": "g", "args": "{oops", "id": "x", "error": "bad", "type": "invalid_tool_call"}
        ],
    )
    assert encode([msg])["messages"] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "f", "arguments": {}}}],
        }
    ]


def test_encode_reasoning_content_from_additional_kwargs():
    msg = AIMessage("Paris.", additional_kwargs={"reasoning_content": "Capital of France."})
    assert encode([msg])["messages"][0] == {
        "role": "assistant",
        "content": "Paris.",
        "thinking": "Capital of France.",
    }


def test_encode_images_from_every_block_style():
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{JPEG}"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "url": f"data:image/png;base64,{PNG}"},
    ]
    assert encode([HumanMessage(content)])["messages"] == [
        {"role": "user", "content": "What is this?", "images": [PNG, JPEG, PNG, PNG]}
    ]


def test_encode_several_user_text_parts_join_with_newlines():
    body = encode([HumanMessage(["first", {"type": "text", "text": "second"}])])
    assert body["messages"][0]["content"] == "first\nsecond"


@pytest.mark.parametrize(
    "block, expected",
    [
        (
            {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
            "messages[0] (HumanMessage) block #1 is an image URL (https://x.test/cat.png); "
            "Ollama's /api/chat takes images only as base64 data.",
        ),
        (
            {"type": "image", "file_id": "file-1"},
            "block #1 is an image file_id; Ollama's /api/chat takes images only as base64 data",
        ),
        (
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
            "block #1 is a 'audio' block, which the Ollama protocol cannot carry "
            "(/api/chat takes text and base64 images); transcribe the audio first",
        ),
        (
            {"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"},
            "block #1 is a 'file' block, which the Ollama protocol cannot carry",
        ),
        (
            {"type": "custom_thing", "x": 1},
            "block #1 is a 'non_standard' block, which the Ollama protocol cannot carry",
        ),
    ],
    ids=["image-url", "image-file-id", "audio", "pdf", "non-standard"],
)
def test_encode_inputs_ollama_cannot_carry_raise_user_error(block, expected):
    with pytest.raises(UserError) as exc:
        encode([HumanMessage(["look", block])])
    assert expected in str(exc.value)


def test_encode_image_url_error_says_what_to_send_instead():
    with pytest.raises(UserError, match=r"Download the image and pass \{'type': 'image', 'base64'"):
        encode([HumanMessage([{"type": "image", "url": "http://x.test/a.jpg"}])])


def test_encode_reasoning_in_a_user_message_is_refused():
    with pytest.raises(
        UserError, match="'reasoning' block, which the Ollama protocol cannot carry"
    ):
        encode([HumanMessage([{"type": "reasoning", "reasoning": "hmm"}])])


def test_encode_requires_model():
    with pytest.raises(UserError, match=r"params\['model'\] is required for Ollama"):
        ollama.encode_request([HumanMessage("hi")], {})


def test_encode_sampling_goes_into_options():
    body = encode(
        [HumanMessage("hi")],
        temperature=0.2,
        top_p=0.9,
        max_tokens=256,
        seed=7,
        stop="\n\n",
        top_k=40,
        options={"num_ctx": 8192},
    )
    assert body["options"] == {
        "num_ctx": 8192,
        "top_k": 40,
        "temperature": 0.2,
        "top_p": 0.9,
        "num_predict": 256,
        "seed": 7,
        "stop": ["\n\n"],
    }
    assert "temperature" not in body and "top_k" not in body


def test_encode_no_options_when_none_given():
    assert "options" not in encode([HumanMessage("hi")], temperature=None)


def test_encode_bad_stop_raises():
    with pytest.raises(UserError, match="stop must be a string or a list of strings, got 5"):
        encode([HumanMessage("hi")], stop=5)


def test_encode_bad_options_type_raises():
    with pytest.raises(UserError, match="options must be a dict of Ollama options, got list"):
        encode([HumanMessage("hi")], options=[1])


def test_encode_stream_always_written():
    assert encode([HumanMessage("hi")])["stream"] is False
    assert encode([HumanMessage("hi")], stream=True)["stream"] is True


def test_encode_tools_and_raw_tool_passthrough():
    spec = {
        "name": "get_w",
        "description": "Weather",
        "parameters": {"type": "object"},
        "strict": True,
    }
    raw = {"type": "function", "function": {"name": "raw_fn", "parameters": {"type": "object"}}}
    bare = {"name": "ping"}
    body = encode(
        [HumanMessage("hi")], tools=[spec, raw, bare], tool_choice="any", parallel_tool_calls=False
    )
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_w",
                "description": "Weather",
                "parameters": {"type": "object"},
            },
        },
        raw,
        {
            "type": "function",
            "function": {
                "name": "ping",
                "description": "",
                "parameters": {"type": "object", "properties": {}},
            },
        },
    ]
    assert "tool_choice" not in body and "parallel_tool_calls" not in body


def test_encode_tool_choice_none_omits_tools():
    body = encode([HumanMessage("hi")], tools=[{"name": "f"}], tool_choice="none")
    assert "tools" not in body


def test_encode_tool_that_is_not_a_dict_raises():
    with pytest.raises(UserError, match=r"tools\[0\] must be a dict like"):
        encode([HumanMessage("hi")], tools=["get_weather"])


@pytest.mark.parametrize(
    "response_format, expected",
    [
        ({"type": "json_object"}, "json"),
        (
            {"type": "json_schema", "name": "A", "schema": {"type": "object"}, "strict": True},
            {"type": "object"},
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "A", "schema": {"type": "array"}}},
            {"type": "array"},
        ),
    ],
    ids=["json_object", "json_schema", "openai-nested-json_schema"],
)
def test_encode_response_format(response_format, expected):
    assert encode([HumanMessage("hi")], response_format=response_format)["format"] == expected


def test_encode_response_format_text_sends_no_format():
    assert "format" not in encode([HumanMessage("hi")], response_format={"type": "text"})


@pytest.mark.parametrize(
    "response_format, message",
    [
        ("json", "response_format must be a dict such as"),
        ({"type": "json_schema"}, "needs a 'schema' dict"),
        ({"type": "xml"}, "response_format type 'xml' is unknown"),
    ],
)
def test_encode_bad_response_format(response_format, message):
    with pytest.raises(UserError, match=message):
        encode([HumanMessage("hi")], response_format=response_format)


@pytest.mark.parametrize(
    "params, think",
    [
        ({"reasoning_effort": "high"}, "high"),
        ({"reasoning_effort": "minimal"}, "low"),
        ({"include_reasoning": True}, True),
        ({"include_reasoning": False, "reasoning_effort": "high"}, False),
        ({"reasoning_budget": 0}, False),
        ({"reasoning_budget": 1024}, True),
        ({}, None),
    ],
)
def test_encode_think(params, think):
    body = encode([HumanMessage("hi")], **params)
    assert body.get("think") == think
    assert "reasoning_effort" not in body and "include_reasoning" not in body


def test_encode_bad_reasoning_effort():
    with pytest.raises(UserError, match="reasoning_effort='max' is not a level"):
        encode([HumanMessage("hi")], reasoning_effort="max")


def test_encode_logprobs_passthrough_and_extra_body():
    body = encode(
        [HumanMessage("hi")],
        top_logprobs=3,
        keep_alive="5m",
        cache_control={"type": "ephemeral"},
        stream_usage=True,
        extra_body={"think": "low", "truncate": False},
    )
    assert body["logprobs"] is True and body["top_logprobs"] == 3
    assert body["keep_alive"] == "5m"
    assert body["think"] == "low" and body["truncate"] is False
    assert "cache_control" not in body and "stream_usage" not in body and "extra_body" not in body


def test_decode_response_text_usage_and_metadata():
    msg = ollama.decode_response(
        {
            "model": "gemma3",
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": "Hello!"},
            "done": True,
            "done_reason": "stop",
            "total_duration": 603200867,
            "load_duration": 1200,
            "prompt_eval_count": 12,
            "prompt_eval_duration": 40,
            "eval_count": 3,
            "eval_duration": 50,
        }
    )
    assert msg.content == "Hello!"
    assert msg.usage_metadata == {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
    assert msg.response_metadata == {
        "model_provider": "ollama",
        "model_name": "gemma3",
        "finish_reason": "stop",
        "done_reason": "stop",
        "created_at": "2026-01-01T00:00:00Z",
        "total_duration": 603200867,
        "load_duration": 1200,
        "prompt_eval_duration": 40,
        "eval_duration": 50,
    }
    assert msg.id is None and msg.tool_calls == []


def test_decode_response_thinking_becomes_reasoning_block():
    msg = ollama.decode_response(line("42", thinking="Let me add.", done=True, done_reason="stop"))
    assert msg.content == [
        {"type": "reasoning", "reasoning": "Let me add."},
        {"type": "text", "text": "42"},
    ]
    assert msg.content_blocks[0]["type"] == "reasoning"


def test_decode_response_tool_calls_without_ids_get_deterministic_ids():
    msg = ollama.decode_response(
        line(
            done=True,
            done_reason="stop",
            tool_calls=[
                {"function": {"name": "a", "arguments": {"x": 1}}},
                {"function": {"name": "b", "arguments": {}}},
                {
                    "id": "call_real",
                    "function": {"index": 2, "name": "c", "arguments": {"y": [1, 2]}},
                },
            ],
        )
    )
    assert msg.tool_calls == [
        {"name": "a", "args": {"x": 1}, "id": "call_0", "type": "tool_call"},
        {"name": "b", "args": {}, "id": "call_1", "type": "tool_call"},
        {"name": "c", "args": {"y": [1, 2]}, "id": "call_real", "type": "tool_call"},
    ]
    assert msg.response_metadata["finish_reason"] == "tool_calls"
    assert msg.response_metadata["done_reason"] == "stop"


def test_decode_response_string_arguments_parse_or_become_invalid():
    msg = ollama.decode_response(
        line(
            done=True,
            tool_calls=[
                {"function": {"name": "ok", "arguments": '{"a": 1}'}},
                {"function": {"name": "bad", "arguments": "{not json"}},
            ],
        )
    )
    assert msg.tool_calls == [{"name": "ok", "args": {"a": 1}, "id": "call_0", "type": "tool_call"}]
    assert msg.invalid_tool_calls[0]["name"] == "bad"
    assert msg.invalid_tool_calls[0]["id"] == "call_1"
    assert "arguments are not valid JSON" in msg.invalid_tool_calls[0]["error"]


def test_decode_response_length_and_missing_done_reason():
    assert (
        ollama.decode_response(line(done=True, done_reason="length")).response_metadata[
            "finish_reason"
        ]
        == "length"
    )
    meta = ollama.decode_response(line("x", done=True)).response_metadata
    assert meta["finish_reason"] == "stop" and "done_reason" not in meta


def test_decode_response_load_done_reason_passes_through():
    meta = ollama.decode_response(line(done=True, done_reason="load")).response_metadata
    assert meta["finish_reason"] == "load"


def test_decode_response_cached_tokens_are_cache_read():
    msg = ollama.decode_response(
        line("x", done=True, prompt_eval_count=100, prompt_eval_cached_count=80, eval_count=5)
    )
    assert msg.usage_metadata == {
        "input_tokens": 100,
        "output_tokens": 5,
        "total_tokens": 105,
        "input_token_details": {"cache_read": 80},
    }


def test_decode_response_missing_prompt_count_counts_zero_and_none_without_counts():
    assert ollama.decode_response(line("x", done=True, eval_count=5)).usage_metadata == {
        "input_tokens": 0,
        "output_tokens": 5,
        "total_tokens": 5,
    }
    assert ollama.decode_response(line("x", done=True)).usage_metadata is None


def test_decode_response_logprobs_in_metadata():
    logprobs = [
        {"token": "Hi", "logprob": -0.1, "top_logprobs": [{"token": "Hi", "logprob": -0.1}]}
    ]
    msg = ollama.decode_response(line("Hi", done=True, logprobs=logprobs))
    assert msg.response_metadata["logprobs"] == logprobs


def test_decode_response_images_become_image_blocks():
    msg = ollama.decode_response(
        {
            "model": "m",
            "message": {"role": "assistant", "content": "", "images": [PNG]},
            "done": True,
        }
    )
    assert msg.content == [{"type": "image", "base64": PNG, "mime_type": "image/png"}]


def test_decode_response_error_body_raises_provider_error():
    with pytest.raises(ProviderError, match="model runner has unexpectedly stopped"):
        ollama.decode_response({"error": "model runner has unexpectedly stopped"})


@pytest.mark.parametrize(
    "body, message",
    [
        ([1, 2], "Ollama response body is not a JSON object: [1, 2]"),
        ({"model": "m", "done": True}, "Ollama response body has no 'message' object"),
        ({"message": {"content": 5}}, "has message.content of type int; expected a string"),
        ({"message": {"content": "", "thinking": ["x"]}}, "has message.thinking of type list"),
        ({"message": {"tool_calls": {"a": 1}}}, "has message.tool_calls that is not a list"),
        ({"message": {"tool_calls": [{"name": "f"}]}}, "has tool_calls[0] without a 'function'"),
        (
            {"message": {"tool_calls": [{"function": {"name": 3}}]}},
            "tool_calls[0].function.name that is not a string",
        ),
        (
            {"message": {"tool_calls": [{"function": {"name": "f", "arguments": [1]}}]}},
            "has tool-call arguments of type list; expected an object",
        ),
        ({"message": {"images": "abc"}}, "message.images that are not a list of base64 strings"),
        ({"message": {}, "eval_count": "7"}, "has eval_count of type str; expected an integer"),
        ({"message": {}, "logprobs": {"a": 1}}, "has logprobs that is not a list"),
    ],
)
def test_decode_response_malformed_raises_decode_error(body, message):
    with pytest.raises(DecodeError) as exc:
        ollama.decode_response(body)
    assert message in str(exc.value)


def test_decode_error_model_not_found():
    err = ollama.decode_error(404, {"error": "model 'llama9' not found, try pulling it first"})
    assert type(err) is NotFoundError
    assert err.message == "model 'llama9' not found, try pulling it first"
    assert err.model == "llama9" and err.status_code == 404 and err.provider == "ollama"
    assert str(err) == "model 'llama9' not found, try pulling it first (ollama 404)"


def test_decode_error_does_not_support_tools():
    err = ollama.decode_error(
        400, {"error": "registry.ollama.ai/library/gemma3:1b does not support tools"}
    )
    assert type(err) is BadRequestError
    assert "does not support tools" in err.message


def test_decode_error_context_length():
    err = ollama.decode_error(400, {"error": "input length exceeds the context length"})
    assert type(err) is ContextLengthError


def test_decode_error_unauthorized_keeps_signin_url():
    body = {"error": "unauthorized", "signin_url": "https://ollama.com/connect?name=x"}
    err = ollama.decode_error(401, json.dumps(body).encode())
    assert type(err) is AuthenticationError and err.message == "unauthorized"
    assert err.body == body


def test_decode_error_openai_compatible_shape():
    err = ollama.decode_error(401, {"error": {"message": "Unauthorized", "type": "api_error"}})
    assert type(err) is AuthenticationError and err.message == "Unauthorized"


def test_decode_error_rate_limit_retry_after_from_headers():
    err = ollama.decode_error(429, '{"error": "too many requests"}', {"Retry-After": "7"})
    assert type(err) is RateLimitError and err.retry_after == 7.0 and err.retryable


def test_decode_error_server_busy_is_overloaded():
    err = ollama.decode_error(
        503, {"error": "server busy, please try again.  maximum pending requests exceeded"}
    )
    assert type(err) is OverloadedError and err.retryable


def test_decode_error_non_json_body_keeps_text():
    err = ollama.decode_error(502, "<html>Bad Gateway</html>")
    assert type(err) is ServerError and err.message == "<html>Bad Gateway</html>"


def test_decode_error_empty_body():
    err = ollama.decode_error(500, None)
    assert type(err) is ServerError
    assert err.message == "Ollama answered HTTP 500 with no error message"
