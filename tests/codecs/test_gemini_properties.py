"""Round-trip properties and fuzzing of the Gemini codec.

Gemini has no block boundaries for plain text: adjacent text parts without a signature are
one run of text on the wire, and a plain-text reply decodes to a string. `gemini_content`
puts content in that canonical form before comparing; everything else must match exactly.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.codecs import gemini
from myna.exceptions import BadRequestError, MynaError, ProviderError, StreamInterruptedError
from myna.messages import AIMessage, merge_chunks
from myna.strategies import ai_messages, chunkings, conversations

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wire(value: Any) -> Any:
    """What the other side reads: the value through JSON text."""
    return json.loads(json.dumps(value))


def gemini_content(content: Any) -> list[dict[str, Any]]:
    """Content as Gemini can tell it apart: unsigned adjacent text joined, empty text dropped."""
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    out: list[dict[str, Any]] = []
    for block in blocks:
        plain = block.get("type") == "text" and not block.get("extras")
        if plain and block["text"] == "":
            continue
        if plain and out and out[-1].get("type") == "text" and not out[-1].get("extras"):
            out[-1] = {**out[-1], "text": out[-1]["text"] + block["text"]}
            continue
        out.append(dict(block))
    return out


def gemini_usage(usage: Any) -> Any:
    """Usage as Gemini can carry it: it has no cache-write count."""
    if not usage:
        return usage
    out = dict(usage)
    details = {
        k: v for k, v in (out.get("input_token_details") or {}).items() if k != "cache_creation"
    }
    out.pop("input_token_details", None)
    if details:
        out["input_token_details"] = details
    return out


MESSAGES = st.one_of(
    ai_messages(),
    ai_messages(blocks=True),
    ai_messages(reasoning=True),
    ai_messages(reasoning=True, tool_calls=False),
    ai_messages(text=False, reasoning=True),
)


def assert_same_reply(decoded: AIMessage, original: AIMessage) -> None:
    assert gemini_content(decoded.content) == gemini_content(original.content)
    assert decoded.tool_calls == original.tool_calls
    assert decoded.invalid_tool_calls == []
    assert decoded.usage_metadata == gemini_usage(original.usage_metadata)
    expected = "tool_calls" if original.tool_calls else "stop"
    assert decoded.response_metadata["finish_reason"] == expected


# ---------------------------------------------------------------- replies


@SETTINGS
@given(MESSAGES)
def test_render_response_then_decode_response(message):
    decoded = gemini.decode_response(
        wire(gemini.render_response(message, {"model": "gemini-2.5-flash"}))
    )
    assert_same_reply(decoded, message)
    if isinstance(message.content, list) and any(b["type"] == "reasoning" for b in message.content):
        assert decoded.content == message.content  # one part per block: exact


@SETTINGS
@given(MESSAGES, chunkings())
def test_render_stream_then_decode_stream(message, chunking):
    events = [
        wire(e)
        for e in gemini.render_stream(message, {"model": "gemini-2.5-flash"}, chunking=chunking)
    ]
    chunks = list(gemini.decode_stream(events))
    assert chunks[-1].chunk_position == "last"
    assert [c for c in chunks[:-1] if c.usage_metadata is not None] == []
    assert_same_reply(merge_chunks(chunks).to_message(), message)


@pytest.mark.parametrize("chunking", ["words", "chars", 3])
@SETTINGS
@given(message=MESSAGES)
def test_render_stream_each_chunking(chunking, message):
    events = [wire(e) for e in gemini.render_stream(message, chunking=chunking)]
    assert_same_reply(merge_chunks(list(gemini.decode_stream(events))).to_message(), message)


@SETTINGS
@given(MESSAGES)
def test_streamed_and_whole_replies_decode_alike(message):
    whole = gemini.decode_response(wire(gemini.render_response(message)))
    streamed = merge_chunks(
        list(gemini.decode_stream(wire(list(gemini.render_stream(message)))))
    ).to_message()
    assert gemini_content(streamed.content) == gemini_content(whole.content)
    assert streamed.tool_calls == whole.tool_calls
    assert streamed.usage_metadata == whole.usage_metadata
    assert streamed.response_metadata == whole.response_metadata


# ---------------------------------------------------------------- requests


_names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(
    lambda n: n not in ("auto", "any", "none", "required")
)
_schemas = st.builds(
    lambda props: {"type": "object", "properties": {k: {"type": t} for k, t in props.items()}},
    st.dictionaries(
        _names, st.sampled_from(["string", "integer", "number", "boolean"]), max_size=3
    ),
)
_tool_specs = st.lists(
    st.builds(
        lambda name, desc, schema: {"name": name, "description": desc, "parameters": schema},
        _names,
        st.text(max_size=20),
        _schemas,
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda t: t["name"],
)


@st.composite
def request_params(draw: st.DrawFn) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": draw(st.sampled_from(["gemini-2.5-flash", "gemini-3-pro-preview"]))
    }
    optional = {
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "top_k": st.integers(1, 100),
        "max_tokens": st.integers(1, 65536),
        "seed": st.integers(0, 2**31 - 1),
        "stop": st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3),
        "logprobs": st.booleans(),
        "top_logprobs": st.integers(1, 20),
        "reasoning_budget": st.integers(-1, 24576),
        "include_reasoning": st.booleans(),
        "reasoning_effort": st.sampled_from(["minimal", "low", "medium", "high"]),
        "response_format": st.one_of(
            st.just({"type": "json_object"}),
            _schemas.map(lambda s: {"type": "json_schema", "schema": s}),
        ),
        "safetySettings": st.just(
            [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
        ),
        "cachedContent": st.just("cachedContents/abc"),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            params[key] = draw(strategy)
    if draw(st.booleans()):
        tools = draw(_tool_specs)
        params["tools"] = tools
        choice = draw(st.sampled_from(["auto", "any", "none", "name", None]))
        if choice == "name":
            params["tool_choice"] = tools[0]["name"]
        elif choice is not None:
            params["tool_choice"] = choice
    return params


def same_messages(decoded: list, original: list) -> None:
    assert [type(m) for m in decoded] == [type(m) for m in original]
    for got, want in zip(decoded, original, strict=True):
        if isinstance(want, AIMessage):
            assert got.content == want.content
            assert got.tool_calls == want.tool_calls
        else:
            assert got == want


@SETTINGS
@given(conversations(), request_params())
def test_encode_request_then_decode_request(messages, params):
    body = wire(gemini.encode_request(messages, params))
    decoded, back = gemini.decode_request(body, model=params["model"])
    same_messages(decoded, messages)
    assert back == params


@SETTINGS
@given(conversations())
def test_decode_request_then_encode_request_is_stable(messages):
    body = wire(gemini.encode_request(messages, {}))
    decoded, _ = gemini.decode_request(body)
    assert wire(gemini.encode_request(decoded, {})) == body


# ---------------------------------------------------------------- fuzzing

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
_part_values = st.sampled_from(
    [
        "text", "thought", "thoughtSignature", "functionCall", "inlineData", "candidates",
        "content", "parts", "finishReason", "usageMetadata", "args", "name", "data",
    ]
)  # fmt: skip


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            out += _paths(sub, (*prefix, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            out += _paths(sub, (*prefix, i))
    return out


def _mutate(data: st.DataObject, value: Any) -> Any:
    """Drop a key, change a value's type, or swap in random JSON, somewhere inside `value`."""
    value = copy.deepcopy(value)
    path = data.draw(st.sampled_from(_paths(value)))
    if not path:
        return data.draw(_json)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    action = data.draw(st.sampled_from(["drop", "replace", "rename"]))
    if action == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "rename" and isinstance(parent, dict):
        parent[data.draw(_part_values)] = parent.pop(path[-1])
    else:
        parent[path[-1]] = data.draw(_json)
    return value


