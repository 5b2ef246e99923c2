"""Every codec against the contract in `myna.codecs._protocol`: names, signatures, round trips, fuzzing."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.codecs import CODECS, get_codec, protocol_for_path
from myna.codecs._protocol import (
    ClientCodec,
    Codec,
    ProtocolFacts,
    ServerCodec,
    StreamDecoder,
)
from myna.codecs._stream_driver import PushDecoder
from myna.exceptions import DecodeError, NotFoundError, ProviderError, StreamInterruptedError
from myna.messages import AIMessage, build_usage, merge_chunks

CLIENT = ("encode_request", "decode_response", "decode_stream", "adecode_stream", "decode_error")
SERVER = ("decode_request", "render_response", "render_stream", "render_error", "render_models")
WIRE_FACTS = ("request_model", "request_streams", "auth_error")
CONSTANTS = (
    "PROTOCOL",
    "PROVIDER",
    "STREAM_FORMAT",
    "SSE_EVENT_FIELD",
    "PATHS",
    "AUTH_HEADERS",
    "CLIENT_HEADERS",
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(params=sorted(CODECS))
def codec(request):
    return get_codec(request.param)


def test_every_codec_has_the_contract_names(codec):
    for name in (*CLIENT, *SERVER, *WIRE_FACTS, *CONSTANTS, "FORCED_TOOL_CHOICE", "StreamDecoder"):
        assert hasattr(codec, name), f"{codec.__name__} lacks {name}"
        assert name in codec.__all__, f"{codec.__name__}.__all__ lacks {name}"
    assert issubclass(codec.StreamDecoder, PushDecoder)
    assert codec.StreamDecoder.PROTOCOL == codec.PROTOCOL


FACTS = {
    "anthropic-messages": ("sse", "type"),
    "bedrock-converse": ("eventstream", None),
    "gemini": ("sse", None),
    "ollama": ("ndjson", None),
    "openai-chat": ("sse", None),
    "openai-responses": ("sse", "type"),
}
"""Protocol name -> (STREAM_FORMAT, SSE_EVENT_FIELD)."""


def test_registry_and_protocol_facts(codec):
    assert set(FACTS) == set(CODECS)
    assert get_codec(codec.PROTOCOL) is codec
    assert (codec.STREAM_FORMAT, codec.SSE_EVENT_FIELD) == FACTS[codec.PROTOCOL]


REQUESTS = {
    # protocol: (a chat path, a streaming path, its body, the model the path names)
    "anthropic-messages": ("/v1/messages", "/v1/messages", {"stream": True}, None),
    "bedrock-converse": (
        "/model/amazon.nova-lite-v1%3A0/converse",
        "/model/amazon.nova-lite-v1%3A0/converse-stream",
        {},
        "amazon.nova-lite-v1:0",
    ),
    "gemini": (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        {},
        "gemini-2.5-flash",
    ),
    "ollama": ("/api/chat", "/api/chat", {}, None),
    "openai-chat": ("/v1/chat/completions", "/v1/chat/completions", {"stream": True}, None),
    "openai-responses": ("/v1/responses", "/v1/responses", {"stream": True}, None),
}
"""What each codec reads from a request: its route, the stream flag and the model in the URL."""


def test_codecs_route_read_and_check_their_requests(codec):
    plain, streaming, stream_body, model = REQUESTS[codec.PROTOCOL]
    assert protocol_for_path(plain) == protocol_for_path(streaming) == codec.PROTOCOL
    assert codec.request_model(plain) == codec.request_model(streaming) == model
    assert codec.request_streams(streaming, stream_body) is True
    assert codec.request_streams(plain, {"stream": False}) is False
    assert isinstance(codec.PROVIDER, str) and codec.PROVIDER
    keyed = {name: "k" for name in codec.AUTH_HEADERS}
    assert codec.auth_error(plain, keyed, "") is None
    refused = codec.auth_error(plain, {}, "")
    if codec.AUTH_HEADERS:
        assert isinstance(refused, ProviderError) and refused.status_code in (401, 403)
    else:
        assert refused is None  # no key needed


def test_model_endpoints_are_not_chat_paths(codec):
    plain = REQUESTS[codec.PROTOCOL][0]
    assert codec.render_models("POST", plain, {}, ["m"]) is None
    assert codec.render_models("GET", "/v2/nothing", None, ["m"]) is None
    assert all(name == name.lower() for name in codec.CLIENT_HEADERS)


MODEL_ENDPOINTS = {
    # protocol: (method, list path, method, one-model path, body naming the model)
    "anthropic-messages": ("GET", "/v1/models", "GET", "/v1/models/m", None),
    "gemini": ("GET", "/v1beta/models", "GET", "/v1beta/models/m", None),
    "ollama": ("GET", "/api/tags", "POST", "/api/show", {"model": "m"}),
    "openai-chat": ("GET", "/v1/models", "GET", "/v1/models/m", None),
    "openai-responses": ("GET", "/v1/models", "GET", "/v1/models/m", None),
}


def test_model_endpoints_list_describe_and_refuse_in_strict_mode(codec):
    if codec.PROTOCOL not in MODEL_ENDPOINTS:
        assert codec.render_models("GET", "/v1/models", None, ["m"]) is None  # Bedrock runtime
        return
    list_method, list_path, get_method, get_path, body = MODEL_ENDPOINTS[codec.PROTOCOL]
    status, headers, listed = codec.render_models(list_method, list_path, None, ["m"])
    assert status == 200 and "m" in json.dumps(listed)
    assert headers["content-type"].startswith("application/json")
    status, _, described = codec.render_models(get_method, get_path, body, ["other"])
    assert status == 200 and "m" in json.dumps(described)  # not strict: any model
    status, _, refused = codec.render_models(get_method, get_path, body, ["other"], strict=True)
    assert status == 404
    assert isinstance(codec.decode_error(404, refused), NotFoundError)  # the client's view


def test_paths_no_codec_serves_are_not_routed():
    for path in ("/v1/embeddings", "/api/tags", "/", "/v1/models"):
        assert protocol_for_path(path) is None


def test_exports_are_sorted_and_documented(codec):
    assert codec.__all__ == sorted(codec.__all__)
    undocumented = [
        name
        for name in codec.__all__
        if callable(getattr(codec, name)) and not getattr(codec, name).__doc__
    ]
    assert undocumented == []


def test_stream_decoders_live_in_stream_modules(codec):
    assert codec.StreamDecoder.__module__ == f"{codec.__name__}._stream"
    assert codec.decode_stream.__module__ == f"{codec.__name__}._stream"


def _protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    """The methods a Protocol lists, with ``self`` dropped from each signature."""
    out = {}
    for name, member in vars(protocol).items():
        if inspect.isfunction(member) and not name.startswith("_"):
            signature = inspect.signature(member)
            out[name] = signature.replace(parameters=list(signature.parameters.values())[1:])
    return out


CONTRACT = {
    **_protocol_methods(ClientCodec),
    **_protocol_methods(ServerCodec),
    **_protocol_methods(ProtocolFacts),
}


def test_the_protocols_list_every_contract_function():
    assert set(CONTRACT) == {*CLIENT, *SERVER, *WIRE_FACTS}
    assert set(_protocol_methods(StreamDecoder)) == {"feed", "close", "partial"}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_functions_take_the_protocol_parameters(codec, name):
    """Same parameter names, kinds and defaults as the Protocol (a codec may default more)."""
    expected = CONTRACT[name].parameters
    actual = inspect.signature(getattr(codec, name)).parameters
    assert [(p.name, p.kind) for p in actual.values()] == [
        (p.name, p.kind) for p in expected.values()
    ], f"{codec.__name__}.{name}{inspect.signature(getattr(codec, name))}"
    for param in expected.values():
        if param.default is not inspect.Parameter.empty:
            assert actual[param.name].default == param.default, f"{codec.__name__}.{name}"


def test_stream_decoders_have_the_protocol_surface(codec):
    decoder = codec.StreamDecoder()
    for name, signature in _protocol_methods(StreamDecoder).items():
        bound = inspect.signature(getattr(decoder, name))
        assert list(bound.parameters) == list(signature.parameters), name
    assert decoder.done is False


def test_stream_modules_render_and_server_modules_do_not(codec):
    stream = importlib.import_module(f"{codec.__name__}._stream")
    server = importlib.import_module(f"{codec.__name__}._server")
    for name in ("render_stream", "render_stream_error"):
        if hasattr(codec, name):
            assert getattr(codec, name).__module__ == stream.__name__
            assert name not in server.__all__


def test_usage_mappers_share_one_name_and_one_builder(codec):
    shared = importlib.import_module(f"{codec.__name__}._shared")
    assert callable(shared.usage_from_wire) and callable(shared.usage_to_wire)
    assert shared.build_usage is build_usage


def test_get_codec_is_typed_by_the_protocol():
    assert inspect.signature(get_codec).return_annotation in (Codec, "Codec")


def test_render_then_decode_stream_round_trips(codec):
    message = AIMessage("Hello there, how are you today?")
    params = {"model": "m-1", "max_tokens": 64}
    events = list(codec.render_stream(message, params))
    if codec.STREAM_FORMAT == "eventstream":
        events = [codec.event_from_frame(f) if isinstance(f, bytes) else f for f in events]
    sync = list(codec.decode_stream(events))

    async def collect():
        async def aevents():
            for event in events:
                yield event

        return [chunk async for chunk in codec.adecode_stream(aevents())]

    asynced = asyncio.run(collect())
    assert merge_chunks(sync).to_message().text == message.text
    assert [c.content for c in sync] == [c.content for c in asynced]


def test_a_cut_stream_is_interrupted_with_its_partial(codec):
    events = list(codec.render_stream(AIMessage("one two three four"), {"model": "m"}))
    if codec.STREAM_FORMAT == "eventstream":
        events = [codec.event_from_frame(f) if isinstance(f, bytes) else f for f in events]
    with pytest.raises(StreamInterruptedError) as caught:
        list(codec.decode_stream(events[:-2]))
    assert caught.value.partial is None or caught.value.partial.text in "one two three four"


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(json_values | st.text(max_size=10), max_size=8))
def test_stream_decoders_raise_only_myna_errors(codec, events):
    try:
        list(codec.decode_stream(events))
    except (DecodeError, ProviderError, StreamInterruptedError):
        pass


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=json_values)
def test_decode_response_raises_only_myna_errors(codec, body):
    try:
        codec.decode_response(body)
    except (DecodeError, ProviderError):
        pass


# ------------------------------------------------------------------ round trips, every codec

PARAMS = {"model": "m-1", "max_tokens": 64, "stream_usage": True}

TOOL_CALL = AIMessage(
    "",
    tool_calls=[
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ],
)
REASONING = AIMessage(
    [
        {"type": "reasoning", "reasoning": "The user greets me."},
        {"type": "text", "text": "Hello there."},
    ]
)
USAGE = AIMessage("Hi.", usage_metadata=build_usage(12, 7, cache_read=4))


def _events(codec, message):
    events = list(codec.render_stream(message, PARAMS))
    if codec.STREAM_FORMAT == "eventstream":
        events = [codec.event_from_frame(f) if isinstance(f, bytes) else f for f in events]
    return events


def _both_ways(codec, message):
    """(render_response -> decode_response, render_stream -> decode_stream merged)."""
    whole = codec.decode_response(codec.render_response(message, PARAMS))
    streamed = merge_chunks(list(codec.decode_stream(_events(codec, message)))).to_message()
    return whole, streamed


def _blocks(message, kind, key):
    content = message.content
    if isinstance(content, str):
        return [content] if kind == "text" and content else []
    return [b.get(key) for b in content if isinstance(b, dict) and b.get("type") == kind]


def test_tool_calls_round_trip(codec):
    for decoded in _both_ways(codec, TOOL_CALL):
        assert [(c["name"], c["args"]) for c in decoded.tool_calls] == [
            ("get_weather", {"city": "Paris"})
        ]
        assert decoded.response_metadata["finish_reason"] == "tool_calls"


def test_reasoning_round_trips(codec):
    for decoded in _both_ways(codec, REASONING):
        assert "".join(_blocks(decoded, "reasoning", "reasoning")) == "The user greets me."
        assert "".join(_blocks(decoded, "text", "text")) == "Hello there."


def test_usage_round_trips(codec):
    for decoded in _both_ways(codec, USAGE):
        usage = decoded.usage_metadata
        assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (12, 7, 19)
        assert usage["input_token_details"]["cache_read"] == 4
