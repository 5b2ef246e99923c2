"""Tests for myna.tools: @tool, Tool, convert_to_tool_spec, run_tool_calls."""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel
from typing_extensions import NotRequired, TypedDict

from myna.exceptions import InvalidToolCallError, UserError
from myna.messages import AIMessage, ToolMessage
from myna.tools import Tool, arun_tool_calls, convert_to_tool_spec, run_tool_calls, tool


class Location(BaseModel):
    """A place."""

    city: str
    country: str = "FR"


@tool
def get_weather(location: Location, days: int = 1, unit: Literal["c", "f"] = "c") -> dict:
    """Get the weather forecast.

    Uses the best source available.

    Args:
        location: Where to look.
        days (int, optional): How many days
            ahead, at most 7.
        unit: Temperature unit.

    Returns:
        The forecast.
    """
    return {"city": location.city, "days": days, "unit": unit}


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
async def slow_add(a: int, b: int) -> int:
    """Add two integers, asynchronously."""
    await asyncio.sleep(0)
    return a + b


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"boom: {reason}.")


def call(name: str, args: Any, id: str | None = "call_1") -> dict[str, Any]:
    return {"name": name, "args": args, "id": id, "type": "tool_call"}


# --- @tool and the schema built from a function ---------------------------------------------


def test_tool_from_function_builds_name_description_and_parameters() -> None:
    assert isinstance(get_weather, Tool)
    assert get_weather.name == "get_weather"
    assert get_weather.description == "Get the weather forecast.\n\nUses the best source available."
    params = get_weather.parameters
    assert params["type"] == "object"
    assert "title" not in params and "description" not in params
    assert params["required"] == ["location"]
    assert params["properties"]["location"] == {
        "$ref": "#/$defs/Location",
        "description": "Where to look.",
    }
    assert params["properties"]["days"] == {
        "type": "integer",
        "default": 1,
        "description": "How many days ahead, at most 7.",
    }
    assert params["properties"]["unit"] == {
        "type": "string",
        "enum": ["c", "f"],
        "default": "c",
        "description": "Temperature unit.",
    }
    assert params["$defs"]["Location"]["required"] == ["city"]
    assert params["additionalProperties"] is False


def test_spec_is_the_neutral_tool_shape() -> None:
    assert add.spec() == {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
            "additionalProperties": False,
        },
    }


def test_strict_spec_requires_every_property_and_closes_nested_objects() -> None:
    spec = get_weather.spec(strict=True)
    assert spec["strict"] is True
    params = spec["parameters"]
    assert params["required"] == ["location", "days", "unit"]
    location = params["properties"]["location"]  # $ref with a description is inlined
    assert location["additionalProperties"] is False
    assert location["required"] == ["city", "country"]
    assert location["description"] == "Where to look."
    assert get_weather.spec(strict=False)["strict"] is False
    assert "strict" not in get_weather.spec()


def test_tool_with_name_and_description_keywords() -> None:
    @tool(name="search_web", description="Search the web.")
    def search(query: str) -> str:
        return query

    assert (search.name, search.description) == ("search_web", "Search the web.")


def test_tool_with_positional_name() -> None:
    @tool("lookup")
    def find(key: str) -> str:
        """Look a key up."""
        return key

    assert find.name == "lookup"
    with pytest.raises(UserError, match=r"Pass the tool name once"):
        tool("a", name="b")


def test_annotated_parameter_descriptions() -> None:
    @tool
    def greet(name: Annotated[str, "Who to greet"], times: int = 1) -> str:
        """Greet someone."""
        return name * times

    assert greet.parameters["properties"]["name"] == {
        "type": "string",
        "description": "Who to greet",
    }


class Point(TypedDict):
    x: Annotated[int, "X coordinate"]
    y: NotRequired[int]


def test_typeddict_parameter_types_work() -> None:
    @tool
    def plot(point: Point) -> dict:
        """Plot a point."""
        return point

    assert plot.parameters["$defs"]["Point"]["properties"]["x"]["description"] == "X coordinate"
    assert plot.invoke({"point": {"x": "3"}}) == {"x": 3}


def test_function_without_docstring_is_refused() -> None:
    def nodoc(x: int) -> int:
        return x

    with pytest.raises(UserError) as exc:
        tool(nodoc)
    assert str(exc.value) == (
        "Tool 'nodoc' has no description: add a docstring to the function or pass "
        "@tool(description=...). Models choose tools by their descriptions."
    )
    assert tool(description="Echo x.")(nodoc).description == "Echo x."


