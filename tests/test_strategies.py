import json
import math
import re
import subprocess
import sys

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from myna.exceptions import UserError
from myna.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    merge_chunks,
    split_message,
)
from myna.strategies import (
    ai_messages,
    chunked_streams,
    chunkings,
    content_blocks,
    conversations,
    human_messages,
    reasoning_blocks,
    text_blocks,
    tool_calls,
    usage_metadata,
)

# Drawing whole messages can take longer than hypothesis's 200 ms deadline on a busy machine,
# so property tests here run without one.
# "Can it draw X at all" checks need no minimal example; shrinking one is slow.
NO_SHRINK = settings(phases=[Phase.generate], database=None, deadline=None)
CHUNKINGS = ["words", "chars", 1, 3, 8]
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CALL_ID = re.compile(r"call_[A-Za-z0-9]+")

MESSAGE_VARIANTS = {
    "default": ai_messages(),
    "reasoning": ai_messages(reasoning=True),
    "blocks": ai_messages(blocks=True),
    "reasoning_only": ai_messages(text=False, tool_calls=False, reasoning=True),
    "tools_only": ai_messages(text=False),
    "text_only": ai_messages(tool_calls=False, usage=False),
}


def _walk(value):
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _assert_encodable(text: str):
    text.encode("utf-8")  # a lone surrogate would raise UnicodeEncodeError


def _check_usage(usage):
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert min(usage["input_tokens"], usage["output_tokens"]) >= 0
    details = usage.get("input_token_details", {})
    assert details.get("cache_read", 0) + details.get("cache_creation", 0) <= usage["input_tokens"]
    out_details = usage.get("output_token_details", {})
    assert out_details.get("reasoning", 0) <= usage["output_tokens"]


def _is_empty(message: AIMessage) -> bool:
    return not message.tool_calls and not message.content


# ------------------------------------------------------------------ messages round-trip


