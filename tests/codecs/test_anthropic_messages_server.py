"""decode_request, render_response, render_stream and render_error: the emulator's side."""

from __future__ import annotations

import pytest

from myna.codecs import anthropic_messages as codec
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

M = "claude-haiku-4-5"


def body(messages, **extra):
    return {"model": M, "max_tokens": 100, "messages": messages, **extra}


def user(content):
    return {"role": "user", "content": content}


def assistant(content):
    return {"role": "assistant", "content": content}


TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}}


# -------------------------------------------------------------------- decode_request: validation


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ([], "The request body is not valid JSON: expected an object."),
        ({"max_tokens": 1, "messages": [user("hi")]}, "model: Field required"),
        (
            {"model": 3, "max_tokens": 1, "messages": [user("hi")]},
            "model: Input should be a valid string",
        ),
        ({"model": M, "messages": [user("hi")]}, "max_tokens: Field required"),
        (body([user("hi")], max_tokens="5"), "max_tokens: Input should be a valid integer"),
        (
            body([user("hi")], max_tokens=0),
            "max_tokens: Input should be greater than or equal to 1",
        ),
        ({"model": M, "max_tokens": 1}, "messages: Field required"),
        (body({"role": "user"}), "messages: Input should be a valid list"),
        (body([]), "messages: at least one message is required"),
        (body(["hi"]), "messages.0: Input should be a valid dictionary"),
        (body([{"content": "hi"}]), "messages.0.role: Field required"),
        (
            body([{"role": "system", "content": "x"}, user("hi")]),
            'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
            'parameter, not "system" as an input message role.',
        ),
        (
            body([{"role": "bot", "content": "x"}]),
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
        (body([{"role": "user"}]), "messages.0.content: Field required"),
        (body([user(3)]), "messages.0.content: Input should be a valid list"),
        (body([user(["x"])]), "messages.0.content.0: Input should be a valid dictionary"),
        (body([user([{"text": "x"}])]), "messages.0.content.0.type: Field required"),
        (
            body([user(""), assistant("x"), user("y")]),
            "messages.0: all messages must have non-empty content except for the optional final "
            "assistant message",
        ),
        (
            body([user([{"type": "text", "text": ""}])]),
            "messages: text content blocks must be non-empty",
        ),
        (
            body([user("q"), assistant("trailing ")]),
            "messages: final assistant content cannot end with trailing whitespace",
        ),
        (
            body([user("q"), assistant([TOOL_USE]), user("no result")]),
            "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: "
            "toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the next "
            "message.",
        ),
        (
            body([user([{"type": "tool_result", "tool_use_id": "toolu_9", "content": "x"}])]),
            "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9. "
            "Each `tool_result` block must have a corresponding `tool_use` block in the previous "
            "message.",
        ),
        (
            body(
                [
                    user("q"),
                    assistant([{"type": "tool_use", "id": ["x"], "name": "f", "input": {}}]),
                ]
            ),
            "messages.1.content.0.tool_use.id: Input should be a valid string",
        ),
        (
            body([user([{"type": "tool_result", "tool_use_id": {"a": 1}}])]),
            "messages.0.content.0.tool_result.tool_use_id: Input should be a valid string",
        ),
        (
            body([user("q")], output_config="json"),
            "output_config: Input should be a valid dictionary",
        ),
        (body([user("q")], thinking=True), "thinking: Input should be a valid dictionary"),
        (
            body([user("q")], temperature=1.5),
            "temperature: Input should be less than or equal to 1",
        ),
        (body([user("q")], top_p=-0.1), "top_p: Input should be greater than or equal to 0"),
        (body([user("q")], temperature="hot"), "temperature: Input should be a valid number"),
        (body([user("q")], stream="yes"), "stream: Input should be a valid boolean"),
        (body([user("q")], stop_sequences="END"), "stop_sequences: Input should be a valid list"),
        (body([user("q")], system=[{"type": "image"}]), "system.0.type: Input should be 'text'"),
        (body([user("q")], tools={"name": "f"}), "tools: Input should be a valid list"),
        (body([user("q")], tools=[{"name": "f"}]), "tools.0.custom.input_schema: Field required"),
        (body([user("q")], tool_choice={"type": "tool"}), "tool_choice.tool.name: Field required"),
        (
            body([user("q")], tool_choice={"type": "sometimes"}),
            "tool_choice: Input tag 'sometimes' found using 'type' does not match any of the "
            "expected tags: 'auto', 'any', 'tool', 'none'",
        ),
        (body([user("q")], tool_choice="auto"), "tool_choice: Input should be a valid dictionary"),
        (
            body([user("q")], thinking={"type": "enabled", "budget_tokens": 500}),
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
        (
            body([user("q")], thinking={"type": "enabled", "budget_tokens": 2000}),
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
            "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
            "#max-tokens-and-context-window-size",
        ),
        (
            body([user("q")], output_config={"format": {"type": "json_schema"}}),
            "output_config.format.schema: Field required",
        ),
    ],
)
def test_requests_the_api_rejects_get_its_400(request_body, message):
    with pytest.raises(BadRequestError) as exc:
        codec.decode_request(request_body)
    err = exc.value
    assert err.message == message
    assert err.status_code == 400
    assert err.body["type"] == "error"
    assert err.body["error"] == {"type": "invalid_request_error", "message": message}
    assert err.body["request_id"].startswith("req_")