def test_lambda_needs_a_name() -> None:
    with pytest.raises(UserError, match=r"Invalid tool name '<lambda>'.*Pass @tool\(name=\.\.\.\)"):
        tool(description="Double.")(lambda x: 2 * x)
    doubled = tool(name="double", description="Double.")(lambda x: 2 * x)
    assert doubled.invoke({"x": 4}) == 8
    assert doubled.parameters["properties"] == {"x": {}}


def test_var_args_are_refused() -> None:
    def many(*values: int) -> int:
        """Sum."""
        return sum(values)

    with pytest.raises(UserError, match=r"Tool 'many' has a \*values / \*\*values parameter"):
        tool(many)


def test_unresolvable_local_type_is_explained() -> None:
    class Local(TypedDict):
        x: int

    def use(thing: Local) -> None:
        """Use a thing."""

    with pytest.raises(UserError) as exc:
        tool(use)
    assert str(exc.value).startswith(
        "Cannot resolve the parameter types of tool 'use': name 'Local' is not defined. "
    )
    assert "define the types they name at module level" in str(exc.value)


def test_partial_of_async_function_is_async() -> None:
    async def inner(a: int) -> int:
        return a

    wrapped = tool(name="wrapped", description="Partial.")(functools.partial(inner))
    assert wrapped.coroutine is not None and wrapped.func is None
    assert wrapped.parameters["properties"] == {"a": {"type": "integer"}}


def test_callable_object_tool() -> None:
    class Counter:
        def __call__(self, step: int = 1) -> int:
            return step

    counter = tool(name="count", description="Count.")(Counter())
    assert counter.parameters["properties"] == {"step": {"type": "integer", "default": 1}}
    assert counter.invoke({"step": "2"}) == 2


class Opaque:
    pass


def test_unschemable_parameter_type_is_refused() -> None:
    def use(thing: Opaque) -> None:
        """Use a thing."""

    with pytest.raises(
        UserError, match=r"Cannot describe the parameters of tool 'use' as JSON schema"
    ):
        tool(use)


def test_tool_of_a_class_or_non_callable_is_refused() -> None:
    with pytest.raises(UserError, match=r"@tool needs a function, got .*convert_to_tool_spec"):
        tool(Location)
    with pytest.raises(UserError, match=r"@tool needs a function, got 3"):
        Tool.from_function(3)  # type: ignore[arg-type]


def test_reserved_parameter_names_are_aliased() -> None:
    @tool
    def odd(schema: str, model_name: str, _hidden: int = 0) -> list:
        """Odd names."""
        return [schema, model_name, _hidden]

    assert set(odd.parameters["properties"]) == {"schema", "model_name", "_hidden"}
    assert odd.invoke({"schema": "s", "model_name": "m", "_hidden": 2}) == ["s", "m", 2]
    assert odd.validate_args({"schema": "s", "model_name": "m"}) == {
        "schema": "s",
        "model_name": "m",
        "_hidden": 0,
    }


def test_positional_only_and_keyword_only_parameters() -> None:
    @tool
    def mixed(a: int, /, b: int, *, c: int = 10) -> int:
        """Mix."""
        return a * 100 + b * 10 + c

    assert mixed.invoke({"a": 1, "b": 2, "c": 3}) == 123
    assert mixed.invoke({"a": 1, "b": 2}) == 130


def test_calling_the_tool_calls_the_function() -> None:
    assert add(2, 3) == 5
    assert asyncio.run(slow_add(2, 3)) == 5
    assert add.__doc__ == "Add two integers."
    assert repr(add) == "Tool(name='add', description='Add two integers.')"


# --- invoke / ainvoke / validate_args -------------------------------------------------------------


def test_invoke_validates_and_passes_model_instances() -> None:
    assert get_weather.invoke({"location": {"city": "Paris"}, "days": "3"}) == {
        "city": "Paris",
        "days": 3,
        "unit": "c",
    }


def test_invoke_invalid_args_names_tool_field_and_problem() -> None:
    with pytest.raises(InvalidToolCallError) as exc:
        get_weather.invoke({"location": {"city": 1}, "days": "x", "bogus": True})
    assert str(exc.value) == (
        "Invalid arguments for tool 'get_weather': "
        "location.city: Input should be a valid string (got 1); "
        "days: Input should be a valid integer, unable to parse string as an integer (got 'x'); "
        "bogus: Extra inputs are not permitted (got True)"
    )
    assert isinstance(exc.value, UserError)


