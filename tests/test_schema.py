"""Tests for myna.schema: conversion, strict schemas, OutputSchema parsing, partial JSON."""

from __future__ import annotations

import json
import typing
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from typing_extensions import NotRequired, TypedDict

from myna.exceptions import OutputParserError, UserError
from myna.schema import (
    OutputSchema,
    parse_partial_json,
    pydantic_type,
    schema_description,
    schema_name,
    to_json_schema,
    to_strict_json_schema,
    validate_json_schema,
)

# --- schemas used across tests ----------------------------------------------------------------


class Address(BaseModel):
    """A postal address."""

    city: str
    zip: str | None = None


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="Full name")
    age: int
    address: Address | None = None


class AddressTD(TypedDict):
    """A postal address."""

    city: Annotated[str, "City name"]
    zip: NotRequired[str]


class PersonTD(TypedDict):
    """A person mentioned in the text."""

    name: Annotated[str, "Full name"]
    age: int
    address: NotRequired[AddressTD]


class LooseTD(TypedDict, total=False):
    a: int
    b: list[AddressTD]


class PlainTD(typing.TypedDict):
    """typing.TypedDict, which pydantic refuses before Python 3.12."""

    x: Annotated[int, "An x"]
    tags: NotRequired[list[str]]


PERSON_SCHEMA: dict[str, Any] = {
    "title": "Person",
    "description": "A person mentioned in the text.",
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Full name"},
        "age": {"type": "integer"},
        "address": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
            "required": ["city"],
        },
    },
    "required": ["name", "age"],
}


class Node(BaseModel):
    """A tree node."""

    value: int
    children: list[Node] = []


# --- to_json_schema -----------------------------------------------------------------------------


def test_pydantic_schema_strips_property_titles_keeps_top_title_and_description() -> None:
    schema = to_json_schema(Person)
    assert schema["title"] == "Person"
    assert schema["description"] == "A person mentioned in the text."
    assert schema["properties"]["name"] == {"type": "string", "description": "Full name"}
    assert schema["properties"]["age"] == {"type": "integer"}
    assert schema["required"] == ["name", "age"]
    # $defs kept, with their names; their properties lose titles too
    assert schema["$defs"]["Address"]["title"] == "Address"
    assert schema["$defs"]["Address"]["properties"]["city"] == {"type": "string"}


def test_property_named_title_is_not_stripped() -> None:
    class Book(BaseModel):
        title: str
        pages: int

    schema = to_json_schema(Book)
    assert schema["properties"]["title"] == {"type": "string"}
    assert schema["required"] == ["title", "pages"]


def test_enum_and_default_values_are_left_alone() -> None:
    class Pick(BaseModel):
        color: Literal["title", "red"] = "title"
        meta: dict[str, Any] = Field(default_factory=lambda: {"properties": {"x": {"title": 1}}})

    schema = to_json_schema(Pick)
    assert schema["properties"]["color"]["enum"] == ["title", "red"]
    assert schema["properties"]["color"]["default"] == "title"


def test_recursive_model_is_hoisted_to_the_top() -> None:
    schema = to_json_schema(Node)
    assert "$ref" not in schema
    assert schema["title"] == "Node"
    assert schema["type"] == "object"
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert "Node" in schema["$defs"]


def test_typeddict_schema_with_annotated_descriptions_and_not_required() -> None:
    schema = to_json_schema(PersonTD)
    assert schema["title"] == "PersonTD"
    assert schema["description"] == "A person mentioned in the text."
    assert schema["properties"]["name"] == {"type": "string", "description": "Full name"}
    assert schema["properties"]["age"] == {"type": "integer"}
    assert schema["properties"]["address"] == {"$ref": "#/$defs/AddressTD"}
    assert schema["required"] == ["name", "age"]
    nested = schema["$defs"]["AddressTD"]
    assert nested["properties"]["city"] == {"type": "string", "description": "City name"}
    assert nested["required"] == ["city"]


def test_typeddict_total_false_has_no_required_keys() -> None:
    schema = to_json_schema(LooseTD)
    assert "required" not in schema
    assert schema["properties"]["b"] == {"type": "array", "items": {"$ref": "#/$defs/AddressTD"}}


def test_typing_typeddict_works_on_every_python() -> None:
    schema = to_json_schema(PlainTD)
    assert schema["properties"]["x"] == {"type": "integer", "description": "An x"}
    assert schema["required"] == ["x"]
    assert schema["description"] == "typing.TypedDict, which pydantic refuses before Python 3.12."


