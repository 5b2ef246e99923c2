"""A replay never sends the API key, so it needs none: every provider replays with no key set."""

from __future__ import annotations

import os
from typing import Any

import pytest

from myna import init_chat_model
from myna.cassettes import cassette, replaying
from myna.emulators import emulate
from myna.exceptions import MissingAPIKeyError

AZURE = "https://acme.openai.azure.com"
PROVIDERS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # name: (model string, model options, emulator options)
    "openai": ("openai:gpt-4.1-mini", {}, {}),
    "openai_responses": ("openai:gpt-4.1-mini", {"use_responses_api": True}, {}),
    "anthropic": ("anthropic:claude-haiku-4-5", {}, {}),
    "google_genai": ("google_genai:gemini-2.5-flash", {}, {}),
    "azure_openai": ("azure_openai:gpt-4o", {"azure_endpoint": AZURE}, {"base_url": AZURE}),
    "bedrock": ("bedrock:anthropic.claude-3-5-haiku-20241022-v1:0", {}, {}),
    "groq": ("groq:llama-3.1-8b-instant", {}, {}),
    "mistralai": ("mistralai:mistral-small-latest", {}, {}),
    "ollama": ("ollama:llama3.1", {}, {}),
}


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider key or AWS credential anywhere in the environment."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_API_TOKEN")) or name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)


def record(path: Any, name: str) -> None:
    model, options, server = PROVIDERS[name]
    provider = model.split(":", 1)[0]
    with emulate(provider, script=["Replayed."], **server), cassette(path, mode="once"):
        llm = init_chat_model(model, api_key="real-key", **options)
        assert llm.invoke("Hi").text == "Replayed."


@pytest.mark.parametrize("name", list(PROVIDERS))
@pytest.mark.parametrize("mode", ["none", "once"])
def test_replay_needs_no_key(tmp_path, no_keys, name: str, mode: str) -> None:
    path = tmp_path / f"{name}.yaml"
    record(path, name)
    model, options, _ = PROVIDERS[name]
    with cassette(path, mode=mode):
        assert replaying()
        reply = init_chat_model(model, **options).invoke("Hi")  # no api_key, none in env
    assert reply.text == "Replayed."


async def test_async_replay_needs_no_key(tmp_path, no_keys) -> None:
    record(tmp_path / "openai.yaml", "openai")
    async with cassette(tmp_path / "openai.yaml", mode="none"):
        reply = await init_chat_model("openai:gpt-4.1-mini").ainvoke("Hi")
    assert reply.text == "Replayed."


def test_a_cassette_that_may_record_still_needs_the_key(tmp_path, no_keys) -> None:
    record(tmp_path / "openai.yaml", "openai")
    assert not replaying()
    for mode, path in [
        ("new_episodes", "openai.yaml"),
        ("all", "openai.yaml"),
        ("once", "new.yaml"),
    ]:
        with cassette(tmp_path / path, mode=mode, unplayed="ignore"):
            assert not replaying()
            with pytest.raises(MissingAPIKeyError) as caught:
                init_chat_model("openai:gpt-4.1-mini").invoke("Hi")
    assert str(caught.value) == (
        "No API key for 'openai'. Set OPENAI_API_KEY or pass api_key=...; in tests use a fake "
        "model (init_chat_model('fake:scripted', script=[...])) or an emulator "
        "(myna.emulators.emulate(...)) so no real key is needed, or replay a cassette "
        "(mode 'none', or 'once' with its file present), which needs no key."
    )


def test_a_scoped_cassette_replays_only_its_scope(tmp_path, no_keys) -> None:
    record(tmp_path / "openai.yaml", "openai")
    judge = cassette(tmp_path / "openai.yaml", mode="none", scoped=True)
    with judge:
        assert not replaying()  # a request here goes past it, to the network
        with judge.scope():
            assert replaying()
            assert init_chat_model("openai:gpt-4.1-mini").invoke("Hi").text == "Replayed."


def test_bedrock_replay_never_asks_aws_for_credentials(tmp_path, no_keys, monkeypatch) -> None:
    """botocore's credential chain ends at the EC2 metadata service (a network call that a
    blocked test or a machine off EC2 pays for); a replay is never signed, so it never looks."""
    botocore_session = pytest.importorskip("botocore.session")
    path = tmp_path / "bedrock.yaml"
    record(path, "bedrock")

    lookups: list[str] = []
    monkeypatch.setattr(botocore_session, "get_session", lambda: lookups.append("looked"))
    model, options, _ = PROVIDERS["bedrock"]
    with cassette(path, mode="none"):
        assert init_chat_model(model, **options).invoke("Hi").text == "Replayed."
    assert lookups == []
