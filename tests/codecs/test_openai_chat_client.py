"""Client side of the Chat Completions codec: encode_request, decode_response, decode_error."""

import base64

import pytest

from myna.codecs import openai_chat
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    DecodeError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    ServerError,
    UserError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 8).decode()
WAV = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt ").decode()


def encode(messages, **params):
    params.setdefault("model", "gpt-4.1-mini")
    return openai_chat.encode_request(messages, params)


def reply(message, **extra):
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
    }
    body.update(extra)
    return body


# ---------------------------------------------------------------- encode_request: messages


def test_encode_roles_and_plain_text():
    body = encode(
        [
            SystemMessage("Be terse."),
            SystemMessage("Dev rules", additional_kwargs={"openai_role": "developer"}),
            HumanMessage("hi", name="ann"),
            AIMessage("hello"),
        ]
    )
    assert body == {
        "model": "gpt-4.1-mini",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "developer", "content": "Dev rules"},
            {"role": "user", "content": "hi", "name": "ann"},
            {"role": "assistant", "content": "hello"},
        ],
    }


def test_encode_multimodal_user_parts():
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "url": "https://x.test/a.png", "extras": {"detail": "low"}},
        {"type": "image", "base64": PNG},  # mime sniffed from the PNG header
        {"type": "audio", "base64": WAV, "mime_type": "audio/wav"},
        {"type": "audio", "base64": "SUQzAAAA", "mime_type": "audio/mpeg"},
        {
            "type": "file",
            "base64": "JVBERi0x",
            "mime_type": "application/pdf",
            "extras": {"filename": "a.pdf"},
        },
        {"type": "file", "file_id": "file-123"},
    ]
    parts = encode([HumanMessage(content)])["messages"][0]["content"]
    assert parts == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}},
        {"type": "input_audio", "input_audio": {"data": "SUQzAAAA", "format": "mp3"}},
        {
            "type": "file",
            "file": {"file_data": "data:application/pdf;base64,JVBERi0x", "filename": "a.pdf"},
        },
        {"type": "file", "file": {"file_id": "file-123"}},
    ]


def test_encode_accepts_openai_and_anthropic_shaped_input_blocks():
    content = [
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/AAAA"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "text", "text": "cached", "prompt_cache_breakpoint": {"mode": "explicit"}},
    ]
    parts = encode([HumanMessage(content)])["messages"][0]["content"]
    assert parts == [
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/AAAA"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "text", "text": "cached", "prompt_cache_breakpoint": {"mode": "explicit"}},
    ]


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ({"type": "video", "url": "https://x.test/v.mp4"}, "A video block in messages[0]"),
        ({"type": "audio", "url": "https://x.test/a.wav"}, "input_audio takes base64 data only"),
        ({"type": "file", "url": "https://x.test/a.pdf"}, "not a URL"),
        ({"type": "image", "file_id": "file-1"}, "not file_id"),
        ({"type": "image", "base64": "AAAA"}, "no mime_type"),
    ],
    ids=["video", "audio-url", "file-url", "image-file-id", "image-no-mime"],
)
def test_encode_refuses_what_the_protocol_cannot_carry(block, needle):
    with pytest.raises(UserError) as exc:
        encode([HumanMessage([block])])
    assert needle in str(exc.value)
    assert "openai-chat" in str(exc.value)


def test_encode_system_and_tool_messages_take_text_only():
    image = {"type": "image", "url": "https://x.test/a.png"}
    with pytest.raises(UserError, match=r"image block in messages\[0\].*System messages"):
        encode([SystemMessage([image])])
    call = {"name": "f", "args": {}, "id": "c1"}
    with pytest.raises(UserError, match="send images or files in a HumanMessage"):
        encode(
            [
                HumanMessage("x"),
                AIMessage("", tool_calls=[call]),
                ToolMessage([image], tool_call_id="c1"),
            ]
        )


def test_encode_tool_call_history():
    ai = AIMessage(
        "",
        tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
        invalid_tool_calls=[{"name": "f", "args": "{bad", "id": "call_2", "error": "x"}],
    )
    body = encode([HumanMessage("weather?"), ai, ToolMessage("22C", tool_call_id="call_1")])
    assert body["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"id": "call_2", "type": "function", "function": {"name": "f", "arguments": "{bad"}},
        ],
    }
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "22C"}


