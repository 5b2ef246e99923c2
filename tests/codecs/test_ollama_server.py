"""Server side of the Ollama codec: decode_request, render_response, render_stream, render_error."""

from __future__ import annotations

import re

import pytest

from myna.codecs import ollama
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    UserError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, merge_chunks

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

FULL_BODY = {
    "model": "qwen3:8b",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is in this picture?", "images": [PNG]},
        {
            "role": "assistant",
            "content": "",
            "thinking": "Call the tool.",
            "tool_calls": [
                {"id": "call_ab", "function": {"name": "get_w", "arguments": {"city": "Paris"}}}
            ],
        },
        {"role": "tool", "content": '{"t": 21}', "tool_name": "get_w", "tool_call_id": "call_ab"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_w",
                "description": "Weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ],
    "format": {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    },
    "options": {
        "temperature": 0,
        "num_predict": 256,
        "num_ctx": 8192,
        "seed": 1,
        "stop": ["\n\n"],
        "custom_knob": 3,
    },
    "think": True,
    "keep_alive": "5m",
    "stream": False,
    "logprobs": True,
    "top_logprobs": 2,
}


def bad(body, message):
    with pytest.raises(BadRequestError) as exc:
        ollama.decode_request(body)
    assert exc.value.message == message
    assert exc.value.status_code == 400
    assert exc.value.body == {"error": message}


# --- decode_request ---------------------------------------------------------------------------


def test_decode_request_full_body():
    messages, params = ollama.decode_request(FULL_BODY)
    assert messages == [
        SystemMessage("Be brief."),
        HumanMessage(
            [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image", "base64": PNG, "mime_type": "image/png"},
            ]
        ),
        AIMessage(
            [{"type": "reasoning", "reasoning": "Call the tool."}],
            tool_calls=[{"name": "get_w", "args": {"city": "Paris"}, "id": "call_ab"}],
        ),
        ToolMessage('{"t": 21}', tool_call_id="call_ab", name="get_w"),
    ]
    assert params == {
        "model": "qwen3:8b",
        "stream": False,
        "temperature": 0,
        "max_tokens": 256,
        "num_ctx": 8192,
        "seed": 1,
        "stop": ["\n\n"],
        "options": {"custom_knob": 3},
        "tools": [
            {
                "name": "get_w",
                "description": "Weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            }
        ],
        "response_format": {"type": "json_schema", "schema": FULL_BODY["format"]},
        "include_reasoning": True,
        "logprobs": True,
        "top_logprobs": 2,
        "keep_alive": "5m",
    }


def test_decode_then_encode_gives_the_same_wire_body():
    messages, params = ollama.decode_request(FULL_BODY)
    assert ollama.encode_request(messages, params) == FULL_BODY


def test_decode_request_missing_stream_means_streaming():
    _, params = ollama.decode_request(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert params == {"model": "m", "stream": True}


def test_decode_request_empty_messages_is_a_load_request():
    messages, params = ollama.decode_request({"model": "m", "messages": []})
    assert messages == [] and params["model"] == "m"
    assert ollama.decode_request({"model": "m"})[0] == []


@pytest.mark.parametrize(
    "format_, response_format",
    [("json", {"type": "json_object"}), ("", None), (None, None)],
)
def test_decode_request_format(format_, response_format):
    _, params = ollama.decode_request({"model": "m", "messages": [], "format": format_})
    assert params.get("response_format") == response_format


@pytest.mark.parametrize(
    "think, key, value",
    [
        ("high", "reasoning_effort", "high"),
        ("low", "reasoning_effort", "low"),
        (False, "include_reasoning", False),
    ],
)
def test_decode_request_think(think, key, value):
    _, params = ollama.decode_request({"model": "m", "messages": [], "think": think})
    assert params[key] == value


def test_decode_request_tool_results_pair_with_calls():
    body = {
        "model": "m",
        "messages": [
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"name": "a", "arguments": {}}},
                    {"function": {"name": "b", "arguments": {"q": 1}}},
                ],
            },
            {"role": "tool", "content": "B", "tool_name": "b"},
            {"role": "tool", "content": "A"},
            {"role": "tool", "content": "?", "tool_name": "zzz"},
        ],
    }
    messages, _ = ollama.decode_request(body)
    assert messages[0].tool_calls == [
        {"name": "a", "args": {}, "id": "call_0", "type": "tool_call"},
        {"name": "b", "args": {"q": 1}, "id": "call_1", "type": "tool_call"},
    ]
    assert (messages[1].tool_call_id, messages[1].name) == ("call_1", "b")
    assert (messages[2].tool_call_id, messages[2].name) == ("call_0", None)
    assert (messages[3].tool_call_id, messages[3].name) == ("zzz", "zzz")


