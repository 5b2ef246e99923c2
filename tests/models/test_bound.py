"""`bind` and `bind_tools`: tool specs, tool_choice, and the bound model's calling surface."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from myna.exceptions import UserError
from myna.fakes import FakeChatModel, tool_call
from myna.messages import AIMessage
from myna.models import BoundChatModel, ChatModel, ChatRequest
from myna.tools import tool


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """Current weather in a city.

    Args:
        city: City name.
        unit: celsius or fahrenheit.
    """
    return f"22 {unit} in {city}"


class Search(BaseModel):
    """Search the web."""

    query: str = Field(description="what to look for")


class Lookup(TypedDict):
    """Look a word up."""

    word: str


OPENAI_TOOL = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two numbers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}


class Recording(ChatModel):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests: list[ChatRequest] = []

    def _generate(self, request: ChatRequest) -> AIMessage:
        self.requests.append(request)
        return AIMessage("ok")


def test_bind_tools_sends_specs_for_every_tool_form() -> None:
    model = Recording()
    bound = model.bind_tools([get_weather, Search, Lookup, OPENAI_TOOL])
    assert isinstance(bound, BoundChatModel)
    bound.invoke("hi")
    tools = model.requests[-1].tools
    assert [t["name"] for t in tools] == ["get_weather", "Search", "Lookup", "add"]
    assert tools[0]["description"] == "Current weather in a city."
    assert tools[0]["parameters"]["required"] == ["city"]
    assert tools[1]["parameters"]["properties"]["query"]["description"] == "what to look for"
    assert model.requests[-1].params["tools"] == tools
    assert bound.tools == [get_weather, Search, Lookup, OPENAI_TOOL]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (None, None),
        (False, None),
        ("auto", "auto"),
        ("none", "none"),
        ("any", "any"),
        ("required", "any"),
        (True, "any"),
        ("get_weather", "get_weather"),
        (
            {"type": "function", "function": {"name": "x"}},
            {"type": "function", "function": {"name": "x"}},
        ),
    ],
)
def test_tool_choice_is_normalised(given: Any, sent: Any) -> None:
    model = Recording()
    model.bind_tools([get_weather], tool_choice=given).invoke("hi")
    assert model.requests[-1].tool_choice == sent
    assert ("tool_choice" in model.requests[-1].params) == (sent is not None)


def test_tool_choice_naming_an_unbound_tool_is_an_error() -> None:
    with pytest.raises(UserError) as exc:
        Recording().bind_tools([get_weather], tool_choice="get_wether")
    assert str(exc.value) == (
        "tool_choice='get_wether' names no bound tool. Did you mean 'get_weather'? Bound tools: "
        "['get_weather']. Use 'auto', 'any', 'none', or one of the tool names."
    )


def test_tool_choice_of_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(UserError, match="tool_choice=3 is not understood"):
        Recording().bind_tools([get_weather], tool_choice=3)


def test_duplicate_tool_names_are_an_error() -> None:
    with pytest.raises(UserError) as exc:
        Recording().bind_tools([get_weather, get_weather, Search])
    assert str(exc.value) == (
        "Two bound tools share the name(s) ['get_weather']; tool names must be unique."
    )


def test_a_single_tool_must_be_wrapped_in_a_list() -> None:
    with pytest.raises(UserError) as exc:
        Recording().bind_tools(get_weather)
    assert "bind_tools takes a list of tools, got Tool" in str(exc.value)
    assert "bind_tools([get_weather])" in str(exc.value)


def test_a_model_without_tool_calling_refuses_tools() -> None:
    model = Recording(model="tiny", profile={"tool_calling": False})
    with pytest.raises(UserError) as exc:
        model.bind_tools([get_weather])
    assert "Recording (model='tiny') does not support tool calling" in str(exc.value)


def test_parallel_tool_calls_and_strict() -> None:
    model = Recording()
    model.bind_tools([get_weather], parallel_tool_calls=False, strict=True).invoke("hi")
    params = model.requests[-1].params
    assert params["parallel_tool_calls"] is False
    assert params["tools"][0]["strict"] is True
    assert params["tools"][0]["parameters"]["additionalProperties"] is False


def test_per_call_keywords_override_bound_ones() -> None:
    model = Recording()
    bound = model.bind_tools([get_weather], tool_choice="auto")
    bound.invoke("hi", tool_choice="none", temperature=0.2)
    assert model.requests[-1].params["tool_choice"] == "none"
    assert model.requests[-1].params["temperature"] == 0.2


def test_bind_tools_on_a_bound_model_replaces_the_tools_and_keeps_other_params() -> None:
    model = Recording()
    bound = model.bind(temperature=0.7).bind_tools([get_weather]).bind_tools([Search])
    bound.invoke("hi")
    params = model.requests[-1].params
    assert [t["name"] for t in params["tools"]] == ["Search"]
    assert params["temperature"] == 0.7
    assert bound.tools == [Search]


def test_bind_checks_parameters_when_bound() -> None:
    with pytest.raises(
        UserError,
        match=r"Recording.bind got an unknown parameter temprature=\. Did you mean 'temperature'",
    ):
        Recording().bind(temprature=1)


def test_bind_then_bind_merges() -> None:
    model = Recording()
    model.bind(temperature=0.1).bind(max_tokens=9).invoke("hi")
    assert model.requests[-1].params == {"temperature": 0.1, "max_tokens": 9}


def test_bound_model_profile_and_repr() -> None:
    model = Recording(profile={"tool_calling": True})
    bound = model.bind_tools([get_weather])
    assert bound.profile == {"tool_calling": True}
    assert repr(bound).startswith("BoundChatModel(Recording(model=None), params=['tools'])")


# -- the whole surface, sync and async -------------------------------------------------------------


def fake_with_tools() -> tuple[FakeChatModel, BoundChatModel]:
    model = FakeChatModel([tool_call("get_weather", city="Paris")], cycle=True, chunking="chars")
    return model, model.bind_tools([get_weather], tool_choice="any")


EXPECTED_CALL = {"name": "get_weather", "args": {"city": "Paris"}, "type": "tool_call"}


def strip_id(call: dict) -> dict:
    return {k: v for k, v in call.items() if k != "id"}


def test_bound_invoke_stream_batch() -> None:
    model, bound = fake_with_tools()
    assert [strip_id(c) for c in bound.invoke("a").tool_calls] == [EXPECTED_CALL]
    merged = sum(bound.stream("b"))
    assert [strip_id(c) for c in merged.tool_calls] == [EXPECTED_CALL]
    results = bound.batch(["c", "d"])
    assert all(strip_id(r.tool_calls[0]) == EXPECTED_CALL for r in results)
    assert [c.tool_choice for c in model.calls] == ["any"] * 4
    assert all(c.tools[0]["name"] == "get_weather" for c in model.calls)


async def test_bound_ainvoke_astream_abatch() -> None:
    model, bound = fake_with_tools()
    assert [strip_id(c) for c in (await bound.ainvoke("a")).tool_calls] == [EXPECTED_CALL]
    merged = sum([c async for c in bound.astream("b")])
    assert [strip_id(c) for c in merged.tool_calls] == [EXPECTED_CALL]
    results = await bound.abatch(["c", "d"])
    assert all(strip_id(r.tool_calls[0]) == EXPECTED_CALL for r in results)
    assert len(model.calls) == 4
