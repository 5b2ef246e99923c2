"""Server side of the Chat Completions codec: decode_request, render_response, render_error."""

import pytest

from myna.codecs import openai_chat
from myna.codecs.openai_chat._validate import NOT_JSON
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
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

USER = {"role": "user", "content": "hi"}


def request(*messages, **fields):
    return {"model": "gpt-4.1-mini", "messages": list(messages) or [USER], **fields}


# ---------------------------------------------------------------- decode_request: messages


def test_decode_request_messages():
    body = request(
        {"role": "developer", "content": "Rules"},
        {"role": "system", "content": [{"type": "text", "text": "Be terse."}]},
        {
            "role": "user",
            "name": "ann",
            "content": [
                {"type": "text", "text": "Look", "prompt_cache_breakpoint": {"mode": "explicit"}},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,iVBOR", "detail": "high"},
                },
                {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}},
                {"type": "file", "file": {"file_id": "file-1"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "think",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
    )
    messages, params = openai_chat.decode_request(body)
    assert params == {"model": "gpt-4.1-mini"}
    dev, system, user, ai, tool = messages
    assert isinstance(dev, SystemMessage) and dev.content == "Rules"
    assert dev.additional_kwargs == {"openai_role": "developer"}
    assert system.content == [{"type": "text", "text": "Be terse."}]
    assert isinstance(user, HumanMessage) and user.name == "ann"
    assert user.content == [
        {
            "type": "text",
            "text": "Look",
            "extras": {"prompt_cache_breakpoint": {"mode": "explicit"}},
        },
        {
            "type": "image",
            "base64": "iVBOR",
            "mime_type": "image/png",
            "extras": {"detail": "high"},
        },
        {"type": "audio", "base64": "UklGR", "mime_type": "audio/wav"},
        {"type": "file", "file_id": "file-1"},
    ]
    assert isinstance(ai, AIMessage)
    assert ai.content == [
        {"type": "reasoning", "reasoning": "think", "extras": {"field": "reasoning_content"}}
    ]
    assert ai.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert isinstance(tool, ToolMessage) and tool.tool_call_id == "c1" and tool.content == "done"


def test_decode_request_params():
    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "description": "F.",
                "parameters": {"type": "object"},
                "strict": True,
            },
        },
        {"type": "web_search_preview"},
    ]
    body = request(
        temperature=0.5,
        top_p=1,
        max_tokens=10,
        max_completion_tokens=20,
        seed=3,
        stop="END",
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "f"}},
        parallel_tool_calls=True,
        stream=True,
        stream_options={"include_usage": True, "include_obfuscation": False},
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "Out", "schema": {"type": "object"}, "strict": True},
        },
        reasoning_effort="high",
        logprobs=True,
        top_logprobs=2,
        n=1,
        user="u1",
    )
    _, params = openai_chat.decode_request(body)
    assert params == {
        "model": "gpt-4.1-mini",
        "temperature": 0.5,
        "top_p": 1,
        "max_tokens": 20,  # max_completion_tokens wins over the legacy name
        "seed": 3,
        "stop": ["END"],
        "tools": [
            {"name": "f", "description": "F.", "parameters": {"type": "object"}, "strict": True},
            {"type": "web_search_preview"},
        ],
        "tool_choice": "f",
        "parallel_tool_calls": True,
        "stream": True,
        "stream_usage": True,
        "stream_options": {"include_obfuscation": False},
        "response_format": {
            "type": "json_schema",
            "name": "Out",
            "schema": {"type": "object"},
            "strict": True,
        },
        "reasoning_effort": "high",
        "logprobs": True,
        "top_logprobs": 2,
        "n": 1,
        "user": "u1",
    }


