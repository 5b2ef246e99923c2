"""Chunk merging (`+`, `sum`, `merge_chunks`) and `to_message()`."""

from __future__ import annotations

import pytest

from myna.messages import (
    AIMessage,
    AIMessageChunk,
    add_usage,
    merge_chunks,
    merge_content,
    merge_metadata,
    tool_call_chunk,
)

C = AIMessageChunk


def usage(i: int, o: int, **details: dict) -> dict:
    return {"input_tokens": i, "output_tokens": o, "total_tokens": i + o, **details}


# -- content ----------------------------------------------------------------------------------


def test_text_concatenates() -> None:
    assert (C("Sun") + C("ny")).content == "Sunny"
    assert (C("Sun") + C("ny")).text == "Sunny"


def test_blocks_merge_by_index() -> None:
    merged = (
        C([{"type": "text", "text": "Hel", "index": 0}])
        + C([{"type": "text", "text": "lo", "index": 0}])
        + C([{"type": "reasoning", "reasoning": "a", "index": 1}])
        + C([{"type": "reasoning", "reasoning": "b", "index": 1, "extras": {"signature": "s"}}])
    )
    assert merged.content == [
        {"type": "text", "text": "Hello", "index": 0},
        {"type": "reasoning", "reasoning": "ab", "index": 1, "extras": {"signature": "s"}},
    ]


def test_blocks_without_index_are_appended() -> None:
    merged = C([{"type": "text", "text": "a"}]) + C([{"type": "text", "text": "b"}])
    assert merged.content == [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]


def test_merging_does_not_mutate_the_chunks() -> None:
    first = C([{"type": "text", "text": "a", "index": 0}])
    second = C([{"type": "text", "text": "b", "index": 0}])
    merged = first + second
    assert merged.content == [{"type": "text", "text": "ab", "index": 0}]
    assert first.content == [{"type": "text", "text": "a", "index": 0}]
    assert second.content == [{"type": "text", "text": "b", "index": 0}]


def test_empty_list_plus_text_keeps_the_text() -> None:
    # LangChain drops "text" here (gotcha 8)
    assert (C([]) + C("text")).content == [{"type": "text", "text": "text"}]
    assert (C([]) + C("text")).text == "text"


def test_empty_string_plus_blocks_leaves_no_stray_string() -> None:
    merged = C("") + C([{"type": "text", "text": "x", "index": 0}])
    assert merged.content == [{"type": "text", "text": "x", "index": 0}]


def test_text_then_blocks_keeps_both() -> None:
    merged = C("abc") + C([{"type": "image", "url": "u"}])
    assert merged.content == [{"type": "text", "text": "abc"}, {"type": "image", "url": "u"}]


def test_bare_strings_inside_lists_stay_strings() -> None:
    assert merge_content([["a"], ["b"]]) == ["a", "b"]


def test_merge_content_of_strings_only() -> None:
    assert merge_content(["a", "", "b"]) == "ab"


# -- tool call chunks --------------------------------------------------------------------------


def test_tool_call_chunks_merge_by_index_and_parse() -> None:
    merged = (
        C(tool_call_chunks=[tool_call_chunk(name="add", args='{"a": ', id="c1", index=0)])
        + C(tool_call_chunks=[tool_call_chunk(args="1, ", index=0)])
        + C(tool_call_chunks=[tool_call_chunk(args='"b": 2}', index=0)])
    )
    assert merged.tool_call_chunks == [
        {
            "name": "add",
            "args": '{"a": 1, "b": 2}',
            "id": "c1",
            "index": 0,
            "type": "tool_call_chunk",
        }
    ]
    assert merged.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"}
    ]
    assert merged.invalid_tool_calls == []


def test_tool_call_chunks_without_index_merge_by_id() -> None:
    merged = C(tool_call_chunks=[tool_call_chunk(name="f", args='{"x":', id="c1")]) + C(
        tool_call_chunks=[tool_call_chunk(args=" 1}", id="c1")]
    )
    assert merged.tool_calls == [{"name": "f", "args": {"x": 1}, "id": "c1", "type": "tool_call"}]


