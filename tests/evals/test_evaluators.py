"""Built-in evaluators: pass, fail and error paths, run through `evaluate` as users do."""

from __future__ import annotations

from typing import TypedDict

import pytest
from pydantic import BaseModel

from myna.evals import Case, Dataset, evaluate
from myna.evals import evaluators as ev
from myna.exceptions import UserError
from myna.fakes import FakeChatModel, tool_call
from myna.messages import AIMessage
from myna.tools import tool


def run_one(output, evaluator, expected=None, inputs="in"):
    """The single result of `evaluator` on a target that returns `output`."""
    report = evaluate(
        lambda _: output, Dataset([Case("c", inputs, expected=expected)]), evaluators=[evaluator]
    )
    results = report.cases[0].runs[0].results
    assert len(results) == 1
    return results[0]


def test_equals():
    assert run_one("HI", ev.equals(), expected="HI").passed
    assert run_one(" hi\n", ev.equals("HI", ignore_case=True)).passed
    failed = run_one("HO", ev.equals("HI"))
    assert failed.passed is False and failed.reason == "expected 'HI', got 'HO'"
    assert run_one(
        AIMessage("Paris"), ev.equals(), expected="Paris"
    ).passed  # a message by its text
    missing = run_one("x", ev.equals())
    assert missing.status == "error" and "has no expected value" in missing.error


def test_contains():
    assert run_one("Sunny in Paris", ev.contains("Sunny")).passed
    assert run_one("sunny", ev.contains("SUNNY", ignore_case=True)).passed
    assert run_one("sunny and warm", ev.contains(["sunny", "warm"])).passed
    result = run_one("sunny", ev.contains(["sunny", "warm"]))
    assert result.passed is False and "missing ['warm']" in result.reason
    assert run_one("warm", ev.contains(["sunny", "warm"], mode="any")).passed
    assert run_one("it rains", ev.contains(), expected="rain").passed
    with pytest.raises(UserError, match="use 'all' or 'any'"):
        ev.contains("x", mode="some")


def test_regex():
    assert run_one("Order #1234 shipped", ev.regex(r"#\d{4}")).passed
    assert run_one("ORDER", ev.regex("order", ignore_case=True)).passed
    result = run_one("no number", ev.regex(r"\d+"))
    assert result.passed is False and "no match" in result.reason
    with pytest.raises(UserError, match="not a valid pattern"):
        ev.regex("(")


def test_is_json():
    assert run_one('{"a": 1}', ev.is_json()).passed
    assert run_one('```json\n{"a": 1}\n```', ev.is_json()).passed
    assert run_one({"a": 1}, ev.is_json()).passed
    result = run_one("{a: 1}", ev.is_json())
    assert result.passed is False and result.reason.startswith("not JSON")


class Weather(BaseModel):
    city: str
    degrees: float


class WeatherDict(TypedDict):
    city: str
    degrees: float


@pytest.mark.parametrize(
    "schema",
    [
        Weather,
        WeatherDict,
        {
            "type": "object",
            "properties": {"city": {"type": "string"}, "degrees": {"type": "number"}},
            "required": ["city", "degrees"],
        },
    ],
    ids=["pydantic", "typeddict", "json_schema"],
)
def test_matches_schema(schema):
    assert run_one('{"city": "Paris", "degrees": 21.5}', ev.matches_schema(schema)).passed
    assert run_one(AIMessage('{"city": "Oslo", "degrees": 3}'), ev.matches_schema(schema)).passed
    result = run_one('{"city": "Paris", "degrees": "warm"}', ev.matches_schema(schema))
    assert result.passed is False and "degrees" in result.reason


def test_close_to():
    assert run_one(3.14159, ev.close_to(3.1416, abs_tol=1e-3)).passed
    assert run_one("100.5", ev.close_to(100, rel_tol=0.01)).passed
    result = run_one(3.0, ev.close_to(3.5))
    assert result.passed is False and "away from 3.5" in result.reason
    assert run_one("three", ev.close_to(3)).passed is False
    assert run_one(2.0, ev.close_to(), expected=2).passed


@tool
def get_weather(city: str, unit: str = "C") -> str:
    """Current weather.

    Args:
        city: the city
        unit: C or F
    """
    return f"Sunny in {city}"


@tool
def get_time(city: str) -> str:
    """Local time.

    Args:
        city: the city
    """
    return "noon"


def agent_target(script):
    """An app that runs a tool loop over a scripted fake, as real agents do."""
    model = FakeChatModel(script)
    bound = model.bind_tools([get_weather, get_time])
    tools = {"get_weather": get_weather, "get_time": get_time}

    def run(question):
        messages = [question]
        while True:
            reply = bound.invoke(messages)
            messages.append(reply)
            if not reply.tool_calls:
                return reply
            messages.extend(tools[call["name"]].run(call) for call in reply.tool_calls)

    return run


def run_agent(script, evaluator):
    report = evaluate(
        agent_target(script), Dataset([Case("a", "Weather?")]), evaluators=[evaluator]
    )
    return report.cases[0].runs[0].results[0]