def test_json_schema_dict_is_returned_unchanged_as_a_copy() -> None:
    schema = to_json_schema(PERSON_SCHEMA)
    assert schema == PERSON_SCHEMA
    schema["properties"]["name"]["type"] = "integer"
    assert PERSON_SCHEMA["properties"]["name"]["type"] == "string"


def test_json_schema_without_title_is_fine() -> None:
    untitled = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert to_json_schema(untitled) == untitled


FUNCTION = {
    "name": "get_weather",
    "description": "Current weather.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.mark.parametrize(
    "tool_dict",
    [
        FUNCTION,
        {"type": "function", "function": FUNCTION},
        {"type": "function", **FUNCTION},  # OpenAI Responses flat form
        {
            "name": "get_weather",
            "description": "Current weather.",
            "input_schema": FUNCTION["parameters"],
        },
    ],
    ids=["openai-function", "openai-tool", "openai-responses", "anthropic"],
)
def test_tool_dicts_give_their_parameters_titled_with_the_name(tool_dict: dict) -> None:
    assert to_json_schema(tool_dict) == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "title": "get_weather",
        "description": "Current weather.",
    }
    assert schema_name(tool_dict) == "get_weather"
    assert schema_description(tool_dict) == "Current weather."


@pytest.mark.parametrize("bad", [42, "Person", [PERSON_SCHEMA], int], ids=repr)
def test_unsupported_objects_list_the_accepted_forms(bad: Any) -> None:
    with pytest.raises(UserError, match="Cannot build a JSON schema from") as exc:
        to_json_schema(bad)
    message = str(exc.value)
    assert "pydantic BaseModel class" in message
    assert "TypedDict class" in message
    assert "JSON-schema dict" in message
    assert "Anthropic tool dict" in message


def test_a_model_instance_asks_for_the_class() -> None:
    with pytest.raises(UserError, match=r"pass the class itself \(Address\), not an instance"):
        to_json_schema(Address(city="Paris"))


def test_a_dict_that_is_not_a_schema_is_refused() -> None:
    with pytest.raises(UserError, match="does not look like a JSON schema"):
        to_json_schema({"foo": 1})


# --- names and descriptions --------------------------------------------------------------------


def test_schema_names_and_descriptions() -> None:
    assert schema_name(Person) == "Person"
    assert schema_name(PersonTD) == "PersonTD"
    assert schema_name(PERSON_SCHEMA) == "Person"
    assert schema_description(Person) == "A person mentioned in the text."
    assert schema_description(PersonTD) == "A person mentioned in the text."
    assert schema_description(LooseTD) is None
    assert schema_description({"type": "object"}) is None


def test_schema_name_of_untitled_json_schema_explains_the_fix() -> None:
    with pytest.raises(UserError, match=r"has no 'title'\. Add one: it is the schema's name"):
        schema_name({"type": "object", "properties": {}})


def test_schema_name_of_unsupported_object() -> None:
    with pytest.raises(UserError, match="Cannot build a JSON schema from 3"):
        schema_name(3)


# --- strict schemas -----------------------------------------------------------------------------


def test_strict_schema_closes_every_object_and_requires_every_property() -> None:
    strict = to_strict_json_schema(PERSON_SCHEMA)
    assert strict["additionalProperties"] is False
    assert strict["required"] == ["name", "age", "address"]
    address = strict["properties"]["address"]
    assert address["additionalProperties"] is False
    assert address["required"] == ["city", "zip"]
    # the input is untouched
    assert "additionalProperties" not in PERSON_SCHEMA
    assert PERSON_SCHEMA["required"] == ["name", "age"]


def test_strict_schema_of_pydantic_model_handles_defs_refs_and_null_defaults() -> None:
    strict = OutputSchema.from_any(Person).strict_json_schema()
    address_def = strict["$defs"]["Address"]
    assert address_def["additionalProperties"] is False
    assert address_def["required"] == ["city", "zip"]
    assert "default" not in address_def["properties"]["zip"]
    assert strict["required"] == ["name", "age", "address"]
    assert "default" not in strict["properties"]["address"]


def test_strict_schema_inlines_a_ref_with_siblings() -> None:
    class Wrapper(BaseModel):
        home: Address = Field(description="Where they live")

    strict = to_strict_json_schema(to_json_schema(Wrapper))
    home = strict["properties"]["home"]
    assert "$ref" not in home
    assert home["description"] == "Where they live"
    assert home["additionalProperties"] is False
    assert home["required"] == ["city", "zip"]


