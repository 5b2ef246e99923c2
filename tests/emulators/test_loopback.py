"""`serve()`: the emulator as a real HTTP server on loopback (real sockets, chunked streams)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from myna import init_chat_model
from myna.emulators import LoopbackServer, serve
from myna.exceptions import ConnectionError, StreamInterruptedError, TimeoutError
from myna.fakes import fault, tool_call

BODY = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
AUTH = {"authorization": "Bearer k"}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """One plain client per test (``httpx.post`` would build an SSL context per call)."""
    with httpx.Client() as client:
        yield client


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return "sunny"


def models_for(base_url: str) -> dict[str, object]:
    return {
        "openai": init_chat_model("openai:gpt-4.1", api_key="k", base_url=base_url + "/v1"),
        "openai-responses": init_chat_model(
            "openai:gpt-4.1", api_key="k", base_url=base_url + "/v1", use_responses_api=True
        ),
        "anthropic": init_chat_model(
            "anthropic:claude-haiku-4-5", api_key="k", base_url=base_url + "/v1"
        ),
        "google_genai": init_chat_model(
            "google_genai:gemini-2.5-flash", api_key="k", base_url=base_url
        ),
        "ollama": init_chat_model("ollama:llama3.1", base_url=base_url),
    }


async def test_every_protocol_on_one_server(drive):
    with serve(script=["one two three"], cycle=True) as server:  # no provider: all of them
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        for name, model in models_for(server.base_url).items():
            reply = await drive.invoke(model, "Hi")
            chunks = await drive.stream(model, "Hi")
            assert reply.text == "one two three", name
            assert [c.text for c in chunks if c.text] == ["one ", "two ", "three"], name

    protocols = [r.protocol for r in server.requests]
    assert protocols == [
        p
        for p in ("openai-chat", "openai-responses", "anthropic-messages", "gemini", "ollama")
        for _ in range(2)
    ]
    assert all(r.status == 200 for r in server.requests)


async def test_tool_calls_over_the_wire(drive):
    with serve("anthropic", [tool_call("get_weather", city="Oslo")]) as server:
        model = models_for(server.base_url)["anthropic"].bind_tools([get_weather])
        reply = await drive.invoke(model, "Weather?")
    assert reply.tool_calls[0]["args"] == {"city": "Oslo"}
    assert server.requests[0].params["tools"][0]["name"] == "get_weather"


def test_streams_use_chunked_encoding_and_arrive_event_by_event(client):
    with serve("openai", ["a b c"], event_delay=0.03) as server:
        arrivals = []
        url = server.base_url + "/v1/chat/completions"
        with client.stream("POST", url, json=BODY, headers=AUTH) as response:
            assert response.headers["transfer-encoding"] == "chunked"
            assert response.headers["content-type"] == "text/event-stream"
            for line in response.iter_lines():
                if line.startswith("data:"):
                    arrivals.append(time.perf_counter())

    assert len(arrivals) >= 4
    assert arrivals[-1] - arrivals[0] >= 3 * 0.03 * 0.9


def test_a_scripted_disconnect_cuts_the_chunked_body(client):
    script = [fault.disconnect(after_chunks=2), "one two three four"]
    with serve("openai", script) as server:
        lines = []
        url = server.base_url + "/v1/chat/completions"
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            with client.stream("POST", url, json=BODY, headers=AUTH) as response:
                for line in response.iter_lines():
                    lines.append(line)
    assert "data: [DONE]" not in lines


async def test_a_cut_stream_reaches_myna_as_stream_interrupted(drive):
    with serve("ollama", [fault.disconnect(after_chunks=2), "one two three four"]) as server:
        model = models_for(server.base_url)["ollama"]
        with pytest.raises(StreamInterruptedError) as caught:
            await drive.stream(model, "Hi")
    assert caught.value.partial.text == "one two "
    assert "incomplete chunked read" in str(caught.value)


async def test_a_disconnect_before_the_answer_is_a_connection_error(drive):
    with serve("openai", [fault.disconnect()]) as server:
        model = init_chat_model(
            "openai:gpt-4.1", api_key="k", base_url=server.base_url + "/v1", max_retries=0
        )
        with pytest.raises(ConnectionError, match="Server disconnected without sending a response"):
            await drive.invoke(model, "Hi")


async def test_a_scripted_timeout_times_the_client_out(drive):
    with serve("openai", [fault.timeout()], timeout_seconds=0.5) as server:
        model = init_chat_model(
            "openai:gpt-4.1",
            api_key="k",
            base_url=server.base_url + "/v1",
            max_retries=0,
            timeout=0.1,
        )
        with pytest.raises(TimeoutError, match="timed out"):
            await drive.invoke(model, "Hi")


def test_errors_keep_their_status_and_headers(client):
    with serve("openai", [fault.rate_limit(retry_after=4)]) as server:
        response = client.post(
            server.base_url + "/v1/chat/completions", json={**BODY, "stream": False}, headers=AUTH
        )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "4"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


def test_a_script_error_is_a_400_in_the_providers_format_and_printed(client, capfd):
    with serve("openai", [], assert_all_requests_matched=False) as server:
        response = client.post(
            server.base_url + "/v1/chat/completions", json={**BODY, "stream": False}, headers=AUTH
        )
    assert response.status_code == 400
    assert response.headers["x-should-retry"] == "false"
    message = response.json()["error"]["message"]
    assert message.startswith("myna emulator script error: FakeChatModel script exhausted")
    assert len(server.app.errors) == 1
    assert capfd.readouterr().err == f"POST /v1/chat/completions -> 400 {message}\n"


def test_script_errors_can_be_kept_off_stderr(client, capfd):
    relaxed = {"print_script_errors": False, "assert_all_requests_matched": False}
    with serve("openai", [], **relaxed) as server:
        client.post(server.base_url + "/v1/chat/completions", json=BODY, headers=AUTH)
    assert len(server.app.errors) == 1
    assert capfd.readouterr().err == ""


def test_unknown_paths_and_methods(client):
    with serve(script=[]) as server:
        missing = client.post(server.base_url + "/v2/nothing", json={})
        method = client.get(server.base_url + "/v1/chat/completions", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {"error": {"message": "myna emulator: no API at /v2/nothing"}}
    assert method.status_code == 405


def test_stop_closes_the_port(client):
    server = LoopbackServer(["unused"]).start()
    url = server.base_url + "/api/chat"
    server.stop()
    with pytest.raises(httpx.ConnectError):
        client.post(url, json={})