def test_tool_called_over_every_model_call():
    script = [
        tool_call("get_weather", city="Paris", unit="C"),
        tool_call("get_time", city="Paris"),
        "Sunny, noon.",
    ]
    assert run_agent(script, ev.tool_called("get_time")).passed
    assert run_agent(script, ev.tool_called("get_weather", {"city": "Paris"})).passed
    exact = run_agent(script, ev.tool_called("get_weather", {"city": "Paris"}, match="exact"))
    assert exact.passed is False and "not with exact args" in exact.reason
    absent = run_agent(["No tools needed."], ev.tool_called("get_weather"))
    assert (
        absent.passed is False
        and "get_weather was not called; calls: no tool calls" in absent.reason
    )


def test_tool_called_on_a_returned_message_without_calls_seen():
    message = AIMessage(
        "", tool_calls=[{"name": "lookup", "args": {"q": "x"}, "id": "1", "type": "tool_call"}]
    )
    assert run_one(message, ev.tool_called("lookup", {"q": "x"})).passed


def test_no_tool_calls():
    assert run_agent(["Just text."], ev.no_tool_calls()).passed
    result = run_agent([tool_call("get_time", city="Oslo"), "noon"], ev.no_tool_calls())
    assert result.passed is False and "get_time" in result.reason


@pytest.mark.parametrize(
    ("names", "mode", "passed"),
    [
        (["get_weather", "get_time"], "exact", True),
        (["get_time", "get_weather"], "exact", False),
        (["get_weather"], "exact", False),
        (["get_weather"], "in_order", True),
        (["get_time", "get_weather"], "in_order", False),
        (["get_time", "get_weather"], "any_order", True),
        (["get_time", "get_time"], "any_order", False),
    ],
)
def test_trajectory(names, mode, passed):
    script = [tool_call("get_weather", city="Paris"), tool_call("get_time", city="Paris"), "done"]
    result = run_agent(script, ev.trajectory(names, mode=mode))
    assert result.passed is passed
    if not passed:
        assert "got ['get_weather', 'get_time']" in result.reason


def test_budgets():
    model = FakeChatModel(["A fairly long answer about the weather in Paris today."])
    dataset = Dataset([Case("a", "Weather?")])
    report = evaluate(
        model,
        dataset,
        evaluators=[
            ev.max_tokens(1000),
            ev.max_tokens(3, which="output"),
            ev.max_cost(0.01),
            ev.max_latency(60),
        ],
    )
    by_name = {r.name: r for r in report.cases[0].runs[0].results}
    assert by_name["max_tokens(1000)"].passed
    assert by_name["max_output_tokens(3)"].passed is False
    assert by_name["max_cost($0.01)"].passed  # fakes cost $0
    assert by_name["max_latency(60s)"].passed
    assert run_one("x", ev.max_latency(0)).passed is False


def test_max_cost_with_an_unpriced_model_is_an_error_not_a_pass():
    model = FakeChatModel(["ok"])
    model.provider = "acme"
    report = evaluate(model, Dataset([Case("a", "hi")]), evaluators=[ev.max_cost(1.0)])
    case = report.cases[0]
    assert case.status == "error" and "[tool.myna.prices]" in case.errors[0]


def test_from_spec_builds_the_builtins():
    assert ev.from_spec("is_json").name == "is_json"
    assert ev.from_spec({"contains": "sunny"}).name == "contains('sunny')"
    assert ev.from_spec({"contains": ["a", "b"]}).value == ["a", "b"]
    assert ev.from_spec({"tool_called": {"name": "f", "args": {"x": 1}}}).args == {"x": 1}
    assert ev.from_spec({"trajectory": [["a", "b"], "in_order"]}).mode == "in_order"
    with pytest.raises(UserError, match="Did you mean 'contains'"):
        ev.from_spec({"contain": "x"})
    with pytest.raises(UserError, match="bad arguments"):
        ev.from_spec({"regex": {"patern": "x"}})
    with pytest.raises(UserError, match="one-key mapping"):
        ev.from_spec({"a": 1, "b": 2})


def test_to_spec_round_trips():
    for evaluator in [
        ev.contains("sunny", ignore_case=True),
        ev.equals(),
        ev.regex(r"\d"),
        ev.tool_called("f", {"x": 1}, match="exact"),
        ev.trajectory(["a", "b"], mode="any_order"),
        ev.max_tokens(10, which="output"),
        ev.is_json(),
    ]:
        again = ev.from_spec(evaluator.to_spec())
        assert again.name == evaluator.name and again.to_spec() == evaluator.to_spec()


def test_from_spec_takes_a_mapping_as_the_value_when_it_is_not_keywords():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert ev.from_spec({"matches_schema": schema}).schema.json_schema["required"] == ["a"]
    assert ev.from_spec({"equals": {"a": 1}}).value == {"a": 1}
    assert ev.from_spec({"equals": {"value": 3}}).value == 3
    assert ev.close_to(2.0).to_spec() == {"close_to": {"value": 2.0}}