@pytest.mark.parametrize(
    ("wire", "neutral"),
    [
        ("required", "any"),
        ("auto", "auto"),
        ("none", "none"),
        (
            {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
            {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
        ),
    ],
)
def test_decode_request_tool_choice(wire, neutral):
    tools = [{"type": "function", "function": {"name": "f"}}]
    _, params = openai_chat.decode_request(request(tools=tools, tool_choice=wire))
    assert params["tool_choice"] == neutral


def test_decode_request_legacy_max_tokens_and_function_role():
    body = request(
        USER,
        {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": "42"},
        max_tokens=64,
    )
    messages, params = openai_chat.decode_request(body)
    assert params["max_tokens"] == 64
    assert messages[1].additional_kwargs == {"function_call": {"name": "f", "arguments": "{}"}}
    assert messages[2].tool_call_id == "f"


# ---------------------------------------------------------------- decode_request: validation


def _call(i="c1"):
    return {"id": i, "type": "function", "function": {"name": "f", "arguments": "{}"}}


INVALID = [
    ([], NOT_JSON, None, None),
    ({"messages": [USER]}, "you must provide a model parameter", None, None),
    (
        {"model": 3, "messages": [USER]},
        "Invalid type for 'model': expected a string, but got an integer instead.",
        "model",
        "invalid_type",
    ),
    (
        {"model": "m"},
        "Missing required parameter: 'messages'.",
        "messages",
        "missing_required_parameter",
    ),
    (
        {"model": "m", "messages": []},
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
        "empty array instead.",
        "messages",
        "empty_array",
    ),
    (
        {"model": "m", "messages": "hi"},
        "Invalid type for 'messages': expected an array, but got a string instead.",
        "messages",
        "invalid_type",
    ),
    (
        {"model": "m", "messages": [{"content": "x"}]},
        "Missing required parameter: 'messages[0].role'.",
        "messages[0].role",
        "missing_required_parameter",
    ),
    (
        {"model": "m", "messages": [{"role": "bot", "content": "x"}]},
        "Invalid value: 'bot'. Supported values are: 'system', 'assistant', 'user', 'function', "
        "'tool', and 'developer'.",
        "messages[0].role",
        "invalid_value",
    ),
    (
        {"model": "m", "messages": [{"role": "user", "content": 5}]},
        "Invalid type for 'messages[0].content': expected one of a string or array of objects, "
        "but got an integer instead.",
        "messages[0].content",
        "invalid_type",
    ),
    (
        {"model": "m", "messages": [{"role": "user"}]},
        "Missing required parameter: 'messages[0].content'.",
        "messages[0].content",
        "missing_required_parameter",
    ),
    (
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "video"}]}]},
        "Invalid value: 'video'. Supported values are: 'text', 'image_url', 'input_audio', and "
        "'file'.",
        "messages[0].content[0].type",
        "invalid_value",
    ),
    (
        {
            "model": "m",
            "messages": [
                {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
            ],
        },
        "Invalid value: 'image_url'. Supported values are: 'text'.",
        "messages[0].content[0].type",
        "invalid_value",
    ),
    (
        {"model": "m", "messages": [USER, {"role": "assistant", "content": None}]},
        "Invalid value for 'content': expected a string, got null.",
        "messages.[1].content",
        None,
    ),
    (
        {"model": "m", "messages": [USER, {"role": "tool", "tool_call_id": "c1", "content": "x"}]},
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
        "with 'tool_calls'.",
        "messages.[1].role",
        None,
    ),
    (
        {
            "model": "m",
            "messages": [USER, {"role": "assistant", "tool_calls": [_call("c1")]}, USER],
        },
        "An assistant message with 'tool_calls' must be followed by tool messages responding to "
        "each 'tool_call_id'. The following tool_call_ids did not have response messages: c1",
        "messages.[1].role",
        None,
    ),
    (
        {
            "model": "m",
            "messages": [
                USER,
                {"role": "assistant", "tool_calls": [_call("c1")]},
                {"role": "tool", "tool_call_id": "c9", "content": "x"},
            ],
        },
        "Invalid parameter: 'tool_call_id' of 'c9' not found in 'tool_calls' of previous message.",
        "messages.[2].tool_call_id",
        None,
    ),
    (
        {
            "model": "m",
            "messages": [
                USER,
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f"}}],
                },
            ],
        },
        "Missing required parameter: 'messages[1].tool_calls[0].function.arguments'.",
        "messages[1].tool_calls[0].function.arguments",
        "missing_required_parameter",
    ),
    (
        {"model": "m", "messages": [USER], "temperature": 3},
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 "
        "instead.",
        "temperature",
        "decimal_above_max_value",
    ),
    (
        {"model": "m", "messages": [USER], "temperature": -1},
        "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 "
        "instead.",
        "temperature",
        "decimal_below_min_value",
    ),
    (
        {"model": "m", "messages": [USER], "temperature": "hot"},
        "Invalid type for 'temperature': expected a decimal, but got a string instead.",
        "temperature",
        "invalid_type",
    ),
    (
        {"model": "m", "messages": [USER], "max_completion_tokens": 0},
        "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but "
        "got 0 instead.",
        "max_completion_tokens",
        "integer_below_min_value",
    ),
    (
        {"model": "m", "messages": [USER], "tools": []},
        "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty "
        "array instead.",
        "tools",
        "empty_array",
    ),
    (
        {"model": "m", "messages": [USER], "tools": [{"type": "function", "function": {}}]},
        "Missing required parameter: 'tools[0].function.name'.",
        "tools[0].function.name",
        "missing_required_parameter",
    ),
    (
        {"model": "m", "messages": [USER], "tool_choice": "auto"},
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
        "specified.",
        "tool_choice",
        None,
    ),
    (
        {
            "model": "m",
            "messages": [USER],
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "sometimes",
        },
        "Invalid value: 'sometimes'. Supported values are: 'none', 'auto', and 'required'.",
        "tool_choice",
        "invalid_value",
    ),
    (
        {"model": "m", "messages": [USER], "response_format": {"type": "yaml"}},
        "Invalid value: 'yaml'. Supported values are: 'json_object', 'json_schema', and 'text'.",
        "response_format.type",
        "invalid_value",
    ),
    (
        {
            "model": "m",
            "messages": [USER],
            "response_format": {"type": "json_schema", "json_schema": {"schema": {}}},
        },
        "Missing required parameter: 'response_format.json_schema.name'.",
        "response_format.json_schema.name",
        "missing_required_parameter",
    ),
    (
        {"model": "m", "messages": [USER], "stream_options": {"include_usage": True}},
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "stream_options",
        None,
    ),
]


