"""Every recorded OpenAI Responses call in cassettes/real decodes, with its facts checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from myna.cassettes._foreign import Interaction, load_interactions
from myna.codecs import openai_responses as codec
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    ProviderError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, merge_chunks

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real"
DIR = REAL / "openai-responses"
THINKING = REAL / "openai-chat" / "test_openai_model_thinking_part.yaml"


def _calls(path: Path) -> list[Interaction]:
    return [i for i in load_interactions(path) if i.request.url.endswith("/v1/responses")]


def _reply(interaction: Interaction) -> AIMessage:
    response = interaction.response
    assert response.status == 200
    if response.is_stream:
        chunks = list(codec.decode_stream(response.stream_payloads()))
        assert chunks[-1].chunk_position == "last"
        return merge_chunks(chunks).to_message()
    return codec.decode_response(response.json())


def _error(interaction: Interaction) -> ProviderError:
    response = interaction.response
    return codec.decode_error(response.status, response.json(), response.headers)


def _blocks(message: AIMessage, kind: str) -> list[dict]:
    assert isinstance(message.content, list)
    return [b for b in message.content if b["type"] == kind]


ALL_FILES = sorted(DIR.iterdir())


def test_the_corpus_has_all_thirteen_files() -> None:
    assert len(ALL_FILES) == 13


@pytest.mark.parametrize("path", [*ALL_FILES, THINKING], ids=lambda p: p.name)
def test_every_request_and_response_decodes(path: Path) -> None:
    calls = _calls(path)
    assert calls
    for interaction in calls:
        body = interaction.request.json()
        if interaction.response.status == 200:
            messages, params = codec.decode_request(body)
            assert params["model"] == body["model"]
            assert isinstance(messages[-1], (HumanMessage, ToolMessage))
            reply = _reply(interaction)
            assert reply.response_metadata["model_provider"] == "openai"
            assert reply.usage_metadata is not None
            # the decoded request encodes back to the same items (JSON spacing aside)
            again = codec.encode_request(messages, params)
            assert len(again["input"]) == len(body["input"])
        else:
            assert isinstance(_error(interaction), ProviderError)


def test_basic_non_streaming() -> None:
    (call,) = _calls(DIR / "test_responses_basic_non_streaming.yaml")
    messages, params = codec.decode_request(call.request.json())
    assert messages == [HumanMessage("Reply with exactly: pong")]
    assert params == {
        "model": "gpt-5.5",
        "reasoning_effort": "low",
        "store": False,
        "stream": False,
    }
    reply = _reply(call)
    assert reply.text == "pong"
    assert reply.content == [
        {
            "type": "text",
            "text": "pong",
            "id": "msg_08ddf351751647d60169fab1b9828c81a0bef694acd7d53106",
            "extras": {"phase": "final_answer"},
        }
    ]
    assert reply.id == "resp_08ddf351751647d60169fab1b8a7ac81a081b9e2400e87fb63"
    assert reply.response_metadata["model_name"] == "gpt-5.5-2026-04-23"
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.usage_metadata == {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16}
    # store=False brings back the encrypted-reasoning include on the way out
    assert codec.encode_request(messages, params) == call.request.json()


def test_basic_streaming() -> None:
    (call,) = _calls(DIR / "test_responses_basic_streaming.yaml")
    events = call.response.stream_payloads()
    assert events[-1]["type"] == "response.completed"
    chunks = list(codec.decode_stream(events))
    assert [c.text for c in chunks if c.text] == ["pong"]
    reply = merge_chunks(chunks).to_message()
    assert reply.text == "pong"
    assert reply.id == "resp_00592e63e61b66660169fab1b9f8e481a2b321356198d7ac1b"
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.usage_metadata == {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16}
    # the completed response decodes to the same message as the stream
    final = codec.decode_response(events[-1]["response"])
    assert final.content == reply.content


def test_tool_use_streaming() -> None:
    first, second = _calls(DIR / "test_responses_tool_use_streaming.yaml")
    messages, params = codec.decode_request(first.request.json())
    assert params["tools"] == [
        {
            "name": "multiply",
            "description": "Multiply two numbers.",
            "parameters": {
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"],
                "type": "object",
            },
        }
    ]
    chunks = list(codec.decode_stream(first.response.stream_payloads()))
    argument_pieces = [c.tool_call_chunks[0]["args"] for c in chunks if c.tool_call_chunks]
    assert argument_pieces[0] == "" and "".join(argument_pieces) == '{"a":1231,"b":2331}'
    reply = merge_chunks(chunks).to_message()
    assert reply.tool_calls == [
        {
            "name": "multiply",
            "args": {"a": 1231, "b": 2331},
            "id": "call_sVidsfFJ6zlzRpelrPkTPlpd",
            "type": "tool_call",
        }
    ]
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    assert reply.additional_kwargs["openai_function_call_ids"] == {
        "call_sVidsfFJ6zlzRpelrPkTPlpd": "fc_00d64fa806f333310169fab1bf324481a0852cda3180856290"
    }
    assert reply.usage_metadata == {"input_tokens": 58, "output_tokens": 23, "total_tokens": 81}

    messages, _ = codec.decode_request(second.request.json())
    assert [type(m) for m in messages] == [HumanMessage, AIMessage, ToolMessage]
    assert messages[1].tool_calls[0]["args"] == {"a": 1231, "b": 2331}
    assert messages[2] == ToolMessage("2869461", tool_call_id="call_sVidsfFJ6zlzRpelrPkTPlpd")
    final = _reply(second)
    assert final.text == "1231 \u00d7 2331 = **2,869,461**"
    assert final.usage_metadata["input_tokens"] == 94


def test_round_trips_encrypted_reasoning() -> None:
    calls = _calls(DIR / "test_responses_round_trips_encrypted_reasoning.yaml")
    assert len(calls) == 3
    first = _reply(calls[0])
    (reasoning,) = _blocks(first, "reasoning")
    assert reasoning["id"] == "rs_0f4809b27460351d0169fab21897dc8196960e8680fb72a88d"
    assert reasoning["extras"]["encrypted_content"].startswith("gAAAAABp-rIa")
    assert "reasoning" not in reasoning  # no summary was asked for
    assert first.tool_calls[0]["name"] == "lookup_population"
    assert first.tool_calls[0]["args"] == {"country": "Pundora"}
    assert first.usage_metadata == {
        "input_tokens": 94,
        "output_tokens": 85,
        "total_tokens": 179,
        "output_token_details": {"reasoning": 63},
    }

    # turn 2 sent the reasoning item back verbatim, as our encoder does from `first`
    sent = calls[1].request.json()["input"][1]
    tool_result = ToolMessage("123124", tool_call_id=first.tool_calls[0]["id"])
    body = codec.encode_request(
        [HumanMessage(calls[0].request.json()["input"][0]["content"]), first, tool_result],
        {"model": "gpt-5.5", "store": False},
    )
    ours = body["input"][1]
    assert ours == {**sent}
    # the function call goes back with its fc_ id, pairing it with that reasoning item
    assert body["input"][2]["id"].startswith("fc_") and body["input"][2]["call_id"] == (
        "call_uy7tfNVokIN7NjFF6k7OtLyl"
    )

    messages, _ = codec.decode_request(calls[2].request.json())
    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
        "ToolMessage",
    ]
    assert messages[1].content[0]["extras"]["encrypted_content"] == sent["encrypted_content"]
    final = _reply(calls[2])
    assert final.text.startswith("Pundora has a population of 123,124")


def test_parallel_tool_calls() -> None:
    first, second = _calls(
        DIR / "chat_function_calling_openai_gpt-5-nano_can_use_parallel_tool_calls.yml"
    )
    _, params = codec.decode_request(first.request.json())
    assert [t["name"] for t in params["tools"]] == ["weather", "best_language_to_learn"]
    assert params["tools"][0]["strict"] is False
    reply = _reply(first)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("weather", {"latitude": "52.5200", "longitude": "13.4050"}),
        ("best_language_to_learn", {}),
    ]
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    assert reply.usage_metadata["output_token_details"] == {"reasoning": 192}

    messages, _ = codec.decode_request(second.request.json())
    ai = messages[1]
    assert len(ai.tool_calls) == 2 and ai.content[0]["type"] == "reasoning"
    assert "id" not in ai.content[0]  # ruby_llm sent the reasoning back without its id
    assert [m.tool_call_id for m in messages[2:]] == [c["id"] for c in reply.tool_calls]
    final = _reply(second)
    assert final.text.startswith("- Weather in Berlin (52.5200, 13.4050): 15°C")
    assert final.usage_metadata["input_tokens"] == 426


def test_structured_output() -> None:
    (call,) = _calls(
        DIR
        / "chat_with_schema_with_openai_gpt-5-nano_accepts_a_json_schema_and_returns_structured_output.yml"
    )
    _, params = codec.decode_request(call.request.json())
    assert params["response_format"] == {
        "type": "json_schema",
        "name": "response",
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name", "age"],
            "additionalProperties": False,
        },
        "strict": True,
    }
    body = codec.encode_request([HumanMessage("x")], params)
    assert body["text"] == call.request.json()["text"]
    reply = _reply(call)
    assert reply.text == '{"name":"John","age":30}'
    assert reply.usage_metadata["output_token_details"] == {"reasoning": 704}


def test_image_input() -> None:
    (call,) = _calls(DIR / "chat_vision_models_openai_gpt-5-nano_can_understand_local_images.yml")
    (message,), _ = codec.decode_request(call.request.json())
    text, image = message.content
    assert text == {"type": "text", "text": "What do you see in this image?"}
    assert image["type"] == "image" and image["mime_type"] == "image/png"
    assert image["base64"].startswith("iVBORw0KGgo")
    reply = _reply(call)
    assert reply.text.startswith("A glossy, red gemstone")
    assert reply.usage_metadata["input_tokens"] == 38


def test_logprobs_streaming() -> None:
    (call,) = _calls(DIR / "test_openai_instructions_with_responses_logprobs_streaming.yaml")
    messages, params = codec.decode_request(call.request.json())
    assert messages[0] == SystemMessage("You are a helpful assistant.")
    assert params["logprobs"] is True
    reply = _reply(call)
    assert reply.text == "The capital of Minas Gerais is Belo Horizonte."
    logprobs = reply.response_metadata["logprobs"]
    assert [lp["token"] for lp in logprobs] == [
        "The",
        " capital",
        " of",
        " Minas",
        " Gerais",
        " is",
        " Belo",
        " Horizonte",
        ".",
    ]
    assert logprobs[5]["logprob"] == pytest.approx(-0.00007493430894101039)


def test_http_error_with_stream_true() -> None:
    (call,) = _calls(DIR / "test_openai_responses_model_http_error.yaml")
    expected = (
        "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 "
        "instead."
    )
    error = _error(call)
    assert type(error) is BadRequestError
    assert error.message == expected and error.status_code == 400
    # the emulator side rejects the same request with the same body
    with pytest.raises(BadRequestError) as caught:
        codec.decode_request(call.request.json())
    assert caught.value.message == expected
    assert caught.value.body == {
        "error": {
            "message": expected,
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "decimal_below_min_value",
        }
    }
    status, _, body = codec.render_error(caught.value)
    assert status == 400 and body == call.response.json()


def test_prompt_cache() -> None:
    write, read = _calls(DIR / "test_openai_responses_prompt_cache_e2e.yaml")
    (message,), params = codec.decode_request(write.request.json())
    assert params["prompt_cache_options"] == {"mode": "explicit", "ttl": "30m"}
    assert message.content[0]["extras"] == {"prompt_cache_breakpoint": {"mode": "explicit"}}
    assert codec.encode_request([message], params) == write.request.json()
    assert _reply(write).usage_metadata == {
        "input_tokens": 4020,
        "output_tokens": 5,
        "total_tokens": 4025,
        "input_token_details": {"cache_creation": 4012},
    }
    assert _reply(read).usage_metadata == {
        "input_tokens": 4020,
        "output_tokens": 5,
        "total_tokens": 4025,
        "input_token_details": {"cache_read": 4012},
    }


def test_reasoning_generate_summary() -> None:
    (call,) = _calls(DIR / "test_openai_responses_reasoning_generate_summary.yaml")
    messages, params = codec.decode_request(call.request.json())
    assert messages[0] == SystemMessage("")
    assert params["reasoning"] == {"generate_summary": "concise"}
    assert params["truncation"] == "auto"
    reply = _reply(call)
    assert reply.text.startswith("To cross the street safely, follow these steps:")
    assert reply.response_metadata["model_name"] == "computer-use-preview-2025-03-11"
    assert reply.usage_metadata == {"input_tokens": 15, "output_tokens": 180, "total_tokens": 195}


def test_auth_error() -> None:
    (call,) = _calls(
        DIR / "chat_error_handling_with_openai_gpt-5-nano_raises_appropriate_auth_error.yml"
    )
    error = _error(call)
    assert type(error) is AuthenticationError and error.status_code == 401
    assert error.message.startswith("Incorrect API key provided: invalid-key.")
    assert error.headers["www-authenticate"] == 'Bearer realm="OpenAI API"'
    assert not error.retryable
    status, headers, body = codec.render_error(error)
    assert (status, body) == (401, call.response.json())
    assert headers["www-authenticate"] == 'Bearer realm="OpenAI API"'


def test_context_length_error() -> None:
    (call,) = _calls(
        DIR
        / "chat_real_error_scenarios_openai_gpt-5-nano_handles_context_length_exceeded_errors.yml"
    )
    messages, _ = codec.decode_request(call.request.json())
    assert [m.type for m in messages] == ["human", "ai"] * 5 + ["human"]
    assert messages[1].text == "<MASSIVE_TEXT>"
    error = _error(call)
    assert type(error) is ContextLengthError
    assert error.message == (
        "Your input exceeds the context window of this model. Please adjust your input and try "
        "again."
    )
    assert error.body["error"]["param"] == "input"


def test_thinking_part_from_the_chat_corpus() -> None:
    call = _calls(THINKING)[0]
    _, params = codec.decode_request(call.request.json())
    assert params["reasoning_effort"] == "high"
    assert params["reasoning"] == {"summary": "detailed"}
    reply = _reply(call)
    first, second = _blocks(reply, "reasoning")
    assert first["reasoning"].startswith("**Emphasizing pedestrian safety**")
    assert second["reasoning"].startswith("**Clarifying street crossing guidance**")
    assert first["id"] == second["id"] == "rs_68c1fa166e9c81979ff56b16882744f1093f57e27128848a"
    assert first["extras"]["encrypted_content"].startswith("gAAAAABowfof")
    assert reply.text.startswith("I'm happy to help.")
    assert reply.usage_metadata["output_token_details"] == {"reasoning": 1600}
    # both summary parts go back as one reasoning item
    body = codec.encode_request([HumanMessage("q"), reply, HumanMessage("next")], {"model": "o3"})
    item = body["input"][1]
    assert item["type"] == "reasoning" and len(item["summary"]) == 2
    assert item["id"] == first["id"]
