"""Checks of the standard model parameters, run when they are given (not at the provider).

A wrong name gets "did you mean"; a wrong type or range names the parameter, the value, and
what it must be: ``FakeChatModel: temperature='hot' must be a number from 0 to 2, got str.``
Provider-specific parameters (`ChatModel.extra_params`) are the provider's to check.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..exceptions import InvalidParameterError

__all__ = ["check_flag", "check_keywords", "check_params", "did_you_mean", "unknown_parameter"]


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def unknown_parameter(where: str, name: str, accepted: Iterable[str]) -> InvalidParameterError:
    """The error for a keyword `where` does not take: the closest name, then all of them."""
    names = sorted(accepted)
    return InvalidParameterError(
        f"{where} got an unknown parameter {name}=.{did_you_mean(name, names)} "
        f"Accepted: {', '.join(names)}."
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Check = Callable[[Any], "str | None"]
"""Returns None for a good value, else what the value must be (with "got <type>" when the
type itself is wrong)."""


def _got(value: Any) -> str:
    return f", got {type(value).__name__}"


def _number(low: float, high: float | None) -> Check:
    what = f"a number from {low:g} to {high:g}" if high is not None else f"a number >= {low:g}"

    def check(value: Any) -> str | None:
        if not _is_number(value):
            return what + _got(value)
        return None if low <= value and (high is None or value <= high) else what

    return check


def _integer(low: int | None, high: int | None = None) -> Check:
    if low is None:
        what = "an int"
    elif high is None:
        what = f"an int >= {low}"
    else:
        what = f"an int from {low} to {high}"

    def check(value: Any) -> str | None:
        if not _is_int(value):
            return what + _got(value)
        in_range = (low is None or low <= value) and (high is None or value <= high)
        return None if in_range else what

    return check


def _kind(types: type | tuple[type, ...], what: str) -> Check:
    return lambda value: None if isinstance(value, types) else what + _got(value)


def _timeout(value: Any) -> str | None:
    what = "a number of seconds > 0 (or an httpx.Timeout)"
    if isinstance(value, (str, bool)):
        return what + _got(value)
    return what if _is_number(value) and value <= 0 else None


def _stop(value: Any) -> str | None:
    ok = isinstance(value, str) or (
        isinstance(value, Sequence) and all(isinstance(s, str) for s in value)
    )
    return None if ok else "a string or a list of strings" + _got(value)


def _strings(value: Any) -> str | None:
    ok = (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(isinstance(s, str) for s in value)
    )
    return None if ok else "a list of strings" + _got(value)


def _base_url(value: Any) -> str | None:
    ok = isinstance(value, str) or str(value).startswith(("http://", "https://"))
    return None if ok else "a URL string such as 'http://localhost:11434'" + _got(value)


def _tools(value: Any) -> str | None:
    ok = isinstance(value, Sequence) and not isinstance(value, (str, bytes))
    return None if ok else "a list of tools (use bind_tools([...]))" + _got(value)


_BOOL = _kind(bool, "True or False")
_DICT = _kind(Mapping, "a dict")

_CHECKS: dict[str, Check] = {
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "max_tokens": _integer(1),
    "max_retries": _integer(0),
    "timeout": _timeout,
    "stop": _stop,
    "seed": _integer(None),
    "api_key": _kind(str, "a string (for a pydantic SecretStr, pass .get_secret_value())"),
    "base_url": _base_url,
    "model": _kind(str, "a model name string"),
    "parallel_tool_calls": _BOOL,
    "logprobs": _BOOL,
    "include_reasoning": _BOOL,
    "stream_usage": _BOOL,
    "top_logprobs": _integer(0, 20),
    "reasoning_effort": _kind(str, "a string such as 'low', 'medium' or 'high'"),
    # -1 asks Gemini for a dynamic budget, 0 turns thinking off
    "reasoning_budget": _integer(-1),
    "tags": _strings,
    "metadata": _DICT,
    "profile": _DICT,
    "extra_body": _DICT,
    "response_format": _DICT,
    "tools": _tools,
    "tool_choice": _kind((str, dict, bool), "'auto', 'any', 'none', True or a tool name"),
}
"""Standard parameter -> its check."""


def check_params(where: str, params: Mapping[str, Any]) -> None:
    """Raise `InvalidParameterError` for the first standard parameter with a bad value.

    None always passes (it means "not set"); parameters without a check pass too.
    """
    for name, value in params.items():
        check = _CHECKS.get(name)
        if check is None or value is None:
            continue
        problem = check(value)
        if problem is not None:
            raise InvalidParameterError(f"{where}: {name}={value!r} must be {problem}.")


def check_keywords(where: str, given: Mapping[str, Any], accepted: Iterable[str]) -> None:
    """Raise `unknown_parameter` for the first keyword of `given` not in `accepted`."""
    names = list(accepted)
    for name in given:
        if name not in names:
            raise unknown_parameter(where, name, names)


def check_flag(where: str, name: str, value: Any, *, optional: bool = True) -> None:
    """`value` must be True or False (or None when `optional`)."""
    if (value is None and optional) or isinstance(value, bool):
        return
    what = "True, False or None" if optional else "True or False"
    raise InvalidParameterError(
        f"{where}: {name}={value!r} must be {what}, got {type(value).__name__}."
    )
