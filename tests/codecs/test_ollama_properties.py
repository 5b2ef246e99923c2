"""Property tests of the Ollama codec: round trips both ways, and fuzzing of every decoder."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.cassettes._foreign import load_interactions
from myna.codecs import ollama
from myna.exceptions import BadRequestError, MynaError, ProviderError
from myna.messages import AIMessage, BaseMessage, merge_chunks, standard_blocks
from myna.strategies import ai_messages, chunkings, conversations

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "real" / "ollama"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

replies = st.one_of(
    ai_messages(),
    ai_messages(reasoning=True),
    ai_messages(blocks=True, tool_calls=False),
    ai_messages(text=False, reasoning=True),
)


def carried(message: AIMessage) -> AIMessage:
    """What of `message` Ollama's wire carries.

    One thinking string and one text string (signatures and block boundaries are lost),
    the tool calls, and usage totals plus ``cache_read``.
    """
    texts, thinking = [], []
    for block in standard_blocks(message.content):
        if block["type"] == "text":
            texts.append(block["text"])
        elif block["type"] == "reasoning":
            thinking.append(block.get("reasoning", ""))
    text, think = "".join(texts), "".join(thinking)
    content: Any = text
    if think:
        content = [{"type": "reasoning", "reasoning": think}]
        if text:
            content.append({"type": "text", "text": text})
    usage = message.usage_metadata
    if usage is not None:
        cache = (usage.get("input_token_details") or {}).get("cache_read")
        usage = {k: usage[k] for k in ("input_tokens", "output_tokens", "total_tokens")}
        if cache is not None:
            usage["input_token_details"] = {"cache_read": cache}
    return AIMessage(content, tool_calls=message.tool_calls, usage_metadata=usage)


def assert_same_reply(got: AIMessage, message: AIMessage) -> None:
    expected = carried(message)
    assert got.content == expected.content
    assert got.tool_calls == expected.tool_calls
    assert got.invalid_tool_calls == []
    assert got.usage_metadata == expected.usage_metadata
    finish = "tool_calls" if message.tool_calls else "stop"
    assert got.response_metadata["finish_reason"] == finish
    assert got.response_metadata["model_name"] == "m"


# --- round trips ------------------------------------------------------------------------------


@SETTINGS
@given(replies)
def test_render_response_then_decode_response(message):
    body = ollama.render_response(message, {"model": "m"})
    assert json.loads(json.dumps(body)) == body  # the body is plain JSON
    assert_same_reply(ollama.decode_response(body), message)


@pytest.mark.parametrize("chunking", ["words", "chars", 3])
@SETTINGS
@given(message=replies)
def test_render_stream_then_decode_stream(chunking, message):
    lines = [
        json.dumps(line)
        for line in ollama.render_stream(message, {"model": "m"}, chunking=chunking)
    ]
    chunks = list(ollama.decode_stream(lines))
    assert chunks[-1].chunk_position == "last"
    assert_same_reply(merge_chunks(chunks).to_message(), message)


@SETTINGS
@given(message=replies, chunking=chunkings())
def test_stream_and_response_decode_alike(message, chunking):
    # a fixed created_at: otherwise each render stamps the current time
    message = message.model_copy(
        update={"response_metadata": {"created_at": "2026-01-01T00:00:00Z"}}
    )
    whole = ollama.decode_response(ollama.render_response(message, {"model": "m"}))
    streamed = merge_chunks(
        list(ollama.decode_stream(ollama.render_stream(message, {"model": "m"}, chunking=chunking)))
    ).to_message()
    assert streamed.content == whole.content
    assert streamed.tool_calls == whole.tool_calls
    assert streamed.usage_metadata == whole.usage_metadata
    assert streamed.response_metadata == whole.response_metadata


_texts = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
_tool_specs = st.builds(
    lambda name, description, props: {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": {p: {"type": "string"} for p in props}},
    },
    _names,
    st.text(max_size=30),
    st.lists(_names, max_size=3),
)
request_params = st.fixed_dictionaries(
    {"model": _names, "stream": st.booleans()},
    optional={
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "max_tokens": st.integers(1, 100_000),
        "seed": st.integers(0, 2**31),
        "stop": st.lists(_texts, min_size=1, max_size=3),
        "top_k": st.integers(1, 100),
        "num_ctx": st.integers(512, 131_072),
        "tools": st.lists(_tool_specs, min_size=1, max_size=3),
        "response_format": st.one_of(
            st.just({"type": "json_object"}),
            st.builds(
                lambda props: {
                    "type": "json_schema",
                    "schema": {"type": "object", "properties": props},
                },
                st.dictionaries(_names, st.just({"type": "integer"}), max_size=3),
            ),
        ),
        "reasoning_effort": st.sampled_from(["low", "medium", "high"]),
        "logprobs": st.booleans(),
        "top_logprobs": st.integers(0, 20),
        "keep_alive": st.sampled_from(["5m", 0, -1]),
    },
)


def carried_request(message: BaseMessage) -> BaseMessage:
    if isinstance(message, AIMessage):
        return AIMessage(carried(message).content, tool_calls=message.tool_calls)
    return message


@SETTINGS
@given(conversation=conversations(), params=request_params)
def test_encode_request_then_decode_request(conversation, params):
    body = ollama.encode_request(conversation, params)
    assert json.loads(json.dumps(body)) == body
    messages, decoded = ollama.decode_request(body)
    assert messages == [carried_request(m) for m in conversation]
    expected = dict(params)
    if "top_logprobs" in expected:
        expected.setdefault("logprobs", True)
    assert decoded == expected
    assert ollama.encode_request(messages, decoded) == body


# --- fuzzing ----------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)
)
_json = st.recursive(
    _scalars,
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.text(max_size=8), c, max_size=3)
    ),
    max_leaves=10,
)


def _maybe(strategy):
    return st.one_of(strategy, _json)


_functions = _maybe(
    st.fixed_dictionaries(
        {},
        optional={
            "name": _maybe(_names),
            "arguments": _maybe(st.dictionaries(_names, _json, max_size=2)),
            "index": _json,
        },
    )
)
_calls = _maybe(
    st.lists(
        _maybe(st.fixed_dictionaries({}, optional={"id": _json, "function": _functions})),
        max_size=2,
    )
)
_messages = _maybe(
    st.fixed_dictionaries(
        {},
        optional={
            "role": _json,
            "content": _maybe(st.text(max_size=10)),
            "thinking": _maybe(st.text(max_size=10)),
            "tool_calls": _calls,
            "images": _json,
        },
    )
)
events = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "model": _json,
            "created_at": _json,
            "message": _messages,
            "done": _maybe(st.booleans()),
            "done_reason": _json,
            "prompt_eval_count": _maybe(st.integers(0, 10**6)),
            "eval_count": _maybe(st.integers(0, 10**6)),
            "prompt_eval_cached_count": _json,
            "logprobs": _json,
            "error": _json,
            "status": _json,
            "total_duration": _json,
        },
    ),
    _json,
    st.text(max_size=20),
    st.binary(max_size=10),
)


def _only_myna_errors(run):
    try:
        run()
    except MynaError:
        pass


@SETTINGS
@given(st.lists(events, max_size=8))
def test_fuzz_decode_stream_random_events(evs):
    def run():
        chunks = list(ollama.decode_stream(evs))
        assert chunks and chunks[-1].chunk_position == "last"
        merge_chunks(chunks).to_message()

    _only_myna_errors(run)


def _real_stream(name: str) -> list[dict[str, Any]]:
    return load_interactions(REAL / name)[0].response.stream_payloads()


REAL_STREAMS = [
    _real_stream(name)
    for name in ("TestCloudStreaming.httprr", "TestClient_GenerateChatStream.httprr")
]


@SETTINGS
@given(
    which=st.sampled_from(range(len(REAL_STREAMS))),
    seed=st.integers(0, 2**32 - 1),
    cut=st.integers(0, 60),
    garble=st.lists(
        st.tuples(st.integers(0, 60), st.sampled_from(["drop", "replace", "wrap"]), _json),
        max_size=4,
    ),
    shuffle=st.booleans(),
)
def test_fuzz_decode_stream_mutated_real_streams(which, seed, cut, garble, shuffle):
    evs = [dict(e) for e in REAL_STREAMS[which]][:cut]
    rng = random.Random(seed)
    if shuffle:
        rng.shuffle(evs)
    for position, action, value in garble:
        if not evs:
            break
        target = evs[position % len(evs)]
        if not isinstance(target, dict):
            continue  # already replaced whole
        key = rng.choice(sorted(target) or ["message"])
        if action == "drop":
            target.pop(key, None)
        elif action == "replace":
            target[key] = value
        else:
            evs[position % len(evs)] = value
    _only_myna_errors(lambda: list(ollama.decode_stream(evs)))


def test_truncated_real_stream_raises_stream_interrupted_with_partial():
    evs = REAL_STREAMS[0][:40]
    with pytest.raises(MynaError) as exc:
        list(ollama.decode_stream(evs))
    assert type(exc.value).__name__ == "StreamInterruptedError"
    assert exc.value.partial.content[0]["reasoning"].startswith("User asks")


@SETTINGS
@given(events)
def test_fuzz_decode_response(body):
    _only_myna_errors(lambda: ollama.decode_response(body))


@SETTINGS
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "model": _maybe(_names),
            "messages": _maybe(
                st.lists(
                    _maybe(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "role": _maybe(
                                    st.sampled_from(["system", "user", "assistant", "tool"])
                                ),
                                "content": _json,
                                "thinking": _json,
                                "images": _json,
                                "tool_calls": _calls,
                                "tool_name": _json,
                                "tool_call_id": _json,
                            },
                        )
                    ),
                    max_size=3,
                )
            ),
            "options": _json,
            "format": _json,
            "think": _json,
            "tools": _json,
            "stream": _json,
            "logprobs": _json,
            "top_logprobs": _json,
        },
    )
    | _json
)
def test_fuzz_decode_request_only_bad_request(body):
    try:
        ollama.decode_request(body)
    except BadRequestError as exc:
        assert exc.status_code == 400 and exc.body == {"error": exc.message}


@SETTINGS
@given(status=st.integers(400, 599), body=st.one_of(_json, st.binary(max_size=20)))
def test_fuzz_decode_error_always_gives_a_provider_error(status, body):
    error = ollama.decode_error(status, body)
    assert isinstance(error, ProviderError) and error.status_code == status and error.message
    rendered_status, _, rendered = ollama.render_error(error)
    assert rendered_status == status and rendered["error"] == error.message
