"""Tools: typed functions the model may call, and the neutral `ToolSpec` models receive.

```python
from myna.tools import tool, run_tool_calls

@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    '''Current weather in a city.

    Args:
        city: City name, e.g. "Paris".
        unit: "celsius" or "fahrenheit".
    '''
    return f"22 degrees {unit} in {city}"

get_weather.spec()     # {'name': 'get_weather', 'description': ..., 'parameters': {...}}
messages = run_tool_calls(ai_message, [get_weather])   # one ToolMessage per tool call
```

`convert_to_tool_spec` accepts every form `bind_tools` should: `Tool`s, plain functions,
pydantic classes, TypedDicts, titled JSON schemas, OpenAI and Anthropic tool dicts; provider
built-in tools (``{"type": "web_search_preview"}``) pass through unchanged.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import json
import re
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from typing_extensions import NotRequired, TypedDict, is_typeddict

from ._text import short_repr
from .exceptions import InvalidToolCallError, UserError
from .messages import AIMessage, ToolCall, ToolMessage
from .schema import (
    format_validation_error,
    pydantic_type,
    schema_description,
    schema_name,
    to_json_schema,
    to_strict_json_schema,
    validate_json_schema,
)

__all__ = [
    "Tool",
    "ToolSpec",
    "arun_tool_calls",
    "convert_to_tool_spec",
    "run_tool_calls",
    "tool",
]


class ToolSpec(TypedDict):
    """A tool as models and codecs receive it in ``params["tools"]``, provider-neutral."""

    name: str
    description: str
    parameters: dict[str, Any]
    """JSON schema of the arguments; always ``"type": "object"``."""
    strict: NotRequired[bool]
    """Ask the provider to enforce the schema exactly (OpenAI strict mode)."""


_ACCEPTED_TOOLS = (
    "a myna Tool (see @tool), a typed function with a docstring, a pydantic BaseModel class, "
    "a TypedDict class, a JSON-schema dict with a 'title', an OpenAI function dict "
    "{'name', 'description', 'parameters'}, an OpenAI tool dict "
    "{'type': 'function', 'function': {...}}, an Anthropic tool dict {'name', 'input_schema'}, "
    "or a provider built-in tool dict such as {'type': 'web_search_preview'}"
)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Keys that make a dict a description of a client-side function rather than a built-in tool.
_FUNCTION_KEYS = ("parameters", "input_schema", "function", "properties")
# "type" values of function tools and of JSON schemas, which are never provider built-ins.
_NOT_BUILTIN_TYPES = ("function", "object", "array", "string", "number", "integer", "boolean")
_SCHEMA_KEYS = ("type", "properties", "$ref", "anyOf", "oneOf", "allOf", "title", "$defs")


# ---------------------------------------------------------------------------------------------
# Docstrings

_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Keyword Args|Returns?|Raises|Yields?|Examples?|"
    r"Notes?|Attributes|See Also|Warnings?|Todo|References)\s*:\s*$",
    re.IGNORECASE,
)
_ARG_SECTIONS = {"args", "arguments", "parameters", "params", "keyword args"}
_ARG_LINE = re.compile(r"^(?P<name>\*{0,2}[A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(?P<desc>.*)$")


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {arg name: arg description})."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    i = 0
    while i < len(lines) and not _SECTION.match(lines[i]):
        description.append(lines[i])
        i += 1
    args: dict[str, str] = {}
    section = ""
    base_indent: int | None = None
    current: str | None = None
    for line in lines[i:]:
        header = _SECTION.match(line)  # section headers sit at indent 0 after cleandoc
        if header:
            section = header.group(1).lower()
            base_indent, current = None, None
            continue
        stripped = line.strip()
        if section not in _ARG_SECTIONS or not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if base_indent is None:
            base_indent = indent
        if indent <= base_indent:
            match = _ARG_LINE.match(stripped)
            current = match.group("name").lstrip("*") if match else None
            if current:
                args[current] = match.group("desc").strip()  # type: ignore[union-attr]
        elif current:
            args[current] = f"{args[current]} {stripped}".strip()
    return "\n".join(description).strip(), args


# ---------------------------------------------------------------------------------------------
# Tool


def _check_name(name: Any, hint: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UserError(
            f"Invalid tool name {name!r}: providers accept 1-64 letters, digits, '_' or '-'. {hint}"
        )
    return name


def _object_schema(parameters: Any, tool_name: str) -> dict[str, Any]:
    """Copy a parameters schema, making sure it is an object schema with properties."""
    if parameters is None:
        return {"type": "object", "properties": {}}
    if not isinstance(parameters, dict):
        raise UserError(
            f"Parameters of tool {tool_name!r} must be a JSON-schema dict, "
            f"got {type(parameters).__name__}."
        )
    params = copy.deepcopy(parameters)
    kind = params.setdefault("type", "object")
    if kind != "object":
        raise UserError(
            f"Parameters of tool {tool_name!r} must be an object schema "
            f"({{'type': 'object', 'properties': {{...}}}}), got type {kind!r}. "
            "Wrap the value in an object property."
        )
    params.setdefault("properties", {})
    return params


def _schema_parameters(schema: Any) -> dict[str, Any]:
    """A JSON schema without its name and description, which belong to the tool itself."""
    params = to_json_schema(schema)
    params.pop("title", None)
    params.pop("description", None)
    return params


def _content_of(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    if isinstance(result, (dict, list, tuple)):
        return json.dumps(result, ensure_ascii=False, default=_json_default)
    return str(result)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def _error_content(exc: BaseException) -> str:
    message = str(exc).strip().rstrip(".")
    kind = type(exc).__name__
    head = f"Error: {kind}: {message}" if message else f"Error: {kind}"
    return f"{head}. Fix the arguments and try again."


class Tool:
    """A function the model may call, with the JSON schema of its arguments.

    Make one with `@tool` (or `Tool.from_function`); `Tool.from_spec` makes one without a
    function, for checking arguments only. Calling the tool like a function calls the wrapped
    function directly, unvalidated.

    Attributes:
        name: the name the model calls it by.
        description: what it does; models choose tools by it.
        parameters: JSON schema of the arguments (an object schema).
        args_model: pydantic model that validates arguments, or None (then `parameters` is
            checked with jsonschema).
        func: the sync function, or None.
        coroutine: the async function, or None.
    """

    def __init__(
        self,
        name: str,
        description: str,
        parameters: dict[str, Any] | None = None,
        *,
        func: Callable[..., Any] | None = None,
        coroutine: Callable[..., Awaitable[Any]] | None = None,
        args_model: type[BaseModel] | None = None,
    ) -> None:
        self.name = _check_name(name, "Pass name=... with a valid name.")
        if not isinstance(description, str):
            raise UserError(
                f"Tool {name!r}: description must be a str, got {type(description).__name__}."
            )
        self.description = description
        if parameters is None and args_model is not None:
            parameters = _schema_parameters(args_model)
        self.parameters = _object_schema(parameters, name)
        self.args_model = args_model
        self.func = func
        self.coroutine = coroutine
        # (field name, parameter name, positional-only) for models built from a signature
        self._signature: list[tuple[str, str, bool]] | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_function(
        cls,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> Tool:
        """Build a tool from a typed function (sync or async).

        The name defaults to the function's name and the description to its docstring (the
        text before any ``Args:`` section). Google-style ``Args:`` lines describe parameters;
        parameters with defaults are optional, the others required.

        Raises:
            UserError: no description, ``*args``/``**kwargs``, or a parameter type that has
                no JSON schema.
        """
        if isinstance(func, type) or not callable(func):
            raise UserError(
                f"@tool needs a function, got {short_repr(func)}. "
                "For a pydantic class or TypedDict use convert_to_tool_spec()."
            )
        name = name or getattr(func, "__name__", None)
        _check_name(name, "Pass @tool(name=...) (lambdas and partials have no usable name).")
        assert name is not None
        doc_description, arg_docs = _parse_docstring(inspect.getdoc(func))
        description = description or doc_description
        if not description:
            raise UserError(
                f"Tool {name!r} has no description: add a docstring to the function or pass "
                "@tool(description=...). Models choose tools by their descriptions."
            )
        args_model, signature = _model_from_signature(func, name, arg_docs)
        is_async = inspect.iscoroutinefunction(func)
        made = cls(
            name,
            description,
            func=None if is_async else func,
            coroutine=func if is_async else None,
            args_model=args_model,
        )
        made._signature = signature
        made.__doc__ = func.__doc__
        made.__wrapped__ = func  # type: ignore[attr-defined]
        return made

    @classmethod
    def from_spec(cls, obj: Any) -> Tool:
        """A tool without a function, from any client-side form `convert_to_tool_spec` accepts.

        Fakes use it to check scripted tool calls with `validate_args`. A pydantic class keeps
        validating through pydantic; other forms validate with jsonschema.
        """
        if isinstance(obj, Tool):
            return obj
        spec = convert_to_tool_spec(obj)
        if "parameters" not in spec:
            raise UserError(
                f"{short_repr(obj)} is a provider built-in tool: it runs on the provider's side "
                "and has no argument schema to validate against."
            )
        model = obj if isinstance(obj, type) and issubclass(obj, BaseModel) else None
        return cls(spec["name"], spec["description"], spec["parameters"], args_model=model)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r}, description={short_repr(self.description, 60)})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function directly (no validation); async tools return a coroutine."""
        target = self.func or self.coroutine
        if target is None:
            raise self._no_function_error()
        return target(*args, **kwargs)

    def spec(self, strict: bool | None = None) -> ToolSpec:
        """The `ToolSpec` for this tool; ``strict=True`` makes the schema strict."""
        return _finish_spec(self.name, self.description, self.parameters, strict, None)

    # -- validation ---------------------------------------------------------------------------

    def validate_args(self, args: Any) -> dict[str, Any]:
        """Validate tool-call arguments; return them keyed by parameter name.

        With an `args_model` the values are the validated Python values (a nested pydantic
        model comes back as an instance); otherwise the arguments as given.

        Raises:
            InvalidToolCallError: names the tool, each failing field and the problem.
        """
        if self.args_model is None:
            self._check_is_dict(args)
            errors = validate_json_schema(self.parameters, args)
            if errors:
                raise self._invalid(errors)
            return dict(args)
        values = self._validated(args)
        if self._signature is not None:
            return {param: getattr(values, field) for field, param, _ in self._signature}
        return {field: getattr(values, field) for field in type(values).model_fields}

    def _check_is_dict(self, args: Any) -> None:
        if not isinstance(args, Mapping):
            raise InvalidToolCallError(
                f"Invalid arguments for tool {self.name!r}: expected a JSON object (dict) of "
                f"arguments, got {type(args).__name__} {short_repr(args)}."
            )

    def _validated(self, args: Any) -> BaseModel:
        self._check_is_dict(args)
        assert self.args_model is not None
        try:
            return self.args_model.model_validate(dict(args))
        except ValidationError as exc:
            raise self._invalid(format_validation_error(exc)) from exc

    def _invalid(self, errors: list[str]) -> InvalidToolCallError:
        error = InvalidToolCallError(
            f"Invalid arguments for tool {self.name!r}: " + "; ".join(errors)
        )
        error.errors = errors  # type: ignore[attr-defined]
        return error

    def _call_args(self, args: Any) -> tuple[list[Any], dict[str, Any]]:
        """Validate `args`, then split them into the function's positional and keyword args."""
        if self.args_model is None:
            return [], self.validate_args(args)
        values = self._validated(args)
        if self._signature is None:  # an explicit args_model: its fields are the keywords
            return [], {f: getattr(values, f) for f in type(values).model_fields}
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        for field, param, positional_only in self._signature:
            if positional_only:
                positional.append(getattr(values, field))
            else:
                keywords[param] = getattr(values, field)
        return positional, keywords

    # -- running ------------------------------------------------------------------------------

    def _no_function_error(self) -> UserError:
        return UserError(
            f"Tool {self.name!r} has no function to run; it only describes arguments. "
            "Build runnable tools with @tool or Tool.from_function."
        )

    def _require_sync(self) -> Callable[..., Any]:
        if self.func is not None:
            return self.func
        if self.coroutine is not None:
            raise UserError(
                f"Tool {self.name!r} is async; call it with await tool.ainvoke(...) / "
                "tool.arun(...), or arun_tool_calls(...)."
            )
        raise self._no_function_error()

    def invoke(self, args: dict[str, Any]) -> Any:
        """Validate `args` and call the function with them; return its result.

        Raises:
            InvalidToolCallError: the arguments do not validate.
            UserError: the tool is async only (use `ainvoke`) or has no function.
        """
        func = self._require_sync()
        positional, keywords = self._call_args(args)
        result = func(*positional, **keywords)
        if inspect.iscoroutine(result):
            result.close()
            raise UserError(
                f"Tool {self.name!r} returned a coroutine; call it with await tool.ainvoke(...)."
            )
        return result

    async def ainvoke(self, args: dict[str, Any]) -> Any:
        """Async `invoke`: awaits an async function; a sync one is called directly."""
        func = self.coroutine or self.func
        if func is None:
            raise self._no_function_error()
        positional, keywords = self._call_args(args)
        result = func(*positional, **keywords)
        if inspect.isawaitable(result):
            result = await result
        return result

    def run(self, tool_call: ToolCall | Mapping[str, Any]) -> ToolMessage:
        """Run a tool call (``{"name", "args", "id"}``) into a `ToolMessage`.

        Any exception, bad arguments or the function raising, becomes a `ToolMessage` with
        ``status="error"`` so the model can read it and retry. The raw result is kept as the
        message's `artifact`.
        """
        call_id, args = self._unpack(tool_call)
        self._require_sync()
        try:
            result = self.invoke(args)
        except Exception as exc:
            return self._error_message(exc, call_id)
        return self._message(result, call_id)

    async def arun(self, tool_call: ToolCall | Mapping[str, Any]) -> ToolMessage:
        """Async `run`."""
        call_id, args = self._unpack(tool_call)
        if self.coroutine is None and self.func is None:
            raise self._no_function_error()
        try:
            result = await self.ainvoke(args)
        except Exception as exc:
            return self._error_message(exc, call_id)
        return self._message(result, call_id)

    def _unpack(self, tool_call: Any) -> tuple[str, Any]:
        if not isinstance(tool_call, Mapping):
            raise UserError(
                f"Tool {self.name!r}: run() takes a tool call dict "
                "{'name': ..., 'args': {...}, 'id': ...} (an item of AIMessage.tool_calls), "
                f"got {type(tool_call).__name__}. To call with arguments, use invoke(args)."
            )
        # ToolMessage needs a str id; a call without one (rare, some local models) gets "".
        return str(tool_call.get("id") or ""), tool_call.get("args")

    def _message(self, result: Any, call_id: str) -> ToolMessage:
        return ToolMessage(
            _content_of(result), tool_call_id=call_id, name=self.name, artifact=result
        )

    def _error_message(self, exc: Exception, call_id: str) -> ToolMessage:
        return ToolMessage(
            _error_content(exc), tool_call_id=call_id, name=self.name, status="error"
        )


