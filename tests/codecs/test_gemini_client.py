"""Client side of the Gemini codec: request_path, encode_request, decode_response, decode_error."""

from __future__ import annotations

import pytest

from myna.codecs import gemini
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
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

PNG = "iVBORw0KGgo="


def encode(messages, **params):
    return gemini.encode_request(messages, params)


# ---------------------------------------------------------------- module surface


def test_request_paths():
    assert (
        gemini.request_path("gemini-2.5-flash", stream=True)
        == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert (
        gemini.request_path("models/gemini-2.5-pro", stream=False)
        == "/v1beta/models/gemini-2.5-pro:generateContent"
    )


def test_request_path_needs_a_model():
    with pytest.raises(UserError, match="Gemini needs a model name for the URL, got ''"):
        gemini.request_path("", stream=False)


# ---------------------------------------------------------------- encode_request: messages


def test_encode_system_user_and_model_turns_leaves_model_out_of_body():
    body = encode(
        [SystemMessage("Be brief."), HumanMessage("Hi"), AIMessage("Hello!"), HumanMessage("Bye")],
        model="gemini-2.5-flash",
    )
    assert body == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello!"}]},
            {"role": "user", "parts": [{"text": "Bye"}]},
        ],
    }


def test_encode_media_inputs_base64_and_url():
    body = encode(
        [
            HumanMessage(
                [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {
                        "type": "image",
                        "url": "https://example.com/cat.jpg",
                        "mime_type": "image/jpeg",
                    },
                    {"type": "audio", "base64": "UklGRg==", "mime_type": "audio/wav"},
                    {"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"},
                    {
                        "type": "document",
                        "source": {"type": "url", "url": "gs://bucket/report.pdf"},
                    },
                    {
                        "type": "video",
                        "file_id": "https://generativelanguage.googleapis.com/v1beta/files/abc",
                    },
                ]
            )
        ]
    )
    assert body["contents"][0]["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
        {"fileData": {"fileUri": "gs://bucket/report.pdf"}},
        {"fileData": {"fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}},
    ]


def test_encode_base64_without_mime_type_is_a_user_error():
    with pytest.raises(
        UserError, match="has base64 data but no mime_type; Gemini's inlineData needs one"
    ):
        encode([HumanMessage([{"type": "image", "base64": PNG}])])


def test_encode_block_gemini_cannot_carry_names_block_and_protocol():
    with pytest.raises(UserError) as info:
        encode([HumanMessage([{"type": "weird_thing", "x": 1}])])
    assert str(info.value) == (
        "Gemini cannot carry a 'non_standard' block in a user message (messages[0].content[0]). "
        "Send text, image, audio, video or file blocks instead."
    )


def test_encode_non_standard_block_holding_a_gemini_part_passes_through():
    part = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    body = encode([AIMessage([{"type": "non_standard", "value": part}])])
    assert body["contents"][0]["parts"] == [part]


def test_encode_tool_round_with_ids_names_and_signatures():
    ai = AIMessage(
        "",
        tool_calls=[
            {"name": "weather", "args": {"city": "Paris"}, "id": "call_0"},
            {"name": "weather", "args": {"city": "Lyon"}, "id": "call_1"},
        ],
        additional_kwargs={"thought_signatures": {"call_0": "SIG0"}},
    )
    body = encode(
        [
            HumanMessage("Weather?"),
            ai,
            ToolMessage("22C", tool_call_id="call_0"),
            ToolMessage("boom", tool_call_id="call_1", status="error"),
        ]
    )
    assert body["contents"][1] == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"name": "weather", "args": {"city": "Paris"}, "id": "call_0"},
                "thoughtSignature": "SIG0",
            },
            {"functionCall": {"name": "weather", "args": {"city": "Lyon"}, "id": "call_1"}},
        ],
    }
    # parallel results share one user turn and go back by function name
    assert body["contents"][2] == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "name": "weather",
                    "response": {"output": "22C"},
                    "id": "call_0",
                }
            },
            {
                "functionResponse": {
                    "name": "weather",
                    "response": {"error": "boom"},
                    "id": "call_1",
                }
            },
        ],
    }