def test_invoke_missing_and_non_dict_args() -> None:
    with pytest.raises(
        InvalidToolCallError, match=r"^Invalid arguments for tool 'add': b: Field required$"
    ):
        add.invoke({"a": 1})
    with pytest.raises(
        InvalidToolCallError,
        match=r"Invalid arguments for tool 'add': expected a JSON object \(dict\) of arguments, got str",
    ):
        add.invoke('{"a": 1, "b": 2}')  # type: ignore[arg-type]


def test_invoke_on_async_tool_points_to_ainvoke() -> None:
    with pytest.raises(
        UserError, match=r"Tool 'slow_add' is async; call it with await tool\.ainvoke"
    ):
        slow_add.invoke({"a": 1, "b": 2})


def test_invoke_of_a_sync_function_returning_a_coroutine() -> None:
    async def inner(a: int) -> int:
        return a

    def wrapper(a: int) -> Any:
        """Return a coroutine from a sync function."""
        return inner(a)

    wrapped = tool(wrapper)
    with pytest.raises(UserError, match=r"Tool 'wrapper' returned a coroutine"):
        wrapped.invoke({"a": 1})


async def test_ainvoke_async_and_sync_tools() -> None:
    assert await slow_add.ainvoke({"a": 2, "b": "3"}) == 5
    assert await add.ainvoke({"a": 2, "b": 3}) == 5
    with pytest.raises(
        InvalidToolCallError, match=r"Invalid arguments for tool 'slow_add': a: Field required"
    ):
        await slow_add.ainvoke({"b": 3})


async def test_ainvoke_awaits_awaitables_from_sync_callables() -> None:
    async def inner(a: int) -> int:
        return a * 2

    def wrapper(a: int) -> Any:
        """Return a coroutine from a sync function."""
        return inner(a)

    wrapped = tool(wrapper)
    assert await wrapped.ainvoke({"a": 21}) == 42


def test_validate_args_returns_validated_values() -> None:
    values = get_weather.validate_args({"location": {"city": "Oslo"}})
    assert values == {"location": Location(city="Oslo"), "days": 1, "unit": "c"}
    with pytest.raises(InvalidToolCallError, match=r"unit: Input should be 'c' or 'f' \(got 'k'\)"):
        get_weather.validate_args({"location": {"city": "Oslo"}, "unit": "k"})


def test_from_spec_validates_with_jsonschema() -> None:
    checker = Tool.from_spec(
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": "Look up.",
                "parameters": {
                    "type": "object",
                    "properties": {"key": {"type": "string"}, "n": {"type": "integer"}},
                    "required": ["key"],
                },
            },
        }
    )
    assert checker.validate_args({"key": "k", "n": 2}) == {"key": "k", "n": 2}
    with pytest.raises(InvalidToolCallError) as exc:
        checker.validate_args({"n": "2"})
    assert str(exc.value) == (
        "Invalid arguments for tool 'lookup': 'key' is a required property; "
        "n: '2' is not of type 'integer'"
    )
    with pytest.raises(UserError, match=r"Tool 'lookup' has no function to run"):
        checker.invoke({"key": "k"})
    with pytest.raises(UserError, match=r"Tool 'lookup' has no function to run"):
        checker({"key": "k"})


async def test_from_spec_tool_cannot_arun() -> None:
    checker = Tool.from_spec(Location)
    with pytest.raises(UserError, match=r"Tool 'Location' has no function to run"):
        await checker.arun(call("Location", {}))
    with pytest.raises(UserError, match=r"Tool 'Location' has no function to run"):
        await checker.ainvoke({})


def test_from_spec_of_pydantic_class_validates_with_pydantic() -> None:
    checker = Tool.from_spec(Location)
    assert checker.args_model is Location
    assert checker.validate_args({"city": "Rome"}) == {"city": "Rome", "country": "FR"}
    with pytest.raises(
        InvalidToolCallError, match=r"Invalid arguments for tool 'Location': city: Field required"
    ):
        checker.validate_args({})
    assert Tool.from_spec(add) is add


def test_from_spec_of_builtin_is_refused() -> None:
    with pytest.raises(UserError, match=r"is a provider built-in tool"):
        Tool.from_spec({"type": "web_search_preview"})


