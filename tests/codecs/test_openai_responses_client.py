"""Client side of the OpenAI Responses codec: encode_request, decode_response, decode_error."""

from __future__ import annotations

import json

import pytest

from myna.codecs import openai_responses as codec
from myna.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    DecodeError,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    UserError,
)
from myna.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

MODEL = {"model": "gpt-5-mini"}


# -- encode_request: messages ------------------------------------------------------------------


def test_first_system_message_becomes_instructions() -> None:
    body = codec.encode_request(
        [SystemMessage("Be brief."), HumanMessage("2+2?"), SystemMessage("Answer in French.")],
        MODEL,
    )
    assert body == {
        "model": "gpt-5-mini",
        "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": "2+2?"},
            {"role": "system", "content": "Answer in French."},
        ],
    }


def test_developer_messages_and_explicit_instructions_stay_input_items() -> None:
    developer = SystemMessage("Use tools.", additional_kwargs={"openai_role": "developer"})
    body = codec.encode_request([developer, HumanMessage("hi")], MODEL)
    assert body["input"][0] == {"role": "developer", "content": "Use tools."}
    assert "instructions" not in body
    body = codec.encode_request(
        [SystemMessage("sys"), HumanMessage("hi")], {**MODEL, "instructions": "given"}
    )
    assert body["instructions"] == "given"
    assert body["input"][0] == {"role": "system", "content": "sys"}


def test_accepts_anything_coerce_messages_accepts() -> None:
    body = codec.encode_request("hello", MODEL)
    assert body["input"] == [{"role": "user", "content": "hello"}]
    body = codec.encode_request([("system", "s"), {"role": "user", "content": "u"}], MODEL)
    assert body["instructions"] == "s" and body["input"] == [{"role": "user", "content": "u"}]


def test_multimodal_user_content() -> None:
    message = HumanMessage(
        [
            {"type": "text", "text": "Describe"},
            {"type": "image", "url": "https://x/cat.png", "extras": {"detail": "high"}},
            {"type": "image", "base64": "AAAA", "mime_type": "image/jpeg"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,BBBB"}},
            {"type": "image", "file_id": "file-1"},
            {"type": "file", "base64": "JVBER", "mime_type": "application/pdf"},
            {
                "type": "file",
                "base64": "JVBER",
                "mime_type": "application/pdf",
                "extras": {"filename": "a.pdf"},
            },
            {"type": "file", "url": "https://x/doc.pdf"},
            {"type": "file", "file_id": "file-2"},
            {"type": "audio", "base64": "UklGR", "mime_type": "audio/wav"},
            {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
            {"type": "text-plain", "text": "plain notes", "mime_type": "text/plain"},
            {"type": "input_text", "text": "raw part passes through"},
        ]
    )
    (item,) = codec.encode_request([message], MODEL)["input"]
    assert item["role"] == "user"
    assert item["content"] == [
        {"type": "input_text", "text": "Describe"},
        {"type": "input_image", "image_url": "https://x/cat.png", "detail": "high"},
        {"type": "input_image", "image_url": "data:image/jpeg;base64,AAAA", "detail": "auto"},
        {"type": "input_image", "image_url": "data:image/png;base64,BBBB", "detail": "auto"},
        {"type": "input_image", "file_id": "file-1", "detail": "auto"},
        {
            "type": "input_file",
            "file_data": "data:application/pdf;base64,JVBER",
            "filename": "document.pdf",
        },
        {
            "type": "input_file",
            "file_data": "data:application/pdf;base64,JVBER",
            "filename": "a.pdf",
        },
        {"type": "input_file", "file_url": "https://x/doc.pdf"},
        {"type": "input_file", "file_id": "file-2"},
        {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}},
        {"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3"}},
        {"type": "input_text", "text": "plain notes"},
        {"type": "input_text", "text": "raw part passes through"},
    ]


def test_anthropic_style_blocks_translate() -> None:
    message = HumanMessage(
        [{"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lG"}}]
    )
    (item,) = codec.encode_request([message], MODEL)["input"]
    assert item["content"] == [
        {"type": "input_image", "image_url": "data:image/gif;base64,R0lG", "detail": "auto"}
    ]