def test_encode_tool_message_name_fallback_and_error():
    body = encode([HumanMessage("x"), ToolMessage("ok", tool_call_id="zzz", name="lookup")])
    assert body["contents"][1]["parts"][0]["functionResponse"]["name"] == "lookup"
    with pytest.raises(UserError) as info:
        encode([HumanMessage("x"), ToolMessage("ok", tool_call_id="zzz")])
    assert "messages[1] is a ToolMessage for tool_call_id='zzz', but no earlier AIMessage" in str(
        info.value
    )
    assert "ToolMessage(..., name='the_function')" in str(info.value)


def test_encode_tool_message_with_image_uses_function_response_parts():
    body = encode(
        [
            AIMessage("", tool_calls=[{"name": "snap", "args": {}, "id": "c1"}]),
            ToolMessage(
                [
                    {"type": "text", "text": "here"},
                    {"type": "image", "base64": PNG, "mime_type": "image/png"},
                ],
                tool_call_id="c1",
            ),
        ]
    )
    assert body["contents"][1]["parts"][0]["functionResponse"] == {
        "name": "snap",
        "response": {"output": "here"},
        "id": "c1",
        "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}],
    }


def test_encode_reasoning_and_text_signatures_go_back():
    ai = AIMessage(
        [
            {"type": "reasoning", "reasoning": "Think", "extras": {"signature": "S1"}},
            {"type": "text", "text": "Answer", "extras": {"signature": "S2"}},
            {
                "type": "image",
                "base64": PNG,
                "mime_type": "image/png",
                "extras": {"signature": "S3"},
            },
        ]
    )
    assert encode([HumanMessage("q"), ai])["contents"][1]["parts"] == [
        {"text": "Think", "thought": True, "thoughtSignature": "S1"},
        {"text": "Answer", "thoughtSignature": "S2"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}, "thoughtSignature": "S3"},
    ]
    plain = AIMessage("Answer", additional_kwargs={"text_thought_signature": "S4"})
    assert encode([HumanMessage("q"), plain])["contents"][1]["parts"] == [
        {"text": "Answer", "thoughtSignature": "S4"}
    ]


def test_encode_anthropic_redacted_reasoning_is_left_out():
    ai = AIMessage([{"type": "redacted_thinking", "data": "xx"}, {"type": "text", "text": "hi"}])
    assert encode([HumanMessage("q"), ai])["contents"][1]["parts"] == [{"text": "hi"}]


def test_encode_invalid_tool_call_is_a_user_error():
    ai = AIMessage(
        "", invalid_tool_calls=[{"name": "f", "args": "{oops", "id": "1", "error": "bad"}]
    )
    with pytest.raises(UserError, match="messages\\[1\\] has an invalid tool call 'f'"):
        encode([HumanMessage("q"), ai])


def test_encode_server_tool_blocks_become_code_execution_parts():
    ai = AIMessage(
        [
            {
                "type": "server_tool_call",
                "id": "code_0",
                "name": "code_execution",
                "args": {"language": "PYTHON", "code": "print(2)"},
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "code_0",
                "status": "success",
                "output": "2\n",
            },
        ]
    )
    assert encode([HumanMessage("q"), ai])["contents"][1]["parts"] == [
        {"executableCode": {"language": "PYTHON", "code": "print(2)", "id": "code_0"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "2\n", "id": "code_0"}},
    ]


# ---------------------------------------------------------------- encode_request: params


def test_encode_generation_params():
    body = encode(
        [HumanMessage("hi")],
        model="gemini-2.5-flash",
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        max_tokens=512,
        seed=7,
        stop="END",
        logprobs=True,
        top_logprobs=3,
        reasoning_budget=1024,
        include_reasoning=True,
        stream=True,
        stream_usage=True,
        parallel_tool_calls=False,
    )
    assert "model" not in body and "stream" not in body
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "topK": 40,
        "maxOutputTokens": 512,
        "seed": 7,
        "stopSequences": ["END"],
        "responseLogprobs": True,
        "logprobs": 3,
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True},
    }


def test_encode_reasoning_effort_becomes_thinking_level():
    body = encode([HumanMessage("hi")], reasoning_effort="low")
    assert body["generationConfig"] == {"thinkingConfig": {"thinkingLevel": "LOW"}}


