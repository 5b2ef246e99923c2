"""Tests that replay cassettes: the provider's real code path, answered from YAML files in
``tests/cassettes/``. The cassettes were recorded offline against myna's emulator:

    python -m pytest examples -p no:cacheprovider --myna-record-mode=all

`chat_model` is faked, replayed or live by option, so one body covers all three:
``--myna-live --myna-record-mode=all`` (with a real key) records real traffic instead.
"""

from __future__ import annotations

import pytest
from weather_app import TripAdvice, aplan_trip, plan_trip

from myna.fakes import tool_call
from myna.testing import assert_structured_output, assert_tool_call, assert_usage

PARIS = [
    tool_call("get_weather", city="Paris"),
    "Sunny and 21C.",
    {"city": "Paris", "temperature_c": 21, "advice": "Bring sunglasses.", "booked": False},
]
BOOKING = [
    [
        tool_call("get_weather", city="Oslo"),
        tool_call("book_table", restaurant="Maaemo", people=2, time="19:30"),
    ],
    "Booked, and it is cold.",
    {"city": "Oslo", "temperature_c": 4, "advice": "Wear a coat.", "booked": True},
]


@pytest.mark.myna_cassette
@pytest.mark.myna_model("openai:gpt-4.1-mini", temperature=0)
@pytest.mark.myna_script(PARIS)
def test_plan_trip_end_to_end(chat_model, model_calls) -> None:
    advice = plan_trip("Weekend in Paris?", model=chat_model)
    assert_structured_output(advice, TripAdvice)
    assert_tool_call(model_calls[0].output, "get_weather", {"city": "Paris"}, partial=True)
    assert_usage(model_calls, max_total=5_000)


@pytest.mark.myna_cassette
@pytest.mark.myna_model("anthropic:claude-haiku-4-5", max_tokens=1024)
@pytest.mark.myna_script(BOOKING)
async def test_parallel_tools_async(chat_model, model_calls) -> None:
    advice = await aplan_trip("Oslo, and book Maaemo for two at 19:30", model=chat_model)
    assert_structured_output(advice, TripAdvice)
    assert_tool_call(model_calls[0].output, "book_table", {"people": 2}, partial=True)
    assert advice.booked


@pytest.mark.myna_model("openai:gpt-4.1-mini")
@pytest.mark.myna_script(PARIS)
def test_same_body_without_a_cassette_is_faked(chat_model) -> None:
    advice = plan_trip("Weekend in Paris?", model=chat_model)
    assert advice.city == "Paris"


def test_app_default_model_replayed(cassette, emulator, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")  # replays need no real key
    if not cassette.interactions:  # recording: the emulator plays OpenAI
        emulator("openai", script=PARIS)
    advice = plan_trip("Weekend in Paris?")  # init_chat_model("openai:gpt-4.1-mini") inside
    assert advice.city == "Paris"