def test_name_is_not_concatenated() -> None:
    # LangChain gives "addadd" here (gotcha 6)
    merged = C(tool_call_chunks=[tool_call_chunk(name="add", args="{}", id="c1", index=0)]) + C(
        tool_call_chunks=[tool_call_chunk(name="add", args="", id="c1", index=0)]
    )
    assert merged.tool_calls[0]["name"] == "add"
    assert merged.tool_calls[0]["id"] == "c1"


def test_same_index_with_another_id_is_another_call() -> None:
    merged = C(tool_call_chunks=[tool_call_chunk(name="a", args="{}", id="c1", index=0)]) + C(
        tool_call_chunks=[tool_call_chunk(name="b", args="{}", id="c2", index=0)]
    )
    assert [(c["name"], c["id"]) for c in merged.tool_calls] == [("a", "c1"), ("b", "c2")]


def test_parallel_tool_calls_by_index() -> None:
    merged = merge_chunks(
        [
            C(tool_call_chunks=[tool_call_chunk(name="a", args='{"n"', id="c1", index=0)]),
            C(tool_call_chunks=[tool_call_chunk(name="b", args='{"m": 2}', id="c2", index=1)]),
            C(tool_call_chunks=[tool_call_chunk(args=": 1}", index=0)]),
        ]
    )
    assert merged.tool_calls == [
        {"name": "a", "args": {"n": 1}, "id": "c1", "type": "tool_call"},
        {"name": "b", "args": {"m": 2}, "id": "c2", "type": "tool_call"},
    ]


def test_invalid_json_goes_to_invalid_tool_calls_with_an_error() -> None:
    merged = C(tool_call_chunks=[tool_call_chunk(name="f", args='{"a": 1', id="c1", index=0)]) + C(
        tool_call_chunks=[tool_call_chunk(args=", oops", index=0)]
    )
    assert merged.tool_calls == []
    (bad,) = merged.invalid_tool_calls
    assert bad["name"] == "f"
    assert bad["id"] == "c1"
    assert bad["args"] == '{"a": 1, oops'
    assert bad["error"].startswith("arguments are not valid JSON (")
    assert "position" in bad["error"]


def test_non_object_json_is_invalid_with_an_error() -> None:
    chunk = C(tool_call_chunks=[tool_call_chunk(name="f", args="[1, 2]", id="c1", index=0)])
    assert chunk.invalid_tool_calls[0]["error"] == "arguments must be a JSON object, got list"


def test_empty_args_mean_no_arguments() -> None:
    chunk = C(tool_call_chunks=[tool_call_chunk(name="ping", args="", id="c1", index=0)])
    assert chunk.tool_calls == [{"name": "ping", "args": {}, "id": "c1", "type": "tool_call"}]


def test_chunk_built_from_tool_calls_gets_tool_call_chunks() -> None:
    chunk = C(tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}])
    assert chunk.tool_call_chunks == [
        {"name": "f", "args": '{"a": 1}', "id": "c1", "index": 0, "type": "tool_call_chunk"}
    ]


# -- usage, metadata, ids -----------------------------------------------------------------------


def test_usage_adds_with_details() -> None:
    merged = C("a", usage_metadata=usage(5, 0, input_token_details={"cache_read": 3})) + C(
        "b", usage_metadata=usage(0, 7, output_token_details={"reasoning": 4})
    )
    assert merged.usage_metadata == {
        "input_tokens": 5,
        "output_tokens": 7,
        "total_tokens": 12,
        "input_token_details": {"cache_read": 3},
        "output_token_details": {"reasoning": 4},
    }


def test_usage_stays_none_when_no_chunk_has_it() -> None:
    assert (C("a") + C("b")).usage_metadata is None
    assert (C("a") + C("b", usage_metadata=usage(1, 2))).usage_metadata == usage(1, 2)


def test_add_usage_with_none() -> None:
    assert add_usage(None, None) is None
    assert add_usage(usage(1, 2), None) == usage(1, 2)
    assert add_usage(None, usage(1, 2)) == usage(1, 2)
    assert add_usage(usage(1, 2), usage(3, 4)) == usage(4, 6)


