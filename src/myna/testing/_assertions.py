"""Assertions on model output: tool calls, structured output, usage.

They raise `AssertionError` whose message starts with ``myna:``, says what was expected,
shows what arrived, and hints at the fix. They need no pytest.

```python
from myna.testing import assert_tool_call

call = assert_tool_call(reply, "get_weather", {"city": "Paris"})
```
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._text import short_repr
from ._diff import MISSING, diff_values, format_differences

__all__ = [
    "assert_no_tool_calls",
    "assert_structured_output",
    "assert_tool_call",
    "assert_tool_calls",
    "assert_usage",
]


# -- finding tool calls -----------------------------------------------------------------------


def _tool_calls_of(value: Any, fn: str) -> list[dict[str, Any]]:
    """The tool calls in a message, a call record, a conversation, or a list of calls."""
    from ..messages import AIMessage, BaseMessage

    if isinstance(value, AIMessage):
        return list(value.tool_calls)
    output = getattr(value, "output", MISSING)
    if output is not MISSING and hasattr(value, "messages"):  # a CallRecord / FakeCall
        return list(output.tool_calls) if output is not None else []
    if isinstance(value, Mapping) and "name" in value:
        return [dict(value)]  # type: ignore[list-item]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        calls: list[dict[str, Any]] = []
        for i, item in enumerate(value):
            if isinstance(item, AIMessage):
                calls.extend(item.tool_calls)
            elif isinstance(item, BaseMessage):
                continue  # other turns of a conversation carry no calls
            elif isinstance(item, Mapping) and "name" in item:
                calls.append(dict(item))
            else:
                raise TypeError(
                    f"{fn}() got a list whose item [{i}] is a {type(item).__name__}; pass an "
                    "AIMessage, a list of messages, or a list of tool-call dicts."
                )
        return calls
    raise TypeError(
        f"{fn}() needs an AIMessage, a model call record, a list of messages or a list of "
        f"tool calls; got {type(value).__name__}."
    )


def _format_call(call: Mapping[str, Any]) -> str:
    args = call.get("args") or {}
    try:
        inner = ", ".join(f"{k}={json.dumps(v, default=repr)}" for k, v in args.items())
    except AttributeError:
        inner = repr(args)
    return f"{call.get('name')}({inner})"


def _listing(calls: list[dict[str, Any]]) -> str:
    if not calls:
        return "no tool calls"
    lines = [f"{len(calls)} tool call{'s' if len(calls) != 1 else ''}:"]
    lines += [f"  [{i}] {_format_call(c)}" for i, c in enumerate(calls)]
    return "\n".join(lines)


def _text_hint(value: Any) -> str:
    text = getattr(value, "text", None)
    if isinstance(text, str) and text:
        short = text if len(text) <= 80 else text[:77] + "..."
        return f" The reply is text instead: {short!r}."
    return ""


def _args_match(expected: Any, actual: Any, partial: bool) -> bool:
    if not partial:
        return not diff_values(actual, expected)
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return all(
            key in actual and _args_match(value, actual[key], True)
            for key, value in expected.items()
        )
    return not diff_values(actual, expected)


def _args_diff(expected: Mapping[str, Any], actual: Any, partial: bool) -> list[str]:
    if partial and isinstance(actual, Mapping):
        actual = {k: actual.get(k, MISSING) for k in expected}
    return format_differences(diff_values(actual, dict(expected)), indent="      ")


# -- tool calls ---------------------------------------------------------------------------------


def assert_tool_call(
    msg_or_calls: Any,
    name: str,
    args: Mapping[str, Any] | None = None,
    *,
    partial: bool = False,
) -> dict[str, Any]:
    """Assert that a tool call to `name` (with `args`, if given) is among the calls.

    ```python
    call = assert_tool_call(reply, "get_weather", {"city": "Paris"})
    assert_tool_call(reply, "book_table", {"people": 2}, partial=True)  # other args ignored
    ```

    Args:
        msg_or_calls: an `AIMessage`, a model call record, a conversation (every AI
            message's calls count), a tool-call dict or a list of them.
        name: the tool's name.
        args: the expected arguments; None checks the name only. Values may be
            `unittest.mock.ANY`.
        partial: compare only the keys in `args` (recursively for nested objects).

    Returns:
        The matching tool call (``{"name", "args", "id", "type"}``).
    """
    calls = _tool_calls_of(msg_or_calls, "assert_tool_call")
    named = [c for c in calls if c.get("name") == name]
    if args is None and named:
        return named[0]
    for call in named:
        if _args_match(args, call.get("args"), partial):
            return call
    wanted = f"{name!r}" + (
        f" with {'at least ' if partial else ''}args {dict(args)!r}" if args is not None else ""
    )
    lines = [f"myna: expected a tool call to {wanted}; got {_listing(calls)}"]
    if not calls:
        lines[0] = lines[0].rstrip(".") + "." + _text_hint(msg_or_calls)
    elif not named:
        close = difflib.get_close_matches(name, [c.get("name") or "" for c in calls], n=1)
        if close:
            lines.append(f"Did you mean {close[0]!r}?")
    else:
        for call in named:
            lines.append(f"  {_format_call(call)} differs (actual != expected):")
            lines.extend(_args_diff(args or {}, call.get("args"), partial))
        if not partial:
            lines.append("Pass partial=True to compare only the keys you give.")
    raise AssertionError("\n".join(lines))


def _expected_entry(item: Any, i: int) -> tuple[str, Mapping[str, Any] | None]:
    if isinstance(item, str):
        return item, None
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return item[0], item[1]
    if isinstance(item, Mapping) and isinstance(item.get("name"), str):
        return item["name"], item.get("args")
    raise TypeError(
        f"assert_tool_calls() expected item [{i}] to be a tool name, a (name, args) tuple or "
        f"a dict with 'name' (and 'args'); got {item!r}."
    )


def assert_tool_calls(
    msg: Any, expected: Sequence[Any], *, ordered: bool = True, partial: bool = False
) -> list[dict[str, Any]]:
    """Assert that the tool calls are exactly `expected` (no more, no fewer).

    ```python
    assert_tool_calls(reply, ["get_weather", ("book_table", {"people": 2, ...})])
    assert_tool_calls(reply, [("get_weather", {"city": "Oslo"}), "get_weather"], ordered=False)
    ```

    Args:
        msg: as for `assert_tool_call`.
        expected: one entry per call: a name, a ``(name, args)`` tuple or a
            ``{"name", "args"}`` dict; args None checks the name only.
        ordered: False accepts the calls in any order.
        partial: compare only the given keys of each call's args.

    Returns:
        The tool calls, in the order they were made.
    """
    if isinstance(expected, (str, Mapping)) or not isinstance(expected, Sequence):
        raise TypeError(
            "assert_tool_calls() takes a list of expected calls, e.g. "
            f"['get_weather', ('book_table', {{...}})]; got {type(expected).__name__}."
        )
    wanted = [_expected_entry(item, i) for i, item in enumerate(expected)]
    calls = _tool_calls_of(msg, "assert_tool_calls")

    def fits(entry: tuple[str, Mapping[str, Any] | None], call: dict[str, Any]) -> bool:
        name, args = entry
        return call.get("name") == name and (
            args is None or _args_match(args, call.get("args"), partial)
        )

    problems: list[str] = []
    if ordered:
        for i in range(max(len(wanted), len(calls))):
            if i >= len(calls):
                problems.append(f"  [{i}] missing: expected {_describe(wanted[i])}")
            elif i >= len(wanted):
                problems.append(f"  [{i}] unexpected: {_format_call(calls[i])}")
            elif not fits(wanted[i], calls[i]):
                problems.append(
                    f"  [{i}] expected {_describe(wanted[i])}, got {_format_call(calls[i])}"
                )
                if wanted[i][0] == calls[i].get("name") and wanted[i][1] is not None:
                    problems.extend(_args_diff(wanted[i][1], calls[i].get("args"), partial))
    else:
        unmatched = list(range(len(calls)))
        for entry in wanted:
            hit = next((j for j in unmatched if fits(entry, calls[j])), None)
            if hit is None:
                problems.append(f"  missing: {_describe(entry)}")
            else:
                unmatched.remove(hit)
        problems += [f"  unexpected: {_format_call(calls[j])}" for j in unmatched]
    if problems:
        order = "in this order" if ordered else "in any order"
        raise AssertionError(
            f"myna: expected {len(wanted)} tool call{'s' if len(wanted) != 1 else ''} "
            f"{order}, got {_listing(calls)}\n"
            + "\n".join(problems)
            + ("\nPass ordered=False if the order does not matter." if ordered else "")
        )
    return calls


def _describe(entry: tuple[str, Mapping[str, Any] | None]) -> str:
    name, args = entry
    return name if args is None else _format_call({"name": name, "args": args})


def assert_no_tool_calls(msg: Any) -> None:
    """Assert that the reply calls no tools (it answers in text)."""
    calls = _tool_calls_of(msg, "assert_no_tool_calls")
    if calls:
        raise AssertionError(f"myna: expected no tool calls, got {_listing(calls)}")


# -- structured output ------------------------------------------------------------------------


def assert_structured_output(value: Any, schema: Any) -> Any:
    """Assert that `value` is valid output for `schema`; returns the parsed value.

    ```python
    advice = assert_structured_output(result, TripAdvice)
    assert_structured_output({"city": "Paris"}, {"type": "object", "required": ["city"]})
    ```

    Args:
        value: a pydantic instance, a dict, a JSON string, an `AIMessage` (its JSON text,
            or the arguments of its single tool call), or the ``include_raw=True`` dict
            ``{"raw", "parsed", "parsing_error"}``.
        schema: a pydantic class, a TypedDict or a JSON-schema dict.

    Returns:
        A pydantic instance for a pydantic schema, the validated dict otherwise.
    """
    from ..exceptions import OutputParserError
    from ..messages import AIMessage
    from ..schema import OutputSchema

    output = OutputSchema.from_any(schema)
    data = value
    if isinstance(value, Mapping) and {"raw", "parsed", "parsing_error"} <= set(value):
        if value["parsing_error"] is not None:
            raise AssertionError(
                f"myna: structured output for {output.name!r} failed to parse: "
                f"{value['parsing_error']}"
            )
        data = value["parsed"]
    elif isinstance(value, AIMessage):
        if len(value.tool_calls) == 1 and not value.text.strip():
            data = value.tool_calls[0]["args"]
        else:
            data = value.text
    if output.kind == "pydantic":
        if hasattr(data, "model_dump") and not isinstance(data, output.schema):
            raise AssertionError(
                f"myna: expected an instance of {output.name}, got {short_repr(data)}."
            )
        if isinstance(data, output.schema):
            # re-validate: model_construct() skips validation
            data = data.model_dump(warnings=False)
    try:
        return output.parse(data)
    except OutputParserError as exc:
        if str(exc).startswith("Output is not valid JSON"):
            raise AssertionError(f"myna: structured output {str(exc)[7:]}") from None
        lines = "\n".join(f"  {line}" for line in exc.errors) if exc.errors else f"  {exc}"
        raise AssertionError(
            f"myna: structured output does not match schema {output.name!r}:\n{lines}\n"
            f"Value: {short_repr(data, 200)}"
        ) from None


# -- usage --------------------------------------------------------------------------------------


def _usage_of(value: Any) -> dict[str, Any]:
    from ..messages import AIMessage, add_usage

    if isinstance(value, AIMessage):
        usage = value.usage_metadata
        if usage is None:
            raise AssertionError(
                "myna: the message has no usage_metadata: the provider reported none. For "
                "streams, ask for it with stream_usage=True."
            )
        return dict(usage)
    if isinstance(value, Mapping) and "input_tokens" in value:
        return dict(value)
    if hasattr(value, "output") and hasattr(value, "messages"):  # a call record
        if value.output is None:
            raise AssertionError("myna: this model call failed, so it has no usage.")
        return _usage_of(value.output)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        total: Any = None
        for item in value:
            if isinstance(item, AIMessage) or hasattr(item, "output"):
                total = add_usage(total, _usage_of(item))  # type: ignore[arg-type]
        if total is None:
            raise AssertionError("myna: none of the given messages or calls reported usage.")
        return dict(total)
    raise TypeError(
        "assert_usage() needs an AIMessage, a model call record, a usage dict or a list of "
        f"them; got {type(value).__name__}."
    )


def assert_usage(
    msg: Any,
    *,
    max_input: int | None = None,
    max_output: int | None = None,
    max_total: int | None = None,
    cache_read: int | bool | None = None,
) -> dict[str, Any]:
    """Assert token usage stays within limits; returns the usage.

    ```python
    assert_usage(reply, max_input=2_000, max_output=300)
    assert_usage(model_calls, max_total=10_000)      # summed over every call
    assert_usage(second_reply, cache_read=True)      # the prompt cache was hit
    ```

    Args:
        msg: an `AIMessage`, a call record, a usage dict, or a list of these (summed).
        max_input, max_output, max_total: inclusive limits.
        cache_read: an exact number of cache-read input tokens; True for "some", False
            for "none".
    """
    usage = _usage_of(msg)
    problems = []
    for label, key, limit in (
        ("input", "input_tokens", max_input),
        ("output", "output_tokens", max_output),
        ("total", "total_tokens", max_total),
    ):
        if limit is not None and (usage.get(key) or 0) > limit:
            problems.append(f"{label} tokens {usage.get(key)} > max_{label}={limit}")
    if cache_read is not None:
        got = (usage.get("input_token_details") or {}).get("cache_read") or 0
        if cache_read is True and got == 0:
            problems.append("no cache-read input tokens (expected a prompt-cache hit)")
        elif cache_read is False and got:
            problems.append(f"{got} cache-read input tokens (expected none)")
        elif not isinstance(cache_read, bool) and got != cache_read:
            problems.append(f"cache-read input tokens {got} != {cache_read}")
    if problems:
        raise AssertionError(
            "myna: usage out of bounds: "
            + "; ".join(problems)
            + f". Usage: input {usage.get('input_tokens')}, output {usage.get('output_tokens')}, "
            f"total {usage.get('total_tokens')}."
        )
    return usage