def test_encode_reasoning_goes_back_only_in_the_field_it_came_from():
    deepseek = AIMessage(
        [
            {"type": "reasoning", "reasoning": "think", "extras": {"field": "reasoning_content"}},
            {"type": "text", "text": "answer"},
        ]
    )
    groq = AIMessage(
        [
            {
                "type": "reasoning",
                "reasoning": "hmm",
                "extras": {
                    "field": "reasoning",
                    "reasoning_details": [
                        {"type": "reasoning.text", "text": "h", "index": 0},
                        {"type": "reasoning.text", "text": "mm", "index": 0},
                    ],
                },
            },
            {"type": "text", "text": "ok"},
        ]
    )
    anthropic = AIMessage(
        [
            {"type": "reasoning", "reasoning": "secret", "extras": {"signature": "sig"}},
            {"type": "text", "text": "hi"},
        ]
    )
    msgs = encode(
        [HumanMessage("q"), deepseek, HumanMessage("q"), groq, HumanMessage("q"), anthropic]
    )["messages"]
    assert msgs[1] == {"role": "assistant", "content": "answer", "reasoning_content": "think"}
    assert msgs[3] == {
        "role": "assistant",
        "content": "ok",
        "reasoning": "hmm",
        "reasoning_details": [{"type": "reasoning.text", "text": "hmm", "index": 0}],
    }
    # a reasoning block decoded by another protocol has no slot here (OpenAI rejects unknown keys)
    assert msgs[5] == {"role": "assistant", "content": "hi"}


def test_encode_assistant_audio_refusal_and_server_tool_blocks():
    ai = AIMessage(
        [
            {"type": "audio", "id": "audio_1", "base64": WAV, "extras": {"transcript": "hey"}},
            {"type": "server_tool_call", "id": "ws_1", "name": "web_search", "args": {}},
        ],
        additional_kwargs={"refusal": "I can't help with that."},
    )
    msg = encode([HumanMessage("q"), ai])["messages"][1]
    assert msg == {
        "role": "assistant",
        "content": None,
        "audio": {"id": "audio_1"},
        "refusal": "I can't help with that.",
    }


def test_encode_refuses_an_image_in_an_assistant_message():
    with pytest.raises(UserError, match=r"image block in messages\[0\].*carry text, reasoning"):
        encode([AIMessage([{"type": "image", "url": "https://x.test/a.png"}])])


def test_encode_accepts_openai_style_dicts():
    body = encode([{"role": "user", "content": "hi"}, ("assistant", "hello")])
    assert body["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]


# ---------------------------------------------------------------- encode_request: params


def test_encode_params_translation():
    tool = {
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {"type": "object", "properties": {}},
        "strict": True,
    }
    body = encode(
        [HumanMessage("hi")],
        temperature=0.2,
        top_p=0.9,
        max_tokens=300,
        seed=7,
        stop=["END"],
        tools=[tool, {"type": "web_search_preview"}],
        tool_choice="any",
        parallel_tool_calls=False,
        response_format={
            "type": "json_schema",
            "name": "Answer",
            "schema": {"type": "object"},
            "strict": True,
        },
        stream=True,
        stream_usage=True,
        reasoning_effort="low",
        logprobs=True,
        top_logprobs=3,
        cache_control={"type": "ephemeral"},
        include_reasoning=True,
        prompt_cache_key="k1",
        extra_body={"verbosity": "low"},
    )
    assert body == {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 300,
        "seed": 7,
        "stop": ["END"],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather.",
                    "parameters": {"type": "object", "properties": {}},
                    "strict": True,
                },
            },
            {"type": "web_search_preview"},
        ],
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "Answer", "schema": {"type": "object"}, "strict": True},
        },
        "stream": True,
        "stream_options": {"include_usage": True},
        "reasoning_effort": "low",
        "logprobs": True,
        "top_logprobs": 3,
        "prompt_cache_key": "k1",
        "verbosity": "low",
    }


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        ({"name": "f"}, {"type": "function", "function": {"name": "f"}}),
        (
            {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
            {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
        ),
    ],
    ids=["auto", "none", "any", "name", "name-dict", "raw"],
)
def test_encode_tool_choice(choice, wire):
    tools = [{"name": "f", "description": "", "parameters": {}}]
    assert encode([HumanMessage("x")], tools=tools, tool_choice=choice)["tool_choice"] == wire