def test_tool_constructor_checks_its_inputs() -> None:
    with pytest.raises(UserError, match=r"Invalid tool name 'has space'"):
        Tool("has space", "d")
    with pytest.raises(UserError, match=r"Tool 'x': description must be a str, got NoneType"):
        Tool("x", None)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"Parameters of tool 'x' must be an object schema"):
        Tool("x", "d", {"type": "array"})
    with pytest.raises(
        UserError, match=r"Parameters of tool 'x' must be a JSON-schema dict, got list"
    ):
        Tool("x", "d", [])  # type: ignore[arg-type]
    assert Tool("x", "d").parameters == {"type": "object", "properties": {}}


def test_explicit_args_model() -> None:
    def locate(city: str, country: str) -> str:
        return f"{city}, {country}"

    located = Tool("locate", "Locate.", func=locate, args_model=Location)
    assert located.parameters["required"] == ["city"]
    assert located.invoke({"city": "Lyon"}) == "Lyon, FR"
    assert located.validate_args({"city": "Lyon"}) == {"city": "Lyon", "country": "FR"}


# --- run / arun -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "content"),
    [
        ("plain", "plain"),
        ({"a": 1, "b": ["é"]}, '{"a": 1, "b": ["é"]}'),
        ([1, Location(city="X")], '[1, {"city": "X", "country": "FR"}]'),
        (Location(city="X"), '{"city":"X","country":"FR"}'),
        (42, "42"),
        (None, "None"),
    ],
    ids=["str", "dict", "list", "model", "int", "none"],
)
def test_run_turns_results_into_tool_messages(result: Any, content: str) -> None:
    @tool
    def give() -> Any:
        """Give the result."""
        return result

    message = give.run(call("give", {}, id="call_9"))
    assert isinstance(message, ToolMessage)
    assert message.content == content
    assert message.tool_call_id == "call_9"
    assert message.name == "give"
    assert message.status == "success"
    assert message.artifact is result


def test_run_function_error_becomes_error_message() -> None:
    message = explode.run(call("explode", {"reason": "no fuel"}))
    assert message.status == "error"
    assert message.content == "Error: RuntimeError: boom: no fuel. Fix the arguments and try again."
    assert message.tool_call_id == "call_1"
    assert message.name == "explode"
    assert message.artifact is None


def test_run_bad_args_become_error_message() -> None:
    message = add.run(call("add", {"a": "one"}))
    assert message.status == "error"
    assert message.content == (
        "Error: InvalidToolCallError: Invalid arguments for tool 'add': "
        "a: Input should be a valid integer, unable to parse string as an integer (got 'one'); "
        "b: Field required. Fix the arguments and try again."
    )


def test_run_exception_without_message_and_missing_id() -> None:
    @tool
    def silent() -> None:
        """Fails silently."""
        raise ValueError

    message = silent.run(call("silent", {}, id=None))
    assert message.content == "Error: ValueError. Fix the arguments and try again."
    assert message.tool_call_id == ""


def test_run_misuse_raises() -> None:
    with pytest.raises(UserError, match=r"run\(\) takes a tool call dict"):
        add.run({"a": 1, "b": 2}.items())  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"Tool 'slow_add' is async"):
        slow_add.run(call("slow_add", {"a": 1, "b": 2}))


async def test_arun_success_and_errors() -> None:
    ok = await slow_add.arun(call("slow_add", {"a": 1, "b": 2}))
    assert (ok.content, ok.status, ok.artifact) == ("3", "success", 3)
    sync_ok = await add.arun(call("add", {"a": 1, "b": 2}))
    assert (sync_ok.content, sync_ok.status) == ("3", "success")
    bad = await slow_add.arun(call("slow_add", {"a": 1}))
    assert bad.status == "error"
    assert bad.content == (
        "Error: InvalidToolCallError: Invalid arguments for tool 'slow_add': b: Field required. "
        "Fix the arguments and try again."
    )
    boom = await explode.arun(call("explode", {"reason": "x"}))
    assert boom.content == "Error: RuntimeError: boom: x. Fix the arguments and try again."


# --- run_tool_calls -------------------------------------------------------------------------

CALLS = AIMessage(
    "",
    tool_calls=[
        call("add", {"a": 1, "b": 2}, id="c1"),
        call("nope", {}, id="c2"),
        call("explode", {"reason": "r"}, id="c3"),
        call("slow_add", {"a": 5, "b": 5}, id="c4"),
    ],
)


