"""Shared fixtures for the provider tests: one row per provider, sync and async drivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from myna import init_chat_model
from myna.emulators import emulate
from myna.messages import merge_chunks

AZURE = "https://myres.openai.azure.com"

ENV_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "MISTRAL_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "PERPLEXITY_API_KEY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real keys, endpoints or proxies."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@dataclass
class Case:
    """One provider configuration and the emulator that answers it."""

    id: str
    emulated: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    key_env: str | None = None

    def emulate(self, script: list[Any], **options: Any) -> Any:
        if self.base_url is not None:
            options.setdefault("base_url", self.base_url)
        return emulate(self.emulated, script, **options)

    def build(self, **params: Any) -> Any:
        merged = {"api_key": "test-key", **self.params, **params}
        return init_chat_model(self.model, **merged)


CASES = [
    Case("openai", "openai", "openai:gpt-4.1-mini", key_env="OPENAI_API_KEY"),
    Case(
        "openai-responses",
        "openai",
        "openai:gpt-4.1-mini",
        {"use_responses_api": True},
        key_env="OPENAI_API_KEY",
    ),
    Case(
        "azure_openai",
        "azure_openai",
        "azure_openai:gpt-4o",
        {"azure_endpoint": AZURE, "api_version": "2024-10-21"},
        base_url=AZURE,
        key_env="AZURE_OPENAI_API_KEY",
    ),
    Case(
        "anthropic",
        "anthropic",
        "anthropic:claude-haiku-4-5",
        {"max_tokens": 256},
        key_env="ANTHROPIC_API_KEY",
    ),
    Case("google_genai", "google_genai", "google_genai:gemini-2.5-flash", key_env="GOOGLE_API_KEY"),
    Case("ollama", "ollama", "ollama:llama3.1"),
    Case("groq", "groq", "groq:llama-3.3-70b-versatile", key_env="GROQ_API_KEY"),
]


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    """Every provider, each against its emulator."""
    return request.param


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


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry back-offs are recorded here instead of slept."""
    recorded: list[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("myna.models._base._sleep", recorded.append)
    monkeypatch.setattr("myna.models._base._async_sleep", async_sleep)
    return recorded
