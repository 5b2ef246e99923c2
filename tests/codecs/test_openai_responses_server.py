"""Server side of the OpenAI Responses codec: decode_request, render_response, render_error."""

from __future__ import annotations

import pytest
from openai.types.responses import Response

from myna.codecs import openai_responses as codec
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

USER = {"role": "user", "content": "hi"}


def _body(**extra: object) -> dict:
    return {"model": "gpt-5-mini", "input": [USER], **extra}


# -- decode_request -----------------------------------------------------------------------------


def test_decode_a_full_conversation() -> None:
    body = {
        "model": "gpt-5-mini",
        "instructions": "Be brief.",
        "input": [
            {"role": "developer", "content": "Use tools."},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": "https://x/cat.png", "detail": "low"},
                    {
                        "type": "input_file",
                        "file_data": "data:application/pdf;base64,JVBER",
                        "filename": "a.pdf",
                    },
                    {"type": "input_file", "file_id": "file-1"},
                    {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}},
                ],
            },
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "E"},
            {
                "type": "message",
                "role": "assistant",
                "id": "msg_1",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Looking."}],
            },
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "call_1",
                "name": "f",
                "arguments": '{"q": 1}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "42"},
            {"role": "assistant", "content": "It is 42."},
            {"role": "user", "content": "Thanks"},
        ],
    }
    messages, params = codec.decode_request(body)
    assert params == {"model": "gpt-5-mini"}
    assert messages == [
        SystemMessage("Be brief."),
        SystemMessage("Use tools.", additional_kwargs={"openai_role": "developer"}),
        HumanMessage(
            [
                {"type": "text", "text": "What is this?"},
                {"type": "image", "url": "https://x/cat.png", "extras": {"detail": "low"}},
                {
                    "type": "file",
                    "mime_type": "application/pdf",
                    "base64": "JVBER",
                    "extras": {"filename": "a.pdf"},
                },
                {"type": "file", "file_id": "file-1"},
                {"type": "audio", "base64": "UklGR", "mime_type": "audio/wav"},
            ]
        ),
        AIMessage(
            [
                {"type": "reasoning", "id": "rs_1", "extras": {"encrypted_content": "E"}},
                {"type": "text", "text": "Looking.", "id": "msg_1"},
            ],
            tool_calls=[{"name": "f", "args": {"q": 1}, "id": "call_1"}],
            additional_kwargs={"openai_function_call_ids": {"call_1": "fc_1"}},
        ),
        ToolMessage("42", tool_call_id="call_1"),
        AIMessage("It is 42."),
        HumanMessage("Thanks"),
    ]


def test_decode_a_string_input_and_params() -> None:
    body = {
        "model": "gpt-5-mini",
        "input": "hello",
        "max_output_tokens": 100,
        "temperature": 0.5,
        "tools": [
            {
                "type": "function",
                "name": "f",
                "description": "F.",
                "parameters": {"type": "object"},
                "strict": True,
            },
            {"type": "web_search"},
        ],
        "tool_choice": {"type": "function", "name": "f"},
        "text": {"format": {"type": "json_object"}, "verbosity": "low"},
        "reasoning": {"effort": "minimal", "summary": "auto"},
        "include": [
            "message.output_text.logprobs",
            "reasoning.encrypted_content",
            "web_search_call.action.sources",
        ],
        "top_logprobs": 2,
        "store": True,
        "previous_response_id": "resp_0",
    }
    messages, params = codec.decode_request(body)
    assert messages == [HumanMessage("hello")]
    assert params == {
        "model": "gpt-5-mini",
        "temperature": 0.5,
        "store": True,
        "previous_response_id": "resp_0",
        "max_tokens": 100,
        "tools": [
            {"name": "f", "description": "F.", "parameters": {"type": "object"}, "strict": True},
            {"type": "web_search"},
        ],
        "tool_choice": "f",
        "response_format": {"type": "json_object"},
        "text": {"verbosity": "low"},
        "reasoning_effort": "minimal",
        "include_reasoning": True,
        "logprobs": True,
        "include": ["reasoning.encrypted_content", "web_search_call.action.sources"],
        "top_logprobs": 2,
    }
    # and back: the same body, apart from include order
    again = codec.encode_request(messages, params)
    assert {k: v for k, v in again.items() if k not in ("include", "input")} == {
        k: v for k, v in body.items() if k not in ("include", "input")
    }
    assert sorted(again["include"]) == sorted(body["include"])


