"""Schemas for structured output and tools: conversion to JSON schema, validation, partial JSON.

One schema may be given in any of the forms users already have: a pydantic model class, a
TypedDict class, a JSON-schema dict, an OpenAI function or tool dict, or an Anthropic tool dict.
`to_json_schema` turns each into a plain JSON schema, and `OutputSchema` validates model output
against it, whatever the form, with one error type (`OutputParserError`) that names every
failing field.

```python
from pydantic import BaseModel
from myna.schema import OutputSchema

class Person(BaseModel):
    '''A person mentioned in the text.'''
    name: str
    age: int

schema = OutputSchema.from_any(Person)
schema.parse('{"name": "Ada", "age": 36}')   # -> Person(name='Ada', age=36)
schema.parse_partial('{"name": "Ad')          # -> {'name': 'Ad'}  (while streaming)
```
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import types
import typing
import weakref
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from typing_extensions import NotRequired, ReadOnly, Required, is_typeddict
from typing_extensions import TypedDict as _ExtTypedDict

from ._partial_json import parse_partial_json
from ._text import short_repr
from .exceptions import OutputParserError, UserError

__all__ = [
    "OutputSchema",
    "format_validation_error",
    "parse_partial_json",
    "pydantic_type",
    "schema_description",
    "schema_name",
    "to_json_schema",
    "to_strict_json_schema",
    "validate_json_schema",
]

SchemaKind = Literal["pydantic", "typeddict", "json_schema"]

_ACCEPTED_FORMS = (
    "a pydantic BaseModel class, a TypedDict class, a JSON-schema dict, "
    "an OpenAI function dict {'name', 'description', 'parameters'}, "
    "an OpenAI tool dict {'type': 'function', 'function': {...}}, "
    "or an Anthropic tool dict {'name', 'input_schema'}"
)

# Keywords whose value is a JSON schema, a list of them, or a name -> schema map. Everything
# else is data (enum, const, default, required, ...) and is never rewritten.
_SUBSCHEMA = frozenset(
    "items additionalProperties additionalItems not if then else contains propertyNames "
    "unevaluatedItems unevaluatedProperties".split()
)
_SUBSCHEMA_LIST = frozenset(("anyOf", "oneOf", "allOf", "prefixItems"))
_SUBSCHEMA_MAP = frozenset(
    "properties patternProperties $defs definitions dependentSchemas".split()
)
_SCHEMA_HINT_KEYS = frozenset(
    "type properties $ref anyOf oneOf allOf enum const items $defs title $schema".split()
)


# ---------------------------------------------------------------------------------------------
# Conversion


def _is_pydantic_class(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _dict_form(obj: dict[str, Any]) -> str:
    """Which kind of dict this is: 'openai_tool', 'anthropic', 'openai_function' or 'schema'."""
    if obj.get("type") == "function" and isinstance(obj.get("function"), dict):
        return "openai_tool"
    if "name" in obj and "input_schema" in obj:
        return "anthropic"
    if "name" in obj and "parameters" in obj:
        return "openai_function"
    if any(key in obj for key in _SCHEMA_HINT_KEYS):
        return "schema"
    return "unknown"


def _function_dict(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The inner ``{"name", "description", "parameters"}`` of an OpenAI or Anthropic tool dict."""
    form = _dict_form(obj)
    if form == "openai_tool":
        return obj["function"]
    if form == "anthropic":
        return {
            "name": obj["name"],
            "description": obj.get("description"),
            "parameters": obj["input_schema"],
        }
    if form == "openai_function":
        return obj
    return None