def test_encode_structured_output():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = encode(
        [HumanMessage("hi")], response_format={"type": "json_schema", "name": "A", "schema": schema}
    )
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }
    body = encode([HumanMessage("hi")], response_format={"type": "json_object"})
    assert body["generationConfig"] == {"responseMimeType": "application/json"}
    with pytest.raises(UserError, match=r"params\['response_format'\]=.*is not understood"):
        encode([HumanMessage("hi")], response_format={"type": "xml"})


def test_encode_tools_specs_openai_dicts_and_raw_gemini_tools():
    spec = {
        "name": "get_w",
        "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    body = encode(
        [HumanMessage("hi")],
        tools=[
            spec,
            {"type": "function", "function": {"name": "noargs", "description": ""}},
            {"googleSearch": {}},
        ],
    )
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_w",
                    "description": "Weather",
                    "parametersJsonSchema": spec["parameters"],
                },
                {"name": "noargs"},
            ]
        },
        {"googleSearch": {}},
    ]


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("any", {"mode": "ANY"}),
        ("required", {"mode": "ANY"}),
        ("none", {"mode": "NONE"}),
        ("get_w", {"mode": "ANY", "allowedFunctionNames": ["get_w"]}),
        (
            {"type": "function", "function": {"name": "get_w"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_w"]},
        ),
        ({"type": "tool", "name": "get_w"}, {"mode": "ANY", "allowedFunctionNames": ["get_w"]}),
    ],
    ids=["auto", "any", "required", "none", "name", "openai-dict", "anthropic-dict"],
)
def test_encode_tool_choice(choice, config):
    body = encode([HumanMessage("hi")], tool_choice=choice)
    assert body["toolConfig"] == {"functionCallingConfig": config}


