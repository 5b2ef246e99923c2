"""Message conversion between myna and LangChain: lossless both ways."""

from __future__ import annotations

import pytest
from langchain_core import messages as lc

from myna.exceptions import UserError
from myna.interop.langchain import (
    chunk_from_langchain,
    chunk_to_langchain,
    message_from_langchain,
    message_to_langchain,
    messages_from_langchain,
    messages_to_langchain,
)
from myna.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    build_usage,
    tool_call_chunk,
)

BLOCKS = [
    {"type": "reasoning", "reasoning": "Think.", "extras": {"signature": "sig"}},
    {"type": "text", "text": "See ", "annotations": [{"type": "citation", "url": "u"}]},
    {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
    {"type": "server_tool_call", "id": "s1", "name": "web_search", "args": {"q": "x"}},
    {"type": "server_tool_result", "tool_call_id": "s1", "status": "success", "output": [1]},
    {"type": "tool_call", "id": "c1", "name": "get_weather", "args": {"city": "Paris"}},
]
USAGE = build_usage(120, 30, cache_read=100, cache_creation=5, reasoning=12, input_audio=2)

MESSAGES = [
    SystemMessage("Be brief.", name="rules", id="m0"),
    HumanMessage(
        [{"type": "text", "text": "What is this?"}, {"type": "image", "url": "https://x/a.png"}]
    ),
    AIMessage(
        BLOCKS,
        id="m2",
        tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}],
        invalid_tool_calls=[
            {
                "name": "bad",
                "args": "{oops",
                "id": "c2",
                "error": "not JSON",
                "type": "invalid_tool_call",
            }
        ],
        usage_metadata=USAGE,
        response_metadata={"model_name": "m", "finish_reason": "tool_calls"},
        additional_kwargs={"refusal": None, "x": 1},
    ),
    ToolMessage("22C", tool_call_id="c1", status="error", artifact={"raw": 22}, name="get_weather"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_myna_to_langchain_and_back_is_lossless(message) -> None:
    converted = message_to_langchain(message)
    assert type(converted).__name__ == type(message).__name__
    assert message_from_langchain(converted) == message


def test_langchain_fields_arrive_as_given() -> None:
    ai = message_to_langchain(MESSAGES[2])
    assert ai.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1", "type": "tool_call"}
    ]
    assert ai.usage_metadata == USAGE
    assert ai.invalid_tool_calls[0]["error"] == "not JSON"
    assert [b["type"] for b in ai.content_blocks][:5] == [
        "reasoning",
        "text",
        "image",
        "server_tool_call",
        "server_tool_result",
    ]


def test_langchain_to_myna_and_back_is_lossless() -> None:
    originals = [
        lc.SystemMessage("Be brief."),
        lc.HumanMessage("Hi", name="ada", id="h1"),
        lc.AIMessage(
            "",
            tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c", "type": "tool_call"}],
            usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
            id="a1",
        ),
        lc.ToolMessage("ok", tool_call_id="c"),
    ]
    back = messages_to_langchain(messages_from_langchain(originals))
    assert back == originals


def test_chunks_convert_both_ways_and_merge_like_the_originals() -> None:
    pieces = [
        AIMessageChunk("Hel", id="r1"),
        AIMessageChunk(
            "lo", tool_call_chunks=[tool_call_chunk(name="f", args='{"a":', id="c", index=0)]
        ),
        AIMessageChunk("", tool_call_chunks=[tool_call_chunk(args=" 1}", index=0)]),
        AIMessageChunk("", usage_metadata=USAGE, chunk_position="last"),
    ]
    lc_chunks = [chunk_to_langchain(c) for c in pieces]
    merged = lc_chunks[0] + lc_chunks[1:]
    assert merged.text == "Hello"
    assert merged.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c", "type": "tool_call"}]
    assert merged.usage_metadata == USAGE and merged.chunk_position == "last"
    mine = sum(pieces[1:], pieces[0])
    assert chunk_from_langchain(merged).to_message() == mine.to_message()


def test_a_whole_langchain_message_becomes_a_last_chunk() -> None:
    chunk = chunk_from_langchain(lc.AIMessage("Hi", id="x"))
    assert chunk.chunk_position == "last" and chunk.text == "Hi" and chunk.id == "x"


def test_chat_message_roles_map_and_unknown_kinds_are_named() -> None:
    assert isinstance(message_from_langchain(lc.ChatMessage("hi", role="user")), HumanMessage)
    developer = message_from_langchain(lc.ChatMessage("rules", role="developer"))
    assert isinstance(developer, SystemMessage)
    assert developer.additional_kwargs["__openai_role__"] == "developer"
    with pytest.raises(UserError, match="FunctionMessage"):
        message_from_langchain(lc.FunctionMessage("x", name="f"))
    with pytest.raises(UserError, match="role 'critic'"):
        message_from_langchain(lc.ChatMessage("x", role="critic"))


def test_conversion_never_mutates_the_callers_content() -> None:
    content = [{"type": "text", "text": "hi"}]
    converted = message_to_langchain(HumanMessage(content))
    converted.content.append({"type": "text", "text": "more"})
    assert content == [{"type": "text", "text": "hi"}]