def test_consecutive_same_role_turns_are_merged_before_pairing_tool_results():
    messages, _ = codec.decode_request(
        body(
            [
                user("q"),
                assistant([TOOL_USE]),
                user([{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]),
                user("and?"),
            ]
        )
    )
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "HumanMessage",
    ]


# -------------------------------------------------------------------- decode_request: conversion


def test_conversation_decodes_into_messages():
    request = body(
        [
            user(
                [
                    {"type": "text", "text": "Weather?"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
                        "cache_control": {"type": "ephemeral"},
                    },
                ]
            ),
            assistant(
                [
                    {"type": "thinking", "thinking": "hm", "signature": "S"},
                    {"type": "text", "text": "Let me check."},
                    TOOL_USE,
                ]
            ),
            user(
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": "sunny",
                        "is_error": True,
                        "cache_control": {"type": "ephemeral"},
                    },
                    {"type": "text", "text": "Thanks"},
                ]
            ),
        ],
        system="Be brief.",
    )
    messages, params = codec.decode_request(request)
    assert messages == [
        SystemMessage("Be brief."),
        HumanMessage(
            [
                {"type": "text", "text": "Weather?"},
                {
                    "type": "image",
                    "base64": "iVBOR",
                    "mime_type": "image/png",
                    "extras": {"cache_control": {"type": "ephemeral"}},
                },
            ]
        ),
        AIMessage(
            [
                {"type": "reasoning", "reasoning": "hm", "extras": {"signature": "S"}},
                {"type": "text", "text": "Let me check."},
            ],
            tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "toolu_1"}],
        ),
        ToolMessage(
            "sunny",
            tool_call_id="toolu_1",
            status="error",
            name="weather",
            additional_kwargs={"cache_control": {"type": "ephemeral"}},
        ),
        HumanMessage([{"type": "text", "text": "Thanks"}]),
    ]
    assert params == {"model": M, "max_tokens": 100}


def test_documents_and_unknown_blocks_decode_to_standard_or_non_standard():
    request = body(
        [
            user(
                [
                    {
                        "type": "document",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": "JVB",
                        },
                        "title": "R",
                    },
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "words"},
                    },
                    {"type": "document", "source": {"type": "url", "url": "https://a.pdf"}},
                    {"type": "image", "source": {"type": "file", "file_id": "file_1"}},
                    {
                        "type": "document",
                        "source": {"type": "content", "content": [{"type": "text", "text": "c"}]},
                    },
                    {"type": "search_result", "source": "s", "title": "t", "content": []},
                ]
            )
        ]
    )
    (message,), _ = codec.decode_request(request)
    assert message.content == [
        {"type": "file", "base64": "JVB", "mime_type": "application/pdf", "extras": {"title": "R"}},
        {"type": "text-plain", "mime_type": "text/plain", "text": "words"},
        {"type": "file", "url": "https://a.pdf"},
        {"type": "image", "file_id": "file_1"},
        {
            "type": "non_standard",
            "value": {
                "type": "document",
                "source": {"type": "content", "content": [{"type": "text", "text": "c"}]},
            },
        },
        {
            "type": "non_standard",
            "value": {"type": "search_result", "source": "s", "title": "t", "content": []},
        },
    ]


