"""An emulator takes a YAML script's path as FakeChatModel does (``to-script`` writes one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from myna import init_chat_model
from myna.emulators import emulate, serve
from myna.exceptions import UserError
from myna.tools import tool

SCRIPT = Path(__file__).parents[2] / "fixtures" / "scripts" / "weather_agent.yaml"


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


@pytest.mark.parametrize("path", [SCRIPT, str(SCRIPT)], ids=["Path", "str"])
async def test_emulate_reads_a_script_file(path) -> None:
    with emulate("anthropic", script=path) as server:
        model = init_chat_model("anthropic:claude-haiku-4-5", api_key="k").bind_tools([get_weather])
        first = model.invoke("Weather in Paris?")
        second = await model.ainvoke("And now?")
    assert first.tool_calls[0]["name"] == "get_weather"
    assert first.tool_calls[0]["args"] == {"city": "Paris"}
    assert second.text == "It is sunny in Paris, 22 degrees."
    assert len(server.requests) == 2


def test_serve_reads_a_script_file() -> None:
    with serve("openai", script=str(SCRIPT)) as server:
        model = init_chat_model(
            "openai:gpt-4.1-mini", base_url=server.base_url + "/v1", api_key="k"
        ).bind_tools([get_weather])
        assert model.invoke("Weather?").tool_calls[0]["args"] == {"city": "Paris"}
        assert model.invoke("And?").text == "It is sunny in Paris, 22 degrees."


def test_a_missing_script_file_is_named() -> None:
    with pytest.raises(UserError, match=r"Script file .nope\.yaml. does not exist"):
        emulate("openai", script="nope.yaml")