def test_previous_response_id_allows_no_input_and_unmatched_outputs() -> None:
    messages, _ = codec.decode_request({"model": "m", "previous_response_id": "resp_0"})
    assert messages == []
    body = {
        "model": "m",
        "previous_response_id": "resp_0",
        "input": [{"type": "function_call_output", "call_id": "call_0", "output": "ok"}],
    }
    assert codec.decode_request(body)[0] == [ToolMessage("ok", tool_call_id="call_0")]


def test_assistant_items_split_into_messages_where_a_new_reply_starts() -> None:
    body = _body(
        input=[
            USER,
            {"role": "assistant", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "r"}]},
            {"type": "function_call_output", "call_id": "c1", "output": "x"},
        ]
    )
    messages, _ = codec.decode_request(body)
    assert [m.type for m in messages] == ["human", "ai", "ai", "ai", "tool"]
    assert messages[1].content == "one"
    assert messages[2].content == "two" and messages[2].tool_calls[0]["id"] == "c1"
    assert messages[3].content == [{"type": "reasoning", "reasoning": "r"}]


def _rejected(body: object) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        codec.decode_request(body)  # type: ignore[arg-type]
    error = caught.value
    assert error.status_code == 400 and error.provider == "openai"
    assert error.body["error"]["message"] == error.message
    assert error.body["error"]["type"] == "invalid_request_error"
    return error


