"""litellm against myna's emulators on its OpenAI, Anthropic, Gemini and Ollama routes: plain,
stream, tool call and error, sync (`completion`, on httpx) and async (`acompletion`, on
aiohttp), under `emulate()` and `serve()`, inside `block_network()`."""

from __future__ import annotations

import json
from typing import Any

import litellm
import pytest

from myna.exceptions import UnmatchedRequestError
from myna.fakes import fault, tool_call

# route -> (the emulated provider, litellm's model name, api key, the base URL's suffix)
ROUTES: dict[str, tuple[str, str, str, str]] = {
    "openai": ("openai", "openai/gpt-4.1-mini", "sk-test", "/v1"),
    "anthropic": ("anthropic", "anthropic/claude-haiku-4-5", "sk-ant-test", ""),
    "gemini": ("google_genai", "gemini/gemini-2.5-flash", "g-test", ""),
    "ollama": ("ollama", "ollama_chat/llama3.2", "", ""),
}


@pytest.fixture(params=sorted(ROUTES))
def route(request: pytest.FixtureRequest) -> str:
    return request.param


def args(
    route: str, url: str | None, prompt: str = "Hi", retries: int = 0, **more: Any
) -> dict[str, Any]:
    _, model, key, suffix = ROUTES[route]
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_retries": retries,  # the provider SDK's own retries
        **more,
    }
    if not retries:
        # litellm's own retry loop (num_retries) retries every error, a 400 too: only off here
        kwargs["num_retries"] = 0
    if key:
        kwargs["api_key"] = key
    if url:
        kwargs["api_base"] = url + suffix
    return kwargs


async def complete(mode: str, **kwargs: Any) -> Any:
    if mode == "sync":
        return litellm.completion(**kwargs)
    return await litellm.acompletion(**kwargs)


async def stream_texts(mode: str, **kwargs: Any) -> list[str]:
    stream = await complete(mode, stream=True, **kwargs)
    if mode == "sync":
        return [chunk.choices[0].delta.content or "" for chunk in stream]
    return [chunk.choices[0].delta.content or "" async for chunk in stream]


async def test_plain(route, mode, endpoint):
    with endpoint(ROUTES[route][0], ["Hello from the emulator."]) as at:
        reply = await complete(mode, **args(route, at.url))
    assert reply.choices[0].message.content == "Hello from the emulator."
    (request,) = at.requests
    assert request.last_message.text == "Hi" and request.stream is False


async def test_stream(route, mode, endpoint):
    with endpoint(ROUTES[route][0], ["one two three"]) as at:
        parts = await stream_texts(mode, **args(route, at.url, "Count"))
    assert "".join(parts) == "one two three"
    (request,) = at.requests
    assert request.stream is True and request.last_message.text == "Count"


async def test_tool_call(route, mode, endpoint, weather_tool):
    with endpoint(ROUTES[route][0], [tool_call("get_weather", city="Oslo")]) as at:
        reply = await complete(mode, **args(route, at.url, "Weather?", tools=[weather_tool]))
    (call,) = reply.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo"}
    (request,) = at.requests
    assert [tool["name"] for tool in request.params["tools"]] == ["get_weather"]


async def test_streamed_tool_call(route, mode, endpoint, weather_tool):
    with endpoint(ROUTES[route][0], [tool_call("get_weather", city="Oslo")]) as at:
        kwargs = args(route, at.url, "Weather?", tools=[weather_tool])
        stream = await complete(mode, stream=True, **kwargs)
        if mode == "sync":
            chunks = list(stream)
        else:
            chunks = [chunk async for chunk in stream]
    (call,) = litellm.stream_chunk_builder(chunks).choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo"}
    assert at.requests[0].stream is True


@pytest.mark.parametrize(("kind", "status"), [("rate_limit", 429), ("server_error", 500)])
async def test_error(route, mode, endpoint, client_error, kind, status):
    with endpoint(ROUTES[route][0], [getattr(fault, kind)()]) as at:
        with client_error():
            await complete(mode, **args(route, at.url))
    assert [request.status for request in at.requests] == [status]


async def test_script_error_is_one_request_and_fails_the_emulator(
    route, mode, endpoint, client_error
):
    """A script error (here: the script ran out) is answered in a way litellm does not
    retry with its default retries (max_retries allowed), and fails the emulator on exit
    with the real reason."""
    with pytest.raises(UnmatchedRequestError, match="script exhausted"):
        with endpoint(ROUTES[route][0], []) as at:
            with client_error():
                await complete(mode, **args(route, at.url, retries=2))
    assert [request.status for request in at.requests] == [400]