def test_strict_schema_leaves_maps_and_non_null_defaults() -> None:
    schema = {
        "type": "object",
        "properties": {
            "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
            "n": {"type": "integer", "default": 3},
        },
    }
    strict = to_strict_json_schema(schema)
    assert strict["properties"]["scores"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    assert strict["properties"]["n"] == {"type": "integer", "default": 3}


def test_strict_schema_reaches_into_arrays_and_unions() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"a": {"type": "string"}}},
            },
            "either": {"anyOf": [{"type": "object", "properties": {}}, {"type": "null"}]},
        },
    }
    strict = to_strict_json_schema(schema)
    assert strict["properties"]["items"]["items"]["additionalProperties"] is False
    assert strict["properties"]["items"]["items"]["required"] == ["a"]
    assert strict["properties"]["either"]["anyOf"][0] == {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
        "required": [],
    }


# --- OutputSchema -------------------------------------------------------------------------------

SCHEMAS = [Person, PersonTD, PERSON_SCHEMA]
KIND_IDS = ["pydantic", "typeddict", "json_schema"]


@pytest.mark.parametrize(
    ("schema", "kind", "name"),
    [
        (Person, "pydantic", "Person"),
        (PersonTD, "typeddict", "PersonTD"),
        (PERSON_SCHEMA, "json_schema", "Person"),
    ],
    ids=KIND_IDS,
)
def test_from_any_sets_name_kind_description(schema: Any, kind: str, name: str) -> None:
    output = OutputSchema.from_any(schema, strict=True)
    assert output.kind == kind
    assert output.name == name
    assert output.description == "A person mentioned in the text."
    assert output.strict is True
    assert output.json_schema["properties"]["name"]["description"] == "Full name"
    assert repr(output) == f"OutputSchema(name={name!r}, kind={kind!r})"


def _plain(value: Any) -> Any:
    return value.model_dump(exclude_none=True) if isinstance(value, BaseModel) else value


@pytest.mark.parametrize("schema", SCHEMAS, ids=KIND_IDS)
def test_parse_valid_json_string_and_dict(schema: Any) -> None:
    output = OutputSchema.from_any(schema)
    text = '{"name": "Ada", "age": 36, "address": {"city": "London"}}'
    from_text = output.parse(text)
    from_dict = output.parse(json.loads(text))
    expected = {"name": "Ada", "age": 36, "address": {"city": "London"}}
    assert _plain(from_text) == expected
    assert _plain(from_dict) == expected
    if schema is Person:
        assert isinstance(from_text, Person)
        assert isinstance(from_text.address, Address)
    else:
        assert type(from_text) is dict


@pytest.mark.parametrize("schema", SCHEMAS, ids=KIND_IDS)
def test_parse_tolerates_a_markdown_code_fence(schema: Any) -> None:
    output = OutputSchema.from_any(schema)
    parsed = output.parse('```json\n{"name": "Ada", "age": 36}\n```')
    assert _plain(parsed) == {"name": "Ada", "age": 36}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            Person,
            "Output does not match schema 'Person': age: Input should be a valid integer, "
            "unable to parse string as an integer (got 'x')",
        ),
        (
            PersonTD,
            "Output does not match schema 'PersonTD': age: Input should be a valid integer, "
            "unable to parse string as an integer (got 'x')",
        ),
        (PERSON_SCHEMA, "Output does not match schema 'Person': age: 'x' is not of type 'integer'"),
    ],
    ids=KIND_IDS,
)
def test_parse_wrong_type_names_the_field(schema: Any, message: str) -> None:
    raw = '{"name": "Ada", "age": "x"}'
    with pytest.raises(OutputParserError) as exc:
        OutputSchema.from_any(schema).parse(raw)
    assert str(exc.value) == message
    assert exc.value.raw == raw
    assert len(exc.value.errors) == 1
    assert exc.value.errors[0].startswith("age: ")


@pytest.mark.parametrize(
    ("schema", "errors"),
    [
        (Person, ["name: Field required", "address.city: Field required"]),
        (PersonTD, ["name: Field required", "address.city: Field required"]),
        (
            PERSON_SCHEMA,
            ["'name' is a required property", "address: 'city' is a required property"],
        ),
    ],
    ids=KIND_IDS,
)
def test_parse_missing_fields_are_each_reported(schema: Any, errors: list[str]) -> None:
    value = {"age": 3, "address": {"zip": "N1"}}
    with pytest.raises(OutputParserError) as exc:
        OutputSchema.from_any(schema).parse(value)
    assert exc.value.errors == errors
    assert str(exc.value).endswith(": " + "; ".join(errors))
    assert exc.value.raw is value


