"""Every native Ollama recording in cassettes/real/ollama decodes through the Ollama codec.

The .yaml/.yml files in that folder are Ollama's OpenAI-compatible /v1 endpoint; the
openai-chat codec's tests cover them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from myna.cassettes._foreign import load_interactions
from myna.codecs import ollama
from myna.exceptions import BadRequestError
from myna.messages import HumanMessage, merge_chunks

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real" / "ollama"
NATIVE = sorted(p.name for p in REAL.glob("*.httprr"))


def only(name):
    interactions = load_interactions(REAL / name)
    assert len(interactions) == 1
    return interactions[0]


def streamed(interaction):
    assert interaction.response.is_stream
    chunks = list(ollama.decode_stream(interaction.response.stream_payloads()))
    assert chunks[-1].chunk_position == "last"
    return chunks, merge_chunks(chunks).to_message()


def test_every_native_recording_is_covered():
    assert NATIVE == [
        "TestClient_GenerateChatStream.httprr",
        "TestCloudStreaming.httprr",
        "TestCloudToolCall.httprr",
        "TestToolCall.httprr",
        "TestWithJSONSchema.httprr",
    ]


@pytest.mark.parametrize("name", NATIVE)
def test_request_decodes_and_re_encodes_to_the_recorded_body(name):
    recorded = only(name).request.json()
    messages, params = ollama.decode_request(recorded)
    assert messages and isinstance(messages[0], HumanMessage)
    body = ollama.encode_request(messages, params)
    # The Go client always sends "format": "" and "options": {}, which mean "none".
    expected = {k: v for k, v in recorded.items() if v not in ("", {})}
    expected.setdefault("stream", True)
    assert body == expected


def test_generate_chat_stream():
    interaction = only("TestClient_GenerateChatStream.httprr")
    messages, params = ollama.decode_request(interaction.request.json())
    assert messages == [HumanMessage("Count from 1 to 5")]
    assert params == {"model": "gemma3:1b", "stream": True, "max_tokens": 50, "temperature": 0}
    chunks, msg = streamed(interaction)
    assert chunks[0].content == "Okay"
    assert msg.content == "Okay, here we go!\n\n1, 2, 3, 4, 5\n"
    assert msg.usage_metadata == {"input_tokens": 16, "output_tokens": 22, "total_tokens": 38}
    assert msg.response_metadata["finish_reason"] == "stop"
    assert msg.response_metadata["model_name"] == "gemma3:1b"
    assert msg.response_metadata["total_duration"] == 171946792
    assert msg.response_metadata["load_duration"] == 38473250


def test_cloud_streaming_thinking_then_content():
    interaction = only("TestCloudStreaming.httprr")
    assert interaction.response.headers["content-type"] == "application/json"
    chunks, msg = streamed(interaction)
    assert chunks[0].content == [{"type": "reasoning", "reasoning": "User", "index": 0}]
    reasoning, text = msg.content
    assert reasoning["type"] == "reasoning"
    assert reasoning["reasoning"].startswith('User asks: "Count from 1 to 5". Simple.')
    assert text == {"type": "text", "text": "1  \n2  \n3  \n4  \n5"}
    assert msg.usage_metadata == {"input_tokens": 74, "output_tokens": 57, "total_tokens": 131}
    assert msg.response_metadata["model_name"] == "gpt-oss:120b"
    assert msg.response_metadata["finish_reason"] == "stop"
    assert msg.response_metadata["total_duration"] == 922983240


def test_cloud_tool_call():
    interaction = only("TestCloudToolCall.httprr")
    _, params = ollama.decode_request(interaction.request.json())
    assert params["stream"] is False
    assert params["tools"][0]["name"] == "getWeather"
    assert params["tools"][0]["parameters"]["required"] == ["location"]
    msg = ollama.decode_response(interaction.response.json())
    assert msg.tool_calls == [
        {
            "name": "getWeather",
            "args": {"location": "San Francisco, CA"},
            "id": "call_mo1wm122",
            "type": "tool_call",
        }
    ]
    assert msg.content == [
        {
            "type": "reasoning",
            "reasoning": "User asks about weather in San Francisco. Use function getWeather.",
        }
    ]
    assert msg.text == ""
    assert msg.response_metadata["finish_reason"] == "tool_calls"
    assert msg.response_metadata["done_reason"] == "stop"
    assert msg.usage_metadata == {"input_tokens": 145, "output_tokens": 44, "total_tokens": 189}


def test_tool_call_rejected_by_a_model_without_tools():
    interaction = only("TestToolCall.httprr")
    _, params = ollama.decode_request(interaction.request.json())
    assert params["tools"] == [
        {
            "name": "getTime",
            "description": "Get the current time.",
            "parameters": {"type": "object", "required": [], "properties": {}},
        }
    ]
    response = interaction.response
    error = ollama.decode_error(response.status, response.body, response.headers)
    assert type(error) is BadRequestError
    assert error.message == "registry.ollama.ai/library/gemma3:1b does not support tools"
    assert error.status_code == 400 and error.provider == "ollama"
    status, _, body = ollama.render_error(error)
    assert (status, body) == (400, response.json())


def test_json_schema_stream_with_stream_omitted():
    interaction = only("TestWithJSONSchema.httprr")
    recorded = interaction.request.json()
    assert "stream" not in recorded
    _, params = ollama.decode_request(recorded)
    assert params["stream"] is True  # Ollama's default, and the reply did stream
    assert params["response_format"] == {
        "type": "json_schema",
        "schema": {"type": "object", "properties": {"feet": {"type": "number", "properties": {}}}},
    }
    _, msg = streamed(interaction)
    assert msg.content == '{"feet": 6076}'
    assert msg.usage_metadata == {"input_tokens": 25, "output_tokens": 10, "total_tokens": 35}
    assert msg.response_metadata["eval_duration"] == 148641334


@pytest.mark.parametrize("name", [n for n in NATIVE if n != "TestToolCall.httprr"])
def test_recorded_reply_renders_back_to_an_equivalent_reply(name):
    interaction = only(name)
    response = interaction.response
    if response.is_stream:
        _, msg = streamed(interaction)
        lines = list(ollama.render_stream(msg, {"model": msg.response_metadata["model_name"]}))
        again = merge_chunks(list(ollama.decode_stream(lines))).to_message()
    else:
        msg = ollama.decode_response(response.json())
        again = ollama.decode_response(ollama.render_response(msg))
    assert again.content == msg.content
    assert again.tool_calls == msg.tool_calls
    assert again.usage_metadata == msg.usage_metadata
    assert again.response_metadata == msg.response_metadata
