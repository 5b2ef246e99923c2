"""Server side of the Gemini codec: decode_request, render_response, render_stream, render_error."""

from __future__ import annotations

import pytest

from myna.codecs import gemini
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
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, merge_chunks

PNG = "iVBORw0KGgo="


def user(*parts):
    return {"role": "user", "parts": list(parts)}


def model(*parts):
    return {"role": "model", "parts": list(parts)}


# ---------------------------------------------------------------- decode_request: messages


def test_decode_request_messages_and_model_from_argument():
    body = {
        "systemInstruction": {"role": "user", "parts": [{"text": "Be brief."}]},
        "contents": [user({"text": "Hi"}), model({"text": "Hello"}), user({"text": "Bye"})],
    }
    messages, params = gemini.decode_request(body, model="gemini-2.5-flash")
    assert messages == [
        SystemMessage("Be brief."),
        HumanMessage("Hi"),
        AIMessage("Hello"),
        HumanMessage("Bye"),
    ]
    assert params == {"model": "gemini-2.5-flash"}


def test_decode_request_model_field_in_body_as_the_go_sdk_sends():
    body = {"model": "models/gemini-2.0-flash", "contents": [user({"text": "Hello"})]}
    assert gemini.decode_request(body)[1] == {"model": "gemini-2.0-flash"}


def test_decode_request_snake_case_media_and_file_data():
    body = {
        "contents": [
            user(
                {"text": "What is this?"},
                {"inline_data": {"mime_type": "image/png", "data": PNG}},
                {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/r.pdf"}},
            )
        ]
    }
    [message], _ = gemini.decode_request(body)
    assert message.content == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
        {"type": "file", "url": "gs://b/r.pdf", "mime_type": "application/pdf"},
    ]


def test_decode_request_tool_round_matches_responses_by_name_without_ids():
    body = {
        "contents": [
            user({"text": "Weather and language?"}),
            model(
                {
                    "functionCall": {"name": "weather", "args": {"lat": "52"}},
                    "thoughtSignature": "S",
                },
                {"functionCall": {"name": "best_language", "args": {}}},
            ),
            user(
                {"functionResponse": {"name": "best_language", "response": {"output": "Ruby"}}},
                {"functionResponse": {"name": "weather", "response": {"temp": 15}}},
            ),
        ]
    }
    messages, _ = gemini.decode_request(body)
    ai = messages[1]
    assert ai.tool_calls == [
        {"name": "weather", "args": {"lat": "52"}, "id": "call_0", "type": "tool_call"},
        {"name": "best_language", "args": {}, "id": "call_1", "type": "tool_call"},
    ]
    assert ai.additional_kwargs == {"thought_signatures": {"call_0": "S"}}
    assert messages[2] == ToolMessage("Ruby", tool_call_id="call_1", name="best_language")
    assert messages[3] == ToolMessage('{"temp": 15}', tool_call_id="call_0", name="weather")


def test_decode_request_function_response_with_id_error_and_parts():
    body = {
        "contents": [
            model({"function_call": {"name": "snap", "args": {}, "id": "c9"}}),
            user(
                {
                    "function_response": {
                        "name": "snap",
                        "id": "c9",
                        "response": {"error": "no camera"},
                    }
                },
                {
                    "functionResponse": {
                        "name": "snap",
                        "response": {"output": "ok"},
                        "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}],
                    }
                },
                {"text": "thanks"},
            ),
        ]
    }
    messages, _ = gemini.decode_request(body)
    assert messages[1] == ToolMessage("no camera", tool_call_id="c9", name="snap", status="error")
    assert (
        messages[2].tool_call_id == "snap"
    )  # no id and no unanswered call left: the name stands in
    assert messages[2].content == [
        {"type": "text", "text": "ok"},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
    ]
    assert messages[3] == HumanMessage("thanks")


def test_decode_request_model_turn_with_thoughts_and_signature():
    body = {
        "contents": [
            user({"text": "q"}),
            model({"text": "hmm", "thought": True}, {"text": "A", "thoughtSignature": "SIG"}),
            user({"text": "more"}),
        ]
    }
    messages, _ = gemini.decode_request(body)
    assert messages[1].content == [
        {"type": "reasoning", "reasoning": "hmm"},
        {"type": "text", "text": "A", "extras": {"signature": "SIG"}},
    ]


