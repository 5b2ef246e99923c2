"""encode_request: messages and neutral params -> the POST /v1/messages body."""

from __future__ import annotations

import base64

import pytest

from myna.codecs import anthropic_messages as codec
from myna.codecs import get_codec
from myna.exceptions import UserError
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

P = {"model": "claude-haiku-4-5"}


def test_module_constants_and_registry():
    assert get_codec("anthropic-messages") is codec
    assert codec.PROTOCOL == "anthropic-messages"
    assert codec.STREAM_FORMAT == "sse"
    assert codec.SSE_EVENT_FIELD == "type"
    assert codec.DEFAULT_MAX_TOKENS == 1024


def test_minimal_body_defaults_max_tokens():
    body = codec.encode_request([HumanMessage("hi")], P)
    assert body == {
        "model": "claude-haiku-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_coerces_plain_inputs():
    body = codec.encode_request("hi", P)
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_model_is_required():
    with pytest.raises(UserError, match=r"needs a model name: pass params\['model'\]"):
        codec.encode_request([HumanMessage("hi")], {})


def test_system_messages_join_into_top_level_string():
    body = codec.encode_request(
        [SystemMessage("Be brief."), SystemMessage("Be kind."), HumanMessage("hi")], P
    )
    assert body["system"] == "Be brief.\n\nBe kind."
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_system_with_cache_control_becomes_text_blocks():
    marker = {"type": "ephemeral", "ttl": "1h"}
    system = SystemMessage(
        [{"type": "text", "text": "long rules", "extras": {"cache_control": marker}}]
    )
    body = codec.encode_request([system, HumanMessage("hi")], P)
    assert body["system"] == [{"type": "text", "text": "long rules", "cache_control": marker}]


def test_message_level_cache_control_marks_last_block():
    marker = {"type": "ephemeral"}
    msg = HumanMessage("doc", additional_kwargs={"cache_control": marker})
    body = codec.encode_request([msg], P)
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "doc", "cache_control": marker}
    ]


def test_raw_cache_control_on_a_block_passes_through():
    marker = {"type": "ephemeral"}
    msg = HumanMessage([{"type": "text", "text": "doc", "cache_control": marker}])
    body = codec.encode_request([msg], P)
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "doc", "cache_control": marker}
    ]


def test_system_after_conversation_started_is_refused():
    with pytest.raises(UserError, match="SystemMessage after the conversation started"):
        codec.encode_request([HumanMessage("hi"), SystemMessage("late")], P)


def test_system_image_is_refused():
    system = SystemMessage([{"type": "image", "url": "https://x/y.png"}])
    with pytest.raises(UserError, match="system prompt takes only text blocks"):
        codec.encode_request([system, HumanMessage("hi")], P)


def test_tool_results_merge_into_one_user_turn():
    ai = AIMessage(
        "Checking.",
        tool_calls=[
            {"name": "lookup", "args": {"q": "a"}, "id": "toolu_1"},
            {"name": "lookup", "args": {"q": "b"}, "id": "toolu_2"},
        ],
    )
    body = codec.encode_request(
        [
            HumanMessage("find"),
            ai,
            ToolMessage("A", tool_call_id="toolu_1"),
            ToolMessage("boom", tool_call_id="toolu_2", status="error"),
            HumanMessage("thanks"),
        ],
        P,
    )
    assert body["messages"] == [
        {"role": "user", "content": "find"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "a"}},
                {"type": "tool_use", "id": "toolu_2", "name": "lookup", "input": {"q": "b"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "A"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": "boom",
                    "is_error": True,
                },
            ],
        },
        {"role": "user", "content": "thanks"},
    ]


def test_tool_result_with_image_blocks():
    result = ToolMessage(
        [{"type": "text", "text": "chart"}, {"type": "image", "base64": "iVBORw0K"}],
        tool_call_id="toolu_1",
    )
    body = codec.encode_request([HumanMessage("x"), result], P)
    assert body["messages"][1]["content"][0]["content"] == [
        {"type": "text", "text": "chart"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
        },
    ]


def test_langchain_style_tool_use_in_content_is_not_duplicated():
    ai = AIMessage(
        [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": 1}}],
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "toolu_1"}],
    )
    body = codec.encode_request(
        [HumanMessage("go"), ai, ToolMessage("1", tool_call_id="toolu_1")], P
    )
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"x": 1}}
    ]


def test_reasoning_round_trips_with_signature_and_redacted_data():
    ai = AIMessage(
        [
            {"type": "reasoning", "reasoning": "think", "extras": {"signature": "SIG"}},
            {"type": "reasoning", "extras": {"redacted": "OPAQUE"}},
            {"type": "reasoning", "reasoning": "from another provider"},
            {"type": "text", "text": "Answer"},
            {"type": "text", "text": ""},
        ]
    )
    body = codec.encode_request([HumanMessage("q"), ai, HumanMessage("more")], P)
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "think", "signature": "SIG"},
        {"type": "redacted_thinking", "data": "OPAQUE"},
        {"type": "text", "text": "Answer"},
    ]