def test_encode_json_object_and_no_stream_options_without_stream():
    body = encode(
        [HumanMessage("JSON please")], response_format={"type": "json_object"}, stream_usage=True
    )
    assert body["response_format"] == {"type": "json_object"}
    assert "stream_options" not in body and "stream" not in body


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"model": None}, "need params['model']"),
        ({"reasoning_budget": 1000}, "no reasoning token budget"),
        ({"tool_choice": 3}, "tool_choice=3 is not understood"),
        ({"response_format": {"type": "json_schema", "name": "x"}}, "needs a 'schema' dict"),
        ({"tools": ["f"]}, "tools[0] is a str"),
        ({"extra_body": "x"}, "extra_body must be a dict"),
    ],
    ids=["no-model", "budget", "tool-choice", "schema", "tool-type", "extra-body"],
)
def test_encode_bad_params(params, needle):
    params = {"model": "gpt-4.1-mini", **params}
    with pytest.raises(UserError) as exc:
        openai_chat.encode_request([HumanMessage("x")], params)
    assert needle in str(exc.value)


# ---------------------------------------------------------------- decode_response


def test_decode_plain_text_reply():
    usage = {
        "prompt_tokens": 50,
        "completion_tokens": 30,
        "total_tokens": 80,
        "prompt_tokens_details": {"cached_tokens": 20, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 10, "audio_tokens": 0},
    }
    msg = openai_chat.decode_response(
        reply(
            {"role": "assistant", "content": "Hello!", "refusal": None, "annotations": []},
            usage=usage,
            system_fingerprint="fp_1",
            service_tier="default",
        )
    )
    assert msg.content == "Hello!"
    assert msg.id == "chatcmpl-1"
    assert msg.usage_metadata == {
        "input_tokens": 50,
        "output_tokens": 30,
        "total_tokens": 80,
        "input_token_details": {"audio": 0, "cache_read": 20},
        "output_token_details": {"audio": 0, "reasoning": 10},
    }
    assert msg.response_metadata == {
        "model_provider": "openai",
        "model_name": "gpt-4.1-mini-2025-04-14",
        "id": "chatcmpl-1",
        "finish_reason": "stop",
        "system_fingerprint": "fp_1",
        "service_tier": "default",
        "created": 1700000000,
        "token_usage": usage,
    }


def test_decode_tool_calls_valid_invalid_and_missing_id():
    body = reply(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"q": "x"}'},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "g", "arguments": "{oops"},
                },
                {"type": "function", "function": {"name": "h", "arguments": ""}},
                {"id": "ct_1", "type": "custom", "custom": {"name": "grep", "input": "x"}},
            ],
        }
    )
    body["choices"][0]["finish_reason"] = "tool_calls"
    msg = openai_chat.decode_response(body)
    # a non-function (custom) tool call has no standard slot: kept whole
    assert msg.content == [
        {
            "type": "non_standard",
            "value": {"id": "ct_1", "type": "custom", "custom": {"name": "grep", "input": "x"}},
        }
    ]
    assert msg.tool_calls == [
        {"name": "f", "args": {"q": "x"}, "id": "call_a", "type": "tool_call"},
        {"name": "h", "args": {}, "id": "call_2", "type": "tool_call"},
    ]
    assert msg.invalid_tool_calls[0]["name"] == "g"
    assert msg.invalid_tool_calls[0]["args"] == "{oops"
    assert "not valid JSON" in msg.invalid_tool_calls[0]["error"]
    assert msg.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_decode_reasoning_dialects(field):
    msg = openai_chat.decode_response(
        reply({"role": "assistant", "content": "4", field: "2+2 is 4"})
    )
    assert msg.content == [
        {"type": "reasoning", "reasoning": "2+2 is 4", "extras": {"field": field}},
        {"type": "text", "text": "4"},
    ]


def test_decode_openrouter_reasoning_details_only():
    details = [{"type": "reasoning.encrypted", "data": "abc", "index": 0}]
    msg = openai_chat.decode_response(
        reply(
            {"role": "assistant", "content": "hi", "reasoning": None, "reasoning_details": details}
        )
    )
    assert msg.content[0] == {
        "type": "reasoning",
        "reasoning": "",
        "extras": {"field": "reasoning", "reasoning_details": details},
    }


