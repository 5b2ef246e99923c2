"""Anthropic Messages: headers, defaults, thinking round trips, and the API's own 400s."""

from __future__ import annotations

import httpx
import pytest

from myna import init_chat_model
from myna.emulators import emulate
from myna.exceptions import BadRequestError, MissingAPIKeyError
from myna.messages import AIMessage, HumanMessage, SystemMessage
from myna.providers import AnthropicChatModel


async def test_request_on_the_wire(drive):
    with emulate("anthropic", ["Hi!", "H i"]) as server:
        model = AnthropicChatModel(model="claude-haiku-4-5", api_key="sk-ant-test")
        reply = await drive.invoke(model, [SystemMessage("Be brief."), HumanMessage("Hello")])
        chunks = await drive.stream(model, "Hello")

    assert reply.text == "Hi!"
    assert reply.response_metadata["stop_reason"] == "end_turn"
    assert "".join(c.text for c in chunks) == "H i"
    plain, streamed = server.requests
    for request in server.requests:
        assert request.url == "https://api.anthropic.com/v1/messages"
        assert request.headers["x-api-key"] == "sk-ant-test"
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in request.headers
    assert plain.body["system"] == "Be brief."
    assert plain.body["max_tokens"] == 1024  # the API requires it; myna sends a default
    assert streamed.body["stream"] is True


async def test_max_tokens_and_thinking_budget(drive):
    with emulate("anthropic", ["ok"]) as server:
        model = AnthropicChatModel(
            model="claude-sonnet-4-5", api_key="k", max_tokens=4096, reasoning_budget=2048
        )
        await drive.invoke(model, "Think first.")

    body = server.requests[0].body
    assert body["max_tokens"] == 4096
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


async def test_signed_thinking_goes_back_on_the_next_turn(drive):
    thought = AIMessage(
        [
            {
                "type": "reasoning",
                "reasoning": "Check the units.",
                "extras": {"signature": "sig-1"},
            },
            {"type": "text", "text": "42 km."},
        ]
    )
    with emulate("anthropic", [thought, "Yes."]) as server:
        model = AnthropicChatModel(model="claude-sonnet-4-5", api_key="k", reasoning_budget=1024)
        first = await drive.invoke(model, "How far?")
        await drive.invoke(model, [HumanMessage("How far?"), first, HumanMessage("Sure?")])

    assert first.content[0] == {
        "type": "reasoning",
        "reasoning": "Check the units.",
        "extras": {"signature": "sig-1"},
    }
    echoed = server.requests[1].body["messages"][1]
    assert echoed == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Check the units.", "signature": "sig-1"},
            {"type": "text", "text": "42 km."},
        ],
    }


async def test_cache_usage_details(drive):
    usage = {
        "input_tokens": 100,
        "output_tokens": 5,
        "total_tokens": 105,
        "input_token_details": {"cache_read": 80, "cache_creation": 10},
    }
    reply = AIMessage("Cached.", usage_metadata=usage)
    with emulate("anthropic", [reply, reply]):
        model = AnthropicChatModel(model="claude-haiku-4-5", api_key="k")
        invoked = await drive.invoke(model, "Hi")
        streamed = await drive.merged(model, "Hi")

    # the API breaks a cache write down by TTL; the emulator reports the default 5-minute one
    api_usage = {
        **usage,
        "input_token_details": {**usage["input_token_details"], "ephemeral_5m_input_tokens": 10},
    }
    assert invoked.usage_metadata == api_usage
    assert streamed.usage_metadata == api_usage


async def test_a_request_the_api_rejects_gets_the_real_400_body(drive):
    body = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "Hi"}]}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    with emulate("anthropic", []) as server:
        if drive.mode == "sync":
            with httpx.Client() as client:
                response = client.post(
                    "https://api.anthropic.com/v1/messages", json=body, headers=headers
                )
        else:
            async with httpx.AsyncClient() as client:
                response = await client.post(
                    "https://api.anthropic.com/v1/messages", json=body, headers=headers
                )

    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "error"
    assert payload["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }
    assert payload["request_id"].startswith("req_")
    assert server.requests[0].status == 400


async def test_a_rejected_request_through_myna_raises_bad_request(drive):
    # an empty conversation: the API answers 400, myna raises BadRequestError with its text
    with emulate("anthropic", []):
        model = AnthropicChatModel(model="claude-haiku-4-5", api_key="k", max_retries=0)
        with pytest.raises(BadRequestError) as caught:
            await drive.invoke(model, [SystemMessage("Only a system prompt.")])

    assert caught.value.status_code == 400
    assert caught.value.provider == "anthropic"
    assert caught.value.body["error"]["type"] == "invalid_request_error"


async def test_base_url_from_the_environment(drive, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://llm-gateway.example.test/anthropic/v1")
    with emulate("anthropic", ["ok"], base_url="https://llm-gateway.example.test") as server:
        model = init_chat_model("anthropic:claude-haiku-4-5", api_key="k")
        await drive.invoke(model, "Hi")

    assert server.requests[0].url == "https://llm-gateway.example.test/anthropic/v1/messages"


def test_missing_key_names_the_env_var():
    with pytest.raises(MissingAPIKeyError) as caught:
        AnthropicChatModel(model="claude-haiku-4-5").invoke("Hi")
    assert str(caught.value).startswith(
        "No API key for 'anthropic'. Set ANTHROPIC_API_KEY or pass api_key=...;"
    )


def test_profile():
    profile = AnthropicChatModel(model="claude-haiku-4-5", api_key="k").profile
    assert profile["reasoning_output"] is True
    assert profile["max_input_tokens"] == 200_000
