"""Helpers for the official-SDK tests: one body drives the sync and the async client."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

ENV_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
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
    """The SDKs read keys, base URLs and proxies from the environment; start from none."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """The SDK's sync client, then its async one."""
    return request.param


async def _call(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    return result


async def _collect(stream: Any) -> list[Any]:
    stream = await _call(stream)
    if hasattr(stream, "__aiter__"):
        return [item async for item in stream]
    return list(stream)


@pytest.fixture
def call() -> Any:
    """``await call(client.x.create(...))``: the value of a sync or an async SDK call."""
    return _call


@pytest.fixture
def collect() -> Any:
    """``await collect(stream)``: every item of a sync or async SDK stream."""
    return _collect
