"""Shared test settings: hypothesis without deadlines, a clean environment, sync/async drivers."""

from __future__ import annotations

import importlib
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


# What in-process pytester runs use, imported once in this process: such runs restore
# sys.modules afterwards, so anything first imported inside an inner run would be imported
# again on the next run, while process-wide caches keep the old copies: the provider registry
# keeps classes whose modules are gone (their messages then fail isinstance checks),
# httpcore2's respx mocker may be defined only once per process, and PyYAML's constructors
# are registered on the first copy. It is faster, too.
_PYTESTER_MODULES = (
    "hypothesis",
    "myna.cassettes",
    "myna.emulators",
    "myna.emulators._httpcore2",
    "myna.evals._compare",
    "myna.evals._files",
    "myna.evals._pytest",
    "myna.evals._runner",
    "myna.evals.evaluators",
    "myna.fakes",
    "myna.pytest_plugin._fixtures",
    "myna.pytest_plugin._recording",
    "myna.testing._assertions",
    "myna.testing._stream",
    "yaml",
)


@pytest.fixture(scope="session")
def pytester_preloaded() -> None:
    """Import, once per process, every module and provider that inner pytester runs use."""
    for name in _PYTESTER_MODULES:
        importlib.import_module(name)
    from myna.codecs import CODECS, get_codec
    from myna.models._registry import _factory, known_providers

    for protocol in CODECS:
        get_codec(protocol)
    for provider in known_providers():
        _factory(provider)


@pytest.fixture
def inner_pytest_defaults(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, pytester_preloaded: None
) -> None:
    """Inner pytest runs independent of the CI that runs this suite, with an ini of their own
    (tests that write their own repeat the asyncio lines); pytest-benchmark would warn in every
    inner run under xdist."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MYNA_RECORD_MODE", raising=False)
    if "pytester" in request.fixturenames:
        pytester = request.getfixturevalue("pytester")
        pytester.makeini(
            "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
            "addopts = -p no:benchmark -p no:randomly\n"
        )


@pytest.fixture
def below_socket_guard(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Lay a test's own socket spy *under* myna's socket guard.

    ``below_socket_guard("connect", lambda original: spy)`` replaces ``socket.getaddrinfo``,
    ``socket.socket.connect`` or ``connect_ex`` with ``spy`` where the guard calls it: when
    the guard is already installed (the plugin blocks the network for the whole run under
    CI), the spy goes into the guard's saved originals, so the guard still speaks first;
    otherwise on `socket` itself, where the guard finds it when it installs.
    """
    import socket

    from myna import _socket_guard

    def patch(name: str, factory: Any) -> None:
        if _socket_guard._installed:
            monkeypatch.setitem(_socket_guard._saved, name, factory(_socket_guard._saved[name]))
        elif name == "getaddrinfo":
            monkeypatch.setattr(socket, name, factory(socket.getaddrinfo))
        else:
            monkeypatch.setattr(socket.socket, name, factory(getattr(socket.socket, name)))

    return patch


@pytest.fixture
def network_unblocked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift the network blocks active when the test starts (the plugin's, on under CI), for
    tests of what a recording cassette lets through; blocks the test adds still hold."""
    from myna import _socket_guard

    for policy in _socket_guard._policies:
        monkeypatch.setattr(policy, "refuse", lambda attempt: None)


class Offline(OSError):
    """Raised by the `offline` fixture when anything tries to open a connection."""


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Refuse every socket connection (loopback too); returns the addresses attempted."""
    import socket

    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        raise Offline(f"test is offline: connection to {address!r} refused")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts
