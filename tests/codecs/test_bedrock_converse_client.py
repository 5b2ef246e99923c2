"""Client side of the Bedrock Converse codec: exact wire shapes of requests, replies, errors."""

from __future__ import annotations

import base64
import json

import pytest

from myna.codecs import bedrock_converse as codec
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    DecodeError,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    ServerError,
    UserError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 8).decode()
PDF = base64.b64encode(b"%PDF-1.4 ...").decode()
TOOL = {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}


def test_request_path_encodes_the_model_id():
    assert codec.request_path(MODEL) == "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x"
    assert codec.request_path(arn, stream=True) == (
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x"
        "/converse-stream"
    )


# ---------------------------------------------------------------------------- encode_request


def test_basic_request_shape():
    body = codec.encode_request(
        [SystemMessage("Be brief."), HumanMessage("Hi")],
        {
            "model": MODEL,
            "max_tokens": 100,
            "temperature": 0.5,
            "top_p": 0.9,
            "stop": ["END"],
            "stream": True,
            "stream_usage": True,
            "seed": 3,
        },
    )
    assert body == {
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "system": [{"text": "Be brief."}],
        "inferenceConfig": {
            "maxTokens": 100,
            "temperature": 0.5,
            "topP": 0.9,
            "stopSequences": ["END"],
        },
    }


def test_tool_round_of_a_conversation():
    ai = AIMessage(
        "Let me look.", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "t1"}]
    )
    body = codec.encode_request(
        [
            HumanMessage("Weather?"),
            ai,
            ToolMessage("22C", tool_call_id="t1"),
            ToolMessage("oops", tool_call_id="t2", status="error"),
            HumanMessage("Thanks"),
        ],
        {"model": MODEL, "tools": [TOOL], "tool_choice": "get_weather"},
    )
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "Weather?"}]},
        {
            "role": "assistant",
            "content": [
                {"text": "Let me look."},
                {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "t1", "content": [{"text": "22C"}]}},
                {
                    "toolResult": {
                        "toolUseId": "t2",
                        "content": [{"text": "oops"}],
                        "status": "error",
                    }
                },
                {"text": "Thanks"},
            ],
        },
    ]
    assert body["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "get_weather",
                    "description": "Weather",
                    "inputSchema": {"json": {"type": "object"}},
                }
            }
        ],
        "toolChoice": {"tool": {"name": "get_weather"}},
    }


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"auto": {}}),
        ("any", {"any": {}}),
        ("required", {"any": {}}),
        ({"type": "function", "function": {"name": "f"}}, {"tool": {"name": "f"}}),
        ({"any": {}}, {"any": {}}),
    ],
)
def test_tool_choice_forms(choice, wire):
    body = codec.encode_request([HumanMessage("x")], {"tools": [TOOL], "tool_choice": choice})
    assert body["toolConfig"]["toolChoice"] == wire


def test_tool_formats_accepted():
    openai_tool = {"type": "function", "function": {**TOOL, "strict": True}}
    anthropic_tool = {"name": "a", "input_schema": {"type": "object", "properties": {}}}
    raw = {"toolSpec": {"name": "raw", "inputSchema": {"json": {}}}}
    body = codec.encode_request([HumanMessage("x")], {"tools": [openai_tool, anthropic_tool, raw]})
    assert body["toolConfig"]["tools"] == [
        {
            "toolSpec": {
                "name": "get_weather",
                "description": "Weather",
                "inputSchema": {"json": {"type": "object"}},
                "strict": True,
            }
        },
        {"toolSpec": {"name": "a", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
        raw,
    ]


def test_tool_choice_none_is_refused():
    with pytest.raises(UserError, match="no tool_choice 'none'"):
        codec.encode_request([HumanMessage("x")], {"tools": [TOOL], "tool_choice": "none"})


def test_tool_history_without_tools_is_refused_early():
    ai = AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "t1"}])
    with pytest.raises(UserError, match="toolConfig must be defined"):
        codec.encode_request([HumanMessage("x"), ai, ToolMessage("r", tool_call_id="t1")], {})


def test_neighbouring_turns_of_one_role_merge():
    body = codec.encode_request(
        [HumanMessage("a"), HumanMessage("b"), AIMessage("c"), AIMessage("d")], {}
    )
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "a"}, {"text": "b"}]},
        {"role": "assistant", "content": [{"text": "c"}, {"text": "d"}]},
    ]


