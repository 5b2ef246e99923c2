"""`with_structured_output`: three schema kinds x three methods, validation, streaming."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from myna.exceptions import OutputParserError, UserError
from myna.fakes import FakeChatModel
from myna.messages import AIMessage
from myna.models import ChatModel, ChatRequest, StructuredOutputRunnable


class Person(BaseModel):
    """A person."""

    name: str
    age: int


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int


PERSON_SCHEMA = {
    "title": "Person",
    "description": "A person.",
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}

SCHEMAS = [
    pytest.param(Person, Person(name="Ann", age=3), id="pydantic"),
    pytest.param(PersonDict, {"name": "Ann", "age": 3}, id="typeddict"),
    pytest.param(PERSON_SCHEMA, {"name": "Ann", "age": 3}, id="json-schema"),
]
METHODS = ["json_schema", "function_calling", "json_mode"]
ANN = {"name": "Ann", "age": 3}


def fake(*script: Any, **kwargs: Any) -> FakeChatModel:
    return FakeChatModel(list(script), **kwargs)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("schema", "expected"), SCHEMAS)
def test_invoke_returns_the_parsed_object(schema: Any, expected: Any, method: str) -> None:
    model = fake(ANN)
    result = model.with_structured_output(schema, method=method).invoke("who?")
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("schema", "expected"), SCHEMAS)
async def test_ainvoke_returns_the_parsed_object(schema: Any, expected: Any, method: str) -> None:
    model = fake(ANN)
    assert await model.with_structured_output(schema, method=method).ainvoke("who?") == expected


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("schema", "expected"), SCHEMAS)
def test_validation_error_names_the_field(schema: Any, expected: Any, method: str) -> None:
    model = fake({"name": "Ann", "age": "three"})
    with pytest.raises(OutputParserError) as exc:
        model.with_structured_output(schema, method=method).invoke("who?")
    assert str(exc.value).startswith("Output does not match schema 'Person")
    assert exc.value.errors and exc.value.errors[0].startswith("age:")


@pytest.mark.parametrize("method", METHODS)
def test_missing_field_is_named(method: str) -> None:
    model = fake({"name": "Ann"})
    with pytest.raises(OutputParserError) as exc:
        model.with_structured_output(PERSON_SCHEMA, method=method).invoke("who?")
    assert "'age' is a required property" in str(exc.value)


def test_what_each_method_sends() -> None:
    model = fake(ANN, ANN, ANN)
    model.with_structured_output(Person, method="json_schema").invoke("a")
    model.with_structured_output(Person, method="function_calling").invoke("b")
    model.with_structured_output(Person, method="json_mode").invoke("c")
    native, tool, mode = model.calls
    assert native.params["response_format"]["type"] == "json_schema"
    assert native.params["response_format"]["name"] == "Person"
    assert native.params["response_format"]["description"] == "A person."
    assert native.params["response_format"]["schema"]["required"] == ["name", "age"]
    assert native.tools == []
    assert [t["name"] for t in tool.tools] == ["Person"]
    assert tool.tool_choice == "Person"
    assert tool.params["parallel_tool_calls"] is False
    assert "response_format" not in tool.params
    assert mode.params["response_format"] == {"type": "json_object"}
    # every method tells the fake (and observers) which schema is wanted
    assert native.schema == tool.schema == mode.schema
    assert native.schema["properties"]["age"] == {"type": "integer"}


def test_strict_is_sent() -> None:
    model = fake(ANN, ANN)
    model.with_structured_output(Person, method="json_schema", strict=True).invoke("a")
    model.with_structured_output(Person, method="function_calling", strict=True).invoke("b")
    native, tool = model.calls
    assert native.params["response_format"]["strict"] is True
    assert native.params["response_format"]["schema"]["additionalProperties"] is False
    assert tool.tools[0]["strict"] is True


def test_strict_with_json_mode_is_an_error() -> None:
    with pytest.raises(UserError) as exc:
        fake().with_structured_output(Person, method="json_mode", strict=True)
    assert str(exc.value) == (
        "strict=True cannot be used with method='json_mode': JSON mode does not take a schema. "
        "Use method='json_schema' for provider-enforced schemas."
    )


def test_unknown_method_is_an_error() -> None:
    with pytest.raises(UserError) as exc:
        fake().with_structured_output(Person, method="xml")
    assert str(exc.value) == (
        "with_structured_output(): method='xml' is not one of 'json_schema', "
        "'function_calling', 'json_mode'."
    )


def test_include_raw_returns_raw_parsed_and_no_error() -> None:
    result = fake(ANN).with_structured_output(Person, include_raw=True).invoke("who?")
    assert set(result) == {"raw", "parsed", "parsing_error"}
    assert isinstance(result["raw"], AIMessage)
    assert json.loads(result["raw"].text) == ANN
    assert result["parsed"] == Person(name="Ann", age=3)
    assert result["parsing_error"] is None


@pytest.mark.parametrize("method", METHODS)
async def test_include_raw_reports_parsing_errors_instead_of_raising(method: str) -> None:
    runnable = fake({"name": "Ann", "age": "x"}).with_structured_output(
        PersonDict, method=method, include_raw=True
    )
    result = await runnable.ainvoke("who?")
    assert result["parsed"] is None
    assert isinstance(result["parsing_error"], OutputParserError)
    assert "age" in str(result["parsing_error"])
    assert isinstance(result["raw"], AIMessage)


def test_code_fenced_json_is_accepted() -> None:
    reply = '```json\n{"name": "Ann", "age": 3}\n```'
    assert fake(reply).with_structured_output(Person, method="json_mode").invoke("x") == Person(
        name="Ann", age=3
    )


def test_text_that_is_not_json_is_a_parser_error() -> None:
    with pytest.raises(OutputParserError) as exc:
        fake("Ann is three").with_structured_output(Person).invoke("x")
    assert str(exc.value).startswith("Output is not valid JSON for schema 'Person'")


class Canned(ChatModel):
    """A non-streaming model returning a fixed reply."""

    def __init__(self, reply: AIMessage, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reply = reply

    def _generate(self, request: ChatRequest) -> AIMessage:
        return self.reply.model_copy(deep=True)


def test_function_calling_without_the_tool_call_is_a_parser_error() -> None:
    model = Canned(AIMessage("I will not call tools"))
    with pytest.raises(OutputParserError) as exc:
        model.with_structured_output(Person, method="function_calling").invoke("x")
    assert str(exc.value) == (
        "The model did not call the 'Person' tool, so there is no structured output. "
        "Reply text: 'I will not call tools'"
    )


def test_a_refusal_is_a_parser_error() -> None:
    model = Canned(AIMessage("", additional_kwargs={"refusal": "I can't help with that."}))
    with pytest.raises(OutputParserError, match=r"The model refused: I can't help with that\."):
        model.with_structured_output(Person).invoke("x")


def test_repr() -> None:
    runnable = fake().with_structured_output(Person, method="json_mode")
    assert isinstance(runnable, StructuredOutputRunnable)
    assert repr(runnable) == "StructuredOutputRunnable(schema='Person', method='json_mode')"


# -- streaming -----------------------------------------------------------------------------------


def is_partial_of(partial: dict, full: dict) -> bool:
    """Every key is in `full`, with the same value or (strings) a prefix of it."""
    for key, value in partial.items():
        if key not in full:
            return False
        target = full[key]
        if isinstance(value, str) and isinstance(target, str):
            if not target.startswith(value):
                return False
        elif value != target:
            return False
    return True


@pytest.mark.parametrize("method", METHODS)
def test_stream_yields_growing_partials_then_the_final_object(method: str) -> None:
    model = fake(ANN, chunking=3)
    parts = list(model.with_structured_output(Person, method=method).stream("who?"))
    partials, final = parts[:-1], parts[-1]
    assert final == Person(name="Ann", age=3)
    assert len(partials) >= 2
    assert all(isinstance(p, dict) for p in partials)
    assert all(is_partial_of(p, ANN) for p in partials)
    assert any("name" in p for p in partials)
    # each partial is new and no partial is a regression of the one before
    assert all(a != b for a, b in itertools.pairwise(partials))


@pytest.mark.parametrize("method", METHODS)
async def test_astream_yields_growing_partials_then_the_final_object(method: str) -> None:
    model = fake(ANN, chunking="chars")
    parts = [p async for p in model.with_structured_output(PersonDict, method=method).astream("q")]
    assert parts[-1] == ANN
    assert len(parts) > 2
    assert all(is_partial_of(p, ANN) for p in parts)


@pytest.mark.parametrize("method", METHODS)
def test_stream_from_a_model_without_native_streaming(method: str) -> None:
    # LangChain yields nothing here (gotcha 2); we yield the final object
    if method == "function_calling":
        reply = AIMessage("", tool_calls=[{"name": "Person", "args": ANN, "id": "c1"}])
    else:
        reply = AIMessage(json.dumps(ANN))
    runnable = Canned(reply).with_structured_output(Person, method=method)
    assert list(runnable.stream("who?")) == [Person(name="Ann", age=3)]


@pytest.mark.parametrize("method", METHODS)
async def test_astream_from_a_model_without_native_streaming(method: str) -> None:
    if method == "function_calling":
        reply = AIMessage("", tool_calls=[{"name": "Person", "args": ANN, "id": "c1"}])
    else:
        reply = AIMessage(json.dumps(ANN))
    runnable = Canned(reply).with_structured_output(Person, method=method, include_raw=True)
    parts = [p async for p in runnable.astream("who?")]
    assert len(parts) == 1
    assert parts[0]["parsed"] == Person(name="Ann", age=3)  # gotcha 2: parsed is there
    assert parts[0]["parsing_error"] is None


def test_stream_with_include_raw_wraps_partials() -> None:
    runnable = fake(ANN, chunking=4).with_structured_output(Person, include_raw=True)
    parts = list(runnable.stream("who?"))
    assert all(set(p) == {"raw", "parsed", "parsing_error"} for p in parts)
    assert parts[-1]["parsed"] == Person(name="Ann", age=3)
    assert isinstance(parts[-1]["raw"], AIMessage)
    assert all(isinstance(p["parsed"], dict) for p in parts[:-1])


def test_stream_raises_the_validation_error_at_the_end() -> None:
    runnable = fake({"name": "Ann", "age": "x"}).with_structured_output(Person)
    seen = []
    with pytest.raises(OutputParserError, match="age"):
        for part in runnable.stream("who?"):
            seen.append(part)
    assert seen  # the partials arrived before the final check failed


# -- batch ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_batch(method: str) -> None:
    model = fake({"name": "A", "age": 1}, {"name": "B", "age": 2})
    runnable = model.with_structured_output(Person, method=method)
    assert runnable.batch(["a", "b"]) == [Person(name="A", age=1), Person(name="B", age=2)]


async def test_abatch() -> None:
    model = fake({"name": "A", "age": 1}, {"name": "B", "age": "x"})
    runnable = model.with_structured_output(PERSON_SCHEMA)
    results = await runnable.abatch(["a", "b"], return_exceptions=True)
    assert results[0] == {"name": "A", "age": 1}
    assert isinstance(results[1], OutputParserError)


def test_structured_output_on_a_bound_model_keeps_bound_params() -> None:
    model = fake(ANN)
    model.bind(temperature=0.1).with_structured_output(Person).invoke("x")
    assert model.calls[0].params["temperature"] == 0.1
