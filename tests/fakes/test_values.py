"""`example_value`: deterministic schema-valid values (what SchemaChatModel answers with)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from myna.exceptions import UserError
from myna.fakes import example_value


def valid(schema: dict[str, Any], value: Any) -> bool:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return not list(validator.iter_errors(value))


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string"},
        {"type": "string", "minLength": 30, "maxLength": 32},
        {"type": "string", "maxLength": 2},
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "time"},
        {"type": "string", "format": "email"},
        {"type": "string", "format": "uri"},
        {"type": "string", "format": "uuid"},
        {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
        {"type": "integer"},
        {"type": "integer", "minimum": 5, "maximum": 5},
        {"type": "integer", "exclusiveMinimum": -2, "exclusiveMaximum": 0},
        {"type": "integer", "exclusiveMaximum": -50},
        {"type": "integer", "multipleOf": 7, "minimum": 10, "maximum": 30},
        {"type": "number"},
        {"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1.01},
        {"type": "number", "maximum": -500},
        {"type": "number", "multipleOf": 0.1, "minimum": 0.25, "maximum": 0.9},
        {"type": "number", "multipleOf": 2.5, "minimum": 10, "maximum": 20},
        {"type": "boolean"},
        {"type": "null"},
        {"enum": ["a", 1, None]},
        {"const": {"fixed": True}},
        {"type": ["string", "null"]},
        {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        {"oneOf": [{"type": "boolean"}]},
        {
            "allOf": [
                {"properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"type": "object"},
            ]
        },
        {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 4},
        {"type": "array", "items": {"enum": [1, 2, 3]}, "minItems": 3, "uniqueItems": True},
        {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
        {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
            "required": ["a"],
            "additionalProperties": False,
        },
        {
            "$defs": {
                "Pet": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                }
            },
            "type": "object",
            "properties": {
                "pets": {"type": "array", "items": {"$ref": "#/$defs/Pet"}, "minItems": 1}
            },
            "required": ["pets"],
        },
        {"$ref": "#/$defs/X", "$defs": {"X": {"type": "integer", "minimum": 3}}},
        {},
    ],
)
@pytest.mark.parametrize("seed", [0, 1, "named"])
def test_values_are_schema_valid(schema: dict[str, Any], seed: Any) -> None:
    value = example_value(schema, seed)
    assert valid(schema, value), value


def test_same_schema_and_seed_give_the_same_value() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "s": {"type": "string"}, "x": {"type": "number"}},
        "required": ["n", "s", "x"],
    }
    assert example_value(schema, 3) == example_value(schema, 3)
    assert len({repr(example_value(schema, seed)) for seed in range(10)}) > 1


def test_deep_recursion_terminates() -> None:
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"child": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
            }
        },
        "$ref": "#/$defs/Node",
    }
    assert valid(schema, example_value(schema))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {"type": "integer", "minimum": 5, "maximum": 4},
            "No integer fits the bounds of {'type': 'integer', 'minimum': 5, 'maximum': 4}.",
        ),
        (
            {"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1},
            "No number fits the bounds of",
        ),
        (
            {"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9},
            "No multiple of 10 fits the bounds of",
        ),
        (
            {"$ref": "https://example.com/s.json"},
            "Only local $refs like '#/$defs/Name' are supported",
        ),
        ({"$ref": "#/$defs/Missing"}, "$ref '#/$defs/Missing' points at nothing in the schema."),
        ({"type": "tuple"}, "Unsupported JSON schema type 'tuple'."),
        (
            {"type": "array", "items": {"enum": [1, 2]}, "minItems": 3, "uniqueItems": True},
            "Cannot make 3 unique items for",
        ),
    ],
)
def test_impossible_schemas_say_why(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError) as exc:
        example_value(schema)
    assert message in str(exc.value)