def test_metadata_strings_are_not_concatenated() -> None:
    # LangChain gives "gpt-4ogpt-4o" here (gotcha 5)
    merged = C("", response_metadata={"model_name": "gpt-4o"}) + C(
        "", response_metadata={"model_name": "gpt-4o", "finish_reason": "stop"}
    )
    assert merged.response_metadata == {"model_name": "gpt-4o", "finish_reason": "stop"}


def test_metadata_merges_dicts_and_lists_and_ignores_none() -> None:
    left = {"logprobs": {"content": [1]}, "headers": {"a": "1"}, "x": 1.5, "flag": True}
    right = {"logprobs": {"content": [2]}, "headers": {"b": "2"}, "x": 2.5, "flag": None}
    assert merge_metadata(left, right) == {
        "logprobs": {"content": [1, 2]},
        "headers": {"a": "1", "b": "2"},
        "x": 2.5,  # floats: the later value wins, no TypeError
        "flag": True,
    }


def test_additional_kwargs_merge_like_metadata() -> None:
    merged = C("", additional_kwargs={"refusal": "no"}) + C("", additional_kwargs={"refusal": "no"})
    assert merged.additional_kwargs == {"refusal": "no"}


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["run-abc", "msg_1"], "msg_1"),
        (["msg_1", "run-abc"], "msg_1"),
        (["msg_1", "msg_2"], "msg_1"),
        (["run-a", "run-b"], "run-a"),
        ([None, "run-a"], "run-a"),
        ([None, None], None),
    ],
)
def test_provider_id_beats_auto_id(ids: list, expected: str | None) -> None:
    assert merge_chunks([C("x", id=i) for i in ids]).id == expected


def test_name_is_the_first_one() -> None:
    assert (C("a", name="bot") + C("b", name="other")).name == "bot"


def test_chunk_position_last_survives() -> None:
    assert (C("a") + C("", chunk_position="last")).chunk_position == "last"
    assert (C("a") + C("b")).chunk_position is None


# -- sum, lists, errors -------------------------------------------------------------------------


def test_sum_of_chunks() -> None:
    merged = sum([C("a"), C("b"), C("c")])
    assert isinstance(merged, AIMessageChunk)
    assert merged.content == "abc"


def test_chunk_plus_list_of_chunks() -> None:
    chunks = [C("b"), C("c")]
    assert (C("a") + chunks).content == "abc"
    pair = (C("b"),)
    assert (C("a") + pair).content == "ab"


def test_chunk_plus_other_things_is_an_error() -> None:
    with pytest.raises(TypeError, match="Cannot add str to AIMessageChunk"):
        C("a") + "b"


def test_merge_chunks_needs_a_chunk() -> None:
    with pytest.raises(ValueError, match="merge_chunks\\(\\) needs at least one chunk"):
        merge_chunks([])


def test_merge_chunks_equals_folding_plus() -> None:
    chunks = [
        C("He", id="run-1"),
        C("llo", response_metadata={"model_name": "m"}),
        C(tool_call_chunks=[tool_call_chunk(name="f", args="{}", id="c", index=0)]),
        C("", usage_metadata=usage(1, 2), chunk_position="last"),
    ]
    folded = chunks[0]
    for chunk in chunks[1:]:
        folded = folded + chunk
    assert merge_chunks(chunks) == folded


# -- to_message ---------------------------------------------------------------------------------


def test_to_message_drops_stream_only_fields() -> None:
    merged = merge_chunks(
        [
            C([{"type": "text", "text": "hi ", "index": 0}], id="msg_1"),
            C([{"type": "text", "text": "there", "index": 0}]),
            C(tool_call_chunks=[tool_call_chunk(name="f", args='{"a": 1}', id="c1", index=0)]),
            C([], usage_metadata=usage(3, 4), response_metadata={"model_name": "m"}),
            C([], chunk_position="last"),
        ]
    )
    message = merged.to_message()
    assert type(message) is AIMessage
    assert message == AIMessage(
        [{"type": "text", "text": "hi there"}],
        id="msg_1",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}],
        usage_metadata=usage(3, 4),
        response_metadata={"model_name": "m"},
    )
    assert not hasattr(message, "tool_call_chunks")
