"""Server side of the Bedrock Converse codec: reading requests like the API, answering like it."""

from __future__ import annotations

import json

import pytest

from myna.codecs import bedrock_converse as codec
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

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"


def user(*blocks):
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks):
    return {"role": "assistant", "content": list(blocks)}


TOOLS = {
    "tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]
}


# ---------------------------------------------------------------------------- decode_request


def test_decode_full_request():
    body = {
        "system": [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
        "messages": [
            user(
                {"text": "Weather in Paris?"},
                {"image": {"format": "jpeg", "source": {"bytes": "/9j/AAAA"}}},
                {"document": {"format": "pdf", "name": "report", "source": {"bytes": "JVBE"}}},
            ),
            assistant(
                {"reasoningContent": {"reasoningText": {"text": "hm", "signature": "s"}}},
                {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
            ),
            user(
                {
                    "toolResult": {
                        "toolUseId": "t1",
                        "content": [{"json": {"temp": 22}}],
                        "status": "success",
                    }
                },
                {"text": "And tomorrow?"},
            ),
        ],
        "inferenceConfig": {"maxTokens": 512, "temperature": 0.2, "stopSequences": ["###"]},
        "toolConfig": {**TOOLS, "toolChoice": {"auto": {}}},
        "additionalModelRequestFields": {
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "top_k": 40,
        },
        "requestMetadata": {"team": "a"},
    }
    messages, params = codec.decode_request(body, model=MODEL)
    assert messages[0] == SystemMessage(
        [{"type": "text", "text": "Be brief.", "extras": {"cache_control": {"type": "ephemeral"}}}]
    )
    assert messages[1] == HumanMessage(
        [
            {"type": "text", "text": "Weather in Paris?"},
            {"type": "image", "base64": "/9j/AAAA", "mime_type": "image/jpeg"},
            {
                "type": "file",
                "base64": "JVBE",
                "mime_type": "application/pdf",
                "extras": {"name": "report"},
            },
        ]
    )
    assert messages[2].tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "t1", "type": "tool_call"}
    ]
    assert messages[2].content == [
        {"type": "reasoning", "reasoning": "hm", "extras": {"signature": "s"}}
    ]
    assert messages[3] == ToolMessage(
        [{"type": "text", "text": '{"temp": 22}', "extras": {"json": True}}],
        tool_call_id="t1",
        name="get_weather",
    )
    assert messages[4] == HumanMessage("And tomorrow?")
    assert params == {
        "model": MODEL,
        "max_tokens": 512,
        "temperature": 0.2,
        "stop": ["###"],
        "tools": [{"name": "get_weather", "description": "", "parameters": {"type": "object"}}],
        "tool_choice": "auto",
        "reasoning_budget": 1024,
        "additional_model_request_fields": {"top_k": 40},
        "requestMetadata": {"team": "a"},
    }