def test_media_inputs():
    content = [
        {"type": "text", "text": "Look"},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{PNG}"}},
        {"type": "image", "url": "s3://bucket/cat.webp", "mime_type": "image/webp"},
        {
            "type": "file",
            "base64": PDF,
            "mime_type": "application/pdf",
            "extras": {"filename": "Q3 report.v2.pdf"},
        },
        {"type": "file", "base64": PDF, "mime_type": "text/csv"},
        {"type": "text-plain", "text": "notes", "title": "My notes"},
        {"type": "audio", "base64": "UklGRg==", "mime_type": "audio/wav"},
        {"type": "video", "url": "s3://b/clip.mp4", "mime_type": "video/mp4"},
    ]
    [turn] = codec.encode_request([HumanMessage(content)], {})["messages"]
    assert turn["content"] == [
        {"text": "Look"},
        {"image": {"format": "png", "source": {"bytes": PNG}}},
        {"image": {"format": "jpeg", "source": {"bytes": PNG}}},
        {"image": {"format": "webp", "source": {"s3Location": {"uri": "s3://bucket/cat.webp"}}}},
        {"document": {"format": "pdf", "name": "Q3 report-v2", "source": {"bytes": PDF}}},
        {"document": {"format": "csv", "name": "document-2", "source": {"bytes": PDF}}},
        {"document": {"format": "txt", "name": "My notes", "source": {"text": "notes"}}},
        {"audio": {"format": "wav", "source": {"bytes": "UklGRg=="}}},
        {"video": {"format": "mp4", "source": {"s3Location": {"uri": "s3://b/clip.mp4"}}}},
    ]


def test_image_mime_is_sniffed_when_missing():
    [turn] = codec.encode_request([HumanMessage([{"type": "image", "base64": PNG}])], {})[
        "messages"
    ]
    assert turn["content"] == [{"image": {"format": "png", "source": {"bytes": PNG}}}]


def test_http_image_urls_are_refused_with_the_fix():
    message = HumanMessage([{"type": "image", "url": "https://x.test/cat.png"}])
    with pytest.raises(
        UserError, match=r"base64 bytes or an s3:// URI, not a URL 'https://x.test/cat.png'"
    ):
        codec.encode_request([message], {})


def test_unsupported_mime_is_refused():
    with pytest.raises(UserError, match="cannot take an image of type 'image/tiff'"):
        codec.encode_request(
            [HumanMessage([{"type": "image", "base64": "AAAA", "mime_type": "image/tiff"}])], {}
        )


def test_reasoning_in_a_user_turn_is_refused():
    with pytest.raises(
        UserError,
        match=r"messages\[0\].content\[0\]: Bedrock Converse cannot take a 'reasoning' block",
    ):
        codec.encode_request([HumanMessage([{"type": "reasoning", "reasoning": "x"}])], {})


def test_system_after_start_is_refused():
    with pytest.raises(UserError, match="SystemMessage after the conversation started"):
        codec.encode_request([HumanMessage("a"), SystemMessage("b")], {})


def test_reasoning_goes_back_signed_or_redacted_and_unsigned_is_dropped():
    ai = AIMessage(
        [
            {"type": "reasoning", "reasoning": "think", "extras": {"signature": "sig"}},
            {"type": "reasoning", "extras": {"redacted": "cmVk"}},
            {"type": "reasoning", "reasoning": "from another provider"},
            {"type": "text", "text": "Answer"},
        ]
    )
    body = codec.encode_request([HumanMessage("q"), ai, HumanMessage("more")], {})
    assert body["messages"][1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
        {"reasoningContent": {"redactedContent": "cmVk"}},
        {"text": "Answer"},
    ]


def test_reasoning_params():
    body = codec.encode_request(
        [HumanMessage("q")], {"model": MODEL, "reasoning_budget": 2048, "max_tokens": 4096}
    )
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    nova = codec.encode_request(
        [HumanMessage("q")], {"model": "amazon.nova-2-lite-v1:0", "reasoning_effort": "minimal"}
    )
    assert nova["additionalModelRequestFields"] == {
        "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}
    }
    oss = codec.encode_request(
        [HumanMessage("q")], {"model": "openai.gpt-oss-120b-1:0", "reasoning_effort": "high"}
    )
    assert oss["additionalModelRequestFields"] == {"reasoning_effort": "high"}


def test_structured_output():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = codec.encode_request(
        [HumanMessage("q")],
        {"response_format": {"type": "json_schema", "name": "Out", "schema": schema}},
    )
    definition = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert body["outputConfig"]["textFormat"]["type"] == "json_schema"
    assert definition["name"] == "Out"
    assert json.loads(definition["schema"]) == schema
    with pytest.raises(UserError, match="no schema-less JSON mode"):
        codec.encode_request([HumanMessage("q")], {"response_format": {"type": "json_object"}})