def test_encode_raw_tool_config_and_extra_body_and_passthrough():
    raw = {"functionCallingConfig": {"mode": "VALIDATED"}}
    body = encode(
        [HumanMessage("hi")],
        tool_choice=raw,
        temperature=0.1,
        safetySettings=[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        cache_control={"type": "ephemeral"},
        extra_body={"generationConfig": {"topK": 3}, "labels": {"team": "a"}},
    )
    assert body["toolConfig"] == raw
    assert body["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}
    ]
    assert body["generationConfig"] == {"temperature": 0.1, "topK": 3}
    assert body["labels"] == {"team": "a"}
    assert "cache_control" not in body


def test_encode_rejects_unknown_message_types_and_bad_tools():
    with pytest.raises(UserError, match="messages\\[0\\] is a str"):
        encode(["hi"])
    with pytest.raises(UserError, match="params\\['tools'\\]\\[0\\] must be a dict"):
        encode([HumanMessage("hi")], tools=["get_w"])
    with pytest.raises(UserError, match="params\\['tool_choice'\\]=3 is not understood"):
        encode([HumanMessage("hi")], tool_choice=3)


def event(parts, *, finish=None, usage=None, **extra):
    candidate = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", "responseId": "r1"}
    if usage:
        out["usageMetadata"] = usage
    out.update(extra)
    return out


def test_decode_plain_text_response_with_usage_and_metadata():
    body = event(
        [{"text": "Paris."}],
        finish="STOP",
        usage={
            "promptTokenCount": 3520,
            "candidatesTokenCount": 2,
            "thoughtsTokenCount": 42,
            "cachedContentTokenCount": 3512,
            "totalTokenCount": 3564,
            "serviceTier": "standard",
        },
    )
    msg = gemini.decode_response(body)
    assert msg.content == "Paris."
    assert msg.id == "r1"
    assert msg.usage_metadata == {
        "input_tokens": 3520,
        "output_tokens": 44,
        "total_tokens": 3564,
        "input_token_details": {"cache_read": 3512},
        "output_token_details": {"reasoning": 42},
    }
    assert msg.response_metadata == {
        "model_provider": "google_genai",
        "model_name": "gemini-2.5-flash",
        "id": "r1",
        "service_tier": "standard",
        "finish_reason": "stop",
        "finishReason": "STOP",
    }


def test_decode_thoughts_signatures_images_and_audio():
    body = event(
        [
            {"text": "**Plan**", "thought": True},
            {"text": "Here you go", "thoughtSignature": "SIG"},
            {"inlineData": {"mimeType": "image/png", "data": PNG}},
            {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": "AAAA"}},
        ],
        finish="STOP",
    )
    msg = gemini.decode_response(body)
    assert msg.content == [
        {"type": "reasoning", "reasoning": "**Plan**"},
        {"type": "text", "text": "Here you go", "extras": {"signature": "SIG"}},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
        {"type": "audio", "base64": "AAAA", "mime_type": "audio/L16;codec=pcm;rate=24000"},
    ]


def test_decode_plain_text_signature_goes_to_additional_kwargs():
    msg = gemini.decode_response(event([{"text": "Hi", "thoughtSignature": "SIG"}], finish="STOP"))
    assert msg.content == "Hi"
    assert msg.additional_kwargs == {"text_thought_signature": "SIG"}


def test_decode_parallel_function_calls_without_ids():
    body = event(
        [
            {
                "functionCall": {"name": "weather", "args": {"lat": "52.52"}},
                "thoughtSignature": "SIG",
            },
            {"functionCall": {"name": "best_language", "args": {}}},
        ],
        finish="STOP",
        finishMessage="Model generated function call(s).",
    )
    body["candidates"][0]["finishMessage"] = "Model generated function call(s)."
    msg = gemini.decode_response(body)
    assert msg.content == ""
    assert msg.tool_calls == [
        {"name": "weather", "args": {"lat": "52.52"}, "id": "call_0", "type": "tool_call"},
        {"name": "best_language", "args": {}, "id": "call_1", "type": "tool_call"},
    ]
    assert msg.additional_kwargs == {"thought_signatures": {"call_0": "SIG"}}
    assert msg.response_metadata["finish_reason"] == "tool_calls"
    assert msg.response_metadata["finishReason"] == "STOP"
    assert msg.response_metadata["finish_message"] == "Model generated function call(s)."


def test_decode_function_call_id_is_kept():
    body = event([{"functionCall": {"name": "f", "args": {"a": 1}, "id": "abc"}}], finish="STOP")
    assert gemini.decode_response(body).tool_calls[0]["id"] == "abc"


def test_decode_code_execution_parts():
    body = event(
        [
            {"executableCode": {"language": "PYTHON", "code": "print(2)"}},
            {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "2\n"}},
            {"text": "It is 2."},
        ],
        finish="STOP",
    )
    assert gemini.decode_response(body).content == [
        {
            "type": "server_tool_call",
            "id": "code_0",
            "name": "code_execution",
            "args": {"language": "PYTHON", "code": "print(2)"},
        },
        {
            "type": "server_tool_result",
            "tool_call_id": "code_0",
            "status": "success",
            "output": "2\n",
            "extras": {"outcome": "OUTCOME_OK"},
        },
        {"type": "text", "text": "It is 2."},
    ]


def test_decode_unknown_part_is_kept_as_non_standard():
    part = {"toolCall": {"toolType": "GOOGLE_SEARCH"}}
    body = event([part, {"text": "x"}], finish="STOP")
    assert gemini.decode_response(body).content[0] == {"type": "non_standard", "value": part}


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "stop"),
        ("OTHER", "stop"),
        (2, "length"),
    ],
)
def test_decode_finish_reasons(raw, normal):
    body = event([], finish=raw)
    msg = gemini.decode_response(body)
    assert msg.content == ""
    assert msg.response_metadata["finish_reason"] == normal


def test_decode_blocked_prompt_has_no_candidates():
    body = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
        "modelVersion": "m",
        "responseId": "r",
    }
    msg = gemini.decode_response(body)
    assert msg.content == ""
    assert msg.response_metadata["finish_reason"] == "content_filter"
    assert msg.response_metadata["block_reason"] == "SAFETY"
    assert msg.usage_metadata == {"input_tokens": 5, "output_tokens": 0, "total_tokens": 5}