def test_decode_request_raw_non_function_tools_pass_through():
    raw = {"type": "web_search"}
    _, params = ollama.decode_request({"model": "m", "messages": [], "tools": [raw]})
    assert params["tools"] == [raw]


@pytest.mark.parametrize(
    "body, message",
    [
        ([], "json: cannot unmarshal array into Go value of type api.ChatRequest"),
        ({"messages": []}, "model is required"),
        ({"model": "", "messages": []}, "model is required"),
        (
            {"model": 5},
            "json: cannot unmarshal number into Go struct field ChatRequest.model of type string",
        ),
        (
            {"model": "m", "messages": "hi"},
            "json: cannot unmarshal string into Go struct field ChatRequest.messages of type []api.Message",
        ),
        (
            {"model": "m", "messages": ["hi"]},
            "json: cannot unmarshal string into Go struct field ChatRequest.messages of type api.Message",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "json: cannot unmarshal array into Go struct field Message.messages.content of type string",
        ),
        (
            {"model": "m", "messages": [{"role": "developer", "content": "x"}]},
            "messages[0] has role 'developer'; Ollama's /api/chat takes system, user, assistant and "
            "tool messages.",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x", "images": ["%%%"]}]},
            "illegal base64 data at input byte 0",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"function": {"name": "f", "arguments": '{"a": 1}'}}],
                    }
                ],
            },
            "json: cannot unmarshal string into Go struct field "
            "ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments",
        ),
        (
            {"model": "m", "stream": "yes"},
            "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool",
        ),
        (
            {"model": "m", "think": "max"},
            'invalid think value: "max" (must be "high", "medium", "low", true, or false)',
        ),
        (
            {"model": "m", "think": 1},
            'think must be a boolean or string ("high", "medium", "low", true, or false)',
        ),
        ({"model": "m", "top_logprobs": 21}, "top_logprobs must be between 0 and 20"),
        (
            {"model": "m", "top_logprobs": 1.5},
            "json: cannot unmarshal number 1.5 into Go struct field ChatRequest.top_logprobs of type int",
        ),
        (
            {"model": "m", "options": {"temperature": "hot"}},
            'option "temperature" must be of type float32',
        ),
        ({"model": "m", "options": {"num_ctx": True}}, 'option "num_ctx" must be of type integer'),
        ({"model": "m", "options": {"stop": "x"}}, 'option "stop" must be of type array'),
        ({"model": "m", "options": {"stop": [1]}}, 'option "stop" must be of an array of strings'),
        (
            {"model": "m", "options": [1]},
            "json: cannot unmarshal array into Go struct field ChatRequest.options of type "
            "map[string]interface {}",
        ),
        (
            {"model": "m", "format": "xml"},
            'invalid format: "xml"; expected "json" or a valid JSON Schema',
        ),
        (
            {"model": "m", "tools": {"a": 1}},
            "json: cannot unmarshal object into Go struct field ChatRequest.tools of type api.Tools",
        ),
    ],
)
def test_decode_request_rejects_like_ollama(body, message):
    bad(body, message)


# --- render_response --------------------------------------------------------------------------


def test_render_response_text_exact():
    msg = AIMessage(
        "Hello!",
        usage_metadata={"input_tokens": 12, "output_tokens": 3, "total_tokens": 15},
        response_metadata={
            "created_at": "2026-01-01T00:00:00Z",
            "total_duration": 99,
            "finish_reason": "stop",
            "model_provider": "ollama",
        },
    )
    assert ollama.render_response(msg, {"model": "gemma3"}) == {
        "model": "gemma3",
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": "Hello!"},
        "done": True,
        "done_reason": "stop",
        "total_duration": 99,
        "prompt_eval_count": 12,
        "eval_count": 3,
    }


