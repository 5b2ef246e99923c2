"""Client side of the Anthropic Messages codec: encode_request, decode_response, decode_error."""

from __future__ import annotations

import base64
import json

import pytest

from myna.codecs import anthropic_messages as codec
from myna.exceptions import (
    ContextLengthError,
    DecodeError,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    ServerError,
    UserError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

P = {"model": "claude-haiku-4-5"}


def test_default_max_tokens():
    # registry and protocol facts: test_conformance.py
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


USAGE = {
    "input_tokens": 10,
    "cache_creation_input_tokens": 20,
    "cache_read_input_tokens": 30,
    "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 5,
    "service_tier": "standard",
}


def response(content, **extra):
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    body.update(extra)
    return body


def test_plain_text_reply_is_a_string_with_metadata():
    msg = codec.decode_response(response([{"type": "text", "text": "Hello"}]))
    assert msg.content == "Hello"
    assert msg.id == "msg_1"
    assert msg.response_metadata == {
        "model_provider": "anthropic",
        "model_name": "claude-haiku-4-5-20251001",
        "id": "msg_1",
        "finish_reason": "stop",
        "stop_reason": "end_turn",
    }
    assert msg.usage_metadata == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}


def test_usage_counts_cache_reads_and_writes_as_input():
    msg = codec.decode_response(response([{"type": "text", "text": "x"}], usage=USAGE))
    assert msg.usage_metadata["input_tokens"] == 60
    assert msg.usage_metadata["total_tokens"] == 65
    assert msg.usage_metadata["input_token_details"]["cache_read"] == 30
    assert msg.usage_metadata["input_token_details"]["cache_creation"] == 20
    assert msg.response_metadata["cache_creation"]["ephemeral_5m_input_tokens"] == 20
    assert msg.response_metadata["service_tier"] == "standard"


def test_thinking_tokens_become_reasoning_details():
    usage = {"input_tokens": 1, "output_tokens": 9, "output_tokens_details": {"thinking_tokens": 6}}
    msg = codec.decode_response(response([{"type": "text", "text": "x"}], usage=usage))
    assert msg.usage_metadata["output_token_details"] == {"reasoning": 6}


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "refusal"),
        ("brand_new_reason", "brand_new_reason"),
    ],
)
def test_stop_reasons_are_normalised_and_kept(stop_reason, finish):
    msg = codec.decode_response(response([], stop_reason=stop_reason))
    assert msg.response_metadata["finish_reason"] == finish
    assert msg.response_metadata["stop_reason"] == stop_reason


def test_stop_sequence_is_kept():
    msg = codec.decode_response(response([], stop_reason="stop_sequence", stop_sequence="```"))
    assert msg.response_metadata["stop_sequence"] == "```"


def test_tool_use_blocks_become_tool_calls():
    msg = codec.decode_response(
        response(
            [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"q": "a"}},
                {"type": "tool_use", "id": "toolu_2", "name": "f", "input": {}},
            ],
            stop_reason="tool_use",
        )
    )
    assert msg.content == "Checking."
    assert msg.tool_calls == [
        {"name": "f", "args": {"q": "a"}, "id": "toolu_1", "type": "tool_call"},
        {"name": "f", "args": {}, "id": "toolu_2", "type": "tool_call"},
    ]


def test_tool_use_with_string_input_that_does_not_parse_is_invalid():
    msg = codec.decode_response(
        response([{"type": "tool_use", "id": "toolu_1", "name": "f", "input": "{oops"}])
    )
    assert msg.tool_calls == []
    assert msg.invalid_tool_calls[0]["args"] == "{oops"
    assert "not valid JSON" in msg.invalid_tool_calls[0]["error"]


def test_thinking_and_redacted_thinking_become_reasoning_blocks():
    msg = codec.decode_response(
        response(
            [
                {"type": "thinking", "thinking": "hmm", "signature": "SIG"},
                {"type": "redacted_thinking", "data": "OPAQUE"},
                {"type": "text", "text": "Answer"},
            ]
        )
    )
    assert msg.content == [
        {"type": "reasoning", "reasoning": "hmm", "extras": {"signature": "SIG"}},
        {"type": "reasoning", "extras": {"redacted": "OPAQUE"}},
        {"type": "text", "text": "Answer"},
    ]