@pytest.mark.parametrize("schema", SCHEMAS, ids=KIND_IDS)
def test_parse_invalid_json_is_an_output_parser_error(schema: Any) -> None:
    output = OutputSchema.from_any(schema)
    with pytest.raises(OutputParserError) as exc:
        output.parse('{"name": "Ada", "age": ')
    assert str(exc.value).startswith(f"Output is not valid JSON for schema {output.name!r}: ")
    assert "Expecting value at line 1 column 24 (char 23)" in str(exc.value)
    assert exc.value.raw == '{"name": "Ada", "age": '
    assert exc.value.errors == ["Expecting value at line 1 column 24 (char 23)"]


@pytest.mark.parametrize("schema", SCHEMAS, ids=KIND_IDS)
def test_parse_non_object_fails_validation(schema: Any) -> None:
    with pytest.raises(OutputParserError, match="Output does not match schema"):
        OutputSchema.from_any(schema).parse("[1, 2]")


def test_parse_accepts_bytes_and_a_model_instance() -> None:
    output = OutputSchema.from_any(Person)
    assert output.parse(b'{"name": "A", "age": 1}') == Person(name="A", age=1)
    ada = Person(name="Ada", age=36)
    assert output.parse(ada) is ada


def test_json_schema_kind_returns_the_parsed_dict_untouched() -> None:
    output = OutputSchema.from_any(PERSON_SCHEMA)
    value = {"name": "Ada", "age": 36, "extra": True}
    assert output.parse(value) == value


def test_from_any_untitled_json_schema_is_named_output() -> None:
    output = OutputSchema.from_any({"type": "object", "properties": {"a": {"type": "integer"}}})
    assert output.name == "output"
    with pytest.raises(OutputParserError, match="Output does not match schema 'output': a: "):
        output.parse({"a": "1"})


def test_from_any_rejects_an_invalid_json_schema() -> None:
    with pytest.raises(
        UserError,
        match=r"Invalid JSON schema at properties.a: 12 is not of type 'object', 'boolean'",
    ):
        OutputSchema.from_any({"type": "object", "properties": {"a": 12}})


def test_from_any_of_an_output_schema() -> None:
    output = OutputSchema.from_any(Person)
    assert OutputSchema.from_any(output) is output
    strict = OutputSchema.from_any(output, strict=True)
    assert strict is not output
    assert (strict.name, strict.kind, strict.strict) == ("Person", "pydantic", True)
    assert to_json_schema(output) == output.json_schema


def test_from_any_of_tool_dicts_is_a_json_schema_kind() -> None:
    output = OutputSchema.from_any({"type": "function", "function": FUNCTION})
    assert (output.kind, output.name, output.description) == (
        "json_schema",
        "get_weather",
        "Current weather.",
    )
    with pytest.raises(OutputParserError, match="city: 3 is not of type 'string'"):
        output.parse({"city": 3})


def test_parse_partial_returns_best_object_or_none() -> None:
    output = OutputSchema.from_any(Person)
    assert output.parse_partial("") is None
    assert output.parse_partial('{"name": "Ad') == {"name": "Ad"}
    assert output.parse_partial('```json\n{"name": "Ada", "age": 3') == {"name": "Ada", "age": 3}
    assert output.parse_partial('"just a string') is None  # not an object


def test_validate_json_schema_lines_and_empty_when_valid() -> None:
    assert validate_json_schema(PERSON_SCHEMA, {"name": "A", "age": 1}) == []
    assert validate_json_schema(
        {"type": "array", "items": {"type": "object", "properties": {"p": {"type": "number"}}}},
        [{"p": 1}, {"p": "x"}],
    ) == ["[1].p: 'x' is not of type 'number'"]


def test_pydantic_type_rewrites_annotated_strings_only_when_needed() -> None:
    assert pydantic_type(int) is int
    assert pydantic_type(list[int]) == list[int]
    assert pydantic_type(Literal["a", "b"]) == Literal["a", "b"]
    rewritten = pydantic_type(Annotated[int, "n"])
    assert typing.get_origin(rewritten) is Annotated
    assert rewritten.__metadata__[0].description == "n"
    union = pydantic_type(Annotated[int, "n"] | None)
    assert typing.get_origin(union) is typing.Union


