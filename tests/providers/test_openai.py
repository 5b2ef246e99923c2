"""OpenAI (Chat Completions and Responses), Azure OpenAI and the OpenAI-compatible presets."""

from __future__ import annotations

import pytest

from myna import init_chat_model
from myna.emulators import PROVIDER_HOSTS, emulate
from myna.exceptions import MissingAPIKeyError, UserError
from myna.providers import (
    COMPATIBLE_PRESETS,
    AzureOpenAIChatModel,
    OpenAIChatModel,
    OpenAICompatibleChatModel,
)

AZURE = "https://myres.openai.azure.com"


# -- OpenAI ---------------------------------------------------------------------------------------


async def test_chat_completions_request_on_the_wire(drive):
    with emulate("openai", ["Hi!", "H i"]) as server:
        model = OpenAIChatModel(
            model="gpt-4.1-mini", api_key="sk-test", organization="org-1", project="proj-1"
        )
        await drive.invoke(model, "Hello")
        await drive.stream(model, "Hello")

    plain, streamed = server.requests
    assert plain.url == "https://api.openai.com/v1/chat/completions"
    assert plain.headers["authorization"] == "Bearer sk-test"
    assert plain.headers["openai-organization"] == "org-1"
    assert plain.headers["openai-project"] == "proj-1"
    assert plain.body["messages"] == [{"role": "user", "content": "Hello"}]
    assert "stream" not in plain.body or plain.body["stream"] is False
    assert streamed.body["stream"] is True
    assert streamed.body["stream_options"] == {"include_usage": True}


async def test_responses_api_request_on_the_wire(drive):
    with emulate("openai", ["Hi!", "H i"]) as server:
        model = OpenAIChatModel(model="gpt-4.1-mini", api_key="sk-test", use_responses_api=True)
        reply = await drive.invoke(model, "Hello")
        chunks = await drive.stream(model, "Hello")

    assert reply.text == "Hi!"
    assert "".join(c.text for c in chunks) == "H i"
    plain, streamed = server.requests
    assert plain.url == "https://api.openai.com/v1/responses"
    assert plain.protocol == "openai-responses"
    assert "input" in plain.body and "messages" not in plain.body
    assert streamed.body["stream"] is True


async def test_responses_api_refuses_stop_sequences(drive):
    with emulate("openai", []) as server:
        model = OpenAIChatModel(model="gpt-4.1-mini", api_key="sk-test", use_responses_api=True)
        with pytest.raises(UserError, match="the Responses API has no stop sequences"):
            await drive.invoke(model, "Hello", stop=["END"])
    assert server.requests == []