def test_decode_deepseek_cache_hit_tokens():
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 5,
        "total_tokens": 105,
        "prompt_cache_hit_tokens": 64,
        "prompt_cache_miss_tokens": 36,
    }
    msg = openai_chat.decode_response(reply({"role": "assistant", "content": "x"}, usage=usage))
    assert msg.usage_metadata["input_tokens"] == 100  # the total, cache hits included
    assert msg.usage_metadata["input_token_details"] == {"cache_read": 64}


def test_decode_cache_write_tokens():
    usage = {
        "prompt_tokens": 4020,
        "completion_tokens": 4,
        "total_tokens": 4024,
        "prompt_tokens_details": {"cache_write_tokens": 4012, "cached_tokens": 0},
    }
    msg = openai_chat.decode_response(reply({"role": "assistant", "content": "OK"}, usage=usage))
    assert msg.usage_metadata["input_token_details"] == {"cache_read": 0, "cache_creation": 4012}


def test_decode_audio_output():
    audio = {"id": "audio_1", "data": WAV, "expires_at": 1700003600, "transcript": "Hello there"}
    msg = openai_chat.decode_response(reply({"role": "assistant", "content": None, "audio": audio}))
    assert msg.content == [
        {
            "type": "audio",
            "id": "audio_1",
            "base64": WAV,
            "mime_type": "audio/wav",
            "extras": {"transcript": "Hello there", "expires_at": 1700003600},
        }
    ]


def test_decode_refusal():
    msg = openai_chat.decode_response(
        reply({"role": "assistant", "content": None, "refusal": "I can't help with that."})
    )
    assert msg.content == ""
    assert msg.additional_kwargs == {"refusal": "I can't help with that."}
    assert msg.response_metadata["finish_reason"] == "refusal"
    assert msg.response_metadata["native_finish_reason"] == "stop"


def test_decode_logprobs_and_citations():
    logprobs = {
        "content": [{"token": "Hi", "logprob": -0.01, "bytes": [72, 105], "top_logprobs": []}],
        "refusal": None,
    }
    body = reply(
        {
            "role": "assistant",
            "content": "Hi",
            "annotations": [
                {
                    "type": "url_citation",
                    "url_citation": {
                        "url": "https://x.test",
                        "title": "X",
                        "start_index": 0,
                        "end_index": 2,
                    },
                }
            ],
        }
    )
    body["choices"][0]["logprobs"] = logprobs
    msg = openai_chat.decode_response(body)
    assert msg.response_metadata["logprobs"] == logprobs
    assert msg.content == [
        {
            "type": "text",
            "text": "Hi",
            "annotations": [
                {
                    "type": "citation",
                    "url": "https://x.test",
                    "title": "X",
                    "start_index": 0,
                    "end_index": 2,
                }
            ],
        }
    ]


def test_decode_azure_filters_and_groq_fields():
    body = reply(
        {"role": "assistant", "content": "ok"},
        prompt_filter_results=[{"prompt_index": 0, "content_filter_results": {}}],
        x_groq={
            "id": "req_1",
            "usage": {
                "prompt_tokens": 3,
                "completion_tokens": 1,
                "total_tokens": 4,
                "queue_time": 0.01,
            },
        },
    )
    body["choices"][0]["content_filter_results"] = {"hate": {"filtered": False}}
    msg = openai_chat.decode_response(body)
    meta = msg.response_metadata
    assert meta["prompt_filter_results"] == [{"prompt_index": 0, "content_filter_results": {}}]
    assert meta["content_filter_results"] == {"hate": {"filtered": False}}
    assert meta["x_groq"]["id"] == "req_1"
    assert msg.usage_metadata == {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("length", "length"),
        ("content_filter", "content_filter"),
        ("function_call", "tool_calls"),
        ("eos", "stop"),
        ("weird", "weird"),
    ],
)
def test_decode_finish_reasons(raw, normalised):
    body = reply({"role": "assistant", "content": "x"})
    body["choices"][0]["finish_reason"] = raw
    meta = openai_chat.decode_response(body).response_metadata
    assert meta["finish_reason"] == normalised
    if raw != normalised:
        assert meta["native_finish_reason"] == raw


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ([], "body: expected an object, got an array"),
        ({"choices": "x"}, "choices: expected an array, got a string"),
        ({"choices": []}, "choices: is empty"),
        ({"choices": [{"message": "hi"}]}, "choices[0].message: expected an object"),
        ({"choices": [{"message": {"content": 5}}]}, "choices[0].message.content"),
        (
            {"choices": [{"message": {"tool_calls": [{"function": "f"}]}}]},
            "choices[0].message.tool_calls[0].function",
        ),
        (
            {"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": "9"}},
            "usage.prompt_tokens: expected an integer, got a string",
        ),
        (
            {"choices": [{"message": {"content": "x"}, "finish_reason": 3}]},
            "finish_reason: expected a string",
        ),
    ],
    ids=[
        "list",
        "choices-str",
        "choices-empty",
        "message-str",
        "content-int",
        "function-str",
        "usage-str",
        "finish-int",
    ],
)
def test_decode_response_malformed(body, needle):
    with pytest.raises(DecodeError) as exc:
        openai_chat.decode_response(body)
    assert "Malformed openai-chat response body" in str(exc.value)
    assert needle in str(exc.value)