def test_tool_result_with_block_content():
    request = body(
        [
            user("q"),
            assistant([TOOL_USE]),
            user(
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "15C"}],
                    }
                ]
            ),
        ]
    )
    messages, _ = codec.decode_request(request)
    assert messages[-1] == ToolMessage(
        [{"type": "text", "text": "15C"}], tool_call_id="toolu_1", name="weather"
    )


def test_params_decode_into_neutral_keys():
    schema = {"type": "object", "properties": {}}
    request = body(
        [user("q")],
        system=[{"type": "text", "text": "rules", "cache_control": {"type": "ephemeral"}}],
        temperature=0.5,
        top_p=0.9,
        top_k=3,
        stream=True,
        stop_sequences=["END"],
        tools=[
            {"name": "f", "description": "F", "input_schema": schema, "strict": True},
            {"name": "g", "input_schema": schema, "input_examples": [{}]},
            {"type": "web_search_20250305", "name": "web_search"},
        ],
        tool_choice={"type": "tool", "name": "f", "disable_parallel_tool_use": True},
        output_config={"format": {"type": "json_schema", "schema": schema}, "effort": "high"},
        thinking={"type": "enabled", "budget_tokens": 1024},
        cache_control={"type": "ephemeral", "ttl": "5m"},
        metadata={"user_id": "u"},
        max_tokens=2000,
    )
    messages, params = codec.decode_request(request)
    assert messages[0] == SystemMessage(
        [{"type": "text", "text": "rules", "extras": {"cache_control": {"type": "ephemeral"}}}]
    )
    assert params == {
        "model": M,
        "max_tokens": 2000,
        "stop": ["END"],
        "tools": [
            {"name": "f", "description": "F", "parameters": schema, "strict": True},
            {"name": "g", "input_schema": schema, "input_examples": [{}]},
            {"type": "web_search_20250305", "name": "web_search"},
        ],
        "parallel_tool_calls": False,
        "tool_choice": "f",
        "response_format": {"type": "json_schema", "schema": schema},
        "reasoning_effort": "high",
        "reasoning_budget": 1024,
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 3,
        "stream": True,
        "cache_control": {"type": "ephemeral", "ttl": "5m"},
        "metadata": {"user_id": "u"},
    }


@pytest.mark.parametrize(
    ("wire", "neutral"),
    [
        ({"type": "auto"}, {"tool_choice": "auto"}),
        ({"type": "any"}, {"tool_choice": "any"}),
        ({"type": "none"}, {"tool_choice": "none"}),
        ({"type": "auto", "disable_parallel_tool_use": False}, {"tool_choice": "auto"}),
    ],
)
def test_tool_choice_decodes(wire, neutral):
    _, params = codec.decode_request(body([user("q")], tool_choice=wire))
    assert {k: v for k, v in params.items() if k == "tool_choice"} == neutral


def test_thinking_disabled_and_adaptive():
    _, off = codec.decode_request(body([user("q")], thinking={"type": "disabled"}))
    assert off["reasoning_budget"] == 0
    _, adaptive = codec.decode_request(body([user("q")], thinking={"type": "adaptive"}))
    assert adaptive["thinking"] == {"type": "adaptive"}


def test_encode_then_decode_request_gives_back_messages_and_params():
    messages = [
        SystemMessage("sys"),
        HumanMessage("hi"),
        AIMessage("", tool_calls=[{"name": "f", "args": {"a": [1, None]}, "id": "toolu_1"}]),
        ToolMessage("r", tool_call_id="toolu_1", name="f"),
        AIMessage(
            [
                {"type": "reasoning", "reasoning": "r", "extras": {"signature": "s"}},
                {"type": "text", "text": "done"},
            ]
        ),
        HumanMessage("more"),
    ]
    params = {
        "model": M,
        "max_tokens": 50,
        "temperature": 0.1,
        "stop": ["x"],
        "stream": True,
        "tools": [{"name": "f", "description": "d", "parameters": {"type": "object"}}],
        "tool_choice": "any",
        "parallel_tool_calls": False,
        "reasoning_effort": "low",
        "response_format": {"type": "json_schema", "schema": {"type": "object"}},
    }
    back_messages, back_params = codec.decode_request(codec.encode_request(messages, params))
    assert back_messages == messages
    assert back_params == params


# ---------------------------------------------------------------------------- render_response


