"""`emulate()`: respx interception of httpx and httpx2, strict checks, no network."""

from __future__ import annotations

import socket
from typing import Any

import httpcore
import httpcore2
import httpx
import httpx2
import pytest

from myna import init_chat_model
from myna.emulators import Emulator, emulate
from myna.exceptions import ScriptExhaustedError, StreamInterruptedError, UserError
from myna.fakes import fault

CHAT = "https://api.openai.com/v1/chat/completions"
BODY = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hi"}]}
AUTH = {"authorization": "Bearer k"}


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record (and refuse) any attempt to open a real connection."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("test: the network was touched")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


# -- strictness -----------------------------------------------------------------------------------


def test_unused_replies_fail_on_exit():
    with pytest.raises(AssertionError) as caught:
        with emulate("openai", ["used", "never asked for"]):
            httpx.post(CHAT, json=BODY, headers=AUTH)

    assert str(caught.value) == (
        "myna: 1 scripted reply was never requested (1 request received). Remove them, "
        "or pass assert_all_replies_used=False."
    )


def test_unused_replies_allowed_by_name():
    with emulate("openai", ["a", "b", "c"], assert_all_replies_used=False) as server:
        httpx.post(CHAT, json=BODY, headers=AUTH)
    assert server.app.engine.remaining == 2


def test_script_errors_fail_on_exit_even_when_the_client_swallowed_them():
    with pytest.raises(AssertionError) as caught:
        with emulate("openai", ["only one"]):
            httpx.post(CHAT, json=BODY, headers=AUTH)
            swallowed = httpx.post(CHAT, json=BODY, headers=AUTH)  # a 400 nobody looks at
            assert swallowed.status_code == 400

    assert str(caught.value).startswith(
        "myna: the emulator could not answer 1 request; first: FakeChatModel script exhausted"
    )
    assert isinstance(caught.value.__cause__, ScriptExhaustedError)


def test_script_error_check_allowed_by_name():
    with emulate("openai", [], assert_all_requests_matched=False) as server:
        assert httpx.post(CHAT, json=BODY, headers=AUTH).status_code == 400
    assert len(server.requests) == 1


def test_an_error_inside_the_block_is_not_masked_by_the_checks():
    with pytest.raises(KeyError, match="the test's own error"):
        with emulate("openai", ["never used"]):
            raise KeyError("the test's own error")


@pytest.mark.parametrize("flavour", ["httpx", "httpx2"])
async def test_other_hosts_are_blocked_and_never_reach_the_network(flavour, no_sockets):
    lib = httpx if flavour == "httpx" else httpx2
    with emulate("openai", []):
        with pytest.raises(AssertionError) as sync_caught:
            with lib.Client() as client:
                client.get("https://example.com/data")
        with pytest.raises(AssertionError) as async_caught:
            async with lib.AsyncClient() as client:
                await client.post("https://api.anthropic.com/v1/messages", json={})

    assert str(sync_caught.value) == (
        "myna: GET https://example.com/data was blocked: emulate('openai') answers "
        "https://api.openai.com and no request leaves the process while it is active. Point "
        "the client at one of those, or add its URL with base_url=."
    )
    assert "POST https://api.anthropic.com/v1/messages was blocked" in str(async_caught.value)
    assert no_sockets == []


def test_a_provider_model_pointed_elsewhere_fails_loudly(no_sockets):
    with emulate("anthropic", []):
        model = init_chat_model("openai:gpt-4.1", api_key="k", max_retries=0)
        with pytest.raises(AssertionError, match=r"myna: POST https://api\.openai\.com/v1/chat"):
            model.invoke("Hi")
    assert no_sockets == []


def test_nested_emulators_answer_their_own_hosts():
    with emulate("openai", ["from openai"]), emulate("anthropic", ["from anthropic"]):
        openai = init_chat_model("openai:gpt-4.1", api_key="k")
        anthropic = init_chat_model("anthropic:claude-haiku-4-5", api_key="k")
        assert openai.invoke("Hi").text == "from openai"
        assert anthropic.invoke("Hi").text == "from anthropic"


def test_without_provider_or_base_url_every_host_is_answered():
    with emulate(script=["anywhere"]) as server:
        response = httpx.post("http://10.1.2.3:8000/v1/chat/completions", json=BODY, headers=AUTH)
    assert response.status_code == 200
    assert server.requests[0].url == "http://10.1.2.3:8000/v1/chat/completions"


