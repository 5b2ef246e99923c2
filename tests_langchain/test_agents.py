"""myna fakes drive LangChain's and LangGraph's agents, and myna's assertions check the run."""

from __future__ import annotations

import warnings

import pytest
from langchain.agents import create_agent
from langchain_core.tools import tool
from langgraph.prebuilt import create_react_agent

from myna.fakes import FakeChatModel, tool_call
from myna.interop.langchain import messages_from_langchain, to_langchain
from myna.messages import ToolMessage
from myna.testing import assert_tool_call, assert_tool_calls, record_calls


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}."


@tool
def get_time(city: str) -> str:
    """The local time in a city."""
    return f"Noon in {city}."


def script() -> FakeChatModel:
    return FakeChatModel(
        [
            tool_call("get_weather", city="Paris"),
            [tool_call("get_time", city="Paris"), tool_call("get_weather", city="Oslo")],
            "Sunny in Paris at noon; Oslo is sunny too.",
        ]
    )


def check_run(fake: FakeChatModel, result: dict, calls: list) -> None:
    messages = messages_from_langchain(result["messages"])
    assert messages[-1].text == "Sunny in Paris at noon; Oslo is sunny too."
    assert len(calls) == 3 and fake.remaining == 0
    assert_tool_call(calls[0], "get_weather", {"city": "Paris"})
    assert_tool_calls(calls[1], [("get_time", {"city": "Paris"}), "get_weather"])
    # every call offered both tools, and the tools' results came back to the model
    assert {t["name"] for t in calls[0].tools} == {"get_weather", "get_time"}
    results = [m.text for m in calls[2].messages if isinstance(m, ToolMessage)]
    assert results == ["Sunny in Paris.", "Noon in Paris.", "Sunny in Oslo."]
    assert_tool_calls(messages, ["get_weather", "get_time", "get_weather"])


def react_agent(llm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LangGraph 1.x points to langchain.agents instead
        return create_react_agent(llm, [get_weather, get_time])


AGENTS = {
    "langchain.create_agent": lambda llm: create_agent(llm, tools=[get_weather, get_time]),
    "langgraph.create_react_agent": react_agent,
}


@pytest.mark.parametrize("make", AGENTS.values(), ids=AGENTS.keys())
def test_agent_runs_a_multi_step_tool_loop_on_a_scripted_fake(make) -> None:
    fake = script()
    with record_calls() as calls:
        result = make(to_langchain(fake)).invoke({"messages": [("user", "Weather in Paris?")]})
    check_run(fake, result, calls)


@pytest.mark.parametrize("make", AGENTS.values(), ids=AGENTS.keys())
async def test_agent_runs_async_and_streamed(make) -> None:
    fake = script()
    agent = make(to_langchain(fake))
    with record_calls() as calls:
        updates = [
            u
            async for u in agent.astream(
                {"messages": [("user", "Weather in Paris?")]}, stream_mode="values"
            )
        ]
    check_run(fake, updates[-1], calls)