# ---------------------------------------------------------------- decode_request: params


def test_decode_request_params():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = {
        "contents": [user({"text": "hi"})],
        "generationConfig": {
            "temperature": 0.5,
            "topP": 0.9,
            "top_k": 3,
            "maxOutputTokens": 100,
            "seed": 1,
            "stopSequences": ["END"],
            "responseLogprobs": True,
            "logprobs": 2,
            "responseMimeType": "application/json",
            "responseJsonSchema": schema,
            "thinkingConfig": {"thinking_budget": 0, "includeThoughts": False},
            "responseModalities": ["TEXT"],
        },
        "tools": [
            {
                "functionDeclarations": [
                    {"name": "get_w", "description": "W", "parametersJsonSchema": schema}
                ]
            },
            {"googleSearch": {}},
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_w"]}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "cachedContent": "cachedContents/abc",
    }
    _, params = gemini.decode_request(body, model="m")
    assert params == {
        "model": "m",
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 3,
        "max_tokens": 100,
        "seed": 1,
        "stop": ["END"],
        "logprobs": True,
        "top_logprobs": 2,
        "response_format": {"type": "json_schema", "schema": schema},
        "reasoning_budget": 0,
        "include_reasoning": False,
        "response_modalities": ["TEXT"],
        "tools": [
            {"name": "get_w", "description": "W", "parameters": schema},
            {"googleSearch": {}},
        ],
        "tool_choice": "get_w",
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "cachedContent": "cachedContents/abc",
    }


def test_decode_request_openapi_schemas_become_json_schema():
    body = {
        "contents": [user({"text": "hi"})],
        "generationConfig": {
            "response_mime_type": "application/json",
            "response_schema": {"type": "OBJECT", "properties": {"type": {"type": "STRING"}}},
        },
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "f",
                        "parameters": {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}},
                    },
                    {"name": "g"},
                ]
            }
        ],
    }
    _, params = gemini.decode_request(body)
    assert params["response_format"] == {
        "type": "json_schema",
        "schema": {"type": "object", "properties": {"type": {"type": "string"}}},
    }
    assert params["tools"] == [
        {
            "name": "f",
            "description": "",
            "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
        },
        {"name": "g", "description": "", "parameters": {"type": "object", "properties": {}}},
    ]


@pytest.mark.parametrize(
    ("config", "choice"),
    [
        ({"functionCallingConfig": {"mode": "AUTO"}}, "auto"),
        ({"functionCallingConfig": {"mode": "NONE"}}, "none"),
        ({"functionCallingConfig": {"mode": "ANY"}}, "any"),
        ({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["a", "b"]}}, None),
        ({"functionCallingConfig": {"mode": "VALIDATED"}}, None),
    ],
)
def test_decode_request_tool_config(config, choice):
    _, params = gemini.decode_request({"contents": [user({"text": "x"})], "toolConfig": config})
    assert params["tool_choice"] == (choice if choice is not None else config)


def test_decode_request_thinking_level_and_json_object():
    body = {
        "contents": [user({"text": "x"})],
        "generationConfig": {
            "thinkingConfig": {"thinkingLevel": "HIGH"},
            "responseMimeType": "application/json",
        },
    }
    _, params = gemini.decode_request(body)
    assert params["reasoning_effort"] == "high"
    assert params["response_format"] == {"type": "json_object"}


