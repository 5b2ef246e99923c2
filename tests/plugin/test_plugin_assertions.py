"""myna.testing's assertions inside a pytest run: passing uses pass, failing ones fail with
the myna message in pytest's report (through pytester, as users see it)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import pytest
from pydantic import BaseModel
from myna.fakes import tool_call
from myna.testing import (
    assert_astream, assert_no_tool_calls, assert_stream, assert_structured_output,
    assert_tool_call, assert_tool_calls, assert_usage,
)

class Advice(BaseModel):
    city: str
    temperature_c: int

CALLS = [tool_call("get_weather", city="Paris"), tool_call("book_table", people=2)]

@pytest.fixture
def reply(fake_model):
    return fake_model([CALLS], validate_tool_calls=False).invoke("plan")

def test_tool_call_ok(reply):
    assert assert_tool_call(reply, "get_weather", {"city": "Paris"})["name"] == "get_weather"

def test_tool_call_fails(reply):
    assert_tool_call(reply, "get_weather", {"city": "Oslo"})

def test_tool_calls_ok(reply):
    assert_tool_calls(reply, ["book_table", "get_weather"], ordered=False)

def test_tool_calls_fails(reply):
    assert_tool_calls(reply, ["book_table", "get_weather"])

def test_no_tool_calls_ok(fake_model):
    assert_no_tool_calls(fake_model(["text"]).invoke("x"))

def test_no_tool_calls_fails(reply):
    assert_no_tool_calls(reply)

def test_structured_ok(fake_model):
    value = fake_model([{"city": "Paris", "temperature_c": 21}]).with_structured_output(Advice).invoke("x")
    assert assert_structured_output(value, Advice).city == "Paris"

def test_structured_fails():
    assert_structured_output({"city": "Paris", "temperature_c": "warm"}, Advice)

def test_stream_ok(fake_model):
    assert assert_stream(fake_model(["a b c"]).stream("x")).text == "a b c"

async def test_astream_ok(fake_model):
    assert (await assert_astream(fake_model(["a b c"]).astream("x"))).chunks == 4

def test_stream_fails(fake_model):
    model = fake_model(["one", "two"])
    assert_stream(model.stream("x"), final=model.invoke("x"))

def test_usage_ok(reply, model_calls):
    assert_usage(reply, max_total=1_000)
    assert_usage(model_calls, max_output=1_000)

def test_usage_fails(reply):
    assert_usage(reply, max_output=1)
"""


def test_assertions_in_a_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_asserts=TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=7, failed=6)
    out = result.stdout.str()
    for text in [
        "AssertionError: myna: expected a tool call to 'get_weather' with args {'city': 'Oslo'}; "
        "got 2 tool calls:",
        "city: 'Paris' != 'Oslo'",
        "AssertionError: myna: expected 2 tool calls in this order, got 2 tool calls:",
        "Pass ordered=False if the order does not matter.",
        "AssertionError: myna: expected no tool calls, got 2 tool calls:",
        "AssertionError: myna: structured output does not match schema 'Advice':",
        "temperature_c: Input should be a valid integer",
        "AssertionError: myna: the merged stream differs from the final message (merged != final):",
        "text: 'two' != 'one'",
        "AssertionError: myna: usage out of bounds: output tokens",
    ]:
        assert text in out, text
    failed = sorted(
        line.split("::")[1].split()[0] for line in result.stdout.lines if line.startswith("FAILED")
    )
    assert failed == [
        "test_no_tool_calls_fails",
        "test_stream_fails",
        "test_structured_fails",
        "test_tool_call_fails",
        "test_tool_calls_fails",
        "test_usage_fails",
    ]