@pytest.mark.parametrize(
    ("block", "fragment"),
    [
        ({"type": "video", "url": "https://x/v.mp4"}, "the Responses API takes no video input"),
        ({"type": "audio", "url": "https://x/a.wav"}, "input audio must be base64 data"),
        ({"type": "image"}, "it has none of base64, url or file_id"),
        ({"type": "reasoning", "reasoning": "x"}, "only text, image, file and audio blocks"),
    ],
    ids=["video", "audio-url", "empty-image", "reasoning-in-user"],
)
def test_blocks_the_protocol_cannot_carry(block: dict, fragment: str) -> None:
    with pytest.raises(UserError) as caught:
        codec.encode_request([HumanMessage([block])], MODEL)
    message = str(caught.value)
    assert message.startswith(f"messages[0] (HumanMessage) block 0: a {block['type']!r} content")
    assert "cannot be sent over openai-responses" in message and fragment in message


def test_assistant_history_with_string_content_and_tool_calls() -> None:
    ai = AIMessage(
        "Let me check.",
        tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "call_1"}],
    )
    body = codec.encode_request(
        [HumanMessage("Weather?"), ai, ToolMessage("22C", tool_call_id="call_1")], MODEL
    )
    assert body["input"] == [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "Let me check."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "weather",
            "arguments": '{"city": "Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "22C"},
    ]


def test_invalid_tool_calls_go_back_with_their_raw_arguments() -> None:
    ai = AIMessage(
        "",
        invalid_tool_calls=[
            {
                "name": "f",
                "args": '{"a": ',
                "id": "call_9",
                "error": "bad",
                "type": "invalid_tool_call",
            }
        ],
    )
    (item,) = codec.encode_request([ai], MODEL)["input"]
    assert item == {
        "type": "function_call",
        "call_id": "call_9",
        "name": "f",
        "arguments": '{"a": ',
    }


def test_tool_message_with_blocks_sends_a_list_output() -> None:
    tool = ToolMessage(
        [{"type": "text", "text": "chart:"}, {"type": "image", "url": "https://x/c.png"}],
        tool_call_id="call_1",
    )
    (item,) = codec.encode_request([tool], MODEL)["input"]
    assert item["output"] == [
        {"type": "input_text", "text": "chart:"},
        {"type": "input_image", "image_url": "https://x/c.png", "detail": "auto"},
    ]


def test_reasoning_is_sent_back_with_ids_that_pair_items() -> None:
    ai = AIMessage(
        [
            {
                "type": "reasoning",
                "reasoning": "First",
                "id": "rs_1",
                "extras": {"encrypted_content": "ENC"},
            },
            {"type": "reasoning", "reasoning": "Second", "id": "rs_1"},
            {"type": "text", "text": "Checking.", "id": "msg_1", "extras": {"phase": "commentary"}},
        ],
        tool_calls=[{"name": "f", "args": {}, "id": "call_1"}],
        additional_kwargs={"openai_function_call_ids": {"call_1": "fc_1"}},
    )
    items = codec.encode_request([ai], {**MODEL, "store": False})["input"]
    assert items == [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [
                {"type": "summary_text", "text": "First"},
                {"type": "summary_text", "text": "Second"},
            ],
            "encrypted_content": "ENC",
        },
        {
            "type": "message",
            "role": "assistant",
            "id": "msg_1",
            "status": "completed",
            "phase": "commentary",
            "content": [{"type": "output_text", "text": "Checking."}],
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "f",
            "arguments": "{}",
            "id": "fc_1",
        },
    ]


