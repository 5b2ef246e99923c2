"""The real provider code path (HTTP, wire format, SDK-shaped responses), offline: the
`emulator` fixture answers on the wire and checks every scripted reply was used."""

from __future__ import annotations

from weather_app import aplan_trip, plan_trip

from myna import init_chat_model
from myna.fakes import tool_call
from myna.testing import assert_tool_call

LISBON = [
    tool_call("get_weather", city="Lisbon"),
    "Warm.",
    {"city": "Lisbon", "temperature_c": 26, "advice": "Go to the beach.", "booked": False},
]


def test_openai_code_path(emulator, model_calls) -> None:
    server = emulator("openai", script=LISBON)
    model = init_chat_model("openai:gpt-4.1-mini", api_key="test-key")
    advice = plan_trip("Lisbon?", model=model)
    assert advice.city == "Lisbon"
    assert server.requests[0].params["tools"][0]["name"] == "get_weather"
    assert server.requests[2].params["response_format"]["name"] == "TripAdvice"
    assert_tool_call(model_calls[0].output, "get_weather", {"city": "Lisbon"})


async def test_anthropic_code_path_async(emulator) -> None:
    server = emulator("anthropic", script=LISBON)
    model = init_chat_model("anthropic:claude-haiku-4-5", api_key="test-key", max_tokens=512)
    advice = await aplan_trip("Lisbon?", model=model)
    assert advice.temperature_c == 26
    assert server.calls.last.params["model"] == "claude-haiku-4-5"