def test_structured_output_and_error_tool_result_are_read_back():
    body = {
        "messages": [
            user({"text": "q"}),
            assistant({"toolUse": {"toolUseId": "t", "name": "get_weather", "input": {}}}),
            user(
                {"toolResult": {"toolUseId": "t", "content": [{"text": "boom"}], "status": "error"}}
            ),
        ],
        "toolConfig": TOOLS,
        "outputConfig": {
            "textFormat": {
                "type": "json_schema",
                "structure": {"jsonSchema": {"schema": '{"type": "object"}', "name": "Answer"}},
            }
        },
    }
    messages, params = codec.decode_request(body, model="m")
    assert messages[-1].status == "error" and messages[-1].content == "boom"
    assert params["response_format"] == {
        "type": "json_schema",
        "schema": {"type": "object"},
        "name": "Answer",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {},
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        ),
        ({"messages": []}, "A conversation must start with a user message."),
        (
            {"messages": [assistant({"text": "hi"})]},
            "A conversation must start with a user message.",
        ),
        (
            {"messages": [user({"text": "a"}), user({"text": "b"})]},
            "A conversation must alternate between user and assistant roles. Make sure the conversation "
            "alternates between user and assistant roles and try again.",
        ),
        (
            {"messages": [{"role": "system", "content": [{"text": "a"}]}]},
            "1 validation error detected: Value 'system' at 'messages.1.member.role' failed to satisfy "
            "constraint: Member must satisfy enum value set: [user, assistant]",
        ),
        (
            {"messages": [{"role": "user"}]},
            "1 validation error detected: Value null at 'messages.1.member.content' failed to satisfy "
            "constraint: Member must not be null",
        ),
        (
            {"messages": [user()]},
            "The content field in the Message object at messages.0 is empty. Add a ContentBlock object to "
            "the content field and try again.",
        ),
        (
            {"messages": [user({"text": ""})]},
            "The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to the "
            "text field, and try again.",
        ),
        (
            {"messages": [user({"text": "a", "image": {}})]},
            "The ContentBlock object at messages.0.content.0 must set exactly one of the following keys",
        ),
        (
            {
                "messages": [
                    user({"text": "q"}),
                    assistant({"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}),
                ]
            },
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ),
        (
            {
                "messages": [
                    user({"text": "q"}),
                    assistant({"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}),
                    user({"text": "no result"}),
                ],
                "toolConfig": TOOLS,
            },
            "Expected toolResult blocks at messages.2.content for the following Ids: t1",
        ),
        (
            {
                "messages": [user({"toolResult": {"toolUseId": "x", "content": []}})],
                "toolConfig": TOOLS,
            },
            "The number of toolResult blocks at messages.0.content exceeds the number of toolUse blocks of "
            "previous turn.",
        ),
        (
            {"messages": [user({"text": "q"})], "inferenceConfig": {"temperature": 1.5}},
            "1 validation error detected: Value '1.5' at 'inferenceConfig.temperature' failed to satisfy "
            "constraint: Member must have value less than or equal to 1",
        ),
        (
            {"messages": [user({"text": "q"})], "inferenceConfig": {"maxTokens": 0}},
            "Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value "
            "greater than or equal to 1",
        ),
        (
            {"messages": [user({"text": "q"})], "toolConfig": {"tools": []}},
            "Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater "
            "than or equal to 1",
        ),
        (
            {
                "messages": [user({"text": "q"})],
                "toolConfig": {"tools": [{"toolSpec": {"name": "f"}}]},
            },
            "Value null at 'toolConfig.tools.1.member.toolSpec.inputSchema' failed to satisfy constraint",
        ),
        ([], "Malformed input request, please reformat your input and try again."),
    ],
)
def test_decode_request_rejects_like_the_api(body, message):
    with pytest.raises(BadRequestError) as info:
        codec.decode_request(body, model=MODEL)
    assert message in info.value.message
    assert info.value.status_code == 400
    assert info.value.body == {"message": info.value.message}
    status, headers, wire = codec.render_error(info.value)
    assert status == 400
    assert headers["x-amzn-errortype"].startswith("ValidationException:")
    assert wire == {"message": info.value.message}


def test_cache_point_after_a_tool_result_marks_the_tool_message():
    body = {
        "messages": [
            user({"text": "q"}),
            assistant({"toolUse": {"toolUseId": "t", "name": "get_weather", "input": {}}}),
            user(
                {"toolResult": {"toolUseId": "t", "content": [{"text": "r"}]}},
                {"cachePoint": {"type": "default"}},
            ),
        ],
        "toolConfig": TOOLS,
    }
    messages, _ = codec.decode_request(body)
    assert messages[-1].additional_kwargs == {"cache_control": {"type": "ephemeral"}}
    # and it goes back to the same wire shape
    again = codec.encode_request(
        messages,
        {"tools": [{"name": "get_weather", "description": "", "parameters": {"type": "object"}}]},
    )
    assert again["messages"][-1] == body["messages"][-1]


# --------------------------------------------------------------------------- render_response


def test_render_response_shape():
    message = AIMessage(
        [{"type": "text", "text": "Sunny."}],
        tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "tooluse_9"}],
        invalid_tool_calls=[
            {
                "name": "bad",
                "args": "{oops",
                "id": "tooluse_x",
                "error": "e",
                "type": "invalid_tool_call",
            }
        ],
        usage_metadata={
            "input_tokens": 100,
            "output_tokens": 20,
            "total_tokens": 120,
            "input_token_details": {"cache_read": 60, "cache_creation": 30},
        },
        response_metadata={"metrics": {"latencyMs": 42}, "stop_reason": "tool_use"},
    )
    assert codec.render_response(message, {"model": MODEL}) == {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"text": "Sunny."},
                    {
                        "toolUse": {
                            "toolUseId": "tooluse_9",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    },
                    {"toolUse": {"toolUseId": "tooluse_x", "name": "bad", "input": "{oops"}},
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": 10,
            "outputTokens": 20,
            "totalTokens": 120,
            "cacheReadInputTokens": 60,
            "cacheWriteInputTokens": 30,
        },
        "metrics": {"latencyMs": 42},
    }


