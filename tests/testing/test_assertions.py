"""assert_tool_call(s), assert_no_tool_calls, assert_structured_output, assert_usage."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from myna.fakes import FakeChatModel, tool_call
from myna.messages import AIMessage, HumanMessage, ToolMessage
from myna.testing import (
    assert_no_tool_calls,
    assert_structured_output,
    assert_tool_call,
    assert_tool_calls,
    assert_usage,
    record_calls,
)


def _reply(*calls: tuple[str, dict], text: str = "") -> AIMessage:
    return AIMessage(
        text,
        tool_calls=[{"name": n, "args": a, "id": f"c{i}"} for i, (n, a) in enumerate(calls)],
    )


WEATHER = _reply(("get_weather", {"city": "Paris", "unit": "celsius"}))
TWO = _reply(("get_weather", {"city": "Paris"}), ("book_table", {"people": 2, "time": "19:30"}))


class TestAssertToolCall:
    def test_returns_the_matching_call(self) -> None:
        call = assert_tool_call(WEATHER, "get_weather", {"city": "Paris", "unit": "celsius"})
        assert call["id"] == "c0"

    def test_name_only(self) -> None:
        assert assert_tool_call(TWO, "book_table")["args"]["people"] == 2

    def test_partial_compares_given_keys(self) -> None:
        assert_tool_call(WEATHER, "get_weather", {"city": "Paris"}, partial=True)

    def test_any_matches_a_value(self) -> None:
        assert_tool_call(WEATHER, "get_weather", {"city": ANY, "unit": "celsius"})

    def test_wrong_args_show_a_field_diff_and_the_partial_hint(self) -> None:
        with pytest.raises(AssertionError) as info:
            assert_tool_call(WEATHER, "get_weather", {"city": "Oslo"})
        text = str(info.value)
        assert text.startswith(
            "myna: expected a tool call to 'get_weather' with args {'city': 'Oslo'}"
        )
        assert "city: 'Paris' != 'Oslo'" in text
        assert "unit: 'celsius' != <missing>" in text
        assert "Pass partial=True" in text

    def test_partial_mismatch_lists_only_given_keys(self) -> None:
        with pytest.raises(AssertionError) as info:
            assert_tool_call(WEATHER, "get_weather", {"city": "Oslo"}, partial=True)
        text = str(info.value)
        assert "with at least args" in text and "city: 'Paris' != 'Oslo'" in text
        assert "unit" not in text.split("differs")[1]

    def test_unknown_name_suggests_the_closest(self) -> None:
        with pytest.raises(AssertionError, match="Did you mean 'get_weather'"):
            assert_tool_call(WEATHER, "get_wether")

    def test_text_reply_is_quoted(self) -> None:
        with pytest.raises(AssertionError) as info:
            assert_tool_call(AIMessage("It is sunny."), "get_weather")
        assert "got no tool calls. The reply is text instead: 'It is sunny.'" in str(info.value)

    def test_conversation_and_call_lists(self) -> None:
        conversation = [HumanMessage("hi"), WEATHER, ToolMessage("21", tool_call_id="c0")]
        assert_tool_call(conversation, "get_weather", {"city": "Paris"}, partial=True)
        assert_tool_call(WEATHER.tool_calls, "get_weather")
        assert_tool_call(WEATHER.tool_calls[0], "get_weather")

    def test_call_records(self) -> None:
        model = FakeChatModel([tool_call("lookup", q="x")], validate_tool_calls=False)
        with record_calls() as calls:
            model.invoke("go")
        assert_tool_call(calls.last, "lookup", {"q": "x"})

    def test_bad_input_type(self) -> None:
        with pytest.raises(TypeError, match="needs an AIMessage"):
            assert_tool_call(42, "x")
        with pytest.raises(TypeError, match=r"item \[0\] is a int"):
            assert_tool_call([1], "x")


class TestAssertToolCalls:
    def test_exact_in_order(self) -> None:
        calls = assert_tool_calls(
            TWO, ["get_weather", ("book_table", {"people": 2, "time": "19:30"})]
        )
        assert [c["name"] for c in calls] == ["get_weather", "book_table"]

    def test_dict_entries_and_partial(self) -> None:
        assert_tool_calls(
            TWO, [{"name": "get_weather"}, ("book_table", {"people": 2})], partial=True
        )

    def test_wrong_order_fails_with_hint(self) -> None:
        with pytest.raises(AssertionError) as info:
            assert_tool_calls(TWO, ["book_table", "get_weather"])
        text = str(info.value)
        assert "expected 2 tool calls in this order, got 2 tool calls:" in text
        assert '[0] expected book_table, got get_weather(city="Paris")' in text
        assert "Pass ordered=False" in text

    def test_any_order(self) -> None:
        assert_tool_calls(TWO, ["book_table", "get_weather"], ordered=False)

    def test_missing_and_unexpected(self) -> None:
        with pytest.raises(AssertionError) as info:
            assert_tool_calls(TWO, ["get_weather"])
        assert '[1] unexpected: book_table(people=2, time="19:30")' in str(info.value)
        with pytest.raises(AssertionError) as info:
            assert_tool_calls(WEATHER, ["get_weather", "book_table"], ordered=False)
        assert "missing: book_table" in str(info.value)

    def test_args_diff_in_order(self) -> None:
        with pytest.raises(AssertionError, match=r"people: 2 != 4"):
            assert_tool_calls(TWO, ["get_weather", ("book_table", {"people": 4, "time": "19:30"})])

    def test_bad_expected(self) -> None:
        with pytest.raises(TypeError, match="takes a list of expected calls"):
            assert_tool_calls(TWO, "get_weather")
        with pytest.raises(TypeError, match=r"item \[0\] to be a tool name"):
            assert_tool_calls(TWO, [42])


def test_assert_no_tool_calls() -> None:
    assert_no_tool_calls(AIMessage("Sunny."))
    with pytest.raises(AssertionError) as info:
        assert_no_tool_calls(TWO)
    assert str(info.value).startswith("myna: expected no tool calls, got 2 tool calls:")


class Advice(BaseModel):
    city: str
    temperature_c: int


class AdviceDict(TypedDict):
    city: str
    temperature_c: int


ADVICE_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "temperature_c": {"type": "integer"}},
    "required": ["city", "temperature_c"],
}


class TestAssertStructuredOutput:
    @pytest.mark.parametrize(
        "schema", [Advice, AdviceDict, ADVICE_SCHEMA], ids=["pydantic", "typeddict", "json"]
    )
    def test_valid_values_of_every_kind(self, schema: object) -> None:
        for value in (
            {"city": "Paris", "temperature_c": 21},
            '{"city": "Paris", "temperature_c": 21}',
            AIMessage('{"city": "Paris", "temperature_c": 21}'),
            _reply(("Advice", {"city": "Paris", "temperature_c": 21})),
        ):
            parsed = assert_structured_output(value, schema)
            city = parsed.city if isinstance(parsed, BaseModel) else parsed["city"]
            assert city == "Paris"

    def test_pydantic_instance_is_revalidated(self) -> None:
        assert assert_structured_output(Advice(city="Oslo", temperature_c=4), Advice).city == "Oslo"
        broken = Advice.model_construct(city="Oslo", temperature_c="cold")
        with pytest.raises(AssertionError, match="temperature_c"):
            assert_structured_output(broken, Advice)

    @pytest.mark.parametrize(
        "schema", [Advice, AdviceDict, ADVICE_SCHEMA], ids=["pydantic", "typeddict", "json"]
    )
    def test_invalid_names_the_field(self, schema: object) -> None:
        with pytest.raises(AssertionError) as info:
            assert_structured_output({"city": "Paris", "temperature_c": "warm"}, schema)
        text = str(info.value)
        assert text.startswith("myna: structured output does not match schema")
        assert "temperature_c" in text and "Value: {'city': 'Paris'" in text

    def test_other_pydantic_class(self) -> None:
        class Other(BaseModel):
            city: str

        with pytest.raises(
            AssertionError, match=r"^myna: expected an instance of Advice, got Other\(city='x'\)\.$"
        ):
            assert_structured_output(Other(city="x"), Advice)

    def test_include_raw_dicts(self) -> None:
        ok = {
            "raw": AIMessage("{}"),
            "parsed": {"city": "P", "temperature_c": 1},
            "parsing_error": None,
        }
        assert assert_structured_output(ok, Advice).city == "P"
        bad = {"raw": AIMessage("x"), "parsed": None, "parsing_error": ValueError("not JSON")}
        with pytest.raises(AssertionError, match="for 'Advice' failed to parse: not JSON"):
            assert_structured_output(bad, Advice)

    def test_not_json(self) -> None:
        with pytest.raises(AssertionError, match="not valid JSON"):
            assert_structured_output("sunny", Advice)


class TestAssertUsage:
    USAGE = {
        "input_tokens": 100,
        "output_tokens": 20,
        "total_tokens": 120,
        "input_token_details": {"cache_read": 60},
    }

    def test_within_limits_returns_usage(self) -> None:
        message = AIMessage("x", usage_metadata=self.USAGE)
        usage = assert_usage(message, max_input=100, max_output=20, max_total=120, cache_read=60)
        assert usage["total_tokens"] == 120
        assert_usage(message, cache_read=True)

    def test_over_limits_lists_each(self) -> None:
        with pytest.raises(AssertionError) as info:
            assert_usage(self.USAGE, max_input=50, max_total=100, cache_read=False)
        assert str(info.value) == (
            "myna: usage out of bounds: input tokens 100 > max_input=50; total tokens 120 > "
            "max_total=100; 60 cache-read input tokens (expected none). Usage: input 100, "
            "output 20, total 120."
        )

    def test_cache_read_expectations(self) -> None:
        with pytest.raises(AssertionError, match="no cache-read input tokens"):
            assert_usage(
                {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}, cache_read=True
            )
        with pytest.raises(AssertionError, match="cache-read input tokens 60 != 10"):
            assert_usage(self.USAGE, cache_read=10)

    def test_missing_usage(self) -> None:
        with pytest.raises(AssertionError, match="has no usage_metadata"):
            assert_usage(AIMessage("x"))

    def test_sums_lists_and_call_records(self) -> None:
        model = FakeChatModel(["one", "two"])
        with record_calls() as calls:
            model.invoke("a")
            model.invoke("b")
        total = assert_usage(calls)
        assert total["total_tokens"] == sum(r.usage["total_tokens"] for r in calls)
        assert assert_usage(calls[0])["output_tokens"] == 1
        with pytest.raises(AssertionError, match="none of the given"):
            assert_usage([HumanMessage("x")])

    async def test_async_calls_are_recorded_the_same(self) -> None:
        model = FakeChatModel(["one"])
        with record_calls() as calls:
            await model.ainvoke("a")
        assert_usage(calls, max_total=100)
        assert calls.count == 1 and calls.last.output.text == "one"
