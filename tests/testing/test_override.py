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
