"""A replay miss reaches the user as the miss (issue 10).

The official SDKs retry any exception their transport raises (the anthropic SDK then says only
``APIConnectionError: Connection error.``), so a cassette answers their miss with a 400 no
client retries: one request, however many retries the client allows, and leaving the cassette
raises the `CassetteMismatch` in place of the SDK's error. myna's own providers still get the
mismatch raised. Nothing here asserts the SDKs' exception classes or messages.
"""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from myna import init_chat_model
from myna.cassettes import CassetteMismatch, cassette
from myna.emulators import emulate

RETRIES = 2  # every client may retry; none must
MESSAGES = [{"role": "user", "content": "hi"}]


def _openai(mode: str):
    cls = openai.OpenAI if mode == "sync" else openai.AsyncOpenAI
    client = cls(api_key="k", max_retries=RETRIES)

    def ask(stream: bool):
        return client.chat.completions.create(
            model="gpt-4.1-mini", messages=MESSAGES, stream=stream
        )

    return ask, "POST https://api.openai.com/v1/chat/completions"


def _anthropic(mode: str):
    cls = anthropic.Anthropic if mode == "sync" else anthropic.AsyncAnthropic
    client = cls(api_key="k", max_retries=RETRIES)

    def ask(stream: bool):
        return client.messages.create(
            model="claude-haiku-4-5", max_tokens=50, messages=MESSAGES, stream=stream
        )

    return ask, "POST https://api.anthropic.com/v1/messages"


SDKS = {"openai": _openai, "anthropic": _anthropic}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("sdk", sorted(SDKS))
async def test_an_sdk_sends_one_request_and_the_cassette_raises_the_miss(
    tmp_path, mode, call, collect, sdk, stream
):
    ask, request = SDKS[sdk](mode)
    path = tmp_path / "missing.yaml"
    with pytest.raises(CassetteMismatch) as info:
        with cassette(path, mode="none") as session:
            answer = await call(ask(stream))
            if stream:
                await collect(answer)
    assert len(session.misses) == 1  # no retry, though the client allows two
    assert info.value is session.misses[0]
    message = str(info.value)
    assert message.startswith(f"myna: no recorded interaction matches {request}")
    assert f"cassette: {path} (mode 'none')" in message and "does not exist yet" in message
    assert info.value.__context__ is not None  # the SDK's own error, shown above the miss


async def _post(mode: str, url: str, body: dict) -> httpx.Response:
    if mode == "sync":
        return httpx.post(url, json=body)
    async with httpx.AsyncClient() as client:
        return await client.post(url, json=body)


async def test_the_400_carries_the_miss_in_the_providers_format(tmp_path, mode, call):
    ask, _ = _anthropic(mode)
    path = tmp_path / "c.yaml"
    with emulate("anthropic", ["Hello"]), cassette(path, mode="once"):
        await call(ask(False))
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 50,
        "messages": [MESSAGES[0] | {"content": "bye"}],
    }
    with pytest.raises(CassetteMismatch), cassette(path, mode="none", unplayed="ignore"):
        sent = await _post(mode, "https://api.anthropic.com/v1/messages", body)
    assert sent.status_code == 400 and sent.headers["x-should-retry"] == "false"
    error = sent.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert "closest recorded request: interaction 0" in error["error"]["message"]
    assert "'hi' -> 'bye'" in error["error"]["message"]
    with pytest.raises(CassetteMismatch), cassette(tmp_path / "none.yaml", mode="none"):
        sent = await _post(mode, "https://api.openai.com/v1/chat/completions", body)
    assert sent.json()["error"]["message"].startswith("myna: no recorded interaction matches")
    gemini = "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent"
    with pytest.raises(CassetteMismatch), cassette(tmp_path / "none.yaml", mode="none"):
        sent = await _post(mode, gemini, {"contents": []})
    assert sent.json()["error"]["status"] == "INVALID_ARGUMENT"  # Gemini's own word for a 400


async def test_google_genai_sends_one_request(tmp_path, mode, call):
    genai = pytest.importorskip("google.genai")
    client = genai.Client(api_key="k")
    models = client.models if mode == "sync" else client.aio.models  # httpx, aiohttp
    with pytest.raises(CassetteMismatch) as info:
        with cassette(tmp_path / "missing.yaml", mode="none") as session:
            await call(models.generate_content(model="gemini-2.5-flash", contents="hi"))
    assert len(session.misses) == 1 and info.value is session.misses[0]
    assert "generativelanguage.googleapis.com" in str(info.value)


async def test_a_swallowed_miss_fails_the_cassette(tmp_path, mode, call):
    ask, _ = _openai(mode)
    with pytest.raises(CassetteMismatch, match="does not exist yet"):
        with cassette(tmp_path / "missing.yaml", mode="none") as session:
            try:
                await call(ask(False))
            except Exception:
                pass  # the code under test falls back and carries on
    assert len(session.misses) == 1


async def test_myna_providers_still_get_the_mismatch_raised(tmp_path, mode):
    model = init_chat_model("anthropic:claude-haiku-4-5", api_key="k", max_retries=RETRIES)
    with pytest.raises(CassetteMismatch) as info:
        with cassette(tmp_path / "missing.yaml", mode="none") as session:
            if mode == "sync":
                model.invoke("hi")
            else:
                await model.ainvoke("hi")
    assert len(session.misses) == 1 and info.value is session.misses[0]
    assert info.value.__context__ is None  # raised from the transport, not through a 400