@pytest.mark.parametrize(
    ("body", "message", "param", "code"),
    INVALID,
    ids=[
        "not-object",
        "no-model",
        "model-type",
        "no-messages",
        "empty-messages",
        "messages-type",
        "no-role",
        "bad-role",
        "content-type",
        "no-content",
        "part-type",
        "system-image",
        "assistant-null",
        "orphan-tool",
        "unanswered-call",
        "unknown-call-id",
        "no-arguments",
        "temp-high",
        "temp-low",
        "temp-type",
        "max-tokens-0",
        "tools-empty",
        "tool-no-name",
        "tool-choice-no-tools",
        "tool-choice-value",
        "format-type",
        "schema-no-name",
        "stream-options",
    ],
)
def test_decode_request_rejects_like_the_real_api(body, message, param, code):
    with pytest.raises(BadRequestError) as exc:
        openai_chat.decode_request(body)
    err = exc.value
    assert err.message == message
    assert err.status_code == 400
    assert err.body == {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }
    # the emulator answers with exactly this body
    assert openai_chat.render_error(err) == (400, {"content-type": "application/json"}, err.body)


def test_not_json_wording():
    assert NOT_JSON.startswith("We could not parse the JSON body of your request.")


def test_decode_request_tool_answers_may_come_in_any_order():
    body = request(
        USER,
        {"role": "assistant", "tool_calls": [_call("a"), _call("b")]},
        {"role": "tool", "tool_call_id": "b", "content": "2"},
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        USER,
    )
    messages, _ = openai_chat.decode_request(body)
    assert [m.type for m in messages] == ["human", "ai", "tool", "tool", "human"]


# ---------------------------------------------------------------- render_response


def test_render_response_text_usage_and_metadata():
    message = AIMessage(
        "Hello!",
        id="chatcmpl-9",
        usage_metadata={
            "input_tokens": 10,
            "output_tokens": 2,
            "total_tokens": 12,
            "input_token_details": {"cache_read": 4, "cache_creation": 1},
            "output_token_details": {"reasoning": 1},
        },
        response_metadata={
            "model_name": "gpt-4.1-mini-2025",
            "created": 1700000000,
            "system_fingerprint": "fp_9",
        },
    )
    body = openai_chat.render_response(message, {"model": "gpt-4.1-mini"})
    assert body == {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4.1-mini-2025",
        "service_tier": "default",
        "system_fingerprint": "fp_9",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello!",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 2,
            "total_tokens": 12,
            # every detail count OpenAI sends, zeros included
            "prompt_tokens_details": {
                "cached_tokens": 4,
                "audio_tokens": 0,
                "cache_write_tokens": 1,
            },
            "completion_tokens_details": {
                "reasoning_tokens": 1,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }


def test_render_response_tool_calls_reasoning_audio_refusal():
    message = AIMessage(
        [
            {"type": "reasoning", "reasoning": "hmm", "extras": {"field": "reasoning"}},
            {"type": "audio", "id": "a1", "base64": "UklGR", "extras": {"transcript": "hi"}},
        ],
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "call_1"}],
        additional_kwargs={"refusal": "no"},
    )
    body = openai_chat.render_response(message)
    assert body["model"] == "gpt-4o-mini"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert "usage" not in body
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "reasoning": "hmm",
        "audio": {"id": "a1", "data": "UklGR", "transcript": "hi"},
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
        ],
        "refusal": "no",
        "annotations": [],
    }


def test_render_response_model_from_request_and_finish_mapping():
    message = AIMessage("cut", response_metadata={"finish_reason": "length"})
    body = openai_chat.render_response(message, {"model": "deepseek-chat"})
    assert body["model"] == "deepseek-chat"
    assert body["choices"][0]["finish_reason"] == "length"
    refusal = AIMessage(
        "", additional_kwargs={"refusal": "no"}, response_metadata={"finish_reason": "refusal"}
    )
    assert openai_chat.render_response(refusal)["choices"][0]["finish_reason"] == "stop"


