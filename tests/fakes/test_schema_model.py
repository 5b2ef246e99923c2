"""`SchemaChatModel`: tool turns, text turns quoting results, structured output, determinism."""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from myna.fakes import SchemaChatModel
from myna.messages import AIMessage, HumanMessage, ToolMessage, merge_chunks
from myna.tools import run_tool_calls, tool


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather in a city."""
    return f"22 {unit} in {city}"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Trip(BaseModel):
    """A planned trip."""

    city: str
    days: int = Field(ge=1, le=14)
    budget: float = Field(gt=0)
    tags: list[str] = Field(min_length=1)


def test_tool_turn_then_text_turn_quoting_results() -> None:
    model = SchemaChatModel(seed=1).bind_tools([get_weather, add])
    first = model.invoke("weather and sums?")
    assert [c["name"] for c in first.tool_calls] == ["get_weather", "add"]
    assert [c["id"] for c in first.tool_calls] == ["call_0_0", "call_0_1"]
    get_weather.validate_args(first.tool_calls[0]["args"])  # schema-valid arguments
    add.validate_args(first.tool_calls[1]["args"])
    results = run_tool_calls(first, [get_weather, add])
    second = model.invoke([HumanMessage("weather and sums?"), first, *results])
    assert second.tool_calls == []
    for result in results:
        assert f"{result.name} returned {result.text}" in second.text
    assert second.text.startswith("Here is what I found: ")


async def test_tool_turn_then_text_turn_async() -> None:
    model = SchemaChatModel().bind_tools([add])
    first = await model.ainvoke("sum?")
    assert first.tool_calls[0]["name"] == "add"
    results = run_tool_calls(first, [add])
    chunks = [c async for c in model.astream(["sum?", first, *results])]
    text = merge_chunks(chunks).text
    assert f"add returned {results[0].text}" in text


def test_tool_results_without_names_are_quoted_by_call_id() -> None:
    reply = SchemaChatModel().invoke(["q", ToolMessage("42", tool_call_id="call_9")])
    assert reply.text == "Here is what I found: call_9 returned 42."


def test_forced_tool_choice_calls_only_that_tool() -> None:
    model = SchemaChatModel().bind_tools([get_weather, add], tool_choice="add")
    assert [c["name"] for c in model.invoke("q").tool_calls] == ["add"]


def test_tool_choice_none_answers_with_text() -> None:
    reply = SchemaChatModel().bind_tools([add], tool_choice="none").invoke("what is 1+1?")
    assert reply.tool_calls == []
    assert reply.text == "SchemaChatModel(seed=0) answers: what is 1+1?"


def test_without_tools_it_answers_with_text() -> None:
    long_question = "x" * 100
    assert SchemaChatModel(seed=4).invoke(long_question).text == (
        f"SchemaChatModel(seed=4) answers: {'x' * 57}..."
    )


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_structured_output_is_schema_valid(method: str) -> None:
    trip = SchemaChatModel(seed=2).with_structured_output(Trip, method=method).invoke("plan")
    assert isinstance(trip, Trip)
    assert 1 <= trip.days <= 14
    assert trip.budget > 0
    assert trip.tags


async def test_structured_output_async_and_streamed() -> None:
    runnable = SchemaChatModel(seed=2).with_structured_output(Trip)
    invoked = await runnable.ainvoke("plan")
    parts = [p async for p in runnable.astream("plan")]
    assert parts[-1] == invoked
    assert all(isinstance(p, dict) for p in parts[:-1])


def test_structured_output_with_a_json_schema_dict() -> None:
    schema = {
        "title": "Contact",
        "type": "object",
        "properties": {
            "email": {"type": "string", "format": "email"},
            "when": {"type": "string", "format": "date-time"},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "kind": {"enum": ["a", "b"]},
        },
        "required": ["email", "when", "score", "kind"],
        "additionalProperties": False,
    }
    value = SchemaChatModel().with_structured_output(schema).invoke("q")
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        value
    )


def test_same_seed_same_values_other_seed_other_values() -> None:
    def args(seed: int) -> list[dict[str, Any]]:
        model = SchemaChatModel(seed=seed).bind_tools([get_weather, add])
        return [c["args"] for c in model.invoke("q").tool_calls]

    assert args(0) == args(0)
    assert any(args(0) != args(s) for s in (1, 2, 3))


def test_stream_equals_invoke() -> None:
    invoked = SchemaChatModel(chunking="chars").bind_tools([get_weather]).invoke("q")
    streamed = merge_chunks(
        list(SchemaChatModel(chunking="chars").bind_tools([get_weather]).stream("q"))
    ).to_message()
    assert streamed.tool_calls == invoked.tool_calls
    assert streamed.usage_metadata == invoked.usage_metadata


def test_calls_are_recorded() -> None:
    model = SchemaChatModel()
    model.bind_tools([add]).invoke("q")
    assert len(model.calls) == 1
    assert isinstance(model.calls[0].reply, AIMessage)
    assert model.calls[0].tools[0]["name"] == "add"


def test_repr() -> None:
    assert repr(SchemaChatModel(seed=7)) == "SchemaChatModel(seed=7)"
