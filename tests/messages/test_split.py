"""Splitting a reply into stream chunks, and the property that the chunks merge back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.messages import (
    AIMessage,
    AIMessageChunk,
    invalid_tool_call,
    merge_chunks,
    split_message,
    split_text,
)
from myna.strategies import ai_messages, chunkings

POLICIES = ["words", "chars", 1, 3, 7]


def roundtrip(message: AIMessage, chunking: Any) -> AIMessage:
    return merge_chunks(split_message(message, chunking)).to_message()


# -- split_text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunking", "expected"),
    [
        ("words", ["Hello ", "big  ", "world"]),
        ("chars", list("Hello big  world")),
        (5, ["Hello", " big ", " worl", "d"]),
        (100, ["Hello big  world"]),
    ],
)
def test_split_text_policies(chunking: Any, expected: list[str]) -> None:
    pieces = split_text("Hello big  world", chunking)
    assert pieces == expected
    assert "".join(pieces) == "Hello big  world"


def test_split_text_keeps_leading_whitespace() -> None:
    assert "".join(split_text("  lead\nand\ttabs ", "words")) == "  lead\nand\ttabs "


def test_split_text_of_empty_text() -> None:
    assert split_text("", "words") == []


@pytest.mark.parametrize("bad", [0, -1, "lines", True, 1.5])
def test_split_text_rejects_unknown_policies(bad: Any) -> None:
    with pytest.raises(ValueError) as exc:
        split_text("x", bad)
    assert f"chunking={bad!r} is not a chunking policy" in str(exc.value)
    assert "'words', 'chars' or a positive int" in str(exc.value)


# -- split_message shape ----------------------------------------------------------------------


def test_text_reply_streams_words_then_a_last_chunk_with_usage() -> None:
    usage = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    message = AIMessage(
        "Hi there",
        id="m1",
        usage_metadata=usage,
        response_metadata={"model_name": "x", "finish_reason": "stop"},
    )
    chunks = split_message(message, "words")
    assert all(type(c) is AIMessageChunk for c in chunks)
    assert [c.content for c in chunks] == ["Hi ", "there", ""]
    assert [c.usage_metadata for c in chunks] == [None, None, usage]
    assert [c.chunk_position for c in chunks] == [None, None, "last"]
    assert chunks[-1].response_metadata == {"model_name": "x", "finish_reason": "stop"}
    assert all(c.response_metadata == {} for c in chunks[:-1])
    assert {c.id for c in chunks} == {"m1"}


def test_tool_call_streams_name_and_id_first_then_json_fragments() -> None:
    message = AIMessage("", tool_calls=[{"name": "f", "args": {"city": "Paris"}, "id": "c1"}])
    chunks = split_message(message, 4)
    pieces = [c.tool_call_chunks[0] for c in chunks[:-1]]
    assert pieces[0]["name"] == "f"
    assert pieces[0]["id"] == "c1"
    assert all(p["name"] is None and p["id"] is None for p in pieces[1:])
    assert {p["index"] for p in pieces} == {0}
    assert "".join(p["args"] for p in pieces) == json.dumps({"city": "Paris"})
    assert len(pieces) > 1


def test_reasoning_blocks_stream_as_reasoning_with_signature_last() -> None:
    message = AIMessage(
        [
            {"type": "reasoning", "reasoning": "think a bit", "extras": {"signature": "s"}},
            {"type": "text", "text": "answer"},
        ]
    )
    chunks = split_message(message, "words")
    reasoning = [c.content[0] for c in chunks if c.content and c.content[0]["type"] == "reasoning"]
    assert [b["reasoning"] for b in reasoning] == ["think ", "a ", "bit"]
    assert [("extras" in b) for b in reasoning] == [False, False, True]


def test_bare_strings_and_other_blocks_travel_whole() -> None:
    message = AIMessage(["bare words", {"type": "image", "url": "u"}, {"type": "text", "text": ""}])
    for policy in POLICIES:
        assert roundtrip(message, policy) == message


def test_invalid_tool_calls_keep_name_args_and_id() -> None:
    bad = invalid_tool_call(name="f", args='{"a": ', id="c1", error="cut off")
    merged = roundtrip(AIMessage("", invalid_tool_calls=[bad]), 2)
    (got,) = merged.invalid_tool_calls
    assert (got["name"], got["args"], got["id"]) == ("f", '{"a": ', "c1")
    # the error is recomputed from the arguments when they are parsed again
    assert got["error"].startswith("arguments are not valid JSON")


@pytest.mark.parametrize("policy", POLICIES)
def test_every_field_survives_a_roundtrip(policy: Any) -> None:
    message = AIMessage(
        [
            {"type": "reasoning", "reasoning": "let me see", "id": "r1", "extras": {"sig": "s"}},
            {"type": "text", "text": "Paris is sunny", "annotations": [{"type": "citation"}]},
        ],
        id="msg_1",
        name="bot",
        tool_calls=[
            {"name": "get_weather", "args": {"city": "Paris", "days": [1, 2]}, "id": None},
            {"name": "noop", "args": {}, "id": "c2"},
        ],
        usage_metadata={
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
            "output_token_details": {"reasoning": 2},
        },
        response_metadata={"model_name": "m", "logprobs": {"content": [{"t": 1}]}},
        additional_kwargs={"refusal": None, "x": [1]},
    )
    assert roundtrip(message, policy) == message


# -- the property -----------------------------------------------------------------------------

_short_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
# built once: constructing strategies inside a draw is what makes property tests slow
_base_messages = st.one_of(
    ai_messages(),
    ai_messages(reasoning=True),
    ai_messages(blocks=True, max_tool_calls=2),
)
_odd_blocks = st.sampled_from(
    [
        {"type": "image", "url": "https://example.com/a.png"},
        {"type": "non_standard", "value": {"k": 1}},
        "a bare string",
        {"type": "text", "text": ""},
    ]
)


@st.composite
def varied_ai_messages(draw: st.DrawFn) -> AIMessage:
    """`myna.strategies.ai_messages` plus ids, names, metadata, id-less calls and odd blocks."""
    base = draw(_base_messages)
    update: dict[str, Any] = {}
    if draw(st.booleans()):
        update["id"] = draw(st.sampled_from(["msg_01", "run-abc", "chatcmpl-1"]))
    if draw(st.booleans()):
        update["name"] = draw(st.sampled_from(["bot", "assistant"]))
    if draw(st.booleans()):
        update["response_metadata"] = {
            "model_name": draw(_short_text),
            "finish_reason": draw(st.sampled_from(["stop", "tool_calls", "length"])),
        }
    if draw(st.booleans()):
        update["additional_kwargs"] = {"extra": draw(_short_text)}
    if base.tool_calls and draw(st.booleans()):
        update["tool_calls"] = [{**c, "id": None} for c in base.tool_calls]
    if isinstance(base.content, list) and draw(st.booleans()):
        update["content"] = [*base.content, draw(_odd_blocks)]
    return base.model_copy(update=update)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=varied_ai_messages(), chunking=chunkings())
def test_merged_chunks_equal_the_message(message: AIMessage, chunking: Any) -> None:
    chunks = split_message(message, chunking)
    assert chunks[-1].chunk_position == "last"
    assert all(c.chunk_position is None for c in chunks[:-1])
    assert merge_chunks(chunks).to_message() == message


@settings(max_examples=20, deadline=None)
@given(message=ai_messages(), chunking=chunkings())
def test_folding_plus_equals_merge_chunks(message: AIMessage, chunking: Any) -> None:
    chunks = split_message(message, chunking)
    assert sum(chunks).to_message() == message
