"""Every recorded Gemini call in cassettes/real/gemini decodes through the codec, both ways.

Each response goes through decode_response / decode_stream / decode_error (by status) and
each request through decode_request (with the model taken from the URL); every file then
gets assertions about what it holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from myna.cassettes._foreign import Interaction, load_interactions
from myna.codecs import gemini
from myna.exceptions import (
    AuthenticationError,
    NotFoundError,
    ProviderError,
    RateLimitError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, merge_chunks

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real" / "gemini"
FILES = sorted(p.name for p in REAL.iterdir() if p.is_file())


def _is_generate(interaction: Interaction) -> bool:
    return (
        "generateContent" in interaction.request.url or "GenerateContent" in interaction.request.url
    )


def decode_all(name: str) -> list[dict]:
    """Decode every generateContent call of a file; cachedContents calls are not ours."""
    out = []
    for interaction in load_interactions(REAL / name):
        request, response = interaction.request, interaction.response
        if not _is_generate(interaction):
            # The explicit-cache API (POST/DELETE /cachedContents) is a different endpoint.
            assert "/cachedContents" in request.url
            out.append({"skipped": f"{request.method} cachedContents"})
            continue
        model = gemini.model_from_path(request.url)
        messages, params = gemini.decode_request(request.json(), model=model)
        item: dict = {
            "model": model,
            "messages": messages,
            "params": params,
            "status": response.status,
        }
        if response.status >= 400:
            item["error"] = gemini.decode_error(response.status, response.json(), response.headers)
        elif response.is_stream:
            chunks = list(gemini.decode_stream(response.stream_payloads()))
            assert chunks[-1].chunk_position == "last"
            assert all(c.usage_metadata is None for c in chunks[:-1])
            item["chunks"] = chunks
            item["reply"] = merge_chunks(chunks).to_message()
        else:
            item["reply"] = gemini.decode_response(response.json())
        out.append(item)
    return out


def test_every_gemini_file_is_covered_here():
    assert len(FILES) == 14
    assert set(FILES) == set(CHECKS)


def check_thinking_part(calls):
    first, second = calls
    assert first["model"] == "gemini-3-pro-preview"
    assert first["messages"] == [
        SystemMessage("You are a helpful assistant."),
        HumanMessage("How do I cross the street?"),
    ]
    assert first["params"]["include_reasoning"] is True
    assert first["params"]["tools"] == [
        {
            "name": "dummy",
            "description": "",
            "parameters": {"additionalProperties": False, "properties": {}, "type": "object"},
        }
    ]
    reply = first["reply"]
    reasoning, text = reply.content
    assert reasoning["type"] == "reasoning"
    assert reasoning["reasoning"].startswith("**A Safe Street-Crossing Guide: My Thought Process**")
    assert text["text"].startswith("Crossing the street safely is a fundamental skill")
    assert text["extras"]["signature"].startswith(
        "EqoeCqceAdHtim+cXhv3WM3Av2yBDu1t4su/bUCXEv2uoKmDxRFXBZaAr6vq"
    )
    assert reply.usage_metadata == {
        "input_tokens": 29,
        "output_tokens": 1737,
        "total_tokens": 1766,
        "output_token_details": {"reasoning": 1001},
    }
    assert reply.response_metadata["finish_reason"] == "stop"
    # turn 2 sends the thought and the signed answer back
    history = second["messages"][2]
    assert isinstance(history, AIMessage)
    assert history.content[0]["type"] == "reasoning"
    assert history.content[1]["extras"]["signature"].startswith("EqoeCqceAdHtim-cXhv3WM3")
    assert second["reply"].content[0]["reasoning"].startswith("**Navigating Nature's Road")
    assert second["reply"].usage_metadata["output_token_details"] == {"reasoning": 1115}
    # what we send back carries the signature on the text part, as the recording did
    body = gemini.encode_request(second["messages"], second["params"])
    assert (
        body["contents"][1]["parts"][1]["thoughtSignature"]
        == history.content[1]["extras"]["signature"]
    )
    assert body["contents"][1]["parts"][0]["thought"] is True


def check_stream(calls):
    [call] = calls
    assert call["model"] == "gemini-2.0-flash-exp"
    assert call["params"] == {"model": "gemini-2.0-flash-exp", "temperature": 0.0}
    assert [c.content for c in call["chunks"]] == ["The", " capital of France", " is Paris.\n", ""]
    reply = call["reply"]
    assert reply.content == "The capital of France is Paris.\n"
    # usageMetadata repeats in every event; the last one counts, not the sum
    assert reply.usage_metadata == {"input_tokens": 13, "output_tokens": 8, "total_tokens": 21}
    assert reply.id == "w1peaMz6INOvnvgPgYfPiQY"
    assert reply.response_metadata["model_name"] == "gemini-2.0-flash-exp"


def check_stream_signature(calls):
    first, second = calls
    assert first["params"]["tools"][0]["name"] == "get_country"
    call_reply = first["reply"]
    assert call_reply.tool_calls == [
        {"name": "get_country", "args": {}, "id": "call_0", "type": "tool_call"}
    ]
    signature = call_reply.additional_kwargs["thought_signatures"]["call_0"]
    assert signature.startswith(
        "EpwICpkIAXLI2nxlU6gsWZaZHRYkX1orzuM8vSUFwaAt1JRxEC2hJzPAcAu3PWaKz7X+"
    )
    assert call_reply.response_metadata["finish_reason"] == "tool_calls"
    assert call_reply.usage_metadata == {
        "input_tokens": 29,
        "output_tokens": 212,
        "total_tokens": 241,
        "output_token_details": {"reasoning": 202},
    }
    # the follow-up request echoes the call (with pydantic-ai's id) and the tool result
    _, ai, tool = second["messages"]
    assert ai.tool_calls[0]["id"] == "pyd_ai_29bf73b69e02448588e15893d47a3e7e"
    assert ai.additional_kwargs["thought_signatures"][
        "pyd_ai_29bf73b69e02448588e15893d47a3e7e"
    ].startswith("EpwICpkIAXLI2nxlU6gsWZaZHRYkX1orzuM8vSUFwaAt1JRxEC2hJzPAcAu3PWaKz7X-")
    assert tool == ToolMessage(
        '{"return_value": "Mexico"}',
        tool_call_id="pyd_ai_29bf73b69e02448588e15893d47a3e7e",
        name="get_country",
    )
    assert second["reply"].content == "The capital of Mexico is Mexico City."
    assert second["reply"].usage_metadata == {
        "input_tokens": 257,
        "output_tokens": 8,
        "total_tokens": 265,
    }
    # our own encoding of the decoded reply puts the signature back on the functionCall part
    body = gemini.encode_request([HumanMessage("q"), call_reply], {})
    assert body["contents"][1]["parts"] == [
        {
            "functionCall": {"name": "get_country", "args": {}, "id": "call_0"},
            "thoughtSignature": signature,
        }
    ]


def check_max_tokens(calls):
    [call] = calls
    assert call["params"] == {
        "model": "gemini-2.5-flash",
        "max_tokens": 5,
        "response_modalities": ["TEXT"],
        "reasoning_budget": 0,
    }
    assert call["reply"].content == "The capital of France is"
    assert call["reply"].response_metadata["finish_reason"] == "length"
    assert call["reply"].response_metadata["finishReason"] == "MAX_TOKENS"
    assert call["reply"].usage_metadata == {
        "input_tokens": 15,
        "output_tokens": 5,
        "total_tokens": 20,
    }


def check_cached_content(calls):
    create, first, second, delete = calls
    assert create == {"skipped": "POST cachedContents"} and delete == {
        "skipped": "DELETE cachedContents"
    }
    assert (
        first["params"]["cachedContent"]
        == "cachedContents/7lf5him5ev4iemi1yjv2gwli5bhpz3yidzejwllo"
    )
    assert first["reply"].content == "Paris." and second["reply"].content == "Paris."
    assert first["reply"].usage_metadata == {
        "input_tokens": 3520,
        "output_tokens": 44,
        "total_tokens": 3564,
        "input_token_details": {"cache_read": 3512},
        "output_token_details": {"reasoning": 42},
    }
    assert second["reply"].usage_metadata["output_token_details"] == {"reasoning": 51}


def check_vertex_logprobs(calls):
    [call] = calls
    assert call["model"] == "gemini-2.5-flash"
    assert call["params"]["logprobs"] is True and call["params"]["top_logprobs"] == 5
    reply = call["reply"]
    assert reply.content == "2 + 2 = 4"
    logprobs = reply.response_metadata["logprobs"]
    assert [c["token"] for c in logprobs["chosenCandidates"]] == [
        "2",
        " +",
        " ",
        "2",
        " =",
        " ",
        "4",
    ]
    assert (
        len(logprobs["topCandidates"]) == 7 and len(logprobs["topCandidates"][0]["candidates"]) == 5
    )
    assert reply.response_metadata["avg_logprobs"] == pytest.approx(-1.0858495576041085)
    assert reply.response_metadata["create_time"] == "2026-02-15T07:50:37.854117Z"
    assert reply.usage_metadata == {
        "input_tokens": 7,
        "output_tokens": 80,
        "total_tokens": 87,
        "output_token_details": {"reasoning": 73},
    }


def check_name_suggestion(calls):
    [call] = calls
    assert call["model"] == "gemini-3.6-flahs"
    error = call["error"]
    assert type(error) is NotFoundError and error.status_code == 404
    assert error.message.startswith("models/gemini-3.6-flahs is not found for API version v1beta")
    assert gemini.render_error(error)[2] == error.body  # the emulator answers with the same body


def check_pydantic_schema(calls):
    [call] = calls
    assert call["model"] == "gemini-flash-latest"
    assert call["params"]["response_format"] == {
        "type": "json_schema",
        "schema": {
            "properties": {
                "name": {"title": "Name", "type": "string"},
                "age": {"title": "Age", "type": "integer"},
                "bio": {"title": "Bio", "type": "string"},
            },
            "required": ["name", "age", "bio"],
            "type": "object",
        },
    }
    assert call["params"]["include_reasoning"] is True
    assert len(call["params"]["safetySettings"]) == 4
    reasoning, text = call["reply"].content
    assert reasoning["reasoning"].startswith("**Defining the Core Dog**")
    assert text["text"].startswith('{"name":"Zephyr The Rocket Barkington","age":4,')
    assert text["text"].endswith('in mid-air."}')
    assert text["extras"]["signature"].startswith("EsIPCr8PARFNMg/fuE6OLfdWz4YVD90X1mvMvcVCTa5t")
    assert call["reply"].usage_metadata == {
        "input_tokens": 5,
        "output_tokens": 503,
        "total_tokens": 508,
        "output_token_details": {"reasoning": 453},
    }


def check_tools(calls):
    first, second, third = calls
    assert first["params"]["tools"] == [
        {
            "name": "pelican_name_generator",
            "description": "",
            "parameters": {"properties": {}, "type": "object"},
        }
    ]
    reply = first["reply"]
    assert reply.content[0]["reasoning"].startswith("**Generating Pelican Names**")
    assert reply.tool_calls == [
        {"name": "pelican_name_generator", "args": {}, "id": "call_0", "type": "tool_call"}
    ]
    assert reply.additional_kwargs["thought_signatures"]["call_0"].startswith(
        "ClgBEU0yD8z3tYzbgjZ1jc6lL1fw"
    )
    assert reply.response_metadata["finish_message"] == "Model generated function call(s)."
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    # snake_case function_call / function_response parts in the follow-up requests
    _, ai, tool = second["messages"]
    assert ai.tool_calls[0]["id"] == "call_27db36357f594e73b557ec8f70da9e87"
    assert tool == ToolMessage(
        "Charles",
        tool_call_id="call_27db36357f594e73b557ec8f70da9e87",
        name="pelican_name_generator",
    )
    assert second["reply"].tool_calls[0]["name"] == "pelican_name_generator"
    assert [type(m).__name__ for m in third["messages"]] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "ToolMessage",
    ]
    assert third["messages"][4].content == "Sammy"
    assert third["reply"].content == "How about Charles and Sammy?"
    assert third["reply"].usage_metadata == {
        "input_tokens": 137,
        "output_tokens": 6,
        "total_tokens": 143,
    }


def check_parallel_tools(calls):
    first, second = calls
    assert [t["name"] for t in first["params"]["tools"]] == ["weather", "best_language_to_learn"]
    # the OpenAPI-style schema (type: OBJECT/STRING) comes back as JSON schema
    assert first["params"]["tools"][0]["parameters"]["properties"]["latitude"] == {
        "type": "string",
        "description": "Latitude (e.g., 52.5200)",
    }
    reply = first["reply"]
    assert reply.tool_calls == [
        {
            "name": "weather",
            "args": {"latitude": "52.5200", "longitude": "13.4050"},
            "id": "call_0",
            "type": "tool_call",
        },
        {"name": "best_language_to_learn", "args": {}, "id": "call_1", "type": "tool_call"},
    ]
    assert set(reply.additional_kwargs["thought_signatures"]) == {"call_0"}
    assert reply.usage_metadata == {
        "input_tokens": 143,
        "output_tokens": 153,
        "total_tokens": 296,
        "output_token_details": {"reasoning": 109},
    }
    # the results went back without ids: they are matched to the calls by name
    _, _, weather, language = second["messages"]
    assert weather.tool_call_id == "call_0" and weather.name == "weather"
    assert "15°C" in weather.content
    assert language.tool_call_id == "call_1" and '"Ruby"' in language.content
    assert second["reply"].content.startswith("The weather in Berlin (52.5200, 13.4050) is 15°C")


def check_vision(calls):
    [call] = calls
    [message] = call["messages"]
    text, image = message.content
    assert text == {"type": "text", "text": "What do you see in this image?"}
    assert image["type"] == "image" and image["mime_type"] == "image/png"
    assert image["base64"].startswith("iVBORw0KGgo")
    assert call["reply"].content.startswith("I see a faceted, deep red gemstone.")
    assert call["reply"].usage_metadata == {
        "input_tokens": 267,
        "output_tokens": 420,
        "total_tokens": 687,
        "output_token_details": {"reasoning": 373},
    }


def check_auth_error(calls):
    [call] = calls
    error = call["error"]
    assert type(error) is AuthenticationError and error.status_code == 400
    assert error.message == "API key not valid. Please pass a valid API key."


def check_quota_error(calls):
    [call] = calls
    assert len(call["messages"]) == 11
    error = call["error"]
    assert type(error) is RateLimitError and error.status_code == 429
    assert error.retry_after == 48.0
    assert error.message.startswith("You exceeded your current quota")


def check_go_sdk_error(calls):
    [call] = calls
    assert call["model"] == "gemini-2.0-flash"
    # integer enums from the Go SDK pass through untouched
    assert call["params"]["safetySettings"][0] == {"category": 10, "threshold": 3}
    assert call["params"]["max_tokens"] == 2048 and call["params"]["top_k"] == 3
    error = call["error"]
    assert type(error) is AuthenticationError and error.status_code == 403
    assert error.message.startswith("Method doesn't allow unregistered callers")


CHECKS = {
    "test_google_model_thinking_part.yaml": check_thinking_part,
    "test_google_model_stream.yaml": check_stream,
    "test_google_streaming_tool_call_thought_signature.yaml": check_stream_signature,
    "test_google_model_max_tokens.yaml": check_max_tokens,
    "test_google_model_cached_content.yaml": check_cached_content,
    "test_google_vertex_logprobs.yaml": check_vertex_logprobs,
    "test_model_name_suggestion[google].yaml": check_name_suggestion,
    "test_prompt_with_pydantic_schema.yaml": check_pydantic_schema,
    "test_tools.yaml": check_tools,
    "chat_function_calling_gemini_gemini-2_5-flash_can_use_parallel_tool_calls.yml": check_parallel_tools,
    "chat_vision_models_gemini_gemini-2_5-flash_can_understand_local_images.yml": check_vision,
    "chat_error_handling_with_gemini_gemini-2_5-flash_raises_appropriate_auth_error.yml": check_auth_error,
    "chat_real_error_scenarios_gemini_gemini-2_5-flash_handles_context_length_exceeded_errors.yml": check_quota_error,
    "TestGoogleAIErrorHandling.httprr": check_go_sdk_error,
}


@pytest.mark.parametrize("name", FILES)
def test_real_gemini_file_decodes(name):
    CHECKS[name](decode_all(name))


@pytest.mark.parametrize("name", FILES)
def test_real_requests_survive_our_own_encoding(name):
    """decode_request then encode_request then decode_request gives the same messages."""
    for call in decode_all(name):
        if "skipped" in call:
            continue
        body = gemini.encode_request(call["messages"], call["params"])
        again, params = gemini.decode_request(body, model=call["model"])
        assert again == call["messages"]
        assert params == call["params"]


@pytest.mark.parametrize("name", FILES)
def test_real_replies_survive_render_and_decode(name):
    """Our emulator's rendering of each recorded reply decodes to the same message."""
    for call in decode_all(name):
        if "reply" in call:
            reply = call["reply"]
            assert (
                gemini.decode_response(gemini.render_response(reply, {"model": call["model"]}))
                == reply
            )
            streamed = merge_chunks(
                list(gemini.decode_stream(gemini.render_stream(reply, {"model": call["model"]})))
            ).to_message()
            assert streamed.content == reply.content
            assert streamed.tool_calls == reply.tool_calls
            assert streamed.usage_metadata == reply.usage_metadata
            assert streamed.additional_kwargs == reply.additional_kwargs
        elif "error" in call:
            status, _, body = gemini.render_error(call["error"])
            back = gemini.decode_error(status, body)
            assert type(back) is type(call["error"]) and back.message == call["error"].message
            assert isinstance(back, ProviderError)
