"""The model endpoints the official SDKs call (issue 10): openai and anthropic ``models.list``
/ ``retrieve``, google-genai ``models.get`` / ``list``, ollama ``show`` / ``list``, sync and
async, in-process (`emulate`) and over loopback (`serve`). They answer from the script's and
the requests' model names (or ``models=``), use no scripted reply and are kept in
``model_requests``, apart from the chat ``requests``."""

from __future__ import annotations

import anthropic
import ollama
import openai
import pytest
from google import genai
from google.genai import types

from myna.emulators import emulate, serve
from myna.messages import AIMessage

both = pytest.mark.parametrize("kind", ["emulate", "serve"])


def _server(kind: str, provider: str, script: list, **options):
    run = emulate if kind == "emulate" else serve
    return run(provider, script, **options)


def _url(server, suffix: str = "") -> dict[str, str]:
    return {"base_url": server.base_url + suffix} if hasattr(server, "base_url") else {}


@both
async def test_openai_lists_and_retrieves_models_and_uses_no_reply(kind, mode, call):
    script = [AIMessage("Hello.", response_metadata={"model_name": "gpt-4.1-mini"})]
    with _server(kind, "openai", script) as server:
        cls = openai.OpenAI if mode == "sync" else openai.AsyncOpenAI
        client = cls(api_key="k", max_retries=0, **_url(server, "/v1"))
        listed = await call(client.models.list())
        model = await call(client.models.retrieve("gpt-4.1-mini"))
        completion = await call(
            client.chat.completions.create(
                model="gpt-4.1-mini", messages=[{"role": "user", "content": "Hi"}]
            )
        )
    assert [m.id for m in listed.data] == ["gpt-4.1-mini"]
    assert (model.id, model.object) == ("gpt-4.1-mini", "model")
    assert completion.choices[0].message.content == "Hello."  # the reply was not used up
    assert len(server.requests) == 1
    assert [(r.method, r.path, r.status) for r in server.model_requests] == [
        ("GET", "/v1/models", 200),
        ("GET", "/v1/models/gpt-4.1-mini", 200),
    ]


@both
async def test_anthropic_lists_and_retrieves_models(kind, mode, call):
    with _server(kind, "anthropic", ["Hi."]) as server:
        cls = anthropic.Anthropic if mode == "sync" else anthropic.AsyncAnthropic
        client = cls(api_key="k", max_retries=0, **_url(server))
        message = await call(
            client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=32,
                messages=[{"role": "user", "content": "Hi"}],
            )
        )
        page = await call(client.models.list())
        model = await call(client.models.retrieve("claude-haiku-4-5"))
    assert message.content[0].text == "Hi."
    assert [m.id for m in page.data] == ["claude-haiku-4-5"]  # the model the request named
    assert (model.id, model.type, model.max_input_tokens) == ("claude-haiku-4-5", "model", 200000)
    assert len(server.model_requests) == 2 and len(server.requests) == 1


@both
async def test_google_genai_gets_and_lists_models(kind, mode, call):
    models = ["gemini-2.5-flash", "gemini-2.5-pro"]
    with _server(kind, "google_genai", [], models=models) as server:
        options = types.HttpOptions(
            retry_options=types.HttpRetryOptions(attempts=1), **_url(server)
        )
        client = genai.Client(api_key="k", http_options=options)
        api = client.models if mode == "sync" else client.aio.models
        model = await call(api.get(model="gemini-2.5-flash"))
        pager = await call(api.list())
        names = [m.name for m in pager] if mode == "sync" else [m.name async for m in pager]
    assert model.name == "models/gemini-2.5-flash"
    assert (model.input_token_limit, model.output_token_limit) == (1048576, 65536)
    assert names == ["models/gemini-2.5-flash", "models/gemini-2.5-pro"]
    assert server.requests == []


@both
async def test_ollama_show_and_list(kind, mode, call):
    with _server(kind, "ollama", [], models=["llama3.2"]) as server:
        cls = ollama.Client if mode == "sync" else ollama.AsyncClient
        client = cls(host=getattr(server, "base_url", "http://localhost:11434"))
        shown = await call(client.show("llama3.2"))
        listed = await call(client.list())
        with pytest.raises(ollama.ResponseError) as missing:
            await call(client.show("mistral"))
    assert "tools" in shown.capabilities
    assert shown.modelinfo["myna.context_length"] == 131072
    assert [m.model for m in listed.models] == ["llama3.2:latest"]
    assert missing.value.status_code == 404
    assert server.requests == []
    assert [r.status for r in server.model_requests] == [200, 200, 404]