# ---------------------------------------------------------------- decode_request: validation


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], 'Invalid JSON payload received. Unknown name "": Root element must be a message.'),
        ({}, "* GenerateContentRequest.contents: contents is not specified\n"),
        ({"contents": []}, "* GenerateContentRequest.contents: contents is not specified\n"),
        (
            {"contents": [user({"text": "x"})], "foo": 1},
            'Invalid JSON payload received. Unknown name "foo": Cannot find field.',
        ),
        (
            {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]},
            "Please use a valid role: user, model.",
        ),
        (
            {"contents": [{"role": "user", "parts": []}]},
            "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n",
        ),
        (
            {"contents": [user({})]},
            "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field\n",
        ),
        (
            {"contents": [user({"text": "x", "id": "p1"})]},
            "Invalid JSON payload received. Unknown name \"id\" at 'contents[0].parts[0]': Cannot find field.",
        ),
        (
            {"contents": [user({"text": "x", "inlineData": {"data": "x"}})]},
            "Invalid JSON payload received. Oneof field 'data' is already set. Cannot set 'inlineData'",
        ),
        (
            {"contents": [user({"functionResponse": {"response": {}}})]},
            "* GenerateContentRequest.contents[0].parts[0].function_response.name: Name cannot be empty.\n",
        ),
        (
            {"contents": [user({"text": "x"})], "generationConfig": {"temperature": "hot"}},
            "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"",
        ),
        (
            {"contents": [user({"text": "x"})], "generationConfig": {"maxOutputTokens": 1.5}},
            "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), 1.5",
        ),
        (
            {"contents": [user({"text": "x"})], "generationConfig": {"temprature": 1}},
            "Invalid JSON payload received. Unknown name \"temprature\" at 'generation_config': Cannot find field.",
        ),
        (
            {
                "contents": [user({"text": "x"})],
                "tools": [{"functionDeclarations": [{"description": "d"}]}],
            },
            "* GenerateContentRequest.tools[0].function_declarations[0].name: Name cannot be empty.\n",
        ),
        (
            {"contents": [user({"text": 5})]},
            "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING), 5",
        ),
        (
            {"contents": [model({"functionCall": {"name": "f", "args": [1]}})]},
            "Invalid value at 'contents[0]': Gemini contents[0].parts[0]: functionCall.args must be a dict; got [1]",
        ),
    ],
)
def test_decode_request_rejects_like_the_api(body, message):
    with pytest.raises(BadRequestError) as info:
        gemini.decode_request(body)
    assert info.value.message == message
    assert info.value.status_code == 400
    assert info.value.body == {
        "error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
    }