def test_item_ids_are_dropped_when_no_reasoning_goes_with_them() -> None:
    # Anthropic-style thinking cannot be verified by OpenAI: it is left out, and then the
    # msg_/fc_ ids would point at reasoning that is not there, so they go too.
    ai = AIMessage(
        [
            {"type": "reasoning", "reasoning": "hmm", "extras": {"signature": "c2ln"}},
            {"type": "text", "text": "Hi", "id": "msg_1"},
        ],
        tool_calls=[{"name": "f", "args": {"x": 1}, "id": "call_1"}],
        additional_kwargs={"openai_function_call_ids": {"call_1": "fc_1"}},
    )
    items = codec.encode_request([ai], MODEL)["input"]
    assert items == [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hi"}],
        },
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": '{"x": 1}'},
    ]


def test_assistant_citations_refusals_server_tools_and_images_go_back() -> None:
    ai = AIMessage(
        [
            {"type": "reasoning", "id": "rs_1", "extras": {"encrypted_content": "E"}},
            {
                "type": "server_tool_call",
                "id": "ws_1",
                "name": "web_search",
                "args": {"action": {"type": "search", "query": "news"}},
                "extras": {"status": "completed"},
            },
            {"type": "server_tool_result", "tool_call_id": "ws_1", "status": "success"},
            {
                "type": "text",
                "text": "Here.",
                "id": "msg_1",
                "annotations": [
                    {
                        "type": "citation",
                        "url": "https://n",
                        "title": "N",
                        "start_index": 0,
                        "end_index": 4,
                    }
                ],
            },
            {
                "type": "non_standard",
                "value": {"type": "refusal", "refusal": "Not that."},
                "id": "msg_1",
            },
            {"type": "image", "id": "ig_1", "base64": "iVBO", "extras": {"status": "completed"}},
            {"type": "server_tool_call", "id": "x", "name": "code_execution", "args": {}},
        ]
    )
    items = codec.encode_request([ai], MODEL)["input"]
    assert items == [
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "E"},
        {
            "type": "web_search_call",
            "id": "ws_1",
            "action": {"type": "search", "query": "news"},
            "status": "completed",
        },
        {
            "type": "message",
            "role": "assistant",
            "id": "msg_1",
            "status": "completed",
            "content": [
                {
                    "type": "output_text",
                    "text": "Here.",
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url": "https://n",
                            "title": "N",
                            "start_index": 0,
                            "end_index": 4,
                        }
                    ],
                },
                {"type": "refusal", "refusal": "Not that."},
            ],
        },
        {"type": "image_generation_call", "id": "ig_1", "status": "completed", "result": "iVBO"},
        # another provider's server tool call has no Responses item: it is left out
    ]


def test_an_ai_image_without_its_generation_id_is_refused() -> None:
    ai = AIMessage([{"type": "image", "base64": "iVBO", "mime_type": "image/png"}])
    with pytest.raises(UserError) as caught:
        codec.encode_request([ai], MODEL)
    assert "an image in an AI message can only go back as the image_generation_call" in str(
        caught.value
    )


# -- encode_request: params ---------------------------------------------------------------------