def test_prefill_keeps_final_assistant_string():
    body = codec.encode_request([HumanMessage("Write code"), AIMessage("```python")], P)
    assert body["messages"][-1] == {"role": "assistant", "content": "```python"}


def test_images_from_every_source_shape():
    msg = HumanMessage(
        [
            {"type": "text", "text": "what?"},
            {"type": "image", "base64": "/9j/AAA"},  # sniffed as JPEG
            {"type": "image", "base64": "AAAA", "mime_type": "image/webp"},
            {"type": "image", "url": "https://example.com/a.png"},
            {"type": "image", "file_id": "file_1"},
            {"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lGOD"}},
            {"type": "image", "source": {"type": "url", "url": "https://raw"}},
        ]
    )
    content = codec.encode_request([msg], P)["messages"][0]["content"]
    assert [c["source"] for c in content[1:]] == [
        {"type": "base64", "media_type": "image/jpeg", "data": "/9j/AAA"},
        {"type": "base64", "media_type": "image/webp", "data": "AAAA"},
        {"type": "url", "url": "https://example.com/a.png"},
        {"type": "file", "file_id": "file_1"},
        {"type": "base64", "media_type": "image/gif", "data": "R0lGOD"},
        {"type": "url", "url": "https://raw"},
    ]


def test_image_without_mime_type_or_known_magic_is_refused():
    with pytest.raises(
        UserError, match="no mime_type, and its bytes are not PNG, JPEG, GIF or WebP"
    ):
        codec.encode_request([HumanMessage([{"type": "image", "base64": "AAAA"}])], P)


def test_documents_pdf_text_url_and_file():
    text64 = base64.b64encode(b"plain words").decode()
    msg = HumanMessage(
        [
            {
                "type": "file",
                "base64": "JVBERi0",
                "mime_type": "application/pdf",
                "extras": {"title": "Report", "citations": {"enabled": True}},
            },
            {"type": "file", "base64": text64, "mime_type": "text/plain"},
            {"type": "file", "url": "https://example.com/a.pdf"},
            {"type": "file", "file_id": "file_9"},
            {"type": "text-plain", "text": "inline", "title": "Notes"},
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": "d"},
                "context": "ctx",
            },
        ]
    )
    content = codec.encode_request([msg], P)["messages"][0]["content"]
    assert content == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0"},
            "title": "Report",
            "citations": {"enabled": True},
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "plain words"},
        },
        {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
        {"type": "document", "source": {"type": "file", "file_id": "file_9"}},
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "inline"},
            "title": "Notes",
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "d"},
            "context": "ctx",
        },
    ]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            {"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"},
            "cannot take a 'audio' block",
        ),
        ({"type": "video", "url": "https://v"}, "cannot take a 'video' block"),
        (
            {"type": "file", "base64": "AAAA", "mime_type": "application/zip"},
            "takes PDF and plain-text documents, not 'application/zip'",
        ),
        ({"type": "reasoning", "reasoning": "x"}, "cannot take a 'reasoning' block"),
    ],
    ids=["audio", "video", "zip", "reasoning"],
)
def test_inputs_anthropic_cannot_carry_are_refused(block, message):
    with pytest.raises(UserError, match=message) as exc:
        codec.encode_request([HumanMessage([block])], P)
    assert "messages[0].content[0]" in str(exc.value)


def test_image_in_assistant_turn_is_refused():
    ai = AIMessage([{"type": "image", "url": "https://x"}])
    with pytest.raises(
        UserError, match=r"messages\[1\].content\[0\]: Anthropic Messages cannot carry a 'image'"
    ):
        codec.encode_request([HumanMessage("q"), ai], P)


def test_server_tool_blocks_go_back_as_wire_blocks():
    ai = AIMessage(
        [
            {
                "type": "server_tool_call",
                "id": "srvtoolu_1",
                "name": "web_search",
                "args": {"query": "q"},
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "srvtoolu_1",
                "status": "success",
                "output": [
                    {
                        "type": "web_search_result",
                        "url": "https://a",
                        "title": "A",
                        "encrypted_content": "E",
                    }
                ],
            },
            {
                "type": "text",
                "text": "Cited.",
                "annotations": [
                    {
                        "type": "citation",
                        "url": "https://a",
                        "title": "A",
                        "cited_text": "c",
                        "extras": {"type": "web_search_result_location", "encrypted_index": "I"},
                    },
                    {"type": "citation", "url": "https://openai-only"},
                ],
            },
        ]
    )
    content = codec.encode_request([HumanMessage("q"), ai], P)["messages"][1]["content"]
    assert content == [
        {
            "type": "server_tool_use",
            "id": "srvtoolu_1",
            "name": "web_search",
            "input": {"query": "q"},
        },
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": [
                {
                    "type": "web_search_result",
                    "url": "https://a",
                    "title": "A",
                    "encrypted_content": "E",
                }
            ],
        },
        {
            "type": "text",
            "text": "Cited.",
            "citations": [
                {
                    "type": "web_search_result_location",
                    "encrypted_index": "I",
                    "cited_text": "c",
                    "url": "https://a",
                    "title": "A",
                }
            ],
        },
    ]


