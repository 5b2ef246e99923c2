"""Hypothesis strategies for values that validate against a JSON schema (the engine behind
`myna.strategies.structured_outputs` and `tool_calls_for`); every drawn value is checked."""

from __future__ import annotations

import math
import string
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .exceptions import UserError

# Integers beyond 2**53 do not survive JSON parsers that read numbers as doubles (JavaScript,
# protobuf Struct in Gemini), so tool arguments stay inside the exactly representable range.
_MAX_SAFE_INT = 2**53 - 1
_ALNUM = string.ascii_letters + string.digits


def _text(*, min_size: int = 0, max_size: int | None = 40) -> SearchStrategy[str]:
    return st.text(st.characters(exclude_categories=["Cs"]), min_size=min_size, max_size=max_size)


def _identifier_like(first: str, rest: str, max_rest: int) -> SearchStrategy[str]:
    # Cheaper to draw than st.from_regex, which matters inside nested argument dicts.
    return st.builds(
        lambda head, tail: head + tail, st.sampled_from(first), st.text(rest, max_size=max_rest)
    )


_identifiers = _identifier_like(
    string.ascii_letters + "_", string.ascii_letters + string.digits + "_", 20
)
_arg_keys = _identifier_like(
    string.ascii_lowercase + "_", string.ascii_lowercase + string.digits + "_", 12
)
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-_MAX_SAFE_INT, _MAX_SAFE_INT),
    # -0.0 prints as "-0.0" but several providers send it back as 0; leave it out.
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: 0.0 if x == 0 else x),
    _text(max_size=20),
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_arg_keys, children, max_size=3)
    ),
    max_leaves=8,
)


_UNSUPPORTED = (
    "not",
    "if",
    "patternProperties",
    "dependentSchemas",
    "dependentRequired",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
)
"""Keywords a drawn value cannot be built for (yet); a schema using one is refused early."""

_MAX_ITEMS = 4
_MAX_STRING = 40