def _map_schema(node: Any, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """Rebuild a JSON schema bottom-up, applying `fn` to every (sub)schema dict."""
    if not isinstance(node, dict):
        return copy.deepcopy(node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SUBSCHEMA and isinstance(value, dict):
            out[key] = _map_schema(value, fn)
        elif key in _SUBSCHEMA and isinstance(value, list):  # draft-4 tuple "items"
            out[key] = [_map_schema(v, fn) for v in value]
        elif key in _SUBSCHEMA_LIST and isinstance(value, list):
            out[key] = [_map_schema(v, fn) for v in value]
        elif key in _SUBSCHEMA_MAP and isinstance(value, dict):
            out[key] = {name: _map_schema(sub, fn) for name, sub in value.items()}
        else:
            out[key] = copy.deepcopy(value)
    return fn(out)


def _strip_property_titles(node: dict[str, Any]) -> dict[str, Any]:
    # pydantic titles every property ("Age" for age); they add tokens and nothing else.
    # Titles of the schema itself and of $defs entries are names, so they stay.
    props = node.get("properties")
    if isinstance(props, dict):
        node["properties"] = {
            name: {k: v for k, v in sub.items() if k != "title"} if isinstance(sub, dict) else sub
            for name, sub in props.items()
        }
    return node


def _hoist_root_ref(schema: dict[str, Any]) -> dict[str, Any]:
    """``{"$ref": "#/$defs/Node", "$defs": ...}`` (recursive model) -> Node's schema on top."""
    ref = schema.get("$ref")
    defs = schema.get("$defs")
    if not (isinstance(ref, str) and ref.startswith("#/$defs/") and isinstance(defs, dict)):
        return schema
    target = defs.get(ref[len("#/$defs/") :])
    if not isinstance(target, dict):
        return schema
    hoisted = {k: v for k, v in schema.items() if k != "$ref"}
    return {**target, **hoisted}


def to_json_schema(schema: Any) -> dict[str, Any]:
    """Convert any supported schema form to a plain JSON-schema dict.

    Args:
        schema: a pydantic BaseModel class, a TypedDict class (``Annotated[T, "description"]``
            fields and ``NotRequired`` / ``total=False`` supported), a JSON-schema dict
            (returned unchanged, as a copy), an OpenAI function or tool dict or an Anthropic
            tool dict (their parameters, titled with the tool name), or an `OutputSchema`.

    Returns:
        The JSON schema. Property titles that pydantic invents are removed; the top-level
        ``title`` (the schema's name), descriptions and ``$defs`` are kept.

    Raises:
        UserError: for any other object; the message lists the accepted forms.
    """
    if isinstance(schema, OutputSchema):
        return copy.deepcopy(schema.json_schema)
    if _is_pydantic_class(schema):
        try:
            raw = schema.model_json_schema()
        except Exception as exc:
            raise UserError(
                f"Cannot build a JSON schema from {schema.__name__}: {exc}. "
                "Use JSON-compatible field types (str, int, float, bool, lists, dicts, "
                "nested models)."
            ) from exc
        return _map_schema(_hoist_root_ref(raw), _strip_property_titles)
    if is_typeddict(schema):
        try:
            raw = TypeAdapter(pydantic_type(schema)).json_schema()
        except Exception as exc:
            raise UserError(
                f"Cannot build a JSON schema from TypedDict {schema.__name__}: {exc}"
            ) from exc
        return _map_schema(_hoist_root_ref(raw), _strip_property_titles)
    if isinstance(schema, dict):
        function = _function_dict(schema)
        if function is not None:
            params = function.get("parameters")
            params = copy.deepcopy(params) if isinstance(params, dict) else {}
            params.setdefault("type", "object")
            params.setdefault("properties", {})
            params["title"] = function["name"]
            if function.get("description") and "description" not in params:
                params["description"] = function["description"]
            return params
        if _dict_form(schema) == "schema":
            return copy.deepcopy(schema)
        raise UserError(
            f"The dict {short_repr(schema)} does not look like a JSON schema (it has none of "
            f"'type', 'properties', '$ref', 'anyOf', ...). Pass {_ACCEPTED_FORMS}."
        )
    if isinstance(schema, BaseModel):
        raise UserError(
            f"Got an instance of {type(schema).__name__}; pass the class itself "
            f"({type(schema).__name__}), not an instance."
        )
    raise UserError(
        f"Cannot build a JSON schema from {short_repr(schema)} ({type(schema).__name__}). "
        f"Pass {_ACCEPTED_FORMS}."
    )


def schema_name(schema: Any) -> str:
    """The name of a schema: class name, a dict's ``name`` (tool dicts) or ``title``.

    Raises:
        UserError: for a JSON-schema dict without a ``title``, or an unsupported object.
    """
    if isinstance(schema, OutputSchema):
        return schema.name
    if _is_pydantic_class(schema) or is_typeddict(schema):
        return schema.__name__
    if isinstance(schema, dict):
        function = _function_dict(schema)
        if function is not None:
            return str(function["name"])
        if isinstance(schema.get("title"), str) and schema["title"]:
            return schema["title"]
        raise UserError(
            f"The JSON schema {short_repr(schema)} has no 'title'. Add one: it is the schema's "
            "name, e.g. {'title': 'Person', 'type': 'object', 'properties': {...}}."
        )
    to_json_schema(schema)  # raises the "accepted forms" error
    raise UserError(f"Cannot name the schema {short_repr(schema)}.")  # pragma: no cover


def schema_description(schema: Any) -> str | None:
    """The description of a schema: a class docstring or a dict's ``description``; else None."""
    if isinstance(schema, OutputSchema):
        return schema.description
    if _is_pydantic_class(schema) or is_typeddict(schema):
        doc = schema.__doc__
        return inspect.cleandoc(doc) if doc else None
    if isinstance(schema, dict):
        function = _function_dict(schema)
        source = function if function is not None else schema
        description = source.get("description")
        return description if isinstance(description, str) and description else None
    return None


def to_strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` fit for OpenAI strict mode.

    Every object schema gets ``additionalProperties: false`` and lists all its properties as
    required; ``default: null`` entries are dropped, and a ``$ref`` with sibling keywords
    (``{"$ref": ..., "description": ...}``) is replaced by the referenced schema, because
    strict mode rejects both. Map-like objects (``additionalProperties`` is itself a schema)
    are left as maps.
    """

    def strict(node: dict[str, Any]) -> dict[str, Any]:
        kind = node.get("type")
        is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
        if (is_object or "properties" in node) and not isinstance(
            node.get("additionalProperties"), dict
        ):
            node["additionalProperties"] = False
            node["required"] = list(node.get("properties", {}))
        if "default" in node and node["default"] is None:
            del node["default"]
        return node

    closed = _map_schema(schema, strict)

    def inline(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        target = _resolve_ref(closed, ref) if isinstance(ref, str) and len(node) > 1 else None
        if target is None:
            return node
        return {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}}

    return _map_schema(closed, inline)


def _resolve_ref(root: dict[str, Any], ref: str) -> dict[str, Any] | None:
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        node = (
            node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
        )
    return node if isinstance(node, dict) else None


# ---------------------------------------------------------------------------------------------
# TypedDict and Annotated support for pydantic

_REBUILT: weakref.WeakKeyDictionary[type, Any] = weakref.WeakKeyDictionary()
_BUILDING: set[int] = set()
_FIELD_WRAPPERS = {Required, NotRequired, ReadOnly}


def _unwrap_required(tp: Any) -> Any:
    while typing.get_origin(tp) in _FIELD_WRAPPERS:
        tp = typing.get_args(tp)[0]
    return tp


def _rebuild_typeddict(td: Any) -> Any:
    try:
        cached = _REBUILT.get(td)
    except TypeError:  # not weak-referenceable
        cached = None
    if cached is not None:
        return cached
    if id(td) in _BUILDING:  # a recursive TypedDict: leave the inner reference as it is
        return td
    _BUILDING.add(id(td))
    try:
        try:
            hints = typing.get_type_hints(td, include_extras=True)
        except Exception as exc:
            raise UserError(
                f"Cannot resolve the field types of TypedDict {td.__name__}: {exc}. "
                "Define the types it uses at module level."
            ) from exc
        required = getattr(td, "__required_keys__", frozenset(hints))
        fields = {}
        for key, annotation in hints.items():
            # The wrapper beats __required_keys__, which is wrong before Python 3.12 when
            # annotations are strings (``from __future__ import annotations``).
            wrapper = typing.get_origin(annotation)
            is_required = {Required: True, NotRequired: False}.get(wrapper, key in required)
            inner = pydantic_type(_unwrap_required(annotation))
            fields[key] = Required[inner] if is_required else NotRequired[inner]
        rebuilt = _ExtTypedDict(td.__name__, fields)  # type: ignore[operator]
        rebuilt.__doc__ = td.__doc__
        rebuilt.__module__ = td.__module__
        rebuilt.__qualname__ = getattr(td, "__qualname__", td.__name__)
    finally:
        _BUILDING.discard(id(td))
    try:
        _REBUILT[td] = rebuilt
    except TypeError:
        pass
    return rebuilt


def pydantic_type(tp: Any) -> Any:
    """Rewrite a type annotation so pydantic understands it the way users mean it.

    - TypedDicts (``typing`` or ``typing_extensions``) become ``typing_extensions`` TypedDicts,
      which pydantic requires before Python 3.12;
    - ``Annotated[T, "text"]`` becomes ``Annotated[T, Field(description="text")]``.

    Nested types (lists, unions, dict values) are rewritten too; other types are returned as is.
    """
    if is_typeddict(tp):
        return _rebuild_typeddict(tp)
    origin = typing.get_origin(tp)
    if origin is None or origin is Literal:
        return tp
    if origin is typing.Annotated:
        base = pydantic_type(tp.__origin__)
        metadata = list(tp.__metadata__)
        has_description = any(isinstance(m, FieldInfo) and m.description for m in metadata)
        texts = [m for m in metadata if isinstance(m, str)]
        metadata = [m for m in metadata if not isinstance(m, str)]
        if texts and not has_description:
            metadata.append(Field(description=texts[-1]))
        if base is tp.__origin__ and not texts:
            return tp
        if not metadata:
            return base
        return typing.Annotated[(base, *metadata)]  # type: ignore[valid-type]
    args = typing.get_args(tp)
    new_args = tuple(pydantic_type(a) for a in args)
    if all(a is b for a, b in zip(args, new_args, strict=True)):
        return tp
    if origin in (typing.Union, types.UnionType):
        return typing.Union[new_args]  # noqa: UP007
    if isinstance(tp, types.GenericAlias):
        return types.GenericAlias(origin, new_args)
    if hasattr(tp, "copy_with"):
        return tp.copy_with(new_args)
    return tp


# ---------------------------------------------------------------------------------------------
# Validation errors as one line per failing field


def _format_path(path: Any) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per error of a pydantic `ValidationError`: ``"items[0].price: <problem>"``."""
    lines = []
    for error in exc.errors(include_url=False):
        path = _format_path(error.get("loc", ()))
        message = error.get("msg", "invalid")
        if error.get("type") != "missing" and "input" in error:
            message += f" (got {short_repr(error['input'])})"
        lines.append(f"{path}: {message}" if path else message)
    return lines


_VALIDATORS: dict[str, Any] = {}
_MAX_VALIDATORS = 256


def _json_validator(schema: dict[str, Any]) -> Any:
    """A jsonschema validator for `schema`, after checking the schema itself.

    Checking a schema against its meta-schema costs milliseconds for nested schemas, and
    the same schema is validated against on every structured-output call, so validators
    are cached by the schema's canonical JSON.
    """
    import jsonschema  # lazily: `import myna` stays light

    try:
        key = json.dumps(schema, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        key = None
    if key is not None and key in _VALIDATORS:
        return _VALIDATORS[key]
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = _format_path(exc.absolute_path) or "the top level"
        raise UserError(f"Invalid JSON schema at {where}: {exc.message}") from exc
    validator = cls(schema)
    if key is not None:
        if len(_VALIDATORS) >= _MAX_VALIDATORS:
            _VALIDATORS.pop(next(iter(_VALIDATORS)))
        _VALIDATORS[key] = validator
    return validator


def validate_json_schema(schema: dict[str, Any], value: Any) -> list[str]:
    """Validate `value` against a JSON schema; one line per problem, empty when valid.

    Lines read ``"age: 'x' is not of type 'integer'"`` (the field path, then the problem).

    Raises:
        UserError: when `schema` itself is not a valid JSON schema.
    """
    validator = _json_validator(schema)
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    lines = []
    for error in errors:
        message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
        path = _format_path(error.absolute_path)
        lines.append(f"{path}: {message}" if path else message)
    return lines


# ---------------------------------------------------------------------------------------------
# OutputSchema

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*[ \t]*\n?(.*?)\n?```\s*$", re.S)
_FENCE_START = re.compile(r"^\s*```[A-Za-z0-9_-]*[ \t]*\n?")


class OutputSchema:
    """A schema for structured output, in any accepted form, with one way to parse against it.

    Build one with `OutputSchema.from_any`. `parse` validates for all three kinds: a pydantic
    class returns an instance, a TypedDict or JSON schema returns a dict.

    Attributes:
        schema: the object it was built from.
        name: class name, ``title`` or tool ``name`` (``"output"`` for an untitled JSON schema).
        description: docstring or ``description``, or None.
        json_schema: the JSON schema (see `to_json_schema`).
        kind: ``"pydantic"``, ``"typeddict"`` or ``"json_schema"``.
        strict: the strict-mode choice passed to `from_any` (None: provider default).
    """

    def __init__(
        self,
        schema: Any,
        *,
        name: str,
        description: str | None,
        json_schema: dict[str, Any],
        kind: SchemaKind,
        strict: bool | None = None,
    ) -> None:
        self.schema = schema
        self.name = name
        self.description = description
        self.json_schema = json_schema
        self.kind: SchemaKind = kind
        self.strict = strict
        self._adapter: TypeAdapter[Any] | None = None

    @classmethod
    def from_any(cls, schema: Any, *, strict: bool | None = None) -> OutputSchema:
        """Build an `OutputSchema` from any form `to_json_schema` accepts.

        Raises:
            UserError: for an unsupported object or a dict that is not a valid JSON schema.
        """
        if isinstance(schema, OutputSchema):
            if strict is None or strict == schema.strict:
                return schema
            return cls(
                schema.schema,
                name=schema.name,
                description=schema.description,
                json_schema=schema.json_schema,
                kind=schema.kind,
                strict=strict,
            )
        json_schema = to_json_schema(schema)
        kind: SchemaKind
        if _is_pydantic_class(schema):
            kind = "pydantic"
        elif is_typeddict(schema):
            kind = "typeddict"
        else:
            kind = "json_schema"
            _json_validator(json_schema)  # raises UserError if the schema itself is invalid
        try:
            name = schema_name(schema)
        except UserError:
            name = "output"
        return cls(
            schema,
            name=name,
            description=schema_description(schema),
            json_schema=json_schema,
            kind=kind,
            strict=strict,
        )

    def __repr__(self) -> str:
        return f"OutputSchema(name={self.name!r}, kind={self.kind!r})"

    def strict_json_schema(self) -> dict[str, Any]:
        """The JSON schema made strict (see `to_strict_json_schema`), for OpenAI strict mode."""
        return to_strict_json_schema(self.json_schema)

    def parse(self, value: str | bytes | dict[str, Any] | Any) -> Any:
        """Parse and validate model output.

        Args:
            value: a JSON string (a surrounding Markdown code fence is tolerated) or an
                already-parsed value, such as tool-call args.

        Returns:
            A model instance for a pydantic schema; the validated dict otherwise.

        Raises:
            OutputParserError: the text is not JSON, or the value does not match the schema;
                ``.errors`` has one line per failing field and ``.raw`` the input.
        """
        data = self._load(value)
        if self.kind == "pydantic":
            if isinstance(data, self.schema):
                return data
            try:
                return self.schema.model_validate(data)
            except ValidationError as exc:
                raise self._mismatch(value, format_validation_error(exc)) from exc
        if self.kind == "typeddict":
            if self._adapter is None:
                self._adapter = TypeAdapter(pydantic_type(self.schema))
            try:
                return self._adapter.validate_python(data)
            except ValidationError as exc:
                raise self._mismatch(value, format_validation_error(exc)) from exc
        errors = validate_json_schema(self.json_schema, data)
        if errors:
            raise self._mismatch(value, errors)
        return data

    def parse_partial(self, text: str) -> dict[str, Any] | None:
        """The best object readable from a truncated JSON text, unvalidated; None if none yet."""
        value = parse_partial_json(_FENCE_START.sub("", text, count=1))
        return value if isinstance(value, dict) else None

    def _load(self, value: Any) -> Any:
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("utf-8", errors="replace")
        if not isinstance(value, str):
            return value
        text = value
        fenced = _FENCE.match(text)
        if fenced:
            text = fenced.group(1)
        try:
            return json.loads(text)
        except ValueError as exc:
            detail = f"{exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos})"  # type: ignore[attr-defined]
            raise OutputParserError(
                f"Output is not valid JSON for schema {self.name!r}: {detail}. "
                f"Output starts: {short_repr(value, 60)}",
                raw=value,
                errors=[detail],
            ) from exc

    def _mismatch(self, raw: Any, errors: list[str]) -> OutputParserError:
        return OutputParserError(
            f"Output does not match schema {self.name!r}: " + "; ".join(errors),
            raw=raw,
            errors=errors,
        )