def test_decode_response_error_body_with_200():
    with pytest.raises(BadRequestError, match="bad things"):
        openai_chat.decode_response(
            {"error": {"message": "bad things", "type": "invalid_request_error"}}
        )


# ---------------------------------------------------------------- decode_error


@pytest.mark.parametrize(
    ("status", "body", "cls", "message"),
    [
        (
            401,
            {
                "error": {
                    "message": "Incorrect API key provided: sk-xx.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                    "param": None,
                }
            },
            AuthenticationError,
            "Incorrect API key provided",
        ),
        (
            404,
            {"error": {"message": "The model `x` does not exist", "code": "model_not_found"}},
            NotFoundError,
            "The model `x` does not exist",
        ),
        (
            400,
            {"error": {"message": "Your input is long.", "code": "context_length_exceeded"}},
            ContextLengthError,
            "Your input is long.",
        ),
        (
            400,
            {"object": "error", "message": "vLLM says no", "type": "BadRequestError", "code": 400},
            BadRequestError,
            "vLLM says no",
        ),
        (500, {"error": "boom"}, ServerError, "boom"),
        (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", ServerError, "502 Bad Gateway"),
        (500, None, ServerError, "HTTP 500 from openai-chat with no error message"),
        (
            402,
            {"error": {"code": 402, "message": "Insufficient credits"}},
            BadRequestError,
            "Insufficient credits",
        ),
    ],
    ids=["401", "404", "context", "vllm", "string", "html", "empty", "openrouter-402"],
)
def test_decode_error_shapes(status, body, cls, message):
    err = openai_chat.decode_error(status, body, {})
    assert type(err) is cls
    assert message in err.message
    assert err.status_code == status
    assert err.provider == "openai"


def test_decode_error_bytes_body_and_retry_after_header():
    err = openai_chat.decode_error(
        429,
        b'{"error": {"message": "Rate limit reached", "type": "requests"}}',
        {"Retry-After": "7"},
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 7.0
    assert err.retryable


def test_decode_error_retry_after_from_message():
    body = {
        "error": {
            "message": "Rate limit reached for gpt-4o. Please try again in 450ms.",
            "type": "tokens",
            "code": "rate_limit_exceeded",
        }
    }
    assert openai_chat.decode_error(429, body).retry_after == pytest.approx(0.45)
    body["error"]["message"] = "Please try again in 1.5s."
    assert openai_chat.decode_error(429, body).retry_after == pytest.approx(1.5)


def test_decode_error_insufficient_quota_is_not_retryable():
    body = {
        "error": {
            "message": "You exceeded your current quota",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    }
    err = openai_chat.decode_error(429, body)
    assert isinstance(err, RateLimitError)
    assert err.retryable is False


def test_decode_error_openrouter_upstream_message():
    body = {
        "error": {
            "code": 429,
            "message": "Provider returned error",
            "metadata": {"provider_name": "Google", "raw": "rate-limited upstream"},
        }
    }
    err = openai_chat.decode_error(429, body)
    assert err.message == "Provider returned error: rate-limited upstream"
    assert err.body == body


def test_decode_error_never_raises_on_garbage():
    for body in ([1, 2], 3.5, {"error": {"message": 7}}, b"\xff\xfe", {}):
        assert isinstance(openai_chat.decode_error(500, body), ProviderError)
