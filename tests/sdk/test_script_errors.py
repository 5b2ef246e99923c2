"""A script error reaches the caller once, in the provider's own error format, under
`emulate()` and `serve()`: myna's providers and the official openai and anthropic SDKs, each
allowed to retry, send exactly one request, and the scripted reply that could not be sent
is still the next one (a retry used to consume it and answer with the reply after)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest

from myna import init_chat_model
from myna.emulators import emulate, serve
from myna.fakes import tool_call

PREFIX = "myna emulator script error: "
RETRIES = 2  # every client may retry; none must


@contextlib.contextmanager
def emulated(kind: str, provider: str, script: list[Any]) -> Iterator[tuple[Any, str | None]]:
    """The emulator (checks off: the errors are the point) and the base URL to use, if any."""
    relaxed = {"assert_all_replies_used": False, "assert_all_requests_matched": False}
    if kind == "emulate":
        with emulate(provider, script, **relaxed) as server:
            yield server, None
    else:
        with serve(provider, script, print_script_errors=False, **relaxed) as server:
            yield server, server.base_url


def myna_openai(url: str | None) -> Callable[[], str]:
    extra = {"base_url": url + "/v1"} if url else {}
    model = init_chat_model("openai:gpt-4.1-mini", api_key="k", max_retries=RETRIES, **extra)
    return lambda: model.invoke("hi").text


def myna_anthropic(url: str | None) -> Callable[[], str]:
    extra = {"base_url": url + "/v1"} if url else {}
    model = init_chat_model("anthropic:claude-haiku-4-5", api_key="k", max_retries=RETRIES, **extra)
    return lambda: model.invoke("hi").text


def openai_sdk(url: str | None) -> Callable[[], str]:
    extra = {"base_url": url + "/v1"} if url else {}
    client = openai.OpenAI(api_key="k", max_retries=RETRIES, **extra)
    messages = [{"role": "user", "content": "hi"}]

    def ask() -> str:
        completion = client.chat.completions.create(model="gpt-4.1-mini", messages=messages)
        return completion.choices[0].message.content

    return ask


def anthropic_sdk(url: str | None) -> Callable[[], str]:
    extra = {"base_url": url} if url else {}
    client = anthropic.Anthropic(api_key="k", max_retries=RETRIES, **extra)
    messages = [{"role": "user", "content": "hi"}]

    def ask() -> str:
        message = client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=messages)
        return message.content[0].text

    return ask


CLIENTS = {
    "myna-openai": ("openai", myna_openai),
    "myna-anthropic": ("anthropic", myna_anthropic),
    "openai-sdk": ("openai", openai_sdk),
    "anthropic-sdk": ("anthropic", anthropic_sdk),
}
both = pytest.mark.parametrize("kind", ["emulate", "serve"])
clients = pytest.mark.parametrize("client", sorted(CLIENTS))


@both
@clients
def test_a_tool_call_to_an_unbound_tool_is_one_request_and_uses_no_reply(kind, client):
    provider, build = CLIENTS[client]
    script = [tool_call("lookup", email="a@b"), "Plain text answer."]
    with emulated(kind, provider, script) as (server, url):
        ask = build(url)
        with pytest.raises(Exception) as caught:
            ask()  # no tools bound: the script is wrong, not the client

        assert PREFIX in str(caught.value)
        assert "calls tool 'lookup', but no tools are bound" in str(caught.value)
        assert [r.status for r in server.requests] == [400]
        # the tool call was not sent: it is still next, so asking again fails the same way
        assert server.app.engine.remaining == 2
        with pytest.raises(Exception, match="calls tool 'lookup'"):
            ask()
        assert [r.status for r in server.requests] == [400, 400]


@both
@clients
def test_an_exhausted_script_is_one_request_naming_the_error(kind, client):
    provider, build = CLIENTS[client]
    with emulated(kind, provider, ["only one"]) as (server, url):
        ask = build(url)
        assert ask() == "only one"
        with pytest.raises(Exception) as caught:
            ask()

    assert PREFIX + "FakeChatModel script exhausted" in str(caught.value)
    assert "Add replies to the script" in str(caught.value)
    assert [r.status for r in server.requests] == [200, 400]


@pytest.mark.parametrize(
    ("provider", "path", "body", "named"),
    [
        (
            "google_genai",
            "/v1beta/models/gemini-2.5-flash:generateContent",
            {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
            lambda error: error["status"] == "INVALID_ARGUMENT",
        ),
        (
            "anthropic",
            "/v1/messages",
            {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "Hi"}]},
            lambda error: error["type"] == "invalid_request_error",
        ),
    ],
    ids=["gemini", "anthropic"],
)
def test_a_script_error_is_a_400_in_the_providers_own_words(provider, path, body, named):
    import httpx

    with (
        serve(provider, script=[], assert_all_requests_matched=False) as server,
        httpx.Client() as client,
    ):
        headers = {"x-goog-api-key": "k", "x-api-key": "k", "anthropic-version": "2023-06-01"}
        answer = client.post(server.base_url + path, json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.headers["x-should-retry"] == "false"
    assert named(answer.json()["error"])
    assert "myna emulator script error" in answer.json()["error"]["message"]
