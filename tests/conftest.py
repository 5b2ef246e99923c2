"""Shared test settings: hypothesis without deadlines, a clean environment, sync/async drivers."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from myna.messages import merge_chunks

settings.register_profile(
    "myna",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("ci", parent=settings.get_profile("myna"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "myna")

ENV_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "MISTRAL_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "PERPLEXITY_API_KEY",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "ANTHROPIC_AUTH_TOKEN",
    "GOOGLE_GENAI_USE_VERTEXAI",
)
"""Variables through which a developer's real keys, endpoints or proxies could leak into tests."""


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real keys, endpoints or proxies."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


class Driver:
    """Calls a model through the sync or the async API, so one test body covers both."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __repr__(self) -> str:
        return self.mode

    async def invoke(self, model: Any, input: Any, /, **kwargs: Any) -> Any:
        if self.mode == "sync":
            return model.invoke(input, **kwargs)
        return await model.ainvoke(input, **kwargs)

    async def stream(self, model: Any, input: Any, /, **kwargs: Any) -> list[Any]:
        if self.mode == "sync":
            return list(model.stream(input, **kwargs))
        return [chunk async for chunk in model.astream(input, **kwargs)]

    async def merged(self, model: Any, input: Any, /, **kwargs: Any) -> Any:
        return merge_chunks(await self.stream(model, input, **kwargs)).to_message()


@pytest.fixture(params=["sync", "async"])
def drive(request: pytest.FixtureRequest) -> Driver:
    """The sync and the async API in turn."""
    return Driver(request.param)