@pytest.mark.parametrize("variant", sorted(MESSAGE_VARIANTS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_ai_messages_round_trip_every_chunking(variant, data):
    message = data.draw(MESSAGE_VARIANTS[variant])
    for chunking in CHUNKINGS:
        chunks = split_message(message, chunking)
        assert merge_chunks(chunks).to_message() == message, chunking


@settings(max_examples=100, deadline=None)
@given(chunked_streams(ai_messages(reasoning=True, max_tool_calls=2)))
def test_chunked_streams_merge_back(pair):
    message, chunks = pair
    assert chunks[-1].chunk_position == "last"
    assert merge_chunks(chunks).to_message() == message


@settings(deadline=None)
@given(chunked_streams())
def test_chunked_streams_default_messages(pair):
    message, chunks = pair
    assert isinstance(message, AIMessage)
    assert sum(chunks).to_message() == message


@settings(deadline=None)
@given(chunkings())
def test_chunkings_are_valid_policies(chunking):
    assert chunking in ("words", "chars") or (isinstance(chunking, int) and 1 <= chunking <= 8)
    chunks = split_message(AIMessage("héllo wörld"), chunking)
    assert "".join(c.content for c in chunks) == "héllo wörld"


# ------------------------------------------------------------------ message shapes


@settings(max_examples=200, deadline=None)
@given(ai_messages(reasoning=False))
def test_ai_messages_default_shape(message):
    assert isinstance(message.content, str)
    assert not _is_empty(message)
    assert len(message.tool_calls) <= 3
    ids = [c["id"] for c in message.tool_calls]
    assert len(set(ids)) == len(ids)
    if message.usage_metadata is not None:
        _check_usage(message.usage_metadata)
    _assert_encodable(message.content)


@settings(deadline=None)
@given(ai_messages(reasoning=True, tool_calls=False, usage=False))
def test_ai_messages_with_reasoning_starts_with_signed_blocks(message):
    assert isinstance(message.content, list)
    assert message.content[0]["type"] == "reasoning"
    kinds = [b["type"] for b in message.content]
    assert kinds == sorted(kinds)  # "reasoning" blocks before "text" blocks
    assert all(b["extras"]["signature"] for b in message.content if b["type"] == "reasoning")
    assert message.usage_metadata is None
    assert message.tool_calls == []


@settings(deadline=None)
@given(ai_messages(text=False, max_tool_calls=2))
def test_ai_messages_without_text_always_call_tools(message):
    assert message.content == ""
    assert 1 <= len(message.tool_calls) <= 2


@settings(deadline=None)
@given(ai_messages(blocks=True, tool_calls=False))
def test_ai_messages_blocks(message):
    assert isinstance(message.content, list)
    assert message.content
    assert all(b["type"] == "text" and b["text"] for b in message.content)


@settings(deadline=None)
@given(tool_calls(max_args=2))
def test_tool_calls_shape(call):
    assert IDENT.fullmatch(call["name"])
    assert CALL_ID.fullmatch(call["id"])
    assert call["type"] == "tool_call"
    assert len(call["args"]) <= 2
    assert json.loads(json.dumps(call["args"])) == call["args"]
    for value in _walk(call["args"]):
        if isinstance(value, float):
            assert math.isfinite(value)
            assert math.copysign(1.0, value) == 1.0 or value != 0.0  # no -0.0
        if isinstance(value, int) and not isinstance(value, bool):
            assert abs(value) < 2**53
        if isinstance(value, str):
            _assert_encodable(value)


@settings(deadline=None)
@given(tool_calls(max_args=0))
def test_tool_calls_without_args(call):
    assert call["args"] == {}


@settings(deadline=None)
@given(usage_metadata())
def test_usage_totals_consistent(usage):
    _check_usage(usage)


@settings(deadline=None)
@given(usage_metadata(details=False))
def test_usage_without_details(usage):
    assert set(usage) == {"input_tokens", "output_tokens", "total_tokens"}
    _check_usage(usage)


def test_usage_details_are_drawn():
    usage = find(
        usage_metadata(),
        lambda u: (
            "cache_creation" in u.get("input_token_details", {}) and "output_token_details" in u
        ),
    )
    _check_usage(usage)


@settings(deadline=None)
@given(text_blocks())
def test_text_blocks(block):
    assert set(block) == {"type", "text"}
    assert block["type"] == "text" and block["text"]
    _assert_encodable(block["text"])


@settings(deadline=None)
@given(reasoning_blocks(signature=False))
def test_reasoning_blocks_unsigned(block):
    assert block["type"] == "reasoning" and block["reasoning"]
    assert "extras" not in block


@settings(deadline=None)
@given(reasoning_blocks())
def test_reasoning_blocks_signed(block):
    assert block["extras"]["signature"]
    assert re.fullmatch(r"[A-Za-z0-9+/]+=*", block["extras"]["signature"])


@settings(deadline=None)
@given(content_blocks(kinds=["reasoning"]))
def test_content_blocks_kinds(block):
    assert block["type"] == "reasoning"


def test_content_blocks_draws_both_kinds():
    for kind in ("reasoning", "text"):
        block = find(content_blocks(), lambda b, kind=kind: b["type"] == kind, settings=NO_SHRINK)
        assert block["type"] == kind


@settings(deadline=None)
@given(human_messages())
def test_human_messages(message):
    assert isinstance(message, HumanMessage)
    assert isinstance(message.content, str) and message.content
    _assert_encodable(message.content)


@settings(max_examples=150, deadline=None)
@given(conversations(max_turns=3))
def test_conversations_shape(messages):
    assert messages
    if isinstance(messages[0], SystemMessage):
        messages = messages[1:]
    assert not any(isinstance(m, SystemMessage) for m in messages)
    assert isinstance(messages[0], HumanMessage)
    assert isinstance(messages[-1], (HumanMessage, ToolMessage))
    assert 1 <= sum(isinstance(m, HumanMessage) for m in messages) <= 3
    seen_ids = []
    i = 0
    while i < len(messages):
        message = messages[i]
        if isinstance(message, AIMessage):
            assert isinstance(messages[i - 1], HumanMessage)  # replies follow a human turn
            ids = [c["id"] for c in message.tool_calls]
            answers = messages[i + 1 : i + 1 + len(ids)]
            assert [a.tool_call_id for a in answers] == ids
            assert all(isinstance(a, ToolMessage) for a in answers)
            seen_ids += ids
            i += 1 + len(ids)
        else:
            assert isinstance(message, HumanMessage)
            i += 1
    assert len(seen_ids) == len(set(seen_ids))


def test_conversations_can_end_with_tool_answers():
    convo = find(
        conversations(max_turns=1), lambda ms: isinstance(ms[-1], ToolMessage), settings=NO_SHRINK
    )
    assert isinstance(convo[-1], ToolMessage)


# ------------------------------------------------------------------ shrinking, as documented


def test_ai_messages_shrink_to_one_character():
    message = find(ai_messages(), lambda m: True)
    assert len(message.content) == 1
    assert message.tool_calls == []
    assert message.usage_metadata is None


def test_tool_calls_shrink_to_bare_call():
    call = find(tool_calls(), lambda c: True)
    assert call["name"] == "a"
    assert call["args"] == {}


def test_usage_shrinks_to_zero():
    assert find(usage_metadata(), lambda u: True) == {
        "input_tokens": 0,
        "output_tokens": 0,
        "total_tokens": 0,
    }


def test_conversations_shrink_to_one_human_message():
    convo = find(conversations(), lambda ms: True)
    assert len(convo) == 1
    assert isinstance(convo[0], HumanMessage)
    assert len(convo[0].content) == 1


def test_chunkings_shrink_to_words():
    assert find(chunkings(), lambda c: True) == "words"


# ------------------------------------------------------------------ argument validation


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: tool_calls(max_args=-1),
            r"tool_calls\(max_args=-1\): max_args must be an int >= 0",
        ),
        (lambda: tool_calls(max_args="2"), r"tool_calls\(max_args='2'\)"),
        (
            lambda: reasoning_blocks(signature="yes"),
            r"reasoning_blocks\(signature='yes'\): signature must be True or False",
        ),
        (lambda: usage_metadata(details=1), r"usage_metadata\(details=1\)"),
        (
            lambda: content_blocks(kinds=()),
            r"content_blocks\(kinds=\(\)\): kinds must be a non-empty",
        ),
        (
            lambda: content_blocks(kinds=["text", "image"]),
            r"content_blocks\(kinds=\('text', 'image'\)\)",
        ),
        (
            lambda: content_blocks(kinds="text"),
            r"content_blocks\(kinds='text'\): .* such as \('text',\)",
        ),
        (
            lambda: ai_messages(max_tool_calls=0),
            r"ai_messages\(max_tool_calls=0\): max_tool_calls must be an int >= 1",
        ),
        (lambda: ai_messages(usage=None), r"ai_messages\(usage=None\)"),
        (
            lambda: ai_messages(text=False, tool_calls=False),
            r"could only make empty messages; enable at least one",
        ),
        (
            lambda: conversations(max_turns=0),
            r"conversations\(max_turns=0\): max_turns must be an int >= 1",
        ),
        (
            lambda: chunked_streams(ai_messages),
            r"chunked_streams\(messages_strategy=<function ai_messages.*pass a hypothesis strategy",
        ),
    ],
)
def test_argument_errors(build, message):
    with pytest.raises(UserError, match=message):
        build()