def test_cache_control_becomes_cache_points():
    system = SystemMessage(
        [{"type": "text", "text": "long rules", "cache_control": {"type": "ephemeral"}}]
    )
    human = HumanMessage(
        "doc", additional_kwargs={"cache_control": {"type": "ephemeral", "ttl": "1h"}}
    )
    body = codec.encode_request([system, human], {"cache_control": {"type": "ephemeral"}})
    assert body["system"] == [{"text": "long rules"}, {"cachePoint": {"type": "default"}}]
    assert body["messages"][0]["content"] == [
        {"text": "doc"},
        {"cachePoint": {"type": "default", "ttl": "1h"}},
        {"cachePoint": {"type": "default"}},
    ]


def test_logprobs_refused_and_passthrough_kept():
    with pytest.raises(UserError, match="does not return log probabilities"):
        codec.encode_request([HumanMessage("q")], {"logprobs": True})
    body = codec.encode_request(
        [HumanMessage("q")],
        {
            "guardrailConfig": {"guardrailIdentifier": "g"},
            "extra_body": {"requestMetadata": {"k": "v"}},
            "additional_model_request_fields": {"top_k": 5},
        },
    )
    assert body["guardrailConfig"] == {"guardrailIdentifier": "g"}
    assert body["requestMetadata"] == {"k": "v"}
    assert body["additionalModelRequestFields"] == {"top_k": 5}


# --------------------------------------------------------------------------- decode_response


def _response(content, **extra):
    body = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19},
        "metrics": {"latencyMs": 321},
    }
    body.update(extra)
    return body


def test_decode_plain_text():
    reply = codec.decode_response(_response([{"text": "Hello!"}]))
    assert reply.content == "Hello!"
    assert reply.usage_metadata == {"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}
    assert reply.response_metadata == {
        "model_provider": "bedrock",
        "finish_reason": "stop",
        "stop_reason": "end_turn",
        "metrics": {"latencyMs": 321},
    }


def test_decode_tool_calls_reasoning_and_cache_usage():
    body = _response(
        [
            {"reasoningContent": {"reasoningText": {"text": "Need weather.", "signature": "EqQB"}}},
            {"reasoningContent": {"redactedContent": "ZW5j"}},
            {"text": "Checking."},
            {
                "toolUse": {
                    "toolUseId": "tooluse_1",
                    "name": "get_weather",
                    "input": {"city": "Oslo"},
                }
            },
            {"toolUse": {"toolUseId": "tooluse_2", "name": "broken", "input": "{not json"}},
        ],
        stopReason="tool_use",
        usage={
            "inputTokens": 5,
            "outputTokens": 9,
            "totalTokens": 1014,
            "cacheReadInputTokens": 1000,
            "cacheWriteInputTokens": 0,
        },
    )
    reply = codec.decode_response(body)
    assert reply.content == [
        {"type": "reasoning", "reasoning": "Need weather.", "extras": {"signature": "EqQB"}},
        {"type": "reasoning", "extras": {"redacted": "ZW5j"}},
        {"type": "text", "text": "Checking."},
    ]
    assert reply.tool_calls == [
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "tooluse_1", "type": "tool_call"}
    ]
    assert reply.invalid_tool_calls[0]["name"] == "broken"
    assert "not valid JSON" in reply.invalid_tool_calls[0]["error"]
    assert reply.usage_metadata == {
        "input_tokens": 1005,
        "output_tokens": 9,
        "total_tokens": 1014,
        "input_token_details": {"cache_read": 1000, "cache_creation": 0},
    }
    assert reply.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("max_tokens", "length"),
        ("stop_sequence", "stop"),
        ("content_filtered", "content_filter"),
        ("guardrail_intervened", "content_filter"),
        ("model_context_window_exceeded", "length"),
        ("malformed_model_output", "malformed_model_output"),
    ],
)
def test_stop_reasons(stop, finish):
    reply = codec.decode_response(_response([{"text": "x"}], stopReason=stop))
    assert reply.response_metadata["finish_reason"] == finish
    assert reply.response_metadata["stop_reason"] == stop


