"""LangChain's provider packages (langchain-openai, -anthropic, -google-genai, -ollama) against
myna's emulators: plain, stream, tool call and error, sync and async, under `emulate()` and
`serve()`, inside `block_network()`."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import pytest

from myna.exceptions import UnmatchedRequestError
from myna.fakes import fault, tool_call


def openai_model(url: str | None, retries: int = 0) -> Any:
    from langchain_openai import ChatOpenAI

    base = {"base_url": url + "/v1"} if url else {}
    return ChatOpenAI(model="gpt-4.1-mini", api_key="sk-test", max_retries=retries, **base)


def anthropic_model(url: str | None, retries: int = 0) -> Any:
    from langchain_anthropic import ChatAnthropic

    base = {"base_url": url} if url else {}
    return ChatAnthropic(
        model="claude-haiku-4-5", api_key="sk-ant-test", max_retries=retries, **base
    )


def google_model(url: str | None, retries: int = 0) -> Any:
    from langchain_google_genai import ChatGoogleGenerativeAI

    base = {"base_url": url} if url else {}
    return ChatGoogleGenerativeAI(
        model="gemini-2.5-flash", google_api_key="g-test", max_retries=retries, **base
    )


def ollama_model(url: str | None, retries: int = 0) -> Any:  # it never retries
    from langchain_ollama import ChatOllama

    base = {"base_url": url} if url else {}
    return ChatOllama(model="llama3.2", **base)


CLIENTS: dict[str, tuple[str, Callable[..., Any]]] = {
    "langchain-openai": ("openai", openai_model),
    "langchain-anthropic": ("anthropic", anthropic_model),
    "langchain-google-genai": ("google_genai", google_model),
    "langchain-ollama": ("ollama", ollama_model),
}


@pytest.fixture(params=sorted(CLIENTS))
def client(request: pytest.FixtureRequest) -> tuple[str, Callable[..., Any]]:
    """(the emulated provider, a function building the chat model for a base URL)."""
    return CLIENTS[request.param]


def text_of(message: Any) -> str:
    """A message's text, whether its content is a string or a list of blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)


async def invoke(model: Any, mode: str, prompt: str) -> Any:
    return model.invoke(prompt) if mode == "sync" else await model.ainvoke(prompt)


async def stream(model: Any, mode: str, prompt: str) -> list[str]:
    if mode == "sync":
        return [text_of(chunk) for chunk in model.stream(prompt)]
    return [text_of(chunk) async for chunk in model.astream(prompt)]


async def test_plain(client, mode, endpoint):
    provider, build = client
    with endpoint(provider, ["Hello from the emulator."]) as at:
        reply = await invoke(build(at.url), mode, "Hi")
    assert text_of(reply) == "Hello from the emulator."
    (request,) = at.requests
    assert request.last_message.text == "Hi"
    assert request.status == 200  # (langchain-ollama streams even an invoke)


async def test_stream(client, mode, endpoint):
    provider, build = client
    with endpoint(provider, ["one two three"]) as at:
        parts = await stream(build(at.url), mode, "Count")
    assert "".join(parts) == "one two three"
    assert len([p for p in parts if p]) == 3  # word by word, as the emulator cut it
    (request,) = at.requests
    assert request.stream is True and request.last_message.text == "Count"


async def test_tool_call(client, mode, endpoint, weather_tool):
    provider, build = client
    with endpoint(provider, [tool_call("get_weather", city="Oslo")]) as at:
        model = build(at.url).bind_tools([weather_tool])
        reply = await invoke(model, mode, "Weather in Oslo?")
    (call,) = reply.tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Oslo"})
    (request,) = at.requests
    assert [tool["name"] for tool in request.params["tools"]] == ["get_weather"]


async def test_streamed_tool_call(client, mode, endpoint, weather_tool):
    provider, build = client
    with endpoint(provider, [tool_call("get_weather", city="Oslo")]) as at:
        model = build(at.url).bind_tools([weather_tool])
        if mode == "sync":
            chunks = list(model.stream("Weather in Oslo?"))
        else:
            chunks = [chunk async for chunk in model.astream("Weather in Oslo?")]
    (call,) = functools.reduce(operator.add, chunks).tool_calls
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Oslo"})
    assert at.requests[0].stream is True


@pytest.mark.parametrize(("kind", "status"), [("rate_limit", 429), ("server_error", 500)])
async def test_error(client, mode, endpoint, client_error, kind, status):
    provider, build = client
    with endpoint(provider, [getattr(fault, kind)()]) as at:
        with client_error():
            await invoke(build(at.url), mode, "Hi")
    assert [request.status for request in at.requests] == [status]


async def test_script_error_is_one_request_and_fails_the_emulator(
    client, mode, endpoint, client_error
):
    """A script error (here: the script ran out) is answered in a way the client does not
    retry, even allowed to, and fails the emulator on exit with the real reason."""
    provider, build = client
    with pytest.raises(UnmatchedRequestError, match="script exhausted"):
        with endpoint(provider, []) as at:
            with client_error():
                await invoke(build(at.url, retries=2), mode, "Hi")
    assert [request.status for request in at.requests] == [400]