def test_tools_specs_openai_dicts_and_server_tools():
    tools = [
        {
            "name": "get_weather",
            "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": True,
        },
        {"type": "function", "function": {"name": "ping", "description": "", "parameters": {}}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        {"name": "raw", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
    ]
    body = codec.encode_request([HumanMessage("q")], {**P, "tools": tools})
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": True,
        },
        {"name": "ping", "input_schema": {"type": "object", "properties": {}}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        {"name": "raw", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
    ]


def test_tool_that_is_not_a_dict_is_refused():
    with pytest.raises(UserError, match=r"params\['tools'\]\[0\] must be a dict"):
        codec.encode_request([HumanMessage("q")], {**P, "tools": [print]})


@pytest.mark.parametrize(
    ("choice", "parallel", "wire"),
    [
        ("auto", None, {"type": "auto"}),
        ("any", None, {"type": "any"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        ("get_weather", None, {"type": "tool", "name": "get_weather"}),
        ({"type": "function", "function": {"name": "f"}}, None, {"type": "tool", "name": "f"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("any", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
        ("auto", True, {"type": "auto"}),
    ],
)
def test_tool_choice_and_parallel_tool_calls(choice, parallel, wire):
    params = {**P, "tools": [{"name": "f", "description": "", "parameters": {}}]}
    params.update(tool_choice=choice, parallel_tool_calls=parallel)
    assert codec.encode_request([HumanMessage("q")], params)["tool_choice"] == wire


def test_bad_tool_choice_is_refused():
    with pytest.raises(UserError, match="tool_choice=3 is not understood"):
        codec.encode_request([HumanMessage("q")], {**P, "tool_choice": 3})


def test_structured_output_uses_output_config_format():
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    body = codec.encode_request(
        [HumanMessage("dog")],
        {
            **P,
            "response_format": {"type": "json_schema", "name": "Dog", "schema": schema},
            "reasoning_effort": "minimal",
        },
    )
    assert body["output_config"] == {
        "format": {"type": "json_schema", "schema": schema},
        "effort": "low",
    }


def test_json_object_mode_is_refused():
    with pytest.raises(UserError, match="no schema-less JSON mode"):
        codec.encode_request([HumanMessage("q")], {**P, "response_format": {"type": "json_object"}})


def test_sampling_stop_stream_cache_and_passthrough():
    body = codec.encode_request(
        [HumanMessage("q")],
        {
            **P,
            "temperature": 0.2,
            "top_p": 0.9,
            "seed": 7,
            "stop": "END",
            "stream": True,
            "stream_usage": True,
            "cache_control": {"type": "ephemeral", "ttl": "5m"},
            "top_k": 5,
            "metadata": {"user_id": "u"},
            "max_tokens": 50,
            "temperature_unused": None,
            "extra_body": {"service_tier": "auto"},
        },
    )
    assert body == {
        "model": "claude-haiku-4-5",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "q"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "stream": True,
        "cache_control": {"type": "ephemeral", "ttl": "5m"},
        "top_k": 5,
        "metadata": {"user_id": "u"},
        "service_tier": "auto",
    }


def test_reasoning_budget_enables_thinking_and_lifts_default_max_tokens():
    body = codec.encode_request([HumanMessage("q")], {**P, "reasoning_budget": 2048})
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 2048 + 1024
    off = codec.encode_request([HumanMessage("q")], {**P, "reasoning_budget": 0})
    assert off["thinking"] == {"type": "disabled"}
    assert off["max_tokens"] == 1024


def test_logprobs_are_refused():
    with pytest.raises(UserError, match="does not return log probabilities"):
        codec.encode_request([HumanMessage("q")], {**P, "logprobs": True})


def test_system_twice_is_refused():
    with pytest.raises(UserError, match="Pass the system prompt once"):
        codec.encode_request([SystemMessage("a"), HumanMessage("q")], {**P, "system": "b"})


def test_invalid_tool_call_goes_back_with_empty_input():
    ai = AIMessage(
        "",
        invalid_tool_calls=[{"name": "f", "args": "{bad", "id": "toolu_x", "error": "bad json"}],
    )
    body = codec.encode_request(
        [HumanMessage("q"), ai, ToolMessage("err", tool_call_id="toolu_x", status="error")], P
    )
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "toolu_x", "name": "f", "input": {}}
    ]


def test_non_standard_block_must_wrap_a_typed_dict():
    ai = AIMessage([{"type": "non_standard", "value": "oops"}])
    with pytest.raises(UserError, match="must wrap an Anthropic block dict with a 'type'"):
        codec.encode_request([HumanMessage("q"), ai], P)
    with pytest.raises(UserError, match="must wrap an Anthropic block dict"):
        codec.encode_request([HumanMessage([{"type": "non_standard", "value": 3}])], P)


def test_raw_anthropic_blocks_in_user_content_pass_through():
    block = {"type": "search_result", "source": "s", "title": "t", "content": []}
    body = codec.encode_request([HumanMessage([block])], P)
    assert body["messages"][0]["content"] == [block]
