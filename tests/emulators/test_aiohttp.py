"""aiohttp clients under `emulate()`: answered in-process (plain, streamed event by event,
errors and faults), logged in ``server.requests``, and never reaching a socket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from myna.emulators import Interception, emulate, serve
from myna.fakes import fault

aiohttp = pytest.importorskip("aiohttp")

OPENAI = "https://api.openai.com/v1/chat/completions"
AUTH = {"Authorization": "Bearer sk-test"}


def chat(text: str = "Hi", *, stream: bool = False) -> dict[str, Any]:
    return {"model": "gpt-4.1", "messages": [{"role": "user", "content": text}], "stream": stream}


@pytest.fixture
def connects(offline: list[Any]) -> list[Any]:
    """Every socket connection attempted (each is refused)."""
    return offline


async def test_plain_answer_and_the_request_log(connects):
    with emulate("openai", ["Hello from aiohttp."]) as server:
        async with aiohttp.ClientSession() as session:
            async with session.post(OPENAI, json=chat("Hi there"), headers=AUTH) as response:
                status, body = response.status, await response.json()
                content_type = response.headers["content-type"]

    assert status == 200 and content_type.startswith("application/json")
    assert body["choices"][0]["message"]["content"] == "Hello from aiohttp."
    (request,) = server.requests
    assert request.last_message.text == "Hi there"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.url == OPENAI
    assert connects == []


async def test_a_stream_arrives_one_event_per_read(connects):
    with emulate("openai", ["one two three"]) as server:
        async with aiohttp.ClientSession() as session:
            async with session.post(OPENAI, json=chat(stream=True), headers=AUTH) as response:
                reads = [chunk async for chunk in response.content.iter_any()]

    events = [r for r in reads if r.startswith(b"data: ")]
    assert len(events) == len(reads) >= 5  # role, three words, finish, [DONE]: one per read
    assert reads[-1] == b"data: [DONE]\n\n"
    text = b"".join(reads).decode()
    assert '"one "' in text and '"three"' in text
    assert server.requests[0].stream is True
    assert connects == []


async def test_event_delay_paces_the_stream():
    loop = asyncio.get_running_loop()
    with emulate("openai", ["a b"], event_delay=0.02):
        async with aiohttp.ClientSession() as session:
            async with session.post(OPENAI, json=chat(stream=True), headers=AUTH) as response:
                times = [loop.time() async for _ in response.content.iter_any()]
    assert times[-1] - times[0] >= 0.02 * (len(times) - 1) * 0.9


async def test_scripted_error_is_the_providers_error_response():
    with emulate("openai", [fault.rate_limit()]):
        async with aiohttp.ClientSession() as session:
            async with session.post(OPENAI, json=chat(), headers=AUTH) as response:
                status, body = response.status, await response.json()
    assert status == 429
    assert body["error"]["code"] == "rate_limit_exceeded"


async def test_disconnect_mid_stream_after_the_first_chunks(connects):
    with emulate("openai", [fault.disconnect(after_chunks=1), "one two three"]):
        async with aiohttp.ClientSession() as session:
            async with session.post(OPENAI, json=chat(stream=True), headers=AUTH) as response:
                reads: list[bytes] = []
                with pytest.raises(aiohttp.ClientError):
                    async for chunk in response.content.iter_any():
                        reads.append(chunk)
    text = b"".join(reads).decode()
    assert '"one "' in text and "two" not in text and "[DONE]" not in text
    assert connects == []


async def test_disconnect_before_the_answer_and_timeout():
    with emulate("openai", [fault.disconnect(), fault.timeout(), "fine"]) as server:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientError):
                async with session.post(OPENAI, json=chat(), headers=AUTH) as response:
                    await response.read()
            with pytest.raises(asyncio.TimeoutError):
                async with session.post(OPENAI, json=chat(), headers=AUTH) as response:
                    await response.read()
            async with session.post(OPENAI, json=chat(), headers=AUTH) as response:
                assert (await response.json())["choices"][0]["message"]["content"] == "fine"
    assert len(server.requests) == 3  # POST is not retried by aiohttp: one request per reply


async def test_other_hosts_are_refused_without_a_socket(connects):
    with emulate("openai", assert_all_replies_used=False):
        async with aiohttp.ClientSession() as session:
            with pytest.raises(AssertionError, match=r"myna: GET https://example\.com/x"):
                await session.get("https://example.com/x")
    assert connects == []


async def test_nested_emulators_answer_their_own_hosts():
    anthropic = "https://api.anthropic.com/v1/messages"
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    with emulate("openai", ["From OpenAI"]) as first, emulate("anthropic", ["From Anthropic"]):
        async with aiohttp.ClientSession() as session:
            async with session.post(OPENAI, json=chat(), headers=AUTH) as response:
                openai_text = (await response.json())["choices"][0]["message"]["content"]
            async with session.post(anthropic, json=body, headers={"x-api-key": "k"}) as response:
                anthropic_text = (await response.json())["content"][0]["text"]
    assert (openai_text, anthropic_text) == ("From OpenAI", "From Anthropic")
    assert len(first.requests) == 1


async def test_the_patch_is_removed_on_exit():
    original = aiohttp.BaseConnector.connect
    with emulate("openai", ["x"], assert_all_replies_used=False):
        assert aiohttp.BaseConnector.connect is not original
    assert aiohttp.BaseConnector.connect is original


async def test_shared_interception_answers_and_passes_through_when_idle():
    with serve(script=["from loopback"]) as loopback:
        url = loopback.base_url.rstrip("/") + "/v1/chat/completions"
        shared = Interception().install()
        try:
            server = emulate(base_url=loopback.base_url, script=["from emulator"])
            async with aiohttp.ClientSession() as session:
                server.start(via=shared)
                async with session.post(url, json=chat(), headers=AUTH) as response:
                    emulated = (await response.json())["choices"][0]["message"]["content"]
                server.stop()
                async with session.post(url, json=chat(), headers=AUTH) as response:
                    real = (await response.json())["choices"][0]["message"]["content"]
        finally:
            shared.uninstall()
    assert (emulated, real) == ("from emulator", "from loopback")


async def test_a_pooled_connection_does_not_bypass_the_emulator():
    """A keep-alive connection opened before the emulator started is not reused for its host;
    the emulator's own connections are not pooled, so after it the real server answers."""
    with serve(script=["real 1", "real 2"]) as loopback:
        url = loopback.base_url.rstrip("/") + "/v1/chat/completions"
        answers = []
        async with aiohttp.ClientSession() as session:
            for emulated in (False, True, False):
                if emulated:
                    with emulate(base_url=loopback.base_url, script=["emulated"]):
                        async with session.post(url, json=chat(), headers=AUTH) as response:
                            answers.append((await response.json())["choices"][0]["message"])
                else:
                    async with session.post(url, json=chat(), headers=AUTH) as response:
                        answers.append((await response.json())["choices"][0]["message"])
    assert [a["content"] for a in answers] == ["real 1", "emulated", "real 2"]


async def test_chunked_upload_and_expect_100_continue():
    """The request body arrives whole, however aiohttp frames it."""

    async def parts():
        yield b'{"model": "gpt-4.1", "messages": '
        yield b'[{"role": "user", "content": "In parts"}]}'

    with emulate("openai", ["one", "two"]) as server:
        async with aiohttp.ClientSession() as session:
            async with session.post(OPENAI, data=parts(), headers=AUTH) as response:
                assert response.status == 200
            async with session.post(OPENAI, json=chat("Waits"), headers=AUTH, expect100=True) as r:
                assert (await r.json())["choices"][0]["message"]["content"] == "two"
    assert [r.last_message.text for r in server.requests] == ["In parts", "Waits"]