@pytest.mark.parametrize(
    ("body", "message", "param", "code"),
    [
        (
            [],
            "Invalid type for 'body': expected an object, but got an array instead.",
            "body",
            "invalid_type",
        ),
        (
            {"input": "x"},
            "Missing required parameter: 'model'.",
            "model",
            "missing_required_parameter",
        ),
        (
            {"model": 4, "input": "x"},
            "Invalid type for 'model': expected a string, but got an integer instead.",
            "model",
            "invalid_type",
        ),
        (
            {"model": "m"},
            "Missing required parameter: 'input'.",
            "input",
            "missing_required_parameter",
        ),
        (
            {"model": "m", "input": {}},
            "Invalid type for 'input': expected one of a string or array of input items, but got an object instead.",
            "input",
            "invalid_type",
        ),
        (
            {"model": "m", "input": []},
            "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "input",
            "empty_array",
        ),
        (
            _body(temperature=2.5),
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
            "temperature",
            "decimal_above_max_value",
        ),
        (
            _body(temperature="hot"),
            "Invalid type for 'temperature': expected a decimal, but got a string instead.",
            "temperature",
            "invalid_type",
        ),
        (
            _body(top_p=-0.5),
            "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.5 instead.",
            "top_p",
            "decimal_below_min_value",
        ),
        (
            _body(max_output_tokens=5),
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 5 instead.",
            "max_output_tokens",
            "integer_below_min_value",
        ),
        (
            _body(max_output_tokens=1.5),
            "Invalid type for 'max_output_tokens': expected an integer, but got a decimal instead.",
            "max_output_tokens",
            "invalid_type",
        ),
        (
            _body(top_logprobs=21),
            "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but got 21 instead.",
            "top_logprobs",
            "integer_above_max_value",
        ),
        (
            _body(stream="yes"),
            "Invalid type for 'stream': expected a boolean, but got a string instead.",
            "stream",
            "invalid_type",
        ),
        (
            _body(instructions=["x"]),
            "Invalid type for 'instructions': expected a string, but got an array instead.",
            "instructions",
            "invalid_type",
        ),
        (
            _body(tools={}),
            "Invalid type for 'tools': expected an array, but got an object instead.",
            "tools",
            "invalid_type",
        ),
        (
            _body(tools=[{"name": "f"}]),
            "Missing required parameter: 'tools[0].type'.",
            "tools[0].type",
            "missing_required_parameter",
        ),
        (
            _body(tools=[{"type": "function"}]),
            "Missing required parameter: 'tools[0].name'.",
            "tools[0].name",
            "missing_required_parameter",
        ),
        (
            _body(tools=[{"type": "function", "name": "f", "parameters": "x"}]),
            "Invalid type for 'tools[0].parameters': expected an object, but got a string instead.",
            "tools[0].parameters",
            "invalid_type",
        ),
        (
            _body(tool_choice="any"),
            "Invalid value: 'any'. Supported values are: 'none', 'auto', and 'required'.",
            "tool_choice",
            "invalid_value",
        ),
        (
            _body(text={"format": {"type": "json_schema", "schema": {}}}),
            "Missing required parameter: 'text.format.name'.",
            "text.format.name",
            "missing_required_parameter",
        ),
        (
            _body(text={"format": {"type": "xml"}}),
            "Invalid value: 'xml'. Supported values are: 'text', 'json_schema', and 'json_object'.",
            "text.format.type",
            "invalid_value",
        ),
        (
            _body(reasoning={"effort": "huge"}),
            "Invalid value: 'huge'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', and 'max'.",
            "reasoning.effort",
            "invalid_value",
        ),
        (_body(include=["everything"]), None, "include[0]", "invalid_value"),
        (
            _body(input=["hi"]),
            "Invalid type for 'input[0]': expected an object, but got a string instead.",
            "input[0]",
            "invalid_type",
        ),
        (
            _body(input=[{"content": "x"}]),
            "Missing required parameter: 'input[0].type'.",
            "input[0].type",
            "missing_required_parameter",
        ),
        (_body(input=[{"type": "chat", "content": "x"}]), None, "input[0].type", "invalid_value"),
        (
            _body(input=[{"role": "bot", "content": "x"}]),
            "Invalid value: 'bot'. Supported values are: 'assistant', 'system', 'developer', and 'user'.",
            "input[0].role",
            "invalid_value",
        ),
        (
            _body(input=[{"role": "user"}]),
            "Missing required parameter: 'input[0].content'.",
            "input[0].content",
            "missing_required_parameter",
        ),
        (
            _body(input=[{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}]),
            "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            _body(input=[{"role": "user", "content": [{"type": "text", "text": "x"}]}]),
            "Invalid value: 'text'. Supported values are: 'input_text', 'input_image', 'input_file', and 'input_audio'.",
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            _body(input=[{"role": "user", "content": [{"type": "input_text"}]}]),
            "Missing required parameter: 'input[0].content[0].text'.",
            "input[0].content[0].text",
            "missing_required_parameter",
        ),
        (
            _body(input=[{"role": "user", "content": [{"type": "input_image"}]}]),
            "Missing required parameter: 'input[0].content[0].image_url'.",
            "input[0].content[0].image_url",
            "missing_required_parameter",
        ),
        (
            _body(input=[{"role": "user", "content": 3}]),
            "Invalid type for 'input[0].content': expected one of a string or array of input content, but got an integer instead.",
            "input[0].content",
            "invalid_type",
        ),
        (
            _body(input=[{"type": "function_call", "name": "f", "arguments": "{}"}]),
            "Missing required parameter: 'input[0].call_id'.",
            "input[0].call_id",
            "missing_required_parameter",
        ),
        (
            _body(input=[{"type": "reasoning", "id": "rs_1"}]),
            "Missing required parameter: 'input[0].summary'.",
            "input[0].summary",
            "missing_required_parameter",
        ),
        (
            _body(
                input=[USER, {"type": "function_call_output", "call_id": "call_x", "output": "1"}]
            ),
            "No tool call found for function call output with call_id call_x.",
            "input",
            None,
        ),
    ],
)
def test_requests_the_api_rejects(
    body: object, message: str | None, param: str, code: str | None
) -> None:
    error = _rejected(body)
    if message is not None:
        assert error.message == message
    assert error.body["error"]["param"] == param
    assert error.body["error"]["code"] == code


# -- render_response ----------------------------------------------------------------------------


