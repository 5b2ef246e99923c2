"""Message classes: construction, validation errors, `.text` and `.content_blocks`."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from myna.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    invalid_tool_call,
    standard_blocks,
)

# -- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [SystemMessage, HumanMessage, AIMessage, AIMessageChunk])
def test_content_may_be_positional_or_keyword(cls: type) -> None:
    assert cls("hi").content == "hi"
    assert cls(content="hi").content == "hi"
    assert cls().content == ""
    assert cls([{"type": "text", "text": "hi"}]).text == "hi"


def test_content_given_twice_is_an_error() -> None:
    with pytest.raises(TypeError, match="content was given both positionally and as content="):
        HumanMessage("a", content="b")


@pytest.mark.parametrize("cls", [SystemMessage, HumanMessage, AIMessage])
def test_unknown_keyword_is_an_error(cls: type) -> None:
    with pytest.raises(ValidationError) as exc:
        cls("hi", foo="bar")
    assert "foo" in str(exc.value)
    assert "Extra inputs are not permitted" in str(exc.value)


def test_type_discriminators() -> None:
    assert SystemMessage("s").type == "system"
    assert HumanMessage("h").type == "human"
    assert AIMessage("a").type == "ai"
    assert AIMessageChunk("a").type == "AIMessageChunk"
    assert ToolMessage("t", tool_call_id="1").type == "tool"


def test_tool_message_without_tool_call_id_says_how_to_fix_it() -> None:
    with pytest.raises(TypeError) as exc:
        ToolMessage("22C")
    assert str(exc.value) == (
        "ToolMessage needs tool_call_id=, the id of the AIMessage tool call it answers, "
        "e.g. ToolMessage('22C', tool_call_id=msg.tool_calls[0]['id'])."
    )


def test_tool_message_coerces_content_and_id() -> None:
    call_id = uuid.uuid4()
    msg = ToolMessage(42, tool_call_id=call_id)
    assert msg.content == "42"
    assert msg.tool_call_id == str(call_id)
    assert ToolMessage({"a": [1]}, tool_call_id=3).content == '{"a": [1]}'
    assert ToolMessage(content="x", tool_call_id="c").content == "x"
    assert ToolMessage("x", tool_call_id="c").status == "success"
    assert ToolMessage("x", tool_call_id="c", status="error").status == "error"
    assert ToolMessage("x", tool_call_id="c", artifact={"rows": 3}).artifact == {"rows": 3}


def test_tool_message_rejects_unknown_status() -> None:
    with pytest.raises(ValidationError, match="status"):
        ToolMessage("x", tool_call_id="c", status="failed")


def test_tool_calls_are_normalised() -> None:
    msg = AIMessage(
        "",
        tool_calls=[
            {"name": "f", "args": {"a": 1}, "id": "c1"},
            {"name": "g", "index": 0, "extras": {"x": 1}},  # no id, no args, stray keys
        ],
    )
    assert msg.tool_calls == [
        {"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"},
        {"name": "g", "args": {}, "id": None, "type": "tool_call"},
    ]


def test_tool_call_with_string_args_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        AIMessage("", tool_calls=[{"name": "f", "args": '{"a": 1}', "id": "c1"}])
    text = str(exc.value)
    assert "tool_calls[0]['args'] is a string" in text
    assert "it must be a dict" in text
    assert "invalid_tool_calls" in text


def test_tool_call_that_is_not_a_dict_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        AIMessage("", tool_calls=["get_weather"])
    assert "tool_calls[0] must be a dict like" in str(exc.value)
    assert "myna.fakes.tool_call(name, **args)" in str(exc.value)


def test_tool_call_without_name_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"tool_calls\[0\] has no 'name'"):
        AIMessage("", tool_calls=[{"args": {}}])


def test_adding_non_chunk_messages_is_an_error() -> None:
    with pytest.raises(TypeError) as exc:
        HumanMessage("a") + HumanMessage("b")
    assert "only AIMessageChunk supports '+'" in str(exc.value)
    assert "put the messages in a list" in str(exc.value)


def test_adding_a_full_message_to_a_chunk_is_an_error() -> None:
    with pytest.raises(TypeError, match="Cannot add AIMessage to AIMessageChunk"):
        AIMessageChunk("a") + AIMessage("b")


def test_repr_shows_only_set_fields() -> None:
    assert repr(HumanMessage("hi")) == "HumanMessage('hi')"
    assert repr(AIMessage("x", id="m1")) == "AIMessage('x', id='m1')"


def test_equality_is_field_equality() -> None:
    assert AIMessage("x", id="1") == AIMessage("x", id="1")
    assert AIMessage("x", id="1") != AIMessage("x", id="2")
    assert AIMessage("x") != AIMessageChunk("x")


# -- .text ----------------------------------------------------------------------------------


def test_text_of_string_content() -> None:
    assert HumanMessage("hello").text == "hello"


def test_text_joins_strings_and_text_blocks_only() -> None:
    msg = AIMessage(
        [
            "a",
            {"type": "reasoning", "reasoning": "hidden"},
            {"type": "text", "text": "b"},
            {"type": "image", "url": "http://x"},
            {"type": "text", "text": None},
        ]
    )
    assert msg.text == "ab"


# -- .content_blocks ------------------------------------------------------------------------


def test_blocks_of_a_string() -> None:
    assert HumanMessage("hi").content_blocks == [{"type": "text", "text": "hi"}]
    assert HumanMessage("").content_blocks == []


def test_blocks_of_a_list_with_bare_strings() -> None:
    msg = HumanMessage(["a", "", {"type": "text", "text": "b", "annotations": []}])
    assert msg.content_blocks == [
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b", "annotations": []},
    ]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        pytest.param(
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "image", "base64": "AAAA", "mime_type": "image/png"},
            id="openai-image-data-uri",
        ),
        pytest.param(
            {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "high"}},
            {"type": "image", "url": "https://x/y.png", "extras": {"detail": "high"}},
            id="openai-image-url-detail",
        ),
        pytest.param(
            {"type": "image_url", "image_url": "https://x/y.png"},
            {"type": "image", "url": "https://x/y.png"},
            id="openai-image-url-bare-string",
        ),
        pytest.param(
            {"type": "input_audio", "input_audio": {"data": "BBB", "format": "mp3"}},
            {"type": "audio", "base64": "BBB", "mime_type": "audio/mp3"},
            id="openai-input-audio",
        ),
        pytest.param(
            {"type": "file", "file": {"file_id": "file-1"}},
            {"type": "file", "file_id": "file-1"},
            id="openai-file-id",
        ),
        pytest.param(
            {
                "type": "file",
                "file": {"file_data": "data:application/pdf;base64,CCC", "filename": "a.pdf"},
            },
            {
                "type": "file",
                "base64": "CCC",
                "mime_type": "application/pdf",
                "extras": {"filename": "a.pdf"},
            },
            id="openai-file-data",
        ),
        pytest.param(
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/jpeg", "data": "DDD"},
                "cache_control": {"type": "ephemeral"},
            },
            {
                "type": "image",
                "base64": "DDD",
                "mime_type": "image/jpeg",
                "extras": {"cache_control": {"type": "ephemeral"}},
            },
            id="anthropic-image-base64",
        ),
        pytest.param(
            {"type": "image", "source": {"type": "url", "url": "https://u"}},
            {"type": "image", "url": "https://u"},
            id="anthropic-image-url",
        ),
        pytest.param(
            {"type": "document", "source": {"type": "file", "file_id": "F"}},
            {"type": "file", "file_id": "F"},
            id="anthropic-document-file",
        ),
        pytest.param(
            {"type": "document", "source": {"type": "text", "data": "plain words"}},
            {"type": "text-plain", "mime_type": "text/plain", "text": "plain words"},
            id="anthropic-document-text",
        ),
        pytest.param(
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "reasoning", "reasoning": "hmm", "extras": {"signature": "sig"}},
            id="anthropic-thinking",
        ),
        pytest.param(
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "reasoning", "extras": {"redacted": "opaque"}},
            id="anthropic-redacted-thinking",
        ),
        pytest.param(
            {"type": "image", "source_type": "url", "url": "https://v"},
            {"type": "image", "url": "https://v"},
            id="langchain-v0-url",
        ),
        pytest.param(
            {"type": "file", "source_type": "base64", "data": "QQ", "mime_type": "application/pdf"},
            {"type": "file", "base64": "QQ", "mime_type": "application/pdf"},
            id="langchain-v0-base64",
        ),
        pytest.param(
            {"type": "image", "url": "https://w", "mime_type": "image/png"},
            {"type": "image", "url": "https://w", "mime_type": "image/png"},
            id="standard-passes-through",
        ),
        pytest.param(
            {"type": "mystery", "payload": 1},
            {"type": "non_standard", "value": {"type": "mystery", "payload": 1}},
            id="unknown-to-non-standard",
        ),
        pytest.param(
            {"no_type": True},
            {"type": "non_standard", "value": {"no_type": True}},
            id="untyped-to-non-standard",
        ),
    ],
)
def test_provider_blocks_become_standard_blocks(block: dict, expected: dict) -> None:
    original = {k: (dict(v) if isinstance(v, dict) else v) for k, v in block.items()}
    assert HumanMessage([block]).content_blocks == [expected]
    assert block == original  # never mutates the content it reads


def test_standard_blocks_function_matches_property() -> None:
    content = ["x", {"type": "reasoning", "reasoning": "r"}]
    assert standard_blocks(content) == AIMessage(content).content_blocks


def test_ai_blocks_include_tool_calls_even_without_id() -> None:
    msg = AIMessage(
        "calling",
        tool_calls=[
            {"name": "f", "args": {"a": 1}, "id": None},
            {"name": "g", "args": {}, "id": None},
        ],
    )
    assert msg.content_blocks == [
        {"type": "text", "text": "calling"},
        {"type": "tool_call", "id": None, "name": "f", "args": {"a": 1}},
        {"type": "tool_call", "id": None, "name": "g", "args": {}},
    ]


def test_ai_blocks_do_not_repeat_tool_calls_already_in_content() -> None:
    block = {"type": "tool_call", "id": "c1", "name": "f", "args": {}}
    msg = AIMessage([block], tool_calls=[{"name": "f", "args": {}, "id": "c1"}])
    assert msg.content_blocks == [block]


def test_ai_blocks_include_invalid_tool_calls_and_reasoning_content() -> None:
    bad = invalid_tool_call(name="g", args="{", id="c2", error="bad JSON")
    msg = AIMessage(
        "answer",
        invalid_tool_calls=[bad],
        additional_kwargs={"reasoning_content": "thinking..."},
    )
    assert msg.content_blocks == [
        {"type": "reasoning", "reasoning": "thinking..."},
        {"type": "text", "text": "answer"},
        {"type": "invalid_tool_call", "name": "g", "args": "{", "id": "c2", "error": "bad JSON"},
    ]


def test_reasoning_content_is_not_added_twice() -> None:
    msg = AIMessage(
        [{"type": "reasoning", "reasoning": "r"}], additional_kwargs={"reasoning_content": "r"}
    )
    assert [b["type"] for b in msg.content_blocks] == ["reasoning"]
