"""assert_stream / assert_astream: well-formed streams pass, each malformation fails by name."""

from __future__ import annotations

import pytest

from myna.fakes import FakeChatModel, tool_call
from myna.messages import AIMessage, AIMessageChunk, tool_call_chunk
from myna.testing import StreamSummary, assert_astream, assert_stream

USAGE = {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}


def _fake(*replies: object) -> FakeChatModel:
    return FakeChatModel(list(replies), validate_tool_calls=False)


def test_summary_of_a_text_stream() -> None:
    summary = assert_stream(_fake("one two three").stream("count"))
    assert isinstance(summary, StreamSummary)
    assert summary.text == "one two three"
    assert summary.chunks == 4 and summary.usage_chunks == [3]
    assert summary.finish_reason == "stop"
    assert summary.usage["output_tokens"] > 0
    assert summary.tool_calls == []


def test_tool_calls_are_reassembled_from_fragments() -> None:
    chunks = list(_fake(tool_call("get_weather", city="Paris", days=3)).stream("go"))
    assert sum(len(c.tool_call_chunks) for c in chunks) > 1  # really fragmented
    summary = assert_stream(chunks)
    assert summary.tool_calls[0]["name"] == "get_weather"
    assert summary.tool_calls[0]["args"] == {"city": "Paris", "days": 3}
    assert summary.finish_reason == "tool_calls"


async def test_async_stream_gives_the_same_summary() -> None:
    sync = assert_stream(_fake("a b c").stream("x"))
    summary = await assert_astream(_fake("a b c").astream("x"))
    assert (summary.text, summary.usage, summary.chunks) == (sync.text, sync.usage, sync.chunks)


def test_final_message_matches() -> None:
    model = _fake("Sunny in Paris", "Sunny in Paris")
    final = model.invoke("weather?")
    assert assert_stream(model.stream("weather?"), final=final).text == "Sunny in Paris"


def test_merged_differs_from_final() -> None:
    final = AIMessage(
        "Sunny in Oslo", usage_metadata=USAGE, response_metadata={"finish_reason": "stop"}
    )
    with pytest.raises(AssertionError) as info:
        assert_stream(_fake("Sunny in Paris").stream("x"), final=final)
    text = str(info.value)
    assert text.startswith(
        "myna: the merged stream differs from the final message (merged != final):"
    )
    assert "text: 'Sunny in Paris' != 'Sunny in Oslo'" in text
    assert "usage_metadata.input_tokens: 4 != 5" in text


def _last(**fields: object) -> AIMessageChunk:
    return AIMessageChunk("", chunk_position="last", **fields)


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ([], "myna: the stream yielded no chunks."),
        ([AIMessageChunk("a")], "no chunk has chunk_position='last'"),
        (
            [_last(usage_metadata=USAGE), AIMessageChunk("late")],
            "chunk #0 has chunk_position='last' but 1 more",
        ),
        ([AIMessage("x")], "stream item #0 is a AIMessage, not an AIMessageChunk"),
        ([AIMessageChunk("a"), _last()], "no chunk reports usage"),
        (
            [AIMessageChunk("a", usage_metadata=USAGE), _last(usage_metadata=USAGE)],
            "usage counted twice: chunks #0 and #1 both report",
        ),
        (
            [
                AIMessageChunk([{"type": "text", "text": "a", "index": 0}]),
                AIMessageChunk([{"type": "reasoning", "reasoning": "b", "index": 0}]),
                _last(usage_metadata=USAGE),
            ],
            "inconsistent content index 0: a 'text' block in chunk #0 but a 'reasoning' block in chunk #1",
        ),
        (
            [
                AIMessageChunk(tool_call_chunks=[tool_call_chunk(args='{"a": 1}', index=0)]),
                _last(usage_metadata=USAGE),
            ],
            "chunk #0 continues tool call index 0, which no earlier chunk opened",
        ),
        (
            [
                AIMessageChunk(
                    tool_call_chunks=[tool_call_chunk(name="f", id="c1", args="{", index=0)]
                ),
                AIMessageChunk(tool_call_chunks=[tool_call_chunk(name="g", args="}", index=0)]),
                _last(usage_metadata=USAGE),
            ],
            "inconsistent tool call index 0: named 'f' in chunk #0 but 'g' in chunk #1",
        ),
        (
            [
                AIMessageChunk(
                    tool_call_chunks=[tool_call_chunk(name="f", id="c1", args='{"a": ', index=0)]
                ),
                _last(usage_metadata=USAGE),
            ],
            "tool call 'f' (id 'c1') has arguments that do not parse",
        ),
        (
            [
                AIMessageChunk(tool_call_chunks=[tool_call_chunk(args="{}")]),
                _last(usage_metadata=USAGE),
            ],
            "chunk #0 has a tool-call fragment with neither index nor id",
        ),
    ],
    ids=[
        "empty",
        "no-last",
        "after-last",
        "not-a-chunk",
        "no-usage",
        "usage-twice",
        "content-index",
        "orphan-fragment",
        "renamed-call",
        "bad-json",
        "no-index",
    ],
)
def test_malformed_streams(chunks: list, message: str) -> None:
    with pytest.raises(AssertionError) as info:
        assert_stream(chunks)
    assert message in str(info.value)
    assert str(info.value).startswith("myna:")


def test_incremental_usage_is_counted_once_not_twice() -> None:
    # Anthropic-style: input on the first chunk, the output increment on the last
    chunks = [
        AIMessageChunk(
            "hi", usage_metadata={"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}
        ),
        _last(usage_metadata={"input_tokens": 0, "output_tokens": 2, "total_tokens": 2}),
    ]
    summary = assert_stream(chunks)
    assert summary.usage == {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}
    assert summary.usage_chunks == [0, 1]


def test_parallel_calls_with_reused_index_and_new_ids_are_fine() -> None:
    chunks = [
        AIMessageChunk(tool_call_chunks=[tool_call_chunk(name="f", id="a", args="{}", index=0)]),
        AIMessageChunk(tool_call_chunks=[tool_call_chunk(name="g", id="b", args="{}", index=0)]),
        _last(),
    ]
    summary = assert_stream(chunks, require_usage=False)
    assert [c["name"] for c in summary.tool_calls] == ["f", "g"]
    assert summary.usage is None