def test_decode_media_citations_and_server_tools():
    body = _response(
        [
            {"image": {"format": "png", "source": {"bytes": PNG}}},
            {
                "citationsContent": {
                    "content": [{"text": "Paris is the capital."}],
                    "citations": [
                        {
                            "title": "Atlas",
                            "sourceContent": [{"text": "capital: Paris"}],
                            "location": {
                                "documentChar": {"documentIndex": 0, "start": 0, "end": 14}
                            },
                        }
                    ],
                }
            },
            {
                "toolUse": {
                    "toolUseId": "s1",
                    "name": "nova_grounding",
                    "input": {"q": "x"},
                    "type": "server_tool_use",
                }
            },
            {
                "toolResult": {
                    "toolUseId": "s1",
                    "content": [{"text": "found"}],
                    "type": "nova_grounding_result",
                }
            },
            {"guardContent": {"text": {"text": "x"}}},
        ],
        trace={"guardrail": {}},
        additionalModelResponseFields={"k": 1},
    )
    reply = codec.decode_response(body)
    image, text, call, result, other = reply.content
    assert image == {"type": "image", "base64": PNG, "mime_type": "image/png"}
    assert text["text"] == "Paris is the capital."
    assert text["annotations"][0]["title"] == "Atlas"
    assert text["annotations"][0]["cited_text"] == "capital: Paris"
    assert call == {
        "type": "server_tool_call",
        "id": "s1",
        "name": "nova_grounding",
        "args": {"q": "x"},
        "extras": {"type": "server_tool_use"},
    }
    assert result["type"] == "server_tool_result" and result["tool_call_id"] == "s1"
    assert result["output"] == [{"text": "found"}]
    assert other == {"type": "non_standard", "value": {"guardContent": {"text": {"text": "x"}}}}
    assert reply.response_metadata["trace"] == {"guardrail": {}}
    assert reply.response_metadata["additional_model_response_fields"] == {"k": 1}
    # rendered back, the same wire blocks come out
    assert (
        codec.render_response(reply)["output"]["message"]["content"]
        == body["output"]["message"]["content"]
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([1], "must be a JSON object"),
        ({"output": {}}, "no 'output.message'"),
        (_response("text"), "output.message.content must be a list"),
        (_response([{"text": 5}]), r"output.message.content.0.text must be a string"),
        (_response([{"text": "a", "image": {}}]), "exactly one member"),
        (_response([{"toolUse": {"name": "f"}}]), "needs string 'toolUseId' and 'name'"),
        (
            _response([{"text": "a"}], usage={"inputTokens": "3"}),
            "usage.inputTokens must be a non-negative integer",
        ),
        (_response([{"text": "a"}], stopReason=3), "stopReason must be a string"),
        (_response([{"reasoningContent": {}}]), "reasoningText.text: Field required"),
    ],
)
def test_malformed_responses_are_decode_errors(body, problem):
    with pytest.raises(DecodeError, match=problem):
        codec.decode_response(body)


# ------------------------------------------------------------------------------ decode_error


@pytest.mark.parametrize(
    ("status", "kind", "message", "cls"),
    [
        (
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
            RateLimitError,
        ),
        (400, "ValidationException", "The provided model identifier is invalid.", BadRequestError),
        (400, "ValidationException", "Input is too long for requested model.", ContextLengthError),
        (
            400,
            "ValidationException",
            "prompt is too long: 210000 tokens > 200000 maximum",
            ContextLengthError,
        ),
        (
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
            AuthenticationError,
        ),
        (404, "ResourceNotFoundException", "Model not found.", NotFoundError),
        (
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
            OverloadedError,
        ),
        (500, "InternalServerException", "Internal server error", ServerError),
        (424, "ModelErrorException", "The model failed.", ServerError),
        (408, "ModelTimeoutException", "Model has timed out.", ServerError),
    ],
)
def test_decode_error_by_type_header(status, kind, message, cls):
    headers = {"X-Amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    error = codec.decode_error(status, {"message": message}, headers)
    assert type(error) is cls
    assert error.message == message
    assert error.status_code == status
    assert error.provider == "bedrock"


def test_decode_error_type_from_body_and_capitalised_message():
    error = codec.decode_error(
        400, {"__type": "com.amazon.coral#ThrottlingException", "Message": "slow down"}
    )
    assert isinstance(error, RateLimitError) and error.message == "slow down"


def test_decode_error_reads_retry_after_and_non_json_bodies():
    error = codec.decode_error(429, b"<html>Too Many</html>", {"retry-after": "3"})
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 3.0
    assert error.message == "<html>Too Many</html>"
    assert codec.decode_error(502, None).message == "HTTP 502 with no error body"
