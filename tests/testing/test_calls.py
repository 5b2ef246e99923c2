"""record_calls / ModelCalls: every call of any model, in order, sync and async, streams too."""

from __future__ import annotations

import pytest

from myna.fakes import FakeChatModel, fault, tool_call
from myna.testing import ModelCalls, record_calls


def test_records_in_order_with_everything() -> None:
    first = FakeChatModel([tool_call("lookup", q="x")], validate_tool_calls=False)
    second = FakeChatModel(["answer"], model="other")
    with record_calls() as calls:
        first.invoke("one", temperature=0.5)
        list(second.stream("two"))
    assert isinstance(calls, ModelCalls) and calls.count == 2 and calls.called
    assert calls[0].messages[-1].text == "one" and calls[0].params["temperature"] == 0.5
    assert calls[0].output.tool_calls[0]["name"] == "lookup"
    assert calls[1].streamed and calls.last.output.text == "answer"
    assert calls.outputs[1].text == "answer"
    assert calls.by_model("fake:other") == [calls[1]]
    assert calls.usage["total_tokens"] == sum(r.usage["total_tokens"] for r in calls)


async def test_async_and_failed_calls() -> None:
    model = FakeChatModel([fault.server_error()], max_retries=0)
    with record_calls() as calls:
        with pytest.raises(Exception, match="internal server error"):
            await model.ainvoke("x")
    assert calls.last.output is None and calls.last.error is not None


def test_outside_the_block_nothing_is_recorded() -> None:
    with record_calls() as calls:
        pass
    FakeChatModel(["x"]).invoke("q")
    assert calls == [] and calls.usage == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    with pytest.raises(AssertionError, match=r"^myna: no model call was made\.$"):
        _ = calls.last
