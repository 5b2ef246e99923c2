"""Gemini through the Generative Language API: key header, model in the path, SSE streams."""

from __future__ import annotations

import pytest

from myna.emulators import emulate
from myna.exceptions import AuthenticationError, MissingAPIKeyError
from myna.messages import HumanMessage, SystemMessage
from myna.providers import GoogleGenAIChatModel

ROOT = "https://generativelanguage.googleapis.com"


async def test_request_on_the_wire(drive):
    with emulate("google_genai", ["Hi!", "H i"]) as server:
        model = GoogleGenAIChatModel(model="gemini-2.5-flash", api_key="g-key")
        reply = await drive.invoke(model, [SystemMessage("Be brief."), HumanMessage("Hello")])
        chunks = await drive.stream(model, "Hello")

    assert reply.text == "Hi!"
    assert "".join(c.text for c in chunks) == "H i"
    plain, streamed = server.requests
    assert plain.url == f"{ROOT}/v1beta/models/gemini-2.5-flash:generateContent"
    assert streamed.url == f"{ROOT}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert (plain.stream, streamed.stream) == (False, True)
    for request in server.requests:
        assert request.headers["x-goog-api-key"] == "g-key"
        assert "authorization" not in request.headers
    assert plain.body["contents"] == [{"role": "user", "parts": [{"text": "Hello"}]}]
    assert plain.body["systemInstruction"]["parts"] == [{"text": "Be brief."}]


async def test_model_per_call_goes_into_the_path(drive):
    with emulate("google_genai", ["ok"]) as server:
        model = GoogleGenAIChatModel(model="gemini-2.5-flash", api_key="k")
        await drive.invoke(model, "Hi", model="gemini-2.5-pro")

    assert server.requests[0].url == f"{ROOT}/v1beta/models/gemini-2.5-pro:generateContent"
    assert server.requests[0].params["model"] == "gemini-2.5-pro"


async def test_key_from_google_api_key_then_gemini_api_key(drive, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    with emulate("google_genai", ["a", "b"]) as server:
        model = GoogleGenAIChatModel(model="gemini-2.5-flash")
        await drive.invoke(model, "Hi")
        monkeypatch.setenv("GOOGLE_API_KEY", "google-key")  # wins, as in the official SDK
        await drive.invoke(model, "Hi")

    assert [r.headers["x-goog-api-key"] for r in server.requests] == ["gemini-key", "google-key"]


def test_missing_key_names_both_env_vars():
    with pytest.raises(MissingAPIKeyError) as caught:
        GoogleGenAIChatModel(model="gemini-2.5-flash").invoke("Hi")
    assert str(caught.value).startswith(
        "No API key for 'google_genai'. Set GOOGLE_API_KEY (or GEMINI_API_KEY) or pass api_key=...;"
    )


async def test_a_keyless_request_to_a_custom_endpoint_gets_the_apis_403(drive):
    gateway = "https://gemini-gateway.example.test"
    with emulate("google_genai", [], base_url=gateway) as server:
        model = GoogleGenAIChatModel(model="gemini-2.5-flash", base_url=gateway, max_retries=0)
        with pytest.raises(AuthenticationError) as caught:
            await drive.invoke(model, "Hi")

    assert caught.value.status_code == 403
    assert caught.value.provider == "google_genai"
    assert "Method doesn't allow unregistered callers" in str(caught.value)
    assert server.requests[0].status == 403


async def test_thinking_budget_and_reasoning_effort(drive):
    with emulate("google_genai", ["ok"]) as server:
        model = GoogleGenAIChatModel(model="gemini-2.5-flash", api_key="k", reasoning_budget=512)
        await drive.invoke(model, "Hi")

    config = server.requests[0].body["generationConfig"]
    assert config["thinkingConfig"]["thinkingBudget"] == 512
    assert server.requests[0].params["reasoning_budget"] == 512


def test_profile():
    profile = GoogleGenAIChatModel(model="gemini-2.5-flash", api_key="k").profile
    assert profile["image_outputs"] is True
    assert profile["max_input_tokens"] == 1_048_576