def test_render_a_plain_reply_like_the_api() -> None:
    message = AIMessage(
        "Hello!",
        id="resp_abc",
        usage_metadata={"input_tokens": 10, "output_tokens": 3, "total_tokens": 13},
    )
    body = codec.render_response(
        message, {"model": "gpt-5-mini", "temperature": 0.3, "max_tokens": 99}
    )
    Response.model_validate(body)  # the official SDK accepts it
    assert body["id"] == "resp_abc" and body["object"] == "response"
    assert body["status"] == "completed" and body["model"] == "gpt-5-mini"
    assert body["temperature"] == 0.3 and body["max_output_tokens"] == 99
    (item,) = body["output"]
    assert (
        item["type"] == "message" and item["role"] == "assistant" and item["status"] == "completed"
    )
    assert item["id"].startswith("msg_")
    assert item["content"] == [
        {"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}
    ]
    assert body["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 13,
    }
    assert codec.decode_response(body).text == "Hello!"


def test_render_echoes_request_config() -> None:
    params = {
        "model": "gpt-5-mini",
        "tools": [{"name": "f", "parameters": {"type": "object"}}],
        "tool_choice": "any",
        "response_format": {"type": "json_schema", "name": "O", "schema": {"type": "object"}},
        "reasoning_effort": "high",
        "store": False,
    }
    body = codec.render_response(AIMessage("{}"), params)
    Response.model_validate(body)
    # a function tool is strict unless the request says otherwise, its schema then closed
    assert body["tools"] == [
        {
            "type": "function",
            "name": "f",
            "parameters": {"additionalProperties": False, "type": "object"},
            "output_schema": None,
            "strict": True,
        }
    ]
    assert body["tool_choice"] == "required"
    assert body["text"] == {
        "format": {
            "description": None,
            "type": "json_schema",
            "name": "O",
            "schema": {"type": "object"},
        },
        "verbosity": "medium",
    }
    assert body["reasoning"] == {
        "context": "current_turn",
        "effort": "high",
        "mode": "standard",
        "summary": None,
    }
    assert body["store"] is False
    assert body["prompt_cache_retention"] == "in_memory"
    assert body["billing"] == {"payer": "developer"}
    assert body["tool_usage"]["web_search"] == {"num_requests": 0}


def test_render_echoes_what_the_request_set_and_the_api_defaults_otherwise() -> None:
    params = {
        "model": "gpt-4o-mini",
        "tools": [{"name": "f", "parameters": {"type": "object"}, "strict": False}],
        "prompt_cache_key": "k",
        "safety_identifier": "u1",
        "max_tool_calls": 3,
        "frequency_penalty": 0.5,
        "text": {"verbosity": "low"},
        "service_tier": "auto",
    }
    body = codec.render_response(AIMessage("x"), params)
    Response.model_validate(body)
    assert body["tools"][0]["strict"] is False
    assert body["tools"][0]["parameters"] == {"type": "object"}  # not strict: left open
    assert (body["prompt_cache_key"], body["safety_identifier"]) == ("k", "u1")
    assert (body["max_tool_calls"], body["frequency_penalty"]) == (3, 0.5)
    assert body["presence_penalty"] == 0.0
    assert body["text"]["verbosity"] == "low"
    assert body["service_tier"] == "default"  # "auto" asks; the answer names the tier
    # gpt-4o does not reason: no effort, no cache retention
    assert body["reasoning"] == {"effort": None, "summary": None}
    assert body["prompt_cache_retention"] is None
    assert "phase" not in body["output"][0]


def test_render_labels_phases_for_the_models_that_do() -> None:
    message = AIMessage("Looking.", tool_calls=[{"name": "f", "args": {}, "id": "call_1"}])
    body = codec.render_response(message, {"model": "gpt-5.5"})
    assert body["output"][0]["phase"] == "commentary"
    body = codec.render_response(AIMessage("Done."), {"model": "gpt-5.5"})
    assert body["output"][0]["phase"] == "final_answer"
    decoded = codec.decode_response(body)
    assert decoded.text == "Done."
    body = codec.render_response(AIMessage("Done."), {"model": "gpt-5-mini"})
    assert "phase" not in body["output"][0]


def test_render_encrypted_reasoning_when_asked_for() -> None:
    message = AIMessage([{"type": "reasoning", "reasoning": "Think"}, "Hi"])
    plain = codec.render_response(message, {"model": "o3-mini"})
    assert "encrypted_content" not in plain["output"][0]
    for params in (
        {"model": "o3-mini", "include": ["reasoning.encrypted_content"]},
        {"model": "o3-mini", "store": False},
    ):
        body = codec.render_response(message, params)
        Response.model_validate(body)
        item = body["output"][0]
        assert item["type"] == "reasoning" and isinstance(item["encrypted_content"], str)
        # the client keeps it, so a stateless client can send it back
        decoded = codec.decode_response(body)
        assert decoded.content[0]["extras"]["encrypted_content"] == item["encrypted_content"]


def test_render_tool_calls_reasoning_and_logprobs() -> None:
    logprobs = [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": []}]
    message = AIMessage(
        [
            {"type": "reasoning", "reasoning": "Think", "extras": {"encrypted_content": "E"}},
            {"type": "text", "text": "Hi"},
        ],
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "call_1"}],
        response_metadata={"logprobs": logprobs},
    )
    body = codec.render_response(message)
    Response.model_validate(body)
    reasoning, text, call = body["output"]
    assert reasoning["type"] == "reasoning" and reasoning["id"].startswith("rs_")
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Think"}]
    assert reasoning["encrypted_content"] == "E"
    assert text["content"][0]["logprobs"] == logprobs
    assert call["type"] == "function_call" and call["call_id"] == "call_1"
    assert call["id"].startswith("fc_") and call["arguments"] == '{"a": 1}'
    decoded = codec.decode_response(body)
    assert decoded.tool_calls == message.tool_calls
    assert decoded.response_metadata["logprobs"] == logprobs
    assert decoded.response_metadata["finish_reason"] == "tool_calls"


