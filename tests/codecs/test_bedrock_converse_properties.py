"""Property tests of the Bedrock Converse codec: round trips, and fuzzing of decode_stream."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.codecs import bedrock_converse as codec
from myna.exceptions import MynaError
from myna.messages import AIMessage, merge_chunks, standard_blocks
from myna.strategies import ai_messages, chunkings, conversations

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZERO_USAGE = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}

replies = st.one_of(
    ai_messages(),
    ai_messages(reasoning=True),
    ai_messages(blocks=True),
    ai_messages(text=False),
)


def wire(events: Any) -> list[Any]:
    """The events after a trip through JSON, as the provider reads them off the frames."""
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

    A stream whose first block is text sends it as plain strings; when a second content block
    follows, `merge_content` turns each earlier string into its own text block, so streamed
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


def carried_usage(usage: Any) -> Any:
    """What Converse usage can carry: no reasoning-token breakdown, zeros for none."""
    if usage is None:
        return ZERO_USAGE
    return {k: v for k, v in usage.items() if k != "output_token_details"}


def assert_same_reply(back: AIMessage, original: AIMessage) -> None:
    assert back.tool_calls == original.tool_calls
    assert back.invalid_tool_calls == []
    assert back.usage_metadata == carried_usage(original.usage_metadata)
    assert back.response_metadata["model_provider"] == "bedrock"
    expected = "tool_calls" if original.tool_calls else "stop"
    assert back.response_metadata["finish_reason"] == expected


@SETTINGS
@given(replies)
def test_render_response_then_decode_response(message):
    body = json.loads(json.dumps(codec.render_response(message, {"model": "amazon.nova-pro-v1:0"})))
    back = codec.decode_response(body)
    assert back.content == single_text(message.content)
    assert_same_reply(back, message)


@SETTINGS
@given(replies, st.one_of(st.sampled_from(["words", "chars", 3]), chunkings()))
def test_render_stream_then_decode_stream(message, chunking):
    events = wire(codec.render_stream(message, chunking=chunking))
    assert list(events[0]) == ["messageStart"] and list(events[-1]) == ["metadata"]
    chunks = list(codec.decode_stream(events))
    assert chunks[-1].chunk_position == "last"
    back = merge_chunks(chunks).to_message()
    assert joined_text(back.content) == joined_text(message.content)
    assert_same_reply(back, message)
    # the stream and the non-streamed reply agree
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


@SETTINGS
@given(replies, chunkings())
def test_stream_survives_binary_framing(message, chunking):
    """render_stream -> frames -> bytes cut anywhere -> frames -> decode_stream."""
    events = list(codec.render_stream(message, chunking=chunking))
    data = b"".join(codec.encode_stream_event(e) for e in events)
    decoder = codec.EventStreamDecoder()
    step = max(len(data) // 7, 1)
    frames = []
    for start in range(0, len(data), step):
        frames += decoder.feed(data[start : start + step])
    assert decoder.pending == 0
    assert [codec.event_from_frame(h, p) for h, p in frames] == wire(events)


def _tool_specs(messages: list[Any]) -> list[dict[str, Any]]:
    names = sorted({c["name"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls})
    return [{"name": n, "description": "d", "parameters": {"type": "object"}} for n in names]


@SETTINGS
@given(conversations())
def test_encode_request_then_decode_request(messages):
    params: dict[str, Any] = {"model": "anthropic.claude-3-5-haiku-20241022-v1:0"}
    tools = _tool_specs(messages)
    if tools:
        params["tools"] = tools
    body = json.loads(json.dumps(codec.encode_request(messages, params)))
    back, back_params = codec.decode_request(body, model=params["model"])
    assert back_params == params
    assert len(back) == len(messages)
    for got, original in zip(back, messages, strict=True):
        assert type(got) is type(original)
        if isinstance(original, AIMessage):
            assert got.content == single_text(original.content)
            assert got.tool_calls == original.tool_calls
        else:
            assert got == original


neutral_params = st.fixed_dictionaries(
    {"model": st.sampled_from(["anthropic.claude-3-haiku-20240307-v1:0", "meta.llama3-8b"])},
    optional={
        "max_tokens": st.integers(1, 64000),
        "temperature": st.floats(0, 1),
        "top_p": st.floats(0, 1),
        "stop": st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3),
        "tool_choice": st.sampled_from(["auto", "any", "lookup"]),
        "reasoning_budget": st.integers(1024, 8000),
        "reasoning_effort": st.sampled_from(["low", "medium", "high"]),
        "response_format": st.just(
            {"type": "json_schema", "name": "Out", "schema": {"type": "object"}}
        ),
        "guardrailConfig": st.just({"guardrailIdentifier": "g1", "guardrailVersion": "1"}),
    },
)


@SETTINGS
@given(neutral_params)
def test_params_round_trip(params):
    from myna.messages import HumanMessage

    params = dict(params)
    params["tools"] = [{"name": "lookup", "description": "Find", "parameters": {"type": "object"}}]
    body = codec.encode_request([HumanMessage("q")], params)
    _, back = codec.decode_request(json.loads(json.dumps(body)), model=params["model"])
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
    "messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop",
    "metadata", "throttlingException", "contentBlockIndex", "delta", "start", "text", "toolUse",
    "input", "name", "toolUseId", "reasoningContent", "signature", "redactedContent",
    "stopReason", "usage", "inputTokens", "outputTokens", "metrics", "role", "citation",
]  # fmt: skip


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
    ops = ["cut", "shuffle", "drop", "set", "insert", "garble", "rename"]
    for op in draw(st.lists(st.sampled_from(ops), max_size=4)):
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
            events.insert(
                i, draw(json_values | st.dictionaries(st.sampled_from(_KEYS), json_values))
            )
        elif op == "garble":
            events[i] = draw(st.sampled_from(['{"contentBlockDelta": {', "not json", b"\xff", 7]))
        elif op == "rename" and isinstance(events[i], dict) and events[i]:
            value = next(iter(events[i].values()))
            events[i] = {draw(st.sampled_from(_KEYS)): value}
    return events


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_streams())
def test_decode_stream_raises_only_myna_errors(events):
    try:
        for _ in codec.decode_stream(events):
            pass
    except MynaError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["output", "usage", "stopReason", "metrics"]), json_values))
def test_decode_response_fuzzed_fields_raise_only_myna_errors(fields):
    body = codec.render_response(AIMessage("hi"))
    body.update(fields)
    try:
        codec.decode_response(body)
    except MynaError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(100, 599), json_values | st.binary(max_size=20))
def test_decode_error_always_gives_a_provider_error(status, body):
    from myna.exceptions import ProviderError

    assert isinstance(codec.decode_error(status, body), ProviderError)


@settings(max_examples=300, deadline=None)
@given(
    json_values
    | st.dictionaries(st.sampled_from(["messages", "system", "toolConfig"]), json_values)
)
def test_decode_request_raises_only_myna_errors(body):
    try:
        codec.decode_request(body, model="m")
    except MynaError:
        pass
