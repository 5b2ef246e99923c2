"""Field-level differences between messages and JSON-like values, for readable failures.

`pytest_assertrepr_compare` in the plugin uses `explain_comparison`, so
``assert reply == expected`` on two messages prints only the fields that differ:

```text
myna: AIMessage differs in 2 fields (left != right):
  content: 'Sunny in Paris.' != 'Sunny in Oslo.'
  tool_calls[0].args.city: 'Paris' != 'Oslo'
```
"""

from __future__ import annotations

from typing import Any

from .._text import short_repr

__all__ = ["diff_messages", "diff_values", "explain_comparison", "format_differences"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""Stands for a key or list item that one side has and the other does not."""

_FIRST_FIELDS = ("type", "content", "tool_calls", "invalid_tool_calls", "usage_metadata")
_MAX_LINES = 30


def diff_values(left: Any, right: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf where `left` and `right` differ, as ``(path, left_value, right_value)``.

    Dicts are compared key by key and lists item by item (a side that lacks a key or item
    shows `MISSING`); anything else is compared with ``==``.
    """
    if isinstance(left, dict) and isinstance(right, dict):
        out: list[tuple[str, Any, Any]] = []
        keys = list(left) + [k for k in right if k not in left]
        for key in keys:
            sub = f"{path}.{key}" if path else str(key)
            out.extend(diff_values(left.get(key, MISSING), right.get(key, MISSING), sub))
        return out
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        out = []
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else MISSING
            b = right[i] if i < len(right) else MISSING
            out.extend(diff_values(a, b, f"{path}[{i}]"))
        return out
    if _is_message(left) and _is_message(right):
        return diff_values(_message_fields(left), _message_fields(right), path)
    try:
        same = left == right
    except Exception:  # an odd __eq__ must not hide the difference
        same = False
    return [] if same else [(path or "(value)", left, right)]


def _is_message(value: Any) -> bool:
    from ..messages import BaseMessage

    return isinstance(value, BaseMessage)


def _message_fields(message: Any) -> dict[str, Any]:
    data = message.model_dump()
    ordered = {k: data[k] for k in _FIRST_FIELDS if k in data}
    ordered.update((k, v) for k, v in data.items() if k not in ordered)
    return ordered


def _pair(left: Any, right: Any, limit: int = 60) -> tuple[str, str]:
    """Reprs of two values; long strings are cut around their first difference."""
    if isinstance(left, str) and isinstance(right, str) and max(len(left), len(right)) > limit:
        i = 0
        while i < min(len(left), len(right)) and left[i] == right[i]:
            i += 1
        start = max(0, i - 20)
        a = ("..." if start else "") + left[start : start + limit]
        b = ("..." if start else "") + right[start : start + limit]
        a += "..." if start + limit < len(left) else ""
        b += "..." if start + limit < len(right) else ""
        return f"{a!r} (differs at char {i})", repr(b)
    return short_repr(left, limit), short_repr(right, limit)


def format_differences(
    diffs: list[tuple[str, Any, Any]], *, limit: int = _MAX_LINES, indent: str = "  "
) -> list[str]:
    """One ``path: left != right`` line per difference, at most `limit` lines."""
    lines = []
    for path, left, right in diffs[:limit]:
        a, b = _pair(left, right)
        lines.append(f"{indent}{path}: {a} != {b}")
    if len(diffs) > limit:
        lines.append(f"{indent}... and {len(diffs) - limit} more")
    return lines


def diff_messages(left: Any, right: Any) -> list[str]:
    """Explain how two messages (or two lists of messages) differ; empty when equal."""
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        lines = []
        if len(left) != len(right):
            lines.append(f"  {len(left)} messages != {len(right)} messages")
        lines.extend(format_differences(diff_values(list(left), list(right))))
        return lines
    if type(left) is not type(right):
        head = (
            f"  type: {type(left).__name__} ({getattr(left, 'type', '?')!r}) != "
            f"{type(right).__name__} ({getattr(right, 'type', '?')!r})"
        )
        fields = diff_values(_message_fields(left), _message_fields(right))
        return [head, *format_differences(fields)]
    return format_differences(diff_values(left, right))


def _all_messages(value: Any) -> bool:
    if _is_message(value):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(_is_message(v) for v in value)


def explain_comparison(op: str, left: Any, right: Any) -> list[str] | None:
    """The explanation for a failed ``left == right`` on messages, or None for other values.

    What the pytest plugin's ``pytest_assertrepr_compare`` shows; usable from any other
    runner's assertion hook: ``explain_comparison("==", AIMessage("a"), AIMessage("b"))``.
    """
    if op != "==" or not (_all_messages(left) and _all_messages(right)):
        return None
    if _is_message(left) != _is_message(right):
        return None
    lines = diff_messages(left, right)
    if not lines:
        return None
    if _is_message(left):
        kind = type(left).__name__ if type(left) is type(right) else "message"
        head = f"myna: {kind} differs in {_count(lines)} (left != right):"
        summary = f"{type(left).__name__}(...) == {type(right).__name__}(...)"
    else:
        head = f"myna: message lists differ in {_count(lines)} (left != right):"
        summary = f"[{len(left)} messages] == [{len(right)} messages]"
    return [summary, head, *lines]


def _count(lines: list[str]) -> str:
    n = sum(1 for line in lines if not line.lstrip().startswith("..."))
    return "1 field" if n == 1 else f"{n} fields"