async def test_base_url_from_the_environment(drive, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    local = emulate(base_url="http://localhost:8000/v1", script=["from vLLM"], require_auth=False)
    with local as server:
        model = init_chat_model("openai:qwen3-8b")  # a local server needs no key
        reply = await drive.invoke(model, "Hi")

    assert model.base_url == "http://localhost:8000/v1"
    assert reply.text == "from vLLM"
    assert server.requests[0].url == "http://localhost:8000/v1/chat/completions"
    assert "authorization" not in server.requests[0].headers


def test_the_official_endpoint_needs_a_key():
    model = OpenAIChatModel(model="gpt-4.1-mini")
    with pytest.raises(MissingAPIKeyError) as caught:
        model.invoke("Hi")
    assert str(caught.value).startswith(
        "No API key for 'openai'. Set OPENAI_API_KEY or pass api_key=...;"
    )


def test_model_is_required():
    with pytest.raises(UserError) as caught:
        OpenAIChatModel(api_key="k")
    assert str(caught.value) == "OpenAIChatModel needs model=, e.g. model='gpt-4.1-mini'."


@pytest.mark.parametrize(
    ("name", "reasoning", "max_input"),
    [("gpt-4.1-mini", False, 128_000), ("o3-mini", True, 128_000), ("gpt-5", True, 400_000)],
)
def test_profile_follows_the_model_name(name, reasoning, max_input):
    profile = OpenAIChatModel(model=name, api_key="k").profile
    assert profile["reasoning_output"] is reasoning
    assert profile["max_input_tokens"] == max_input
    overridden = OpenAIChatModel(model=name, api_key="k", profile={"tool_calling": False})
    assert overridden.profile["tool_calling"] is False


def test_repr_names_model_and_endpoint():
    model = OpenAIChatModel(model="gpt-4.1-mini", api_key="k")
    assert (
        repr(model) == "OpenAIChatModel(model='gpt-4.1-mini', base_url='https://api.openai.com/v1')"
    )


# -- Azure ----------------------------------------------------------------------------------------


async def test_azure_uses_api_key_header_deployment_path_and_api_version(drive):
    with emulate("azure_openai", ["Hi!", "H i"], base_url=AZURE) as server:
        model = AzureOpenAIChatModel(
            model="gpt-4o",
            api_key="az-key",
            azure_endpoint=AZURE,
            azure_deployment="prod-gpt4o",
            api_version="2024-10-21",
        )
        reply = await drive.invoke(model, "Hello")
        chunks = await drive.stream(model, "Hello")

    assert reply.text == "Hi!"
    assert reply.response_metadata["model_provider"] == "azure_openai"
    assert "".join(c.text for c in chunks) == "H i"
    for request in server.requests:
        assert request.url == (
            f"{AZURE}/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21"
        )
        assert request.headers["api-key"] == "az-key"
        assert "authorization" not in request.headers


async def test_azure_reads_endpoint_key_and_version_from_the_environment(drive, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", AZURE)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-01-01-preview")
    with emulate("azure_openai", ["ok"], base_url=AZURE) as server:
        model = init_chat_model("azure_openai:gpt-4o")
        await drive.invoke(model, "Hello")

    assert model.azure_deployment == "gpt-4o"  # defaults to the model name
    (request,) = server.requests
    assert request.url == (
        f"{AZURE}/openai/deployments/gpt-4o/chat/completions?api-version=2025-01-01-preview"
    )
    assert request.headers["api-key"] == "env-key"


async def test_azure_responses_api(drive):
    with emulate("azure_openai", ["ok"], base_url=AZURE) as server:
        model = AzureOpenAIChatModel(
            model="gpt-4o", api_key="k", azure_endpoint=AZURE, use_responses_api=True
        )
        assert (await drive.invoke(model, "Hello")).text == "ok"

    assert server.requests[0].url == f"{AZURE}/openai/v1/responses?api-version=2024-10-21"


def test_azure_needs_an_endpoint():
    with pytest.raises(UserError) as caught:
        AzureOpenAIChatModel(model="gpt-4o", api_key="k")
    assert str(caught.value) == (
        "AzureOpenAIChatModel needs the resource endpoint: pass azure_endpoint="
        "'https://<resource>.openai.azure.com' or set AZURE_OPENAI_ENDPOINT."
    )


def test_azure_always_needs_a_key():
    model = AzureOpenAIChatModel(model="gpt-4o", azure_endpoint=AZURE)
    with pytest.raises(MissingAPIKeyError, match="Set AZURE_OPENAI_API_KEY or pass api_key="):
        model.invoke("Hi")


def test_emulating_azure_needs_the_resource_url():
    with pytest.raises(UserError, match=r"emulate\('azure_openai'\) needs the resource endpoint"):
        emulate("azure_openai", ["hi"])


# -- OpenAI-compatible presets ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COMPATIBLE_PRESETS))
async def test_preset_base_url_and_key_env(name, drive, monkeypatch):
    base_url, env = COMPATIBLE_PRESETS[name]
    monkeypatch.setenv(env, f"{name}-key")
    with emulate(name, [f"hello from {name}"]) as server:
        model = init_chat_model(f"{name}:some-model")
        reply = await drive.invoke(model, "Hi")

    assert isinstance(model, OpenAICompatibleChatModel)
    assert model.provider == name
    assert model.base_url == base_url
    assert reply.text == f"hello from {name}"
    assert reply.response_metadata["model_provider"] == name
    (request,) = server.requests
    assert request.url == f"{base_url}/chat/completions"
    assert request.headers["authorization"] == f"Bearer {name}-key"
    assert any(base_url.startswith(host) for host in PROVIDER_HOSTS[name])


@pytest.mark.parametrize("name", sorted(COMPATIBLE_PRESETS))
def test_preset_without_key_names_its_env_var(name):
    _, env = COMPATIBLE_PRESETS[name]
    with pytest.raises(MissingAPIKeyError) as caught:
        init_chat_model(f"{name}:some-model").invoke("Hi")
    assert f"No API key for {name!r}. Set {env} or pass api_key=" in str(caught.value)


def test_presets_ignore_openai_base_url(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    assert init_chat_model("groq:llama", api_key="k").base_url == "https://api.groq.com/openai/v1"
