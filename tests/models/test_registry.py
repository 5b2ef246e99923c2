"""init_chat_model, the provider registry, prefix inference, and configurable models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from myna.exceptions import UnknownProviderError, UserError
from myna.fakes import FakeChatModel, FunctionChatModel, SchemaChatModel
from myna.messages import AIMessage
from myna.models import (
    ChatModel,
    ChatRequest,
    ConfigurableChatModel,
    _registry,
    infer_provider,
    init_chat_model,
    known_providers,
    parse_model_string,
    register_provider,
)
from myna.tools import tool


@pytest.fixture(autouse=True)
def isolated_registry() -> Iterator[None]:
    """Registrations made by a test do not leak into the next one."""
    known_providers()  # load the built-ins first, so they are part of the snapshot
    registry = dict(_registry._REGISTRY)
    prefixes = list(_registry._PREFIXES)
    yield
    _registry._REGISTRY.clear()
    _registry._REGISTRY.update(registry)
    _registry._PREFIXES[:] = prefixes


class Acme(ChatModel):
    provider = "acme"
    extra_params = frozenset({"flavour"})

    def _generate(self, request: ChatRequest) -> AIMessage:
        flavour = self.options.get("flavour", "plain")
        return AIMessage(f"acme {request.model} {flavour} t={request.params.get('temperature')}")


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


class Answer(BaseModel):
    value: str


# -- init_chat_model ----------------------------------------------------------------------------


def test_fake_scripted() -> None:
    model = init_chat_model("fake:scripted", script=["Hello!"])
    assert isinstance(model, FakeChatModel)
    assert model.invoke("Hi").text == "Hello!"
    assert model.model == "fake-scripted"


def test_fake_with_a_model_name() -> None:
    model = init_chat_model("fake:my-model", script=["x"], temperature=0.3)
    assert isinstance(model, FakeChatModel)
    assert model.model == "my-model"
    assert model.temperature == 0.3


def test_fake_function_and_schema() -> None:
    fn_model = init_chat_model("fake:function", fn=lambda messages, info: "from fn")
    assert isinstance(fn_model, FunctionChatModel)
    assert fn_model.invoke("x").text == "from fn"
    schema_model = init_chat_model("fake:schema", seed=3)
    assert isinstance(schema_model, SchemaChatModel)
    assert schema_model.seed == 3


def test_fake_function_without_fn() -> None:
    with pytest.raises(UserError, match=r"init_chat_model\('fake:function'\) needs fn="):
        init_chat_model("fake:function")


def test_model_provider_keyword() -> None:
    model = init_chat_model("scripted", model_provider="fake", script=["x"])
    assert isinstance(model, FakeChatModel)
    assert init_chat_model("scripted", model_provider="FAKE", script=["x"]).invoke("a").text == "x"


def test_unknown_parameter_is_an_error() -> None:
    with pytest.raises(
        UserError, match=r"unknown parameter temprature=\. Did you mean 'temperature'"
    ):
        init_chat_model("fake:scripted", script=["x"], temprature=1)


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-4o", "openai"),
        ("gpt-4.1-mini", "openai"),
        ("chatgpt-4o-latest", "openai"),
        ("o1-mini", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("text-davinci-003", "openai"),
        ("ft:gpt-4o:org", "openai"),
        ("claude-3-5-haiku-latest", "anthropic"),
        ("Claude-Sonnet-4", "anthropic"),
        ("gemini-2.0-flash", "google_genai"),
        ("mistral-large", "mistralai"),
        ("mixtral-8x7b", "mistralai"),
        ("codestral-latest", "mistralai"),
        ("deepseek-chat", "deepseek"),
        ("grok-2", "xai"),
        ("sonar-pro", "perplexity"),
        ("accounts/fireworks/models/x", "fireworks"),
        ("amazon.titan", "bedrock"),
        ("anthropic.claude-v2", "bedrock"),
        ("meta.llama3", "bedrock"),
        ("llama3", None),
        ("qwen2", None),
    ],
)
def test_prefix_inference(model: str, provider: str | None) -> None:
    assert infer_provider(model) == provider


@pytest.mark.parametrize(
    ("string", "expected"),
    [
        ("openai:gpt-4.1", ("openai", "gpt-4.1")),
        ("openai:ft:gpt-4o:org", ("openai", "ft:gpt-4o:org")),
        ("gpt-4.1", ("openai", "gpt-4.1")),
        ("Azure-OpenAI:gpt-4o", ("azure_openai", "gpt-4o")),
        ("ft:gpt-4o:org", ("openai", "ft:gpt-4o:org")),  # unknown prefix, model name inferred
        ("claude-haiku-4-5", ("anthropic", "claude-haiku-4-5")),
    ],
)
def test_parse_model_string(string: str, expected: tuple[str, str]) -> None:
    assert parse_model_string(string) == expected


def test_explicit_provider_does_not_split_the_model() -> None:
    assert parse_model_string("llama3.1:8b", "ollama") == ("ollama", "llama3.1:8b")


def test_unknown_provider_names_the_closest_one_and_lists_all() -> None:
    with pytest.raises(UnknownProviderError) as exc:
        init_chat_model("opnai:gpt-4.1")
    text = str(exc.value)
    assert text.startswith("Unknown provider 'opnai' in 'opnai:gpt-4.1'. Did you mean 'openai'?")
    assert f"Known providers: {', '.join(known_providers())}." in text
    assert "Register your own with myna.register_provider()." in text
    assert "model_provider=" in text


def test_unknown_explicit_provider() -> None:
    with pytest.raises(UnknownProviderError) as exc:
        init_chat_model("gpt-4", model_provider="opnai")
    assert str(exc.value).startswith("Unknown provider 'opnai'. Did you mean 'openai'?")


def test_model_without_an_inferable_provider() -> None:
    with pytest.raises(UnknownProviderError) as exc:
        init_chat_model("llama3")
    assert str(exc.value).startswith(
        "Cannot tell the provider of model 'llama3'. Write it as 'provider:model' "
        "(e.g. 'ollama:llama3') or pass model_provider=."
    )


def test_a_typo_in_a_known_prefix_suggests_the_model_and_its_provider() -> None:
    with pytest.raises(UnknownProviderError) as exc:
        init_chat_model("gtp-4.1-mini")
    assert str(exc.value) == (
        "Cannot tell the provider of model 'gtp-4.1-mini'. Did you mean 'gpt-4.1-mini', i.e. "
        "'openai:gpt-4.1-mini'? Otherwise write it as 'provider:model' or pass model_provider=."
    )


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("gpt4o", "openai:gpt-4o"),
        ("chatgtp-4o", "openai:chatgpt-4o"),
        ("claud-3-5-haiku", "anthropic:claude-3-5-haiku"),
        ("calude-3-opus", "anthropic:claude-3-opus"),
        ("gemni-2.5-flash", "google_genai:gemini-2.5-flash"),
        ("mistrel-large", "mistralai:mistral-large"),
        ("deepsek-chat", "deepseek:deepseek-chat"),
        ("gork-3", "xai:grok-3"),
    ],
)
def test_prefix_typos(typo: str, meant: str) -> None:
    with pytest.raises(UnknownProviderError, match=f"i.e. '{meant}'\\?"):
        init_chat_model(typo)


@pytest.mark.parametrize("model", ["llama3", "gemma3", "solar", "qwen3", "meta-llama/Llama-3"])
def test_other_names_get_no_made_up_suggestion(model: str) -> None:
    with pytest.raises(UnknownProviderError) as exc:
        init_chat_model(model)
    assert "Did you mean" not in str(exc.value)
    assert f"(e.g. 'ollama:{model}')" in str(exc.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("openai", "'openai' is a provider; add a model: 'openai:gpt-4.1-mini'."),
        ("Anthropic", "'Anthropic' is a provider; add a model: 'anthropic:claude-haiku-4-5'."),
        ("fake", "'fake' is a provider; add a model: 'fake:scripted'."),
        (
            "opnai",
            "Cannot tell the provider of model 'opnai'. Did you mean the provider 'openai'? "
            "Add a model: 'openai:gpt-4.1-mini'.",
        ),
    ],
)
def test_a_provider_alone_asks_for_a_model(name: str, message: str) -> None:
    with pytest.raises(UnknownProviderError) as exc:
        init_chat_model(name)
    assert str(exc.value) == message


def test_an_empty_model_name() -> None:
    with pytest.raises(UserError) as exc:
        init_chat_model("openai:")
    assert str(exc.value) == "No model name after 'openai:'; add one: 'openai:gpt-4.1-mini'."
    with pytest.raises(UserError, match="The model string is empty; write 'provider:model'"):
        init_chat_model("")


def test_model_must_be_a_string() -> None:
    with pytest.raises(UserError, match=r"model must be a string like 'openai:gpt-4\.1', got int"):
        parse_model_string(4)  # type: ignore[arg-type]


def test_unknown_provider_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        init_chat_model("nope:x")


def test_config_prefix_needs_configurable_fields() -> None:
    with pytest.raises(UserError, match="config_prefix= only applies to configurable models"):
        init_chat_model("fake:scripted", config_prefix="x")


# -- register_provider ---------------------------------------------------------------------------


def test_register_provider_and_prefixes() -> None:
    register_provider("acme", Acme, prefixes=["acme-"])
    assert "acme" in known_providers()
    assert init_chat_model("acme:zzz").invoke("x").text == "acme zzz plain t=None"
    assert init_chat_model("acme-1", flavour="mint").invoke("x").text == "acme acme-1 mint t=None"
    assert infer_provider("ACME-2") == "acme"


def test_register_provider_twice_is_an_error() -> None:
    register_provider("acme", Acme)
    with pytest.raises(UserError) as exc:
        register_provider("acme", Acme)
    assert str(exc.value).startswith("Provider 'acme' is already registered (")
    assert str(exc.value).endswith("pass replace=True to replace it.")
    with pytest.raises(UserError, match="already registered"):
        register_provider("fake", Acme)


def test_register_provider_replace() -> None:
    register_provider("acme", Acme)

    def factory(**params: Any) -> ChatModel:
        return FakeChatModel(["replaced"], **params)

    register_provider("Acme", factory, replace=True)
    assert init_chat_model("acme:x").invoke("q").text == "replaced"


def test_register_provider_by_import_string() -> None:
    register_provider("lazyfake", "myna.fakes:SchemaChatModel")
    model = init_chat_model("lazyfake:anything")
    assert isinstance(model, SchemaChatModel)
    assert model.model == "anything"


# -- configurable models ---------------------------------------------------------------------------


def test_no_model_gives_a_configurable_model_over_model_and_provider() -> None:
    model = init_chat_model()
    assert isinstance(model, ConfigurableChatModel)
    assert model.fields == ("model", "model_provider")
    with pytest.raises(UserError, match="No model given"):
        model.invoke("x")
    reply = model.invoke("x", config={"configurable": {"model": "fake:schema"}})
    assert reply.text == "SchemaChatModel(seed=0) answers: x"
    reply = model.invoke(
        "x", config={"configurable": {"model": "schema", "model_provider": "fake"}}
    )
    assert reply.response_metadata["model_provider"] == "fake"


def test_no_model_has_no_attributes_yet() -> None:
    with pytest.raises(AttributeError, match="this configurable model has no default model yet"):
        init_chat_model().profile  # noqa: B018


def test_default_fields_ignore_other_configurable_keys() -> None:
    model = init_chat_model("fake:schema", configurable_fields=("model", "model_provider"))
    assert model.resolve_params({"configurable": {"thread_id": "t1"}}) == {"model": "fake:schema"}


def test_configurable_tuple_of_fields() -> None:
    register_provider("acme", Acme)
    model = init_chat_model("acme:a1", configurable_fields=("temperature", "flavour"))
    assert model.invoke("x").text == "acme a1 plain t=None"
    config = {"configurable": {"temperature": 0.4, "flavour": "mint"}}
    assert model.invoke("x", config=config).text == "acme a1 mint t=0.4"


def test_a_model_parameter_that_is_not_configurable_is_an_error() -> None:
    model = init_chat_model("fake:schema", configurable_fields=("temperature",))
    with pytest.raises(UserError) as exc:
        model.invoke("x", config={"configurable": {"model": "fake:scripted"}})
    assert str(exc.value) == (
        "config['configurable']['model'] is not a configurable field of this model "
        "(configurable_fields=('temperature',)). Add 'model' to configurable_fields."
    )


def test_configurable_fields_must_be_any_or_a_tuple() -> None:
    with pytest.raises(UserError, match="configurable_fields='model' must be 'any' or a tuple"):
        init_chat_model("fake:schema", configurable_fields="model")


def test_any_field() -> None:
    model = init_chat_model("fake:schema", configurable_fields="any")
    assert model.invoke("x").text == "SchemaChatModel(seed=0) answers: x"
    reply = model.invoke("x", config={"configurable": {"seed": 3, "thread_id": "ignored"}})
    assert reply.text == "SchemaChatModel(seed=3) answers: x"
    assert model.resolve_params({"configurable": {"temperature": 0.5, "thread_id": "t"}}) == {
        "model": "fake:schema",
        "temperature": 0.5,
    }


def test_any_field_takes_the_providers_own_parameters() -> None:
    register_provider("acme", Acme)
    model = init_chat_model("acme:a1", configurable_fields="any")
    config = {"configurable": {"flavour": "mint", "thread_id": "t1", "temperature": 0.3}}
    assert model.resolve_params(config) == {
        "model": "acme:a1",
        "temperature": 0.3,
        "flavour": "mint",
    }
    assert model.invoke("x", config=config).text == "acme a1 mint t=0.3"


def test_any_field_with_the_fake_providers_parameters() -> None:
    model = init_chat_model("fake:scripted", configurable_fields="any")
    config = {"configurable": {"model": "function", "fn": lambda messages, info: "from fn"}}
    assert model.invoke("x", config=config).text == "from fn"
    config = {"configurable": {"script": ["a b"], "chunking": "chars"}}
    assert [c.text for c in model.stream("x", config=config)] == ["a", " ", "b", ""]


def test_bare_runtime_model_keeps_the_default_provider() -> None:
    # LangChain loses the provider here (gotcha 20)
    model = init_chat_model("fake:schema", configurable_fields="any")
    params = model.resolve_params({"configurable": {"model": "scripted"}})
    assert params == {"model": "scripted", "model_provider": "fake"}
    chosen = model._resolve({"configurable": {"model": "other-name"}})
    assert isinstance(chosen, FakeChatModel)
    assert chosen.model == "other-name"


def test_bare_runtime_model_with_a_known_prefix_uses_that_provider() -> None:
    model = init_chat_model("fake:schema", configurable_fields="any")
    params = model.resolve_params({"configurable": {"model": "gpt-4o"}})
    assert params == {"model": "gpt-4o"}


def test_config_prefix() -> None:
    register_provider("acme", Acme)
    model = init_chat_model(
        "acme:a1", configurable_fields=("model", "temperature"), config_prefix="first"
    )
    config = {"configurable": {"first_temperature": 0.2, "temperature": 9, "other_model": "x"}}
    assert model.invoke("x", config=config).text == "acme a1 plain t=0.2"
    config = {"configurable": {"first_model": "acme:a2"}}
    assert model.invoke("x", config=config).text == "acme a2 plain t=None"
    with pytest.raises(UserError, match=r"\['first_flavour'\] is not a configurable field"):
        model.invoke("x", config={"configurable": {"first_flavour": "mint"}})


def test_queued_bind_tools_applies_to_the_model_chosen_at_run_time() -> None:
    model = init_chat_model(configurable_fields=("model", "seed"))
    bound = model.bind_tools([get_weather], tool_choice="any")
    assert isinstance(bound, ConfigurableChatModel)
    reply = bound.invoke("x", config={"configurable": {"model": "fake:schema", "seed": 1}})
    assert [c["name"] for c in reply.tool_calls] == ["get_weather"]
    assert set(reply.tool_calls[0]["args"]) == {"city"}


async def test_queued_with_structured_output_applies_at_run_time() -> None:
    model = init_chat_model(configurable_fields=("model",))
    structured = model.with_structured_output(Answer)
    result = await structured.ainvoke("x", config={"configurable": {"model": "fake:schema"}})
    assert isinstance(result, Answer)


def test_queued_operations_do_not_change_the_original() -> None:
    model = init_chat_model("fake:schema", configurable_fields="any")
    model.bind_tools([get_weather])
    assert model.invoke("x").tool_calls == []
    assert model.bind(temperature=0.5)._queue == [("bind", (), {"temperature": 0.5})]


def test_configurable_stream_and_batch() -> None:
    model = init_chat_model("fake:scripted", configurable_fields=("model", "script"))
    config = {"configurable": {"script": ["a b", "c"]}}
    assert [c.text for c in model.stream("x", config=config)] == ["a ", "b", ""]
    assert [r.text for r in model.batch(["y"], config=config)] == ["c"]


async def test_configurable_async() -> None:
    model = init_chat_model("fake:scripted", configurable_fields=("model", "script"))
    config = {"configurable": {"model": "fake:other", "script": ["a b", "c"]}}
    assert [c.text async for c in model.astream("x", config=config)] == ["a ", "b", ""]
    reply = await model.ainvoke("y", config=config)
    assert reply.text == "c"
    assert reply.response_metadata["model_name"] == "other"


def test_models_are_cached_per_configuration() -> None:
    model = init_chat_model("fake:schema", configurable_fields="any")
    first = model._resolve({"configurable": {"seed": 1}})
    assert model._resolve({"configurable": {"seed": 1}}) is first
    assert model._resolve({"configurable": {"seed": 2}}) is not first


def test_attributes_come_from_the_default_model() -> None:
    model = init_chat_model("fake:schema", configurable_fields="any", temperature=0.4)
    assert model.temperature == 0.4
    assert model.profile["tool_calling"] is True
    assert "ConfigurableChatModel(defaults=" in repr(model)


RACE = """
import sys, threading, time
from myna.models import _registry, init_chat_model


class Slow(dict):
    # registering the built-ins takes a while (as importing did): widen the race window
    def items(self):
        for item in super().items():
            time.sleep(0.002)
            yield item


_registry._BUILTIN_PROVIDERS = Slow(_registry._BUILTIN_PROVIDERS)

barrier = threading.Barrier(16)
errors = []

def first_call():
    barrier.wait()
    try:
        init_chat_model("fake:scripted", script=["hi"])
    except Exception as error:
        errors.append(repr(error))

threads = [threading.Thread(target=first_call) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("\\n".join(errors))
sys.exit(1 if errors else 0)
"""


def test_threads_calling_init_chat_model_first_at_once_all_find_the_builtins():
    import subprocess
    import sys

    for _ in range(3):  # a fresh process each time: the built-ins are not loaded yet
        result = subprocess.run(
            [sys.executable, "-c", RACE], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
