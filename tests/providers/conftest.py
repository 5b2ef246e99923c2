"""Shared fixtures for the provider tests: one row per provider, retry waits recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from myna import init_chat_model
from myna.emulators import emulate

AZURE = "https://myres.openai.azure.com"


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


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry back-offs are recorded here instead of slept."""
    recorded: list[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("myna.models._base._sleep", recorded.append)
    monkeypatch.setattr("myna.models._base._async_sleep", async_sleep)
    return recorded