def test_render_response_shape():
    msg = AIMessage(
        [
            {"type": "reasoning", "reasoning": "hm", "extras": {"signature": "S"}},
            {"type": "text", "text": "Hi"},
        ],
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "toolu_1"}],
        usage_metadata={
            "input_tokens": 50,
            "output_tokens": 5,
            "total_tokens": 55,
            "input_token_details": {"cache_read": 30, "cache_creation": 10},
        },
    )
    out = codec.render_response(msg, {"model": "claude-test"})
    assert out["id"].startswith("msg_01") and len(out["id"]) == 28
    assert {k: v for k, v in out.items() if k != "id"} == {
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [
            {"type": "thinking", "thinking": "hm", "signature": "S"},
            {"type": "text", "text": "Hi"},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "f",
                "input": {"x": 1},
                "caller": {"type": "direct"},
            },
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "stop_details": None,
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 10,
            "cache_read_input_tokens": 30,
            # a cache write without a TTL breakdown is the default 5-minute cache
            "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 5,
            "service_tier": "standard",
            "inference_geo": "not_available",
        },
    }


def test_render_response_keeps_scripted_metadata_and_defaults():
    msg = AIMessage(
        "x",
        id="msg_keep",
        response_metadata={
            "model_name": "claude-scripted",
            "finish_reason": "length",
            "stop_sequence": None,
        },
    )
    out = codec.render_response(msg)
    assert (out["id"], out["model"], out["stop_reason"]) == (
        "msg_keep",
        "claude-scripted",
        "max_tokens",
    )
    # no usage in the reply: zeros, with every field the API always sends
    assert out["usage"] == {
        "input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 0,
        "service_tier": "standard",
        "inference_geo": "not_available",
    }
    raw = codec.render_response(AIMessage("x", response_metadata={"stop_reason": "pause_turn"}))
    assert raw["stop_reason"] == "pause_turn"
    assert raw["model"] == codec.DEFAULT_MODEL_NAME
    auto = codec.render_response(AIMessage("x", id="run-123"))
    assert auto["id"].startswith("msg_")


def test_render_response_invalid_tool_call_keeps_broken_input():
    msg = AIMessage(
        "", invalid_tool_calls=[{"name": "f", "args": "{bad", "id": "toolu_9", "error": "e"}]
    )
    out = codec.render_response(msg)
    assert out["content"] == [
        {
            "type": "tool_use",
            "id": "toolu_9",
            "name": "f",
            "input": "{bad",
            "caller": {"type": "direct"},
        }
    ]
    back = codec.decode_response(out)
    assert back.invalid_tool_calls[0]["args"] == "{bad"


def test_render_response_refuses_image_output():
    with pytest.raises(UserError, match="cannot carry a 'image' block in an assistant turn"):
        codec.render_response(AIMessage([{"type": "image", "url": "https://x"}]))


# ------------------------------------------------------------------------------ render_stream


def test_render_stream_event_sequence_for_text():
    msg = AIMessage(
        "Hello there", usage_metadata={"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}
    )
    events = list(codec.render_stream(msg, {"model": "claude-test"}, chunking="words"))
    assert [e["type"] for e in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0]["message"]["model"] == "claude-test"
    assert events[0]["message"]["stop_details"] is None
    assert events[0]["message"]["usage"] == {
        "input_tokens": 5,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 1,
        "service_tier": "standard",
        "inference_geo": "not_available",
    }
    assert events[1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert [e["delta"]["text"] for e in events[3:5]] == ["Hello ", "there"]
    assert events[6] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None, "stop_details": None},
        # the closing counts repeat the input side; breakdown, tier and geo are in message_start
        "usage": {
            "input_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 2,
        },
    }


def test_render_stream_thinking_signature_tool_use_and_redacted():
    msg = AIMessage(
        [
            {"type": "reasoning", "reasoning": "a b", "extras": {"signature": "SIG"}},
            {"type": "reasoning", "extras": {"redacted": "R"}},
            {"type": "text", "text": "ok"},
        ],
        tool_calls=[{"name": "f", "args": {"k": "v"}, "id": "toolu_1"}],
    )
    events = list(codec.render_stream(msg, chunking="words"))
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts == [
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "redacted_thinking", "data": "R"},
        {"type": "text", "text": ""},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "f",
            "input": {},
            "caller": {"type": "direct"},
        },
    ]
    deltas = [(e["index"], e["delta"]) for e in events if e["type"] == "content_block_delta"]
    assert deltas[:3] == [
        (0, {"type": "thinking_delta", "thinking": "a "}),
        (0, {"type": "thinking_delta", "thinking": "b"}),
        (0, {"type": "signature_delta", "signature": "SIG"}),
    ]
    assert deltas[4] == (3, {"type": "input_json_delta", "partial_json": ""})
    assert "".join(d["partial_json"] for i, d in deltas if i == 3) == '{"k": "v"}'
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    back = merge_chunks(list(codec.decode_stream(events))).to_message()
    assert back.content == msg.content
    assert back.tool_calls == msg.tool_calls


