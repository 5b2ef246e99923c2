"""Property tests: every fake streams what it invokes, and SchemaChatModel fills any schema.

- For every fake and every chunking policy, the merged stream equals the invoked message
  (content, tool calls, usage; for the scripted fake the whole message).
- Every `SchemaChatModel` structured output and tool call validates against its schema, for
  arbitrary schemas drawn from `json_schemas()` below.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myna.fakes import (
    FakeChatModel,
    FunctionChatModel,
    SchemaChatModel,
    ScriptedToolCall,
)
from myna.messages import AIMessage, BaseMessage, merge_chunks, split_text
from myna.strategies import ai_messages, chunkings

FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# built once at import: constructing strategies per draw is slow
_replies = st.one_of(ai_messages(), ai_messages(reasoning=True, max_tool_calls=2))
_text_replies = ai_messages(usage=False, max_tool_calls=2)


def invoked_and_streamed(make: Any, chunking: Any, prompt: str = "question?") -> tuple:
    """Invoke one fresh model and stream another built the same way; both as AIMessages."""
    invoked = make(chunking).invoke(prompt)
    streamed = merge_chunks(list(make(chunking).stream(prompt))).to_message()
    return invoked, streamed


async def ainvoked_and_astreamed(make: Any, chunking: Any, prompt: str = "question?") -> tuple:
    invoked = await make(chunking).ainvoke(prompt)
    chunks = [c async for c in make(chunking).astream(prompt)]
    return invoked, merge_chunks(chunks).to_message()


def same_essentials(a: AIMessage, b: AIMessage) -> None:
    assert a.content == b.content
    assert a.tool_calls == b.tool_calls
    assert a.invalid_tool_calls == b.invalid_tool_calls
    assert a.usage_metadata == b.usage_metadata


# -- FakeChatModel ----------------------------------------------------------------------------


def scripted(message: AIMessage) -> Any:
    return lambda chunking: FakeChatModel([message], chunking=chunking, validate_tool_calls=False)


@FAST
@given(message=_replies, chunking=chunkings())
def test_scripted_stream_equals_invoke(message: AIMessage, chunking: Any) -> None:
    invoked, streamed = invoked_and_streamed(scripted(message), chunking)
    assert streamed == invoked  # the whole message: ids, metadata and usage too
    if message.usage_metadata is not None:
        assert invoked.usage_metadata == message.usage_metadata


@FAST
@given(message=_replies, chunking=chunkings())
async def test_scripted_astream_equals_ainvoke(message: AIMessage, chunking: Any) -> None:
    invoked, streamed = await ainvoked_and_astreamed(scripted(message), chunking)
    assert streamed == invoked


# -- FunctionChatModel --------------------------------------------------------------------------


def returning(message: AIMessage) -> Any:
    def make(chunking: Any) -> FunctionChatModel:
        return FunctionChatModel(
            lambda messages, info: message.model_copy(deep=True),
            chunking=chunking,
            validate_tool_calls=False,
        )

    return make


def yielding(message: AIMessage) -> Any:
    """A generator function that streams `message` itself, cut by the drawn policy."""

    def make(chunking: Any) -> FunctionChatModel:
        def fn(messages: list[BaseMessage], info: Any) -> Iterator[Any]:
            yield from split_text(message.text, chunking)
            for call in message.tool_calls:
                # args may hold any name, "id" too: build the call without keyword unpacking
                yield ScriptedToolCall(name=call["name"], args=call["args"], id=call["id"])

        return FunctionChatModel(fn, validate_tool_calls=False)

    return make


@FAST
@given(message=_replies, chunking=chunkings())
def test_function_stream_equals_invoke(message: AIMessage, chunking: Any) -> None:
    same_essentials(*invoked_and_streamed(returning(message), chunking))


@FAST
@given(message=_replies, chunking=chunkings())
async def test_function_astream_equals_ainvoke(message: AIMessage, chunking: Any) -> None:
    same_essentials(*await ainvoked_and_astreamed(returning(message), chunking))


@FAST
@given(message=_text_replies, chunking=chunkings())
def test_generator_function_stream_equals_invoke(message: AIMessage, chunking: Any) -> None:
    invoked, streamed = invoked_and_streamed(yielding(message), chunking)
    same_essentials(invoked, streamed)
    assert invoked.text == message.text
    assert [c["args"] for c in invoked.tool_calls] == [c["args"] for c in message.tool_calls]


@FAST
@given(message=_text_replies, chunking=chunkings())
async def test_generator_function_astream_equals_ainvoke(message: AIMessage, chunking: Any) -> None:
    same_essentials(*await ainvoked_and_astreamed(yielding(message), chunking))


# -- schemas for SchemaChatModel -----------------------------------------------------------------

_names = st.text(string.ascii_lowercase + "_", min_size=1, max_size=8)
_formats = st.sampled_from(["date", "date-time", "time", "email", "uri", "uuid"])


@st.composite
def _strings(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"type": "string", "format": draw(_formats)}
    low = draw(st.integers(0, 12))
    return {"type": "string", "minLength": low, "maxLength": low + draw(st.integers(0, 10))}


@st.composite
def _integers(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.integers(-1000, 1000))
    span = draw(st.integers(2, 60))
    kind = draw(st.sampled_from(["inclusive", "exclusive", "min-only", "max-only", "none"]))
    bounds = {
        "inclusive": {"minimum": low, "maximum": low + span},
        "exclusive": {"exclusiveMinimum": low, "exclusiveMaximum": low + span},
        "min-only": {"minimum": low},
        "max-only": {"maximum": low},
        "none": {},
    }[kind]
    if draw(st.booleans()):
        step = draw(st.integers(1, 5))
        bounds = {"minimum": low, "maximum": low + span + step * 2, "multipleOf": step}
    return {"type": "integer", **bounds}


@st.composite
def _numbers(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.floats(-1e4, 1e4, allow_nan=False))
    span = draw(st.floats(0.5, 100))
    kind = draw(st.sampled_from(["inclusive", "exclusive", "max-only", "none"]))
    return {
        "type": "number",
        **{
            "inclusive": {"minimum": low, "maximum": low + span},
            "exclusive": {"exclusiveMinimum": low, "exclusiveMaximum": low + span},
            "max-only": {"maximum": low},
            "none": {},
        }[kind],
    }


_enums = st.lists(
    st.one_of(st.text(string.ascii_letters, max_size=6), st.integers(-5, 5), st.booleans()),
    min_size=1,
    max_size=4,
    unique_by=repr,
).map(lambda values: {"enum": values})

_leaves = st.one_of(
    _strings(),
    _integers(),
    _numbers(),
    st.just({"type": "boolean"}),
    _enums,
    st.just({"anyOf": [{"type": "string"}, {"type": "null"}]}),  # an Optional[str] field
)


def _objects(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        properties = draw(st.dictionaries(_names, children, min_size=1, max_size=4))
        required = draw(st.lists(st.sampled_from(sorted(properties)), unique=True))
        schema = {"type": "object", "properties": properties, "required": sorted(required)}
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    return build()


def _arrays(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    return st.builds(
        lambda items, low, extra: {
            "type": "array",
            "items": items,
            "minItems": low,
            "maxItems": low + extra,
        },
        children,
        st.integers(0, 3),
        st.integers(0, 3),
    )


_fields = st.recursive(
    _leaves, lambda children: st.one_of(_objects(children), _arrays(children)), max_leaves=8
)


@st.composite
def json_schemas(draw: st.DrawFn) -> dict[str, Any]:
    """Titled object schemas: string (lengths, formats), integer and number (bounds,
    multipleOf), boolean, enum, optional, array and nested object fields; some required,
    some optional, some closed with ``additionalProperties: false``."""
    schema = draw(_objects(_fields))
    return {"title": "Result", "description": "A drawn schema.", **schema}


def assert_valid(schema: dict[str, Any], value: Any) -> None:
    checker = jsonschema.FormatChecker()
    jsonschema.Draft202012Validator(schema, format_checker=checker).validate(value)


SCHEMA_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SCHEMA_SETTINGS
@given(
    schema=json_schemas(),
    seed=st.integers(0, 1000),
    method=st.sampled_from(["json_schema", "function_calling", "json_mode"]),
)
def test_schema_model_structured_output_is_valid(schema: dict, seed: int, method: str) -> None:
    value = SchemaChatModel(seed=seed).with_structured_output(schema, method=method).invoke("q")
    assert_valid(schema, value)


@SCHEMA_SETTINGS
@given(schema=json_schemas(), seed=st.integers(0, 1000))
async def test_schema_model_structured_output_is_valid_async(schema: dict, seed: int) -> None:
    runnable = SchemaChatModel(seed=seed).with_structured_output(schema)
    value = await runnable.ainvoke("q")
    assert_valid(schema, value)
    assert await runnable.ainvoke("q") == value  # same seed, same value


@SCHEMA_SETTINGS
@given(schemas=st.lists(json_schemas(), min_size=1, max_size=3), chunking=chunkings())
def test_schema_model_tool_calls_are_valid_and_stream_like_invoke(
    schemas: list[dict], chunking: Any
) -> None:
    tools = [{**s, "title": f"tool_{i}"} for i, s in enumerate(schemas)]

    def make(chunking: Any) -> Any:
        return SchemaChatModel(seed=1, chunking=chunking).bind_tools(tools)

    invoked, streamed = invoked_and_streamed(make, chunking)
    same_essentials(invoked, streamed)
    assert [c["name"] for c in invoked.tool_calls] == [t["title"] for t in tools]
    for call, schema in zip(invoked.tool_calls, schemas, strict=True):
        assert_valid(schema, call["args"])
