"""Property tests: render -> decode round trips, and fuzzing that only myna errors come out."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.codecs import anthropic_messages as codec
from myna.exceptions import BadRequestError, MynaError, ProviderError, StreamInterruptedError
from myna.messages import AIMessage, HumanMessage, merge_chunks, standard_blocks
from myna.strategies import ai_messages, chunkings, conversations

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZERO_USAGE = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}

replies = st.one_of(
    ai_messages(),
    ai_messages(reasoning=True),
    ai_messages(blocks=True),
    ai_messages(text=False),
)


def wire(events: Any) -> list[Any]:
    """What the events look like after a trip through JSON on the wire."""
    return [json.loads(json.dumps(e)) for e in events]


def single_text(content: Any) -> Any:
    """Content as the codec gives it back: no blocks or one plain text block is a string."""
    if content == []:
        return ""
    if isinstance(content, list) and len(content) == 1 and set(content[0]) == {"type", "text"}:
        return content[0]["text"]
    return content


def joined_text(content: Any) -> list[dict[str, Any]]:
    """Standard blocks with neighbouring plain text blocks joined.

    A stream whose first block is text sends it as plain strings; if a second content block
    follows, `merge_content` turns each string piece into its own text block, so streamed
    block boundaries are compared up to joining plain text.
    """
    out: list[dict[str, Any]] = []
    for block in standard_blocks(content):
        plain = set(block) == {"type", "text"}
        if plain and out and set(out[-1]) == {"type", "text"}:
            out[-1] = {"type": "text", "text": out[-1]["text"] + block["text"]}
        elif not (plain and block["text"] == ""):
            out.append(dict(block))
    return out


def as_the_api_reports(usage: Any) -> dict[str, Any]:
    """A reply's usage as it decodes after the trip: the API always sends both cache counts
    (0 when none) and breaks a cache write down by TTL (the default 5-minute cache)."""
    usage = dict(usage or ZERO_USAGE)
    details = dict(usage.get("input_token_details") or {})
    details.setdefault("cache_read", 0)
    details.setdefault("cache_creation", 0)
    ttl = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")
    if details["cache_creation"] and not any(k in details for k in ttl):
        details["ephemeral_5m_input_tokens"] = details["cache_creation"]
    usage["input_token_details"] = details
    return usage


def assert_same_reply(back: AIMessage, original: AIMessage) -> None:
    assert back.tool_calls == original.tool_calls
    assert back.invalid_tool_calls == []
    assert back.usage_metadata == as_the_api_reports(original.usage_metadata)
    assert back.response_metadata["model_provider"] == "anthropic"
    expected_finish = "tool_calls" if original.tool_calls else "stop"
    assert back.response_metadata["finish_reason"] == expected_finish


@SETTINGS
@given(replies)
def test_render_response_then_decode_response(message):
    body = json.loads(json.dumps(codec.render_response(message, {"model": "claude-x"})))
    back = codec.decode_response(body)
    assert back.content == single_text(message.content)
    assert_same_reply(back, message)
    assert back.response_metadata["model_name"] == "claude-x"


@SETTINGS
@given(replies, st.one_of(st.sampled_from(["words", "chars", 3]), chunkings()))
def test_render_stream_then_decode_stream(message, chunking):
    events = wire(codec.render_stream(message, {"model": "claude-x"}, chunking=chunking))
    assert events[-1] == {"type": "message_stop"}
    chunks = list(codec.decode_stream(events))
    assert chunks[-1].chunk_position == "last"
    back = merge_chunks(chunks).to_message()
    assert joined_text(back.content) == joined_text(message.content)
    assert_same_reply(back, message)
    # the stream and the non-streamed reply agree
    assert back.id == merge_chunks(chunks).id
    response = codec.decode_response(codec.render_response(message))
    assert joined_text(response.content) == joined_text(back.content)


@SETTINGS
@given(
    st.one_of(ai_messages(blocks=False), ai_messages(reasoning=True)),
    st.sampled_from(["words", "chars", 3]),
)
def test_stream_content_is_exact_for_plain_text_and_reasoning_first(message, chunking):
    events = wire(codec.render_stream(message, chunking=chunking))
    back = merge_chunks(list(codec.decode_stream(events))).to_message()
    assert back.content == single_text(message.content)


def _same_message(back: Any, original: Any) -> None:
    assert type(back) is type(original)
    if isinstance(original, AIMessage):
        assert back.content == single_text(original.content)
        assert back.tool_calls == original.tool_calls
    else:
        assert back == original


@SETTINGS
@given(conversations())
def test_encode_request_then_decode_request(messages):
    body = json.loads(json.dumps(codec.encode_request(messages, {"model": "claude-x"})))
    back, params = codec.decode_request(body)
    assert params == {"model": "claude-x", "max_tokens": codec.DEFAULT_MAX_TOKENS}
    assert len(back) == len(messages)
    for got, original in zip(back, messages, strict=True):
        _same_message(got, original)


neutral_params = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["claude-haiku-4-5", "claude-sonnet-4-5"]),
        "max_tokens": st.integers(1, 64000),
    },
    optional={
        "temperature": st.floats(0, 1),
        "top_p": st.floats(0, 1),
        "stop": st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3),
        "stream": st.booleans(),
        "tool_choice": st.sampled_from(["auto", "any", "none", "lookup"]),
        "reasoning_effort": st.sampled_from(["low", "medium", "high"]),
        "cache_control": st.just({"type": "ephemeral"}),
        "top_k": st.integers(1, 50),
    },
)


@SETTINGS
@given(neutral_params, st.booleans())
def test_params_round_trip(params, serial):
    params = dict(params)
    if serial and params.get("tool_choice", "auto") != "none":
        params["parallel_tool_calls"] = False
        params.setdefault("tool_choice", "auto")
    params["tools"] = [{"name": "lookup", "description": "Find", "parameters": {"type": "object"}}]
    body = codec.encode_request([HumanMessage("q")], params)
    _, back = codec.decode_request(json.loads(json.dumps(body)))
    assert back == params


# ------------------------------------------------------------------------------------- fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
_KEYS = [
    "type",
    "index",
    "delta",
    "content_block",
    "message",
    "usage",
    "text",
    "partial_json",
    "thinking",
    "signature",
    "citation",
    "stop_reason",
    "id",
    "name",
    "input",
    "error",
    "data",
]


def _containers(event: Any) -> list[dict[str, Any]]:
    """The event and the dicts nested in it, where a mutation may land."""
    found = []
    stack = [event]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@st.composite
def mutated_streams(draw: st.DrawFn) -> list[Any]:
    message = draw(replies)
    events: list[Any] = copy.deepcopy(
        wire(codec.render_stream(message, chunking=draw(chunkings())))
    )
    for op in draw(
        st.lists(st.sampled_from(["cut", "shuffle", "drop", "set", "insert", "garble"]), max_size=4)
    ):
        if not events:
            break
        i = draw(st.integers(0, len(events) - 1))
        if op == "cut":
            events = events[:i]
        elif op == "shuffle":
            events = draw(st.permutations(events))
        elif op == "drop" and _containers(events[i]):
            target = draw(st.sampled_from(_containers(events[i])))
            if target:
                target.pop(draw(st.sampled_from(sorted(target))))
        elif op == "set" and _containers(events[i]):
            target = draw(st.sampled_from(_containers(events[i])))
            target[draw(st.sampled_from(_KEYS))] = draw(json_values)
        elif op == "insert":
            events.insert(i, draw(json_values))
        elif op == "garble":
            events[i] = draw(st.sampled_from(["{not json", "", "[DONE]", "\x00", "null", "42"]))
    return events


@SETTINGS
@given(mutated_streams())
def test_fuzzed_streams_raise_only_myna_errors(events):
    try:
        for _ in codec.decode_stream(events):
            pass
    except MynaError:
        pass


@st.composite
def mutated_bodies(draw: st.DrawFn, make: Any) -> Any:
    body: Any = copy.deepcopy(json.loads(json.dumps(make(draw))))
    for _ in range(draw(st.integers(1, 3))):
        targets = _containers(body)
        if not targets:
            break
        target = draw(st.sampled_from(targets))
        if target and draw(st.booleans()):
            target.pop(draw(st.sampled_from(sorted(target))))
        else:
            target[
                draw(
                    st.sampled_from(
                        [
                            *_KEYS,
                            "content",
                            "role",
                            "tool_use_id",
                            "source",
                            "model",
                            "max_tokens",
                            "messages",
                            "tools",
                            "system",
                        ]
                    )
                )
            ] = draw(json_values)
    return body


@SETTINGS
@given(mutated_bodies(lambda draw: codec.render_response(draw(replies))))
def test_fuzzed_responses_raise_only_myna_errors(body):
    try:
        codec.decode_response(body)
    except MynaError:
        pass


@SETTINGS
@given(mutated_bodies(lambda draw: codec.encode_request(draw(conversations()), {"model": "m"})))
def test_fuzzed_requests_raise_only_bad_request(body):
    try:
        codec.decode_request(body)
    except BadRequestError:
        pass


@SETTINGS
@given(st.integers(400, 599), json_values | st.binary(max_size=20))
def test_decode_error_always_returns_a_provider_error(status, body):
    err = codec.decode_error(status, body)
    assert isinstance(err, ProviderError)
    assert err.status_code == status
    assert err.message


@pytest.mark.parametrize("chunking", ["words", "chars", 3])
def test_every_prefix_of_a_stream_is_either_complete_or_interrupted(chunking):
    message = AIMessage(
        [
            {"type": "reasoning", "reasoning": "think hard", "extras": {"signature": "S"}},
            {"type": "text", "text": "the answer"},
        ],
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "toolu_1"}],
    )
    events = list(codec.render_stream(message, chunking=chunking))
    for cut in range(len(events)):
        with pytest.raises(StreamInterruptedError) as exc:
            list(codec.decode_stream(events[:cut]))
        partial = exc.value.partial
        assert (partial is None) == (cut == 0)
    assert (
        merge_chunks(list(codec.decode_stream(events))).to_message().tool_calls
        == message.tool_calls
    )
