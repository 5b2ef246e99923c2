"""override_models: init_chat_model anywhere returns the override, typos still fail."""

from __future__ import annotations

import pytest

from myna import init_chat_model
from myna.exceptions import UnknownProviderError, UserError
from myna.fakes import FakeChatModel
from myna.testing import override_models


def app_answer(question: str) -> str:
    # code under test builds its model inside, as apps do
    return init_chat_model("openai:gpt-4.1-mini", temperature=0).invoke(question).text


async def app_answer_async(question: str) -> str:
    model = init_chat_model("anthropic:claude-haiku-4-5")
    return (await model.ainvoke(question)).text


def test_every_init_chat_model_returns_the_fake() -> None:
    fake = FakeChatModel(["Sunny.", "Cold."])
    with override_models(fake) as given:
        assert given is fake
        assert app_answer("Paris?") == "Sunny."
        assert app_answer("Oslo?") == "Cold."
    assert [c.messages[-1].text for c in fake.calls] == ["Paris?", "Oslo?"]


async def test_async_code_sees_it_too() -> None:
    with override_models(FakeChatModel(["Hi."])):
        assert await app_answer_async("hello") == "Hi."


def test_imported_name_sees_the_override() -> None:
    from myna.models import init_chat_model as imported_earlier

    with override_models(FakeChatModel(["x"])):
        assert imported_earlier("openai:gpt-4.1").invoke("q").text == "x"


def test_mapping_with_default() -> None:
    mini, other = FakeChatModel(["mini"]), FakeChatModel(["other"])
    with override_models({"openai:gpt-4.1-mini": mini, "*": other}):
        assert init_chat_model("gpt-4.1-mini").invoke("q").text == "mini"  # inferred provider
        assert init_chat_model("claude-haiku-4-5").invoke("q").text == "other"


def test_mapping_without_match_names_the_model() -> None:
    with (
        override_models({"openai:gpt-4.1-mini": FakeChatModel([])}),
        pytest.raises(UserError) as info,
    ):
        init_chat_model("openai:gpt-4.1-nano")
    assert str(info.value) == (
        "override_models has no model for 'openai:gpt-4.1-nano'. Did you mean 'openai:gpt-4.1-mini'? "
        "Overridden: 'openai:gpt-4.1-mini'. Add it, or a '*' entry for every other model."
    )


def test_function_receives_model_string_and_params() -> None:
    seen = []

    def build(model: str, **params: object) -> FakeChatModel:
        seen.append((model, params))
        return FakeChatModel(["ok"])

    with override_models(build):
        assert app_answer("q") == "ok"
    assert seen == [("openai:gpt-4.1-mini", {"temperature": 0})]


def test_typos_still_fail() -> None:
    with (
        override_models(FakeChatModel([])),
        pytest.raises(UnknownProviderError, match="Did you mean 'openai'"),
    ):
        init_chat_model("opnai:gpt-4.1")


def test_configurable_models_resolve_to_the_override_without_caching_it() -> None:
    switchable = init_chat_model(configurable_fields=("model",))
    with override_models(FakeChatModel(["fake"])):
        config = {"configurable": {"model": "openai:gpt-4.1"}}
        assert switchable.invoke("q", config=config).text == "fake"
    config = {"configurable": {"model": "fake:scripted", "script": ["real"]}}
    assert (
        init_chat_model(configurable_fields=("model", "script")).invoke("q", config=config).text
        == "real"
    )
    assert switchable._cache == {}


def test_nesting_and_restore() -> None:
    from myna.models import _registry

    with override_models(FakeChatModel(["outer"])):
        with override_models(FakeChatModel(["inner"])):
            assert app_answer("q") == "inner"
        assert app_answer("q") == "outer"
    assert _registry._OVERRIDES == []


def test_bad_target() -> None:
    with pytest.raises(UserError, match="override_models\\(\\) takes a model"):
        with override_models(42):
            pass


# -- models built before the override (at import time) ---------------------------------

from myna.fakes import tool_call  # noqa: E402
from myna.tools import tool  # noqa: E402


@tool
def get_weather(city: str) -> str:
    """Current weather for a city.

    Args:
        city: the city name
    """
    return f"Sunny in {city}"


def _module_level_model() -> object:
    # what `LLM = init_chat_model(...)` at the top of an app module builds: a real provider
    # model that would call the API (no key needed to build it)
    return init_chat_model("openai:gpt-4.1-mini", api_key="sk-test", max_retries=0)


