"""A deterministic stand-in for the planner LLM, for the eval suite: it reads the city from
the question, calls get_weather, then advises from the temperature the tool returned."""

from __future__ import annotations

import json
import re
from typing import Any

from myna.fakes import FunctionChatModel, tool_call
from myna.messages import ToolMessage


def _plan(messages: list[Any], info: Any) -> Any:
    question = next(m.text for m in messages if m.type == "human")
    city = re.findall(r"\b[A-Z][a-z]+\b", question)[-1]
    weather = [json.loads(m.text) for m in messages if isinstance(m, ToolMessage)]
    if not weather:
        return tool_call("get_weather", city=city)
    temperature = weather[-1]["temperature_c"]
    if info.structured is None:
        return f"It is {temperature}C in {city}."
    advice = "Bring sunglasses." if temperature > 18 else "Pack a warm coat."
    return {"city": city, "temperature_c": temperature, "advice": advice}


def planner() -> FunctionChatModel:
    """A fresh planner model (each eval run gets its own call log)."""
    return FunctionChatModel(_plan)


def answer(question: str) -> Any:
    """The app with the planner stand-in: ``myna eval run trips.yaml --target planner:answer``."""
    from weather_app import plan_trip

    return plan_trip(question, model=planner())