def _drain(events: list[Any]) -> None:
    try:
        for chunk in gemini.decode_stream(events):
            assert chunk.__class__.__name__ == "AIMessageChunk"
    except MynaError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES, st.data())
def test_fuzz_decode_stream_only_raises_myna_errors(message, data):
    events = wire(list(gemini.render_stream(message, chunking=3)))
    how = data.draw(
        st.sampled_from(["truncate", "reorder", "mutate", "mutate3", "random", "strings"])
    )
    if how == "truncate":
        events = events[: data.draw(st.integers(0, max(len(events) - 1, 0)))]
        with pytest.raises(StreamInterruptedError):
            list(gemini.decode_stream(events))
        return
    if how == "reorder":
        events = data.draw(st.permutations(events))
    elif how in ("mutate", "mutate3"):
        for _ in range(1 if how == "mutate" else 3):
            i = data.draw(st.integers(0, len(events) - 1))
            events[i] = _mutate(data, events[i])
    elif how == "random":
        events = data.draw(st.lists(_json, max_size=5))
    else:
        events = [json.dumps(e)[: data.draw(st.integers(0, 40))] for e in events]
    _drain(events)


@settings(max_examples=200, deadline=None)
@given(MESSAGES, st.data())
def test_fuzz_decode_response_only_raises_myna_errors(message, data):
    body = _mutate(data, wire(gemini.render_response(message)))
    try:
        gemini.decode_response(body)
    except MynaError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations(max_turns=2), st.data())
def test_fuzz_decode_request_only_rejects_with_bad_request(messages, data):
    body = _mutate(data, wire(gemini.encode_request(messages, {"temperature": 0.5})))
    try:
        gemini.decode_request(body)
    except BadRequestError as exc:
        assert exc.status_code == 400 and exc.body["error"]["status"] == "INVALID_ARGUMENT"


@settings(max_examples=200, deadline=None)
@given(st.integers(100, 599), _json | st.binary(max_size=20))
def test_fuzz_decode_error_always_returns_a_provider_error(status, body):
    error = gemini.decode_error(status, body)
    assert isinstance(error, ProviderError)
    assert error.status_code == status and error.message