def test_import_myna_does_not_import_hypothesis():
    code = "import sys, myna; print('hypothesis' in sys.modules, 'myna.strategies' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# -- values for your schemas and tools -------------------------------------------------------

import datetime as _dt  # noqa: E402
import uuid as _uuid  # noqa: E402
from typing import Literal  # noqa: E402

from hypothesis import HealthCheck  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402
from typing_extensions import NotRequired, TypedDict  # noqa: E402

from myna.fakes import FakeChatModel, ScriptedToolCall  # noqa: E402
from myna.schema import validate_json_schema  # noqa: E402
from myna.strategies import fake_models, structured_outputs, tool_calls_for  # noqa: E402
from myna.tools import convert_to_tool_spec, tool  # noqa: E402


class Address(BaseModel):
    city: str = Field(min_length=1)
    zip: str = Field(pattern=r"^[0-9]{5}$")


class Node(BaseModel):
    value: int
    children: list["Node"] = []


class Trip(BaseModel):
    """Advice for a trip."""

    city: str = Field(max_length=20)
    days: int = Field(ge=1, le=14)
    unit: Literal["c", "f"] = "c"
    budget: float = Field(gt=0, lt=10_000)
    starts: _dt.date
    booking: _uuid.UUID
    address: Address | None = None
    tags: list[str] = Field(default_factory=list, max_length=3)
    plan: Node | None = None


class TripTD(TypedDict):
    city: str
    days: NotRequired[int]


TRIP_JSON = {
    "title": "trip",
    "type": "object",
    "properties": {
        "city": {"type": "string", "enum": ["Paris", "Oslo"]},
        "days": {"type": "integer", "multipleOf": 2, "exclusiveMinimum": 0, "maximum": 10},
        "when": {"type": "string", "format": "date-time"},
        "people": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "uniqueItems": True,
        },
    },
    "required": ["city", "days", "people"],
    "additionalProperties": False,
}


@tool
def get_weather(city: str, days: int = 1, unit: Literal["c", "f"] = "c") -> str:
    """Weather for a city.

    Args:
        city: the city
        days: how many days
        unit: the unit
    """
    return city


@tool
def book_table(restaurant: str, people: int, time: str) -> str:
    """Book a table.

    Args:
        restaurant: where
        people: how many
        time: when, HH:MM
    """
    return restaurant


@NO_SHRINK
@given(structured_outputs(Trip))
def test_structured_outputs_of_a_pydantic_class_are_valid_instances(trip):
    assert isinstance(trip, Trip)
    assert Trip.model_validate(trip.model_dump(mode="json")) == trip


@NO_SHRINK
@given(structured_outputs(TripTD), structured_outputs(TRIP_JSON))
def test_structured_outputs_of_typeddicts_and_json_schemas_are_valid_dicts(td, js):
    assert isinstance(td, dict) and isinstance(td["city"], str)
    assert set(td) <= {"city", "days"}
    assert validate_json_schema(TRIP_JSON, js) == []
    assert js["days"] % 2 == 0 and 0 < js["days"] <= 10