def test_server_tools_and_citations():
    results = [
        {"type": "web_search_result", "url": "https://a", "title": "A", "encrypted_content": "E"}
    ]
    citation = {
        "type": "web_search_result_location",
        "url": "https://a",
        "title": "A",
        "cited_text": "c",
        "encrypted_index": "I",
    }
    msg = codec.decode_response(
        response(
            [
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "q"},
                },
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": results},
                {
                    "type": "web_fetch_tool_result",
                    "tool_use_id": "srvtoolu_2",
                    "content": {
                        "type": "web_fetch_tool_result_error",
                        "error_code": "url_not_accessible",
                    },
                },
                {"type": "text", "text": "Cited.", "citations": [citation]},
                {"type": "container_upload", "file_id": "f"},
            ],
            usage={
                "input_tokens": 1,
                "output_tokens": 1,
                "server_tool_use": {"web_search_requests": 1},
            },
        )
    )
    assert msg.content == [
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
            "output": results,
            "extras": {"block_type": "web_search_tool_result"},
        },
        {
            "type": "server_tool_result",
            "tool_call_id": "srvtoolu_2",
            "status": "error",
            "output": {"type": "web_fetch_tool_result_error", "error_code": "url_not_accessible"},
            "extras": {"block_type": "web_fetch_tool_result"},
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
                }
            ],
        },
        {"type": "non_standard", "value": {"type": "container_upload", "file_id": "f"}},
    ]
    assert msg.response_metadata["server_tool_use"] == {"web_search_requests": 1}


def test_document_citation_keeps_its_location_in_extras():
    citation = {
        "type": "char_location",
        "cited_text": "grass is green",
        "document_index": 0,
        "document_title": "Facts",
        "start_char_index": 0,
        "end_char_index": 14,
    }
    msg = codec.decode_response(response([{"type": "text", "text": "x", "citations": [citation]}]))
    assert msg.content[0]["annotations"] == [
        {
            "type": "citation",
            "title": "Facts",
            "cited_text": "grass is green",
            "extras": {
                "type": "char_location",
                "document_index": 0,
                "start_char_index": 0,
                "end_char_index": 14,
            },
        }
    ]


def test_error_body_raises_the_provider_error():
    with pytest.raises(OverloadedError, match="Overloaded"):
        codec.decode_response(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "must be a JSON object"),
        ({"id": "m"}, "no 'content'"),
        ({"content": "x", "model": 3}, "model must be a string"),
        ({"content": [{"text": "x"}]}, r"content.0 must be an object with a string 'type'"),
        ({"content": [{"type": "text", "text": 3}]}, r"content.0.text must be a string"),
        ({"content": [{"type": "tool_use", "name": "f"}]}, "needs string 'id' and 'name'"),
        (
            {"content": [{"type": "tool_use", "id": "t", "name": "f", "input": 3}]},
            "input must be an object",
        ),
        ({"content": [], "usage": {"input_tokens": "3"}}, "usage.input_tokens must be an integer"),
        ({"content": [], "usage": []}, "usage must be an object"),
        ({"content": [], "stop_reason": 1}, "stop_reason must be a string"),
        ({"content": [{"type": "thinking", "thinking": None}]}, "needs string 'thinking'"),
    ],
)
def test_malformed_responses_raise_decode_error(body, message):
    with pytest.raises(DecodeError, match=message):
        codec.decode_response(body)


def test_error_bodies_map_to_exception_classes_and_messages():
    body = {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: x"},
        "request_id": "req_1",
    }
    err = codec.decode_error(404, body)
    assert isinstance(err, NotFoundError)
    assert err.message == "model: x"
    assert str(err) == "model: x (anthropic 404)"
    assert err.body == body


def test_context_length_error_from_400():
    body = json.dumps(
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "prompt is too long: 3333404 tokens > 200000 maximum",
            },
        }
    )
    err = codec.decode_error(400, body.encode())
    assert isinstance(err, ContextLengthError)
    assert err.message.startswith("prompt is too long")


def test_529_is_overloaded_and_rate_limit_reads_retry_after():
    assert isinstance(
        codec.decode_error(
            529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        ),
        OverloadedError,
    )
    err = codec.decode_error(
        429,
        {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
        {"Retry-After": "17"},
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 17.0


def test_overloaded_error_type_wins_over_a_500_status():
    err = codec.decode_error(
        500, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )
    assert isinstance(err, OverloadedError)
    assert err.status_code == 500


def test_non_json_and_empty_error_bodies():
    err = codec.decode_error(413, b"<html><body>413 Request Entity Too Large</body></html>")
    assert isinstance(err, ContextLengthError)
    assert "413 Request Entity Too Large" in err.message
    empty = codec.decode_error(502, None)
    assert isinstance(empty, ServerError)
    assert empty.message == "HTTP 502 with no error body"
    assert codec.decode_error(500, {"error": "plain string"}).message == "plain string"