class _SchemaValues:
    """Builds a strategy of values for one JSON schema; ``$ref`` targets are built once
    (lazily, so recursive models work) and each part is checked when the strategy is built."""

    def __init__(self, root: dict[str, Any], where: str) -> None:
        self.root = root
        self.where = where
        self.refs: dict[str, SearchStrategy[Any]] = {}

    def fail(self, problem: str) -> UserError:
        return UserError(
            f"{self.where}: {problem} Supported: types, enum/const, $ref into $defs, "
            "anyOf/oneOf/allOf, string lengths, pattern and formats, numeric bounds and "
            "multipleOf, array bounds and prefixItems, required and optional properties. "
            "Please open an issue with the schema."
        )

    def ref(self, ref: Any) -> SearchStrategy[Any]:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise self.fail(f"only local $refs like '#/$defs/Name' are supported, got {ref!r}.")
        if ref not in self.refs:
            target: Any = self.root
            for part in ref[2:].split("/"):
                if not isinstance(target, dict) or part not in target:
                    raise self.fail(f"$ref {ref!r} points at nothing in the schema.")
                target = target[part]
            self.refs[ref] = st.deferred(lambda target=target: self.build(target))
        return self.refs[ref]

    def build(self, schema: Any) -> SearchStrategy[Any]:
        if schema is True or schema == {}:
            return _json_values
        if schema is False:
            raise self.fail("the schema `false` has no valid value.")
        if not isinstance(schema, dict):
            raise self.fail(f"{schema!r} is not a JSON schema.")
        bad = [k for k in _UNSUPPORTED if k in schema]
        if bad:
            raise self.fail(f"the keyword {bad[0]!r} is not supported.")
        if "$ref" in schema:
            rest = {k: v for k, v in schema.items() if k != "$ref" and k not in _NOTES}
            if rest:  # siblings of $ref narrow the target: merge them into it
                return self.build({"allOf": [{"$ref": schema["$ref"]}, rest]})
            return self.ref(schema["$ref"])
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(list(schema["enum"]))
        if "allOf" in schema:
            return self.build(self.merge(schema))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                rest = {k: v for k, v in schema.items() if k != key}
                options = [self.build({**rest, **self.inline(o)}) for o in schema[key]]
                return st.one_of(options)
        kind = schema.get("type")
        if isinstance(kind, list):
            return st.one_of([self.build({**schema, "type": k}) for k in kind])
        if kind is None:
            if "properties" in schema or "required" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            else:
                return _json_values
        maker = getattr(self, f"_{kind}", None)
        if not isinstance(kind, str) or maker is None:
            raise self.fail(f"unknown type {kind!r}.")
        return maker(schema)

    def inline(self, schema: Any) -> Any:
        """A ``$ref`` replaced by its target, so the parts of a merge can be combined."""
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            target: Any = self.root
            for part in str(ref)[2:].split("/"):
                if not isinstance(target, dict) or part not in target:
                    raise self.fail(f"$ref {ref!r} points at nothing in the schema.")
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
            if seen > 20:
                raise self.fail(f"$ref {ref!r} refers to itself without any nesting.")
        return schema

    def merge(self, schema: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for part in [*schema["allOf"], {k: v for k, v in schema.items() if k != "allOf"}]:
            part = self.inline(part)
            if not isinstance(part, dict):
                raise self.fail(f"allOf holds {part!r}, which is not a schema.")
            for key, value in part.items():
                if key == "properties":
                    merged.setdefault("properties", {}).update(value)
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged[key] = value
        return merged

    def _null(self, schema: dict[str, Any]) -> SearchStrategy[None]:
        return st.none()

    def _boolean(self, schema: dict[str, Any]) -> SearchStrategy[bool]:
        return st.booleans()

    def _bounds(self, schema: dict[str, Any]) -> tuple[Any, Any]:
        low, high = schema.get("minimum"), schema.get("maximum")
        ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool):
            low = ex_low if low is None else max(low, ex_low)
        if isinstance(ex_high, (int, float)) and not isinstance(ex_high, bool):
            high = ex_high if high is None else min(high, ex_high)
        return low, high

    def _integer(self, schema: dict[str, Any]) -> SearchStrategy[int]:
        low, high = self._bounds(schema)
        lo = -_MAX_SAFE_INT if low is None else math.ceil(low)
        hi = _MAX_SAFE_INT if high is None else math.floor(high)
        if schema.get("exclusiveMinimum") is not None and lo == schema["exclusiveMinimum"]:
            lo += 1
        if schema.get("exclusiveMaximum") is not None and hi == schema["exclusiveMaximum"]:
            hi -= 1
        step = schema.get("multipleOf")
        if isinstance(step, int) and not isinstance(step, bool) and step > 0:
            return st.integers(math.ceil(lo / step), math.floor(hi / step)).map(lambda n: n * step)
        return st.integers(lo, hi)

    def _number(self, schema: dict[str, Any]) -> SearchStrategy[float]:
        low, high = self._bounds(schema)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
            lo = -_MAX_SAFE_INT if low is None else math.ceil(low / step)
            hi = _MAX_SAFE_INT if high is None else math.floor(high / step)
            return st.integers(lo, hi).map(lambda n: n * step)
        return st.floats(
            min_value=low,
            max_value=high,
            exclude_min=schema.get("exclusiveMinimum") is not None and low is not None,
            exclude_max=schema.get("exclusiveMaximum") is not None and high is not None,
            allow_nan=False,
            allow_infinity=False,
        ).map(lambda x: 0.0 if x == 0 else x)

    def _string(self, schema: dict[str, Any]) -> SearchStrategy[str]:
        low = schema.get("minLength", 0)
        high = schema.get("maxLength")
        fmt = schema.get("format")
        if "pattern" in schema:
            strategy = st.from_regex(schema["pattern"])
        elif fmt in _FORMATS:
            strategy = _FORMATS[fmt]()
        else:
            return _text(min_size=low, max_size=high if high is not None else max(low, _MAX_STRING))
        return strategy.filter(lambda s: low <= len(s) and (high is None or len(s) <= high))

    def _array(self, schema: dict[str, Any]) -> SearchStrategy[list[Any]]:
        prefix = [self.build(s) for s in schema.get("prefixItems", [])]
        items = schema.get("items", True)
        low = schema.get("minItems", 0)
        high = schema.get("maxItems")
        rest_low = max(low - len(prefix), 0)
        rest_high = max(rest_low, _MAX_ITEMS) if high is None else max(high - len(prefix), 0)
        if items is False:
            rest_high = 0
        rest = st.lists(
            self.build(items) if items is not False else st.nothing(),
            min_size=rest_low,
            max_size=rest_high,
            unique_by=_canonical if schema.get("uniqueItems") else None,
        )
        if not prefix:
            return rest
        return st.builds(lambda head, tail: [*head, *tail], st.tuples(*prefix), rest)

    def _object(self, schema: dict[str, Any]) -> SearchStrategy[dict[str, Any]]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        for name in required - set(properties):
            properties = {**properties, name: True}
        fixed = {k: self.build(v) for k, v in properties.items() if k in required}
        optional = {k: self.build(v) for k, v in properties.items() if k not in required}
        drawn = st.fixed_dictionaries(fixed, optional=optional)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not properties:  # a mapping: dict[str, X]
            low = schema.get("minProperties", 0)
            return st.dictionaries(_arg_keys, self.build(extra), min_size=low, max_size=max(low, 3))
        return drawn


_NOTES = ("title", "description", "default", "examples", "$comment", "deprecated")
"""Keywords that say nothing about which values are valid."""


def _canonical(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _iso_datetimes() -> SearchStrategy[str]:
    import datetime as dt

    return st.datetimes(min_value=dt.datetime(1970, 1, 1), timezones=st.just(dt.timezone.utc)).map(
        lambda d: d.isoformat().replace("+00:00", "Z")
    )


_FORMATS: dict[str, Any] = {
    "date": lambda: st.dates().map(lambda d: d.isoformat()),
    "date-time": _iso_datetimes,
    "time": lambda: st.times().map(lambda t: t.isoformat() + "Z"),
    "email": lambda: st.emails(),
    "uuid": lambda: st.uuids().map(str),
    "uri": lambda: st.from_regex(r"\Ahttps://[a-z]{1,12}\.(com|org|net)(/[a-z0-9]{0,10}){0,3}\Z"),
    "ipv4": lambda: st.ip_addresses(v=4).map(str),
    "ipv6": lambda: st.ip_addresses(v=6).map(str),
}
_FORMATS["url"] = _FORMATS["uri"]


def _valid_values(schema: dict[str, Any], where: str) -> SearchStrategy[Any]:
    """Values that validate against `schema` (built, then checked with the validator)."""
    from .schema import validate_json_schema

    validate_json_schema(schema, None)  # a broken schema fails here, not at the first draw
    return (
        _SchemaValues(schema, where)
        .build(schema)
        .filter(lambda value: not validate_json_schema(schema, value))
    )