# --- parse_partial_json -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("   ", None),
        ("{", {}),
        ('{"', {}),
        ('{"na', {}),
        ('{"name"', {}),
        ('{"name":', {}),
        ('{"name": "Ad', {"name": "Ad"}),
        ('{"name": "Ada",', {"name": "Ada"}),
        ('{"name": "Ada", "tags": [', {"name": "Ada", "tags": []}),
        ('{"name": "Ada", "tags": ["a", "b', {"name": "Ada", "tags": ["a", "b"]}),
        ('{"tags": ["a",', {"tags": ["a"]}),
        ('{"a": {"b": {"c": 1', {"a": {"b": {"c": 1}}}),
        ('{"ok": tr', {}),
        ('{"ok": true', {"ok": True}),
        ('{"v": nul', {}),
        ('{"n": -', {}),
        ('{"n": 1.', {"n": 1}),
        ('{"n": 1.5e', {"n": 1.5}),
        ('{"n": 12', {"n": 12}),
        ('{"s": "a\\', {"s": "a"}),
        ('{"s": "a\\n', {"s": "a\n"}),
        ('{"s": "\\u00', {"s": ""}),
        ('{"s": "\\u00e9', {"s": "é"}),
        ('{"s": "\\ud83d', {"s": ""}),
        ('{"s": "\\ud83d\\ude00', {"s": "😀"}),
        ("[1, 2", [1, 2]),
        ('"partial str', "partial str"),
        ("42", 42),
        ("-0.5", -0.5),
        ("null", None),
        ('{"a": 1} trailing text', {"a": 1}),
        ('{"a": 1,}', {"a": 1}),
        ("hello", None),
        ('{"a" 1}', None),
        ("{1: 2}", None),
        ('{"a": 01}', None),
        ('{"s": "\\x"}', None),
        (
            '{"n": NaN, "i": -Infinity',
            {"n": pytest.approx(float("nan"), nan_ok=True), "i": float("-inf")},
        ),
    ],
)
def test_parse_partial_json_table(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


def test_parse_partial_json_rejects_non_text() -> None:
    assert parse_partial_json(b'{"a": 1') == {"a": 1}
    with pytest.raises(UserError, match="parse_partial_json needs a str, got int"):
        parse_partial_json(12)  # type: ignore[arg-type]


def test_parse_partial_json_deep_nesting_gives_none_not_recursion_error() -> None:
    assert parse_partial_json("[" * 100_000) is None


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=5)
# Smaller documents for the every-prefix test, which parses each prefix (quadratic).
short_text = st.text(max_size=6)
small_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | short_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short_text, inner, max_size=3),
    max_leaves=6,
)
small_objects = st.dictionaries(short_text, small_values, max_size=4)
dump_styles = st.sampled_from(
    [
        {},
        {"ensure_ascii": False},
        {"indent": 2},
        {"separators": (",", ":")},
    ]
)


@given(json_objects, dump_styles)
@settings(max_examples=100, deadline=None)
def test_complete_json_parses_like_json_loads(obj: dict, style: dict) -> None:
    assert parse_partial_json(json.dumps(obj, **style)) == obj


@given(json_values)
@settings(max_examples=100, deadline=None)
def test_complete_json_values_of_any_type_parse(value: Any) -> None:
    assert parse_partial_json(json.dumps(value)) == value


@given(small_objects, dump_styles)
@settings(max_examples=100, deadline=None)
def test_every_prefix_parses_to_an_object_with_known_keys(obj: dict, style: dict) -> None:
    text = json.dumps(obj, **style)
    seen_keys = 0
    for end in range(len(text) + 1):
        partial = parse_partial_json(text[:end])
        if partial is None:
            assert text[:end].strip() == ""
            continue
        assert isinstance(partial, dict)
        # a dangling key is dropped, so every key read is a whole key of the object
        assert set(partial) <= set(obj)
        # and keys only ever arrive, never vanish
        assert len(partial) >= seen_keys
        seen_keys = len(partial)


class TreeTD(TypedDict):
    """A tree."""

    value: int
    children: NotRequired[list[TreeTD]]


def test_recursive_typeddict_converts_and_validates() -> None:
    schema = to_json_schema(TreeTD)
    assert schema["properties"]["children"] == {
        "type": "array",
        "items": {"$ref": "#/$defs/TreeTD"},
    }
    assert schema["required"] == ["value"]
    output = OutputSchema.from_any(TreeTD)
    assert output.parse({"value": 1, "children": [{"value": 2}]}) == {
        "value": 1,
        "children": [{"value": 2}],
    }
    with pytest.raises(OutputParserError) as exc:
        output.parse({"value": 1, "children": [{"value": "x"}]})
    assert exc.value.errors == [
        "children[0].value: Input should be a valid integer, unable to parse string as an integer (got 'x')"
    ]