def test_model_from_path():
    assert (
        gemini.model_from_path("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        == "gemini-2.5-flash"
    )
    assert (
        gemini.model_from_path(
            "https://aiplatform.googleapis.com/v1beta1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"
        )
        == "gemini-2.5-flash"
    )
    with pytest.raises(
        NotFoundError, match=r"Requested entity was not found: '/v1beta/files' names no model\."
    ):
        gemini.model_from_path("/v1beta/files")


# ---------------------------------------------------------------- render_response


def test_render_response_text_usage_and_metadata():
    message = AIMessage(
        "Paris.",
        id="resp-1",
        usage_metadata={
            "input_tokens": 3520,
            "output_tokens": 44,
            "total_tokens": 3564,
            "input_token_details": {"cache_read": 3512, "cache_creation": 4},
            "output_token_details": {"reasoning": 42},
        },
    )
    body = gemini.render_response(message, {"model": "gemini-2.5-flash"})
    assert body == {
        "candidates": [
            {
                "content": {"parts": [{"text": "Paris."}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 3520,
            "candidatesTokenCount": 2,
            "totalTokenCount": 3564,
            "thoughtsTokenCount": 42,
            "cachedContentTokenCount": 3512,
            # what the API sends besides the counts: the tokens by modality and the tier
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3520}],
            "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 2}],
            "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 3512}],
            "serviceTier": "standard",
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
    }


def test_render_response_tool_calls_signatures_and_finish_reasons():
    message = AIMessage(
        "",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "call_0"}],
        additional_kwargs={"thought_signatures": {"call_0": "S"}},
        response_metadata={"finish_reason": "tool_calls"},
    )
    candidate = gemini.render_response(message)["candidates"][0]
    assert candidate["content"]["parts"] == [
        {"functionCall": {"name": "f", "args": {"a": 1}, "id": "call_0"}, "thoughtSignature": "S"}
    ]
    assert candidate["finishReason"] == "STOP"
    length = gemini.render_response(AIMessage("x", response_metadata={"finish_reason": "length"}))
    assert length["candidates"][0]["finishReason"] == "MAX_TOKENS"
    raw = gemini.render_response(
        AIMessage(
            "x", response_metadata={"finish_reason": "content_filter", "finishReason": "RECITATION"}
        )
    )
    assert raw["candidates"][0]["finishReason"] == "RECITATION"


def test_render_response_invalid_tool_call_is_malformed_function_call():
    message = AIMessage(
        "", invalid_tool_calls=[{"name": "f", "args": "{x", "id": "1", "error": "bad"}]
    )
    candidate = gemini.render_response(message)["candidates"][0]
    assert candidate["finishReason"] == "MALFORMED_FUNCTION_CALL"
    assert candidate["finishMessage"] == "Malformed function call: f({x)"
    assert candidate["content"]["parts"] == [{"text": ""}]


def test_render_response_blocked_prompt_and_deterministic_id():
    blocked = AIMessage(
        "", response_metadata={"finish_reason": "content_filter", "block_reason": "SAFETY"}
    )
    body = gemini.render_response(blocked, {"model": "m"})
    assert "candidates" not in body
    assert body["promptFeedback"] == {"blockReason": "SAFETY"}
    assert gemini.decode_response(body).response_metadata["block_reason"] == "SAFETY"
    one = gemini.render_response(AIMessage("same"))["responseId"]
    assert one == gemini.render_response(AIMessage("same"))["responseId"]
    assert one != gemini.render_response(AIMessage("other"))["responseId"]


def test_render_response_image_output_and_logprobs_round_trip():
    message = AIMessage(
        [
            {"type": "text", "text": "Here:"},
            {"type": "image", "base64": PNG, "mime_type": "image/png"},
        ],
        response_metadata={
            "logprobs": {"chosenCandidates": [{"token": "Here"}]},
            "avg_logprobs": -0.5,
        },
    )
    body = gemini.render_response(message)
    assert body["candidates"][0]["content"]["parts"] == [
        {"text": "Here:"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
    ]
    assert body["candidates"][0]["logprobsResult"] == {"chosenCandidates": [{"token": "Here"}]}
    decoded = gemini.decode_response(body)
    assert decoded.content == message.content
    assert decoded.response_metadata["logprobs"] == {"chosenCandidates": [{"token": "Here"}]}
    assert decoded.response_metadata["avg_logprobs"] == -0.5


# ---------------------------------------------------------------- render_stream


def test_render_stream_events_repeat_partial_usage_and_finish_last():
    message = AIMessage(
        "The capital is Paris.",
        id="r",
        usage_metadata={"input_tokens": 13, "output_tokens": 8, "total_tokens": 21},
    )
    events = list(gemini.render_stream(message, {"model": "gemini-2.5-flash"}))
    assert [e["candidates"][0]["content"]["parts"] for e in events] == [
        [{"text": "The "}],
        [{"text": "capital "}],
        [{"text": "is "}],
        [{"text": "Paris."}],
    ]
    prompt_details = [{"modality": "TEXT", "tokenCount": 13}]
    assert all(
        e["usageMetadata"]
        == {
            "promptTokenCount": 13,
            "promptTokensDetails": prompt_details,
            "serviceTier": "standard",
            "totalTokenCount": 13,
        }
        for e in events[:-1]
    )
    assert events[-1]["usageMetadata"] == {
        "promptTokenCount": 13,
        "candidatesTokenCount": 8,
        "totalTokenCount": 21,
        "promptTokensDetails": prompt_details,
        "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 8}],
        "serviceTier": "standard",
    }
    assert [e["candidates"][0].get("finishReason") for e in events] == [None, None, None, "STOP"]
    assert all(e["modelVersion"] == "gemini-2.5-flash" and e["responseId"] == "r" for e in events)
    decoded = merge_chunks(list(gemini.decode_stream(events))).to_message()
    assert decoded.content == message.content
    assert decoded.usage_metadata == message.usage_metadata


def test_render_stream_function_calls_whole_with_signature():
    message = AIMessage(
        "Let me check.",
        tool_calls=[
            {"name": "weather", "args": {"city": "Paris", "days": 3}, "id": "c1"},
            {"name": "noop", "args": {}, "id": "c2"},
        ],
        additional_kwargs={"thought_signatures": {"c1": "S"}},
    )
    events = list(gemini.render_stream(message, chunking="chars"))
    call_parts = [
        p for e in events for p in e["candidates"][0]["content"]["parts"] if "functionCall" in p
    ]
    assert call_parts == [
        {
            "functionCall": {"name": "weather", "args": {"city": "Paris", "days": 3}, "id": "c1"},
            "thoughtSignature": "S",
        },
        {"functionCall": {"name": "noop", "args": {}, "id": "c2"}},
    ]
    decoded = merge_chunks(list(gemini.decode_stream(events))).to_message()
    assert decoded.tool_calls == message.tool_calls
    assert decoded.additional_kwargs == {"thought_signatures": {"c1": "S"}}
    assert decoded.response_metadata["finish_reason"] == "tool_calls"


def test_render_stream_plain_text_signature_as_trailing_empty_part():
    message = AIMessage("Hi", additional_kwargs={"text_thought_signature": "SIG"})
    events = list(gemini.render_stream(message))
    assert events[-1]["candidates"][0]["content"]["parts"] == [
        {"text": "Hi"},
        {"text": "", "thoughtSignature": "SIG"},
    ]
    decoded = merge_chunks(list(gemini.decode_stream(events))).to_message()
    assert decoded.content == "Hi" and decoded.additional_kwargs == {
        "text_thought_signature": "SIG"
    }


def test_render_stream_empty_message_still_finishes():
    events = list(gemini.render_stream(AIMessage("")))
    assert events == [
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": ""}], "role": "model"},
                    "index": 0,
                    "finishReason": "STOP",
                }
            ],
            "modelVersion": "gemini-2.5-flash",
            "responseId": events[0]["responseId"],
        }
    ]


