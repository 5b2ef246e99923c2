"""The app's fast tests: scripted fakes drive it, myna's assertions check it.

No conftest is needed: the myna pytest plugin provides the fixtures (`fake_model`,
`schema_model`, `model_calls`, `override_models`) and the markers.
"""

from __future__ import annotations

import pytest
from weather_app import TripAdvice, aplan_trip, get_weather, plan_trip

from myna.fakes import tool_call
from myna.messages import ToolMessage
from myna.testing import (
    assert_astream,
    assert_no_tool_calls,
    assert_stream,
    assert_structured_output,
    assert_tool_call,
    assert_tool_calls,
    assert_usage,
)

ADVICE = {"city": "Paris", "temperature_c": 21, "advice": "Bring sunglasses.", "booked": False}
PARIS = [tool_call("get_weather", city="Paris"), "Sunny and 21C.", ADVICE]


@pytest.mark.myna_script(PARIS)
def test_plan_trip_calls_weather_then_answers(fake_model, model_calls) -> None:
    advice = plan_trip("Weekend in Paris?", model=fake_model)

    assert_structured_output(advice, TripAdvice)
    assert advice == TripAdvice(**ADVICE)
    assert_tool_calls(model_calls[0].output, [("get_weather", {"city": "Paris"})])
    assert_no_tool_calls(model_calls[1].output)
    # the tool's result went back to the model as a ToolMessage
    assert model_calls[1].messages[-1] == ToolMessage(
        '{"city": "Paris", "temperature_c": 21, "sky": "clear"}',
        name="get_weather",
        tool_call_id="call_0_0",
        artifact={"city": "Paris", "temperature_c": 21, "sky": "clear"},
    )
    assert model_calls.last.schema["title"] == "TripAdvice"
    assert_usage(model_calls, max_input=2_000, max_output=200)


@pytest.mark.myna_script(
    [tool_call("get_weather", city="Oslo"), "Cold.", {**ADVICE, "city": "Oslo", "temperature_c": 4}]
)
async def test_plan_trip_async(fake_model, model_calls) -> None:
    advice = await aplan_trip("Oslo?", model=fake_model)
    assert advice.temperature_c == 4
    assert_tool_call(model_calls[0].output, "get_weather", {"city": "Oslo"})


@pytest.mark.myna_script(PARIS)
def test_app_that_builds_its_own_model(override_models, model_calls) -> None:
    override_models()  # plan_trip's init_chat_model("openai:gpt-4.1-mini") returns fake_model
    advice = plan_trip("Weekend in Paris?")
    assert advice.city == "Paris"
    assert [call.provider for call in model_calls] == ["fake", "fake", "fake"]


def test_schema_model_exercises_every_tool(schema_model, model_calls) -> None:
    advice = plan_trip("Anything", model=schema_model)
    assert_structured_output(advice, TripAdvice)
    assert_tool_calls(model_calls[0].output, ["book_table", "get_weather"], ordered=False)


def test_bad_booking_becomes_an_error_tool_message(fake_model) -> None:
    model = fake_model(
        [tool_call("book_table", restaurant="Chez Nous", people=0, time="19:30"), "Sorry.", ADVICE]
    )
    plan_trip("Book for nobody", model=model)
    result = model.calls[1].messages[-1]
    assert result.status == "error" and "people must be at least 1" in result.text


def test_streamed_tool_call_adds_up(fake_model) -> None:
    model = fake_model([tool_call("get_weather", city="Lisbon")] * 2).bind_tools([get_weather])
    final = model.invoke("Lisbon?")
    summary = assert_stream(model.stream("Lisbon?"), final=final)
    assert summary.tool_calls[0]["args"] == {"city": "Lisbon"}
    assert summary.finish_reason == "tool_calls" and summary.usage["output_tokens"] > 0


async def test_streamed_text_async(fake_model) -> None:
    model = fake_model(["It is sunny in Paris today."])
    summary = await assert_astream(model.astream("Paris?"))
    assert summary.text == "It is sunny in Paris today." and summary.chunks > 2


@pytest.mark.parametrize("city", ["Paris", "Oslo"])
def test_weather_tool_directly(city: str) -> None:
    assert get_weather.invoke({"city": city})["city"] == city