def test_interception_ends_on_exit():
    originals = (
        httpcore.ConnectionPool.handle_request,
        httpcore.AsyncConnectionPool.handle_async_request,
        httpcore2.ConnectionPool.handle_request,
        httpcore2.AsyncConnectionPool.handle_async_request,
    )
    with emulate("openai", []):
        assert httpcore.ConnectionPool.handle_request is not originals[0]
        assert httpcore2.ConnectionPool.handle_request is not originals[2]
    assert (
        httpcore.ConnectionPool.handle_request,
        httpcore.AsyncConnectionPool.handle_async_request,
        httpcore2.ConnectionPool.handle_request,
        httpcore2.AsyncConnectionPool.handle_async_request,
    ) == originals


# -- httpx2 (the official SDKs' transport) ----------------------------------------------------------------


async def test_httpx2_clients_are_answered_plain_and_streaming():
    stream_body = {**BODY, "stream": True}
    with emulate("openai", ["plain", "a b", "async"]) as server:
        with httpx2.Client() as client:
            plain = client.post(CHAT, json=BODY, headers=AUTH).json()
            with client.stream("POST", CHAT, json=stream_body, headers=AUTH) as response:
                lines = [line for line in response.iter_lines() if line]
        async with httpx2.AsyncClient() as aclient:
            apart = (await aclient.post(CHAT, json=BODY, headers=AUTH)).json()

    assert plain["choices"][0]["message"]["content"] == "plain"
    assert apart["choices"][0]["message"]["content"] == "async"
    assert lines[-1] == "data: [DONE]"
    assert len(server.requests) == 3


async def test_httpx2_sees_timeouts_and_cuts():
    with emulate("openai", [fault.timeout(), fault.disconnect(after_chunks=1), "a b c"]):
        with httpx2.Client() as client:
            with pytest.raises(httpx2.ReadTimeout, match="scripted timeout"):
                client.post(CHAT, json=BODY, headers=AUTH)
            with pytest.raises(httpx2.RemoteProtocolError, match="connection dropped mid-stream"):
                with client.stream("POST", CHAT, json={**BODY, "stream": True}, headers=AUTH) as r:
                    list(r.iter_lines())


# -- streams -------------------------------------------------------------------------------------


async def test_a_cut_after_the_last_piece_still_reaches_the_client(drive):
    # the client sees a dropped connection even when every content event went out
    with emulate("google_genai", [fault.disconnect(after_chunks=50), "one two"]):
        model = init_chat_model("google_genai:gemini-2.5-flash", api_key="k")
        with pytest.raises(StreamInterruptedError) as caught:
            await drive.stream(model, "Hi")
    assert caught.value.partial.text == "one two"


def test_event_delay_must_be_a_non_negative_number():
    with pytest.raises(UserError) as caught:
        emulate("openai", [], event_delay=-1)
    assert str(caught.value) == "event_delay=-1 must be a number of seconds >= 0."


def test_unknown_provider_lists_the_known_ones():
    with pytest.raises(UserError) as caught:
        emulate("opnai", [])
    assert str(caught.value).startswith("emulate() does not know provider 'opnai'; known: ")
    assert "openai" in str(caught.value) and "Pass base_url= for any other server." in str(
        caught.value
    )


# -- conveniences -----------------------------------------------------------------------------------


def test_calls_add_and_script():
    server = emulate("openai", ["one"])
    with server:
        assert not server.calls.called
        with pytest.raises(AssertionError, match=r"myna: the emulator received no requests\."):
            _ = server.calls.last
        server.add("two").script.append("three")
        model = init_chat_model("openai:gpt-4.1", api_key="k")
        texts = [model.invoke(f"q{i}").text for i in range(3)]

    assert texts == ["one", "two", "three"]
    assert server.calls.called and server.calls.count == 3
    assert server.calls.last.last_message.text == "q2"
    assert repr(server) == "Emulator('openai', 3 requests)"
    assert isinstance(server, Emulator)


def test_as_a_decorator_sync():
    server = emulate("anthropic", ["decorated"])

    @server
    def call() -> str:
        return init_chat_model("anthropic:claude-haiku-4-5", api_key="k").invoke("Hi").text

    assert call() == "decorated"
    assert call.__name__ == "call"
    assert len(server.requests) == 1


async def test_as_a_decorator_async():
    server = emulate("anthropic", ["decorated"])

    @server
    async def call() -> str:
        model = init_chat_model("anthropic:claude-haiku-4-5", api_key="k")
        return (await model.ainvoke("Hi")).text

    assert await call() == "decorated"
    assert len(server.requests) == 1


async def test_async_context_manager():
    async with emulate("ollama", ["async with"]) as server:
        reply = await init_chat_model("ollama:llama3.1").ainvoke("Hi")
    assert reply.text == "async with"
    assert server.requests[0].url == "http://localhost:11434/api/chat"