def test_a_model_built_before_the_override_sends_every_sync_call_to_it() -> None:
    llm = _module_level_model()
    fake = FakeChatModel(["one", "two three", "four", "five", "six"])
    with override_models(fake):
        assert llm.invoke("q").text == "one"
        assert "".join(c.text for c in llm.stream("q")) == "two three"
        assert [m.text for m in llm.batch(["a", "b"])] == ["four", "five"]
        assert [m.text for _, m in llm.batch_as_completed(["c"])] == ["six"]
    assert [c.messages[-1].text for c in fake.calls] == ["q", "q", "a", "b", "c"]
    assert fake.calls[1].streamed


async def test_a_model_built_before_the_override_sends_every_async_call_to_it() -> None:
    llm = _module_level_model()
    fake = FakeChatModel(["one", "two three", "four", "five"])
    with override_models(fake):
        assert (await llm.ainvoke("q")).text == "one"
        assert "".join([c.text async for c in llm.astream("q")]) == "two three"
        assert sorted(m.text for m in await llm.abatch(["a", "b"])) == ["five", "four"]
    assert fake.remaining == 0


def test_tools_and_schema_bound_before_the_override_reach_the_fake() -> None:
    from pydantic import BaseModel

    class Forecast(BaseModel):
        city: str

    llm = _module_level_model()
    agent = llm.bind_tools([get_weather], tool_choice="any")
    structured = llm.with_structured_output(Forecast)
    fake = FakeChatModel([tool_call("get_weather", city="Paris"), {"city": "Oslo"}])
    with override_models(fake):
        assert agent.invoke("weather?").tool_calls[0]["args"] == {"city": "Paris"}
        assert structured.invoke("where?") == Forecast(city="Oslo")
    assert fake.calls[0].tools[0]["name"] == "get_weather"  # checked against the bound tools
    assert fake.calls[0].tool_choice == "any"
    assert fake.calls[1].schema["title"] == "Forecast"


def test_a_provider_class_built_directly_is_redirected_too() -> None:
    from myna.providers import AnthropicChatModel

    llm = AnthropicChatModel(model="claude-haiku-4-5", api_key="test-key", max_retries=0)
    with override_models({"anthropic:claude-haiku-4-5": FakeChatModel(["Hi."])}):
        assert llm.invoke("hello").text == "Hi."


def test_a_mapping_looks_up_an_earlier_model_by_the_string_it_was_built_from() -> None:
    mini = init_chat_model("gpt-4.1-mini", api_key="sk-test")
    haiku = init_chat_model("anthropic:claude-haiku-4-5", api_key="test-key")
    with override_models({"openai:gpt-4.1-mini": FakeChatModel(["mini"])}):
        assert mini.invoke("q").text == "mini"
        with pytest.raises(UserError) as info:
            haiku.invoke("q")
    assert str(info.value) == (
        "override_models has no model for 'anthropic:claude-haiku-4-5' (called on "
        "AnthropicChatModel 'claude-haiku-4-5', built before the override). "
        "Overridden: 'openai:gpt-4.1-mini'. Add it, or a '*' entry for every other model."
    )


def test_a_function_target_is_asked_once_per_earlier_model() -> None:
    llm = _module_level_model()
    asked = []

    def build(model: str, **params: object) -> FakeChatModel:
        asked.append((model, params))
        return FakeChatModel(["a", "b"])

    with override_models(build):
        assert [llm.invoke("q").text, llm.invoke("q").text] == ["a", "b"]
    assert asked == [("openai:gpt-4.1-mini", {"api_key": "sk-test", "max_retries": 0})]


def test_the_model_answers_itself_again_after_the_block() -> None:
    from myna.testing import block_network
    from myna.testing._network import NetworkBlockedError

    llm = _module_level_model()
    with override_models(FakeChatModel(["fake"])):
        assert llm.invoke("q").text == "fake"
    with block_network(), pytest.raises(NetworkBlockedError):
        llm.invoke("q")  # the real code path: it tries to reach api.openai.com


def test_fakes_built_outside_the_block_keep_their_own_script() -> None:
    own = FakeChatModel(["mine"])
    with override_models(FakeChatModel([])):
        assert own.invoke("q").text == "mine"


def test_a_real_model_can_be_the_override() -> None:
    # e.g. the replayed `chat_model` of a cassette test standing in for the app's model
    from myna.messages import AIMessage
    from myna.models import ChatModel

    class Echo(ChatModel):
        def _generate(self, request):  # type: ignore[no-untyped-def]
            return AIMessage(f"echo {request.messages[-1].text}")

    echo = Echo(model="echo")
    llm = _module_level_model()
    with override_models({"*": echo.bind(temperature=0)}):
        assert echo.invoke("a").text == "echo a"  # the override's own model answers itself
        assert llm.invoke("b").text == "echo b"
        assert init_chat_model("openai:gpt-4.1").invoke("c").text == "echo c"