def test_neutral_params_map_to_the_responses_body() -> None:
    body = codec.encode_request(
        [HumanMessage("hi")],
        {
            "model": "gpt-5-mini",
            "temperature": 0.2,
            "top_p": 0.9,
            "max_tokens": 300,
            "tools": [
                {
                    "name": "f",
                    "description": "F.",
                    "parameters": {"type": "object"},
                    "strict": True,
                },
                {"type": "function", "function": {"name": "g", "parameters": {"type": "object"}}},
                {"name": "h"},
                {"type": "web_search"},
            ],
            "tool_choice": "any",
            "parallel_tool_calls": False,
            "response_format": {
                "type": "json_schema",
                "name": "Out",
                "schema": {"type": "object"},
                "strict": True,
            },
            "reasoning_effort": "low",
            "include_reasoning": True,
            "logprobs": True,
            "top_logprobs": 3,
            "stream": True,
            "stream_usage": True,
            "cache_control": {"type": "ephemeral"},
            "store": False,
            "metadata": {"run": "1"},
            "extra_body": {"service_tier": "flex"},
        },
    )
    assert body == {
        "model": "gpt-5-mini",
        "input": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "max_output_tokens": 300,
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "include": ["message.output_text.logprobs", "reasoning.encrypted_content"],
        "top_logprobs": 3,
        "stream": True,
        "store": False,
        "metadata": {"run": "1"},
        "tools": [
            {
                "type": "function",
                "name": "f",
                "description": "F.",
                "parameters": {"type": "object"},
                "strict": True,
            },
            {"type": "function", "name": "g", "parameters": {"type": "object"}},
            {"type": "function", "name": "h", "parameters": {"type": "object", "properties": {}}},
            {"type": "web_search"},
        ],
        "reasoning": {"effort": "low", "summary": "auto"},
        "text": {
            "format": {
                "type": "json_schema",
                "name": "Out",
                "schema": {"type": "object"},
                "strict": True,
            }
        },
        "service_tier": "flex",
    }


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("weather", {"type": "function", "name": "weather"}),
        ("web_search", {"type": "web_search"}),
        (
            {"type": "allowed_tools", "mode": "auto", "tools": []},
            {"type": "allowed_tools", "mode": "auto", "tools": []},
        ),
    ],
    ids=["auto", "none", "any", "function-name", "builtin-name", "raw-dict"],
)
def test_tool_choice(choice: object, wire: object) -> None:
    params = {
        **MODEL,
        "tools": [{"name": "weather"}, {"type": "web_search"}],
        "tool_choice": choice,
    }
    assert codec.encode_request([HumanMessage("x")], params)["tool_choice"] == wire


def test_chat_style_response_format_and_json_object() -> None:
    chat_style = {"type": "json_schema", "json_schema": {"name": "P", "schema": {"type": "object"}}}
    body = codec.encode_request([HumanMessage("x")], {**MODEL, "response_format": chat_style})
    assert body["text"] == {
        "format": {"type": "json_schema", "name": "P", "schema": {"type": "object"}}
    }
    body = codec.encode_request(
        [HumanMessage("x")],
        {**MODEL, "response_format": {"type": "json_object"}, "text": {"verbosity": "low"}},
    )
    assert body["text"] == {"verbosity": "low", "format": {"type": "json_object"}}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "params['model'] is required for openai-responses, e.g. {'model': 'gpt-5-mini'}."),
        (
            {**MODEL, "stop": ["\n"]},
            "stop=['\\n'] cannot be sent: the Responses API has no stop sequences; use the "
            "openai-chat protocol for them.",
        ),
        ({**MODEL, "seed": 1}, "seed=1 cannot be sent: the Responses API takes no seed."),
        (
            {**MODEL, "reasoning_budget": 1024},
            "reasoning_budget=1024 cannot be sent: the Responses API takes an effort, not a token "
            "budget; pass reasoning_effort='low'|'medium'|'high' instead.",
        ),
        (
            {**MODEL, "tool_choice": 3},
            "tool_choice=3 is not valid; use 'auto', 'any', 'none', a tool name, or a raw dict "
            "such as {'type': 'function', 'name': 'get_weather'}.",
        ),
        (
            {**MODEL, "tools": [{"description": "no name"}]},
            'tools[0] has no \'name\': {"description": "no name"}',
        ),
        (
            {**MODEL, "response_format": {"type": "json_schema"}},
            "response_format of type 'json_schema' needs a 'schema' dict.",
        ),
        ({**MODEL, "extra_body": [1]}, "extra_body must be a dict, got list."),
    ],
    ids=["no-model", "stop", "seed", "budget", "tool-choice", "tool-name", "schema", "extra-body"],
)
def test_bad_params_name_the_problem(params: dict, message: str) -> None:
    with pytest.raises(UserError) as caught:
        codec.encode_request([HumanMessage("x")], params)
    assert str(caught.value) == message


def test_none_valued_params_are_not_sent() -> None:
    body = codec.encode_request([HumanMessage("x")], {**MODEL, "temperature": None, "seed": None})
    assert body == {"model": "gpt-5-mini", "input": [{"role": "user", "content": "x"}]}


# -- decode_response ----------------------------------------------------------------------------


