"""Every recorded Anthropic Messages call in cassettes/real/anthropic decodes through the codec.

Each file gets its own test with facts read off the recording; the parametrized tests below
them check every interaction of every file: requests decode (and re-encode to the recorded
body), responses decode, and decoded replies survive render -> decode.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from myna.cassettes._foreign import Interaction, load_interactions
from myna.codecs import anthropic_messages as codec
from myna.exceptions import AuthenticationError, ContextLengthError, NotFoundError
from myna.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    merge_chunks,
)

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real" / "anthropic"
FILES = sorted(p.name for p in REAL.iterdir() if p.suffix in (".yaml", ".yml"))


def load(name: str) -> list[Interaction]:
    return load_interactions(REAL / name)


def reply(interaction: Interaction) -> AIMessage:
    """The decoded reply of a successful interaction, streamed or not."""
    response = interaction.response
    assert response.status == 200
    if response.is_stream:
        chunks = list(codec.decode_stream(response.stream_payloads()))
        assert all(isinstance(c, AIMessageChunk) for c in chunks)
        return merge_chunks(chunks).to_message()
    return codec.decode_response(response.json())


def test_the_corpus_is_all_here():
    assert len(FILES) == 12


def test_auth_error():
    (it,) = load(
        "chat_error_handling_with_anthropic_claude-haiku-4-5_raises_appropriate_auth_error.yml"
    )
    messages, params = codec.decode_request(it.request.json())
    assert messages == [HumanMessage([{"type": "text", "text": "Hello"}])]
    assert params == {"model": "claude-haiku-4-5-20251001", "max_tokens": 64000, "stream": False}
    err = codec.decode_error(it.response.status, it.response.body, it.response.headers)
    assert isinstance(err, AuthenticationError)
    assert err.status_code == 401
    assert err.message == "invalid x-api-key"
    assert err.headers["x-should-retry"] == "false"
    assert err.body["request_id"] == "req_011CeCGmBjaWkq37Sf5iU7so"
    assert err.retryable is False


def test_multi_turn_streaming_tool_calls():
    turns = load(
        "chat_function_calling_anthropic_claude-haiku-4-5_can_use_tools_with_multi-turn_streaming_conversations.yml"
    )
    assert len(turns) == 4
    first = reply(turns[0])
    assert first.content == ""
    assert first.tool_calls == [
        {
            "name": "weather",
            "args": {"latitude": "52.5200", "longitude": "13.4050"},
            "id": "toolu_01MKSN7NHsBVKr7Jvw5pqCQq",
            "type": "tool_call",
        }
    ]
    assert first.response_metadata["finish_reason"] == "tool_calls"
    assert first.usage_metadata["input_tokens"] == 633
    assert first.usage_metadata["output_tokens"] == 75
    # the tool call streamed as partial JSON: the first piece names it, later ones carry args
    pieces = [
        p
        for c in codec.decode_stream(turns[0].response.stream_payloads())
        for p in c.tool_call_chunks
    ]
    assert (pieces[0]["name"], pieces[0]["id"], pieces[0]["args"]) == (
        "weather",
        "toolu_01MKSN7NHsBVKr7Jvw5pqCQq",
        "",
    )
    assert "".join(p["args"] for p in pieces) == '{"latitude": "52.5200", "longitude": "13.4050"}'

    messages, params = codec.decode_request(turns[1].request.json())
    assert [type(m) for m in messages] == [HumanMessage, AIMessage, ToolMessage]
    assert messages[2].tool_call_id == "toolu_01MKSN7NHsBVKr7Jvw5pqCQq"
    assert messages[2].name == "weather"
    assert messages[2].content == [
        {"type": "text", "text": "Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h"}
    ]
    assert params["tools"][0]["name"] == "weather"
    assert params["tools"][0]["parameters"]["required"] == ["latitude", "longitude"]
    second = reply(turns[1])
    assert second.content.startswith("The weather in Berlin is currently:")
    assert second.usage_metadata["total_tokens"] == 748 + 49

    third = reply(turns[2])
    assert third.tool_calls[0]["args"] == {"latitude": "48.8575", "longitude": "2.3514"}
    fourth = reply(turns[3])
    assert fourth.content.startswith("The weather in Paris is currently:")
    assert "same as Berlin" in fourth.content
    assert len(codec.decode_request(turns[3].request.json())[0]) == 7


def test_context_length_error():
    (it,) = load(
        "chat_real_error_scenarios_anthropic_claude-haiku-4-5_handles_context_length_exceeded_errors.yml"
    )
    messages, _ = codec.decode_request(it.request.json())
    assert len(messages) == 11
    assert [type(m) for m in messages[:2]] == [HumanMessage, AIMessage]
    assert messages[1].content == "<MASSIVE_TEXT>"
    err = codec.decode_error(it.response.status, it.response.body, it.response.headers)
    assert isinstance(err, ContextLengthError)
    assert err.message == "prompt is too long: 3333404 tokens > 200000 maximum"
    assert str(err) == "prompt is too long: 3333404 tokens > 200000 maximum (anthropic 400)"


def test_vision_base64_image():
    (it,) = load("chat_vision_models_anthropic_claude-haiku-4-5_can_understand_local_images.yml")
    (message,), _ = codec.decode_request(it.request.json())
    text, image = message.content
    assert text == {"type": "text", "text": "What do you see in this image?"}
    assert image["type"] == "image"
    assert image["mime_type"] == "image/png"
    assert image["base64"].startswith("iVBORw0KGgo")
    msg = reply(it)
    assert msg.content.startswith("# Image Description")
    assert msg.id == "msg_011CeCGrtrVPtVUbTzGRwKJi"
    assert msg.usage_metadata == {
        "input_tokens": 43,
        "output_tokens": 132,
        "total_tokens": 175,
        "input_token_details": {"cache_read": 0, "cache_creation": 0},
    }
    assert msg.response_metadata["finish_reason"] == "stop"


def test_prompt_caching():
    first, second = load("test_anthropic_cache_real_api.yaml")
    messages, params = codec.decode_request(first.request.json())
    assert messages[0] == SystemMessage("You are a helpful assistant.")
    assert params["cache_control"] == {"ttl": "5m", "type": "ephemeral"}
    hit = reply(first)
    assert hit.content.startswith("# What is Python?")
    assert hit.usage_metadata["input_tokens"] == 3 + 1111
    assert hit.usage_metadata["input_token_details"] == {"cache_read": 1111, "cache_creation": 0}
    write = reply(second)
    assert write.content.startswith("Python is a beginner-friendly")
    assert write.usage_metadata["input_tokens"] == 3 + 1111 + 418
    assert write.usage_metadata["input_token_details"]["cache_creation"] == 418
    assert write.response_metadata["cache_creation"]["ephemeral_5m_input_tokens"] == 418
    assert [type(m) for m in codec.decode_request(second.request.json())[0]] == [
        SystemMessage,
        HumanMessage,
        AIMessage,
        HumanMessage,
    ]


def test_redacted_thinking_stream():
    (it,) = load("test_anthropic_model_thinking_part_redacted_stream.yaml")
    _, params = codec.decode_request(it.request.json())
    assert params["reasoning_budget"] == 1024
    msg = reply(it)
    first, second, text = msg.content
    assert first["type"] == second["type"] == "reasoning"
    assert first["extras"]["redacted"].startswith("EqkECkYIBxgCKk")
    assert second["extras"]["redacted"].startswith("EtgBCkYIBxgCKk")
    assert text["text"].startswith(
        "I notice that you've sent what appears to be some kind of test string"
    )
    assert text["text"].endswith("a legitimate task or question?")
    assert msg.usage_metadata["output_tokens"] == 189
    # redacted thinking goes back to the API verbatim on the next turn
    body = codec.encode_request([HumanMessage("x"), msg, HumanMessage("y")], {"model": "m"})
    assert body["messages"][1]["content"][0] == {
        "type": "redacted_thinking",
        "data": first["extras"]["redacted"],
    }


def test_thinking_stream_with_signature():
    (it,) = load("test_anthropic_model_thinking_part_stream.yaml")
    msg = reply(it)
    thinking, text = msg.content
    assert thinking["reasoning"].startswith(
        "This is a straightforward question about pedestrian safety."
    )
    assert thinking["extras"]["signature"].startswith("EvMCCkYICxgCKkCHP2cS")
    assert text["text"].startswith("Here are the basic steps for safely crossing the street:")
    assert msg.usage_metadata["total_tokens"] == 43 + 282
    body = codec.encode_request([HumanMessage("x"), msg, HumanMessage("y")], {"model": "m"})
    assert body["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": thinking["reasoning"],
        "signature": thinking["extras"]["signature"],
    }


def test_unknown_model_404():
    (it,) = load("test_model_name_suggestion[anthropic].yaml")
    assert codec.decode_request(it.request.json())[1]["model"] == "claude-sonet-4-5"
    err = codec.decode_error(it.response.status, it.response.json(), it.response.headers)
    assert isinstance(err, NotFoundError)
    assert err.message == "model: claude-sonet-4-5"
    assert err.body["request_id"] == "req_011CdufXo8Y2LVfY2veyuQWG"


def test_parallel_tool_calls_and_results():
    first, second = load("test_multiple_parallel_tool_calls.yaml")
    messages, params = codec.decode_request(first.request.json())
    assert messages[0].content.strip().startswith("Use the `retrieve_entity_info` tool")
    assert params["tool_choice"] == "auto"
    assert params["tools"] == [
        {
            "name": "retrieve_entity_info",
            "description": "Get the knowledge about the given entity.",
            "parameters": {
                "additionalProperties": False,
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
                "type": "object",
            },
        }
    ]
    msg = reply(first)
    assert msg.content.startswith("I'll help you find out who is the youngest")
    assert [c["args"]["name"] for c in msg.tool_calls] == ["Alice", "Bob", "Charlie", "Daisy"]
    assert {c["name"] for c in msg.tool_calls} == {"retrieve_entity_info"}
    assert msg.usage_metadata["input_tokens"] == 423
    messages, _ = codec.decode_request(second.request.json())
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert [r.content for r in results] == [
        "alice is bob's wife",
        "bob is alice's husband",
        "charlie is alice's son",
        "daisy is bob's daughter and charlie's younger sister",
    ]
    assert [r.tool_call_id for r in results] == [c["id"] for c in msg.tool_calls]
    assert all(r.status == "success" and r.name == "retrieve_entity_info" for r in results)
    assert "Daisy is the youngest" in reply(second).content


def test_plain_text_stream():
    (it,) = load("test_prompt.yaml")
    messages, params = codec.decode_request(it.request.json())
    assert messages[0].content == [
        {"type": "text", "text": "Two names for a pet pelican, be brief"}
    ]
    assert params == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "temperature": 1.0,
        "stream": True,
    }
    chunks = list(codec.decode_stream(it.response.stream_payloads()))
    assert [c.content for c in chunks if c.content] == ["-", " Captain", "\n- Sc", "oop"]
    msg = merge_chunks(chunks).to_message()
    assert msg.content == "- Captain\n- Scoop"
    assert msg.response_metadata["model_name"] == "claude-sonnet-4-5-20250929"
    assert msg.usage_metadata == {
        "input_tokens": 17,
        "output_tokens": 10,
        "total_tokens": 27,
        "input_token_details": {"cache_read": 0, "cache_creation": 0},
    }


def test_prefill_and_stop_sequence():
    (it,) = load("test_prompt_with_prefill_and_stop_sequences.yaml")
    messages, params = codec.decode_request(it.request.json())
    assert messages[-1] == AIMessage("```python")
    assert params["stop"] == ["```"]
    msg = reply(it)
    assert msg.content.startswith("\ndef pelican():")
    assert msg.response_metadata["finish_reason"] == "stop"
    assert msg.response_metadata["stop_reason"] == "stop_sequence"
    assert msg.response_metadata["stop_sequence"] == "```"
    assert msg.usage_metadata["output_tokens"] == 28


def test_structured_output():
    (it,) = load("test_schema_prompt.yaml")
    _, params = codec.decode_request(it.request.json())
    assert params["response_format"]["type"] == "json_schema"
    assert params["response_format"]["schema"]["title"] == "Dog"
    dog = json.loads(reply(it).content)
    assert (dog["name"], dog["age"]) == ("Biscuit", 4)
    assert dog["bio"].startswith("Biscuit is a golden retriever")


# ------------------------------------------------------------------ every interaction, generic

ALL = [(name, i) for name in FILES for i in range(len(load(name)))]


def _canonical(body: dict[str, Any]) -> dict[str, Any]:
    """A request body with the spellings the codec normalises made uniform."""
    out = dict(body)
    messages = []
    for message in body["messages"]:
        content = message["content"]
        if isinstance(content, list):
            content = [
                {k: v for k, v in b.items() if not (k == "is_error" and v is False)}
                for b in content
            ]
            if (
                len(content) == 1
                and set(content[0]) == {"type", "text"}
                and message["role"] == "assistant"
            ):
                content = content[0]["text"]
        messages.append({**message, "content": content})
    out["messages"] = messages
    return out


@pytest.mark.parametrize(("name", "index"), ALL, ids=[f"{n}#{i}" for n, i in ALL])
def test_every_request_decodes_and_re_encodes_to_the_recording(name, index):
    recorded = load(name)[index].request.json()
    messages, params = codec.decode_request(recorded)
    assert messages
    assert codec.encode_request(messages, params) == _canonical(recorded)


OK = [(n, i) for n, i in ALL if load(n)[i].response.status == 200]


@pytest.mark.parametrize(("name", "index"), OK, ids=[f"{n}#{i}" for n, i in OK])
def test_every_reply_survives_render_and_decode(name, index):
    msg = reply(load(name)[index])
    assert msg.text or msg.tool_calls
    assert msg.response_metadata["model_provider"] == "anthropic"
    again = codec.decode_response(codec.render_response(msg))
    streamed = merge_chunks(
        list(codec.decode_stream(codec.render_stream(msg, chunking=7)))
    ).to_message()
    for other in (again, streamed):
        assert other.content == msg.content
        assert other.tool_calls == msg.tool_calls
        assert other.usage_metadata == msg.usage_metadata
        assert other.id == msg.id
        assert other.response_metadata == msg.response_metadata
