"""Round-trip properties and fuzzing of the OpenAI Responses codec."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.cassettes._foreign import load_interactions
from myna.codecs import openai_responses as codec
from myna.exceptions import BadRequestError, MynaError
from myna.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    merge_chunks,
    standard_blocks,
)
from myna.strategies import ai_messages, chunkings, conversations, tool_calls, usage_metadata

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real" / "openai-responses"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
_ident = st.text("abcdef0123456789", min_size=6, max_size=12)


# -- a strategy for replies with everything the Responses API returns ---------------------------


@st.composite
def _reasoning_item(draw: st.DrawFn, item_id: str) -> list[dict[str, Any]]:
    summaries = draw(st.lists(_text, max_size=3))
    blocks = [{"type": "reasoning", "reasoning": s, "id": item_id} for s in summaries]
    blocks = blocks or [{"type": "reasoning", "id": item_id}]
    if draw(st.booleans()):
        blocks[0]["extras"] = {"encrypted_content": "gAAAA" + draw(_ident)}
    return blocks


@st.composite
def _message_item(draw: st.DrawFn, item_id: str) -> list[dict[str, Any]]:
    phase = draw(st.sampled_from([None, "commentary", "final_answer"]))
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 5)) == 0:
            value = {"type": "refusal", "refusal": draw(_text)}
            refusal = {"type": "non_standard", "value": value, "id": item_id}
            if phase:
                refusal["extras"] = {"phase": phase}
            blocks.append(refusal)
            continue
        text = draw(_text)
        block: dict[str, Any] = {"type": "text", "text": text, "id": item_id}
        if text and draw(st.booleans()):
            url = "https://example.com/" + draw(_ident)
            end = draw(st.integers(0, len(text)))
            block["annotations"] = [
                {
                    "type": "citation",
                    "url": url,
                    "title": draw(_text),
                    "start_index": 0,
                    "end_index": end,
                }
            ]
        if phase:
            block["extras"] = {"phase": phase}
        blocks.append(block)
    return blocks


@st.composite
def _tool_item(draw: st.DrawFn, item_id: str) -> list[dict[str, Any]]:
    if draw(st.booleans()):
        return [
            {
                "type": "image",
                "id": item_id,
                "base64": "iVBOR" + draw(_ident),
                "mime_type": "image/png",
                "extras": {"status": "completed"},
            }
        ]
    call = {
        "type": "server_tool_call",
        "id": item_id,
        "name": "web_search",
        "args": {"action": {"type": "search", "query": draw(_text)}},
        "extras": {"status": "completed"},
    }
    return [call, {"type": "server_tool_result", "tool_call_id": item_id, "status": "success"}]


@st.composite
def responses_replies(draw: st.DrawFn) -> AIMessage:
    """Replies shaped like decoded Responses output: every block survives a round trip."""
    content: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["reasoning", "message", "tool"]))
        item_id = f"{kind[:2]}_{n}{draw(_ident)}"
        maker = {"reasoning": _reasoning_item, "message": _message_item, "tool": _tool_item}[kind]
        content += draw(maker(item_id))
    calls = draw(st.lists(tool_calls(), max_size=3, unique_by=lambda c: c["id"]))
    meta: dict[str, Any] = {}
    if any(b["type"] == "text" for b in content) and draw(st.booleans()):
        meta["logprobs"] = [
            {"token": t, "logprob": -0.5, "bytes": list(t.encode()), "top_logprobs": []}
            for t in draw(st.lists(_text, min_size=1, max_size=3))
        ]
    usage = draw(st.none() | usage_metadata())
    return AIMessage(content or "", tool_calls=calls, usage_metadata=usage, response_metadata=meta)


# -- normalisation: what a round trip keeps -----------------------------------------------------


def _usage(usage: Any) -> Any:
    if usage is None:
        return None
    out = {k: usage[k] for k in ("input_tokens", "output_tokens", "total_tokens")}
    for key in ("input_token_details", "output_token_details"):
        details = {k: v for k, v in (usage.get(key) or {}).items() if v}
        if details:
            out[key] = details
    return out


def _generic_content(message: BaseMessage) -> list[dict[str, Any]]:
    """Content as the Responses API gives it back: ids it makes up and foreign extras gone."""
    return [
        {k: v for k, v in block.items() if k not in ("id", "extras")}
        for block in standard_blocks(message.content)
    ]


def _same_reply(decoded: AIMessage, original: AIMessage, *, exact: bool) -> None:
    if exact:
        assert decoded.content == (original.content or "")
    else:
        assert _generic_content(decoded) == _generic_content(original)
    assert decoded.tool_calls == original.tool_calls
    assert decoded.invalid_tool_calls == original.invalid_tool_calls
    assert _usage(decoded.usage_metadata) == _usage(original.usage_metadata)
    if original.response_metadata.get("logprobs"):
        assert decoded.response_metadata["logprobs"] == original.response_metadata["logprobs"]


_generic_replies = st.one_of(
    ai_messages(),
    ai_messages(blocks=True),
    ai_messages(reasoning=True, tool_calls=False),
    ai_messages(text=False),
)


@SETTINGS
@given(_generic_replies)
def test_render_then_decode_response_gives_the_same_reply(message: AIMessage) -> None:
    body = json.loads(json.dumps(codec.render_response(message)))  # it is plain JSON
    _same_reply(codec.decode_response(body), message, exact=False)


@SETTINGS
@given(responses_replies())
def test_responses_shaped_replies_survive_render_and_decode_exactly(message: AIMessage) -> None:
    _same_reply(codec.decode_response(codec.render_response(message)), message, exact=True)


@SETTINGS
@given(st.one_of(_generic_replies, responses_replies()), chunkings())
def test_render_stream_then_decode_stream_gives_the_same_reply(
    message: AIMessage, chunking: Any
) -> None:
    events = json.loads(json.dumps(list(codec.render_stream(message, chunking=chunking))))
    streamed = merge_chunks(list(codec.decode_stream(events))).to_message()
    whole = codec.decode_response(events[-1]["response"])
    # the stream and the final response agree on everything ...
    assert streamed.content == whole.content
    assert streamed.tool_calls == whole.tool_calls
    assert streamed.usage_metadata == whole.usage_metadata
    assert streamed.response_metadata == whole.response_metadata
    assert streamed.additional_kwargs == whole.additional_kwargs
    # ... and both give back the message that was rendered
    exact = bool(message.content) and any("id" in b for b in message.content if isinstance(b, dict))
    _same_reply(streamed, message, exact=exact)


@SETTINGS
@given(st.sampled_from(["words", "chars", 3]), responses_replies())
def test_the_brief_chunkings_round_trip(chunking: Any, message: AIMessage) -> None:
    events = list(codec.render_stream(message, chunking=chunking))
    streamed = merge_chunks(list(codec.decode_stream(events))).to_message()
    _same_reply(streamed, message, exact=True)


# -- requests -----------------------------------------------------------------------------------


def _expected_history(message: BaseMessage) -> BaseMessage:
    """What a message looks like after encode_request then decode_request."""
    if isinstance(message, ToolMessage):
        return ToolMessage(message.content, tool_call_id=message.tool_call_id)
    if isinstance(message, AIMessage):
        content = message.content
        if isinstance(content, list) and not any(b.get("type") == "reasoning" for b in content):
            # message ids only go back next to the reasoning item they pair with
            content = [
                {
                    k: v
                    for k, v in b.items()
                    if k != "id" or b["type"] not in ("text", "non_standard")
                }
                for b in content
            ]
        refusals = [
            b["value"]["refusal"]
            for b in content
            if isinstance(b, dict) and b.get("type") == "non_standard"
        ]
        extra = {"refusal": "".join(refusals)} if refusals else {}
        return AIMessage(
            content,
            tool_calls=message.tool_calls,
            invalid_tool_calls=message.invalid_tool_calls,
            additional_kwargs=extra,
        )
    return message


def _params() -> st.SearchStrategy[dict[str, Any]]:
    tool = st.builds(
        lambda name, strict: {
            "name": name,
            "description": "d",
            "parameters": {"type": "object", "properties": {}},
            "strict": strict,
        },
        st.sampled_from(["f", "g"]),
        st.booleans(),
    )
    optional = st.fixed_dictionaries(
        {"model": st.sampled_from(["gpt-5-mini", "gpt-4.1"])},
        optional={
            "temperature": st.floats(0, 2),
            "top_p": st.floats(0, 1),
            "max_tokens": st.integers(16, 4096),
            "tools": st.lists(tool, min_size=1, max_size=2, unique_by=lambda t: t["name"]),
            "tool_choice": st.sampled_from(["auto", "none", "any", "f"]),
            "parallel_tool_calls": st.booleans(),
            "response_format": st.just(
                {"type": "json_schema", "name": "Out", "schema": {"type": "object"}, "strict": True}
            ),
            "reasoning_effort": st.sampled_from(["minimal", "low", "medium", "high"]),
            "include_reasoning": st.just(True),
            "logprobs": st.just(True),
            "top_logprobs": st.integers(0, 20),
            "stream": st.booleans(),
            "store": st.booleans(),
            "metadata": st.just({"suite": "props"}),
        },
    )
    return optional


@st.composite
def _histories(draw: st.DrawFn) -> list[BaseMessage]:
    messages = draw(conversations())
    if draw(st.booleans()):
        reply = draw(responses_replies())
        reply = AIMessage(reply.content, tool_calls=reply.tool_calls)
        answers = [ToolMessage("ok", tool_call_id=c["id"]) for c in reply.tool_calls]
        used = {c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls}
        if not used & {c["id"] for c in reply.tool_calls}:
            messages = [*messages, reply, *answers, HumanMessage("next")]
    return messages


@SETTINGS
@given(_histories(), _params())
def test_encode_then_decode_request_gives_the_same_messages_and_params(
    messages: list[BaseMessage], params: dict[str, Any]
) -> None:
    body = json.loads(json.dumps(codec.encode_request(messages, params)))
    decoded, decoded_params = codec.decode_request(body)
    assert decoded == [_expected_history(m) for m in messages]
    assert decoded_params == params
    assert codec.encode_request(decoded, decoded_params) == body


# -- fuzzing ------------------------------------------------------------------------------------


def _real_streams() -> list[list[Any]]:
    streams = []
    for path in sorted(REAL.iterdir()):
        for interaction in load_interactions(path):
            if interaction.response.status == 200 and interaction.response.is_stream:
                streams.append(interaction.response.stream_payloads())
    return streams


REAL_STREAMS = _real_streams()

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_keys = st.sampled_from(
    [
        "type",
        "response",
        "item",
        "output_index",
        "content_index",
        "summary_index",
        "delta",
        "item_id",
        "part",
        "arguments",
        "usage",
        "output",
        "annotation",
        "logprobs",
        "error",
        "status",
    ]
)


@st.composite
def _mutated(draw: st.DrawFn, events: list[Any]) -> list[Any]:
    events = copy.deepcopy(events)
    for _ in range(draw(st.integers(1, 4))):
        if not events:
            break
        action = draw(st.sampled_from(["truncate", "shuffle", "drop", "replace", "insert", "nest"]))
        i = draw(st.integers(0, len(events) - 1))
        if action == "truncate":
            events = events[:i]
        elif action == "shuffle":
            j = draw(st.integers(0, len(events) - 1))
            events[i], events[j] = events[j], events[i]
        elif action == "drop" and isinstance(events[i], dict) and events[i]:
            events[i].pop(draw(st.sampled_from(sorted(events[i]))))
        elif action == "replace" and isinstance(events[i], dict):
            events[i][draw(_keys)] = draw(_json)
        elif action == "insert":
            events.insert(
                i, draw(_json | st.builds(dict, type=st.sampled_from(list(_event_types))))
            )
        elif action == "nest" and isinstance(events[i], dict):
            for key in ("item", "response", "part"):
                if isinstance(events[i].get(key), dict):
                    events[i][key][draw(_keys)] = draw(_json)
    return events


_event_types = {
    "response.created",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.annotation.added",
    "response.reasoning_summary_text.delta",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.refusal.done",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "error",
}


def _rendered_streams() -> st.SearchStrategy[list[Any]]:
    return st.builds(
        lambda m, c: json.loads(json.dumps(list(codec.render_stream(m, chunking=c)))),
        responses_replies(),
        st.sampled_from(["words", 3]),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.sampled_from(REAL_STREAMS), _rendered_streams()).flatmap(_mutated))
def test_garbled_streams_raise_only_myna_errors(events: list[Any]) -> None:
    try:
        chunks = list(codec.decode_stream(events))
    except MynaError:
        return
    assert chunks and chunks[-1].chunk_position == "last"
    merge_chunks(chunks).to_message()


@settings(max_examples=200, deadline=None)
@given(st.one_of(_json, st.dictionaries(_keys, _json, max_size=5)))
def test_random_json_streams_raise_only_myna_errors(value: Any) -> None:
    events = value if isinstance(value, list) else [value]
    try:
        list(codec.decode_stream(events))
    except MynaError:
        pass


@settings(max_examples=200, deadline=None)
@given(_rendered_streams().map(lambda e: e[-1]["response"]).flatmap(lambda r: _mutated([r])))
def test_garbled_response_bodies_raise_only_myna_errors(bodies: list[Any]) -> None:
    for body in bodies:
        try:
            codec.decode_response(body)
        except MynaError:
            pass


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        lambda m, p: json.loads(json.dumps(codec.encode_request(m, p))), _histories(), _params()
    ).flatmap(lambda body: _mutated([body, *body["input"]]))
)
def test_garbled_requests_are_rejected_with_bad_request_only(pieces: list[Any]) -> None:
    if not pieces or not isinstance(pieces[0], dict):
        return
    body = {**pieces[0], "input": pieces[1:] or pieces[0].get("input")}
    try:
        codec.decode_request(body)
    except BadRequestError:
        pass


def test_sanity_of_the_history_strategy() -> None:
    # keep the strategy honest: some drawn histories include Responses-only content
    found = []

    @settings(max_examples=40, deadline=None)
    @given(_histories())
    def check(messages: list[BaseMessage]) -> None:
        found.extend(
            m for m in messages if isinstance(m, AIMessage) and isinstance(m.content, list)
        )
        assert isinstance(messages[0], (SystemMessage, HumanMessage))

    check()
    assert found