def _model_from_signature(
    func: Callable[..., Any], name: str, arg_docs: dict[str, str]
) -> tuple[type[BaseModel], list[tuple[str, str, bool]]]:
    """A pydantic model of the function's parameters, and how its fields map back to them."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise UserError(f"Cannot read the signature of tool {name!r}: {exc}") from exc
    source: Any = func
    while isinstance(source, functools.partial):
        source = source.func
    if not (inspect.isfunction(source) or inspect.ismethod(source)):
        source = type(source).__call__  # a callable object
    try:
        hints = typing.get_type_hints(source, include_extras=True)
    except NameError as exc:
        raise UserError(
            f"Cannot resolve the parameter types of tool {name!r}: {exc}. String annotations "
            "(as with `from __future__ import annotations`) are looked up in the function's "
            "module, so define the types they name at module level."
        ) from exc
    except Exception:
        hints = {}  # not introspectable: use the signature's annotations as they are
    fields: dict[str, Any] = {}
    mapping: list[tuple[str, str, bool]] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise UserError(
                f"Tool {name!r} has a *{param.name} / **{param.name} parameter; tools take "
                "named parameters only, because the model fills them from a JSON object."
            )
        annotation = hints.get(param.name, param.annotation)
        if annotation is inspect.Parameter.empty:
            annotation = Any
        info: dict[str, Any] = {}
        if param.name in arg_docs:
            info["description"] = arg_docs[param.name]
        field = param.name
        # Names pydantic reserves (underscores, BaseModel attributes) become aliases.
        if field.startswith("_") or field.startswith("model_") or hasattr(BaseModel, field):
            field = f"arg_{len(mapping)}"
            info["alias"] = param.name
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[field] = (pydantic_type(annotation), Field(default, **info))
        mapping.append((field, param.name, param.kind == param.POSITIONAL_ONLY))
    try:
        model = create_model(  # type: ignore[call-overload]
            name,
            __config__=ConfigDict(extra="forbid"),
            __module__=getattr(func, "__module__", None) or __name__,
            **fields,
        )
        model.model_json_schema()  # fail now, not when the model first sees the tool
    except UserError:
        raise
    except Exception as exc:
        raise UserError(
            f"Cannot describe the parameters of tool {name!r} as JSON schema: {exc}. "
            "Use JSON-compatible types: str, int, float, bool, lists, dicts, Literal, "
            "pydantic models, TypedDicts."
        ) from exc
    return model, mapping


# ---------------------------------------------------------------------------------------------
# Conversion


def _finish_spec(
    name: str,
    description: str | None,
    parameters: dict[str, Any],
    strict: bool | None,
    given_strict: bool | None,
) -> ToolSpec:
    if strict is not None and given_strict is not None and strict != given_strict:
        raise UserError(
            f"Tool {name!r} says strict={given_strict} but strict={strict} was passed; "
            "remove one of them."
        )
    chosen = strict if strict is not None else given_strict
    params = _object_schema(parameters, name)
    spec: ToolSpec = {
        "name": name,
        "description": description or "",
        "parameters": to_strict_json_schema(params) if chosen else params,
    }
    if chosen is not None:
        spec["strict"] = chosen
    return spec


def _is_builtin(obj: dict[str, Any]) -> bool:
    kind = obj.get("type")
    return (
        isinstance(kind, str)
        and kind not in _NOT_BUILTIN_TYPES
        and not any(key in obj for key in _FUNCTION_KEYS)
    )


def convert_to_tool_spec(obj: Any, *, strict: bool | None = None) -> ToolSpec | dict[str, Any]:
    """Convert any accepted tool form to the neutral `ToolSpec`.

    Args:
        obj: a `Tool`, a typed function with a docstring, a pydantic class, a TypedDict, a
            JSON-schema dict with a ``title`` (the tool name), an OpenAI function or tool
            dict, an Anthropic tool dict, or a provider built-in tool dict (returned
            unchanged, e.g. ``{"type": "web_search_preview"}``).
        strict: True adds ``"strict": True`` and makes the schema strict (every object
            closed with ``additionalProperties: false``, every property required).

    Raises:
        UserError: a JSON schema without ``title``, a strict conflict, or any other object
            (the message lists the accepted forms).
    """
    if isinstance(obj, Tool):
        return obj.spec(strict)
    if isinstance(obj, dict):
        if _is_builtin(obj):
            return obj
        given = obj.get("strict")
        inner = obj.get("function") if obj.get("type") == "function" else None
        if isinstance(inner, dict):
            given = inner.get("strict", given)
        if isinstance(inner, dict) or "input_schema" in obj or "parameters" in obj:
            function = inner if isinstance(inner, dict) else obj
            fname = function.get("name")
            if not isinstance(fname, str) or not fname:
                raise UserError(f"The tool dict {short_repr(obj)} has no 'name'; add one.")
            params = function.get("parameters", function.get("input_schema"))
            return _finish_spec(fname, function.get("description"), params, strict, given)
        if "name" in obj and not any(k in obj for k in ("properties", "$ref", "anyOf")):
            # An OpenAI function dict for a function without parameters.
            return _finish_spec(obj["name"], obj.get("description"), None, strict, given)
        if not any(key in obj for key in _SCHEMA_KEYS):
            raise UserError(
                f"Cannot use the dict {short_repr(obj)} as a tool. Pass {_ACCEPTED_TOOLS}."
            )
        if not obj.get("title"):
            raise UserError(
                f"The JSON schema {short_repr(obj)} has no 'title'. Add a 'title' (it becomes "
                "the tool name) and a 'description', e.g. {'title': 'get_weather', "
                "'description': 'Current weather in a city.', 'type': 'object', ...}."
            )
        params = {k: v for k, v in obj.items() if k not in ("title", "description", "strict")}
        return _finish_spec(obj["title"], obj.get("description"), params, strict, given)
    if (isinstance(obj, type) and issubclass(obj, BaseModel)) or is_typeddict(obj):
        name = schema_name(obj)
        return _finish_spec(name, schema_description(obj), _schema_parameters(obj), strict, None)
    if callable(obj) and not isinstance(obj, type):
        return Tool.from_function(obj).spec(strict)
    raise UserError(
        f"Cannot use {short_repr(obj)} ({type(obj).__name__}) as a tool. Pass {_ACCEPTED_TOOLS}."
    )


def tool(
    func: Callable[..., Any] | str | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Any:
    """Make a `Tool` from a function.

    Use it bare (``@tool``), with a name (``@tool("search")``) or with keywords
    (``@tool(name=..., description=...)``). Works for sync and async functions. The
    docstring is the description unless `description` is given; a function with neither is
    an error.
    """
    if isinstance(func, str):
        if name is not None:
            raise UserError("Pass the tool name once: @tool('name') or @tool(name='name').")
        name, func = func, None

    def decorate(target: Callable[..., Any]) -> Tool:
        return Tool.from_function(target, name=name, description=description)

    return decorate if func is None else decorate(func)


# ---------------------------------------------------------------------------------------------
# Running every tool call of a message


def _registry(tools: Any) -> dict[str, Tool]:
    if isinstance(tools, (Tool, dict, str)) or callable(tools) or not hasattr(tools, "__iter__"):
        raise UserError(
            f"tools must be a list of Tool objects or functions, got {short_repr(tools)}."
        )
    registry: dict[str, Tool] = {}
    for item in tools:
        if isinstance(item, Tool):
            made = item
        elif callable(item) and not isinstance(item, type):
            made = Tool.from_function(item)
        else:
            raise UserError(
                f"Cannot run {short_repr(item)}: run_tool_calls needs Tool objects (see @tool) or "
                "functions. Schemas and provider dicts describe tools but have nothing to run."
            )
        if made.name in registry:
            raise UserError(f"Two tools are named {made.name!r}; tool names must be unique.")
        registry[made.name] = made
    return registry


def _check_message(message: Any) -> AIMessage:
    if not isinstance(message, AIMessage):
        raise UserError(
            f"run_tool_calls takes the AIMessage whose tool_calls to run, "
            f"got {type(message).__name__}."
        )
    return message


def _unknown_tool(call: Mapping[str, Any], registry: dict[str, Tool]) -> ToolMessage:
    available = ", ".join(repr(n) for n in registry) or "(none)"
    return ToolMessage(
        f"Error: there is no tool named {call.get('name')!r}. Available tools: {available}. "
        "Call one of those.",
        tool_call_id=str(call.get("id") or ""),
        name=str(call.get("name") or ""),
        status="error",
    )


def run_tool_calls(message: AIMessage, tools: list[Any]) -> list[ToolMessage]:
    """Run every tool call of `message` with the tool of that name; one `ToolMessage` each.

    Errors (bad arguments, a raising tool, an unknown tool name) become error ToolMessages
    the model can read. `invalid_tool_calls` (arguments that did not parse) are not run.
    """
    registry = _registry(tools)
    out = []
    for call in _check_message(message).tool_calls:
        runner = registry.get(call["name"])
        out.append(runner.run(call) if runner else _unknown_tool(call, registry))
    return out


async def arun_tool_calls(message: AIMessage, tools: list[Any]) -> list[ToolMessage]:
    """Async `run_tool_calls`: the calls run concurrently; results keep the calls' order."""
    registry = _registry(tools)

    async def one(call: ToolCall) -> ToolMessage:
        runner = registry.get(call["name"])
        return await runner.arun(call) if runner else _unknown_tool(call, registry)

    calls = _check_message(message).tool_calls
    return list(await asyncio.gather(*(one(call) for call in calls)))
