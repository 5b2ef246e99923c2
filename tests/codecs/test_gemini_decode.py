"""Client side of the Gemini codec, reply half: decode_response, decode_stream, decode_error."""

from __future__ import annotations

import json

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
    StreamInterruptedError,
)
from myna.messages import merge_chunks

PNG = "iVBORw0KGgo="


def merged(events):
    return merge_chunks(list(gemini.decode_stream(events))).to_message()


def event(parts, *, finish=None, usage=None, **extra):
    candidate = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", "responseId": "r1"}
    if usage:
        out["usageMetadata"] = usage
    out.update(extra)
    return out


# ---------------------------------------------------------------- decode_response


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


# ---------------------------------------------------------------- decode_stream


def test_stream_text_usage_taken_once_from_last_event():
    events = [
        event([{"text": "The"}], usage={"promptTokenCount": 15, "totalTokenCount": 15}),
        event([{"text": " capital"}], usage={"promptTokenCount": 15, "totalTokenCount": 15}),
        event(
            [{"text": " is Paris."}],
            finish="STOP",
            usage={"promptTokenCount": 13, "candidatesTokenCount": 8, "totalTokenCount": 21},
        ),
    ]
    chunks = list(gemini.decode_stream(events))
    assert [c.content for c in chunks] == ["The", " capital", " is Paris.", ""]
    assert [c.usage_metadata for c in chunks[:-1]] == [None, None, None]
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata == {"input_tokens": 13, "output_tokens": 8, "total_tokens": 21}
    msg = merge_chunks(chunks).to_message()
    assert msg.content == "The capital is Paris."
    assert msg.usage_metadata == {"input_tokens": 13, "output_tokens": 8, "total_tokens": 21}
    assert msg.response_metadata["finish_reason"] == "stop"
    assert msg.id == "r1"


def test_stream_thoughts_then_text_then_signature_merge_into_blocks():
    events = [
        event([{"text": "**Plan** ", "thought": True}]),
        event([{"text": "more", "thought": True}]),
        event([{"text": '{"a":'}]),
        event([{"text": "1}"}]),
        event([{"text": "", "thoughtSignature": "SIG"}], finish="STOP"),
    ]
    msg = merged(events)
    assert msg.content == [
        {"type": "reasoning", "reasoning": "**Plan** more"},
        {"type": "text", "text": '{"a":1}', "extras": {"signature": "SIG"}},
    ]


def test_stream_text_then_image_keeps_the_text_in_one_block():
    events = [
        event([{"text": "Here "}]),
        event([{"text": "it is:"}]),
        event([{"inlineData": {"mimeType": "image/png", "data": PNG}}], finish="STOP"),
    ]
    assert merged(events).content == [
        {"type": "text", "text": "Here it is:"},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
    ]


def test_stream_gemini3_plain_text_with_trailing_signature_stays_a_string():
    events = [
        event([{"text": "Hello"}]),
        event([{"text": "", "thoughtSignature": "SIG"}], finish="STOP"),
    ]
    msg = merged(events)
    assert msg.content == "Hello"
    assert msg.additional_kwargs == {"text_thought_signature": "SIG"}


def test_stream_function_calls_arrive_whole_with_signatures():
    events = [
        event([{"functionCall": {"name": "a", "args": {"x": 1}}, "thoughtSignature": "S"}]),
        event([{"functionCall": {"name": "b", "args": {}}}, {"text": ""}], finish="STOP"),
    ]
    chunks = list(gemini.decode_stream(events))
    assert chunks[0].tool_call_chunks == [
        {"name": "a", "args": '{"x": 1}', "id": "call_0", "index": 0, "type": "tool_call_chunk"}
    ]
    msg = merge_chunks(chunks).to_message()
    assert msg.tool_calls == [
        {"name": "a", "args": {"x": 1}, "id": "call_0", "type": "tool_call"},
        {"name": "b", "args": {}, "id": "call_1", "type": "tool_call"},
    ]
    assert msg.additional_kwargs == {"thought_signatures": {"call_0": "S"}}
    assert msg.response_metadata["finish_reason"] == "tool_calls"


def test_stream_logprobs_concatenate_across_events():
    first = event([{"text": "2"}])
    first["candidates"][0]["logprobsResult"] = {"chosenCandidates": [{"token": "2"}]}
    last = event([{"text": "+2"}], finish="STOP")
    last["candidates"][0]["logprobsResult"] = {"chosenCandidates": [{"token": "+2"}]}
    msg = merged([first, last])
    assert msg.response_metadata["logprobs"] == {
        "chosenCandidates": [{"token": "2"}, {"token": "+2"}]
    }


def test_stream_accepts_json_text_events_and_a_whole_array():
    events = [json.dumps(event([{"text": "a"}])), [event([{"text": "b"}], finish="STOP")]]
    assert merged(events).content == "ab"


def test_stream_blocked_prompt_finishes():
    msg = merged([{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "responseId": "r"}])
    assert msg.response_metadata["finish_reason"] == "content_filter"


def test_stream_without_finish_reason_is_interrupted_with_partial():
    events = [event([{"text": "Hel"}]), event([{"text": "lo"}])]
    with pytest.raises(StreamInterruptedError) as info:
        list(gemini.decode_stream(events))
    assert "Gemini stream ended after 2 events without a finishReason" in str(info.value)
    assert info.value.partial.content == "Hello"
    with pytest.raises(StreamInterruptedError) as info:
        list(gemini.decode_stream([]))
    assert info.value.partial is None


def test_stream_error_event_raises_provider_error_without_status():
    events = [
        event([{"text": "a"}]),
        {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}},
    ]
    with pytest.raises(OverloadedError) as info:
        list(gemini.decode_stream(events))
    assert info.value.message == "The model is overloaded."
    assert info.value.status_code is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (42, "Gemini stream event 1: must be a JSON object (a GenerateContentResponse); got 42"),
        ("{not json", 'Gemini stream event 1: is not JSON; got "{not json"'),
        (
            {"candidates": [{"content": {"parts": "x"}}]},
            "Gemini stream event 1: content.parts must be a list",
        ),
        (
            {"candidates": [{"content": {"parts": [{"inlineData": {"data": 5}}]}}]},
            "Gemini stream event 1 part 0: inlineData.data must be a str",
        ),
        (
            {"candidates": [{"finishReason": ["STOP"]}]},
            "Gemini stream event 1: finishReason must be a string",
        ),
    ],
)
def test_stream_malformed_event_names_its_index(bad, message):
    with pytest.raises(DecodeError) as info:
        list(gemini.decode_stream([event([{"text": "a"}]), bad]))
    assert message in str(info.value)


# ---------------------------------------------------------------- decode_error


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
