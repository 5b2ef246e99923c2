"""Every recorded Chat Completions exchange in cassettes/real decodes through the codec.

Covers openai-chat/ (OpenAI and Azure), openai-compatible/ (DeepSeek, OpenRouter, Groq, Azure
AI Foundry) and the Ollama recordings made against its ``/v1/chat/completions`` endpoint.
Interactions with another URL (a ``/v1/responses`` call in one file) belong to other codecs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from myna.cassettes._foreign import Interaction, load_interactions
from myna.codecs import openai_chat
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    ProviderError,
    RateLimitError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, merge_chunks

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
OLLAMA_V1 = [
    "ollama/test_ollama_local_native_output_uses_json_schema.yaml",
    "ollama/chat_vision_models_ollama_granite3_2-vision_can_understand_local_images.yml",
    "ollama/chat_error_handling_with_ollama_cloud_gpt-oss_120b_raises_appropriate_auth_error.yml",
]
FILES = sorted(
    [f"openai-chat/{p.name}" for p in (REAL / "openai-chat").iterdir()]
    + [f"openai-compatible/{p.name}" for p in (REAL / "openai-compatible").iterdir()]
    + OLLAMA_V1
)


def chats(name: str) -> list[Interaction]:
    return [i for i in load_interactions(REAL / name) if "chat/completions" in i.request.url]


def result(interaction: Interaction) -> AIMessage | ProviderError:
    """The decoded reply, or the error the codec raises / builds for it."""
    response = interaction.response
    if response.status >= 400:
        return openai_chat.decode_error(response.status, response.body, response.headers)
    try:
        if response.is_stream:
            chunks = list(openai_chat.decode_stream(response.stream_payloads()))
            assert chunks[-1].chunk_position == "last"
            return merge_chunks(chunks).to_message()
        return openai_chat.decode_response(response.json())
    except ProviderError as exc:
        return exc


def results(name: str) -> list[AIMessage | ProviderError]:
    return [result(i) for i in chats(name)]


def requests(name: str) -> list[tuple[list, dict]]:
    return [openai_chat.decode_request(i.request.json()) for i in chats(name)]


def test_every_file_of_the_protocol_is_listed():
    assert len(FILES) == 13 + 6 + 3
    assert all((REAL / name).is_file() for name in FILES)


def _comparable(body: dict) -> dict:
    """Differences that do not change meaning: the renamed output cap, JSON spacing of
    tool-call arguments, and an omitted vs null assistant content."""
    body = dict(body)
    if "max_tokens" in body:
        body["max_completion_tokens"] = body.pop("max_tokens")
    messages = []
    for message in body["messages"]:
        message = dict(message)
        if message["role"] == "assistant":
            message.setdefault("content", None)
            message["tool_calls"] = [
                {
                    **c,
                    "function": {
                        **c["function"],
                        "arguments": json.loads(c["function"]["arguments"]),
                    },
                }
                for c in message.get("tool_calls", [])
            ] or None
        messages.append(message)
    body["messages"] = messages
    return body


@pytest.mark.parametrize("name", FILES)
def test_every_request_decodes_and_re_encodes_to_the_recorded_body(name):
    interactions = chats(name)
    assert interactions
    for interaction in interactions:
        recorded = interaction.request.json()
        messages, params = openai_chat.decode_request(recorded)
        assert messages and params["model"] == recorded["model"]
        body = openai_chat.encode_request(messages, params)
        assert _comparable(body) == _comparable(recorded)


@pytest.mark.parametrize("name", FILES)
def test_every_response_decodes(name):
    for item in results(name):
        assert isinstance(item, (AIMessage, ProviderError))
        if isinstance(item, AIMessage):
            assert item.text or item.tool_calls or item.content


@pytest.mark.parametrize("name", FILES)
async def test_async_stream_decoding_matches_sync(name):
    for interaction in chats(name):
        if interaction.response.status >= 400 or not interaction.response.is_stream:
            continue
        payloads = interaction.response.stream_payloads()

        async def events(payloads=payloads):
            for payload in payloads:
                yield payload

        sync_result = result(interaction)
        try:
            chunks = [c async for c in openai_chat.adecode_stream(events())]
        except ProviderError as exc:
            assert isinstance(sync_result, ProviderError)
            assert (type(exc), exc.message) == (type(sync_result), sync_result.message)
            continue
        assert merge_chunks(chunks).to_message() == sync_result


# ---------------------------------------------------------------- openai-chat/


def test_max_completion_tokens():
    [(messages, params)] = requests("openai-chat/test_max_completion_tokens[gpt-4o-mini].yaml")
    assert messages == [HumanMessage("hello")]
    assert params == {"model": "gpt-4o-mini", "max_tokens": 100, "stream": False}
    [reply] = results("openai-chat/test_max_completion_tokens[gpt-4o-mini].yaml")
    assert reply.content == "Hello! How can I assist you today?"
    assert reply.usage_metadata == {
        "input_tokens": 8,
        "output_tokens": 9,
        "total_tokens": 17,
        "input_token_details": {"audio": 0, "cache_read": 0},
        "output_token_details": {"audio": 0, "reasoning": 0},
    }
    assert reply.response_metadata["model_name"] == "gpt-4o-mini-2024-07-18"
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.id == "chatcmpl-Dr3KONlJHqM2OKkn7IPxwgC3ZIEZw"


def test_run_stream_sync_streams_real_model():
    name = "openai-chat/test_run_stream_sync_streams_real_model.yaml"
    (_, first_params), (second_messages, _) = requests(name)
    assert first_params["stream"] is True and first_params["stream_usage"] is True
    assert first_params["tool_choice"] == "auto"
    assert first_params["tools"][0]["name"] == "get_capital"
    assert isinstance(second_messages[2], ToolMessage) and second_messages[2].content == "London"
    call, answer = results(name)
    assert call.tool_calls == [
        {
            "name": "get_capital",
            "args": {"country": "UK"},
            "id": "call_ZR5UUuTt3pf61kjwAJIYdVMj",
            "type": "tool_call",
        }
    ]
    assert call.response_metadata["finish_reason"] == "tool_calls"
    assert call.usage_metadata["total_tokens"] == 68
    assert answer.content == "The capital of the UK is London."
    assert answer.usage_metadata["input_tokens"] == 78


def test_tool_use_basic():
    name = "openai-chat/test_tool_use_basic.yaml"
    call, answer = results(name)
    assert call.tool_calls[0]["name"] == "multiply"
    assert call.tool_calls[0]["args"] == {"a": 1231, "b": 2331}
    assert answer.text.startswith("The result of \\( 1231 \\times 2331 \\) is")
    assert answer.usage_metadata["output_tokens"] == 26
    _, (messages, params) = requests(name)
    # llm sends an empty assistant message before the one with the tool call
    assert [m.type for m in messages] == ["human", "ai", "ai", "tool"]
    assert messages[3].tool_call_id == "call_1EYWDzueHEp8OsB8jJSEp7WB"
    assert params["tools"][0]["description"] == "Multiply two numbers."


def test_complex_agent_run_with_parallel_streamed_tool_calls():
    name = "openai-chat/test_complex_agent_run_in_workflow.yaml"
    first, second, third = results(name)
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [
        ("get_country", {}),
        ("get_product_name", {}),
    ]
    assert second.tool_calls[0]["args"] == {"city": "Mexico City"}
    assert third.tool_calls[0]["name"] == "final_result"
    assert third.tool_calls[0]["args"]["answers"][0] == {
        "label": "Capital of the country",
        "answer": "Mexico City",
    }
    assert [r.usage_metadata["total_tokens"] for r in (first, second, third)] == [404, 438, 497]
    (_, params), *_ = requests(name)
    assert params["tool_choice"] == "any"
    assert len(params["tools"]) == 19


def test_dbos_agent_with_parallel_tool_calls():
    name = "openai-chat/test_dbos_agent_with_hitl_tool.yaml"
    calls, done = results(name)
    assert [(c["name"], c["args"]["path"]) for c in calls.tool_calls] == [
        ("delete_file", ".env"),
        ("create_file", "test.txt"),
    ]
    assert done.content.startswith("The file `.env` has been deleted")
    _, (messages, _) = requests(name)
    assert isinstance(messages[0], SystemMessage)
    assert [m.content for m in messages[3:]] == ["true", "Success"]


def test_native_output():
    name = "openai-chat/test_openai_native_output.yaml"
    (_, params), _ = requests(name)
    assert params["response_format"] == {
        "type": "json_schema",
        "name": "result",
        "strict": False,
        "schema": {
            "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
            "required": ["city", "country"],
            "type": "object",
        },
    }
    call, answer = results(name)
    assert call.tool_calls[0]["name"] == "get_user_country"
    assert json.loads(answer.content) == {"city": "Mexico City", "country": "Mexico"}


def test_thinking_part_chat_turn():
    name = "openai-chat/test_openai_model_thinking_part.yaml"
    assert len(load_interactions(REAL / name)) == 2  # the first is a /v1/responses call
    [(messages, params)] = requests(name)
    assert params["reasoning_effort"] == "high"
    assert messages[1].text.startswith("<think>\n**Emphasizing pedestrian safety**")
    [reply] = results(name)
    assert reply.text.startswith("When it comes to crossing a river safely")
    assert reply.usage_metadata["output_token_details"]["reasoning"] == 1792


def test_prompt_cache_e2e():
    name = "openai-chat/test_openai_chat_prompt_cache_e2e.yaml"
    (messages, params), _ = requests(name)
    assert params["prompt_cache_key"] == "pydantic-ai-prompt-cache-e2e-chat"
    assert params["prompt_cache_options"] == {"mode": "explicit", "ttl": "30m"}
    first_part = messages[0].content[0]
    assert first_part["extras"] == {"prompt_cache_breakpoint": {"mode": "explicit"}}
    write, read = results(name)
    assert write.content == read.content == "OK"
    assert write.usage_metadata["input_token_details"] == {
        "audio": 0,
        "cache_read": 0,
        "cache_creation": 4012,
    }
    assert read.usage_metadata["input_token_details"]["cache_read"] == 4012
    assert read.usage_metadata["input_tokens"] == 4020


def test_image_url_input_after_a_tool_call():
    name = "openai-chat/test_multimodal_tool_return_matrix[direct-url-image-openai_chat].yaml"
    _, (messages, _) = requests(name)
    assert messages[-1].content == [
        {"type": "text", "text": "This is file 6a18c6:"},
        {"type": "image", "url": "https://www.gstatic.com/webp/gallery3/1.png"},
    ]
    call, answer = results(name)
    assert call.tool_calls[0]["name"] == "get_file"
    assert answer.text.startswith("The image is a close-up of a single rose blossom.")
    assert answer.usage_metadata["output_token_details"]["reasoning"] == 256


def test_audio_input():
    name = "openai-chat/test_audio_as_binary_content_input.yaml"
    [(messages, _)] = requests(name)
    audio = messages[0].content[1]
    assert audio["type"] == "audio" and audio["mime_type"] == "audio/mpeg"
    assert audio["base64"].startswith("//t0xAAD")
    [reply] = results(name)
    assert reply.content == "The name mentioned in the audio is Marcelo."
    assert reply.usage_metadata["input_token_details"]["audio"] == 44


def test_model_name_suggestion_404():
    [error] = results("openai-chat/test_model_name_suggestion[openai-chat].yaml")
    assert isinstance(error, NotFoundError)
    assert error.message == (
        "The model `gpt-5.2-proo` does not exist or you do not have access to it."
    )
    assert error.body["error"]["code"] == "model_not_found"


def test_o1_mini_system_role_400():
    [error] = results("openai-chat/test_openai_o1_mini_system_role[system].yaml")
    assert isinstance(error, BadRequestError)
    assert "does not support 'system' with this model" in error.message
    assert error.status_code == 400


def test_azure_provider_call():
    name = "openai-chat/test_azure_provider_call.yaml"
    [interaction] = chats(name)
    assert "/openai/deployments/gpt-4o/chat/completions" in interaction.request.url
    [reply] = results(name)
    assert reply.content == "The capital of France is **Paris**."
    meta = reply.response_metadata
    assert meta["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}
    assert meta["prompt_filter_results"][0]["content_filter_results"]["jailbreak"] == {
        "detected": False,
        "filtered": False,
    }


# ---------------------------------------------------------------- openai-compatible/


def test_azure_foundry_rate_limit():
    name = (
        "openai-compatible/chat_real_error_scenarios_azure_grok-4-1-fast-non-reasoning_"
        "handles_context_length_exceeded_errors.yml"
    )
    [error] = results(name)
    assert isinstance(error, RateLimitError)
    assert error.message.startswith("Your requests to grok-4-1-fast-non-reasoning")
    # Azure sends retry-after: 1 and retry-after-ms: 0; a zero millisecond header means "not
    # said", so the one-second header counts
    assert error.retry_after == 1.0
    assert error.body["error"]["code"] == "RateLimitReached"


def test_deepseek_thinking_stream():
    name = "openai-compatible/test_deepseek_model_thinking_stream.yaml"
    [reply] = results(name)
    reasoning, text = reply.content
    assert reasoning["type"] == "reasoning"
    assert reasoning["reasoning"].startswith('Hmm, the user just said "Hello".')
    assert reasoning["extras"] == {"field": "reasoning_content"}
    assert text == {"type": "text", "text": "Hello there! 😊 How can I help you today?"}
    assert reply.usage_metadata == {
        "input_tokens": 6,
        "output_tokens": 212,
        "total_tokens": 218,
        "input_token_details": {"cache_read": 0},
        "output_token_details": {"reasoning": 198},
    }
    assert reply.response_metadata["token_usage"]["prompt_cache_miss_tokens"] == 6


def test_openrouter_errors_raised():
    errors = results("openai-compatible/test_openrouter_errors_raised.yaml")
    assert len(errors) == 3
    for error in errors:
        assert isinstance(error, RateLimitError)
        assert error.message.startswith(
            "Provider returned error: google/gemini-2.0-flash-exp:free is temporarily "
            "rate-limited upstream."
        )
        assert error.body["error"]["metadata"]["provider_name"] == "Google"


def test_openrouter_stream_error():
    name = "openai-compatible/test_openrouter_stream_error.yaml"
    [interaction] = chats(name)
    payloads = interaction.response.stream_payloads()
    seen = []
    with pytest.raises(BadRequestError) as exc:
        for chunk in openai_chat.decode_stream(payloads):
            seen.append(chunk)
    assert exc.value.message == "Token limit reached"
    assert exc.value.status_code is None
    partial = merge_chunks(seen).to_message()
    assert partial.content[0]["reasoning"] == "We need to respond to a greeting. The user"
    assert partial.content[0]["extras"]["field"] == "reasoning"
    [(_, params)] = requests(name)
    assert params["max_tokens"] == 10


def test_groq_tool_use_failed():
    name = "openai-compatible/test_tool_use_failed_error.yaml"
    error, call, answer = results(name)
    assert isinstance(error, BadRequestError)
    assert error.message.startswith("Tool call validation failed")
    assert error.body["error"]["code"] == "tool_use_failed"
    assert json.loads(error.body["error"]["failed_generation"])["arguments"] == {"foo": "bar"}
    assert call.tool_calls[0]["args"] == {"name": "test"}
    assert call.content[0]["extras"] == {"field": "reasoning"}
    assert call.response_metadata["x_groq"]["id"] == "req_01khrvt0x4e8cs577wtgjk872s"
    assert call.response_metadata["service_tier"] == "on_demand"
    assert answer.text.startswith("The first call failed due to missing and extra parameters")
    assert answer.usage_metadata["input_token_details"] == {"cache_read": 256}
    assert answer.response_metadata["token_usage"]["queue_time"] == 0.005052002


def test_groq_tool_use_failed_streaming():
    name = "openai-compatible/test_tool_use_failed_error_streaming.yaml"
    error, call, answer = results(name)
    assert isinstance(error, BadRequestError)  # from `event: error` inside the 200 stream
    assert "additionalProperties 'invalid_param' not allowed" in error.message
    assert error.body["error"]["status_code"] == 400
    assert call.tool_calls == [
        {
            "name": "get_something_by_name",
            "args": {"name": "example"},
            "id": "fc_bfb39741-3748-4def-9886-a93fc9c64a90",
            "type": "tool_call",
        }
    ]
    assert call.usage_metadata == {
        "input_tokens": 304,
        "output_tokens": 49,
        "total_tokens": 353,
        "output_token_details": {"reasoning": 23},
    }
    assert answer.content[1]["text"] == "The tool returned the expected result for the valid call."
    assert answer.response_metadata["x_groq"]["seed"] == 1734142537
    _, (messages, _), _ = requests(name)
    assert messages[2].text.startswith("<think>\nWe need to call the tool with invalid")


# ---------------------------------------------------------------- ollama /v1


def test_ollama_native_output_with_reasoning():
    name = OLLAMA_V1[0]
    [(_, params)] = requests(name)
    assert params["response_format"]["name"] == "CityLocation"
    assert "strict" not in params["response_format"]
    [reply] = results(name)
    reasoning, text = reply.content
    assert reasoning["reasoning"].startswith("Okay, the user is asking for the capital of France.")
    assert reasoning["extras"] == {"field": "reasoning"}
    assert json.loads(text["text"]) == {"city": "Paris", "country": "France"}
    assert reply.usage_metadata == {"input_tokens": 136, "output_tokens": 15, "total_tokens": 151}
    assert reply.response_metadata["system_fingerprint"] == "fp_ollama"


def test_ollama_vision():
    name = OLLAMA_V1[1]
    [(messages, params)] = requests(name)
    image = messages[0].content[1]
    assert image["type"] == "image" and image["mime_type"] == "image/png"
    assert image["base64"].startswith("iVBORw0KGgo")
    assert params["model"] == "granite3.2-vision"
    [reply] = results(name)
    assert reply.text.startswith("\nI'm sorry for any confusion")
    assert reply.id == "chatcmpl-428"
    assert reply.usage_metadata["input_tokens"] == 785


def test_ollama_cloud_auth_error():
    [error] = results(OLLAMA_V1[2])
    assert isinstance(error, AuthenticationError)
    assert error.message == "Unauthorized"
    assert error.status_code == 401
    status, _, body = openai_chat.render_error(error)
    assert (status, body) == (
        401,
        {"error": {"message": "Unauthorized", "type": "api_error", "param": None, "code": None}},
    )