def test_decode_logprobs_and_audio_token_details():
    logprobs = {"chosenCandidates": [{"token": "4", "logProbability": -0.1}], "topCandidates": []}
    body = event(
        [{"text": "4"}],
        finish="STOP",
        usage={
            "promptTokenCount": 10,
            "candidatesTokenCount": 4,
            "totalTokenCount": 14,
            "promptTokensDetails": [
                {"modality": "TEXT", "tokenCount": 4},
                {"modality": "AUDIO", "tokenCount": 6},
            ],
            "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 4}],
            "toolUsePromptTokenCount": 0,
        },
    )
    body["candidates"][0]["logprobsResult"] = logprobs
    body["candidates"][0]["avgLogprobs"] = -0.1
    msg = gemini.decode_response(body)
    assert msg.response_metadata["logprobs"] == logprobs
    assert msg.response_metadata["avg_logprobs"] == -0.1
    assert msg.usage_metadata["input_token_details"] == {"audio": 6}
    assert msg.usage_metadata["output_token_details"] == {"audio": 4}


def test_decode_response_error_body_raises_provider_error():
    with pytest.raises(RateLimitError) as info:
        gemini.decode_response(
            {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}
        )
    assert info.value.status_code == 429


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "Gemini response: must be a JSON object (a GenerateContentResponse); got [1, 2]"),
        ("not json", 'Gemini response: is not JSON; got "not json"'),
        ({"modelVersion": "m"}, "Gemini response: has no candidates and no promptFeedback"),
        ({"candidates": "x"}, "Gemini response: candidates must be a list"),
        (
            {"candidates": [{"content": {"parts": [{"text": 3}]}}]},
            "Gemini response part 0: text must be a str; got 3",
        ),
        (
            {"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": []}}]}}]},
            "functionCall.args must be a dict",
        ),
        (
            {"candidates": [{"content": {"parts": [7]}}]},
            "Gemini response part 0: a part must be an object; got 7",
        ),
        (
            {"candidates": [], "usageMetadata": {"promptTokenCount": "9"}},
            "usageMetadata.promptTokenCount must be an int",
        ),
    ],
)
def test_decode_response_malformed_bodies(body, message):
    with pytest.raises(DecodeError) as info:
        gemini.decode_response(body)
    assert message in str(info.value)


def test_decode_error_bad_key_400_is_authentication_error():
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            ],
        }
    }
    err = gemini.decode_error(400, body)
    assert type(err) is AuthenticationError
    assert err.status_code == 400
    assert err.message == "API key not valid. Please pass a valid API key."
    assert err.provider == "google_genai"
    assert err.body == body


def test_decode_error_retry_info_and_headers():
    body = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "48s"}],
        }
    }
    err = gemini.decode_error(429, body)
    assert type(err) is RateLimitError and err.retry_after == 48.0
    assert gemini.decode_error(429, body, {"Retry-After": "3"}).retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "rpc", "message", "cls"),
    [
        (
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers",
            AuthenticationError,
        ),
        (
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
            AuthenticationError,
        ),
        (404, "NOT_FOUND", "models/x is not found for API version v1beta", NotFoundError),
        (
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ContextLengthError,
        ),
        (
            400,
            "FAILED_PRECONDITION",
            "User location is not supported for the API use.",
            BadRequestError,
        ),
        (503, "UNAVAILABLE", "The model is overloaded. Please try again later.", OverloadedError),
        (500, "INTERNAL", "An internal error has occurred.", ServerError),
        (
            504,
            "DEADLINE_EXCEEDED",
            "Deadline expired before operation could complete.",
            ServerError,
        ),
    ],
)
def test_decode_error_statuses(status, rpc, message, cls):
    err = gemini.decode_error(
        status, {"error": {"code": status, "message": message, "status": rpc}}
    )
    assert type(err) is cls
    assert err.message == message


def test_decode_error_non_json_and_array_bodies():
    err = gemini.decode_error(502, b"<html>Bad Gateway</html>")
    assert type(err) is ServerError and err.message == "<html>Bad Gateway</html>"
    wrapped = [{"error": {"code": 404, "message": "nope", "status": "NOT_FOUND"}}]
    assert type(gemini.decode_error(404, wrapped)) is NotFoundError
    empty = gemini.decode_error(500, None)
    assert isinstance(empty, ProviderError) and empty.message == "Gemini returned HTTP 500"