def test_render_response_maps_finish_reasons_back():
    for finish, stop in (
        ("length", "max_tokens"),
        ("content_filter", "content_filtered"),
        ("stop", "end_turn"),
    ):
        body = codec.render_response(AIMessage("x", response_metadata={"finish_reason": finish}))
        assert body["stopReason"] == stop
    assert codec.render_response(AIMessage("x"))["usage"] == {
        "inputTokens": 0,
        "outputTokens": 0,
        "totalTokens": 0,
    }


def test_render_response_refuses_unknown_blocks():
    with pytest.raises(
        UserError, match=r"message.content\[0\]: Bedrock Converse cannot carry a 'mystery' block"
    ):
        codec.render_response(AIMessage([{"type": "mystery"}]))


# ------------------------------------------------------------------------------ render_error


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (
            RateLimitError(
                "Too many requests, please wait before trying again.",
                status_code=429,
                retry_after=2,
            ),
            429,
            "ThrottlingException",
        ),
        (OverloadedError("Overloaded", status_code=529), 503, "ServiceUnavailableException"),
        (AuthenticationError("Missing API key", status_code=401), 403, "AccessDeniedException"),
        (NotFoundError("no such model", status_code=404), 404, "ResourceNotFoundException"),
        (
            ContextLengthError("Input is too long for requested model.", status_code=400),
            400,
            "ValidationException",
        ),
        (ServerError("boom", status_code=500), 500, "InternalServerException"),
        (ServerError("model broke", status_code=424), 424, "ModelErrorException"),
        (ProviderError("odd"), 500, "InternalServerException"),
    ],
)
def test_render_error_then_decode_error(error, status, kind):
    got_status, headers, body = codec.render_error(error)
    assert (got_status, headers["x-amzn-errortype"].split(":")[0]) == (status, kind)
    assert body == {"message": error.message}
    assert headers["content-type"] == "application/json" and headers["x-amzn-requestid"]
    back = codec.decode_error(got_status, json.loads(json.dumps(body)), headers)
    assert back.message == error.message
    if type(error) is not ProviderError:
        assert isinstance(back, type(error)) or (
            isinstance(error, OverloadedError) and isinstance(back, OverloadedError)
        )
    if error.retry_after is not None:
        assert headers["retry-after"] == "2" and back.retry_after == 2.0


def test_render_error_keeps_a_decoded_type():
    error = codec.decode_error(
        429, {"message": "not ready"}, {"x-amzn-errortype": "ModelNotReadyException"}
    )
    _, headers, _ = codec.render_error(error)
    assert headers["x-amzn-errortype"].startswith("ModelNotReadyException:")


def test_render_error_needs_a_provider_error():
    with pytest.raises(UserError, match="takes a myna ProviderError, got ValueError"):
        codec.render_error(ValueError("x"))