def _response(output: list, **extra: object) -> dict:
    return {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "model": "gpt-5-mini-2025-08-07",
        "output": output,
        "usage": {
            "input_tokens": 40,
            "input_tokens_details": {"cached_tokens": 8, "cache_write_tokens": 2},
            "output_tokens": 60,
            "output_tokens_details": {"reasoning_tokens": 32},
            "total_tokens": 100,
        },
        **extra,
    }


def test_decode_response_with_every_item_kind() -> None:
    output = [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Plan."}],
            "encrypted_content": "ENC",
        },
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {"type": "search", "query": "weather"},
        },
        {
            "type": "file_search_call",
            "id": "fs_1",
            "status": "completed",
            "queries": ["q"],
            "results": [{"file_id": "f", "text": "t"}],
        },
        {
            "type": "mcp_call",
            "id": "mcp_1",
            "server_label": "deepwiki",
            "name": "ask",
            "arguments": "{}",
            "output": None,
            "error": "boom",
        },
        {
            "type": "image_generation_call",
            "id": "ig_1",
            "status": "completed",
            "result": "iVBO",
            "output_format": "webp",
        },
        {"type": "computer_call", "id": "cu_1", "call_id": "c", "action": {"type": "click"}},
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [
                {
                    "type": "output_text",
                    "text": "Sunny [1].",
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url": "https://w",
                            "title": "W",
                            "start_index": 6,
                            "end_index": 9,
                        },
                        {
                            "type": "file_citation",
                            "file_id": "file-1",
                            "filename": "a.pdf",
                            "index": 3,
                        },
                    ],
                    "logprobs": [
                        {"token": "Sunny", "logprob": -0.1, "bytes": [83], "top_logprobs": []}
                    ],
                },
            ],
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "f",
            "arguments": '{"a":1}',
            "status": "completed",
        },
        {
            "type": "function_call",
            "id": "fc_2",
            "call_id": "call_2",
            "name": "g",
            "arguments": '{"a":',
            "status": "completed",
        },
    ]
    message = codec.decode_response(_response(output))
    assert message.content == [
        {
            "type": "reasoning",
            "reasoning": "Plan.",
            "id": "rs_1",
            "extras": {"encrypted_content": "ENC"},
        },
        {
            "type": "server_tool_call",
            "id": "ws_1",
            "name": "web_search",
            "args": {"action": {"type": "search", "query": "weather"}},
            "extras": {"status": "completed"},
        },
        {"type": "server_tool_result", "tool_call_id": "ws_1", "status": "success"},
        {
            "type": "server_tool_call",
            "id": "fs_1",
            "name": "file_search",
            "args": {"queries": ["q"]},
            "extras": {"status": "completed"},
        },
        {
            "type": "server_tool_result",
            "tool_call_id": "fs_1",
            "status": "success",
            "output": {"results": [{"file_id": "f", "text": "t"}]},
        },
        {
            "type": "server_tool_call",
            "id": "mcp_1",
            "name": "mcp",
            "args": {"server_label": "deepwiki", "name": "ask", "arguments": "{}"},
        },
        {
            "type": "server_tool_result",
            "tool_call_id": "mcp_1",
            "status": "error",
            "output": {"output": None, "error": "boom"},
        },
        {
            "type": "image",
            "id": "ig_1",
            "base64": "iVBO",
            "mime_type": "image/webp",
            "extras": {"status": "completed", "output_format": "webp"},
        },
        {"type": "non_standard", "value": output[5]},
        {
            "type": "text",
            "text": "Sunny [1].",
            "id": "msg_1",
            "annotations": [
                {
                    "type": "citation",
                    "url": "https://w",
                    "title": "W",
                    "start_index": 6,
                    "end_index": 9,
                },
                {
                    "type": "citation",
                    "title": "a.pdf",
                    "extras": {"type": "file_citation", "file_id": "file-1", "index": 3},
                },
            ],
        },
    ]
    assert message.tool_calls == [
        {"name": "f", "args": {"a": 1}, "id": "call_1", "type": "tool_call"}
    ]
    assert message.invalid_tool_calls == [
        {
            "name": "g",
            "args": '{"a":',
            "id": "call_2",
            "error": "arguments are not valid JSON (Expecting value at position 5)",
            "type": "invalid_tool_call",
        }
    ]
    assert message.additional_kwargs == {
        "openai_function_call_ids": {"call_1": "fc_1", "call_2": "fc_2"}
    }
    assert message.response_metadata == {
        "model_provider": "openai",
        "id": "resp_1",
        "model_name": "gpt-5-mini-2025-08-07",
        "finish_reason": "tool_calls",
        "status": "completed",
        "logprobs": [{"token": "Sunny", "logprob": -0.1, "bytes": [83], "top_logprobs": []}],
    }
    assert message.usage_metadata == {
        "input_tokens": 40,
        "output_tokens": 60,
        "total_tokens": 100,
        "input_token_details": {"cache_read": 8, "cache_creation": 2},
        "output_token_details": {"reasoning": 32},
    }