def test_run_tool_calls_sync() -> None:
    def mul(a: int, b: int) -> int:
        """Multiply."""
        return a * b

    message = AIMessage(
        "",
        tool_calls=[
            call("add", {"a": 1, "b": 2}, id="c1"),
            call("mul", {"a": 3, "b": 4}, id="c2"),
            call("nope", {}, id="c3"),
        ],
    )
    results = run_tool_calls(message, [add, mul])
    assert [(m.tool_call_id, m.content, m.status) for m in results] == [
        ("c1", "3", "success"),
        ("c2", "12", "success"),
        (
            "c3",
            "Error: there is no tool named 'nope'. Available tools: 'add', 'mul'. Call one of those.",
            "error",
        ),
    ]
    assert results[2].name == "nope"


async def test_arun_tool_calls_keeps_order() -> None:
    results = await arun_tool_calls(CALLS, [add, explode, slow_add])
    assert [(m.tool_call_id, m.status) for m in results] == [
        ("c1", "success"),
        ("c2", "error"),
        ("c3", "error"),
        ("c4", "success"),
    ]
    assert results[1].content == (
        "Error: there is no tool named 'nope'. Available tools: 'add', 'explode', 'slow_add'. "
        "Call one of those."
    )
    assert results[3].content == "10"


def test_run_tool_calls_sync_with_async_tool_raises() -> None:
    with pytest.raises(UserError, match=r"Tool 'slow_add' is async"):
        run_tool_calls(CALLS, [add, explode, slow_add])


async def test_arun_tool_calls_runs_calls_concurrently() -> None:
    first, second = asyncio.Event(), asyncio.Event()

    @tool
    async def ping() -> str:
        """Ping."""
        first.set()
        await asyncio.wait_for(second.wait(), timeout=2)
        return "ping"

    @tool
    async def pong() -> str:
        """Pong."""
        second.set()
        await asyncio.wait_for(first.wait(), timeout=2)
        return "pong"

    message = AIMessage("", tool_calls=[call("ping", {}, id="1"), call("pong", {}, id="2")])
    results = await arun_tool_calls(message, [ping, pong])
    assert [m.content for m in results] == ["ping", "pong"]


def test_run_tool_calls_with_no_calls() -> None:
    assert run_tool_calls(AIMessage("hi"), [add]) == []


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_run_tool_calls_argument_errors(runner: str) -> None:
    def run(message: Any, tools: Any) -> Any:
        if runner == "sync":
            return run_tool_calls(message, tools)
        return asyncio.run(arun_tool_calls(message, tools))

    with pytest.raises(UserError, match=r"Two tools are named 'add'"):
        run(CALLS, [add, add])
    with pytest.raises(UserError, match=r"tools must be a list of Tool objects or functions"):
        run(CALLS, add)
    with pytest.raises(
        UserError, match=r"Cannot run \{'type': 'web_search_preview'\}: run_tool_calls needs"
    ):
        run(CALLS, [{"type": "web_search_preview"}])
    with pytest.raises(
        UserError, match=r"run_tool_calls takes the AIMessage whose tool_calls to run, got list"
    ):
        run(CALLS.tool_calls, [add])


def test_run_tool_calls_accepts_plain_functions() -> None:
    def twice(x: int) -> int:
        """Double x."""
        return 2 * x

    results = run_tool_calls(AIMessage("", tool_calls=[call("twice", {"x": 4})]), [twice])
    assert results[0].content == "8"


# --- convert_to_tool_spec -------------------------------------------------------------------

PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
EXPECTED = {"name": "get_city", "description": "Find a city.", "parameters": PARAMS}


class get_city(BaseModel):
    """Find a city."""

    city: str


class GetCityTD(TypedDict):
    """Find a city."""

    city: Annotated[str, "City name"]


@pytest.mark.parametrize(
    "obj",
    [
        {"name": "get_city", "description": "Find a city.", "parameters": PARAMS},
        {
            "type": "function",
            "function": {"name": "get_city", "description": "Find a city.", "parameters": PARAMS},
        },
        {
            "type": "function",
            "name": "get_city",
            "description": "Find a city.",
            "parameters": PARAMS,
        },
        {"name": "get_city", "description": "Find a city.", "input_schema": PARAMS},
        {"title": "get_city", "description": "Find a city.", **PARAMS},
        get_city,
    ],
    ids=[
        "openai-function",
        "openai-tool",
        "openai-responses",
        "anthropic",
        "json-schema",
        "pydantic",
    ],
)
def test_convert_dict_and_class_forms(obj: Any) -> None:
    assert convert_to_tool_spec(obj) == EXPECTED


