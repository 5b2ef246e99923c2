"""The app's tests: offline, deterministic, with myna's fakes and emulators."""

from __future__ import annotations

import pytest
from weather_app import TripAdvice, aplan_trip, plan_trip

from myna.emulators import emulate
from myna.fakes import FakeChatModel, SchemaChatModel, tool_call

ADVICE = {"city": "Paris", "temperature_c": 21, "advice": "Bring sunglasses.", "booked": False}


def test_plan_trip_calls_weather_then_answers() -> None:
    model = FakeChatModel([tool_call("get_weather", city="Paris"), "Done.", ADVICE])
    advice = plan_trip("Weekend in Paris?", model=model)
    assert advice == TripAdvice(**ADVICE)
    tool_result = model.calls[1].messages[-1]
    assert tool_result.type == "tool" and '"temperature_c": 21' in tool_result.text


async def test_plan_trip_async() -> None:
    model = FakeChatModel(
        [
            tool_call("get_weather", city="Oslo"),
            "Cold.",
            {**ADVICE, "city": "Oslo", "temperature_c": 4},
        ]
    )
    advice = await aplan_trip("Oslo?", model=model)
    assert advice.temperature_c == 4


def test_schema_model_exercises_every_tool() -> None:
    model = SchemaChatModel(seed=1)
    advice = plan_trip("Anything", model=model)
    assert isinstance(advice, TripAdvice)
    assert {t["name"] for t in model.calls[0].tools} == {"get_weather", "book_table"}


def test_real_provider_code_path_against_the_emulator() -> None:
    script = [
        tool_call("get_weather", city="Lisbon"),
        "Warm.",
        {**ADVICE, "city": "Lisbon", "temperature_c": 26},
    ]
    with emulate("openai", script=script) as server:
        from myna import init_chat_model

        model = init_chat_model("openai:gpt-4.1-mini", api_key="test-key")
        advice = plan_trip("Lisbon?", model=model)
    assert advice.city == "Lisbon"
    assert server.requests[0].params["tools"][0]["name"] == "get_weather"
    assert server.requests[2].params["response_format"]["name"] == "TripAdvice"


def test_bad_booking_becomes_an_error_tool_message() -> None:
    model = FakeChatModel(
        [tool_call("book_table", restaurant="Chez Nous", people=0, time="19:30"), "Sorry.", ADVICE]
    )
    plan_trip("Book for nobody", model=model)
    result = model.calls[1].messages[-1]
    assert result.status == "error" and "people must be at least 1" in result.text


@pytest.mark.parametrize("city", ["Paris", "Oslo"])
def test_weather_tool_directly(city: str) -> None:
    assert get_weather_result(city)["city"] == city


def get_weather_result(city: str) -> dict:
    from weather_app import get_weather

    return get_weather.invoke({"city": city})