def test_citations_render_back_to_the_same_annotations() -> None:
    annotations = [
        {
            "type": "url_citation",
            "url": "https://w",
            "title": "W",
            "start_index": 6,
            "end_index": 9,
        },
        {"type": "file_citation", "file_id": "file-1", "filename": "a.pdf", "index": 3},
        {
            "type": "container_file_citation",
            "container_id": "c",
            "file_id": "f",
            "filename": "x.csv",
            "start_index": 0,
            "end_index": 1,
        },
        {"type": "file_path", "file_id": "f2", "index": 0},
        {"type": "something_new", "x": 1},
    ]
    output = [
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "t", "annotations": annotations}],
        }
    ]
    message = codec.decode_response(_response(output))
    rendered = codec.render_response(message)
    assert rendered["output"][0]["content"][0]["annotations"] == annotations


def test_refusal() -> None:
    output = [
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "content": [{"type": "refusal", "refusal": "I can't help with that."}],
        }
    ]
    message = codec.decode_response(_response(output))
    assert message.content == [
        {
            "type": "non_standard",
            "value": {"type": "refusal", "refusal": "I can't help with that."},
            "id": "msg_1",
        }
    ]
    assert message.additional_kwargs == {"refusal": "I can't help with that."}
    assert message.response_metadata["finish_reason"] == "refusal"
    assert message.text == ""


@pytest.mark.parametrize(
    ("status", "details", "reason"),
    [
        ("incomplete", {"reason": "max_output_tokens"}, "length"),
        ("incomplete", {"reason": "content_filter"}, "content_filter"),
        ("incomplete", None, "length"),
        ("cancelled", None, "cancelled"),
    ],
)
def test_finish_reasons(status: str, details: dict | None, reason: str) -> None:
    body = _response([], status=status, incomplete_details=details)
    message = codec.decode_response(body)
    assert message.response_metadata["finish_reason"] == reason
    assert message.response_metadata["status"] == status
    assert message.content == ""


def test_raw_reasoning_text_parts() -> None:
    item = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "Let me think"}],
    }
    message = codec.decode_response(_response([item]))
    assert message.content == [
        {"type": "reasoning", "id": "rs_1"},
        {
            "type": "reasoning",
            "reasoning": "Let me think",
            "id": "rs_1",
            "extras": {"kind": "reasoning_text"},
        },
    ]
    (back,) = codec.encode_request([message], MODEL)["input"]
    assert back == {"type": "reasoning", "id": "rs_1", "summary": [], "content": item["content"]}


