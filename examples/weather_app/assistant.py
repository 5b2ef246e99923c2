"""The assistant: a tool loop, then a structured answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from myna import init_chat_model, tool
from myna.messages import BaseMessage, HumanMessage, SystemMessage

MODEL = "openai:gpt-4.1-mini"
SYSTEM = "You plan short trips. Check the weather, book a table if asked, then advise."

_FAKE_WEATHER = {"paris": 21, "oslo": 4, "lisbon": 26}


@tool
def get_weather(city: str) -> dict[str, Any]:
    """Current weather for a city.

    Args:
        city: the city name, e.g. "Paris"
    """
    temperature = _FAKE_WEATHER.get(city.lower(), 15)
    return {
        "city": city,
        "temperature_c": temperature,
        "sky": "clear" if temperature > 10 else "snow",
    }


@tool
def book_table(restaurant: str, people: int, time: str) -> str:
    """Book a restaurant table.

    Args:
        restaurant: the restaurant name
        people: how many guests
        time: the time, like "19:30"
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    return f"Booked {restaurant} for {people} at {time}."


class TripAdvice(BaseModel):
    """What the assistant recommends."""

    city: str
    temperature_c: int
    advice: str = Field(description="one sentence of advice")
    booked: bool = False


def _model(model: Any | None) -> Any:
    return model if model is not None else init_chat_model(MODEL, temperature=0)


def plan_trip(question: str, model: Any | None = None, max_steps: int = 4) -> TripAdvice:
    """Answer a trip question: call tools until the model stops, then return structured advice."""
    llm = _model(model)
    tools = [get_weather, book_table]
    by_name = {t.name: t for t in tools}
    messages: list[BaseMessage] = [SystemMessage(SYSTEM), HumanMessage(question)]
    agent = llm.bind_tools(tools)
    for _ in range(max_steps):
        reply = agent.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(by_name[call["name"]].run(call))
    return llm.with_structured_output(TripAdvice).invoke(messages)


async def aplan_trip(question: str, model: Any | None = None, max_steps: int = 4) -> TripAdvice:
    """Async `plan_trip`."""
    llm = _model(model)
    tools = [get_weather, book_table]
    by_name = {t.name: t for t in tools}
    messages: list[BaseMessage] = [SystemMessage(SYSTEM), HumanMessage(question)]
    agent = llm.bind_tools(tools)
    for _ in range(max_steps):
        reply = await agent.ainvoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(await by_name[call["name"]].arun(call))
    return await llm.with_structured_output(TripAdvice).ainvoke(messages)