def test_render_response_reasoning_tool_calls_and_cache():
    msg = AIMessage(
        [{"type": "reasoning", "reasoning": "Use the tool."}],
        tool_calls=[{"name": "get_w", "args": {"city": "Paris"}, "id": "call_1"}],
        usage_metadata={
            "input_tokens": 10,
            "output_tokens": 2,
            "total_tokens": 12,
            "input_token_details": {"cache_read": 8},
        },
        response_metadata={"finish_reason": "tool_calls", "model_name": "qwen3"},
    )
    body = ollama.render_response(msg)
    assert body["model"] == "qwen3"
    assert body["message"] == {
        "role": "assistant",
        "content": "",
        "thinking": "Use the tool.",
        "tool_calls": [
            {
                "id": "call_1",
                "function": {"index": 0, "name": "get_w", "arguments": {"city": "Paris"}},
            }
        ],
    }
    assert body["done_reason"] == "stop"
    assert body["prompt_eval_cached_count"] == 8
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", body["created_at"])


def test_render_response_length_and_default_model():
    body = ollama.render_response(AIMessage("cut", response_metadata={"finish_reason": "length"}))
    assert body["done_reason"] == "length" and body["model"] == "myna-emulator"
    assert "prompt_eval_count" not in body


def test_render_response_round_trips_through_decode():
    msg = AIMessage(
        [{"type": "reasoning", "reasoning": "r"}, {"type": "text", "text": "t"}],
        tool_calls=[{"name": "f", "args": {"a": [1, {"b": None}]}, "id": "c1"}],
        invalid_tool_calls=[
            {"name": "g", "args": "{nope", "id": "c2", "error": None, "type": "invalid_tool_call"}
        ],
        usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        response_metadata={"logprobs": [{"token": "t", "logprob": -0.5}]},
    )
    back = ollama.decode_response(ollama.render_response(msg, {"model": "m"}))
    assert back.content == msg.content
    assert back.tool_calls == msg.tool_calls
    assert (
        back.invalid_tool_calls[0]["args"] == "{nope" and back.invalid_tool_calls[0]["id"] == "c2"
    )
    assert back.usage_metadata == msg.usage_metadata
    assert back.response_metadata["logprobs"] == [{"token": "t", "logprob": -0.5}]
    assert back.response_metadata["finish_reason"] == "tool_calls"


def test_render_response_refuses_image_output():
    msg = AIMessage([{"type": "image", "base64": PNG, "mime_type": "image/png"}])
    with pytest.raises(
        UserError, match="Reply content block #0 is a 'image' block; Ollama /api/chat"
    ):
        ollama.render_response(msg)


# --- render_stream ----------------------------------------------------------------------------


def test_render_stream_lines_exact():
    msg = AIMessage(
        "Hi there",
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c1"}],
        usage_metadata={"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
        response_metadata={"created_at": "T"},
    )
    lines = list(ollama.render_stream(msg, {"model": "m"}))
    head = {"model": "m", "created_at": "T"}
    assert lines == [
        {**head, "message": {"role": "assistant", "content": "Hi "}, "done": False},
        {**head, "message": {"role": "assistant", "content": "there"}, "done": False},
        {
            **head,
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "function": {"index": 0, "name": "f", "arguments": {"x": 1}}}
                ],
            },
            "done": False,
        },
        {
            **head,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            # no timings in the reply: fixed ones from the counts (1 ms load, 0.1 ms per
            # prompt token, 10 ms per generated token), as Ollama always sends them
            "total_duration": 1_000_000 + 500_000 + 70_000_000,
            "load_duration": 1_000_000,
            "prompt_eval_duration": 500_000,
            "eval_duration": 70_000_000,
            "prompt_eval_count": 5,
            "eval_count": 7,
        },
    ]


def test_render_stream_thinking_lines_then_content():
    msg = AIMessage([{"type": "reasoning", "reasoning": "ab"}, {"type": "text", "text": "cd"}])
    lines = list(ollama.render_stream(msg, chunking="chars"))
    assert [(ln["message"].get("thinking"), ln["message"]["content"]) for ln in lines] == [
        ("a", ""),
        ("b", ""),
        (None, "c"),
        (None, "d"),
        (None, ""),
    ]
    merged = merge_chunks(list(ollama.decode_stream(lines))).to_message()
    assert merged.content == msg.content