def test_structured_outputs_cover_optional_parts_and_shrink_to_the_smallest():
    assert find(structured_outputs(Trip), lambda t: t.address is not None and t.plan).address
    assert find(structured_outputs(TripTD), lambda t: "days" in t)["days"] is not None
    smallest = find(structured_outputs(TripTD), lambda t: True)
    assert smallest == {"city": ""}


@NO_SHRINK
@given(structured_outputs(Trip))
def test_a_structured_output_scripts_a_fake(trip):
    model = FakeChatModel([trip]).with_structured_output(Trip)
    assert model.invoke("Plan a trip") == trip


@NO_SHRINK
@given(tool_calls_for([get_weather, book_table]))
def test_tool_calls_for_validate_against_each_tools_schema(call):
    assert call["type"] == "tool_call" and CALL_ID.fullmatch(call["id"])
    tools = {"get_weather": get_weather, "book_table": book_table}
    tools[call["name"]].invoke(call["args"])  # the tool's own validation accepts them
    spec = convert_to_tool_spec(tools[call["name"]])
    assert validate_json_schema(spec["parameters"], call["args"]) == []


def test_tool_calls_for_reach_every_tool_and_take_a_bound_model():
    bound = FakeChatModel([]).bind_tools([get_weather, book_table])
    assert find(tool_calls_for(bound), lambda c: c["name"] == "book_table")["args"]["people"] == 0
    first = find(tool_calls_for([get_weather, book_table]), lambda c: True)
    assert first == {
        "name": "get_weather",
        "args": {"city": ""},
        "id": "call_0000",
        "type": "tool_call",
    }


@NO_SHRINK
@given(tool_calls_for([get_weather]))
def test_a_drawn_tool_call_passes_the_fakes_own_check(call):
    model = FakeChatModel([AIMessage("", tool_calls=[call])]).bind_tools([get_weather])
    assert model.invoke("weather?").tool_calls[0]["args"] == call["args"]


@NO_SHRINK
@given(fake_models([tool_calls_for([get_weather]), "Sunny.", structured_outputs(TripTD)]))
def test_fake_models_draw_their_strategy_entries(model):
    agent = model.bind_tools([get_weather])
    first = agent.invoke("weather?")
    assert first.tool_calls[0]["name"] == "get_weather"
    assert agent.invoke("and?").text == "Sunny."
    assert "city" in model.with_structured_output(TripTD).invoke("trip?")
    assert isinstance(model.script[0], ScriptedToolCall)


SHARED = FakeChatModel(["one", "two"])


@NO_SHRINK
@given(st.integers())
def test_a_fake_shared_by_examples_starts_each_example_afresh(n):
    assert [SHARED.invoke("a").text, SHARED.invoke("b").text] == ["one", "two"]
    assert len(SHARED.calls) == 2


@pytest.mark.myna_script(["one", "two"])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.integers())
def test_the_fake_model_fixture_is_safe_inside_given(fake_model, n):
    # the health check warns that fixtures are not reset between examples; fakes reset
    # themselves, so suppressing it is safe
    assert [fake_model.invoke("a").text, fake_model.invoke("b").text] == ["one", "two"]


async def test_a_fake_outside_hypothesis_keeps_its_position():
    model = FakeChatModel(["one", "two"])
    assert (await model.ainvoke("a")).text == "one"
    assert (await model.ainvoke("b")).text == "two"
    assert model.remaining == 0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: structured_outputs({"type": "object", "not": {"required": ["a"]}}),
            r"structured_outputs\(output\): the keyword 'not' is not supported\. Supported: .* "
            r"Please open an issue with the schema\.",
        ),
        (
            lambda: structured_outputs({"type": "strng"}),
            r"Invalid JSON schema at type: ",
        ),
        (
            lambda: tool_calls_for(get_weather),
            r"tool_calls_for\(tools=.*\): pass the list you give bind_tools",
        ),
        (
            lambda: tool_calls_for([{"type": "web_search_preview"}]),
            r"no tool with parameters to call",
        ),
        (
            lambda: fake_models("Hello!"),
            r"fake_models\(script='Hello!'\): pass a list of replies",
        ),
        (
            lambda: fake_models(["x"], chunkng="chars"),
            r"unknown parameter chunkng=\. Did you mean 'chunking'",
        ),
    ],
    ids=["unsupported-keyword", "broken-schema", "one-tool", "no-parameters", "str-script", "typo"],
)
def test_schema_strategy_argument_errors(build, message):
    with pytest.raises(UserError, match=message):
        build()