def test_a_failed_response_raises_its_error() -> None:
    body = _response(
        [],
        status="failed",
        error={"code": "rate_limit_exceeded", "message": "Slow down. Please try again in 1.5s."},
    )
    with pytest.raises(RateLimitError) as caught:
        codec.decode_response(body)
    assert caught.value.message == "Slow down. Please try again in 1.5s."
    assert caught.value.retry_after == 1.5
    assert caught.value.status_code is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "A Responses API response must be a JSON object, got []."),
        ({"id": "resp_1"}, "response.output should be list, got null."),
        ({"output": [{"content": []}]}, "response.output[0] has no 'type': {\"content\": []}"),
        (
            {"output": [{"type": "message", "content": "x"}], "usage": {"input_tokens": "3"}},
            'response.usage.input_tokens should be int, got "3".',
        ),
        (
            {"output": [{"type": "function_call", "name": 3}]},
            "response.output[0].name should be str, got 3.",
        ),
        (
            {"output": [{"type": "reasoning", "summary": {}}]},
            "response.output[0].summary should be list, got {}.",
        ),
    ],
    ids=["not-a-dict", "no-output", "no-type", "usage", "name", "summary"],
)
def test_malformed_responses_raise_decode_error(body: object, message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        codec.decode_response(body)  # type: ignore[arg-type]
    assert str(caught.value) == message


# -- decode_error -------------------------------------------------------------------------------


def _error_body(message: str, code: str | None = None, kind: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, _error_body("Invalid value", "invalid_value"), BadRequestError),
        (400, _error_body("Too long", "context_length_exceeded"), ContextLengthError),
        (401, _error_body("Incorrect API key provided", "invalid_api_key"), AuthenticationError),
        (404, _error_body("The model `gpt-9` does not exist", "model_not_found"), NotFoundError),
        (429, _error_body("Rate limit reached", "rate_limit_exceeded", "requests"), RateLimitError),
        (500, _error_body("The server had an error", None, "server_error"), ServerError),
        (
            503,
            _error_body("The engine is currently overloaded", None, "server_error"),
            OverloadedError,
        ),
    ],
    ids=["400", "context", "401", "404", "429", "500", "503"],
)
def test_decode_error_classes(status: int, body: dict, cls: type) -> None:
    error = codec.decode_error(status, body)
    assert type(error) is cls
    assert error.message == body["error"]["message"]
    assert error.status_code == status and error.provider == "openai" and error.body == body


def test_decode_error_reads_retry_after_from_headers_then_message() -> None:
    body = _error_body("Rate limit reached. Please try again in 20s.", "rate_limit_exceeded")
    assert codec.decode_error(429, body, {"Retry-After": "3"}).retry_after == 3.0
    assert codec.decode_error(429, body, {"retry-after-ms": "250"}).retry_after == 0.25
    assert codec.decode_error(429, body).retry_after == 20.0
    body = _error_body("Please try again in 850ms.", "rate_limit_exceeded")
    assert codec.decode_error(429, body).retry_after == 0.85


def test_insufficient_quota_is_not_retryable() -> None:
    body = _error_body(
        "You exceeded your current quota", "insufficient_quota", "insufficient_quota"
    )
    error = codec.decode_error(429, body)
    assert isinstance(error, RateLimitError) and error.retryable is False
    assert codec.decode_error(429, _error_body("slow", "rate_limit_exceeded")).retryable is True


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (json.dumps(_error_body("from text")), "from text"),
        (json.dumps(_error_body("from bytes")).encode(), "from bytes"),
        ("<html>Bad gateway</html>", "<html>Bad gateway</html>"),
        ({"message": "flat"}, "flat"),
        ({"error": "just a string"}, "just a string"),
        (None, "HTTP 502 from OpenAI with no error message."),
    ],
    ids=["json-text", "bytes", "html", "flat", "string-error", "empty"],
)
def test_decode_error_bodies_of_any_shape(body: object, message: str) -> None:
    error = codec.decode_error(502, body)
    assert isinstance(error, ProviderError) and error.message == message


def test_another_providers_web_search_is_not_replayed_as_openai_items() -> None:
    # Anthropic names its server tool "web_search" too, with other arguments
    ai = AIMessage(
        [
            {
                "type": "server_tool_call",
                "id": "srvtoolu_1",
                "name": "web_search",
                "args": {"query": "x"},
            },
            {
                "type": "server_tool_result",
                "tool_call_id": "srvtoolu_1",
                "status": "success",
                "output": {"content": []},
            },
            {"type": "text", "text": "Answer."},
        ]
    )
    items = codec.encode_request([ai], MODEL)["input"]
    assert items == [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Answer."}],
        }
    ]