@pytest.mark.parametrize("chunking", ["words", "chars", 3])
def test_render_stream_round_trips_through_decode(chunking):
    msg = AIMessage(
        [
            {"type": "reasoning", "reasoning": "Think hard, then answer."},
            {"type": "text", "text": "The answer is 42."},
        ],
        tool_calls=[
            {"name": "f", "args": {"q": "long argument text"}, "id": "c1"},
            {"name": "g", "args": {}, "id": "c2"},
        ],
        usage_metadata={"input_tokens": 3, "output_tokens": 9, "total_tokens": 12},
    )
    back = merge_chunks(list(ollama.decode_stream(ollama.render_stream(msg, chunking=chunking))))
    back = back.to_message()
    assert back.content == msg.content
    assert back.tool_calls == msg.tool_calls
    assert back.usage_metadata == msg.usage_metadata
    assert back.response_metadata["finish_reason"] == "tool_calls"


# --- render_error -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error, status",
    [
        (NotFoundError("model 'x' not found"), 404),
        (AuthenticationError("unauthorized"), 401),
        (RateLimitError("slow down"), 429),
        (OverloadedError("server busy, please try again."), 503),
        (ContextLengthError("input length exceeds the context length"), 400),
        (BadRequestError("m does not support tools"), 400),
        (ServerError("boom"), 500),
        (ProviderError("mid-stream failure"), 500),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, ProviderError) else str(v),
)
def test_render_error_status_and_body_round_trip(error, status):
    got_status, headers, body = ollama.render_error(error)
    assert got_status == status
    assert body == {"error": error.message}
    assert headers == {"content-type": "application/json; charset=utf-8"}
    back = ollama.decode_error(got_status, body, headers)
    assert back.message == error.message
    if type(error) is not ProviderError:
        assert type(back) is type(error)


def test_render_error_keeps_status_and_extra_body_keys():
    err = ollama.decode_error(401, {"error": "unauthorized", "signin_url": "https://ollama.com/c"})
    assert ollama.render_error(err) == (
        401,
        {"content-type": "application/json; charset=utf-8"},
        {"error": "unauthorized", "signin_url": "https://ollama.com/c"},
    )


def test_render_error_rate_limit_retry_after_header():
    status, headers, _ = ollama.render_error(RateLimitError("slow down", retry_after=2.5))
    assert status == 429 and headers["retry-after"] == "3"
    assert ollama.decode_error(status, {"error": "slow down"}, headers).retry_after == 3.0


# --- the official ollama SDK reads what we render, and accepts what we encode -----------------


def test_official_sdk_parses_rendered_response_and_stream_lines():
    from ollama import ChatResponse

    msg = AIMessage(
        [{"type": "reasoning", "reasoning": "hm"}, {"type": "text", "text": "Hi there"}],
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c1"}],
        usage_metadata={"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
    )
    whole = ChatResponse.model_validate(ollama.render_response(msg, {"model": "m"}))
    assert whole.message.content == "Hi there" and whole.message.thinking == "hm"
    assert whole.message.tool_calls[0].function.name == "f"
    assert whole.message.tool_calls[0].function.arguments == {"x": 1}
    assert (whole.prompt_eval_count, whole.eval_count, whole.done) == (5, 7, True)
    lines = [ChatResponse.model_validate(ln) for ln in ollama.render_stream(msg, {"model": "m"})]
    assert "".join(ln.message.content for ln in lines) == "Hi there"
    assert [ln.done for ln in lines].count(True) == 1 and lines[-1].done_reason == "stop"


def test_official_sdk_accepts_encoded_request():
    from ollama._types import ChatRequest

    body = ollama.encode_request(
        [SystemMessage("s"), HumanMessage(["look", {"type": "image", "base64": PNG}])],
        {
            "model": "m",
            "tools": [
                {
                    "name": "f",
                    "description": "d",
                    "parameters": {"type": "object", "properties": {"a": {"type": "string"}}},
                }
            ],
            "response_format": {"type": "json_object"},
            "reasoning_effort": "low",
            "max_tokens": 5,
        },
    )
    request = ChatRequest.model_validate(body)
    assert request.model == "m" and request.format == "json" and request.think == "low"
    assert request.options == {"num_predict": 5}
    assert request.tools[0].function.name == "f"
