"""`FakeChatModel`: script entries, faults, tool checks, streaming, usage, the call log."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import BaseModel

from myna.exceptions import (
    AuthenticationError,
    ConnectionError,
    DecodeError,
    InvalidToolCallError,
    OverloadedError,
    RateLimitError,
    ScriptExhaustedError,
    ServerError,
    StreamInterruptedError,
    TimeoutError,
    UserError,
)
from myna.fakes import FakeChatModel, ScriptedToolCall, estimate_usage, fault, tool_call
from myna.messages import AIMessage, AIMessageChunk, HumanMessage, merge_chunks
from myna.models import ChatRequest
from myna.tools import tool


@tool
def get_weather(city: str, days: int = 1) -> str:
    """Current weather in a city.

    Args:
        city: City name.
        days: How many days of forecast.
    """
    return f"sunny in {city}"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def stream_text(model: Any, prompt: Any = "hi", **kwargs: Any) -> list[str]:
    return [c.text for c in model.stream(prompt, **kwargs)]


async def astream_text(model: Any, prompt: Any = "hi", **kwargs: Any) -> list[str]:
    return [c.text async for c in model.astream(prompt, **kwargs)]


# -- script entries -----------------------------------------------------------------------------


def test_string_replies_in_order() -> None:
    model = FakeChatModel(["one", "two"])
    assert model.invoke("a").text == "one"
    assert model.invoke("b").text == "two"


async def test_string_replies_in_order_async() -> None:
    model = FakeChatModel(["one", "two"])
    assert (await model.ainvoke("a")).text == "one"
    assert (await model.ainvoke("b")).text == "two"


def test_ai_message_reply_keeps_its_fields() -> None:
    usage = {"input_tokens": 9, "output_tokens": 1, "total_tokens": 10}
    scripted = AIMessage(
        "x", id="msg_9", usage_metadata=usage, response_metadata={"finish_reason": "length"}
    )
    reply = FakeChatModel([scripted]).invoke("a")
    assert reply.id == "msg_9"
    assert reply.usage_metadata == usage
    assert reply.response_metadata == {
        "finish_reason": "length",
        "model_name": "fake-scripted",
        "model_provider": "fake",
    }
    assert scripted.response_metadata == {"finish_reason": "length"}  # the script is not mutated


def test_replies_are_fresh_copies_each_cycle() -> None:
    model = FakeChatModel([AIMessage("same")], cycle=True)
    first, second = model.invoke("a"), model.invoke("b")
    assert first is not second
    assert (first.id, second.id) == ("fake-msg-0", "fake-msg-1")
    first.content = "changed"
    assert model.invoke("c").text == "same"


def test_tool_call_entry() -> None:
    model = FakeChatModel([tool_call("get_weather", city="Paris")]).bind_tools([get_weather])
    reply = model.invoke("weather?")
    assert reply.text == ""
    assert reply.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_0_0", "type": "tool_call"}
    ]
    assert reply.response_metadata["finish_reason"] == "tool_calls"


def test_parallel_tool_calls_after_text() -> None:
    script = [["Let me check. ", tool_call("add", a=1, b=2), tool_call("add", id="x", a=3, b=4)]]
    reply = FakeChatModel(script).bind_tools([add]).invoke("q")
    assert reply.text == "Let me check. "
    assert [(c["args"], c["id"]) for c in reply.tool_calls] == [
        ({"a": 1, "b": 2}, "call_0_1"),
        ({"a": 3, "b": 4}, "x"),
    ]


def test_tool_call_helper() -> None:
    assert tool_call("f", id="c1", x=1) == ScriptedToolCall(name="f", args={"x": 1}, id="c1")
    with pytest.raises(UserError, match=r"tool_call\(\) needs the tool name first, got ''"):
        tool_call("")


def test_dict_reply_without_structured_output_is_json_text() -> None:
    assert json.loads(FakeChatModel([{"a": 1}]).invoke("q").text) == {"a": 1}


def test_pydantic_object_reply() -> None:
    class Point(BaseModel):
        x: int
        y: int

    model = FakeChatModel([Point(x=1, y=2), Point(x=3, y=4)])
    assert json.loads(model.invoke("q").text) == {"x": 1, "y": 2}
    assert model.with_structured_output(Point).invoke("q") == Point(x=3, y=4)


def test_callable_entry_gets_the_request() -> None:
    def reply(request: ChatRequest) -> Any:
        return f"you said {request.messages[-1].text} at t={request.params.get('temperature')}"

    model = FakeChatModel([reply])
    assert model.invoke("hey", temperature=0.5).text == "you said hey at t=0.5"


def test_callable_entry_may_return_any_entry() -> None:
    model = FakeChatModel([lambda r: tool_call("add", a=1, b=1), lambda r: fault.timeout(), "ok"])
    bound = model.bind_tools([add])
    assert bound.invoke("q").tool_calls[0]["name"] == "add"
    assert bound.invoke("q").text == "ok"  # the timeout was retried
    assert model.waits and len(model.waits) == 1


def test_async_callable_entry_is_an_error() -> None:
    async def reply(request: ChatRequest) -> str:
        return "x"

    with pytest.raises(UserError) as exc:
        FakeChatModel([reply]).invoke("q")
    assert str(exc.value) == (
        "FakeChatModel reply #1 is an async callable; use FunctionChatModel for async functions."
    )


def test_exception_entry_is_raised() -> None:
    model = FakeChatModel([AuthenticationError("bad key", status_code=401), "never"])
    with pytest.raises(AuthenticationError, match="bad key"):
        model.invoke("q")
    assert model.remaining == 1  # not retried


@pytest.mark.parametrize("entry", [42, ValueError, object()])
def test_unusable_entry_lists_the_accepted_kinds(entry: Any) -> None:
    with pytest.raises(UserError) as exc:
        FakeChatModel([entry]).invoke("q")
    text = str(exc.value)
    assert text.startswith(f"Cannot use {type(entry).__name__} as a scripted reply.")
    assert "tool_call('name', **args)" in text
    assert "fault (fault.rate_limit())" in text


def test_list_with_something_else_is_an_error() -> None:
    with pytest.raises(UserError, match="A list reply holds text and tool_call"):
        FakeChatModel([["text", 3]]).invoke("q")


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "hello",
            "FakeChatModel takes a list of replies, e.g. FakeChatModel(['Hello!']), or the path "
            "of a YAML script; got str. Wrap a single reply in a list.",
        ),
        (
            5,
            "FakeChatModel takes a list of replies, e.g. FakeChatModel(['Hello!']), or the path "
            "of a YAML script; got int.",
        ),
    ],
)
def test_script_must_be_a_list(script: Any, message: str) -> None:
    with pytest.raises(UserError) as exc:
        FakeChatModel(script)
    assert str(exc.value) == message


def test_bad_options() -> None:
    with pytest.raises(UserError, match="cycle=True needs at least one scripted reply"):
        FakeChatModel([], cycle=True)
    with pytest.raises(ValueError, match="chunking='lines' is not a chunking policy"):
        FakeChatModel(["x"], chunking="lines")
    with pytest.raises(UserError, match="chunk_delay=-1 must be a number of seconds >= 0"):
        FakeChatModel(["x"], chunk_delay=-1)
    with pytest.raises(UserError, match=r"unknown parameter chunkng=\. Did you mean 'chunking'"):
        FakeChatModel(["x"], chunkng="chars")


# -- exhaustion and cycling ----------------------------------------------------------------------


def test_exhausted_script_says_how_many_were_scripted_and_made() -> None:
    model = FakeChatModel(["one", "two"])
    model.invoke("a")
    model.invoke("b")
    with pytest.raises(ScriptExhaustedError) as exc:
        model.invoke("c")
    assert str(exc.value) == (
        "myna: FakeChatModel script exhausted: 2 replies were scripted and this is call #3. "
        "Add replies to the script, or pass cycle=True to repeat it."
    )
    assert isinstance(exc.value, AssertionError)  # pytest reports a failure, not a crash


async def test_exhausted_script_async() -> None:
    model = FakeChatModel(["one"])
    await model.ainvoke("a")
    with pytest.raises(ScriptExhaustedError, match="1 reply was scripted and this is call #2"):
        await model.ainvoke("b")
    with pytest.raises(ScriptExhaustedError):
        await astream_text(model)


def test_empty_script() -> None:
    with pytest.raises(ScriptExhaustedError, match="0 replies were scripted and this is call #1"):
        FakeChatModel().invoke("a")


def test_cycle_repeats_the_script() -> None:
    model = FakeChatModel(["a", "b"], cycle=True)
    assert [model.invoke("q").text for _ in range(5)] == ["a", "b", "a", "b", "a"]
    assert model.remaining == 0


def test_remaining_and_reset() -> None:
    model = FakeChatModel(["a", fault.rate_limit(retry_after=1), "b"])
    assert model.remaining == 3
    model.invoke("q")
    assert model.remaining == 2
    model.invoke("q")
    assert (model.remaining, len(model.calls), model.waits) == (0, 3, [1.0])
    model.reset()
    assert (model.remaining, model.calls, model.waits) == (3, [], [])
    assert model.invoke("q").text == "a"


def test_repr() -> None:
    assert repr(FakeChatModel(["a", "b"])) == "FakeChatModel(2 replies, model='fake-scripted')"


# -- faults --------------------------------------------------------------------------------------


def test_rate_limit_is_retried_after_retry_after() -> None:
    model = FakeChatModel([fault.rate_limit(retry_after=2), "hello"])
    assert model.invoke("q").text == "hello"
    assert model.waits == [2.0]
    assert [c.error.__class__.__name__ if c.error else None for c in model.calls] == [
        "RateLimitError",
        None,
    ]


async def test_rate_limit_is_retried_after_retry_after_async() -> None:
    model = FakeChatModel([fault.rate_limit(retry_after=2), "hello"])
    assert (await model.ainvoke("q")).text == "hello"
    assert model.waits == [2.0]


def test_rate_limit_before_a_stream_is_retried() -> None:
    model = FakeChatModel([fault.rate_limit(retry_after=2), "hello there"])
    assert stream_text(model) == ["hello ", "there", ""]
    assert model.waits == [2.0]


async def test_rate_limit_before_a_stream_is_retried_async() -> None:
    model = FakeChatModel([fault.rate_limit(retry_after=2), "hello there"])
    assert await astream_text(model) == ["hello ", "there", ""]
    assert model.waits == [2.0]


@pytest.mark.parametrize(
    ("entry", "error", "status"),
    [
        (fault.rate_limit(), RateLimitError, 429),
        (fault.overloaded(retry_after=5), OverloadedError, 529),
        (fault.server_error(502), ServerError, 502),
        (fault.timeout(), TimeoutError, None),
        (fault.disconnect(), ConnectionError, None),
    ],
)
def test_each_retryable_fault_raises_its_error_once_retries_run_out(
    entry: Any, error: type, status: int | None
) -> None:
    model = FakeChatModel([entry] * 3, max_retries=2)
    with pytest.raises(error) as exc:
        model.invoke("q")
    assert getattr(exc.value, "status_code", None) == status
    assert "(scripted)" in str(exc.value)
    assert len(model.waits) == 2
    assert len(model.calls) == 3


def test_fault_message_can_be_set() -> None:
    model = FakeChatModel([fault.overloaded(message="busy, try later")], max_retries=0)
    with pytest.raises(OverloadedError, match="busy, try later"):
        model.invoke("q")


def test_malformed_fault_is_not_retried() -> None:
    model = FakeChatModel([fault.malformed(), "never"])
    with pytest.raises(DecodeError, match="malformed"):
        model.invoke("q")
    assert model.waits == []


def test_disconnect_mid_stream_carries_the_partial_message() -> None:
    model = FakeChatModel([fault.disconnect(after_chunks=3), "one two three four five"])
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as exc:
        for chunk in model.stream("q"):
            received.append(chunk.text)
    assert received == ["one ", "two ", "three "]
    assert isinstance(exc.value.partial, AIMessageChunk)
    assert exc.value.partial.text == "one two three "
    assert model.waits == []  # an interrupted stream is not retried
    assert isinstance(model.calls[0].error, StreamInterruptedError)


async def test_disconnect_mid_stream_carries_the_partial_message_async() -> None:
    model = FakeChatModel([fault.disconnect(after_chunks=3), "one two three four five"])
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as exc:
        async for chunk in model.astream("q"):
            received.append(chunk.text)
    assert received == ["one ", "two ", "three "]
    assert exc.value.partial.text == "one two three "
    assert model.waits == []


def test_disconnect_mid_stream_of_a_tool_call() -> None:
    model = FakeChatModel(
        [fault.disconnect(after_chunks=2), tool_call("get_weather", city="Paris")], chunking=4
    ).bind_tools([get_weather])
    with pytest.raises(StreamInterruptedError) as exc:
        list(model.stream("q"))
    partial = exc.value.partial
    assert partial.tool_calls == []
    assert partial.invalid_tool_calls[0]["name"] == "get_weather"
    assert partial.invalid_tool_calls[0]["args"] == '{"city":'


def test_disconnect_in_invoke_is_a_retried_connection_error() -> None:
    model = FakeChatModel([fault.disconnect(after_chunks=3), "recovered"])
    assert model.invoke("q").text == "recovered"
    assert len(model.waits) == 1
    assert isinstance(model.calls[0].error, ConnectionError)


async def test_disconnect_in_ainvoke_is_a_retried_connection_error() -> None:
    model = FakeChatModel([fault.disconnect(after_chunks=3), "recovered"])
    assert (await model.ainvoke("q")).text == "recovered"
    assert len(model.waits) == 1


def test_disconnect_before_the_first_chunk_is_retried_with_the_next_reply() -> None:
    model = FakeChatModel([fault.disconnect(), "one two"])
    assert stream_text(model) == ["one ", "two", ""]
    assert len(model.waits) == 1


def test_disconnect_needs_a_non_negative_int() -> None:
    with pytest.raises(UserError, match="after_chunks=-1 must be an int >= 0"):
        fault.disconnect(after_chunks=-1)


def test_real_sleep_false_records_waits_without_sleeping() -> None:
    model = FakeChatModel([fault.rate_limit(retry_after=30), "ok"])
    assert model.invoke("q").text == "ok"  # a 30 s wait would time the test out
    assert model.waits == [30.0]


# -- tool-call validation -------------------------------------------------------------------------


def test_scripted_call_to_an_unbound_tool_says_did_you_mean() -> None:
    model = FakeChatModel([tool_call("get_wether", city="Paris")]).bind_tools([get_weather, add])
    with pytest.raises(InvalidToolCallError) as exc:
        model.invoke("q")
    assert str(exc.value) == (
        "myna: FakeChatModel reply #1 calls tool 'get_wether', which is not bound. "
        "Did you mean 'get_weather'? Bound tools: ['add', 'get_weather']. Fix the call, or pass "
        "validate_tool_calls=False to skip this check."
    )


def test_scripted_call_with_no_tools_bound() -> None:
    with pytest.raises(InvalidToolCallError) as exc:
        FakeChatModel([tool_call("get_weather", city="Paris")]).invoke("q")
    assert str(exc.value) == (
        "myna: FakeChatModel reply #1 calls tool 'get_weather', but no tools are bound. Bind "
        "them with model.bind_tools([...]) or pass validate_tool_calls=False."
    )


@pytest.mark.parametrize(
    ("args", "detail"),
    [
        ({"city": 3}, "city: 3 is not of type 'string'"),
        ({}, "(arguments): 'city' is a required property"),
        ({"city": "Paris", "days": "two"}, "days: 'two' is not of type 'integer'"),
    ],
)
def test_scripted_call_with_bad_args_names_the_field(args: dict, detail: str) -> None:
    model = FakeChatModel([tool_call("get_weather", **args)]).bind_tools([get_weather])
    with pytest.raises(InvalidToolCallError) as exc:
        model.invoke("q")
    assert str(exc.value).startswith(
        "myna: FakeChatModel reply #1 calls tool 'get_weather' with arguments that do not match "
        "its schema: "
    )
    assert detail in str(exc.value)


async def test_tool_calls_are_checked_in_streams_too() -> None:
    model = FakeChatModel([tool_call("nope"), tool_call("nope")]).bind_tools([add])
    with pytest.raises(InvalidToolCallError, match="calls tool 'nope', which is not bound"):
        stream_text(model)
    with pytest.raises(InvalidToolCallError, match="calls tool 'nope', which is not bound"):
        await astream_text(model)


def test_validate_tool_calls_false() -> None:
    model = FakeChatModel([tool_call("anything", x=object.__name__)], validate_tool_calls=False)
    assert model.invoke("q").tool_calls[0]["name"] == "anything"


def test_provider_builtin_tools_are_not_checked_as_functions() -> None:
    model = FakeChatModel([tool_call("add", a=1, b=2)]).bind_tools(
        [add, {"type": "web_search_preview"}]
    )
    assert model.invoke("q").tool_calls[0]["args"] == {"a": 1, "b": 2}


# -- structured output scripts --------------------------------------------------------------------


class Person(BaseModel):
    name: str
    age: int


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_dict_reply_for_structured_output(method: str) -> None:
    model = FakeChatModel([{"name": "Ann", "age": 3}])
    assert model.with_structured_output(Person, method=method).invoke("q") == Person(
        name="Ann", age=3
    )
    call = model.calls[0]
    assert call.schema["required"] == ["name", "age"]
    if method == "function_calling":
        assert call.reply.tool_calls[0]["name"] == "Person"
        assert call.tool_choice == "Person"
    else:
        assert json.loads(call.reply.text) == {"name": "Ann", "age": 3}


def test_json_text_reply_for_function_calling() -> None:
    model = FakeChatModel(['{"name": "Ann", "age": 3}'])
    result = model.with_structured_output(Person, method="function_calling").invoke("q")
    assert result == Person(name="Ann", age=3)


def test_non_object_reply_for_function_calling_is_an_error() -> None:
    model = FakeChatModel(["just text"])
    with pytest.raises(UserError, match="needs an object reply; the script gave 'just text'"):
        model.with_structured_output(Person, method="function_calling").invoke("q")


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_invalid_structured_reply_is_an_output_parser_error(method: str) -> None:
    from myna.exceptions import OutputParserError

    model = FakeChatModel([{"name": "Ann", "age": "old"}])
    with pytest.raises(OutputParserError, match="age"):
        model.with_structured_output(Person, method=method).invoke("q")


# -- the call log ------------------------------------------------------------------------------------


def test_calls_record_everything() -> None:
    model = FakeChatModel(["a", "b c"], temperature=0.1)
    bound = model.bind_tools([add], tool_choice="auto")
    bound.invoke([("system", "s"), ("user", "q1")], config={"tags": ["t1"]}, max_tokens=5)
    list(model.stream("q2"))
    first, second = model.calls
    assert [m.text for m in first.messages] == ["s", "q1"]
    assert first.last_message == HumanMessage("q1")
    assert [t["name"] for t in first.tools] == ["add"]
    assert first.tool_choice == "auto"
    assert first.schema is None
    assert first.params["temperature"] == 0.1
    assert first.params["max_tokens"] == 5
    assert first.config == {"tags": ["t1"]}
    assert first.reply.text == "a"
    assert (first.streamed, second.streamed) == (False, True)
    assert second.reply.text == "b c"
    assert second.tools == []


async def test_calls_record_async_calls() -> None:
    model = FakeChatModel(["a", "b"])
    await model.ainvoke("q1")
    await astream_text(model, "q2")
    assert [(c.last_message.text, c.streamed, c.reply.text) for c in model.calls] == [
        ("q1", False, "a"),
        ("q2", True, "b"),
    ]


# -- streaming shape ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunking", "expected"),
    [
        ("words", ["Hello ", "big ", "world", ""]),
        ("chars", [*list("Hello big world"), ""]),
        (6, ["Hello ", "big wo", "rld", ""]),
    ],
)
def test_chunking_policies(chunking: Any, expected: list[str]) -> None:
    assert stream_text(FakeChatModel(["Hello big world"], chunking=chunking)) == expected


async def test_chunking_policies_async() -> None:
    model = FakeChatModel(["Hello big world"], chunking=6)
    assert await astream_text(model) == ["Hello ", "big wo", "rld", ""]


def test_stream_chunks_share_the_invoke_style_id_and_end_with_usage() -> None:
    model = FakeChatModel(["a b"])
    chunks = list(model.stream("q"))
    assert {c.id for c in chunks} == {"fake-msg-0"}
    assert [c.usage_metadata is not None for c in chunks] == [False, False, True]
    assert [c.chunk_position for c in chunks] == [None, None, "last"]
    assert chunks[-1].response_metadata == {
        "model_name": "fake-scripted",
        "model_provider": "fake",
        "finish_reason": "stop",
    }


def test_tool_calls_stream_as_partial_json_chunks() -> None:
    model = FakeChatModel([tool_call("get_weather", city="Paris")], chunking=5)
    chunks = list(model.bind_tools([get_weather]).stream("q"))
    pieces = [c.tool_call_chunks[0] for c in chunks if c.tool_call_chunks]
    assert len(pieces) > 2
    assert pieces[0]["name"] == "get_weather"
    assert pieces[0]["id"] == "call_0_0"
    assert all(p["name"] is None for p in pieces[1:])
    assert json.loads("".join(p["args"] for p in pieces)) == {"city": "Paris"}
    merged = merge_chunks(chunks)
    assert merged.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_0_0", "type": "tool_call"}
    ]


def test_reasoning_streams_as_reasoning_blocks() -> None:
    reply = AIMessage(
        [
            {"type": "reasoning", "reasoning": "think it over", "extras": {"signature": "sig"}},
            {"type": "text", "text": "answer here"},
        ]
    )
    chunks = list(FakeChatModel([reply]).stream("q"))
    kinds = [c.content[0]["type"] for c in chunks if c.content]
    assert kinds == ["reasoning", "reasoning", "reasoning", "text", "text"]
    merged = merge_chunks(chunks).to_message()
    assert merged.content == reply.content
    assert merged.usage_metadata["output_token_details"] == {"reasoning": 4}


def test_chunk_delay_sync() -> None:
    model = FakeChatModel(["a b"], chunk_delay=0.001)
    assert stream_text(model) == ["a ", "b", ""]
    assert model._runs_inline() is False  # batch then uses threads, like a real model


async def test_chunk_delay_async_does_not_block_the_loop() -> None:
    model = FakeChatModel(["a b c", "x y z"], chunk_delay=0.002)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(1000):
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    first, second = await asyncio.gather(astream_text(model), astream_text(model))
    task.cancel()
    assert sorted([first, second]) == [["a ", "b ", "c", ""], ["x ", "y ", "z", ""]]
    assert ticks > 0


# -- usage ---------------------------------------------------------------------------------------------


def test_usage_is_the_same_for_invoke_and_stream() -> None:
    script = ["Some reply text here.", tool_call("add", a=1, b=2)]
    invoked = FakeChatModel(script).bind_tools([add])
    streamed = FakeChatModel(script, chunking="chars").bind_tools([add])
    for prompt in ("first question", "second"):
        reply = invoked.invoke(prompt)
        merged = merge_chunks(list(streamed.stream(prompt))).to_message()
        assert reply.usage_metadata == merged.usage_metadata
        assert reply.usage_metadata["input_tokens"] > 0


def test_usage_estimate_is_documented_and_deterministic() -> None:
    reply = FakeChatModel(["12345678"]).invoke([("system", "abcd"), ("user", "abcde")])
    # input: (3 + ceil(4/4)) + (3 + ceil(5/4)); output: ceil(8/4)
    assert reply.usage_metadata == {"input_tokens": 9, "output_tokens": 2, "total_tokens": 11}
    assert estimate_usage([HumanMessage("abcd")], AIMessage("12345678")) == {
        "input_tokens": 4,
        "output_tokens": 2,
        "total_tokens": 6,
    }


def test_usage_can_be_turned_off_or_overridden() -> None:
    assert FakeChatModel(["x"], usage=False).invoke("q").usage_metadata is None
    fixed = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    model = FakeChatModel(["x"], usage=lambda messages, reply: dict(fixed))
    assert model.invoke("q").usage_metadata == fixed


def test_profile_says_what_the_fake_supports() -> None:
    profile = FakeChatModel().profile
    assert profile["tool_calling"] is True
    assert profile["structured_output"] is True
    assert FakeChatModel(profile={"image_inputs": False}).profile["image_inputs"] is False
