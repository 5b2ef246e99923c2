"""Deterministic example values for a JSON schema (what `SchemaChatModel` answers with)."""

from __future__ import annotations

import math
import random
import uuid
from typing import Any

from ..exceptions import UserError

__all__ = ["example_value"]

_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india")
_MAX_DEPTH = 8


def example_value(schema: dict[str, Any], seed: int | str = 0) -> Any:
    """A value that validates against `schema`; the same schema and seed give the same value.

    Supports types, ``enum``/``const``, ``$ref`` into ``$defs``, ``anyOf``/``oneOf``/``allOf``,
    string lengths and formats (date, date-time, time, email, uri, uuid), numeric bounds and
    ``multipleOf``, array bounds, ``prefixItems`` and ``uniqueItems``, required and optional
    properties. ``pattern`` is supported when hypothesis is installed.
    """
    return _Generator(schema, random.Random(str(seed))).value(schema, 0)


class _Generator:
    def __init__(self, root: dict[str, Any], rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def resolve(self, schema: Any) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise UserError(f"Only local $refs like '#/$defs/Name' are supported, got {ref!r}.")
            target: Any = self.root
            for part in ref[2:].split("/"):
                if not isinstance(target, dict) or part not in target:
                    raise UserError(f"$ref {ref!r} points at nothing in the schema.")
                target = target[part]
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **extra}
            seen += 1
            if seen > 50:
                raise UserError(f"$ref {ref!r} loops.")
        if schema is True or schema == {}:
            return {"type": "string"}
        if not isinstance(schema, dict):
            raise UserError(f"Not a JSON schema: {schema!r}.")
        return schema

    def value(self, schema: Any, depth: int) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.rng.choice(list(schema["enum"]))
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                part = self.resolve(part)
                for key, val in part.items():
                    if key == "properties":
                        merged.setdefault("properties", {}).update(val)
                    elif key == "required":
                        merged.setdefault("required", []).extend(val)
                    else:
                        merged[key] = val
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.value({**merged, **rest}, depth)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(o) for o in schema[key]]
                non_null = [o for o in options if o.get("type") != "null"]
                pick = non_null[0] if non_null and depth < _MAX_DEPTH else options[0]
                rest = {k: v for k, v in schema.items() if k != key}
                return self.value({**rest, **pick}, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null = [k for k in kind if k != "null"]
            kind = non_null[0] if non_null else "null"
        if kind is None:
            if "properties" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            else:
                kind = "string"
        maker = getattr(self, f"_{kind}", None)
        if maker is None:
            raise UserError(f"Unsupported JSON schema type {kind!r}.")
        return maker(schema, depth)

    def _null(self, schema: dict[str, Any], depth: int) -> None:
        return None

    def _boolean(self, schema: dict[str, Any], depth: int) -> bool:
        return self.rng.random() < 0.5

    def _bounds(self, schema: dict[str, Any], integer: bool) -> tuple[float, float]:
        """Inclusive [low, high] from minimum/maximum and their exclusive forms."""
        low = schema.get("minimum")
        high = schema.get("maximum")
        ex_low = schema.get("exclusiveMinimum")
        ex_high = schema.get("exclusiveMaximum")
        if ex_low is not None:
            bound = math.floor(ex_low) + 1 if integer else ex_low
            low = bound if low is None else max(low, bound)
        if ex_high is not None:
            bound = math.ceil(ex_high) - 1 if integer else ex_high
            high = bound if high is None else min(high, bound)
        if low is None and high is None:
            low, high = 0, 100
        elif low is None:
            low = high - 100
        elif high is None:
            high = low + 100
        if integer:
            low, high = math.ceil(low), math.floor(high)
        open_ended = not integer and (ex_low is not None or ex_high is not None)
        if low > high or (open_ended and low >= high):
            kind = "integer" if integer else "number"
            raise UserError(f"No {kind} fits the bounds of {schema!r}.")
        return low, high

    def _integer(self, schema: dict[str, Any], depth: int) -> int:
        low, high = self._bounds(schema, integer=True)
        step = schema.get("multipleOf")
        if step:
            return int(self._multiple(schema, step, low, high))
        return self.rng.randint(int(low), int(high))

    def _multiple(self, schema: dict[str, Any], step: float, low: float, high: float) -> float:
        """A multiple of `step` in [low, high] that JSON-schema validators accept as one."""
        first, last = math.ceil(low / step), math.floor(high / step)
        if first > last:
            raise UserError(f"No multiple of {step} fits the bounds of {schema!r}.")
        start = self.rng.randint(first, last)
        # float steps: k * step / step may not give k back exactly; try neighbours, then 0
        for k in (start, *range(first, min(last, first + 50) + 1), 0):
            value = k * step
            if first <= k <= last and (value / step) == int(value / step):
                return value if not isinstance(step, int) else int(value)
        raise UserError(f"No exact multiple of {step} fits the bounds of {schema!r}.")

    def _number(self, schema: dict[str, Any], depth: int) -> float | int:
        low, high = self._bounds(schema, integer=False)
        step = schema.get("multipleOf")
        if step:
            return self._multiple(schema, step, low, high)
        value = round(self.rng.uniform(low, high), 2)
        ex_low = schema.get("exclusiveMinimum")
        ex_high = schema.get("exclusiveMaximum")
        if not low <= value <= high or value == ex_low or value == ex_high:
            value = (low + high) / 2
        return value

    def _string(self, schema: dict[str, Any], depth: int) -> str:
        fmt = schema.get("format")
        n = self.rng.randint(1, 28)
        if fmt == "date":
            return f"2024-{self.rng.randint(1, 12):02d}-{n:02d}"
        if fmt == "date-time":
            return (
                f"2024-{self.rng.randint(1, 12):02d}-{n:02d}T{self.rng.randint(0, 23):02d}:00:00Z"
            )
        if fmt == "time":
            return f"{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}:00"
        if fmt == "email":
            return f"{self.rng.choice(_WORDS)}{n}@example.com"
        if fmt in ("uri", "url", "iri"):
            return f"https://example.com/{self.rng.choice(_WORDS)}"
        if fmt == "uuid":
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if "pattern" in schema:
            return self._pattern(schema)
        text = self.rng.choice(_WORDS)
        low = schema.get("minLength", 0)
        high = schema.get("maxLength")
        if len(text) < low:
            text = (text * (low // len(text) + 1))[:low]
        if high is not None:
            text = text[:high]
        return text

    def _pattern(self, schema: dict[str, Any]) -> str:
        try:
            from hypothesis import HealthCheck, Phase, find, settings
            from hypothesis import strategies as st
        except ImportError:
            raise UserError(
                f"String pattern {schema['pattern']!r} needs hypothesis to generate examples: "
                "pip install 'myna[hypothesis]'."
            ) from None
        low = schema.get("minLength", 0)
        high = schema.get("maxLength", 10**9)
        return find(
            st.from_regex(schema["pattern"], fullmatch=True),
            lambda s: low <= len(s) <= high,
            settings=settings(
                database=None,
                derandomize=True,
                max_examples=200,
                # the first match will do: shrinking it costs seconds per pattern
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            ),
        )

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        prefix = schema.get("prefixItems") or []
        out = [self.value(item, depth + 1) for item in prefix]
        low = schema.get("minItems", 0)
        high = schema.get("maxItems")
        want = max(low, len(out), 1 if depth < _MAX_DEPTH else low)
        if high is not None:
            want = min(want, high)
        items = schema.get("items", {})
        if items is False:
            return out[:want]
        attempts = 0
        while len(out) < want and attempts < want * 20 + 20:
            attempts += 1
            item = self.value(items, depth + 1)
            if schema.get("uniqueItems") and item in out:
                continue
            out.append(item)
        if len(out) < low:
            raise UserError(f"Cannot make {low} unique items for {schema!r}.")
        return out

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        out: dict[str, Any] = {}
        for name, sub in properties.items():
            if name in required or depth < 3:
                out[name] = self.value(sub, depth + 1)
        missing = required - set(out)
        for name in sorted(missing):
            out[name] = "example"
        return out