def test_render_response_refuses_an_image():
    with pytest.raises(UserError, match="An image block in the reply cannot be sent"):
        openai_chat.render_response(AIMessage([{"type": "image", "url": "https://x.test/a"}]))


# ---------------------------------------------------------------- render_error


@pytest.mark.parametrize(
    ("error", "status", "kind", "code"),
    [
        (ContextLengthError("too long"), 400, "invalid_request_error", "context_length_exceeded"),
        (BadRequestError("bad"), 400, "invalid_request_error", None),
        (
            AuthenticationError("Incorrect API key provided"),
            401,
            "invalid_request_error",
            "invalid_api_key",
        ),
        (
            NotFoundError("The model `x` does not exist"),
            404,
            "invalid_request_error",
            "model_not_found",
        ),
        (
            RateLimitError("Rate limit reached", retry_after=2),
            429,
            "requests",
            "rate_limit_exceeded",
        ),
        (OverloadedError("overloaded"), 503, "server_error", None),
        (ServerError("The server had an error"), 500, "server_error", None),
        (ProviderError("odd"), 500, "api_error", None),
    ],
    ids=["context", "bad", "auth", "not-found", "rate", "overloaded", "server", "plain"],
)
def test_render_error_shapes_and_round_trip(error, status, kind, code):
    got_status, headers, body = openai_chat.render_error(error)
    assert got_status == status
    assert body["error"]["message"] == error.message
    assert body["error"]["type"] == kind
    assert body["error"]["code"] == code
    assert headers["content-type"] == "application/json"
    back = openai_chat.decode_error(got_status, body, headers)
    assert isinstance(back, type(error))
    assert back.message == error.message
    assert back.retry_after == error.retry_after


def test_render_error_headers():
    _, headers, _ = openai_chat.render_error(RateLimitError("slow", retry_after=1.5))
    assert headers["retry-after"] == "1.5"
    _, headers, _ = openai_chat.render_error(RateLimitError("slow", retry_after=20))
    assert headers["retry-after"] == "20"
    _, headers, _ = openai_chat.render_error(AuthenticationError("no key"))
    assert headers["www-authenticate"] == 'Bearer realm="OpenAI API"'


def test_render_error_keeps_an_openai_body_and_status():
    body = {
        "error": {
            "code": 429,
            "message": "Provider returned error",
            "metadata": {"raw": "upstream busy"},
        }
    }
    err = openai_chat.decode_error(429, body)
    status, _, rendered = openai_chat.render_error(err)
    assert (status, rendered) == (429, body)
    assert openai_chat.decode_error(status, rendered).message == err.message


def test_render_stream_error_is_decoded_back():
    event = openai_chat.render_stream_error(RateLimitError("slow down"))
    assert event == {
        "error": {
            "message": "slow down",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
            "status_code": 429,
        }
    }
    with pytest.raises(RateLimitError, match="slow down") as exc:
        list(openai_chat.decode_stream([event]))
    assert exc.value.status_code is None  # it came inside a stream


def test_render_response_head_and_usage_as_openai_sends_them():
    usage = {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}
    body = openai_chat.render_response(AIMessage("x", usage_metadata=usage), {"model": "gpt-5"})
    assert body["system_fingerprint"] is None  # a gpt-5 model's fingerprint is null
    assert body["service_tier"] == "default"
    body = openai_chat.render_response(
        AIMessage("x", usage_metadata=usage), {"model": "gpt-4o", "service_tier": "flex"}
    )
    assert (body["system_fingerprint"], body["service_tier"]) == ("fp_myna", "flex")
    assert body["usage"]["completion_tokens_details"]["accepted_prediction_tokens"] == 0
    assert "text_tokens" not in body["usage"]["prompt_tokens_details"]
    audio = openai_chat.render_response(
        AIMessage("x", usage_metadata=usage), {"model": "gpt-4o-audio-preview"}
    )
    assert audio["usage"]["prompt_tokens_details"]["text_tokens"] == 9
    assert audio["usage"]["completion_tokens_details"]["text_tokens"] == 4
    back = openai_chat.decode_response(audio).usage_metadata
    assert (back["input_tokens"], back["output_tokens"]) == (9, 4)


def test_render_error_names_the_param_its_wording_quotes():
    error = BadRequestError("Unsupported value: 'messages[0].role' does not support 'system'.")
    _, _, body = openai_chat.render_error(error)
    assert body["error"]["param"] == "messages[0].role"
    _, _, body = openai_chat.render_error(BadRequestError("Something else went wrong."))
    assert body["error"]["param"] is None