# ---------------------------------------------------------------- render_error


@pytest.mark.parametrize(
    ("error", "status", "rpc"),
    [
        (
            AuthenticationError("API key not valid. Please pass a valid API key."),
            400,
            "INVALID_ARGUMENT",
        ),
        (AuthenticationError("Permission denied.", status_code=403), 403, "PERMISSION_DENIED"),
        (BadRequestError("bad"), 400, "INVALID_ARGUMENT"),
        (
            ContextLengthError(
                "The input token count (2000000) exceeds the maximum number of tokens allowed (1048576)."
            ),
            400,
            "INVALID_ARGUMENT",
        ),
        (NotFoundError("models/x is not found"), 404, "NOT_FOUND"),
        (RateLimitError("quota", retry_after=48), 429, "RESOURCE_EXHAUSTED"),
        (OverloadedError("The model is overloaded. Please try again later."), 503, "UNAVAILABLE"),
        (ServerError("An internal error has occurred."), 500, "INTERNAL"),
        (ServerError("Deadline expired.", status_code=504), 504, "DEADLINE_EXCEEDED"),
        (ProviderError("teapot", status_code=418), 418, "UNKNOWN"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_render_error_round_trips_through_decode_error(error, status, rpc):
    got_status, headers, body = gemini.render_error(error)
    assert got_status == status
    assert headers == {"content-type": "application/json; charset=UTF-8"}
    assert body["error"]["status"] == rpc
    assert body["error"]["message"] == error.message
    assert "retry-after" not in headers  # Gemini puts the wait in the body only
    back = gemini.decode_error(got_status, body, headers)
    assert type(back) is (BadRequestError if type(error) is ProviderError else type(error))
    assert back.message == error.message
    assert back.retry_after == error.retry_after


def test_render_error_bad_key_and_retry_info_bodies():
    _, _, body = gemini.render_error(
        AuthenticationError("API key not valid. Please pass a valid API key.")
    )
    assert body["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert body["error"]["details"][1] == {
        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
        "locale": "en-US",
        "message": "API key not valid. Please pass a valid API key.",
    }
    _, _, body = gemini.render_error(RateLimitError("quota", retry_after=1.5))
    # as the API: the quota's docs, the quota that ran out, then how long to wait
    assert [d["@type"].rsplit(".", 1)[1] for d in body["error"]["details"]] == [
        "Help",
        "QuotaFailure",
        "RetryInfo",
    ]
    assert body["error"]["details"][-1]["retryDelay"] == "1.5s"


def test_render_error_reuses_a_gemini_body():
    original = {
        "error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": []}
    }
    error = gemini.decode_error(429, original)
    assert gemini.render_error(error) == (
        429,
        {"content-type": "application/json; charset=UTF-8"},
        original,
    )
    with pytest.raises(BadRequestError) as info:
        gemini.decode_request({"contents": []})
    status, _, body = gemini.render_error(info.value)
    assert (status, body["error"]["message"]) == (
        400,
        "* GenerateContentRequest.contents: contents is not specified\n",
    )
