"""Parameters are checked where they are given: names get "did you mean", values their range."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from myna import init_chat_model
from myna.exceptions import InvalidParameterError, UserError
from myna.fakes import FakeChatModel
from myna.tools import tool


@tool
def get_weather(city: str) -> str:
    """Weather for a city.

    Args:
        city: the city
    """
    return city


class Forecast(BaseModel):
    city: str


def test_a_misspelt_bind_tools_keyword_suggests_the_right_one() -> None:
    with pytest.raises(InvalidParameterError) as exc:
        FakeChatModel([]).bind_tools([get_weather], tool_choise="any")  # type: ignore[call-arg]
    assert str(exc.value) == (
        "bind_tools() got an unknown parameter tool_choise=. Did you mean 'tool_choice'? "
        "Accepted: parallel_tool_calls, strict, tool_choice."
    )


def test_a_misspelt_with_structured_output_keyword_suggests_the_right_one() -> None:
    with pytest.raises(InvalidParameterError) as exc:
        FakeChatModel([]).with_structured_output(Forecast, methd="json_mode")  # type: ignore[call-arg]
    assert str(exc.value) == (
        "with_structured_output() got an unknown parameter methd=. Did you mean 'method'? "
        "Accepted: include_raw, method, strict."
    )


def test_unknown_keywords_are_still_type_errors() -> None:
    # code that caught Python's own TypeError for an unexpected keyword keeps working
    with pytest.raises(TypeError):
        FakeChatModel([]).bind_tools([get_weather], tool_choise="any")  # type: ignore[call-arg]


def test_every_route_to_bind_tools_and_structured_output_checks_keywords() -> None:
    bound = FakeChatModel([]).bind(temperature=0)
    configurable = init_chat_model(configurable_fields=("model",))
    for target in (bound, configurable):
        with pytest.raises(InvalidParameterError, match="Did you mean 'parallel_tool_calls'"):
            target.bind_tools([get_weather], paralel_tool_calls=False)
        with pytest.raises(InvalidParameterError, match="Did you mean 'include_raw'"):
            target.with_structured_output(Forecast, include_rwa=True)


def test_a_misspelt_method_value_suggests_the_right_one() -> None:
    with pytest.raises(InvalidParameterError) as exc:
        FakeChatModel([]).with_structured_output(Forecast, method="json_shema")
    assert str(exc.value) == (
        "with_structured_output(): method='json_shema' is not one of 'json_schema', "
        "'function_calling', 'json_mode'. Did you mean 'json_schema'?"
    )


def test_a_misspelt_tool_choice_keyword_value() -> None:
    with pytest.raises(
        UserError, match=r"tool_choice='requierd' names no bound tool\. Did you mean 'required'"
    ):
        FakeChatModel([]).bind_tools([get_weather], tool_choice="requierd")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"parallel_tool_calls": "no"},
            "bind_tools(): parallel_tool_calls='no' must be True, False or None, got str.",
        ),
        ({"strict": 1}, "bind_tools(): strict=1 must be True, False or None, got int."),
    ],
)
def test_bind_tools_flags(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError) as exc:
        FakeChatModel([]).bind_tools([get_weather], **kwargs)
    assert str(exc.value) == message


def test_include_raw_must_be_a_flag() -> None:
    with pytest.raises(
        InvalidParameterError, match=r"include_raw='yes' must be True or False, got str\."
    ):
        FakeChatModel([]).with_structured_output(Forecast, include_raw="yes")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": "hot"}, "temperature='hot' must be a number from 0 to 2, got str."),
        ({"temperature": 5}, "temperature=5 must be a number from 0 to 2."),
        ({"temperature": True}, "temperature=True must be a number from 0 to 2, got bool."),
        ({"top_p": 1.5}, "top_p=1.5 must be a number from 0 to 1."),
        ({"max_tokens": 0}, "max_tokens=0 must be an int >= 1."),
        ({"max_tokens": 10.5}, "max_tokens=10.5 must be an int >= 1, got float."),
        ({"max_retries": -1}, "max_retries=-1 must be an int >= 0."),
        ({"timeout": -3}, "timeout=-3 must be a number of seconds > 0 (or an httpx.Timeout)."),
        (
            {"timeout": "30"},
            "timeout='30' must be a number of seconds > 0 (or an httpx.Timeout), got str.",
        ),
        ({"stop": 3}, "stop=3 must be a string or a list of strings, got int."),
        ({"seed": "42"}, "seed='42' must be an int, got str."),
        ({"top_logprobs": 50}, "top_logprobs=50 must be an int from 0 to 20."),
        ({"logprobs": "yes"}, "logprobs='yes' must be True or False, got str."),
        ({"reasoning_budget": -2}, "reasoning_budget=-2 must be an int >= -1."),
        ({"tags": "eval"}, "tags='eval' must be a list of strings, got str."),
        (
            {"api_key": 123},
            "api_key=123 must be a string (for a pydantic SecretStr, pass .get_secret_value()), got int.",
        ),
    ],
)
def test_standard_parameters_are_checked_when_the_model_is_built(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameterError) as exc:
        FakeChatModel([], **kwargs)
    assert str(exc.value) == f"FakeChatModel: {message}"


def test_init_chat_model_checks_values_before_any_call() -> None:
    with pytest.raises(InvalidParameterError, match=r"OpenAIChatModel: temperature='hot' must be"):
        init_chat_model("openai:gpt-4.1-mini", temperature="hot", api_key="sk-test")


def test_good_values_pass() -> None:
    model = FakeChatModel(
        ["ok"],
        temperature=0,
        top_p=1,
        max_tokens=100,
        timeout=2.5,
        stop="END",
        seed=-1,
        reasoning_budget=-1,
        max_retries=None,
        tags=["a"],
        metadata={"k": 1},
    )
    assert model.temperature == 0 and model.stop == ["END"] and model.max_retries == 2
    assert model.invoke("q", temperature=1.5, stop=["x"]).text == "ok"


def test_per_call_and_bound_values_are_checked_too() -> None:
    model = FakeChatModel(["never"])
    with pytest.raises(InvalidParameterError) as exc:
        model.invoke("q", temperature="hot")
    assert (
        str(exc.value)
        == "FakeChatModel.invoke: temperature='hot' must be a number from 0 to 2, got str."
    )
    with pytest.raises(
        InvalidParameterError, match=r"FakeChatModel.bind: max_tokens=-5 must be an int >= 1\."
    ):
        model.bind(max_tokens=-5)
    assert model.calls == []


async def test_async_calls_check_values_the_same_way() -> None:
    model = FakeChatModel(["never"])
    with pytest.raises(InvalidParameterError, match=r"FakeChatModel\.invoke: top_p=2 must be"):
        await model.ainvoke("q", top_p=2)
    with pytest.raises(InvalidParameterError, match=r"FakeChatModel\.invoke: top_p=2 must be"):
        async for _ in model.astream("q", top_p=2):
            pass