def test_render_stream_server_tools_and_citations_round_trip():
    msg = AIMessage(
        [
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
                "output": [],
                "extras": {"block_type": "web_search_tool_result"},
            },
            {
                "type": "text",
                "text": "It is so.",
                "annotations": [
                    {
                        "type": "citation",
                        "url": "https://a",
                        "title": "A",
                        "cited_text": "so",
                        "extras": {"type": "web_search_result_location", "encrypted_index": "I"},
                    }
                ],
            },
        ]
    )
    events = list(codec.render_stream(msg, chunking=3))
    assert {
        "type": "citations_delta",
        "citation": {
            "type": "web_search_result_location",
            "encrypted_index": "I",
            "cited_text": "so",
            "url": "https://a",
            "title": "A",
        },
    } in [e.get("delta") for e in events]
    back = merge_chunks(list(codec.decode_stream(events))).to_message()
    assert back.content == msg.content
    assert codec.decode_response(codec.render_response(msg)).content == msg.content


def test_render_stream_refuses_image_output_eagerly():
    with pytest.raises(UserError, match="cannot carry a 'audio' block"):
        codec.render_stream(AIMessage([{"type": "audio", "base64": "AA"}]))


# ------------------------------------------------------------------------------- render_error


@pytest.mark.parametrize(
    ("error", "status", "kind", "retry"),
    [
        (OverloadedError("Overloaded"), 529, "overloaded_error", "true"),
        (RateLimitError("slow down", retry_after=30), 429, "rate_limit_error", "true"),
        (AuthenticationError("invalid x-api-key"), 401, "authentication_error", "false"),
        (AuthenticationError("no", status_code=403), 403, "permission_error", "false"),
        (NotFoundError("model: x"), 404, "not_found_error", "false"),
        (ContextLengthError("prompt is too long"), 400, "invalid_request_error", "false"),
        (BadRequestError("bad"), 400, "invalid_request_error", "false"),
        (ServerError("boom"), 500, "api_error", "true"),
        (ServerError("slow", status_code=504), 504, "timeout_error", "true"),
        (ProviderError("odd", status_code=418), 418, "invalid_request_error", "false"),
    ],
)
def test_render_error_mirrors_the_api(error, status, kind, retry):
    got_status, headers, body = codec.render_error(error)
    assert got_status == status
    assert body["type"] == "error"
    assert body["error"] == {"type": kind, "message": error.message}
    assert headers["content-type"] == "application/json"
    assert headers["request-id"] == body["request_id"]
    assert headers["x-should-retry"] == retry
    back = codec.decode_error(got_status, body, headers)
    assert isinstance(back, type(error))
    assert back.message == error.message


def test_render_error_retry_after_header():
    _, headers, _ = codec.render_error(RateLimitError("slow", retry_after=2.5))
    assert headers["retry-after"] == "2.5"
    _, headers, _ = codec.render_error(RateLimitError("slow", retry_after=3))
    assert headers["retry-after"] == "3"
    assert codec.decode_error(429, {}, headers).retry_after == 3.0
    _, headers, _ = codec.render_error(OverloadedError("x"))
    assert "retry-after" not in headers


def test_render_error_replays_a_recorded_anthropic_body():
    recorded = {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: y"},
        "request_id": "req_recorded",
    }
    status, headers, body = codec.render_error(codec.decode_error(404, recorded))
    assert (status, body, headers["request-id"]) == (404, recorded, "req_recorded")


def test_render_error_refuses_non_provider_errors():
    with pytest.raises(UserError, match="takes a myna ProviderError, got ValueError"):
        codec.render_error(ValueError("x"))


def test_render_stream_error_event_decodes_back():
    event = codec.render_stream_error(OverloadedError("Overloaded"))
    assert event == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    stream = [*list(codec.render_stream(AIMessage("hi")))[:3], event]
    with pytest.raises(OverloadedError, match="Overloaded"):
        list(codec.decode_stream(stream))
