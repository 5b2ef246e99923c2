"""pydantic-ai agents (pydantic-ai-slim's OpenAI, Anthropic and Google models) against myna's
emulators: plain, stream, a tool call the agent runs and answers, and error; sync
(`run_sync`, `run_stream_sync`, in a worker thread as they start their own event loop) and
async, under `emulate()` and `serve()`, inside `block_network()`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from anthropic import AsyncAnthropic
from google.genai.types import HttpRetryOptions
from openai import AsyncOpenAI
from pydantic_ai import Agent
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.google import GoogleModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.google import GoogleProvider
from pydantic_ai.providers.openai import OpenAIProvider

from myna.exceptions import UnmatchedRequestError
from myna.fakes import fault, tool_call


def openai_model(url: str | None, retries: int = 0) -> Any:
    client = AsyncOpenAI(api_key="sk-test", base_url=url and url + "/v1", max_retries=retries)
    return OpenAIChatModel("gpt-4.1-mini", provider=OpenAIProvider(openai_client=client))


def anthropic_model(url: str | None, retries: int = 0) -> Any:
    client = AsyncAnthropic(api_key="sk-ant-test", base_url=url, max_retries=retries)
    return AnthropicModel("claude-haiku-4-5", provider=AnthropicProvider(anthropic_client=client))


def google_model(url: str | None, retries: int = 0) -> Any:
    provider = GoogleProvider(
        api_key="g-test", base_url=url, retry_options=HttpRetryOptions(attempts=1 + retries)
    )
    return GoogleModel("gemini-2.5-flash", provider=provider)


MODELS = {
    "openai": ("openai", openai_model),
    "anthropic": ("anthropic", anthropic_model),
    "google": ("google_genai", google_model),
}


@pytest.fixture(params=sorted(MODELS))
def client(request: pytest.FixtureRequest) -> Any:
    """(the emulated provider, a function building the pydantic-ai model for a base URL)."""
    return MODELS[request.param]


async def run(agent: Any, mode: str, prompt: str) -> Any:
    if mode == "sync":
        return await asyncio.to_thread(agent.run_sync, prompt)
    return await agent.run(prompt)


async def stream(agent: Any, mode: str, prompt: str) -> list[str]:
    if mode == "sync":

        def texts() -> list[str]:
            return list(agent.run_stream_sync(prompt).stream_text(delta=True))

        return await asyncio.to_thread(texts)
    async with agent.run_stream(prompt) as result:
        return [text async for text in result.stream_text(delta=True)]


async def test_plain(client, mode, endpoint):
    provider, build = client
    with endpoint(provider, ["Hello from the emulator."]) as at:
        result = await run(Agent(build(at.url)), mode, "Hi")
    assert result.output == "Hello from the emulator."
    (request,) = at.requests
    assert request.last_message.text == "Hi"  # (its Anthropic model streams every request)


async def test_stream(client, mode, endpoint):
    provider, build = client
    with endpoint(provider, ["one two three"]) as at:
        parts = await stream(Agent(build(at.url)), mode, "Count")
    assert "".join(parts) == "one two three"
    (request,) = at.requests
    assert request.stream is True and request.last_message.text == "Count"


async def test_tool_call(client, mode, endpoint):
    provider, build = client
    script = [tool_call("get_weather", city="Oslo"), "Sunny in Oslo."]
    with endpoint(provider, script) as at:
        agent = Agent(build(at.url))
        cities: list[str] = []

        @agent.tool_plain
        def get_weather(city: str) -> str:
            """Current weather in a city."""
            cities.append(city)
            return "sunny"

        result = await run(agent, mode, "Weather in Oslo?")
    assert result.output == "Sunny in Oslo."
    assert cities == ["Oslo"]
    first, second = at.requests
    assert [tool["name"] for tool in first.params["tools"]] == ["get_weather"]
    assert "sunny" in second.last_message.text  # the tool's result went back to the model


async def test_streamed_tool_call(client, mode, endpoint):
    provider, build = client
    script = [tool_call("get_weather", city="Oslo"), "Sunny in Oslo."]
    with endpoint(provider, script) as at:
        agent = Agent(build(at.url))
        cities: list[str] = []

        @agent.tool_plain
        def get_weather(city: str) -> str:
            """Current weather in a city."""
            cities.append(city)
            return "sunny"

        parts = await stream(agent, mode, "Weather in Oslo?")
    assert "".join(parts) == "Sunny in Oslo."
    assert cities == ["Oslo"]
    assert [request.stream for request in at.requests] == [True, True]


@pytest.mark.parametrize(("kind", "status"), [("rate_limit", 429), ("server_error", 500)])
async def test_error(client, mode, endpoint, client_error, kind, status):
    provider, build = client
    with endpoint(provider, [getattr(fault, kind)()]) as at:
        with client_error():
            await run(Agent(build(at.url)), mode, "Hi")
    assert [request.status for request in at.requests] == [status]


async def test_script_error_is_one_request_and_fails_the_emulator(
    client, mode, endpoint, client_error
):
    """A script error (here: the script ran out) is answered in a way the model's SDK does
    not retry, even allowed to, and fails the emulator on exit with the real reason."""
    provider, build = client
    with pytest.raises(UnmatchedRequestError, match="script exhausted"):
        with endpoint(provider, []) as at:
            with client_error():
                await run(Agent(build(at.url, retries=2)), mode, "Hi")
    assert [request.status for request in at.requests] == [400]
