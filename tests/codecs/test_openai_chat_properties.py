"""Property tests of the Chat Completions codec: round trips both ways, and fuzzed input.

Round trips compare what the wire can carry: several text blocks arrive as one string, a
reply's id and response_metadata are made up by the server side, tool messages lose their
``name`` (Chat Completions has no slot for it) and history carries no usage.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.codecs import openai_chat
from myna.exceptions import MynaError
from myna.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    merge_chunks,
    standard_blocks,
)
from myna.strategies import ai_messages, chunkings, conversations, reasoning_blocks

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def chat_replies(draw: st.DrawFn) -> AIMessage:
    """Replies a Chat Completions server can give: text, tool calls, usage, and reasoning as a
    compatible server returns it (one wire field per reply)."""
    message = draw(st.one_of(ai_messages(), ai_messages(blocks=True), ai_messages(text=False)))
    if draw(st.booleans()):
        field = draw(st.sampled_from(["reasoning_content", "reasoning"]))
        block = draw(reasoning_blocks(signature=False))
        block["extras"] = {"field": field}
        content = [block, *standard_blocks(message.content)]
        message = message.model_copy(update={"content": content})
    return message


def norm_content(content: Any) -> list[dict[str, Any]]:
    """Standard blocks with adjacent text blocks joined and empty text dropped."""
    out: list[dict[str, Any]] = []
    for block in standard_blocks(content):
        if block["type"] == "text" and not block.get("annotations"):
            if not block["text"]:
                continue
            if out and out[-1]["type"] == "text" and not out[-1].get("annotations"):
                out[-1] = {"type": "text", "text": out[-1]["text"] + block["text"]}
                continue
            block = {"type": "text", "text": block["text"]}
        out.append(block)
    return out


def nonzero_usage(usage: Any) -> Any:
    """Usage with zero detail counts dropped: OpenAI sends every detail count, zeros
    included, and so does the server side, so a usage without details comes back with zeros."""
    if not usage:
        return usage
    out = dict(usage)
    for key in ("input_token_details", "output_token_details"):
        details = {k: v for k, v in (out.pop(key, None) or {}).items() if v}
        if details:
            out[key] = details
    return out


def assert_same_reply(got: AIMessage, want: AIMessage) -> None:
    assert norm_content(got.content) == norm_content(want.content)
    assert got.tool_calls == want.tool_calls
    assert got.invalid_tool_calls == want.invalid_tool_calls
    assert nonzero_usage(got.usage_metadata) == nonzero_usage(want.usage_metadata)


# ---------------------------------------------------------------- server -> client


@SETTINGS
@given(chat_replies())
def test_render_response_then_decode_response(message):
    body = json.loads(json.dumps(openai_chat.render_response(message)))  # through real JSON
    decoded = openai_chat.decode_response(body)
    assert_same_reply(decoded, message)
    assert decoded.id == body["id"]
    expected = "tool_calls" if message.tool_calls else "stop"
    assert decoded.response_metadata["finish_reason"] == expected


@SETTINGS
@given(chat_replies(), chunkings())
def test_render_stream_then_decode_stream(message, chunking):
    events = [
        json.loads(json.dumps(e)) for e in openai_chat.render_stream(message, chunking=chunking)
    ]
    assert events[-1] == "[DONE]"
    chunks = list(openai_chat.decode_stream(events))
    assert chunks[-1].chunk_position == "last"
    assert_same_reply(merge_chunks(chunks).to_message(), message)


@SETTINGS
@given(chat_replies(), chunkings())
def test_stream_and_non_stream_decode_alike(message, chunking):
    whole = openai_chat.decode_response(openai_chat.render_response(message))
    streamed = merge_chunks(
        list(openai_chat.decode_stream(openai_chat.render_stream(message, chunking=chunking)))
    ).to_message()
    assert streamed.content == whole.content
    assert streamed.tool_calls == whole.tool_calls
    assert streamed.usage_metadata == whole.usage_metadata


# ---------------------------------------------------------------- client -> server


@st.composite
def neutral_params(draw: st.DrawFn) -> dict[str, Any]:
    params: dict[str, Any] = {"model": draw(st.sampled_from(["gpt-4.1-mini", "deepseek-chat"]))}
    optional = {
        "temperature": st.floats(0, 2, allow_nan=False),
        "top_p": st.floats(0, 1, allow_nan=False),
        "max_tokens": st.integers(1, 10**6),
        "seed": st.integers(-(2**31), 2**31),
        "stop": st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4),
        "reasoning_effort": st.sampled_from(["minimal", "low", "medium", "high"]),
        "logprobs": st.booleans(),
        "top_logprobs": st.integers(0, 20),
        "response_format": st.one_of(
            st.just({"type": "json_object"}),
            st.builds(
                lambda name, strict: {
                    "type": "json_schema",
                    "name": name,
                    "schema": {"type": "object"},
                    **strict,
                },
                IDENT,
                st.sampled_from([{}, {"strict": True}, {"strict": False}]),
            ),
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            params[key] = draw(strategy)
    if draw(st.booleans()):
        names = draw(st.lists(IDENT, min_size=1, max_size=3, unique=True))
        params["tools"] = [
            {
                "name": n,
                "description": draw(st.text(max_size=20)),
                "parameters": {"type": "object", "properties": {}},
                **draw(st.sampled_from([{}, {"strict": True}])),
            }
            for n in names
        ]
        choices = ["auto", "any", "none"] + [
            n for n in names if n not in ("auto", "any", "none", "required")
        ]
        if draw(st.booleans()):
            params["tool_choice"] = draw(st.sampled_from(choices))
        if draw(st.booleans()):
            params["parallel_tool_calls"] = draw(st.booleans())
    if draw(st.booleans()):
        params["stream"] = True
        if draw(st.booleans()):
            params["stream_usage"] = draw(st.booleans())
    return params


def comparable(message: BaseMessage) -> tuple:
    if isinstance(message, ToolMessage):
        return ("tool", message.content, message.tool_call_id)
    if isinstance(message, AIMessage):
        return ("ai", norm_content(message.content), message.tool_calls, message.name)
    assert isinstance(message, (HumanMessage, SystemMessage))
    return (message.type, message.content, message.name, message.additional_kwargs)


@SETTINGS
@given(conversations(), neutral_params())
def test_encode_request_then_decode_request(messages, params):
    body = json.loads(json.dumps(openai_chat.encode_request(messages, params)))
    decoded, decoded_params = openai_chat.decode_request(body)
    assert [comparable(m) for m in decoded] == [comparable(m) for m in messages]
    assert decoded_params == params


@SETTINGS
@given(chat_replies())
def test_reasoning_from_this_protocol_goes_back_in_history(message):
    history = [HumanMessage("q"), message]
    history += [ToolMessage("ok", tool_call_id=c["id"]) for c in message.tool_calls]
    decoded, _ = openai_chat.decode_request(
        openai_chat.encode_request(history, {"model": "deepseek-chat"})
    )
    assert norm_content(decoded[1].content) == norm_content(message.content)


# ---------------------------------------------------------------- fuzz


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


def _set(root: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return root


@st.composite
def garbled(draw: st.DrawFn, value: Any) -> Any:
    """`value` with one node deleted or replaced by random JSON."""
    value = copy.deepcopy(value)
    path = draw(st.sampled_from(_paths(value)))
    return _set(value, path, draw(JSON), draw(st.booleans()))


@st.composite
def mangled_streams(draw: st.DrawFn) -> list[Any]:
    message = draw(chat_replies())
    events = list(openai_chat.render_stream(message, chunking=draw(chunkings())))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "shuffle", "garble", "insert", "error"]))
        if op == "truncate":
            events = events[: draw(st.integers(0, len(events)))]
        elif op == "shuffle":
            events = draw(st.permutations(events))
        elif op == "garble" and events:
            i = draw(st.integers(0, len(events) - 1))
            events[i] = draw(garbled(events[i]))
        elif op == "insert":
            junk = draw(JSON | st.text(max_size=10) | st.just("[DONE]"))
            events.insert(draw(st.integers(0, len(events))), junk)
        elif op == "error":
            events.insert(draw(st.integers(0, len(events))), {"error": draw(JSON)})
    return events


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_streams())
def test_fuzzed_streams_raise_only_myna_errors(events):
    try:
        chunks = list(openai_chat.decode_stream(events))
    except MynaError:
        return
    assert chunks and chunks[-1].chunk_position == "last"
    merge_chunks(chunks).to_message()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_response_bodies_raise_only_myna_errors(data):
    body = openai_chat.render_response(data.draw(chat_replies()))
    for _ in range(data.draw(st.integers(1, 3))):
        body = data.draw(garbled(body))
    try:
        assert isinstance(openai_chat.decode_response(body), AIMessage)
    except MynaError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_request_bodies_raise_only_myna_errors(data):
    body = openai_chat.encode_request(data.draw(conversations()), data.draw(neutral_params()))
    for _ in range(data.draw(st.integers(1, 3))):
        body = data.draw(garbled(body))
    try:
        openai_chat.decode_request(body)
    except MynaError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.integers(400, 599), JSON | st.text(max_size=30) | st.binary(max_size=30))
def test_decode_error_always_builds_an_error(status, body):
    error = openai_chat.decode_error(status, body)
    assert error.status_code == status and error.message
    rendered_status, _, rendered = openai_chat.render_error(error)
    assert openai_chat.decode_error(rendered_status, rendered).message == error.message
