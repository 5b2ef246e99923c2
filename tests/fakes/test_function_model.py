"""`FunctionChatModel`: sync, async, generator and async-generator functions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from myna.exceptions import InvalidToolCallError, RateLimitError, UserError
from myna.fakes import FunctionChatModel, FunctionInfo, fault, tool_call
from myna.messages import AIMessage, AIMessageChunk, BaseMessage, merge_chunks
from myna.tools import tool


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def upper(messages: list[BaseMessage], info: FunctionInfo) -> str:
    return messages[-1].text.upper()


async def async_upper(messages: list[BaseMessage], info: FunctionInfo) -> str:
    return messages[-1].text.upper()


def words(messages: list[BaseMessage], info: FunctionInfo) -> Iterator[Any]:
    yield "one "
    yield "two"
    yield tool_call("add", a=1, b=2)


async def async_words(messages: list[BaseMessage], info: FunctionInfo) -> AsyncIterator[Any]:
    yield "one "
    yield AIMessageChunk("two")


def test_sync_function() -> None:
    model = FunctionChatModel(upper)
    reply = model.invoke("hello there")
    assert reply.text == "HELLO THERE"
    assert reply.id == "fake-msg-0"
    assert reply.usage_metadata["output_tokens"] == 3
    assert [c.text for c in model.stream("a b")] == ["A ", "B", ""]


async def test_sync_function_async_calls() -> None:
    model = FunctionChatModel(upper)
    assert (await model.ainvoke("hi")).text == "HI"
    assert [c.text async for c in model.astream("a b")] == ["A ", "B", ""]


async def test_async_function() -> None:
    model = FunctionChatModel(async_upper)
    assert (await model.ainvoke("hi")).text == "HI"
    assert [c.text async for c in model.astream("a b")] == ["A ", "B", ""]
    assert [r.text for r in await model.abatch(["x", "y"])] == ["X", "Y"]


def test_async_function_from_sync_calls_is_an_error() -> None:
    with pytest.raises(UserError) as exc:
        FunctionChatModel(async_upper).invoke("hi")
    assert str(exc.value) == (
        "This FunctionChatModel wraps an async function; call it with ainvoke/astream."
    )


def test_generator_streams_what_it_yields() -> None:
    model = FunctionChatModel(words).bind_tools([add])
    chunks = list(model.stream("q"))
    assert [c.text for c in chunks] == ["one ", "two", "", ""]
    assert chunks[2].tool_call_chunks[0]["name"] == "add"
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata is not None
    merged = merge_chunks(chunks).to_message()
    assert merged.text == "one two"
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [("add", {"a": 1, "b": 2})]


def test_generator_invoke_merges_the_pieces() -> None:
    model = FunctionChatModel(words).bind_tools([add])
    reply = model.invoke("q")
    assert reply.text == "one two"
    assert reply.tool_calls[0]["args"] == {"a": 1, "b": 2}
    assert reply.response_metadata["finish_reason"] == "tool_calls"


async def test_generator_async_calls() -> None:
    model = FunctionChatModel(words).bind_tools([add])
    assert (await model.ainvoke("q")).text == "one two"
    chunks = [c async for c in model.astream("q")]
    assert merge_chunks(chunks).to_message().tool_calls[0]["name"] == "add"


async def test_async_generator() -> None:
    model = FunctionChatModel(async_words)
    chunks = [c async for c in model.astream("q")]
    assert [c.text for c in chunks] == ["one ", "two", ""]
    assert (await model.ainvoke("q")).text == "one two"


def test_async_generator_from_sync_calls_is_an_error() -> None:
    with pytest.raises(UserError, match="wraps an async function"):
        FunctionChatModel(async_words).invoke("q")


def test_streamed_and_invoked_replies_match() -> None:
    invoked = FunctionChatModel(words).bind_tools([add]).invoke("q")
    streamed = merge_chunks(list(FunctionChatModel(words).bind_tools([add]).stream("q")))
    message = streamed.to_message()
    assert (message.text, message.tool_calls, message.usage_metadata, message.id) == (
        invoked.text,
        invoked.tool_calls,
        invoked.usage_metadata,
        invoked.id,
    )


def test_info_describes_the_call() -> None:
    seen: list[FunctionInfo] = []

    def spy(messages: list[BaseMessage], info: FunctionInfo) -> str:
        seen.append(info)
        return "ok"

    model = FunctionChatModel(spy, temperature=0.2)
    model.bind_tools([add], tool_choice="add").invoke("q", config={"tags": ["t"]})
    model.invoke("again")
    first, second = seen
    assert [t["name"] for t in first.tools] == ["add"]
    assert first.tool_choice == "add"
    assert first.params["temperature"] == 0.2
    assert first.config == {"tags": ["t"]}
    assert first.structured is None
    assert (first.call_index, second.call_index) == (0, 1)


def test_info_for_structured_output() -> None:
    class Answer(BaseModel):
        value: int

    seen: list[FunctionInfo] = []

    def answer(messages: list[BaseMessage], info: FunctionInfo) -> dict:
        seen.append(info)
        return {"value": 42}

    for method in ("json_schema", "function_calling", "json_mode"):
        result = FunctionChatModel(answer).with_structured_output(Answer, method=method).invoke("q")
        assert result == Answer(value=42)
    assert [i.structured["method"] for i in seen] == [
        "json_schema",
        "function_calling",
        "json_mode",
    ]
    assert seen[0].structured["name"] == "Answer"
    assert seen[0].structured["schema"]["properties"]["value"]["type"] == "integer"


def test_function_may_return_any_script_entry() -> None:
    replies = iter(
        [
            AIMessage("message"),
            tool_call("add", a=2, b=3),
            ["text ", tool_call("add", a=1, b=1)],
            fault.rate_limit(retry_after=4),
            "after the retry",
        ]
    )
    model = FunctionChatModel(lambda messages, info: next(replies)).bind_tools([add])
    assert model.invoke("q").text == "message"
    assert model.invoke("q").tool_calls[0]["args"] == {"a": 2, "b": 3}
    assert model.invoke("q").text == "text "
    assert model.invoke("q").text == "after the retry"
    assert model.model.waits == [4.0]


def test_function_may_raise() -> None:
    def broken(messages: list[BaseMessage], info: FunctionInfo) -> str:
        raise RateLimitError("quota", status_code=429, retry_after=1)

    model = FunctionChatModel(broken, max_retries=1)
    with pytest.raises(RateLimitError):
        model.invoke("q")
    assert model.waits == [1.0]
    assert len(model.calls) == 2


def test_returned_tool_calls_are_checked() -> None:
    model = FunctionChatModel(lambda m, i: tool_call("sub", a=1)).bind_tools([add])
    with pytest.raises(InvalidToolCallError) as exc:
        model.invoke("q")
    assert str(exc.value).startswith(
        "myna: FunctionChatModel call #1 calls tool 'sub', which is not bound."
    )


def test_streamed_tool_calls_are_checked() -> None:
    def bad(messages: list[BaseMessage], info: FunctionInfo) -> Iterator[Any]:
        yield tool_call("add", a="x", b=1)

    with pytest.raises(InvalidToolCallError, match="a: 'x' is not of type 'integer'"):
        list(FunctionChatModel(bad).bind_tools([add]).stream("q"))


def test_generator_yielding_something_else_is_an_error() -> None:
    def bad(messages: list[BaseMessage], info: FunctionInfo) -> Iterator[Any]:
        yield 42

    with pytest.raises(UserError) as exc:
        list(FunctionChatModel(bad).stream("q"))
    assert str(exc.value) == (
        "A streaming FunctionChatModel function yields text, tool_call(...) objects or "
        "AIMessageChunks; it yielded int."
    )


def test_fn_must_be_callable() -> None:
    with pytest.raises(
        UserError, match=r"FunctionChatModel needs a function fn\(messages, info\), got str"
    ):
        FunctionChatModel("not a function")  # type: ignore[arg-type]


def test_empty_generator_gives_an_empty_reply() -> None:
    def nothing(messages: list[BaseMessage], info: FunctionInfo) -> Iterator[Any]:
        return
        yield

    model = FunctionChatModel(nothing)
    assert model.invoke("q").text == ""
    chunks = list(model.stream("q"))
    assert [c.chunk_position for c in chunks] == ["last"]


def test_repr() -> None:
    assert repr(FunctionChatModel(upper)) == "FunctionChatModel('upper')"