def test_render_made_up_ids_are_stable_for_one_response_id() -> None:
    message = AIMessage("x", id="resp_fixed", tool_calls=[{"name": "f", "args": {}, "id": None}])
    first = codec.render_response(message)
    assert first["output"] == codec.render_response(message)["output"]
    assert first["output"][1]["call_id"].startswith("call_")


@pytest.mark.parametrize(
    ("meta", "status", "details"),
    [
        ({"finish_reason": "length"}, "incomplete", {"reason": "max_output_tokens"}),
        ({"finish_reason": "content_filter"}, "incomplete", {"reason": "content_filter"}),
        ({"finish_reason": "stop"}, "completed", None),
        (
            {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}},
            "incomplete",
            {"reason": "max_output_tokens"},
        ),
    ],
)
def test_render_status(meta: dict, status: str, details: dict | None) -> None:
    body = codec.render_response(AIMessage("cut", response_metadata=meta))
    assert body["status"] == status and body["incomplete_details"] == details
    if status == "incomplete":
        reason = {"max_output_tokens": "length"}.get(details["reason"], details["reason"])
        assert codec.decode_response(body).response_metadata["finish_reason"] == reason


def test_render_refuses_content_the_api_cannot_return() -> None:
    with pytest.raises(Exception) as caught:
        codec.render_response(AIMessage([{"type": "audio", "base64": "AAAA"}]))
    assert "cannot be sent over openai-responses" in str(caught.value)
    with pytest.raises(Exception) as caught:
        codec.render_response(AIMessage([{"type": "server_tool_result", "tool_call_id": "nope"}]))
    assert "it answers no server_tool_call block before it" in str(caught.value)


# -- render_error -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "kind", "code"),
    [
        (BadRequestError("bad"), 400, "invalid_request_error", None),
        (ContextLengthError("too long"), 400, "invalid_request_error", "context_length_exceeded"),
        (AuthenticationError("no key"), 401, "invalid_request_error", "invalid_api_key"),
        (NotFoundError("no model"), 404, "invalid_request_error", "model_not_found"),
        (RateLimitError("slow down"), 429, "requests", "rate_limit_exceeded"),
        (OverloadedError("busy"), 503, "server_error", "server_is_overloaded"),
        (ServerError("oops"), 500, "server_error", None),
        (ProviderError("odd"), 500, "server_error", None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, ProviderError) else None,
)
def test_render_error_shapes(
    error: ProviderError, status: int, kind: str, code: str | None
) -> None:
    got_status, headers, body = codec.render_error(error)
    assert got_status == status
    assert headers["content-type"] == "application/json"
    # OpenAI names the parameter of a context overflow: the input
    param = "input" if isinstance(error, ContextLengthError) else None
    assert body == {"error": {"message": error.message, "type": kind, "param": param, "code": code}}
    decoded = codec.decode_error(got_status, body, headers)
    assert type(decoded) is type(error) or (
        type(error) is ProviderError and isinstance(decoded, ServerError)
    )
    assert decoded.message == error.message


def test_render_error_names_the_param_its_wording_quotes() -> None:
    _, _, body = codec.render_error(BadRequestError("Invalid 'top_p': decimal above maximum."))
    assert body["error"]["param"] == "top_p"
    _, _, body = codec.render_error(BadRequestError("Your request was malformed."))
    assert body["error"]["param"] is None


def test_render_error_rate_limit_headers() -> None:
    status, headers, _ = codec.render_error(RateLimitError("slow", retry_after=2.5))
    assert status == 429
    assert headers["retry-after"] == "2.5" and headers["retry-after-ms"] == "2500"
    _, headers, _ = codec.render_error(RateLimitError("slow", retry_after=3))
    assert headers["retry-after"] == "3"
    assert codec.decode_error(429, {"error": {"message": "slow"}}, headers).retry_after == 3.0


def test_render_error_keeps_an_openai_body_and_status() -> None:
    body = {
        "error": {"message": "m", "type": "invalid_request_error", "param": "input", "code": "x"}
    }
    error = BadRequestError("m", status_code=422, body=body)
    assert codec.render_error(error) == (422, {"content-type": "application/json"}, body)