def test_convert_typeddict() -> None:
    assert convert_to_tool_spec(GetCityTD) == {
        "name": "GetCityTD",
        "description": "Find a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    }


def test_convert_function_and_tool() -> None:
    def get_time(zone: str = "UTC") -> str:
        """Current time.

        Args:
            zone: IANA time zone.
        """
        return zone

    spec = convert_to_tool_spec(get_time)
    assert spec == {
        "name": "get_time",
        "description": "Current time.",
        "parameters": {
            "type": "object",
            "properties": {
                "zone": {"type": "string", "default": "UTC", "description": "IANA time zone."}
            },
            "additionalProperties": False,
        },
    }
    assert convert_to_tool_spec(add) == add.spec()


def test_convert_function_without_parameters_and_dict_without_parameters() -> None:
    assert convert_to_tool_spec({"name": "ping", "description": "Ping."}) == {
        "name": "ping",
        "description": "Ping.",
        "parameters": {"type": "object", "properties": {}},
    }
    assert convert_to_tool_spec({"type": "function", "function": {"name": "ping"}}) == {
        "name": "ping",
        "description": "",
        "parameters": {"type": "object", "properties": {}},
    }


@pytest.mark.parametrize(
    "builtin",
    [
        {"type": "web_search_preview"},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        {"type": "code_interpreter", "container": {"type": "auto"}},
    ],
    ids=["openai-web-search", "anthropic-web-search", "code-interpreter"],
)
def test_builtin_tools_pass_through_unchanged(builtin: dict) -> None:
    assert convert_to_tool_spec(builtin) is builtin
    assert convert_to_tool_spec(builtin, strict=True) is builtin


@pytest.mark.parametrize(
    "obj",
    [get_city, EXPECTED, {"title": "get_city", "description": "Find a city.", **PARAMS}],
    ids=["pydantic", "openai", "json-schema"],
)
def test_convert_strict(obj: Any) -> None:
    spec = convert_to_tool_spec(obj, strict=True)
    assert spec["strict"] is True
    assert spec["parameters"]["additionalProperties"] is False
    assert spec["parameters"]["required"] == ["city"]


def test_strict_nested_objects_all_required() -> None:
    nested = {
        "name": "book",
        "parameters": {
            "type": "object",
            "properties": {
                "guest": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                },
            },
        },
    }
    params = convert_to_tool_spec(nested, strict=True)["parameters"]
    assert params["required"] == ["guest"]
    assert params["properties"]["guest"]["required"] == ["name", "age"]
    assert params["properties"]["guest"]["additionalProperties"] is False
    assert "additionalProperties" not in nested["parameters"]  # input untouched


def test_strict_from_the_dict_and_conflicts() -> None:
    tool_dict = {"type": "function", "function": {**EXPECTED, "strict": True}}
    spec = convert_to_tool_spec(tool_dict)
    assert spec["strict"] is True
    assert spec["parameters"]["additionalProperties"] is False
    assert convert_to_tool_spec(tool_dict, strict=True)["strict"] is True
    with pytest.raises(
        UserError, match=r"Tool 'get_city' says strict=True but strict=False was passed"
    ):
        convert_to_tool_spec(tool_dict, strict=False)


def test_json_schema_without_title_explains_the_fix() -> None:
    with pytest.raises(UserError) as exc:
        convert_to_tool_spec(PARAMS)
    message = str(exc.value)
    assert "has no 'title'. Add a 'title' (it becomes the tool name)" in message


def test_titled_non_object_schema_is_not_mistaken_for_a_builtin() -> None:
    with pytest.raises(UserError, match=r"Parameters of tool 'tags' must be an object schema"):
        convert_to_tool_spec({"title": "tags", "type": "array", "items": {"type": "string"}})


def test_tool_dict_without_name() -> None:
    with pytest.raises(UserError, match=r"has no 'name'; add one"):
        convert_to_tool_spec({"type": "function", "function": {"parameters": PARAMS}})


def test_non_object_parameters_are_refused() -> None:
    with pytest.raises(
        UserError, match=r"Parameters of tool 'f' must be an object schema .* got type 'string'"
    ):
        convert_to_tool_spec({"name": "f", "parameters": {"type": "string"}})


@pytest.mark.parametrize(
    "bad", [42, "get_weather", {"foo": "bar"}, Location(city="x"), int], ids=repr
)
def test_unsupported_objects_list_accepted_forms(bad: Any) -> None:
    with pytest.raises(UserError) as exc:
        convert_to_tool_spec(bad)
    message = str(exc.value)
    assert "as a tool. Pass a myna Tool (see @tool), a typed function with a docstring" in message
    assert "an Anthropic tool dict {'name', 'input_schema'}" in message
    assert "{'type': 'web_search_preview'}" in message
