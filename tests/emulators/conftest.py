"""Fixtures for the emulator tests: a clean environment and sync / async drivers."""

from __future__ import annotations

from typing import Any

import pytest

from myna.messages import merge_chunks

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
)


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
